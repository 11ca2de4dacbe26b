#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: a kernel report in the log fails a test that exits 0.
echo "WARNING: CPU: 0 PID: $$ at harness self-test" >/dev/kmsg
exit 0
