#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: tcpdump's own regression suite (its "make check", 582 cases
# in Debian 12's 4.99.3, and the 17 that patch 0006 adds for iptap's
# records) on the patched tcpdump that build.sh built.  Prints the
# failing cases and one line, "tcpdump: N passed, N failed".

set -uo pipefail

tree=$(cd "$(dirname "$0")/../.." && pwd)/build/pcap/tcpdump
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if [ ! -x "$tree/tcpdump" ]; then
	echo "not ok - no patched tcpdump in $tree (make pcap-tools)"
	echo "tcpdump: 0 passed, 1 failed"
	exit 1
fi
make -s -C "$tree" check >"$log" 2>&1
passed=$(sed -nE 's/^ *([0-9]+) tests passed$/\1/p' "$log")
failed=$(sed -nE 's/^ *([0-9]+) tests failed$/\1/p' "$log")
if [ -z "$passed" ] || [ -z "$failed" ]; then
	tail -n 20 "$log"
	echo "not ok - tcpdump's suite ended without its counts"
	echo "tcpdump: 0 passed, 1 failed"
	exit 1
fi
grep -E ': (failed|TEST FAILED)' "$log" | sed 's/^ */not ok - tcpdump test /'
if grep -q '^ *iptap-pktap-k *: passed' "$log"; then
	echo "ok - tcpdump's suite runs the iptap cases"
else
	echo "not ok - tcpdump's suite runs the iptap cases"
	failed=$((failed + 1))
fi
echo "tcpdump: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
