#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh: boot one of the matrix kernels under QEMU (TCG) on the host's
# own root filesystem, run a shell script inside and report.
#
#   vm.sh -k RELEASE -o OUTDIR [-s SMP] [-m MEM] [-t TIMEOUT]
#         [-q "QEMU OPTIONS"] SCRIPT
#
# SCRIPT runs in the guest as root from the project folder, with
# IPTAP_RELEASE, IPTAP_ROOT and IPTAP_RESULTS (a writable folder shared
# with OUTDIR) in its environment.  OUTDIR receives kernel.log (the guest
# kernel's console), output.log (the script's output) and exit-code.
#
# QEMU runs with single-threaded TCG by default: the guest has SMP CPUs,
# interleaved on one host thread.  With multi-threaded TCG (QEMU 7.2),
# guests intermittently died of an "Oops: int3" in freshly patched kernel
# text (seen at boot in sched_clock_cpu while a static key was switched):
# cross-modifying code races, which kprobes and static keys do often.
# -q "-accel tcg,thread=multi" still chooses it.
#
# The exit code is the script's, or 125 when the kernel log reports a
# problem (see check-log.sh), or 124 when the guest did not finish in
# TIMEOUT seconds or died before the script did.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rel="" out="" smp=2 mem=2048 tmo=600 qopts="-accel tcg,thread=single"

while getopts "k:o:s:m:t:q:" opt; do
	case $opt in
	k) rel=$OPTARG ;;
	o) out=$OPTARG ;;
	s) smp=$OPTARG ;;
	m) mem=$OPTARG ;;
	t) tmo=$OPTARG ;;
	q) qopts=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ -z "$rel" ] || [ -z "$out" ] || [ $# -ne 1 ]; then
	echo "usage: $0 -k RELEASE -o OUTDIR [-s SMP] [-m MB] [-t SECONDS] [-q QEMU-OPTIONS] SCRIPT" >&2
	exit 2
fi
script=$1

kdir=${IPTAP_KERNELS:-$root/build/kernels}/$rel
[ -f "$kdir/.done" ] || "$here/kernels.sh" fetch "$(dirname "$kdir")" "$rel"
# The guest finds the modules under the host's root by this path: it must
# not go through a symbolic link (the debug kernel's, to its cache).
kdir=$(cd "$kdir" && pwd -P)
initrd=$kdir/initramfs.gz
if [ ! -f "$initrd" ] || [ "$initrd" -ot "$here/initramfs-init" ] ||
   [ "$initrd" -ot "$here/initramfs.sh" ]; then
	"$here/initramfs.sh" "$kdir" "$rel" "$initrd"
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
cp "$script" "$out/cmd"

# run_qemu: one boot, which ends when the guest powers off, dies or
# runs out of time.  Its pid is $qemu.
run_qemu() {
	rm -f "$out/kernel.log" "$out/output.log" "$out/exit-code"
	# shellcheck disable=SC2086 # qopts is a list of options
	timeout --signal=KILL "$tmo" qemu-system-x86_64 $qopts \
		-smp "$smp" -m "$mem" -nodefaults -display none -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 loglevel=7 panic=-1 oops=panic IPTAP_ROOT=$root IPTAP_RELEASE=$rel IPTAP_KMODS=$kdir/root/lib/modules" \
		-serial "file:$out/kernel.log" -serial "file:$out/output.log" \
		-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$out,mount_tag=results,security_model=none" \
		</dev/null >>"$out/qemu.log" 2>&1 &
	qemu=$!
}

# reached_init: whether the guest's kernel got as far as starting /init
# within boot_limit seconds.  Under TCG, a boot of sid's kernel once spun
# for minutes after "Switched to clocksource tsc-early" (while a static
# key was switched, it seems) and would have used up the whole run's
# limit before any test: such a boot, before any of iptap runs, is
# stopped and the guest booted once more, and the log says so.
reached_init() {
	local waited=0

	while kill -0 "$qemu" 2>/dev/null; do
		grep -qs 'Run /init as init process' "$out/kernel.log" && return 0
		[ "$waited" -ge "$boot_limit" ] && return 1
		sleep 2
		waited=$((waited + 2))
	done
	return 0
}

boot_limit=${IPTAP_BOOT_LIMIT:-180}
: >"$out/qemu.log"
run_qemu
if ! reached_init; then
	kill "$qemu" 2>/dev/null
	wait "$qemu" || true
	cp "$out/kernel.log" "$out/kernel-hung-boot.log" 2>/dev/null ||
		: >"$out/kernel-hung-boot.log"
	echo "vm.sh: the kernel did not start /init within ${boot_limit}s" \
		"(log in kernel-hung-boot.log): booting again" | tee -a "$out/qemu.log" >&2
	run_qemu
fi
wait "$qemu" || true

if ! "$here/check-log.sh" "$out/kernel.log" >"$out/kernel-problems.log"; then
	echo "vm.sh: the guest kernel reported a problem:" >&2
	head -n 20 "$out/kernel-problems.log" >&2
	exit 125
fi
if [ ! -s "$out/exit-code" ]; then
	echo "vm.sh: the guest did not finish (hung, crashed or timed out after ${tmo}s)" >&2
	exit 124
fi
exit "$(cat "$out/exit-code")"
