#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [-k RELEASE]... [TEST]...: run selftests in the VM on every
# kernel of the matrix (or the ones named), one boot per kernel, several
# kernels side by side (IPTAP_JOBS at a time, default one per host CPU:
# each VM runs on one host thread), showing progress, and end with the line "selftests: N passed, N failed, N skipped" that
# counts (test, kernel) pairs.  Tests default to every executable in
# selftests/iptap/.
#
# A test fails when it exits non-zero (4 is a skip), when the kernel
# log between its begin and end markers reports a problem, or when the
# guest dies or hangs before it ends.  A kernel report outside any test
# (boot, shutdown) fails the pseudo-test "kernel-log" of that kernel.
# Logs are kept in build/selftests/<release>/ (IPTAP_LOGS/<release>/ when
# IPTAP_LOGS is set: two runs of one kernel side by side).  IPTAP_SMP
# (default 2) and IPTAP_QEMU_OPTS choose the VM's CPUs and QEMU options;
# IPTAP_TEST_TIMEOUT (default 300) bounds each test.  IPTAP_STRESS_SECONDS
# and IPTAP_STRESS_RELOAD, when set, are passed to the tests in the guest
# (stress.py's duration and module reloads), and so are IPTAP_SOCKETS
# (sockets.py's number of sockets) and IPTAP_CHURN (owners.py's number of
# sockets opened and closed).
#
# A test whose kernel code is the same on every kernel (the userspace
# tools' output, for one) names the kernels it runs on in a line
# "# kernels: GLOB..." (shell patterns of releases); the others run on
# every kernel.  Tests named on the command line run on every kernel.

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
releases=()
while getopts "k:" opt; do
	case $opt in
	k) releases+=("$OPTARG") ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ ${#releases[@]} -gt 0 ] || mapfile -t releases < <("$here/vm/kernels.sh" list)
named=0
if [ $# -gt 0 ]; then
	tests=("$@")
	named=1
else
	mapfile -t tests < <(find "$here/iptap" -maxdepth 1 -type f -perm -u+x | sort)
fi

test_timeout=${IPTAP_TEST_TIMEOUT:-300}
logs=${IPTAP_LOGS:-$root/build/selftests}
pass=0 fail=0 skip=0

# Lines of LOG between the begin and end markers of test NAME (the
# serial console ends lines with CR LF).
segment() {
	tr -d '\r' <"$1" |
		sed -n "/iptap-selftest: begin $2\$/,/iptap-selftest: end $2\$/p"
}

outside() {
	tr -d '\r' <"$1" | sed '/iptap-selftest: begin /,/iptap-selftest: end /d'
}

# tests_for REL: the tests to run on REL, a line each.
tests_for() {
	local rel=$1 t g globs

	for t in "${tests[@]}"; do
		# read, not word splitting: the patterns must not match files.
		read -r -a globs < <(sed -n 's/^# kernels: //p' "$t" | head -n1)
		if [ "$named" = 1 ] || [ ${#globs[@]} -eq 0 ]; then
			echo "$t"
			continue
		fi
		for g in "${globs[@]}"; do
			# shellcheck disable=SC2053 # $g is a pattern
			if [[ $rel == $g ]]; then
				echo "$t"
				break
			fi
		done
	done
}

# boot REL: run the tests in a VM of kernel REL, logs in its folder.
boot() {
	local rel=$1 out=$logs/$1 script tailer total_timeout vmopts own t
	local mine=()

	rm -rf "$out"
	mkdir -p "$out"
	mapfile -t mine < <(tests_for "$rel")
	printf '%s\n' "${mine[@]}" >"$out/tests"
	script=$out/guest.sh
	{
		for v in IPTAP_STRESS_SECONDS IPTAP_STRESS_RELOAD IPTAP_SOCKETS IPTAP_CHURN; do
			[ -n "${!v:-}" ] && printf 'export %s=%q\n' "$v" "${!v}"
		done
		echo "exec selftests/vm/guest-run.sh $test_timeout \\"
		for t in "${mine[@]}"; do
			echo "	$(realpath --relative-to="$root" "$t") \\"
		done
		echo
	} >"$script"

	touch "$out/output.log"
	tail -n +1 -F "$out/output.log" 2>/dev/null | sed -u -n -E "s/^# (running .*|[^ ]+ took [0-9]+s)\$/  [$rel] \1/p" &
	tailer=$!
	# Each test's own limit ("# timeout:", as guest-run.sh reads it), one
	# more for the boot and the rest.
	total_timeout=$(( test_timeout + 120 ))
	for t in "${mine[@]}"; do
		own=$(sed -n 's/^# timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -n1)
		total_timeout=$(( total_timeout + ${own:-$test_timeout} ))
	done
	vmopts=(-k "$rel" -o "$out" -t "$total_timeout" -s "${IPTAP_SMP:-2}")
	[ -n "${IPTAP_QEMU_OPTS:-}" ] && vmopts+=(-q "$IPTAP_QEMU_OPTS")
	"$here/vm/vm.sh" "${vmopts[@]}" "$script" >"$out/vm.log" 2>&1
	local vmrc=$?
	kill "$tailer" 2>/dev/null
	wait "$tailer" 2>/dev/null
	echo "$vmrc" >"$out/vm-exit-code"
}

# report REL: one line per test of REL, and the counts.
report() {
	local rel=$1 out=$logs/$1 vmrc t name rc why mine=()

	vmrc=$(cat "$out/vm-exit-code" 2>/dev/null || echo 124)
	mapfile -t mine <"$out/tests"
	for t in "${mine[@]}"; do
		name=$(basename "$t")
		rc=$(sed -n "s/^RESULT $name \([0-9]*\)\$/\1/p" "$out/output.log" | tail -n1)
		why=""
		if ! segment "$out/kernel.log" "$name" | "$here/vm/check-log.sh" >"$out/$name.kernel-problems"; then
			why="kernel reported: $(head -n1 "$out/$name.kernel-problems")"
		elif [ -z "$rc" ]; then
			why="the guest died or hung before it ended"
		elif [ "$rc" = 4 ]; then
			skip=$((skip + 1))
			echo "ok - [$rel] $name # SKIP $(grep -m1 -i 'skip' "$out/$name.log" 2>/dev/null)"
			continue
		elif [ "$rc" != 0 ]; then
			why="exit code $rc"
		fi
		if [ -z "$why" ]; then
			pass=$((pass + 1))
			echo "ok - [$rel] $name"
		else
			fail=$((fail + 1))
			echo "not ok - [$rel] $name: $why"
			# The failed steps, or, when it names none, how it ended.
			if [ -f "$out/$name.log" ]; then
				{ grep -E -A4 '^not ok' "$out/$name.log" ||
					tail -n 8 "$out/$name.log"; } | sed 's/^/#   /' | head -n 40
			fi
		fi
	done
	if ! outside "$out/kernel.log" | "$here/vm/check-log.sh" >"$out/kernel-problems.log"; then
		fail=$((fail + 1))
		echo "not ok - [$rel] kernel-log: $(head -n1 "$out/kernel-problems.log")"
	fi
	[ "$vmrc" -eq 124 ] && echo "#   [$rel] the VM did not finish: see $out/kernel.log"
}

# Each VM runs on one host thread (single-threaded TCG, see vm.sh): the
# kernels boot side by side, IPTAP_JOBS at a time (default: one per CPU).
jobs=${IPTAP_JOBS:-$(nproc)}
echo "=== ${#releases[@]} kernels, up to ${#tests[@]} tests each, $jobs at a time"
# The kernels with the most tests first: a lane that ends early takes
# the next, so the shortest list is left for last.
mapfile -t order < <(for rel in "${releases[@]}"; do
	echo "$(tests_for "$rel" | wc -l) $rel"
done | sort -s -k1,1nr | cut -d' ' -f2-)
running=0
for rel in "${order[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	boot "$rel" &
	running=$((running + 1))
done
wait
for rel in "${releases[@]}"; do
	report "$rel"
done

echo "selftests: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
