#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [-r] [-k RELEASE]...: "make bench".  Builds the benchmark's tools
# (tools/bench/) on the host, boots each kernel of the matrix (or the
# ones named) in the VM with one vCPU and a guest clock that counts
# instructions (QEMU -icount shift=0,sleep=off: one instruction is one
# nanosecond of guest time, so a rate repeats from run to run whatever
# else the host runs), runs guest.sh there, reads the perf profiles and
# regenerates the tables of BENCHMARKS.md.  The kernels run side by
# side, one single-threaded QEMU each.  Results and logs stay in
# build/bench/<release>/.
#
# BENCH_* variables pass to guest.sh (see there); BENCH_QEMU_OPTS
# replaces the accelerator options.  BENCH_OUT, a folder, takes the
# results and the tables (BENCH_OUT/BENCHMARKS.md) instead of
# build/bench/ and BENCHMARKS.md: a partial run (BENCH_SETS) then leaves
# the full run's tables alone.  -r only reads the results that are
# there again (profiles, tables), without booting anything.  Not part of
# "make check": rates are measurements, not pass/fail tests.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(realpath -m "${BENCH_OUT:-$root/build/bench}")
tables=$root/BENCHMARKS.md
if [ -n "${BENCH_OUT:-}" ]; then
	BENCH_OUT=$out	# the guest sees the project at the same path
	tables=$out/BENCHMARKS.md
fi
qopts=${BENCH_QEMU_OPTS:-"-accel tcg -icount shift=0,sleep=off"}
releases=()
args="$*"
report_only=
while getopts "rk:" opt; do
	case $opt in
	k) releases+=("$OPTARG") ;;
	r) report_only=1 ;;
	*) echo "usage: $0 [-r] [-k RELEASE]..." >&2; exit 2 ;;
	esac
