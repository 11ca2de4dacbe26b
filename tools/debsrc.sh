# SPDX-License-Identifier: GPL-2.0
#
# debsrc.sh: Debian source packages for the tools' builds, sourced by
# tools/pcap-patches/build.sh and tools/ip-iptap/build.sh.
#
# The sources come from Debian's archive through a private apt
# configuration (build/apt/): the system's own sources and package lists
# are not touched.  The callers set $apt (the configuration's directory),
# $src (where source packages are downloaded) and define log().

# apt-get with a private configuration: deb-src entries for the suites
# the system's own sources use, lists and cache under build/apt/.
papt() {
	apt-get -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$apt/sources.list.d" \
		-o Dir::State::Lists="$apt/lists" \
		-o Dir::Cache="$apt/cache" \
		-o APT::Sandbox::User=root "$@"
}

apt_setup() {
	mkdir -p "$apt/sources.list.d" "$apt/lists/partial" \
		"$apt/cache/archives/partial"
	local list=$apt/sources.list.d/debian-src.list
	# The archive and suites the system's Debian sources name.
	local lines
	# shellcheck disable=SC2016 # apt's own $(...) placeholders
	lines=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' \
			'Created-By: Packages' 2>/dev/null |
		grep -E '://[^ ]*debian' | sort -u |
		awk '{ print "deb-src " $1 " " $2 " main" }')
	[ -n "$lines" ] || lines="deb-src http://deb.debian.org/debian bookworm main"
	if [ ! -f "$list" ] || [ "$(cat "$list")" != "$lines" ]; then
		echo "$lines" >"$list"
		rm -f "$apt/updated"
	fi
	if [ ! -f "$apt/updated" ]; then
		log "apt-get update (private source lists in $apt)"
		papt -qq update
		touch "$apt/updated"
	fi
}

# version SOURCE BINARY: the version of BINARY installed, else its candidate
version() {
	local v
	v=$(dpkg-query -W -f='${Version}' "$2" 2>/dev/null || true)
	[ -n "$v" ] || v=$(apt-cache policy "$2" | sed -n 's/^ *Candidate: //p')
	echo "$v"
}

# fetch SOURCE VERSION: the .dsc file of the source package, downloaded
# once into $src.
fetch() {
	local dsc=$src/${1}_${2#*:}.dsc
	if [ ! -f "$dsc" ]; then
		apt_setup
		mkdir -p "$src"
		log "apt-get source --download-only $1=$2"
		(cd "$src" && papt -qq source --download-only "$1=$2") >&2
	fi
	echo "$dsc"
}
