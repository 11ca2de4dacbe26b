#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (the oldest and newest kernels: its code runs in process context, or
# takes the packet path's locks as attribution.py does, which runs on
# every kernel; the version-dependent code (kmod/compat.h) it reaches
# is the same on 6.12 as on one of these or on the debug kernels.)
"""tap_count, total_tap_count, dropped and the device statistics.

tap_count follows the packet sockets bound to a device as they open and
close; net.iptap.total_tap_count is their sum over the namespace's
devices and is per namespace; "ip -s link" counts the records delivered.
"""

import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import Capture, Tap, iptap_add, load_module, sh, sysfs

t = Tap()
load_module()
sh("ip netns add c")
sh("ip -n c link set lo up")
iptap_add("iptap0", ns="c")
iptap_add("iptap1", ns="c")


def tap_count(dev):
    return int(sysfs(dev, "iptap/tap_count", ns="c"))


def total():
    return int(sh("sysctl -n net.iptap.total_tap_count", ns="c").stdout)


t.eq((tap_count("iptap0"), tap_count("iptap1"), total()), (0, 0, 0),
     "no socket: all zero")
a = Capture("iptap0", ns="c")
t.eq((tap_count("iptap0"), total()), (1, 1), "one socket on iptap0")
b = Capture("iptap0", ns="c", sock_type=socket.SOCK_DGRAM)
c = Capture("iptap1", ns="c")
t.eq((tap_count("iptap0"), tap_count("iptap1"), total()), (2, 1, 3),
     "two on iptap0 (raw and cooked), one on iptap1")
t.eq(int(sh("sysctl -n net.iptap.total_tap_count").stdout), 0,
     "total_tap_count is per namespace")
r = sh("echo 5 > /proc/sys/net/iptap/total_tap_count", ns="c", check=False)
t.ok(r.returncode != 0 and total() == 3, "total_tap_count is read-only")

# Statistics: each ping is 4 records (request and reply, out and in).
stats0 = sh("ip -n c -s -j link show iptap0").stdout
sh("ping -c5 -i0.05 -W1 127.0.0.1", ns="c")
recs = a.read()
size = sum(len(r["raw"]) for _, r in recs)
t.eq(len(recs), 20, "20 records for 5 pings on loopback")
t.eq(len(b.read()), 20, "the cooked socket receives them too")
import json
st = json.loads(sh("ip -n c -s -j link show iptap0").stdout)[0]["stats64"]
st0 = json.loads(stats0)[0]["stats64"]
t.eq((st["rx"]["packets"] - st0["rx"]["packets"],
      st["rx"]["bytes"] - st0["rx"]["bytes"]), (20, size),
     "ip -s link counts records and their bytes as received")
t.eq(st["rx"]["dropped"], 0, "no copy lost")
t.eq(sysfs("iptap0", "iptap/dropped", ns="c"), "0", "sysfs dropped is 0")

a.close()
t.eq((tap_count("iptap0"), total()), (1, 2), "socket closed: counts fall")
b.close()
c.close()
t.eq((tap_count("iptap0"), tap_count("iptap1"), total()), (0, 0, 0),
     "all closed: zero")

# Without a listener nothing is copied or counted.
sh("ping -c3 -i0.05 -W1 127.0.0.1", ns="c")
st2 = json.loads(sh("ip -n c -s -j link show iptap0").stdout)[0]["stats64"]
t.eq(st2["rx"]["packets"], st["rx"]["packets"], "no listener: no record")

t.done()
