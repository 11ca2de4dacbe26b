#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: a test that fails.
echo "not ok 1 failing on purpose"
exit 1
