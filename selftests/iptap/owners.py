#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (not Debian's 6.12 kernels: their source is the debug kernel's of
# make check-debug, where it runs on PREEMPT_RT, with lockdep.)
"""Each namespace's owner records are its own: bounded, counted, isolated.

Topology: x -- y and z -- w, two pairs of namespaces joined by veths;
iptap0 in x and in z, each captured.

- Ping identifiers: a process in x sends echo requests with 1500 ICMP
  identifiers.  x keeps at most 1024 of them, the oldest evicted: late
  replies to the last ones name the sender, those to the first ones no
  process (and count as unattributed).  z's ping is still named.
- The socket limit: net.iptap.owners_max, lowered to 64, is writable in
  the initial namespace only.  A process in x binds 200 UDP sockets: x
  refuses records past the limit and counts each refusal; a datagram to
  its first socket names it, one to its last names nobody and counts as
  unattributed.  Meanwhile z, under the same limit, refuses nothing and
  names its own new server.
- The scan: a process in s holds 3000 bound UDP sockets before s gets
  its first iptap device; once the scan has ended, datagrams to its
  first and last sockets name it.  In q, a process whose main thread
  has exited holds its socket in another thread's file table: found too.
- Records go with their sockets: 2000 UDP sockets and 2000 TCP
  connections (IPTAP_CHURN sets the number) opened and closed in z leave
  z's record count as it was,
  but for destructions that the kprobe missed, each counted in
  net.iptap.owner_destructions_missed.
- A table goes with its namespace's last device: owner_records reads 0.
"""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (DIR_IN, Capture, Tap, iptap_add, load_module,
                      owner_sysctl, sh, stop, sysfs, veth_pair, wait_for,
                      workload)

PINGS_MAX = 1024
CHURN = int(os.environ.get("IPTAP_CHURN", 2000))

t = Tap()
load_module()
veth_pair("x", "y")
veth_pair("z", "w")
veth_pair("s", "r")
veth_pair("q", "k")
for ns in ("x", "z"):
    sh("sysctl -qw net.ipv4.ping_group_range='0 2147483647'", ns=ns)
    iptap_add("iptap0", ns=ns)


def udp_dport(rec):
    p = rec["packet"]
    return struct.unpack_from(">H", p, (p[0] & 15) * 4 + 2)[0]


def received(recs, proto, key):
    """Records of incoming packets of IPv4 protocol proto, by key(rec)."""
    out = {}
    for _, r in recs:
        if r["flags"] & DIR_IN and r["af"] == 2 and r["packet"][9] == proto:
            out.setdefault(key(r), []).append(r)
    return out


def echo_id(rec):
    p = rec["packet"]
    return struct.unpack_from(">H", p, (p[0] & 15) * 4 + 4)[0]


def names(recs):
    return {(r["pid"], r["comm"]) for r in recs}


# Ping identifiers: x keeps the newest PINGS_MAX.
capx = Capture("iptap0", ns="x")
capz = Capture("iptap0", ns="z")
p, (pinger,) = workload("x", "icmp-ids", "10.0.0.2", 1, 1500)
p.wait(timeout=120)
p, (zping,) = workload("z", "ping", "10.0.0.2", 4, 2)
p.wait(timeout=60)
capx.read(1.0)
t.ok(owner_sysctl("owner_records", "x") <= PINGS_MAX,
     "x holds at most %d ping records" % PINGS_MAX,
     owner_sysctl("owner_records", "x"))
# Late replies, sent by y itself, to the oldest and newest identifiers.
unattr = int(sysfs("iptap0", "iptap/unattributed", ns="x"))
for first in (1, 1491):
    workload("y", "icmp-ids", "10.0.0.1", first, 10, 0)[0].wait(timeout=60)
replies = received(capx.read(1.0), 1, echo_id)
newest = [replies.get(i, []) for i in range(1491, 1501)]
t.ok(all(r and names(r) == {(pinger, "icmp-ids")} for r in newest),
     "replies to the newest identifiers name their sender",
     [names(r) for r in newest])
oldest = [replies.get(i, []) for i in range(1, 11)]
t.ok(all(r and names(r) == {(-1, "")} for r in oldest),
     "replies to evicted identifiers name no process",
     [names(r) for r in oldest])
t.eq(int(sysfs("iptap0", "iptap/unattributed", ns="x")) - unattr, 10,
     "and count as unattributed")
zreplies = received(capz.read(1.0), 1, echo_id)
t.ok(zreplies and all(names(r) == {(zping, "ping")}
                      for r in zreplies.values()),
     "z's ping replies name z's ping", zreplies.keys())

