#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Concurrency: devices, captures and namespaces churn under traffic.

For a bounded time, at once: IPv4/IPv6 TCP and UDP traffic (GSO-sized
too) over a veth and loopback; captures opening and closing; iptap
devices created and deleted; namespaces with devices created and
destroyed.  On the VM's two CPUs the packet path runs against every
writer.  The kernel log must stay clean (the harness checks it) and
everything must still work afterwards.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import Capture, Tap, bg, iptap_add, load_module, sh, stop, \
    veth_pair

SECONDS = 40
t = Tap()
load_module()
veth_pair("a", "b")
iptap_add(ns="a")
end = time.time() + SECONDS
errors = []
counts = {"devices": 0, "captures": 0, "namespaces": 0, "records": 0}


def loop(name, body):
    def run():
        try:
            while time.time() < end:
                body()
                counts[name] += 1
        except Exception as e:  # reported below
            errors.append("%s: %r" % (name, e))
    th = threading.Thread(target=run)
    th.start()
    return th


def devices():
    iptap_add("churn", ns="a")
    sh("ip -n a link del churn")


def captures():
    with Capture("iptap0", ns="a") as c:
        time.sleep(0.1)
        counts["records"] += len(c.read(0.05, timeout=1))


def namespaces():
    sh("ip netns add s && ip -n s link set lo up && "
       "ip -n s link add iptap0 type iptap")
    sh("ping -c2 -i0.05 127.0.0.1 >/dev/null", ns="s")
    sh("ip netns del s")


traffic = [
    bg("socat -u TCP4-LISTEN:7800,reuseaddr,fork OPEN:/dev/null", ns="b"),
    bg("socat -u TCP6-LISTEN:7801,reuseaddr,fork OPEN:/dev/null", ns="b"),
    bg("socat -u UDP4-RECV:7802 OPEN:/dev/null", ns="b"),
    bg("socat -u TCP4-LISTEN:7803,reuseaddr,fork OPEN:/dev/null", ns="a"),
]
time.sleep(1)
traffic += [
    bg("while :; do head -c 3000000 /dev/zero | socat -u - "
       "TCP4:10.0.0.2:7800; done", ns="a"),
    bg("while :; do head -c 3000000 /dev/zero | socat -u - "
       "TCP6:[fd00::2]:7801; done", ns="a"),
    bg("while :; do head -c 100000 /dev/zero | socat -u -,blksize=1000 "
       "UDP4-SENDTO:10.0.0.2:7802; done", ns="a"),
    bg("while :; do head -c 3000000 /dev/zero | socat -u - "
       "TCP4:127.0.0.1:7803; done", ns="a"),
    bg("ping -f 10.0.0.1 >/dev/null", ns="b"),
]
threads = [loop("devices", devices), loop("captures", captures),
           loop("namespaces", namespaces)]
for th in threads:
    th.join()
for p in traffic:
    stop(p)
t.diag("in %ds: %s" % (SECONDS, counts))
t.eq(errors, [], "no operation failed")
t.ok(all(counts[k] > 3 for k in ("devices", "captures", "namespaces")) and
     counts["records"] > 100, "every kind of churn happened, records flowed",
     counts)
with Capture(ns="a") as cap:
    sh("ping -c2 -i0.1 -W2 10.0.0.2", ns="a")
    t.eq(len(cap.read()), 4, "capture works after the storm")
sh("rmmod iptap")
t.ok(not os.path.exists("/sys/module/iptap"), "and the module unloads")
t.done()
