#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 6.12.*-rt-amd64 7.*
# (and Debian's PREEMPT_RT kernel, whose threaded softirqs and RCU
# change its timing; not Debian's preemptible 6.12, whose code is that
# of 6.1 and 7.2 here.)
"""Concurrency: devices, captures, namespaces and the module churn under
traffic.

For a bounded time (IPTAP_STRESS_SECONDS, default 40), at once: IPv4/IPv6
TCP and UDP traffic (GSO-sized too) over a veth and loopback; captures
opening and closing; iptap devices created and deleted; namespaces with
devices created and destroyed; and with IPTAP_STRESS_RELOAD=1 the module
removed and inserted again.  On the VM's two CPUs the packet path runs
against every writer.  The kernel log must stay clean (the harness
checks it) and everything must still work afterwards.

make check-debug runs it for minutes with the reloads.  make check runs
it for 40 s without: a reload takes 10 to 20 s under TCG on a busy host,
too long for 40 s to show every other kind of churn as well.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import KO, Capture, Tap, bg, ip_summary, iptap_add, \
    load_module, sh, stop, veth_pair

SECONDS = int(os.environ.get("IPTAP_STRESS_SECONDS", "40"))
RELOAD = os.environ.get("IPTAP_STRESS_RELOAD") == "1"
t = Tap()
load_module()
veth_pair("a", "b")
iptap_add(ns="a")
end = time.time() + SECONDS
errors = []
counts = {"devices": 0, "captures": 0, "namespaces": 0, "reloads": 0,
          "records": 0, "interrupted": 0}
# Odd while the module is being removed and inserted: an operation that
# fails while it was odd or changed failed because the module went away
# under it, and is counted as interrupted, not as an error.
generation = [0]
reload_times = []      # (rmmod, insmod) seconds


def loop(name, body, excusable=True):
    def run():
        while time.time() < end:
            gen = generation[0]
            try:
                body()
                counts[name] += 1
            except Exception as e:  # reported below
                if not excusable or (gen % 2 == 0 and
                                     generation[0] == gen):
                    errors.append("%s: %r" % (name, e))
                    return
                counts["interrupted"] += 1
                # Leave the CPUs to rmmod and insmod meanwhile.
                time.sleep(0.2)
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


def reload():
    # rmmod and insmod take seconds (a minute on the debug kernel): wait
    # twice as long as the last reload took, so that the module is loaded
    # two thirds of the time at least and the other writers get work
    # done.  rmmod removes every device: iptap0 in "a" comes back with
    # the module.
    last = sum(reload_times[-1]) if reload_times else 0
    time.sleep(max(2, 2 * last))
    if time.time() >= end:
        return
    generation[0] += 1
    t0 = time.time()
    sh("rmmod iptap")
    t1 = time.time()
    sh("insmod %s" % KO)
    iptap_add(ns="a")
    generation[0] += 1
    reload_times.append((round(t1 - t0, 1), round(time.time() - t1, 1)))


def namespaces():
    try:
        sh("ip netns add s && ip -n s link set lo up && "
           "ip -n s link add iptap0 type iptap")
        sh("ping -c2 -i0.05 127.0.0.1 >/dev/null", ns="s")
    except Exception:
        # Interrupted by a reload, perhaps: the next round needs "s" gone.
        sh("ip netns del s", check=False)
        raise
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
if RELOAD:
    threads.append(loop("reloads", reload, excusable=False))
for th in threads:
    th.join()
for p in traffic:
    stop(p)
# The last round of the reload loop may end without reloading.
counts["reloads"] = len(reload_times)
t.diag("in %ds: %s" % (SECONDS, counts))
if RELOAD:
    t.diag("rmmod, insmod seconds: %s" % reload_times)
t.eq(errors, [], "no operation failed")
# Twice at least: created and destroyed while the rest ran, then again.
# A namespace round takes a minute on the debug kernel under TCG.
t.ok(all(counts[k] >= 2 for k in ("devices", "captures", "namespaces")) and
     (counts["reloads"] > 0 or not RELOAD) and counts["records"] > 100,
     "every kind of churn happened, records flowed", counts)
# SIGKILLed TCP connections still close, retransmit and time out after
# stop(): count the ping's records, the echo requests and their replies.
time.sleep(1)
with Capture(ns="a") as cap:
    sh("ping -c2 -i0.1 -W2 10.0.0.2", ns="a")
    recs = [r for _, r in cap.read()]
    mine = [r for r in recs if r["comm"] == "ping" and
            ip_summary(r)[2] == 1 and "10.0.0.2" in ip_summary(r)[:2]]
    t.ok(len(mine) == 4, "capture works after the storm",
         "%d ping records of %d: %s" % (len(mine), len(recs),
                                         [ip_summary(r) + (r["comm"],)
                                          for r in recs]))
sh("rmmod iptap")
t.ok(not os.path.exists("/sys/module/iptap"), "and the module unloads")
t.done()
