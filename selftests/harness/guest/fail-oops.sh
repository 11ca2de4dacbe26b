#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: the guest kernel crashes (sysrq c panics it).
echo 1 >/proc/sys/kernel/sysrq
echo c >/proc/sysrq-trigger
sleep 100000
