#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (not Debian's 6.12 kernels: their source is the debug kernel's of
# make check-debug, where it runs on PREEMPT_RT, with lockdep.)
"""The records a listener on iptap0 receives.

Topology: namespaces a and b joined by a veth (va1 10.0.0.1, fd00::1 in
a; vb1 10.0.0.2, fd00::2 in b); iptap0 lives in a.  Traffic of every
kind crosses the veth in both directions; each record must carry the
right interface, direction, family, transport protocol and length, and
the packet itself.  Then loopback (seen out and in), a GSO-sized TCP
send, and a capture file read by tcpdump and tshark.
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (AF_DARWIN_INET, AF_DARWIN_INET6, DIR_IN, DIR_OUT,
                      EXT_MAGIC, HDR_LEN, PACKET_HOST, PACKET_OUTGOING, Capture, Tap, bg,
                      ip_summary, iptap_add, load_module, netns, sh, stop,
                      veth_pair, write_pcap)

t = Tap()
load_module()
veth_pair("a", "b")
iptap_add(ns="a")


def flows(recs, src, dst, proto):
    return [(pt, r) for pt, r in recs if ip_summary(r)[:3] == (src, dst, proto)]


def check_common(recs, name):
    """Fields that are the same in every record."""
    bad = []
    for pt, r in recs:
        problems = []
        if r["length"] != HDR_LEN or r["type_next"] != 1 or r["dlt"] != 0:
            problems.append("length/type_next/dlt")
        if r["x_magic"] != EXT_MAGIC:
            problems.append("extension magic %r" % r["x_magic"])
        if r["uid"] == -1 and r["cgroup_id"]:
            problems.append("no socket, but cgroup %d" % r["cgroup_id"])
        if r["pre"] or r["post"] or any(r["uuid"]) or any(r["euuid"]):
            problems.append("pre/post/uuid not zero")
        if any(r["pad1"]) or any(r["pad2"]):
            problems.append("padding not zero")
        if any(r["ifname_raw"][len(r["ifname"]):]):
            problems.append("bytes after the interface name")
        for pid, raw in ((r["pid"], r["comm_raw"]), (r["epid"],
                                                     r["ecomm_raw"])):
            comm = raw.split(b"\0")[0]
            if any(raw[len(comm):]) or (pid == -1) != (comm == b""):
                problems.append("pid %d with name %r" % (pid, raw))
        want_af = {AF_DARWIN_INET: 2, AF_DARWIN_INET6: 30}.get(r["family"])
        if r["af"] != want_af:
            problems.append("AF word %d for family %d" % (r["af"],
                                                          r["family"]))
        want_pt = PACKET_OUTGOING if r["flags"] == DIR_OUT else PACKET_HOST
        if r["flags"] not in (DIR_IN, DIR_OUT) or pt != want_pt:
            problems.append("flags %#x with packet type %d" % (r["flags"],
                                                              pt))
        if ip_summary(r)[3] != len(r["packet"]):
            problems.append("IP length %d, record carries %d" % (
                ip_summary(r)[3], len(r["packet"])))
        if problems:
            bad.append((ip_summary(r), problems))
    t.ok(not bad, name + ": header fields", bad[:5])


def expect_one(recs, src, dst, proto, direction, ifname, family, name):
    got = flows(recs, src, dst, proto)
    if not t.ok(len(got) >= 1, name + ": captured", "no record"):
        return
    r = got[0][1]
    t.ok(r["flags"] == direction and r["ifname"] == ifname and
         r["family"] == family and r["ipproto"] == proto and
         r["iftype"] == 1 and r["ifunit"] == 1,
         name + ": direction, interface, family, ipproto",
         {k: r[k] for k in ("flags", "ifname", "family", "ipproto",
                            "iftype", "ifunit")})


# --- ICMP, UDP, TCP over IPv4 and IPv6, both directions -----------------
before = time.time()
with Capture(ns="a") as cap:
    sh("ping -c1 -W2 10.0.0.2", ns="a")
    sh("ping -c1 -W2 fd00::2", ns="a")
    srv = bg("socat -u UDP4-RECV:9000 - & socat -u UDP6-RECV:9000 - & "
             "socat TCP4-LISTEN:9001,reuseaddr EXEC:'echo pong' & "
             "socat TCP6-LISTEN:9004,reuseaddr EXEC:'echo pong' & wait",
             ns="b")
    time.sleep(1)
    sh("echo hello | socat -u - UDP4-SENDTO:10.0.0.2:9000", ns="a")
    sh("echo hello | socat -u - UDP6-SENDTO:[fd00::2]:9000", ns="a")
    sh("echo ping | socat - TCP4:10.0.0.2:9001", ns="a")
    sh("echo ping | socat - TCP6:[fd00::2]:9004", ns="a")
    # b -> a: UDP to a listener in a, and pings from b.
    rcv = bg("timeout 5 socat -u UDP4-RECV:9002 -", ns="a")
    time.sleep(0.5)
    sh("echo hi | socat -u - UDP4-SENDTO:10.0.0.1:9002", ns="b")
    sh("ping -c1 -W2 10.0.0.1", ns="b")
    sh("ping -c1 -W2 fd00::1", ns="b")
    recs = cap.read()
    stop(srv)
    stop(rcv)
after = time.time()

t.diag("%d records" % len(recs))
check_common(recs, "veth traffic")
IN, OUT, V4, V6 = DIR_IN, DIR_OUT, AF_DARWIN_INET, AF_DARWIN_INET6
expect_one(recs, "10.0.0.1", "10.0.0.2", 1, OUT, "va1", V4, "ICMP echo out")
expect_one(recs, "10.0.0.2", "10.0.0.1", 1, IN, "va1", V4, "ICMP reply in")
expect_one(recs, "fd00::1", "fd00::2", 58, OUT, "va1", V6, "ICMPv6 out")
expect_one(recs, "fd00::2", "fd00::1", 58, IN, "va1", V6, "ICMPv6 in")
expect_one(recs, "10.0.0.1", "10.0.0.2", 17, OUT, "va1", V4, "UDP out")
expect_one(recs, "fd00::1", "fd00::2", 17, OUT, "va1", V6, "UDPv6 out")
expect_one(recs, "10.0.0.2", "10.0.0.1", 17, IN, "va1", V4, "UDP in")
expect_one(recs, "10.0.0.1", "10.0.0.2", 6, OUT, "va1", V4, "TCP out")
expect_one(recs, "10.0.0.2", "10.0.0.1", 6, IN, "va1", V4, "TCP in")
expect_one(recs, "fd00::1", "fd00::2", 6, OUT, "va1", V6, "TCPv6 out")
expect_one(recs, "fd00::2", "fd00::1", 6, IN, "va1", V6, "TCPv6 in")

# The extension: the socket's owner and cgroup, here root and the root
# cgroup (ID 1); none for the echo replies a's kernel sends to b.
ROOT_CGROUP = 1 if os.path.exists("/proc/self/cgroup") else 0
udp = flows(recs, "10.0.0.1", "10.0.0.2", 17)[0][1]
reply = flows(recs, "10.0.0.1", "10.0.0.2", 1)
reply = [r for _, r in reply if r["packet"][20] == 0]
t.ok((udp["uid"], udp["cgroup_id"]) == (0, ROOT_CGROUP) and reply and
     (reply[0]["uid"], reply[0]["cgroup_id"]) == (-1, 0),
     "extension: a socket's uid and cgroup ID; -1 and 0 for the kernel's "
     "echo reply", (udp["uid"], udp["cgroup_id"],
                    reply and (reply[0]["uid"], reply[0]["cgroup_id"])))

# Every ping is seen exactly once each way: nothing is duplicated.
t.eq(len([r for _, r in flows(recs, "10.0.0.1", "10.0.0.2", 1)
           if r["packet"][20] == 8]), 1, "one record per packet")
udp = flows(recs, "10.0.0.1", "10.0.0.2", 17)
t.ok(udp and udp[0][1]["packet"][28:] == b"hello\n", "UDP payload intact")
stamps = [r["sec"] + r["usec"] / 1e6 for _, r in recs]
t.ok(all(before - 1 <= s <= after + 1 for s in stamps),
     "pth_tstamp is the capture time", (before, min(stamps), max(stamps)))
t.ok(all(r["flowid"] for _, r in recs if r["ipproto"] in (6, 17)),
     "TCP and UDP records carry a flow hash")

# --- loopback: each packet out on lo, then in on lo ----------------------
with Capture(ns="a") as cap:
    sh("ping -c1 -W2 127.0.0.1", ns="a")
    sh("ping -c1 -W2 ::1", ns="a")
    recs = cap.read()
for fam, addr, proto in ((V4, "127.0.0.1", 1), (V6, "::1", 58)):
    got = [r for _, r in flows(recs, addr, addr, proto)]
    dirs = [(r["flags"], r["ifname"], r["iftype"]) for r in got]
    t.eq(dirs, [(OUT, "lo", 772), (IN, "lo", 772), (OUT, "lo", 772),
                (IN, "lo", 772)], "loopback %s seen out then in" % addr)

# --- interface names: whole, NUL-padded, and the number that ends them ---
# veths (the debug kernel has no dummy), each with a /24 a datagram
# leaves by; the record is made before ARP.  "sh7" was renamed from a
# longer name: the rest of the old name stays in the device's buffer,
# and must not reach the record.
NAMES = {"d65535": 65535, "d65536": 0, "dx2y": 0, "abcdefghijkl123": 123,
         "x0042": 42, "d99999999999": 0, "sh7": 7}
for i, name in enumerate(NAMES):
    first = "longname-a1234" if name == "sh7" else name
    sh("ip link add %s type veth peer name peer%d && ip link set peer%d up "
       "&& ip link set %s up && ip addr add 10.9.%d.1/24 dev %s"
       % (first, i, i, first, i, first), ns="a")
    if first != name:
        sh("ip link set %s down && ip link set %s name %s && "
           "ip link set %s up" % (first, first, name, name), ns="a")
with Capture(ns="a") as cap, netns("a"):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(len(NAMES)):
            s.sendto(b"name", ("10.9.%d.2" % i, 9))
    recs = cap.read()
got = {}
for _, r in recs:
    # The datagrams, not the host-unreachable errors ARP's failure sends.
    if (r["flags"] == DIR_OUT and ip_summary(r)[2] == 17 and
            ip_summary(r)[1].startswith("10.9.")):
        got[r["ifname"]] = (r["ifunit"], any(r["ifname_raw"][len(r["ifname"]):]))
t.eq(got, {name: (unit, False) for name, unit in NAMES.items()},
     "interface names whole and NUL-padded, after a rename too; the "
     "number that ends each, 0 when none or above 65535")
for name in NAMES:
    sh("ip link del %s" % name, ns="a")

# --- the service class: the socket's priority as Darwin's SO_TC_ value ---
# Port 9100 + N carries a datagram sent with SO_PRIORITY N; 9116 one with
# 0x10002, whose low four bits (2) are what pfifo_fast reads.
SVC = {0: 0, 1: 100, 2: 200, 3: 0, 4: 300, 5: 0, 6: 800, 7: 900, 16: 200}
with Capture(ns="a") as cap:
    sh("python3 -c 'import socket\n"
       "for n in %r:\n"
       "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
       "    s.setsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY,\n"
       "                 0x10002 if n == 16 else n)\n"
       "    s.sendto(b\"svc\", (\"10.0.0.2\", 9100 + n))'" % sorted(SVC),
       ns="a")
    recs = cap.read()
got = {}
for _, r in flows(recs, "10.0.0.1", "10.0.0.2", 17):
    got[int.from_bytes(r["packet"][22:24], "big") - 9100] = r["svc"]
t.eq(got, SVC, "pth_svc: SO_PRIORITY 1, 2, 4, 6, 7 give BK_SYS 100, BK 200, "
     "RD 300, VO 800, CTL 900 (Darwin's SO_TC_ values), others BE 0")

# --- GSO: a bulk TCP send is one record per GSO packet -------------------
sh("ethtool -K va1 tso on gso on", ns="a", check=False)
with Capture(ns="a") as cap:
    srv = bg("socat -u TCP4-LISTEN:9003,reuseaddr OPEN:/dev/null", ns="b")
    time.sleep(0.5)
    sh("head -c 1000000 /dev/zero | socat -u - TCP4:10.0.0.2:9003", ns="a")
    recs = cap.read()
    srv.wait(timeout=10)
big = [r for _, r in flows(recs, "10.0.0.1", "10.0.0.2", 6)
       if len(r["packet"]) > 1500]
t.ok(big, "TCP send produces GSO-sized records",
     "largest %d" % max([len(r["packet"]) for _, r in recs] or [0]))
t.ok(all(ip_summary(r)[3] == len(r["packet"]) for r in big),
     "GSO records are whole: IP length == captured length")
t.diag("largest TCP record: %d bytes" % max([len(r["packet"]) for r in big]
                                            or [0]))

# --- a capture file read by tcpdump and tshark ---------------------------
with Capture(ns="a") as cap:
    sh("ping -c2 -i0.2 -W2 10.0.0.2", ns="a")
    recs = [r for _, r in cap.read() if ip_summary(r)[2] == 1]
path = "/tmp/capture.pcap"
write_pcap(path, [r["raw"] for r in recs])
out = sh("tcpdump -nn -r %s" % path, check=False)
t.ok(out.returncode == 0 and out.stdout.count("ICMP echo request") == 2,
     "tcpdump -r decodes the records", out.stdout + out.stderr)
out = sh("tshark -r %s -T fields -e pktap.ifname -e pktap.pid "
         "-e pktap.pfamily -e ip.dst" % path, check=False)
t.diag(out.stdout)
lines = [l.split("\t") for l in out.stdout.splitlines()]
t.ok(out.returncode == 0 and lines and
     all(l[0] == "va1" and l[2] == "2" for l in lines) and
     "10.0.0.2" in [l[3] for l in lines],
     "tshark shows pktap.ifname, pktap.pfamily and the IP packet",
     out.stdout + out.stderr)

t.done()
