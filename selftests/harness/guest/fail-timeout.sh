#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: a test that never ends is killed and fails.
sleep 100000