# The socket limit.
old_max = owner_sysctl("owners_max")
try:
    sh("sysctl -qw net.iptap.owners_max=64")
    # (procps's sysctl reports the refusal, but exits 0.)
    r = sh("echo 100000 >/proc/sys/net/iptap/owners_max", ns="x",
           check=False)
    t.ok(r.returncode != 0 and owner_sysctl("owners_max", "x") == 64,
         "owners_max is read-only outside the initial namespace",
         r.stderr)
    many, (many_pid,) = workload("x", "udp-many", 20000, 200)
    refused = owner_sysctl("owner_records_refused", "x")
    # Each refused attempt counts: creation, then bind.
    t.ok(refused >= 136,
         "x refuses the sockets past the limit, and counts them", refused)
    zsrv, (zsrv_pid,) = workload("z", "udp-server", 7000, 4, 600)
    unattr = int(sysfs("iptap0", "iptap/unattributed", ns="x"))
    for port in (20000, 20199):
        sh("echo hi | socat -u - UDP4-SENDTO:10.0.0.1:%d" % port, ns="y")
    sh("echo hi | socat -u - UDP4-SENDTO:10.0.0.1:7000", ns="w")
    got = received(capx.read(1.0), 17, udp_dport)
    t.eq(names(got.get(20000, [])), {(many_pid, "udp-many")},
         "a socket with a record names its process")
    t.eq(names(got.get(20199, [])), {(-1, "")},
         "a socket refused a record names no process")
    t.eq(int(sysfs("iptap0", "iptap/unattributed", ns="x")) - unattr, 1,
         "and its packet counts as unattributed")
    got = received(capz.read(1.0), 17, udp_dport)
    t.eq(names(got.get(7000, [])), {(zsrv_pid, "udp-server")},
         "z's new server is named: x's full table is not z's")
    t.eq(owner_sysctl("owner_records_refused", "z"), 0, "z refused nothing")
    stop(many)
    stop(zsrv)
finally:
    sh("sysctl -qw net.iptap.owners_max=%d" % old_max)

# The scan of a namespace's older sockets.
old, (old_pid,) = workload("s", "udp-many", 30000, 3000)
iptap_add("iptap0", ns="s")
t.ok(owner_sysctl("owner_records", "s") >= 3000,
     "the scan recorded the 3000 older sockets",
     owner_sysctl("owner_records", "s"))
with Capture("iptap0", ns="s") as cap:
    for port in (30000, 32999):
        sh("echo hi | socat -u - UDP4-SENDTO:10.0.0.1:%d" % port, ns="r")
    got = received(cap.read(1.0), 17, udp_dport)
for port in (30000, 32999):
    t.eq(names(got.get(port, [])), {(old_pid, "udp-many")},
         "a datagram to older socket %d names its process" % port)
stop(old)


def state(pid):
    """The State: letter of pid's /proc status (its group leader's)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            return next(line.split()[1] for line in f
                        if line.startswith("State:"))
    except OSError:
        return None


orphan, (orphan_pid,) = workload("q", "udp-orphan", 31000)
t.ok(wait_for(lambda: state(orphan_pid) == "Z", 10),
     "udp-orphan's main thread has exited, another holds its socket",
     state(orphan_pid))
iptap_add("iptap0", ns="q")
with Capture("iptap0", ns="q") as cap:
    sh("echo hi | socat -u - UDP4-SENDTO:10.0.0.1:31000", ns="k")
    got = received(cap.read(1.0), 17, udp_dport)
t.eq(names(got.get(31000, [])), {(orphan_pid, "udp-orphan")},
     "the scan finds a socket held by a thread whose leader has exited")
stop(orphan)

# Records go with their sockets, but for destructions the probe missed
# (kprobes drop a hit nested in another handler), which are counted.
base = owner_sysctl("owner_records", "z")
missed = owner_sysctl("owner_destructions_missed")
p, _ = workload("z", "churn", CHURN)
p.wait(timeout=300)
wait_for(lambda: owner_sysctl("owner_records", "z") <= base, 10)
left = owner_sysctl("owner_records", "z") - base
missed = owner_sysctl("owner_destructions_missed") - missed
t.diag("after the churn: %d records left, %d destructions missed" %
       (left, missed))
if left > missed:
    t.diag(sh("ss -tuwanp", ns="z").stdout)
t.ok(left <= missed, "%d sockets opened and closed leave no record "
     "behind but for counted misses" % (3 * CHURN), (left, missed))

# Tables go with the last device.  A live socket keeps a record in z's
# (its ping records expire after a minute).
keep, _ = workload("z", "udp-server", 7001, 4, 600)
capx.close()
capz.close()
sh("ip -n x link del iptap0")
t.eq(owner_sysctl("owner_records", "x"), 0,
     "x's table went with its last device")
t.ok(owner_sysctl("owner_records", "z") > 0, "z's stays with its device")
stop(keep)
t.done()
