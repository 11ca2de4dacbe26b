#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: tcpdump's own regression suite (its "make check", 582 cases
# in Debian 12's 4.99.3, and the 17 that patch 0006 adds for iptap's
# records) on the patched tcpdump that build.sh built; then
# tcpdump-tests/agreement.py: the patched libpcap's filters on PKTAP
# records of each link-layer type select what stock tcpdump's select on
# the bare frames.  Prints the failing cases and one line, "tcpdump: N
# passed, N failed".

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
here=$(cd "$(dirname "$0")" && pwd)
if command -v tcpdump >/dev/null; then
	stock=$(command -v tcpdump)
	# With iptap-tools installed, Debian's own is tcpdump.distrib.
	[ -x /usr/bin/tcpdump.distrib ] && stock=/usr/bin/tcpdump.distrib
	python3 "$here/tcpdump-tests/agreement.py" "$stock" \
		"$tree/tcpdump" >"$log" 2>&1
	grep -v '^ok ' "$log" | grep -v '^agreement: '
	p=$(sed -nE 's/^agreement: ([0-9]+) passed, ([0-9]+) failed$/\1/p' "$log")
	f=$(sed -nE 's/^agreement: ([0-9]+) passed, ([0-9]+) failed$/\2/p' "$log")
	if [ -z "$p" ]; then
		echo "not ok - agreement.py ended without its counts"
		f=1 p=0
	fi
	passed=$((passed + p)) failed=$((failed + f))
else
	echo "not ok - no stock tcpdump to compare the filters with"
	failed=$((failed + 1))
fi
echo "tcpdump: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
