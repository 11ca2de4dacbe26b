#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (the oldest and newest kernels: its code runs in process context, or
# takes the packet path's locks as attribution.py does, which runs on
# every kernel; the version-dependent code (kmod/compat.h) it reaches
# is the same on 6.12 as on one of these or on the debug kernels.)
"""Records reach only sockets bound to an iptap device.

A socket bound to no device (what "tcpdump -i any" opens) or to another
device must not receive iptap's records, so it does not see every packet
twice; it sees the real traffic as before.
"""

import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import ETH_P_ALL, Capture, Tap, iptap_add, load_module, netns, sh

t = Tap()
load_module()
sh("ip netns add n")
sh("ip -n n link set lo up")
iptap_add(ns="n")

with netns("n"):
    anysock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                            socket.htons(ETH_P_ALL))
    anysock.settimeout(0.5)
with Capture(ns="n") as cap, Capture("lo", ns="n", iptap=False) as lo:
    sh("ping -c3 -i0.1 -W1 127.0.0.1", ns="n")
    recs = cap.read()
    lo_frames = lo.read()
    any_frames = []
    try:
        while True:
            data, addr = anysock.recvfrom(65536)
            any_frames.append((addr[0], data))
    except socket.timeout:
        pass
anysock.close()

t.eq(len(recs), 12, "the iptap listener gets 12 records for 3 pings")
t.eq(sorted(set(name for name, _ in any_frames)), ["lo"],
     "an unbound ETH_P_ALL socket sees only lo, never iptap0")
t.eq(len(any_frames), 12, "it sees each loopback frame once")
t.ok(lo_frames and not any(f[14:18] == b"\x9c\0\0\0" or
                          f[:4] == b"\x9c\0\0\0" for _, f in lo_frames),
     "a socket on lo sees frames, but no record")
# And "tcpdump -i any" agrees.
r = sh("timeout 5 tcpdump -i any -nn -c 100 -w /tmp/any.pcap & sleep 2; "
       "ping -c2 -i0.1 -W1 127.0.0.1 >/dev/null; sleep 1; kill %1; wait; "
       "tcpdump -nn -r /tmp/any.pcap -e", ns="n", check=False)
lines = [l for l in r.stdout.splitlines() if "ICMP" in l]
# libpcap shows loopback frames once, as received.
t.ok(len(lines) == 4 and all(" lo " in l for l in lines),
     "tcpdump -i any shows the 4 loopback packets, all on lo",
     r.stdout + r.stderr)
t.done()
