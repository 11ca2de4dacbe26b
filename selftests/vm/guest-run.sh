#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-run.sh TIMEOUT TEST...: run selftests one after another inside the
# VM.  Each test's stretch of the kernel log is framed by markers written
# to /dev/kmsg, so the host can blame a kernel report on the test that
# caused it; its output is kept in the results share; a line
# "RESULT <test> <exit code>" ends it.  A test that needs longer than
# TIMEOUT seconds says so in a line "# timeout: SECONDS".

tmo=$1
shift
for t in "$@"; do
	name=$(basename "$t")
	echo "iptap-selftest: begin $name" >/dev/kmsg
	echo "# running $name"
	own=$(sed -n 's/^# timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -n1)
	start=$(date +%s)
	timeout -s KILL "${own:-$tmo}" "$t" >"$IPTAP_RESULTS/$name.log" 2>&1 </dev/null
	rc=$?
	echo "# $name took $(( $(date +%s) - start ))s"
	sed 's/^/#   /' "$IPTAP_RESULTS/$name.log"
	# Leave the next test a clean machine.
	ip -all netns delete 2>/dev/null
	for dev in $(ls /sys/class/net); do
		[ -d "/sys/class/net/$dev/iptap" ] && ip link del "$dev" 2>/dev/null
	done
	rmmod iptap 2>/dev/null
	echo "iptap-selftest: end $name" >/dev/kmsg
	echo "RESULT $name $rc"
done
