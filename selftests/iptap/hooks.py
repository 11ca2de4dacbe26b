#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (the oldest and newest kernels: its code runs in process context, or
# takes the packet path's locks as attribution.py does, which runs on
# every kernel; the version-dependent code (kmod/compat.h) it reaches
# is the same on 6.12 as on one of these or on the debug kernels.)
"""Netfilter hooks exist in a namespace only while it has an iptap device.

Seen two ways.  On every kernel, a kprobe counts nf_hook_slow(), which
the IP stack calls only when a hook is registered at that point: in a
fresh namespace with nothing else registered, loopback traffic must reach
it only while an iptap device exists there.  Where nfnetlink_hook exists
(6.12, not Debian's 6.1), "nft list hooks" must list iptap's hooks then
and only then.  Traffic must flow unchanged either way.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (TRACING, Capture, Tap, iptap_add, load_module, sh,
                      tracefs)

t = Tap()
load_module()
sh("ip netns add h")
sh("ip -n h link set lo up")

tracefs("kprobe_events", "p:iptap_test_nfslow nf_hook_slow\n")
EV = TRACING + "/events/kprobes/iptap_test_nfslow"


def hook_calls(n=20):
    """nf_hook_slow() calls while n pings cross loopback in namespace h."""
    with open(TRACING + "/trace", "w") as f:
        f.write("")
    with open(EV + "/enable", "w") as f:
        f.write("1")
    r = sh("ping -c%d -i0.01 -W1 127.0.0.1" % n, ns="h", check=False)
    with open(EV + "/enable", "w") as f:
        f.write("0")
    with open(TRACING + "/trace") as f:
        calls = sum(1 for line in f if "iptap_test_nfslow" in line)
    return calls, r.returncode


def nft_hooks():
    return sh("nft list hooks", ns="h").stdout.count("iptap_hook")


# Listing hooks needs nfnetlink_hook, which Debian's 6.1 lacks.
has_nft_hooks = sh("modprobe -q nfnetlink_hook", check=False).returncode == 0
t.diag("nft list hooks available: %s" % has_nft_hooks)

# Others may hook too (Debian's 6.12 AppArmor hooks POST_ROUTING in every
# namespace): what they cost with no iptap device is the baseline.
base, rc = hook_calls()
t.diag("baseline: %d nf_hook_slow calls for 20 pings" % base)
t.ok(rc == 0 and base < 80, "no device: traffic flows, iptap hooks nothing")
if has_nft_hooks:
    t.eq(nft_hooks(), 0, "no device: nft list hooks shows none")

iptap_add(ns="h")
calls, rc = hook_calls()
# 20 echo requests and 20 replies, each out (LOCAL_OUT) and in
# (PRE_ROUTING), each seen by IPv4's hooks only.
t.eq(calls - base, 80, "device: hooks run once per packet and hook")
t.eq(rc, 0, "device: traffic flows")
if has_nft_hooks:
    t.eq(nft_hooks(), 4, "device: nft list hooks shows 4 iptap hooks")

iptap_add("iptap1", ns="h")
with Capture(ns="h") as cap:
    calls, rc = hook_calls(5)
    t.eq(rc, 0, "device with a listener: traffic flows")
    t.eq(len(cap.read()), 20, "device with a listener: 20 records")
if has_nft_hooks:
    t.eq(nft_hooks(), 4, "two devices: still 4 hooks")

sh("ip -n h link del iptap0")
t.eq(hook_calls()[0] - base, 80, "one device left: hooks stay")
sh("ip -n h link del iptap1")
calls, rc = hook_calls()
t.ok(calls == base and rc == 0, "last device deleted: hooks gone",
     "calls %d, baseline %d" % (calls, base))
if has_nft_hooks:
    t.eq(nft_hooks(), 0, "last device deleted: nft list hooks shows none")

# A device elsewhere does not hook this namespace.
iptap_add()
t.eq(hook_calls()[0], base, "a device in another namespace adds no hook here")
sh("ip link del iptap0")

tracefs("kprobe_events", "-:iptap_test_nfslow\n")
t.done()
