#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# initramfs.sh KERNELDIR RELEASE OUT: a tiny initramfs (busybox and the
# modules needed to reach the host's root filesystem over virtio-9p) for
# the kernel extracted in KERNELDIR by kernels.sh.

set -euo pipefail

kdir=$1 rel=$2 out=$3
moddir=$kdir/root/lib/modules/$rel
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

declare -A seen
order=()

# Depth first over modules.dep, so that dependencies come first.
add_module() {
	local name=$1 path deps dep

	path=$(grep -E "/${name}\.ko(\.xz)?:" "$moddir/modules.dep" | cut -d: -f1 || true)
	if [ -z "$path" ]; then
		grep -qE "/${name}\.ko" "$moddir/modules.builtin" && return 0
		echo "initramfs.sh: module $name not found for $rel" >&2
		exit 1
	fi
	[ -n "${seen[$path]:-}" ] && return 0
	seen[$path]=1
	deps=$(grep -E "^${path}:" "$moddir/modules.dep" | cut -d: -f2)
	for dep in $deps; do
		dep=$(basename "$dep")
		add_module "${dep%%.ko*}"
	done
	order+=("$path")
}

for m in virtio_pci 9pnet_virtio 9p overlay; do
	add_module "$m"
done

mkdir -p "$tmp/bin" "$tmp/modules"
cp /bin/busybox "$tmp/bin/busybox"
# Empty when the kernel has them all built in (the debug kernel).
: >"$tmp/modules.list"
for path in "${order[@]}"; do
	name=$(basename "$path")
	case "$name" in
	*.xz)	xz -dc "$moddir/$path" >"$tmp/modules/${name%.xz}" ;;
	*)	cp "$moddir/$path" "$tmp/modules/$name" ;;
	esac
	echo "${name%.xz}" >>"$tmp/modules.list"
done
cp "$here/initramfs-init" "$tmp/init"
chmod +x "$tmp/init"
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp.$$"
mv "$out.tmp.$$" "$out"
