#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [-k RELEASE]...: "make bench".  Builds the benchmark's tools
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
# replaces the accelerator options.  Not part of "make check": rates
# are measurements, not pass/fail tests.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/build/bench
qopts=${BENCH_QEMU_OPTS:-"-accel tcg -icount shift=0,sleep=off"}
releases=()
while getopts "k:" opt; do
	case $opt in
	k) releases+=("$OPTARG") ;;
	*) echo "usage: $0 [-k RELEASE]..." >&2; exit 2 ;;
	esac
done
[ ${#releases[@]} -gt 0 ] || mapfile -t releases < <("$here/../vm/kernels.sh" list)

# perf (the guest runs the host's binaries) for the profiles.
if [ -n "${BENCH_PROFILES-x}" ] && ! command -v perf >/dev/null; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null
fi

mkdir -p "$out/bin"
for t in blast sink ring; do
	gcc -O2 -Wall -Wextra -Werror -o "$out/bin/$t" "$root/tools/bench/$t.c"
done

cmd=$out/guest-cmd.sh
{
	for v in $(compgen -v BENCH_); do
		[ "$v" = BENCH_QEMU_OPTS ] || printf 'export %s=%q\n' "$v" "${!v}"
	done
	echo 'exec bash selftests/bench/guest.sh'
} >"$cmd"

start=$(date +%s)
pids=()
for rel in "${releases[@]}"; do
	[ -f "$root/build/$rel/kmod/iptap.ko" ] || {
		echo "bench: no build/$rel/kmod/iptap.ko (make matrix)" >&2; exit 1; }
	rm -rf "${out:?}/$rel"
	mkdir -p "$out/$rel"
	touch "$out/$rel/output.log"
	echo "bench: $rel: booting (one vCPU, $qopts)"
	"$here/../vm/vm.sh" -k "$rel" -o "$out/$rel" -s 1 -t 2400 -q "$qopts" "$cmd" \
		>"$out/$rel/vm.log" 2>&1 &
	pids+=($!)
done
# Progress: the guest's "bench:" lines.
tailers=()
for rel in "${releases[@]}"; do
	tail -n +1 -F "$out/$rel/output.log" 2>/dev/null > >(sed -u -n "s/^bench: /  [$rel] /p") &
	tailers+=($!)
done
rc=0
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
		perf script -i "$data" --kallsyms "$syms" -F comm,ip,sym 2>/dev/null |
			awk '
			/^[^ \t]/ { if (chain != "") n[comm ";" chain]++; comm = $1; chain = ""; next }
			NF >= 2 { chain = (chain == "") ? $2 : $2 ";" chain }
			END { if (chain != "") n[comm ";" chain]++; for (c in n) print n[c], c }' |
			sort -rn >"$out/$rel/profile-$name.txt"
		rm -f "$syms"
	done
done

python3 "$here/report.py" "$out" "$root/BENCHMARKS.md" \
	"make bench (selftests/bench/bench.sh${*:+ $*}; QEMU $qopts, one vCPU)" "${releases[@]}"
echo "bench: tables written to BENCHMARKS.md; results in $out/"
exit "$rc"
