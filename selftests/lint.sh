#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh: the module's static checks, as tests.  For every kernel of the
# matrix: a W=1 build with -Werror and a sparse run (make C=2) that must
# report no warning; once: checkpatch.pl --strict on every kernel source file.
# checkpatch.pl comes from Debian's linux-source-6.12 tarball, cached in
# build/tools/.  And pyflakes on the Python tests.  Ends with "lint: N passed, N failed".

set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
pass=0 fail=0

result() {
	if [ "$1" -eq 0 ]; then
		pass=$((pass + 1))
		echo "ok - $2"
	else
		fail=$((fail + 1))
		echo "not ok - $2"
		sed 's/^/#   /' "$3" | head -n 30
	fi
}

checkpatch_script() {
	local dir=$build/tools/checkpatch tmp

	if [ ! -x "$dir/checkpatch.pl" ]; then
		tmp=$(mktemp -d)
		(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root \
			linux-source-6.12) >&2 || return 1
		mkdir -p "$dir"
		dpkg-deb --fsys-tarfile "$tmp"/linux-source-6.12_*.deb |
			tar -xO ./usr/src/linux-source-6.12.tar.xz | xz -dc |
			tar -x -C "$dir" --strip-components=2 --wildcards \
				'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
				'*/scripts/const_structs.checkpatch'
		rm -rf "$tmp"
	fi
	echo "$dir/checkpatch.pl"
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

kernels=$root/selftests/vm/kernels.sh
for rel in $("$kernels" list); do
	kdir=$("$kernels" kdir "$build/kernels" "$rel")
	kroot=$("$kernels" root "$build/kernels" "$rel")
	# Sid's kernels build in their build root (sparse is there too).
	krun=()
	[ -n "$kroot" ] && krun=("$kernels" run "$kroot")
	# A clean rebuild, so that every file is compiled and checked: by
	# the compiler with W=1 and warnings as errors, and by sparse (C=2)
	# in the same pass.
	"${krun[@]}" make -s -C "${kdir#"$kroot"}" M="$build/$rel" clean >/dev/null 2>&1
	make --no-print-directory -s -C "$root" module KDIR="$kdir" \
		KROOT="$kroot" WERROR=1 C=2 CHECK=sparse >"$log" 2>&1
	rc=$?
	result $rc "[$rel] W=1 build without a warning" "$log"
	# Kbuild skips sparse, with a warning only, when it finds it unfit
	# (see kernels.sh, checker_valid): that is a failure too.
	[ $rc -eq 0 ] && grep -qE 'warning|error|not available or not up to date' "$log" && rc=1
	result $rc "[$rel] sparse reports nothing" "$log"
done

if cp=$(checkpatch_script); then
	cd "$root" || exit 1
	# compat.h holds the version tests no macro can replace, and a
	# macro that defines a wrapper only for the kernels that need it.
	{ perl "$cp" --strict --no-tree --quiet --show-types -f \
		kmod/*.c kmod/iptap.h include/uapi/linux/iptap.h &&
	  perl "$cp" --strict --no-tree --quiet --show-types \
		--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON,MACRO_ARG_UNUSED \
		-f kmod/compat.h
	} >"$log" 2>&1
	result $? "checkpatch.pl --strict" "$log"
else
	echo "cannot fetch checkpatch.pl" >"$log"
	result 1 "checkpatch.pl --strict" "$log"
fi

cd "$root" || exit 1
pyflakes3 selftests/iptap/*.py selftests/lib/*.py >"$log" 2>&1
result $? "pyflakes: the Python tests are clean" "$log"

echo "lint: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
