#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel.sh [rt]: build a debug kernel of "make check-debug" from Debian's
# linux-source-6.12 with tinyconfig + selftests/debug/config (and, for the
# PREEMPT_RT flavour "rt", + selftests/debug/config-rt), unless it is
# cached, and print its release on stdout.
#
# The cache, ${IPTAP_CACHE:-/var/cache/iptap}/debug-kernel/FLAVOUR.KEY,
# lives outside the clone so that a fresh clone on the same machine
# reuses it; KEY hashes the source package's version, the config
# fragments and this script.  A build that changes the key removes the
# flavour's older entries.  FLAVOUR.KEY/ holds what vm.sh boots, laid out
# as kernels.sh lays out Debian's (vmlinuz, root/lib/modules/RELEASE,
# .done), and the build tree (src/) that "make module KDIR=..." builds
# iptap against.  build/kernels/RELEASE links to it.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
flavour=${1:-std}
case $flavour in
std) fragments=("$here/config") ;;
rt) fragments=("$here/config" "$here/config-rt") ;;
*) echo "usage: kernel.sh [rt]" >&2; exit 2 ;;
esac
cache=${IPTAP_CACHE:-/var/cache/iptap}/debug-kernel
pkg=linux-source-6.12

log() {
	echo "debug-kernel: $*" >&2
}

if ! apt-cache show "$pkg" >/dev/null 2>&1; then
	apt-get update -qq >&2
fi
version=$(apt-cache show --no-all-versions "$pkg" | sed -n 's/^Version: //p')
[ -n "$version" ] || { log "no $pkg in the package index"; exit 1; }
key=$( { echo "$pkg $version"; cat "${fragments[@]}" "$0"; } | sha256sum | cut -c1-16)
dir=$cache/$flavour.$key

mkdir -p "$cache"

# Every option of the fragments must have its value (the last fragment's,
# where two name it): "make olddefconfig" drops, without a word, an
# option whose dependencies are missing.
verify_config() {
	local config=$1 opt want bad=0

	while IFS='=' read -r opt want; do
		case $opt in '' | '#'*) continue ;; esac
		if [ "$want" = n ]; then
			grep -q "^$opt=" "$config" || continue
		else
			grep -qxF "$opt=$want" "$config" && continue
		fi
		log "$opt=$want did not survive olddefconfig:" \
			"$(grep -E "^(# )?${opt}[= ]" "$config" || echo "$opt is unknown")"
		bad=1
	done < <(awk '/^CONFIG_/ { last[substr($0, 1, index($0, "=") - 1)] = $0 }
		END { for (opt in last) print last[opt] }' "${fragments[@]}")
	return $bad
}

build() {
	local tmp=$dir/tmp src=$dir/src start rel

	start=$(date +%s)
	rm -rf "$dir"
	mkdir -p "$tmp"
	log "building $pkg $version with $(realpath --relative-to="$root" "${fragments[@]}" | xargs) into $dir"
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg=$version") >&2
	dpkg-deb --fsys-tarfile "$tmp/${pkg}_"*.deb |
		tar -xO "./usr/src/$pkg.tar.xz" | xz -dc | tar -x -C "$tmp"
	mv "$tmp/$pkg" "$src"
	rm -rf "$tmp"

	# ARCH=x86_64: tinyconfig for ARCH=x86 would be a 32-bit kernel.
	make -C "$src" -s ARCH=x86_64 tinyconfig >&2
	"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "${fragments[@]}" >/dev/null
	make -C "$src" -s ARCH=x86_64 olddefconfig >&2
	verify_config "$src/.config" || { log "the config fragment does not apply"; exit 1; }

	log "compiling ($(grep -c '=[ym]$' "$src/.config") options set), log in $dir/build.log"
	if ! make -C "$src" ARCH=x86_64 -j"$(nproc)" all >"$dir/build.log" 2>&1; then
		tail -n 30 "$dir/build.log" >&2
		log "the build failed"
		exit 1
	fi
	rel=$(cat "$src/include/config/kernel.release")
	make -C "$src" -s ARCH=x86_64 INSTALL_MOD_PATH="$dir/root" modules_install >&2
	cp "$src/arch/x86/boot/bzImage" "$dir/vmlinuz"
	echo "$rel" >"$dir/release"
	touch "$dir/.done"
	log "built $rel in $(( $(date +%s) - start ))s"

	# Keep the cache to one kernel of each flavour (and drop the entries
	# of before flavours, named KEY alone).
	find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$flavour.$key" \
		\( -name "$flavour.*" -o ! -name "*.*" \) -exec rm -rf {} +
}

# Two runs on one machine must not build into the same folder.  A kernel
# already built needs no lock: a build marks it done last, and a run that
# waited for the other flavour's build (CI's early build of both) would
# start its tests only once both are built.
if [ ! -f "$dir/.done" ]; then
	exec 9>"$cache/lock"
	flock 9
	[ -f "$dir/.done" ] || build
fi
rel=$(cat "$dir/release")
mkdir -p "$root/build/kernels"
ln -sfn "$dir" "$root/build/kernels/$rel"
echo "$rel"
