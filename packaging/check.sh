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

rel=$("$root/selftests/vm/kernels.sh" list | head -n1)
kdir=$("$root/selftests/vm/kernels.sh" kdir "$root/build/kernels" "$rel")

# DKMS adds, builds, signs and installs the module of iptap-dkms for the
# first kernel of the matrix (Debian 12's default), then removes it, as
# on a host with that kernel's headers: the host's dkms (Debian 12's,
# which make deps installs for dh-dkms), natively, with every tree it
# writes in a scratch folder (--dkmstree, --sourcetree, --installtree,
# the signing key).  selftests/iptap/packages.py installs the packages in
# the VM, where one DKMS build took 9 to 15 minutes of an emulated CPU.
scratch=$(mktemp -d)
dpkg-deb -x "$deb/iptap-dkms_${version}_all.deb" "$scratch/pkg"
mkdir -p "$scratch/modules/$rel"
dkms() {
	mok_signing_key=$scratch/mok.key mok_certificate=$scratch/mok.pub \
	sign_file=$root/build/kernels/$rel/headers/usr/lib/linux-kbuild-${rel%.*}/scripts/sign-file \
		command dkms "$@" --kernelsourcedir "$kdir" \
		--sourcetree "$scratch/pkg/usr/src" --dkmstree "$scratch/tree" \
		--installtree "$scratch/modules" --no-depmod
}
out=$(dkms install -m iptap -v "$version" -k "$rel" 2>&1)
ok $? "Debian 12's dkms install -m iptap -v $version -k $rel" "$out"
ko=$scratch/modules/$rel/updates/dkms/iptap.ko
info=$(modinfo -F vermagic "$ko" 2>&1; modinfo -F signer "$ko" 2>&1)
[[ $info == "$rel "*$'\n'"DKMS module signing key" ]]
ok $? "it built updates/dkms/iptap.ko for $rel and signed it with DKMS's key" "$info"
out=$(dkms status -m iptap 2>&1)
[ "$out" = "iptap/$version, $rel, x86_64: installed" ]
ok $? "dkms status: installed for $rel" "$out"
out=$(dkms remove -m iptap -v "$version" --all 2>&1)
left=$(find "$scratch/modules" "$scratch/tree" -type f 2>&1)
[ -z "$left" ]
ok $? "dkms remove --all leaves no module and no DKMS state" "$out $left"
rm -rf "$scratch"

# make install: WERROR=1 as "make matrix" built the module, so that it is
# not compiled again.
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
