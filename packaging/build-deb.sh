#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-deb.sh: "make deb".  Builds the Debian packages iptap-dkms and
# iptap-tools into build/deb/ with dpkg-buildpackage (binary packages
# only), then runs lintian on them.
#
# The package tree, build/deb/iptap-VERSION/, holds the project's files
# the packages need and packaging/debian/ as debian/.  The patched
# tcpdump is built first by tools/pcap-patches/build.sh (make pcap-tools)
# and found by debian/rules through IPTAP_PCAP_ROOT; ip's plugin is
# built by tools/ip-iptap/build.sh (make ip-plugin) and found through
# IPTAP_IP_PLUGIN.  The Makefile passes VERSION, the module's
# (IPTAP_VERSION in kmod/iptap.h), which debian/changelog must agree
# with, and SOURCES, the module's files.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=$root/build/deb

version=${VERSION:?run by make deb}
changelog=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
if [ -z "$version" ] || [ "${changelog%%-*}" != "$version" ]; then
	echo "deb: module version '$version', debian/changelog '$changelog'" >&2
	exit 1
fi

rm -rf "$out"
tree=$out/iptap-$version
mkdir -p "$tree"
cd "$root"
# shellcheck disable=SC2086 # a list of files
cp -p --parents ${SOURCES:?run by make deb} LICENSE README.md \
	man/iptap.4 man/iptapdump.8 \
	tools/iptapdump/Makefile tools/iptapdump/*.c tools/iptapdump/*.h \
	"$tree/"
cp -a "$here/debian" "$tree/debian"
cp -p "$here/dkms.conf" "$tree/debian/iptap-dkms.dkms"

cd "$tree"
IPTAP_PCAP_ROOT=$root/build/pcap/root \
	IPTAP_IP_PLUGIN=$root/build/ip/link_iptap.so \
	dpkg-buildpackage -b --no-sign >"$out/build.log" 2>&1 || {
	tail -30 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
}
cd "$out"
ls -1 ./*.deb
lintian --info --display-info ./*.changes | tee "$out/lintian.log"
if grep -q '^[EW]: ' "$out/lintian.log"; then
	echo "deb: lintian reports errors or warnings ($out/lintian.log)" >&2
	exit 1
fi
