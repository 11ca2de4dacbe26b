#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Every packet of a known process carries its PID and name.

Topology: c -- a -- b, iptap0 in a, which also routes c's traffic to b.
Known processes in a, each naming itself: a receive-only UDP server that
existed before iptap0 (found by the file-table scan), a receive-only
UDP server started after, UDP clients (IPv4, IPv6), a TCP server taking
a bulk upload and TCP clients making one (so ACKs go out from softirq),
ping over ping sockets (IPv4, IPv6), a parent whose forked child sends
on the inherited socket, and a process in a child PID namespace.  c's
pings to b are forwarded by a.

Every record of these flows, both directions, must name the right
process (pid and comm) and socket creator (epid and ecomm); forwarded
and socket-less packets must carry -1; nothing may count as
unattributed.  A second device, created inside a child PID namespace,
must show that namespace's PIDs only.
"""

import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (DIR_OUT, Capture, Tap, ip_summary, iptap_add,
                      load_module, netns_add, sh, stop, sysfs, veth_link,
                      workload, write_pcap)
from iptaplib import WORKLOAD as WL

t = Tap()
load_module()

netns_add("a", "b", "c")
veth_link("a", "va1", "b", "vb1", ("10.0.0.1", "10.0.0.2"),
          ("fd00::1", "fd00::2"))
veth_link("a", "va2", "c", "vc1", ("10.0.1.1", "10.0.1.2"),
          ("fd01::1", "fd01::2"))
sh("ip -n c route add default via 10.0.1.1")
sh("ip -n b route add 10.0.1.0/24 via 10.0.0.1")
sh("sysctl -qw net.ipv4.ip_forward=1", ns="a")
# a's TCP senders lose their 8th packet after iptap saw it, so that they
# retransmit it (from a timer or softirq).
sh("nft add table inet loss", ns="a")
sh("nft 'add chain inet loss post { type filter hook postrouting "
   "priority 0; }'", ns="a")
for port in (7103, 7104):
    sh("nft add rule inet loss post tcp dport %d ct original packets 8 drop"
       % port, ns="a")
# The rule loaded conntrack; count packets per connection from now on.
sh("sysctl -qw net.netfilter.nf_conntrack_acct=1", ns="a")
sh("sysctl -qw net.ipv4.ping_group_range='0 2147483647'", ns="a")


start = workload


def finish(procs):
    for p in procs:
        p.wait(timeout=60)


# A receive-only server that exists before the device.
pre, (pre_pid,) = start("a", "udp-server", 7100, 4, 600)
iptap_add("iptap0", ns="a")
cap = Capture("iptap0", ns="a")

# A device made inside a child PID namespace, with a process beside it.
pidns = subprocess.Popen(
    "ip netns exec a unshare --pid --fork sh -c 'ip link add iptap1 type "
    "iptap && sleep 3 && exec python3 %s pidns-udp 10.0.0.2 7108'" % WL,
    shell=True, stdout=subprocess.PIPE, text=True)
for _ in range(100):
    if sh("ip -n a link show iptap1", check=False).returncode == 0:
        break
    time.sleep(0.05)
cap1 = Capture("iptap1", ns="a")

# Receivers in b, which iptap0 does not see as processes of a.
sinks = [start("b", "udp-server", port, fam, 600)[0]
         for port, fam in ((7105, 4), (7106, 6), (7107, 4), (7108, 4))]
bsrv = [start("b", "tcp-server", 7103, 6)[0],
        start("b", "tcp-server", 7104, 4)[0]]

# Servers in a.
srv6, (srv6_pid,) = start("a", "udp-server", 7101, 6, 600)
tsrv, (tsrv_pid,) = start("a", "tcp-server", 7102, 4)

# Traffic from b to the receive-only servers in a.
sh("echo to-pre | socat -u - UDP4-SENDTO:10.0.0.1:7100", ns="b")
sh("for i in 1 2 3; do echo to-v6 | socat -u - UDP6-SENDTO:[fd00::1]:7101;"
   " done", ns="b")

# Clients.
procs = []
p, (ucl4,) = start("a", "udp-client", "10.0.0.2", 7105, 4, 5)
procs.append(p)
p, (ucl6,) = start("a", "udp-client", "fd00::2", 7106, 6, 5)
procs.append(p)
p, (tcl6,) = start("a", "tcp-client", "fd00::2", 7103, 6, 500000)
procs.append(p)
p, (tcl4,) = start("a", "tcp-client", "10.0.0.2", 7104, 4, 300000)
procs.append(p)
p, (ping4,) = start("a", "ping", "10.0.0.2", 4, 3)
procs.append(p)
p, (ping6,) = start("a", "ping", "fd00::2", 6, 3)
procs.append(p)
p, (fparent, fchild) = start("a", "fork-udp", "10.0.0.2", 7107)
procs.append(p)
# Traffic from b to the servers in a.
procs.append(start("b", "tcp-client", "10.0.0.1", 7102, 4, 500000)[0])
# Forwarded through a.
sh("ping -c3 -i0.2 -W2 10.0.0.2", ns="c")
# Datagrams from c to the port of a's server bound to any address: to
# a's address on va1, which a takes though it comes in on va2, so it is
# the server's; to b, which a forwards; to an address of a's in a VRF
# (va2 is in none), which a's own table does not have, so a does not
# take it.  The last two are nobody's here.
sh("echo across | socat -u - UDP4-SENDTO:10.0.0.1:7100", ns="c")
passing = ["10.0.0.2"]
if sh("ip -n a link add vrf1 type vrf table 10", check=False).returncode == 0:
    sh("ip -n a link add vrfa type veth peer name vrfb")
    sh("ip -n a link set vrfa master vrf1")
    sh("ip -n a addr add 10.9.9.1/32 dev vrfa")
    sh("ip -n a link set vrf1 up")
    sh("ip -n a link set vrfa up")
    passing.append("10.9.9.1")
else:
    t.diag("no VRF on this kernel: no datagram to an address of a VRF")
for dst in passing:
    sh("echo passing | socat -u - UDP4-SENDTO:%s:7100" % dst, ns="c")
finish(procs + [tsrv] + bsrv)
words = pidns.stdout.readline().split()
pidns.wait(timeout=30)
ns_outer, ns_inner = int(words[1]), int(words[2])
recs = cap.read(1.0)
recs1 = cap1.read(0.5)
for p in [pre, srv6] + sinks:
    stop(p)

t.diag("%d records on iptap0, %d on iptap1" % (len(recs), len(recs1)))

# Who should each record name?  (pid, comm, epid, ecomm), or None: -1.
servers = {("udp", 7100): (pre_pid, "udp-server"),
           ("udp", 7101): (srv6_pid, "udp-server"),
           ("tcp", 7102): (tsrv_pid, "tcp-server")}
clients = {("udp", 7105): (ucl4, "udp-client"),
           ("udp", 7106): (ucl6, "udp-client"),
           ("tcp", 7103): (tcl6, "tcp-client"),
           ("tcp", 7104): (tcl4, "tcp-client"),
           ("udp", 7108): (ns_outer, "pidns-client")}
PROTO = {6: "tcp", 17: "udp"}


def expected(r):
    src, dst, _, _ = ip_summary(r)
    p = r["packet"]
    out = r["flags"] == DIR_OUT
    hl = (p[0] & 15) * 4 if r["af"] == 2 else 40
    if r["ipproto"] in (1, 58) and p[hl] in ((3, 11) if r["af"] == 2 else
                                             (1, 2, 3, 4)):
        # An ICMP error belongs to the flow of the packet it quotes,
        # which went the other way.
        inner = dict(r, packet=p[hl + 8:], flags=DIR_OUT if not out else 1,
                     ipproto=p[hl + 8 + (9 if r["af"] == 2 else 6)])
        kind, want = expected(inner)
        return kind + " (ICMP error)", want
    if "10.0.1.2" in (src, dst) and "10.0.0.1" not in (src, dst):
        return "forwarded", None
    proto = r["ipproto"]
    if proto in PROTO:
        hl = (p[0] & 15) * 4 if r["af"] == 2 else 40
        sport, dport = struct.unpack_from(">HH", p, hl)
        local, remote = (sport, dport) if out else (dport, sport)
        key_l, key_r = (PROTO[proto], local), (PROTO[proto], remote)
        if key_l in servers:
            pid, comm = servers[key_l]
            return "%s server" % PROTO[proto], (pid, comm, pid, comm)
        if key_r in clients:
            pid, comm = clients[key_r]
            return "%s client" % PROTO[proto], (pid, comm, pid, comm)
        if key_r == ("udp", 7107):
            payload = p[hl + 8:]
            if payload.startswith(b"child"):
                return "forked child", (fchild, "fork-child", fparent,
                                        "fork-parent")
            return "fork parent", (fparent, "fork-parent", fparent,
                                   "fork-parent")
    if proto in (1, 58) and src in ("10.0.0.1", "10.0.0.2", "fd00::1",
                                    "fd00::2"):
        off = (p[0] & 15) * 4 if r["af"] == 2 else 40
        if p[off] in (0, 8, 128, 129):
            pid = ping4 if r["af"] == 2 else ping6
            return "ping", (pid, "ping", pid, "ping")
    return "no socket of a process", None


stats = {}
bad = []
for _, r in recs:
    kind, want = expected(r)
    got = (r["pid"], r["comm"], r["epid"], r["ecomm"])
    ok = got == (want if want else (-1, "", -1, ""))
    n, good = stats.get(kind, (0, 0))
    stats[kind] = (n + 1, good + ok)
    if not ok and len(bad) < 10:
        bad.append((kind, ip_summary(r), r["flags"], got, want))

for kind in sorted(stats):
    n, good = stats[kind]
    t.diag("%-24s %4d records, %4d right" % (kind, n, good))
for kind in ("udp server", "udp client", "tcp server", "tcp client",
             "ping", "fork parent", "forked child", "forwarded"):
    n, good = stats.get(kind, (0, 0))
    t.ok(n > 0 and good == n, "%s: %d of %d records right" % (kind, good, n),
         [b for b in bad if b[0] == kind])
t.ok(not bad, "every record of iptap0 is right", bad)
from_c = sorted(ip_summary(r)[1] for _, r in recs
                if ip_summary(r)[2] == 17 and ip_summary(r)[0] == "10.0.1.2")
t.ok(from_c == sorted(passing + ["10.0.0.1"]),
     "datagrams from c to the port of a server bound to any address were "
     "checked: to a's address of another interface (the server's), and, "
     "nobody's, through a to %s" % " and ".join(passing), from_c)



def tcp_ports_payload(r):
    """(source port, destination port, payload bytes) of a TCP record."""
    p = r["packet"]
    hl = (p[0] & 15) * 4 if r["af"] == 2 else 40
    sport, dport = struct.unpack_from(">HH", p, hl)
    return sport, dport, ip_summary(r)[3] - hl - (p[hl + 12] >> 4) * 4


# b's upload to a's server, whole, and a's ACKs of it, sent in softirq.
# How many records carry them depends on the sizes GSO gives its packets
# (50 to well over 50 data records in): count the upload's bytes, and
# the ACKs TCP must send for them (at least one for every second
# segment, and a segment is at most 64 KiB: 500,000 bytes, 4 ACKs).
upload = [tcp_ports_payload(r) for _, r in recs
          if r["ipproto"] == 6 and r["af"] == 2]
got_in = sum(n for sport, dport, n in upload if dport == 7102)
acks_out = sum(1 for sport, dport, n in upload if sport == 7102 and not n)
t.ok(got_in >= 500000 and acks_out >= 4,
     "bulk TCP: the upload's data in (%d bytes of 500,000) and a's %d "
     "ACKs of it out were checked" % (got_in, acks_out))
seen, retrans = set(), 0
for _, r in recs:
    p = r["packet"]
    if r["ipproto"] != 6 or r["flags"] != DIR_OUT:
        continue
    hl = (p[0] & 15) * 4 if r["af"] == 2 else 40
    key = (r["af"], p[hl:hl + 4], p[hl + 4:hl + 8])
    if len(p) > hl + (p[hl + 12] >> 4) * 4:
        retrans += key in seen
        seen.add(key)
t.ok(retrans > 0, "retransmissions were among the records checked",
     retrans)
t.eq(sysfs("iptap0", "iptap/unattributed", ns="a"), "0",
     "no packet of a local socket went unattributed")
t.diag("records of no process: %s" % sorted(set(
    (ip_summary(r), r["flags"]) for _, r in recs
    if expected(r)[0] == "no socket of a process")))

# iptap1 belongs to a child PID namespace: only its own process shows.
mine = [r for _, r in recs1 if (expected(r)[1] or (0,))[0] == ns_outer]
others = [r for _, r in recs1 if r not in mine]
t.ok(mine and all((r["pid"], r["comm"]) == (ns_inner, "pidns-client")
                  for r in mine),
     "child PID namespace device: its process shows with its inner pid %d"
     % ns_inner, [(r["pid"], r["comm"]) for r in mine])
t.ok(others and all((r["pid"], r["comm"], r["epid"], r["ecomm"]) ==
                    (-1, "", -1, "") for r in others),
     "child PID namespace device: every other process is -1, unnamed",
     [(r["pid"], r["comm"]) for r in others if r["pid"] != -1][:5])

# tshark reads the process fields from a capture file.
write_pcap("/tmp/attr.pcap", [r["raw"] for _, r in recs])
out = sh("tshark -r /tmp/attr.pcap -Y 'tcp.dstport == 7102' -T fields "
         "-e pktap.pid -e pktap.cmdname", check=False).stdout.split("\n")
t.ok(out[0] == "%d\ttcp-server" % tsrv_pid,
     "tshark shows pktap.pid and pktap.cmdname", out[:3])
t.done()
