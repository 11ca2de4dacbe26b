#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, from Debian's archive, what building and testing iptap needs.
# Idempotent: installs only what is missing, touches nothing else.

set -euo pipefail

pkgs=(
	build-essential kmod cpio xz-utils busybox-static qemu-system-x86
	iproute2 iputils-ping ethtool nftables tcpdump tshark python3 sparse
	socat debootstrap openssh-client libcap2-bin
	flex bison bc libelf-dev dwarves
	libpcap-dev valgrind pyflakes3
	debhelper dkms dh-dkms lintian man-db openssl
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
fi

# OpenSSH's server, for remote.py in the VM: extracted into build/ssh/,
# never installed (the package would start an SSH server on this machine).
ssh=$(cd "$(dirname "$0")/.." && pwd)/build/ssh
if [ ! -x "$ssh/root/usr/sbin/sshd" ]; then
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root \
		openssh-server)
	rm -rf "$ssh"
	mkdir -p "$ssh"
	dpkg-deb -x "$tmp"/openssh-server_*.deb "$ssh/root"
	rm -rf "$tmp"
fi
