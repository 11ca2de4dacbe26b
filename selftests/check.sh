#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: everything "make check" runs, after "make matrix" has built
# the module for every kernel and "make deb" the packages: the static
# checks, the harness's own tests, iptapdump's host tests, tcpdump's own
# suite on the patched tcpdump, the host's checks of the packaging, and
# every selftest in the VM on every kernel.  Ends with one line, "N
# passed, N failed, N skipped", the sum over all of them, and exits
# non-zero on any failure.

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0 skip=0

run() {
	local log summary p f s t0 label

	log=$(mktemp)
	t0=$(date +%s)
	"$@" 2>&1 | tee "$log"
	case $1 in
	/*) label=$(realpath --relative-to="$here/.." "$1") ;;
	*) label="$*" ;;
	esac
	echo "# $label took $(( $(date +%s) - t0 ))s"
	summary=$(grep -E '^[a-z]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
	if [ -z "$summary" ]; then
		echo "not ok - $*: ended without a summary"
		fail=$((fail + 1))
	else
		p=$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$summary")
		f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$summary")
		s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$summary")
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + ${s:-0}))
	fi
	rm -f "$log"
}

start=$(date +%s)
run "$here/lint.sh"
run "$here/harness/test-harness.sh"
run make --no-print-directory -C "$here/../tools/iptapdump" check
run "$here/../tools/pcap-patches/check.sh"
run "$here/../packaging/check.sh"
run "$here/run.sh"
echo "# make check took $(( $(date +%s) - start ))s"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
