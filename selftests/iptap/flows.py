#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (6.12's code runs it on the debug kernel of make check-debug.)
"""Attribution cached per UDP flow is never stale.

Topology: a -- b over a veth, iptap0 in a with a capture.  b sends
datagrams of one flow (source port 6000) to udp-flow processes in a.
iptap remembers, per flow, the socket its lookup found; each step below
changes what the flow's datagrams belong to, and every record after the
change must name the new owner, or no process (-1) where no socket takes
them:

 1. a socket bound to any address gets 200 datagrams: every record names
    it, and iptap looked the socket up for a few of them only (calls of
    udp4_lib_lookup/udp6_lib_lookup, which only attribution makes here,
    counted by a kprobe event): the cache is used;
 2. it closes and another process binds the port;
 3. a child sends on the socket: its last user, until the parent reads
    again;
 4. a socket bound to the address connects to another peer (none), then
    disconnects;
 5. it is bound to another device (none), then to none again;
 6. the address goes (the datagrams are not for this host: none), and
    comes back;
 7. the socket allows its port to be shared (SO_REUSEADDR, which no probe
    sees), and another, bound to the address itself, takes the flow (each
    datagram is then looked up: either socket could take it); sockets on
    one port but different addresses keep their flows cached;
 8. a socket connected from a port the kernel chose is destroyed with
    ss -K (none);
 9. over IPv6, steps 1 and 2;
10. datagrams to port 0, which only a raw socket can send and no socket
    can take (none).
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (DIR_IN, TRACING, Capture, Tap, ip_summary, iptap_add,
                      load_module, sh, tracefs, veth_pair)
from iptaplib import WORKLOAD as WL

SPORT = 6000

t = Tap()
load_module()
veth_pair("a", "b")
mac_a = sh("cat /sys/class/net/va1/address", ns="a").stdout.strip()
# b keeps sending to a's address while a has it not (step 6).
sh("ip -n b neigh replace 10.0.0.1 lladdr %s dev vb1 nud permanent" % mac_a)
iptap_add("iptap0", ns="a")
cap = Capture("iptap0", ns="a")
# Flows are cached from a second after the probes are armed.
time.sleep(1.5)


class Flow:
    """A udp-flow process in a, driven over its stdin."""

    def __init__(self, family, addr, port, *opts):
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", "a", "python3", WL, "udp-flow", family,
             addr, str(port)] + list(opts), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, start_new_session=True)
        words = self.p.stdout.readline().split()
        self.pid = int(words[1])

    def do(self, *cmd):
        self.p.stdin.write(" ".join(str(c) for c in cmd) + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def send(dst, port, n):
    """n datagrams from b's port SPORT to dst, port, all sent from CPU 0,
    whose softirq then gets them: the cache is per CPU.  To port 0, which
    a UDP socket refuses, through a raw socket (checksum 0)."""
    if port:
        sock = ("socket.SOCK_DGRAM)\n"
                "s.bind((\"\", %d))\n" % SPORT)
        data = "b\"flow\""
    else:
        sock = "socket.SOCK_RAW, socket.IPPROTO_UDP)\n"
        data = "struct.pack(\"!HHHH4s\", %d, 0, 12, 0, b\"flow\")" % SPORT
    sh("taskset -c 0 python3 -c 'import socket, struct, sys\n"
       "s = socket.socket(socket.AF_INET6 if \":\" in sys.argv[1] else "
       "socket.AF_INET, %s"
       "for i in range(%d): s.sendto(%s, (sys.argv[1], %d))' %s"
       % (sock, n, data, port, dst), ns="b")


def pids(dst, port, n):
    """Send n datagrams of the flow; the pids of their records."""
    send(dst, port, n)
    got = []
    for pkttype, rec in cap.read(settle=0.5, timeout=30):
        src, to, proto, _ = ip_summary(rec)
        p = rec["packet"]
        off = 20 if rec["af"] == 2 else 40
        if rec["flags"] & DIR_IN and proto == 17 and to == dst and \
                p[off:off + 4] == bytes([SPORT >> 8, SPORT & 255,
                                         port >> 8, port & 255]):
            got.append(rec["pid"])
    return got


def step(what, dst, port, n, want):
    got = pids(dst, port, n)
    wrong = [p for p in got if p != want]
    t.ok(len(got) == n and not wrong,
         "%s: %d records, each naming %d" % (what, n, want),
         "%d records, pids %s" % (len(got), sorted(set(got))))


def lookups(fn):
    """Calls of fn (a UDP lookup function) while the kprobe event counts."""
    for line in open(TRACING + "/kprobe_profile"):
        words = line.split()
        if words and words[0] == "flows_" + fn:
            return int(words[1])
    return None


for fn in ("udp4_lib_lookup", "udp6_lib_lookup"):
    tracefs("kprobe_events", "p:flows_%s %s\n" % (fn, fn))
    tracefs("events/kprobes/flows_%s/enable" % fn, "1")

for fam, dst, fn in (("4", "10.0.0.1", "udp4_lib_lookup"),
                     ("6", "fd00::1", "udp6_lib_lookup")):
    port = 5000 if fam == "4" else 5006
    any_addr = "0.0.0.0" if fam == "4" else "::"
    a = Flow(fam, any_addr, port)
    before = lookups(fn)
    step("IPv%s, a socket bound to any address" % fam, dst, port, 200, a.pid)
    calls = lookups(fn) - before
    t.ok(calls < 20, "IPv%s: the socket looked up for %d of 200 datagrams"
         % (fam, calls))

    a.close()
    b = Flow(fam, any_addr, port)
    step("IPv%s, the port bound again, by another process" % fam, dst, port,
         20, b.pid)
    if fam == "6":
        b.close()
        break

    b.do("pause")
    child = int(b.do("child-send", "10.0.0.2", 7))
    step("a child sent on the socket", dst, port, 20, child)
    b.do("resume")
    b.do("count")       # answered once the queued datagrams are read
    step("the parent is the socket's last user again", dst, port, 20, b.pid)

    # Bound to the address itself, connect() moves nothing in the table.
    e = Flow(fam, dst, port + 1)
    step("a socket bound to the address", dst, port + 1, 20, e.pid)
    e.do("connect", "10.0.0.2", 7)
    step("the socket connected to another peer", dst, port + 1, 20, -1)
    e.do("disconnect")
    step("the socket disconnected", dst, port + 1, 20, e.pid)
    e.close()

    b.do("device", "lo")
    step("the socket bound to another device", dst, port, 20, -1)
    b.do("device")
    step("the socket bound to no device", dst, port, 20, b.pid)

    sh("ip -n a addr del 10.0.0.1/24 dev va1")
    step("the address gone", dst, port, 20, -1)
    sh("ip -n a addr add 10.0.0.1/24 dev va1")
    step("the address back", dst, port, 20, b.pid)

    b.do("reuse")
    d = Flow(fam, dst, port, "reuse")
    before = lookups(fn)
    step("a socket bound to the address itself shares the port", dst, port,
         20, d.pid)
    calls = lookups(fn) - before
    t.ok(calls >= 20, "a flow two sockets could take is looked up each time "
         "(%d lookups for 20 datagrams)" % calls)
    d.close()
    b.close()

    # A socket per address, as DNS servers bind: each has its own flows.
    lo = Flow(fam, "127.0.0.1", 5353)
    own = Flow(fam, dst, 5353)
    before = lookups(fn)
    step("a socket bound to one address of several on the port", dst, 5353,
         100, own.pid)
    calls = lookups(fn) - before
    t.ok(calls < 10, "the socket looked up for %d of 100 datagrams" % calls)
    lo.close()
    own.close()

    c = Flow("4", "0.0.0.0", 0)
    c.do("connect", "10.0.0.2", SPORT)
    cport = int(c.do("port"))
    step("a connected socket", dst, cport, 20, c.pid)
    sh("ss -K -n -u dst 10.0.0.2:%d" % SPORT, ns="a")
    # Destroyed, it has no port (CONFIG_INET_DIAG_DESTROY: the debug
    # kernel has none, and ss says nothing).
    if c.do("port") == "0":
        step("the connected socket destroyed (ss -K)", dst, cport, 20, -1)
    else:
        t.skip("the connected socket destroyed (ss -K)",
               "this kernel cannot destroy sockets")
    c.close()

for dst in ("10.0.0.1", "fd00::1"):
    step("IPv%d, datagrams to port 0" % (6 if ":" in dst else 4), dst, 0, 20,
         -1)

# The device deleted and made again: its table of owners goes, freed
# after RCU, and a new one is made, which the scan fills again.  What the
# CPUs remembered of the old one (flows, records found) must not be used.
f = Flow("4", "10.0.0.1", 7050)
step("a socket held while the device goes", "10.0.0.1", 7050, 20, f.pid)
cap.close()
sh("ip -n a link del iptap0")
iptap_add("iptap0", ns="a")
cap = Capture("iptap0", ns="a")
time.sleep(1.5)
step("the device made again: the socket held meanwhile", "10.0.0.1", 7050,
     20, f.pid)
f.close()

for fn in ("udp4_lib_lookup", "udp6_lib_lookup"):
    tracefs("events/kprobes/flows_%s/enable" % fn, "0")
    tracefs("kprobe_events", "-:flows_%s\n" % fn)
cap.close()
t.done()
