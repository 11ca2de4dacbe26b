#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh [TEST...]: what "make check-debug" runs, after "make tools":
# build (or take from the cache) the two debug kernels of kernel.sh, the
# preemptible one and its PREEMPT_RT flavour, build the module for each,
# and run in one boot of each, side by side, on 2 vCPUs, every selftest
# (or the TESTs named), with stress.py for IPTAP_STRESS_SECONDS (default
# 300) instead of 40 and with the module reloads (IPTAP_STRESS_RELOAD=1),
# then kmemleak.sh.  Any kernel report in the log fails (run.sh and
# check-log.sh), and so does a leak found by the final kmemleak scan.
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
	releases+=(-k "$rel")
done

if [ $# -gt 0 ]; then
	tests=("$@")
else
	mapfile -t tests < <(find "$root/selftests/iptap" -maxdepth 1 -type f -perm -u+x | sort)
fi
export IPTAP_STRESS_SECONDS=${IPTAP_STRESS_SECONDS:-300}
# sockets.py with 20,000 sockets, not 150,000: KASAN makes each costly.
export IPTAP_SOCKETS=${IPTAP_SOCKETS:-20000}
export IPTAP_STRESS_RELOAD=1
# q35, not QEMU's default i440fx: the i440fx's ACPI _PRT method is an AML
# loop that the debug kernel's interpreter, under TCG, does not finish
# within ACPICA's 30 s loop limit, and PCI devices are left without an
# interrupt (virtio-9p then hangs).  q35's _PRT is a plain table.
export IPTAP_QEMU_OPTS=${IPTAP_QEMU_OPTS:-"-accel tcg,thread=single -M q35"}
export IPTAP_TEST_TIMEOUT=${IPTAP_TEST_TIMEOUT:-1200}
"$root/selftests/run.sh" "${releases[@]}" "${tests[@]}" "$here/kmemleak.sh"
rc=$?
echo "# make check-debug took $(( $(date +%s) - start ))s"
exit $rc
