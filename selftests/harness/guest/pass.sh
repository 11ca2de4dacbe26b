#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: a test that passes.
echo "ok 1 nothing to do"
exit 0
