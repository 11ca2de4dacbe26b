#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-harness.sh: the harness's own failure detection, tested on the
# newest kernel of the matrix.  A test that fails, one whose kernel log
# holds a report, one that never ends and a guest kernel that crashes
# must all count as failures, and a guest that hangs must be killed in
# bounded time; a boot that does not reach /init in time is booted again.
# Ends with "harness: N passed, N failed".

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
sel=$(cd "$here/.." && pwd)
g=$here/guest
rel=$("$sel/vm/kernels.sh" list | tail -n1)
pass=0 fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

expect() {
	if grep -qF -- "$2" "$out"; then
		pass=$((pass + 1))
		echo "ok - $1"
	else
		fail=$((fail + 1))
		echo "not ok - $1: no line \"$2\" in:"
		sed 's/^/#   /' "$out"
	fi
}

IPTAP_TEST_TIMEOUT=15 "$sel/run.sh" -k "$rel" "$g/pass.sh" "$g/fail-exit.sh" \
	"$g/fail-kmsg.sh" "$g/fail-timeout.sh" "$g/skip.sh" >"$out" 2>&1
rc=$?
expect "a passing test passes" "ok - [$rel] pass.sh"
expect "a failing test fails" "not ok - [$rel] fail-exit.sh: exit code 1"
expect "a kernel report fails a test that exits 0" \
	"not ok - [$rel] fail-kmsg.sh: kernel reported: "
expect "a test that never ends is killed and fails" \
	"not ok - [$rel] fail-timeout.sh: exit code 137"
expect "a skipped test is a skip" "ok - [$rel] skip.sh # SKIP"
expect "the summary counts them" "selftests: 1 passed, 3 failed, 1 skipped"
[ "$rc" -ne 0 ] && echo "exit $rc" >>"$out"
expect "the runner's exit status is a failure" "exit 1"

"$sel/run.sh" -k "$rel" "$g/fail-oops.sh" "$g/pass.sh" >"$out" 2>&1
expect "a guest kernel crash fails the test that caused it" \
	"not ok - [$rel] fail-oops.sh: kernel reported: "
expect "tests after a crash fail: they never ran" \
	"not ok - [$rel] pass.sh: the guest died or hung before it ended"
expect "the summary counts both" "selftests: 0 passed, 2 failed, 0 skipped"

start=$(date +%s)
"$sel/vm/vm.sh" -k "$rel" -o "$sel/../build/harness-hang" -t 30 "$g/hang.sh" >"$out" 2>&1
echo "exit $? after $(( $(date +%s) - start ))s" >>"$out"
expect "a hung guest is killed and reported" "exit 124 after"
secs=$(sed -n 's/^exit 124 after \([0-9]*\)s$/\1/p' "$out")
if [ -n "$secs" ] && [ "$secs" -lt 60 ]; then
	pass=$((pass + 1)); echo "ok - the hung guest is killed in bounded time (${secs}s)"
else
	fail=$((fail + 1)); echo "not ok - the hung guest is killed in bounded time"
fi

# A limit of 0 s: the first boot cannot have started /init yet.
IPTAP_BOOT_LIMIT=0 "$sel/vm/vm.sh" -k "$rel" -o "$sel/../build/harness-boot" \
	-t 120 "$g/pass.sh" >"$out" 2>&1
echo "exit $?" >>"$out"
expect "a boot that has not started /init in time is stopped and said" \
	"did not start /init within 0s (log in kernel-hung-boot.log): booting again"
expect "the guest booted again runs the test" "exit 0"

echo "harness: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
