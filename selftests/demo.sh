#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo [KERNEL=RELEASE]: fetch one kernel of the matrix (by default
# the newest of Debian 12, the second of kernels.sh list), build the
# module for it, boot it and run demo-guest.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
kernels=$here/vm/kernels.sh
rel=${1:-$("$kernels" list | sed -n 2p)}
"$kernels" list | grep -qxF "$rel" || {
	echo "demo: $rel is not a kernel of the matrix:" >&2
	"$kernels" list >&2
	exit 2
}
"$kernels" fetch "$root/build/kernels" "$rel"
make --no-print-directory -C "$root" module \
	KDIR="$("$kernels" kdir "$root/build/kernels" "$rel")" \
	KROOT="$("$kernels" root "$root/build/kernels" "$rel")"
out=$root/build/demo
echo "Booting $rel under QEMU (TCG); this takes about 15 seconds."
rc=0
"$here/vm/vm.sh" -k "$rel" -o "$out" -t 300 "$here/demo-guest.sh" || rc=$?
cat "$out/output.log"
[ "$rc" -eq 0 ] || echo "demo failed (exit $rc); kernel log: $out/kernel.log" >&2
exit "$rc"
