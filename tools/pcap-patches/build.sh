#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh: build Debian's libpcap and tcpdump with the patches of
# tools/pcap-patches/ into build/pcap/:
#
#   build/pcap/src/            Debian's source packages (apt-get source)
#   build/pcap/libpcap/        libpcap: Debian's tree + our patches, built
#   build/pcap/tcpdump/        tcpdump: the same
#   build/pcap/root/           install prefix: bin/tcpdump, lib/libpcap.a,
#                              include/, share/man/
#
# tcpdump is linked with the patched libpcap statically (only libpcap.a
# is built), so it never uses the system's libpcap, which stays as it is.
#
# The sources come from Debian's archive through a private apt
# configuration (tools/debsrc.sh).  The versions are those of the
# installed binary packages (libpcap0.8, tcpdump), or of the candidates
# when none is installed.  A tree is extracted and patched again whenever the patch
# set or the source version changes; otherwise the build is incremental.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/build/pcap
apt=$root/build/apt
src=$out/src
prefix=$out/root
jobs=${JOBS:-$(nproc)}

log() { echo "pcap-tools: $*" >&2; }

# shellcheck source=tools/debsrc.sh
. "$root/tools/debsrc.sh"

deps() {
	local pkgs=(build-essential dpkg-dev bison flex libssl-dev) missing=() p
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return
	log "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
}

# prepare NAME DSC: extract the source package into build/pcap/NAME
# (dpkg-source applies Debian's quilt patches), then apply ours, unless
# the tree there already has this version, patch set, flags and script
# (configured() records it once the tree is configured).  Returns 1 when it did
# nothing; exits on errors (set -e does not apply inside "if").
prepare() {
	local name=$1 dsc=$2 tree=$out/$1 sum
	sum=$( (basename "$dsc"; cat "$here/$name"/*.patch "$0"
		[ "$name" != tcpdump ] || cat "$here"/tcpdump-tests/*.py
		echo "$flags") |
		sha256sum | cut -d' ' -f1)
	if [ -f "$tree/.pcap-patches" ] && [ "$(cat "$tree/.pcap-patches")" = "$sum" ]; then
		return 1
	fi
	log "extracting $(basename "$dsc") into $tree"
	rm -rf "$tree"
	dpkg-source --no-check -q -x "$dsc" "$tree" >/dev/null || exit 1
	local p
	for p in "$here/$name"/*.patch; do
		log "applying $name/$(basename "$p")"
		patch -d "$tree" -p1 -s --no-backup-if-mismatch <"$p" || exit 1
	done
	echo "$sum" >"$tree/.pcap-patches.new" || exit 1
	return 0
}

configured() {
	mv "$out/$1/.pcap-patches.new" "$out/$1/.pcap-patches"
}

deps
mkdir -p "$out"

# Debian's build flags, hardening included, as Debian builds both.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
CFLAGS=$(dpkg-buildflags --get CFLAGS)
CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS)
LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
flags="$CFLAGS $CPPFLAGS $LDFLAGS"
start=$(date +%s)

pcap_dsc=$(fetch libpcap "$(version libpcap libpcap0.8)")
tcpdump_dsc=$(fetch tcpdump "$(version tcpdump tcpdump)")
[ -f "$pcap_dsc" ] && [ -f "$tcpdump_dsc" ] || exit 1

if prepare libpcap "$pcap_dsc"; then
	log "configuring libpcap"
	# Only a static library, and none of the optional capture modules
	# that would need more libraries linked into tcpdump.
	(cd "$out/libpcap" && CFLAGS="$CFLAGS" CPPFLAGS="$CPPFLAGS" \
		LDFLAGS="$LDFLAGS" ./configure -q --prefix="$prefix" \
		--disable-shared --enable-ipv6 --disable-dbus \
		--disable-bluetooth --disable-rdma --without-libnl \
		--disable-netmap --without-dpdk >/dev/null)
	configured libpcap
	rm -f "$out/tcpdump/.pcap-patches"	# relink tcpdump
fi
log "building libpcap"
make -s -C "$out/libpcap" -j"$jobs" >/dev/null
# The prefix is private: a DESTDIR of "make install" is not for it.
make -s -C "$out/libpcap" install DESTDIR= >/dev/null

if prepare tcpdump "$tcpdump_dsc"; then
	# The input of patch 0006's tests: binary, so not in a patch.
	python3 "$here/tcpdump-tests/iptap-pktap.py" \
		>"$out/tcpdump/tests/iptap-pktap.pcap"
	log "configuring tcpdump"
	# As Debian's own build (debian/rules), against the libpcap above:
	# configure still reads the system's libpcap.pc when libpcap-dev is
	# installed (its .pc would add an rpath to the build tree), so the
	# libpcap above comes first by hand: its headers (not
	# /usr/include/pcap) and its directory, which holds only libpcap.a.
	(cd "$out/tcpdump" && PATH="$prefix/bin:$PATH" \
		LDFLAGS="-L$prefix/lib $LDFLAGS" \
		CPPFLAGS="-I$prefix/include $CPPFLAGS" \
		CFLAGS="$CFLAGS -D_FILE_OFFSET_BITS=64" ./configure -q \
		--prefix="$prefix" --disable-local-libpcap \
		--with-crypto=yes --with-user=tcpdump >/dev/null)
	configured tcpdump
fi
log "building tcpdump"
make -s -C "$out/tcpdump" -j"$jobs" >/dev/null
make -s -C "$out/tcpdump" install DESTDIR= >/dev/null

if ldd "$prefix/bin/tcpdump" | grep -q libpcap; then
	echo "pcap-tools: $prefix/bin/tcpdump links a shared libpcap" >&2
	exit 1
fi
log "built $prefix/bin/tcpdump ($("$prefix/bin/tcpdump" --version 2>&1 |
	sed -n 's/^libpcap version //p' | head -n1)) in $(( $(date +%s) - start )) s"
