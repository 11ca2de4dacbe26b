#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kmemleak.sh: the last test of "make check-debug", in the guest, after
# every other test has run and the module has been removed: a kmemleak
# scan must find no unreferenced object.  The objects it lists are
# printed with the stack that allocated them.

kl=/sys/kernel/debug/kmemleak
echo "TAP version 13"
if [ ! -w "$kl" ]; then
	echo "not ok 1 $kl is missing: not a kmemleak kernel, or kmemleak disabled itself"
	echo "1..1"
	exit 1
fi
# An object is reported only once it is older than 5 s and a scan has
# found it unreferenced; a second scan after a pause lets objects that
# were still in flight (RCU callbacks, deferred frees) settle.
echo scan >"$kl"
sleep 6
echo scan >"$kl"
leaks=$(cat "$kl")
if [ -z "$leaks" ]; then
	echo "ok 1 kmemleak finds no leak"
	echo "1..1"
	exit 0
fi
echo "not ok 1 kmemleak finds $(echo "$leaks" | grep -c '^unreferenced object') leaked objects"
echo "$leaks" | sed 's/^/#   /'
echo "1..1"
exit 1
