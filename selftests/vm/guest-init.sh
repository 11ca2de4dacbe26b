#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Second stage of the test VM, on the overlay of the host's root: set up
# a minimal system, run the command the host left in the results share
# with its output on the second serial port, record its exit code and
# power off.  The kernel log goes to the first serial port.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# What udev makes on a real system: bash's <(...) needs /dev/fd (DKMS).
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
# /tmp stays the overlay's (writable, in memory): the project may live there.
mount -t tmpfs tmpfs /run
mkdir -p /run/netns
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
hostname iptap-vm
ip link set lo up

stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec >/dev/ttyS1 2>&1 </dev/null

export IPTAP_RESULTS=/iptap-results
if ! cd "$IPTAP_ROOT"; then
	echo "guest-init: no $IPTAP_ROOT in the guest" >/dev/ttyS0
	poweroff -f
fi
sh "$IPTAP_RESULTS/cmd"
echo $? >"$IPTAP_RESULTS/exit-code"
sync
poweroff -f
