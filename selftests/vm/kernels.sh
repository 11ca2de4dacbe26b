#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel matrix: Debian's newest 6.1 (what linux-image-amd64 depends
# on) and newest 6.12 (linux-image-6.12.*+deb12-amd64).  Package names are
# resolved from the package index at run time: ABI numbers change.
#
#   kernels.sh list            print the releases, one a line
#   kernels.sh fetch DIR REL   extract REL's image and modules into DIR/REL
#                              and install its linux-headers package

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

fetch() {
	local dir=$1 rel=$2 tmp

	if [ ! -f "/lib/modules/$rel/build/Makefile" ]; then
		apt_ready
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "linux-headers-$rel" >&2
	fi
	[ -f "$dir/$rel/.done" ] && return 0

	apt_ready
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "linux-image-$rel" >&2)
	rm -rf "${dir:?}/$rel"
	mkdir -p "$dir/$rel"
	dpkg-deb -x "$tmp"/linux-image-*.deb "$dir/$rel/root"
	ln -sf "root/boot/vmlinuz-$rel" "$dir/$rel/vmlinuz"
	# The package's postinst would run depmod; modprobe in the guest needs it.
	depmod -b "$dir/$rel/root" "$rel"
	touch "$dir/$rel/.done"
}

case "${1:-}" in
list)	list ;;
fetch)	fetch "$2" "$3" ;;
*)	echo "usage: $0 list | fetch DIR RELEASE" >&2; exit 2 ;;
esac
