#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel matrix, resolved from the package indexes at run time (ABI
# numbers and sid's version change; nothing here names one):
#   - Debian 12's default, the newest 6.1 (what linux-image-amd64 depends on)
#   - the newest 6.12 of Debian 12 (linux-image-6.12.*+deb12-amd64)
#   - its PREEMPT_RT flavour (linux-image-6.12.*+deb12-rt-amd64)
#   - the newest kernel of Debian sid (what sid's linux-image-amd64 depends on)
#
#   kernels.sh list              print the releases, one a line
#   kernels.sh fetch DIR REL     extract REL's image and modules into DIR/REL
#                                and make its headers ready (see below)
#   kernels.sh kdir DIR REL      print the headers' build folder (KDIR)
#   kernels.sh root DIR REL      print the build root REL's modules are built
#                                in, or nothing when they build on the host
#   kernels.sh run ROOT CMD...   run CMD inside build root ROOT, from the
#                                current folder (the project is seen at the
#                                same path inside)
#
# Nothing is installed on the host.  Kernels and bookworm's headers are
# downloaded and extracted with dpkg-deb (every linux-headers package of
# bookworm depends on its kernel image, and installing one writes to /boot
# and changes what the machine boots next).  Sid comes through a private
# apt configuration (DIR/apt-sid/), the system's sources untouched.  Sid's
# headers need sid's compiler and libraries: they are installed with that
# compiler in a Debian sid build root made by debootstrap, DIR/sid-root/,
# and sid's modules are built inside it.

set -euo pipefail

# Sid's package index, through the private apt configuration in $sidapt.
sidapt=""

sid_apt_opts() {
	echo -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$sidapt/sources.list.d" \
		-o Dir::State::Lists="$sidapt/lists" \
		-o Dir::Cache="$sidapt/cache"
}

