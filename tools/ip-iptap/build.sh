#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh: build link_iptap.so, the "type iptap" options of ip(8), into
# build/ip/link_iptap.so ("make ip-plugin").
#
# ip finds a link kind's options in link_KIND.so in its library directory
# (/usr/lib/<multiarch>/ip on Debian, or $IP_LIB_DIR) and calls into it
# through struct link_util, which is internal to iproute2.  So the plugin
# is compiled against the headers of Debian's iproute2 source package of
# the installed version (fetched by tools/debsrc.sh into build/ip/src/,
# extracted into build/ip/iproute2/); the Debian package that ships it
# depends on that upstream version, which is written to
# build/ip/link_iptap.so.iproute2.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/build/ip
apt=$root/build/apt
src=$out/src

log() { echo "ip-plugin: $*" >&2; }

# shellcheck source=tools/debsrc.sh
. "$root/tools/debsrc.sh"

ver=$(version iproute2 iproute2)
dsc=$(fetch iproute2 "$ver")
tree=$out/iproute2
if [ "$(cat "$tree/.version" 2>/dev/null)" != "$ver" ]; then
	log "extracting $(basename "$dsc") into $tree"
	rm -rf "$tree"
	dpkg-source --no-check -q -x "$dsc" "$tree" >/dev/null
	echo "$ver" >"$tree/.version"
fi

export DEB_BUILD_MAINT_OPTIONS=hardening=+all
# shellcheck disable=SC2046 # lists of flags
${CC:-cc} $(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CFLAGS) \
	-Wall -Wextra -Werror -fPIC -shared \
	-I"$tree/include" -I"$tree/ip" -I"$tree/include/uapi" \
	-I"$root/include/uapi" $(dpkg-buildflags --get LDFLAGS) \
	-o "$out/link_iptap.so.new" "$here/link_iptap.c"

# Every symbol the plugin takes from ip must be one ip exports.
ip=$(command -v ip || echo /usr/bin/ip)
missing=$(comm -23 \
	<(nm -D --undefined-only "$out/link_iptap.so.new" |
		awk '$1 == "U" { sub(/@.*/, "", $2); print $2 }' | sort -u) \
	<( (nm -D --defined-only "$ip"; nm -D --defined-only \
		"$(ldd "$ip" | awk '/libc\.so/ { print $3 }')") |
		awk '{ sub(/@.*/, "", $3); print $3 }' | sort -u))
if [ -n "$missing" ]; then
	log "$ip does not export: $missing"
	exit 1
fi
mv "$out/link_iptap.so.new" "$out/link_iptap.so"
# What the Debian package depends on (packaging/debian/rules).
echo "$ver" >"$out/link_iptap.so.iproute2"
log "built $out/link_iptap.so against iproute2 $ver"