done
[ ${#releases[@]} -gt 0 ] || mapfile -t releases < <("$here/../vm/kernels.sh" list)

# BENCH_* settings as shell words.
settings() {
	local v

	for v in $(compgen -v BENCH_ || true); do
		printf '%s=%q ' "$v" "${!v}"
	done
}

# The instruction counter for BENCH_COUNTS, a QEMU plugin: built against
# the plugin API header of the QEMU that runs it, from Debian's source
# package of that version (tools/debsrc.sh; build/apt/, build/qemu/).
apt=$root/build/apt
src=$root/build/qemu/src
log() { echo "bench: $*" >&2; }
# shellcheck source=tools/debsrc.sh
. "$root/tools/debsrc.sh"

build_insncount() {
	local ver up dsc inc

	ver=$(version qemu qemu-system-x86)
	ver=${ver%+b[0-9]*}	# a binary-only rebuild has its source's version
	inc=$root/build/qemu/include-$ver
	if [ ! -f "$inc/qemu-plugin.h" ]; then
		dsc=$(fetch qemu "$ver")
		mkdir -p "$inc"
		up=${ver#*:}
		tar -xJf "$(dirname "$dsc")/qemu_${up%-*}.orig.tar.xz" -O \
			--wildcards '*/include/qemu/qemu-plugin.h' >"$inc/qemu-plugin.h.new"
		mv "$inc/qemu-plugin.h.new" "$inc/qemu-plugin.h"
	fi
	gcc -O2 -Wall -Wextra -Werror -shared -fPIC -I "$inc" \
		-o "$out/bin/insncount.so" "$here/insncount.c"
}

run_vms() {
	# perf (the guest runs the host's binaries) for the profiles.
	if [ -n "${BENCH_PROFILES-x}" ] && ! command -v perf >/dev/null; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null
	fi

	mkdir -p "$out/bin"
	for t in blast sink ring mark; do
		gcc -O2 -Wall -Wextra -Werror -o "$out/bin/$t" "$root/tools/bench/$t.c"
	done
	[ -z "${BENCH_COUNTS:-}" ] || build_insncount

	cmd=$out/guest-cmd.sh
	{
		for v in $(compgen -v BENCH_ || true); do
			[ "$v" = BENCH_QEMU_OPTS ] || printf 'export %s=%q\n' "$v" "${!v}"
		done
		echo 'exec bash selftests/bench/guest.sh'
	} >"$cmd"

	# What made the results, for BENCHMARKS.md.
	echo "$(settings)selftests/bench/bench.sh${args:+ $args}" >"$out/command"
	start=$(date +%s)
	pids=()
	for rel in "${releases[@]}"; do
		[ -f "$root/build/$rel/kmod/iptap.ko" ] || {
			echo "bench: no build/$rel/kmod/iptap.ko (make matrix)" >&2; exit 1; }
		rm -rf "${out:?}/$rel"
		mkdir -p "$out/$rel"
		touch "$out/$rel/output.log"
		echo "bench: $rel: booting (one vCPU, $qopts)"
		rel_qopts=$qopts
		[ -z "${BENCH_COUNTS:-}" ] ||
			rel_qopts+=" -plugin $out/bin/insncount.so,out=$out/$rel/insn"
		"$here/../vm/vm.sh" -k "$rel" -o "$out/$rel" -s 1 -m 4096 -t 7200 -q "$rel_qopts" "$cmd" \
			>"$out/$rel/vm.log" 2>&1 &
		pids+=($!)
	done
	# Progress: the guest's "bench:" lines.
	tailers=()
	for rel in "${releases[@]}"; do
		tail -n +1 -F "$out/$rel/output.log" 2>/dev/null > >(
			while IFS= read -r line; do
				[[ $line == "bench: "* ]] &&
					echo "  $(( $(date +%s) - start ))s [$rel] ${line#bench: }"
			done) &
		tailers+=($!)
	done
	for i in "${!pids[@]}"; do
		if ! wait "${pids[$i]}"; then
			echo "bench: ${releases[$i]}: the VM failed, see $out/${releases[$i]}/" >&2
			cat "$out/${releases[$i]}/vm.log" >&2
			rc=1
		fi
	done
	kill "${tailers[@]}" 2>/dev/null || true
	wait "${tailers[@]}" 2>/dev/null || true
	echo "bench: the VMs took $(( $(date +%s) - start ))s"
}

rc=0
if [ -z "$report_only" ]; then
	run_vms
fi

# Profiles: perf script on the host, with the guest's symbols, folded
# into "COUNT COMM;OUTERMOST;...;INNERMOST" lines.
for rel in "${releases[@]}"; do
	for data in "$out/$rel"/perf-*.data; do
		[ -f "$data" ] || continue
		name=$(basename "$data" .data)
		name=${name#perf-}
		syms=$out/$rel/kallsyms-all-$name
		cat "$out/$rel/kallsyms" "$out/$rel/kallsyms-$name" >"$syms" 2>/dev/null ||
			cp "$out/$rel/kallsyms" "$syms"
		# The first and last sample's times in a "#time T0 T1" line.
		perf script -i "$data" --kallsyms "$syms" -F comm,time,ip,sym 2>/dev/null |
			"$here/ksyms.py" "$syms" |
			awk '
			function flush() { if (chain != "") n[comm ";" chain]++; chain = "" }
			/^[^ \t]/ { flush(); comm = $1; t = $2; sub(/:$/, "", t); t += 0
				     if (!seen || t < t0) t0 = t; if (!seen || t > t1) t1 = t
				     seen = 1; next }
			NF >= 2 { chain = (chain == "") ? $2 : $2 ";" chain }
			END { flush(); for (c in n) print n[c], c
			      printf "#time %.6f %.6f\n", t0, t1 }' |
			sort -rn >"$out/$rel/profile-$name.txt"
		rm -f "$syms"
	done
done

python3 "$here/report.py" "$out" "$tables" \
	"$(cat "$out/command" 2>/dev/null || echo "?")" "${releases[@]}"
echo "bench: tables written to $tables; results in $out/"
exit "$rc"
