#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel matrix: Debian's newest 6.1 (what linux-image-amd64 depends
# on) and newest 6.12 (linux-image-6.12.*+deb12-amd64).  Package names are
# resolved from the package index at run time: ABI numbers change.
#
#   kernels.sh list            print the releases, one a line
#   kernels.sh fetch DIR REL   extract REL's image and modules into DIR/REL
#                              and its headers into DIR/REL/headers
#   kernels.sh kdir DIR REL    print the headers' build folder (KDIR)
#
# Nothing is installed on the host: every linux-headers package depends on
# its kernel image, and installing one writes to /boot and changes what the
# machine boots next.  Packages are downloaded and extracted with dpkg-deb.

set -euo pipefail

apt_ready() {
	# apt-cache finds nothing until the lists exist.
	if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
		apt-get update -qq >&2
	fi
}

list() {
	local r61 r612

	apt_ready
	r61=$(apt-cache depends linux-image-amd64 |
	      sed -n 's/^ *Depends: linux-image-\(6\.1\.[^ ]*-amd64\)$/\1/p' | head -n1)
	r612=$(apt-cache pkgnames linux-image-6.12. |
	       sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb12-amd64\)$/\1/p' |
	       sort -V | tail -n1)
	if [ -z "$r61" ] || [ -z "$r612" ]; then
		echo "kernels.sh: cannot resolve the kernel matrix from the package index" >&2
		exit 1
	fi
	printf '%s\n%s\n' "$r61" "$r612"
}

download() {
	(cd "$1" && shift && apt-get download -qq -o APT::Sandbox::User=root "$@" >&2)
}

kdir() {
	echo "$1/$2/headers/usr/src/linux-headers-$2"
}

# linux-headers-REL, and the packages of its dependencies that hold the
# rest of the build tree (-common, linux-kbuild-*), into DIR/REL/headers.
# The headers' Makefile includes the common one by absolute path: point
# it at the extracted copy.
fetch_headers() {
	local dir=$1 rel=$2 tmp pkgs mk

	tmp=$(mktemp -d)
	mapfile -t pkgs < <(apt-cache depends "linux-headers-$rel" |
		sed -n 's/^ *|\{0,1\}Depends: \(linux-\(headers\|kbuild\)-[^ <]*\)$/\1/p')
	download "$tmp" "linux-headers-$rel" "${pkgs[@]}"
	rm -rf "${dir:?}/$rel/headers"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$dir/$rel/headers"
	done
	rm -rf "$tmp"
	mk=$(kdir "$dir" "$rel")/Makefile
	sed -i "s|^include /usr/src/|include $dir/$rel/headers/usr/src/|" "$mk"
	grep -q "^include $dir/$rel/headers/" "$mk" || {
		echo "kernels.sh: unexpected $mk" >&2
		return 1
	}
	touch "$dir/$rel/.headers-done"
}

fetch() {
	local dir rel=$2 tmp

	mkdir -p "$1"
	dir=$(cd "$1" && pwd)
	if [ ! -f "$dir/$rel/.done" ]; then
		apt_ready
		tmp=$(mktemp -d)
		download "$tmp" "linux-image-$rel"
		rm -rf "${dir:?}/$rel"
		mkdir -p "$dir/$rel"
		dpkg-deb -x "$tmp"/linux-image-*.deb "$dir/$rel/root"
		rm -rf "$tmp"
		ln -sf "root/boot/vmlinuz-$rel" "$dir/$rel/vmlinuz"
		# The package's postinst would run depmod; modprobe in the guest needs it.
		depmod -b "$dir/$rel/root" "$rel"
		touch "$dir/$rel/.done"
	fi
	if [ ! -f "$dir/$rel/.headers-done" ]; then
		apt_ready
		fetch_headers "$dir" "$rel"
	fi
}

case "${1:-}" in
list)	list ;;
fetch)	fetch "$2" "$3" ;;
kdir)	kdir "$(cd "$2" && pwd)" "$3" ;;
*)	echo "usage: $0 list | fetch DIR RELEASE | kdir DIR RELEASE" >&2; exit 2 ;;
esac
