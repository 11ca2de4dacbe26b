#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: the host's checks of the packaging, in "make check" (the
# packages themselves are installed in the VM by selftests/iptap/
# packages.py).  "make deb" has built build/deb/ and lintian found
# nothing; here: each package holds what it must, "make install
# DESTDIR=..." installs the module, the tools and the manual pages, and
# "make uninstall" with the same DESTDIR leaves no file.  Ends with
# "packaging: N passed, N failed".

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
pass=0 fail=0

ok() {
	if [ "$1" = 0 ]; then
		echo "ok - $2"
		pass=$((pass + 1))
	else
		echo "not ok - $2"
		[ -n "${3:-}" ] && sed 's/^/#   /' <<<"$3"
		fail=$((fail + 1))
	fi
}

# contains DEB PATH...: the package holds each PATH.
contains() {
	local deb=$1 list p missing=()
	shift
	list=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|')
	for p in "$@"; do
		grep -qx -- "$p" <<<"$list" || missing+=("$p")
	done
	ok ${#missing[@]} "$(basename "$deb") holds $*" "missing: ${missing[*]}"
}

deb=$root/build/deb
version=$(dpkg-deb -f "$deb"/iptap-dkms_*_all.deb Version)
src=/usr/src/iptap-$version
contains "$deb/iptap-dkms_${version}_all.deb" "$src/dkms.conf" "$src/Kbuild" \
	"$src/kmod/Kbuild" "$src/kmod/main.c" "$src/include/uapi/linux/iptap.h" \
	/usr/share/man/man4/iptap.4.gz
contains "$deb/iptap-tools_${version}_amd64.deb" /usr/bin/tcpdump \
	/usr/sbin/iptapdump /usr/share/man/man8/iptapdump.8.gz \
	/usr/share/man/man8/tcpdump.8.gz \
	/usr/lib/x86_64-linux-gnu/ip/link_iptap.so
conf=$(mktemp -d)
dpkg-deb -x "$deb/iptap-dkms_${version}_all.deb" "$conf"
grep -qx "PACKAGE_VERSION=\"$version\"" "$conf$src/dkms.conf"
ok $? "dkms.conf names version $version"
rm -rf "$conf"

# The first kernel of the matrix: WERROR=1 as "make matrix" built it,
# so that the module is not compiled again.
rel=$("$root/selftests/vm/kernels.sh" list | head -n1)
kdir=$("$root/selftests/vm/kernels.sh" kdir "$root/build/kernels" "$rel")
dest=$(mktemp -d)
out=$(make -C "$root" --no-print-directory install DESTDIR="$dest" \
	KDIR="$kdir" WERROR=1 2>&1)
ok $? "make install DESTDIR=... KDIR=<$rel headers>" "$out"
got=$(cd "$dest" && find . -type f | sort | tr '\n' ' ')
want="./lib/modules/$rel/extra/iptap.ko ./usr/local/sbin/iptapdump ./usr/local/sbin/tcpdump ./usr/local/share/man/man4/iptap.4 ./usr/local/share/man/man8/iptapdump.8 ./usr/local/share/man/man8/tcpdump.8 "
[ "$got" = "$want" ]
ok $? "make install installs the module, the tools and the pages, nothing else" \
	"got: $got"
out=$(make -C "$root" --no-print-directory uninstall DESTDIR="$dest" \
	KDIR="$kdir" 2>&1)
ok $? "make uninstall" "$out"
left=$(find "$dest" -type f)
[ -z "$left" ]
ok $? "make uninstall leaves no file" "$left"
rm -rf "$dest"

echo "packaging: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
