#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: boot the newest kernel of the matrix and run demo-guest.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rel=$("$here/vm/kernels.sh" list | tail -n1)
out=$here/../build/demo
echo "Booting $rel under QEMU (TCG); this takes about 15 seconds."
rc=0
"$here/vm/vm.sh" -k "$rel" -o "$out" -t 300 "$here/demo-guest.sh" || rc=$?
cat "$out/output.log"
[ "$rc" -eq 0 ] || echo "demo failed (exit $rc); kernel log: $out/kernel.log" >&2
exit "$rc"
