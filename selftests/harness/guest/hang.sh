#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: the whole guest hangs (run by vm.sh alone).
sleep 100000