# The Debian archive the system's own sources use.
mirror() {
	local uri

	# shellcheck disable=SC2016 # apt's own $(...) placeholder
	uri=$(apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' \
		2>/dev/null | grep -E '://[^ ]*debian/?$' | sort -u | head -n1)
	echo "${uri:-http://deb.debian.org/debian/}"
}

sid_ready() {
	local dir=$1

	sidapt=$dir/apt-sid
	[ -f "$sidapt/updated" ] &&
		[ -n "$(find "$sidapt/updated" -mmin -720)" ] && return
	mkdir -p "$sidapt/sources.list.d" "$sidapt/lists/partial" \
		"$sidapt/cache/archives/partial"
	echo "deb $(mirror) sid main" >"$sidapt/sources.list.d/sid.list"
	# shellcheck disable=SC2046 # a list of options
	apt-get -qq $(sid_apt_opts) -o APT::Sandbox::User=root update >&2
	touch "$sidapt/updated"
}

sid_cache() {
	# shellcheck disable=SC2046 # a list of options
	apt-cache $(sid_apt_opts) "$@"
}

apt_ready() {
	# apt-cache finds nothing until the lists exist.
	if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
		apt-get update -qq >&2
	fi
}

newest() {
	sed -n "s/^linux-image-\($1\)$/\1/p" | sort -V | tail -n1
}

list() {
	local dir=$1 r61 r612 rt sid

	apt_ready
	r61=$(apt-cache depends linux-image-amd64 |
	      sed -n 's/^ *Depends: linux-image-\(6\.1\.[^ ]*-amd64\)$/\1/p' | head -n1)
	r612=$(apt-cache pkgnames linux-image-6.12. | newest '6\.12\.[0-9]*+deb12-amd64')
	rt=$(apt-cache pkgnames linux-image-6.12. | newest '6\.12\.[0-9]*+deb12-rt-amd64')
	sid_ready "$dir"
	sid=$(sid_cache depends linux-image-amd64 |
	      sed -n 's/^ *Depends: linux-image-\([^ ]*-amd64\)$/\1/p' | head -n1)
	if [ -z "$r61" ] || [ -z "$r612" ] || [ -z "$rt" ] || [ -z "$sid" ]; then
		echo "kernels.sh: cannot resolve the kernel matrix from the package indexes" >&2
		exit 1
	fi
	printf '%s\n' "$r61" "$r612" "$rt" "$sid"
}

# Is REL a kernel of the system's suite (else: of sid)?
bookworm() {
	apt_ready
	apt-cache show "linux-image-$1" >/dev/null 2>&1
}

download() {
	local dir=$1

	shift
	if [ -n "$sidapt" ]; then
		# shellcheck disable=SC2046 # a list of options
		(cd "$dir" && apt-get download -qq $(sid_apt_opts) \
			-o APT::Sandbox::User=root "$@" >&2)
	else
		(cd "$dir" && apt-get download -qq -o APT::Sandbox::User=root "$@" >&2)
	fi
}

sid_root() {
	echo "$1/sid-root"
}

kdir() {
	if bookworm "$2"; then
		echo "$1/$2/headers/usr/src/linux-headers-$2"
	else
		echo "$(sid_root "$1")/usr/src/linux-headers-$2"
	fi
}

# The Debian packages REL's image consists of: sid splits the kernel
# (linux-binary-REL), its modules (linux-modules-REL) and their lists
# (linux-base-REL) out of it.
image_packages() {
	local rel=$1

	echo "linux-image-$rel"
	if [ -n "$sidapt" ]; then
		sid_cache depends "linux-image-$rel"
	else
		apt-cache depends "linux-image-$rel"
	fi | sed -n "s/^ *Depends: \(linux-\(binary\|modules\|base\)-$rel\)$/\1/p"
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
	checker_valid "$(sed -n 's|^include \(.*\)/Makefile$|\1|p' "$mk" | head -n1)"
}

# apt-get inside build root ROOT, with the host's view of an archive whose
# Release files are past their validity (a snapshot mirror).
root_apt() {
	local root=$1 valid=true

	shift
	eval "$(apt-config shell valid Acquire::Check-Valid-Until)"
	DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -qq \
		-o Acquire::Check-Valid-Until="${valid:-true}" \
		-o Dpkg::Use-Pty=0 "$@"
}

# Sid's headers, installed with their compiler in the sid build root
# (created on first use), with sparse for lint.sh and tshark (the newest
# Wireshark, for iptapdump's tests of its pcapng files).
sid_headers() {
	local dir=$1 rel=$2 root

	root=$(sid_root "$dir")
	if [ ! -f "$root/.done" ]; then
		command -v debootstrap >/dev/null || {
			echo "kernels.sh: debootstrap is missing (make deps)" >&2
			return 1
		}
		rm -rf "$root"
		echo "kernels.sh: making the Debian sid build root $root" >&2
		debootstrap --variant=minbase --include=make,sparse sid "$root" \
			"$(mirror)" >"$dir/sid-root.log" 2>&1 || {
			echo "kernels.sh: debootstrap failed, see $dir/sid-root.log" >&2
			return 1
		}
		touch "$root/.done"
	fi
	root_apt "$root" update
	root_apt "$root" install --no-install-recommends "linux-headers-$rel" \
		tshark >>"$dir/sid-root.log"
	checker_valid "$root/usr/src/linux-headers-${rel%-*}-common"
}

# The Makefile of newer kernels runs scripts/checker-valid.sh before it
# lets sparse check anything (C=1, C=2), and without a word but a warning
# checks nothing when it is missing, as in Debian's headers packages.
# Ours says the same as the kernel's: 1 when the checker parses
# __typeof_unqual__ (which these kernels' headers use) with nothing on
# stderr, sparse exiting 0 even on errors.
checker_valid() {
	local src=$1 script=$1/scripts/checker-valid.sh

	grep -q 'scripts/checker-valid.sh' "$src/Makefile" 2>/dev/null || return 0
	[ -e "$script" ] && return 0
	cat >"$script" <<'SCRIPT'
#!/bin/sh
# Written by iptap's selftests/vm/kernels.sh: Debian's headers lack it.
f=$(mktemp --suffix=.c) || exit 0
echo 'static int x; static __typeof_unqual__(x) y;' >"$f"
err=$("$@" "$f" 2>&1 >/dev/null)
rm -f "$f"
[ -z "$err" ] && echo 1
SCRIPT
	chmod +x "$script"
}

fetch() {
	local dir rel=$2 tmp

	mkdir -p "$1"
	dir=$(cd "$1" && pwd)
	bookworm "$rel" || sid_ready "$dir"
	if [ ! -f "$dir/$rel/.done" ]; then
		tmp=$(mktemp -d)
		# shellcheck disable=SC2046 # a list of packages
		download "$tmp" $(image_packages "$rel")
		rm -rf "${dir:?}/$rel"
		mkdir -p "$dir/$rel"
		for deb in "$tmp"/*.deb; do
			dpkg-deb -x "$deb" "$dir/$rel/root"
		done
		rm -rf "$tmp"
		# Sid's modules (and kernel) are in /usr/lib/modules; the
		# guest mounts lib/modules.
		if [ -d "$dir/$rel/root/usr/lib/modules" ]; then
			mkdir -p "$dir/$rel/root/lib"
			mv "$dir/$rel/root/usr/lib/modules" "$dir/$rel/root/lib/"
		fi
		if [ -f "$dir/$rel/root/boot/vmlinuz-$rel" ]; then
			ln -sf "root/boot/vmlinuz-$rel" "$dir/$rel/vmlinuz"
		else
			ln -sf "root/lib/modules/$rel/vmlinuz" "$dir/$rel/vmlinuz"
		fi
		# Modules uncompressed (Debian's 6.12 and sid's are xz): every
		# depmod in the guest (DKMS, the tests that install iptap)
		# would otherwise unpack 4,000 modules on an emulated CPU, a
		# minute or more each; uncompressed it reads them in seconds.
		find "$dir/$rel/root/lib/modules/$rel" -name '*.ko.xz' -print0 |
			xargs -0 -r -P "$(nproc)" -n 200 xz -d
		# The package's postinst would run depmod; modprobe in the guest needs it.
		depmod -b "$dir/$rel/root" "$rel"
		touch "$dir/$rel/.done"
	fi
	if [ ! -f "$dir/$rel/.headers-done" ]; then
		if [ -n "$sidapt" ]; then
			sid_headers "$dir" "$rel"
		else
			fetch_headers "$dir" "$rel"
		fi
		touch "$dir/$rel/.headers-done"
	fi
}

root() {
	bookworm "$2" || sid_root "$1"
}

# A private mount namespace keeps the mounts away from the host: /proc
# (objtool reads it) and the project, bound at its own path.
run() {
	local root=$1 here

	shift
	here=$(pwd)
	unshare --mount --pid --fork --mount-proc="$root/proc" \
		/bin/sh -c 'mkdir -p "$1$2" && mount --bind "$2" "$1$2" &&
			    shift 2 && exec "$@"' sh "$root" "$project" \
		chroot "$root" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh \
		"$here" "$@"
}

project=$(cd "$(dirname "$0")/../.." && pwd)

case "${1:-}" in
list)	list "$project/build/kernels" ;;
fetch)	fetch "$2" "$3" ;;
kdir)	kdir "$(cd "$2" && pwd)" "$3" ;;
root)	root "$(cd "$2" && pwd)" "$3" ;;
run)	shift; run "$@" ;;
*)	echo "usage: $0 list | fetch DIR RELEASE | kdir DIR RELEASE | root DIR RELEASE | run ROOT CMD..." >&2
	exit 2 ;;
esac
