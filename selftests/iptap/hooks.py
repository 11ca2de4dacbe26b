#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (the oldest and newest kernels: its code runs in process context, or
# takes the packet path's locks as attribution.py does, which runs on
# every kernel; the version-dependent code (kmod/compat.h) it reaches
# is the same on 6.12 as on one of these or on the debug kernels.)
"""Netfilter hooks exist in a namespace only while a packet socket listens
on one of its iptap devices.

Seen three ways.  On every kernel, a kprobe counts nf_hook_slow(), which
the IP stack calls only when a hook is registered at that point: in a
fresh namespace with nothing else registered, loopback traffic must reach
it only while a device there has a listener.  net.iptap.hooks_registered
must say the same.  Where nfnetlink_hook exists (6.12, not Debian's 6.1),
"nft list hooks" must list iptap's hooks then and only then.  Traffic
must flow unchanged either way, and every way a listener comes (bind(),
a bound socket's device brought up) must bring the hooks.
"""

import errno
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (ETH_P_ALL, TRACING, Capture, Tap, iptap_add, load_module,
                      netns, owner_sysctl, sh, tracefs, wait_for)

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

def registered():
    return owner_sysctl("hooks_registered", "h")


def hooks_gone():
    """Once no listener is left, the next packet asks for the hooks to
    go, which they do a second after a packet last found a listener: wait
    for that."""
    sh("ping -c1 -W1 127.0.0.1", ns="h", check=False)
    return wait_for(lambda: registered() == 0, 5)


def raw_listener(dev, ask=False):
    """A packet socket bound to dev in h; with ask, and what
    hooks_registered read right after bind() (which registers what the
    listener wants first)."""
    with netns("h"):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        s.bind((dev, ETH_P_ALL))
        if not ask:
            return s
        with open("/proc/sys/net/iptap/hooks_registered") as f:
            return s, f.read() == "1\n"


def probe_brought_hooks(what):
    """The listener probe's worker, not a read of hooks_registered,
    registered the hooks: 5 pings each cross them 4 times."""
    time.sleep(0.5)
    calls, rc = hook_calls(5)
    t.eq(calls - base5, 20, what)


def records(s, timeout=1.0):
    """Frames read from raw socket s until none comes for timeout
    seconds; an error the socket reports (the device went down) ends
    nothing."""
    n = 0
    while select.select([s], [], [], timeout)[0]:
        try:
            s.recv(65536)
            n += 1
        except OSError as e:
            if e.errno != errno.ENETDOWN:
                raise
    return n


# Others may hook too (Debian's 6.12 AppArmor hooks POST_ROUTING in every
# namespace): what they cost with no iptap device is the baseline.
base, rc = hook_calls()
base5 = hook_calls(5)[0]
t.diag("baseline: %d nf_hook_slow calls for 20 pings, %d for 5"
       % (base, base5))
t.ok(rc == 0 and base < 80, "no device: traffic flows, iptap hooks nothing")
if has_nft_hooks:
    t.eq(nft_hooks(), 0, "no device: nft list hooks shows none")

iptap_add(ns="h")
calls, rc = hook_calls()
t.ok(calls == base and rc == 0, "a device without a listener hooks nothing",
     "calls %d, baseline %d" % (calls, base))
t.eq(registered(), 0, "a device without a listener: hooks_registered 0")
if has_nft_hooks:
    t.eq(nft_hooks(), 0, "a device without a listener: no iptap hook listed")

s = raw_listener("iptap0")
probe_brought_hooks("a listener binds: the hooks come")
s.close()

with Capture(ns="h") as cap:
    t.ok(cap.hooks_wait is not None, "a capture: hooks_registered reads 1")
    calls, rc = hook_calls()
    # 20 echo requests and 20 replies, each out (LOCAL_OUT) and in
    # (PRE_ROUTING), each seen by IPv4's hooks only.
    t.eq(calls - base, 80, "a listener: hooks run once per packet and hook")
    t.eq(rc, 0, "a listener: traffic flows")
    t.eq(len(cap.read()), 80, "a listener: 80 records")
    if has_nft_hooks:
        t.eq(nft_hooks(), 4, "a listener: nft list hooks shows 4 iptap hooks")
    iptap_add("iptap1", ns="h")
    if has_nft_hooks:
        t.eq(nft_hooks(), 4, "a second device: still 4 hooks")
t.ok(hooks_gone(), "the listener closed: the hooks go after the next packet")
calls, rc = hook_calls()
t.ok(calls == base and rc == 0, "no listener left: iptap hooks nothing",
     "calls %d, baseline %d" % (calls, base))

# A socket bound to a device that is down listens once it comes up.
sh("ip -n h link set iptap1 down")
s = raw_listener("iptap1")
t.ok(not wait_for(lambda: registered() == 1, 1),
     "a socket bound to a device that is down brings no hooks")
sh("ip -n h link set iptap1 up")
probe_brought_hooks("the device comes up: the hooks come")
sh("ping -c5 -i0.01 -W1 127.0.0.1", ns="h")
t.eq(records(s), 40, "the device up: its socket gets the 40 records of the "
     "10 pings since")
sh("ip -n h link set iptap1 down")
t.ok(hooks_gone(), "the device goes down: the hooks go after the next packet")
s.close()
sh("ip -n h link set iptap1 up")

# bind() may return before the worker has registered the hooks; reading
# hooks_registered registers first what the namespace's listeners want,
# so a program that reads 1 loses no packet sent after that.  20 times,
# each from no hooks at all.
good = 0
for i in range(20):
    s, now = raw_listener("iptap0", ask=True)
    with netns("h"):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"x", ("127.0.0.1", 9))
        u.close()
    got = records(s, 0.3)
    good += now and got >= 2
    s.close()
    if not hooks_gone():
        break
t.eq(good, 20, "hooks_registered reads 1 right after bind(), and the next "
     "datagram is recorded out and in: 20 of 20")

sh("ip -n h link del iptap0")
with Capture("iptap1", ns="h") as cap:
    t.ok(cap.hooks_wait is not None, "a listener on the other device")
    sh("ping -c5 -i0.01 -W1 127.0.0.1", ns="h")
    t.eq(len(cap.read()), 20, "the other device: 20 records")
    sh("ip -n h link del iptap1")
calls, rc = hook_calls()
t.ok(calls == base and rc == 0,
     "last device deleted with its listener: hooks gone",
     "calls %d, baseline %d" % (calls, base))
if has_nft_hooks:
    t.eq(nft_hooks(), 0, "last device deleted: nft list hooks shows none")

# A device elsewhere, listened to, does not hook this namespace.
iptap_add()
with Capture() as cap:
    t.eq(hook_calls()[0], base,
         "a listened device in another namespace adds no hook here")
sh("ip link del iptap0")

tracefs("kprobe_events", "-:iptap_test_nfslow\n")
t.done()
