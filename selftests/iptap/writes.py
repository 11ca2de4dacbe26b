#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (the oldest and newest kernels: its code runs in process context, or
# takes the packet path's locks as attribution.py does, which runs on
# every kernel; the version-dependent code (kmod/compat.h) it reaches
# is the same on 6.12 as on one of these or on the debug kernels.)
"""Nothing written to an iptap device reaches its listeners.

A writer with a packet socket on iptap0 sends a forged PKTAP record in
every way the packet layer offers (raw, cooked, qdisc bypass, a virtio
GSO header), and IP is routed through the device.  The listener on the
same device must never see the forgery or any frame that is not a
record; the writes are dropped and counted as tx_dropped.
"""

import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (ETH_P_ALL, Capture, Tap, ip_summary, iptap_add,
                      load_module,
                      netns, sh)

SOL_PACKET = 263
PACKET_VNET_HDR = 15
PACKET_QDISC_BYPASS = 20
ETH_P_IP = 0x0800

t = Tap()
load_module()
sh("ip netns add w")
sh("ip -n w link set lo up")
iptap_add(ns="w")

forged = bytearray(160 + 28)
struct.pack_into("<III", forged, 0, 156, 1, 0)
forged[12:17] = b"eth0\0"
struct.pack_into("<II", forged, 36, 1, 2)
struct.pack_into("<i", forged, 52, 4242)
forged[56:63] = b"forged\0"
struct.pack_into("<I", forged, 156, 2)
forged[160:] = bytes.fromhex("4500001c00000000401100000a0000010a000002"
                             "0035003500080000")
forged = bytes(forged)


def tx_dropped():
    st = json.loads(sh("ip -n w -s -j link show iptap0").stdout)[0]
    return st["stats64"]["tx"]["dropped"]


def writer(sock_type, proto, opts=()):
    with netns("w"):
        s = socket.socket(socket.AF_PACKET, sock_type, socket.htons(proto))
        for level, opt, val in opts:
            s.setsockopt(level, opt, val)
        s.bind(("iptap0", proto))
    return s


def attempt(name, sock, payload, addr=None):
    before = tx_dropped()
    try:
        if addr:
            sock.sendto(payload, addr)
        else:
            sock.send(payload)
        how = "accepted and dropped"
    except OSError as e:
        how = "refused (%s)" % os.strerror(e.errno)
    t.diag("%s: %s" % (name, how))
    return tx_dropped() - before, how


with Capture(ns="w") as cap:
    cases = [
        ("raw packet socket", writer(socket.SOCK_RAW, ETH_P_ALL), forged,
         None),
        ("cooked packet socket", writer(socket.SOCK_DGRAM, ETH_P_IP),
         forged, ("iptap0", ETH_P_IP)),
        ("qdisc bypass", writer(socket.SOCK_RAW, ETH_P_ALL,
                                [(SOL_PACKET, PACKET_QDISC_BYPASS, 1)]),
         forged, None),
        ("virtio GSO header", writer(socket.SOCK_RAW, ETH_P_IP,
                                     [(SOL_PACKET, PACKET_VNET_HDR, 1)]),
         struct.pack("<BBHHHH", 0, 1, 40, 100, 0, 0) + forged, None),
    ]
    for name, sock, payload, addr in cases:
        dropped, how = attempt(name, sock, payload, addr)
        t.ok(how.startswith("refused") or dropped == 1,
             "%s: write refused or dropped and counted" % name,
             "%s, tx_dropped +%d" % (how, dropped))
        sock.close()

    # IP routed through the device: the host's own packet is recorded
    # by the LOCAL_OUT hook (it is real traffic), its frame is not.
    sh("ip -n w addr add 10.9.9.9/24 dev iptap0")
    before = tx_dropped()
    sh("ping -c1 -W1 10.9.9.1", ns="w", check=False)
    t.ok(tx_dropped() > before, "IP sent through the device is dropped")

    recs = cap.read()
    # Tap.done() checks that every frame was a real record.
    t.ok(not any(r and b"forged" in r["raw"] for _, r in recs),
         "the forged record never reached the listener")
    pings = [r for _, r in recs if r and r["ifname"] == "iptap0" and
             r["ipproto"] == 1]
    # ping sends again when the device answers ENOBUFS: each is recorded.
    t.ok(pings and all((r["flags"], ip_summary(r)[:2]) ==
                       (2, ("10.9.9.9", "10.9.9.1")) for r in pings),
         "the ping routed via iptap0 is recorded as sent",
         [(r["flags"], ip_summary(r)) for r in pings])

t.done()
