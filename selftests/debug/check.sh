#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh [TEST...]: what "make check-debug" runs, after "make tools":
# build (or take from the cache) the two debug kernels of kernel.sh, the
# preemptible one and its PREEMPT_RT flavour, build the module for each,
# and run in one boot of each, side by side, on 2 vCPUs, every selftest
# (or the TESTs named), with stress.py for IPTAP_STRESS_SECONDS (default
# 120) instead of 40 and with the module reloads (IPTAP_STRESS_RELOAD=1),
# then kmemleak.sh.  Both skip the tests of the userspace tools' output
# and of the installation (DEBUG_SKIP), and the PREEMPT_RT kernel, the
# slower, also those of packet-socket delivery (RT_SKIP): their kernel
# paths are those capture.py, selection.py and the others take there.
# Any kernel report in the log fails (run.sh and check-log.sh), and so
# does a leak found by the final kmemleak scan.
# Ends with "selftests: N passed, N failed, N skipped".
#
# KASAN, lockdep and the other checks make the kernel several times
# slower under QEMU's TCG than Debian's: each test may take up to
# IPTAP_TEST_TIMEOUT seconds (default 1200).

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
start=$(date +%s)

releases=()
for flavour in std rt; do
	if ! rel=$("$here/kernel.sh" "$flavour"); then
		echo "not ok - the $flavour debug kernel did not build"
		echo "selftests: 0 passed, 1 failed, 0 skipped"
		exit 1
	fi
	echo "# debug kernel $rel ready after $(( $(date +%s) - start ))s"

	# Not a lint: no -Werror (W=1 on this config is lint.sh's business).
	if ! make --no-print-directory -s -C "$root" module \
		KDIR="$root/build/kernels/$rel/src" >"$root/build/debug-module.log" 2>&1; then
		sed 's/^/#   /' "$root/build/debug-module.log" | tail -n 30
		echo "not ok - [$rel] the module builds"
		echo "selftests: 0 passed, 1 failed, 0 skipped"
		exit 1
	fi
	releases+=("$rel")
done

if [ $# -gt 0 ]; then
	tests=("$@")
else
	mapfile -t tests < <(find "$root/selftests/iptap" -maxdepth 1 -type f -perm -u+x | sort)
fi
# iptapdump.py, tcpdump.py and remote.py check the tools' output over the
# packet path (filters, rings) that capture.py, attribution.py and
# selection.py take (selection.py with tcpdump and tshark); autoload.py
# and packages.py the module's installation (packages.py has no headers
# for a debug kernel).  On a debug kernel they would cost some 8 minutes
# and exercise no kernel code the rest does not.  The PREEMPT_RT kernel,
# the slower, also skips tests whose kernel code runs in process context
# only or takes the packet path's locks as capture.py does: any.py and
# writes.py (delivery to packet sockets), counters.py and isolation.py
# (sysfs and netlink), malformed.py and rawmode.py (the record path); the
# preemptible debug kernel runs them under lockdep.
DEBUG_SKIP=${DEBUG_SKIP-"autoload.py iptapdump.py packages.py remote.py tcpdump.py"}
RT_SKIP=${RT_SKIP-"any.py counters.py isolation.py malformed.py rawmode.py writes.py"}
# (Tests named on the command line all run.)
[ $# -gt 0 ] && DEBUG_SKIP="" RT_SKIP=""
std_tests=() rt_tests=()
for t in "${tests[@]}"; do
	name=" $(basename "$t") "
	[[ " $DEBUG_SKIP " == *"$name"* ]] && continue
	std_tests+=("$t")
	[[ " $RT_SKIP " == *"$name"* ]] || rt_tests+=("$t")
done
export IPTAP_STRESS_SECONDS=${IPTAP_STRESS_SECONDS:-120}
# sockets.py with 20,000 sockets, not 150,000: KASAN makes each costly.
export IPTAP_SOCKETS=${IPTAP_SOCKETS:-20000}
export IPTAP_STRESS_RELOAD=1
# q35, not QEMU's default i440fx: the i440fx's ACPI _PRT method is an AML
# loop that the debug kernel's interpreter, under TCG, does not finish
# within ACPICA's 30 s loop limit, and PCI devices are left without an
# interrupt (virtio-9p then hangs).  q35's _PRT is a plain table.
export IPTAP_QEMU_OPTS=${IPTAP_QEMU_OPTS:-"-accel tcg,thread=single -M q35"}
export IPTAP_TEST_TIMEOUT=${IPTAP_TEST_TIMEOUT:-1200}
# One run.sh per kernel, side by side; their summaries are added up.
run_kernel() {
	local rel=$1

	shift
	"$root/selftests/run.sh" -k "$rel" "$@" "$here/kmemleak.sh" |
		tee "$root/build/check-debug-$rel.log"
}
run_kernel "${releases[0]}" "${std_tests[@]}" &
std_pid=$!
run_kernel "${releases[1]}" "${rt_tests[@]}" &
rt_pid=$!
rc=0
wait "$std_pid" || rc=1
wait "$rt_pid" || rc=1
pass=0 fail=0 skip=0
for rel in "${releases[@]}"; do
	summary=$(grep -E '^selftests: [0-9]+ passed' "$root/build/check-debug-$rel.log" | tail -n1)
	if [ -z "$summary" ]; then
		echo "not ok - [$rel] run.sh ended without a summary"
		fail=$((fail + 1))
		rc=1
		continue
	fi
	read -r p f s < <(sed -E 's/^selftests: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/' <<<"$summary")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done
echo "# make check-debug took $(( $(date +%s) - start ))s"
echo "selftests: $pass passed, $fail failed, $skip skipped"
exit $rc
