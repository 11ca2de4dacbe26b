#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: a test that is skipped.
echo "1..0 # SKIP on purpose"
exit 4
