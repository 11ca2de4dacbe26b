#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (not Debian's 6.12 kernels: their source is the debug kernel's of
# make check-debug, where it runs on PREEMPT_RT, with lockdep.)
"""Malformed and unusual packets.

b injects hand-made frames into the veth with a packet socket; a has
iptap0 and a listener.  Truncated and bad IPv4/IPv6 headers (which the IP
layer drops before PRE_ROUTING), fragments (first, middle, overlapping),
IPv6 extension-header chains (long, truncated, unknown), truncated
transport headers, empty payloads, and UDP to and from port 0, which a
socket can neither send to nor be bound to.  They come once iptap caches
UDP flows (a second after its probes are armed), so they meet the cache's
parse too.  Each packet that reaches the hook
must be captured byte for byte; nothing may crash or warn (the harness
reads the kernel log); capture must keep working.  On kernels with BIG
TCP for IPv4 (6.3+), GSO packets over 64 KiB (IPv4 with tot_len 0, IPv6
with a jumbo hop-by-hop option) are captured whole.
"""

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (DIR_IN, DIR_OUT, Capture, Tap, bg, inet_csum,
                      ip_summary, iptap_add, load_module, netns, sh, stop,
                      veth_pair)

t = Tap()
load_module()
veth_pair("a", "b")
iptap_add(ns="a")
mac_a = bytes.fromhex(sh("cat /sys/class/net/va1/address", ns="a")
                      .stdout.strip().replace(":", ""))
mac_b = bytes.fromhex(sh("cat /sys/class/net/vb1/address", ns="b")
                      .stdout.strip().replace(":", ""))
A4, B4 = socket.inet_aton("10.0.0.1"), socket.inet_aton("10.0.0.2")
A6 = socket.inet_pton(socket.AF_INET6, "fd00::1")
B6 = socket.inet_pton(socket.AF_INET6, "fd00::2")


def ip4(ident, proto, payload, ihl=5, tot=None, frag=0, good_csum=True,
        options=b""):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot if tot is not None
                      else 20 + len(options) + len(payload), ident, frag, 64,
                      proto, 0, B4, A4) + options
    if good_csum:
        hdr = hdr[:10] + struct.pack("!H", inet_csum(hdr)) + hdr[12:]
    return hdr + payload


def ip6(flow, nexthdr, payload, plen=None):
    return struct.pack("!IHBB16s16s", 0x60000000 | flow, len(payload)
                       if plen is None else plen, nexthdr, 64, B6, A6) + \
        payload


def ext(nexthdr, length8=0, body=None):
    """An IPv6 extension header of (length8 + 1) * 8 bytes."""
    body = body if body is not None else b"\x01" + bytes([length8 * 8 + 4]) \
        + b"\0" * (length8 * 8 + 4)
    return bytes([nexthdr, length8]) + body[:length8 * 8 + 6]


UDP = struct.pack("!HHHH", 7600, 7500, 16, 0) + b"payload!"
UDP_TO_0 = struct.pack("!HHHH", 7600, 0, 16, 0) + b"payload!"
UDP_FROM_0 = struct.pack("!HHHH", 0, 7500, 16, 0) + b"payload!"
TCP = struct.pack("!HHIIBBHHH", 7601, 7501, 1, 0, 0x50, 0x02, 1000, 0, 0)

# (name, frame payload, ethertype, must it reach PRE_ROUTING?)
cases = [
    ("IPv4 truncated header", ip4(1, 17, UDP)[:10], 0x0800, False),
    ("IPv4 IHL 3", ip4(2, 17, UDP, ihl=3), 0x0800, False),
    ("IPv4 IHL 15, short", ip4(3, 17, UDP, ihl=15), 0x0800, False),
    ("IPv4 tot_len beyond the frame", ip4(4, 17, UDP, tot=500), 0x0800,
     False),
    ("IPv4 tot_len below IHL", ip4(5, 17, UDP, tot=12), 0x0800, False),
    ("IPv4 bad checksum", ip4(6, 17, UDP, good_csum=False), 0x0800, False),
    ("IPv4 truncated UDP header", ip4(7, 17, UDP[:4]), 0x0800, True),
    ("IPv4 truncated TCP header", ip4(8, 6, TCP[:10]), 0x0800, True),
    ("IPv4 UDP, empty payload", ip4(9, 17, UDP[:4] + b"\0\x08\0\0"),
     0x0800, True),
    ("IPv4 no payload at all", ip4(10, 17, b""), 0x0800, True),
    ("IPv4 first fragment", ip4(11, 17, UDP + b"x" * 8, frag=0x2000),
     0x0800, True),
    ("IPv4 middle fragment", ip4(11, 17, b"y" * 16, frag=0x2000 | 2),
     0x0800, True),
    ("IPv4 overlapping fragment", ip4(11, 17, b"z" * 16, frag=0x2000 | 1),
     0x0800, True),
    ("IPv4 with options", ip4(12, 17, UDP, ihl=6, options=b"\x01" * 4),
     0x0800, True),
    ("IPv4 UDP to port 0", ip4(13, 17, UDP_TO_0), 0x0800, True),
    ("IPv4 UDP from port 0", ip4(14, 17, UDP_FROM_0), 0x0800, True),
    ("IPv6 truncated header", ip6(1, 17, UDP)[:20], 0x86dd, False),
    ("IPv6 payload length beyond the frame", ip6(2, 17, UDP, plen=400),
     0x86dd, False),
    ("IPv6 long extension chain",
     ip6(3, 60, b"".join(ext(60) for _ in range(9)) + ext(17) + UDP),
     0x86dd, True),
    ("IPv6 extension chain beyond the kernel's walk",
     ip6(13, 60, b"".join(ext(60) for _ in range(20)) + ext(17) + UDP),
     0x86dd, True),
    ("IPv6 truncated extension chain", ip6(4, 60, ext(60) + b"\x3c\x20"),
     0x86dd, True),
    ("IPv6 extension header longer than the packet",
     ip6(5, 60, bytes([17, 0x20]) + b"\0" * 6), 0x86dd, True),
    ("IPv6 unknown extension header", ip6(6, 253, b"\x11\0" + b"\0" * 6 +
                                          UDP), 0x86dd, True),
    ("IPv6 truncated UDP header", ip6(7, 17, UDP[:3]), 0x86dd, True),
    ("IPv6 truncated TCP header", ip6(8, 6, TCP[:7]), 0x86dd, True),
    ("IPv6 no next header, empty", ip6(9, 59, b""), 0x86dd, True),
    ("IPv6 first fragment", ip6(10, 44, struct.pack("!BBHI", 17, 0, 1, 99)
                                + UDP), 0x86dd, True),
    ("IPv6 middle fragment", ip6(11, 44, struct.pack("!BBHI", 17, 0,
                                                      (2 << 3) | 1, 99)
                                 + b"m" * 16), 0x86dd, True),
    ("IPv6 UDP to port 0", ip6(12, 17, UDP_TO_0), 0x86dd, True),
    ("IPv6 UDP from port 0", ip6(13, 17, UDP_FROM_0), 0x86dd, True),
]

with netns("b"):
    inj = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    inj.bind(("vb1", 0))
with Capture(ns="a") as cap:
    time.sleep(1.5)
    for name, pkt, etype, _ in cases:
        inj.send(mac_a + mac_b + struct.pack("!H", etype) + pkt)
        time.sleep(0.02)
    recs = [r for _, r in cap.read() if r["flags"] == DIR_IN]
inj.close()

for name, pkt, etype, must in cases:
    got = [r for r in recs if r["packet"] == pkt]
    near = [r for r in recs if r["packet"][:20] == pkt[:20] and
            r["packet"] != pkt]
    if must:
        t.ok(len(got) == 1 and not near, "%s: captured byte for byte" % name,
             [r["packet"].hex() for r in near])
    else:
        t.ok(not near, "%s: dropped before the hook, or captured as is" %
             name, [r["packet"].hex() for r in near])
by_name = {n: [r for r in recs if r["packet"] == p] for n, p, _, _ in cases}
t.eq([r["ipproto"] for r in by_name["IPv6 long extension chain"]], [17],
     "a long IPv6 extension chain (10 headers) is walked to UDP")
# ipv6_find_hdr() walks at most IP6_MAX_EXT_HDRS_CNT (12) extension
# headers in 7.1 (not in 6.12): beyond, the record gives the fixed
# header's next header, as for any chain that cannot be walked.
rel = tuple(int(x) for x in os.uname().release.split(".")[:2])
want = [17] if rel < (6, 13) else [60] if rel >= (7, 1) else [17, 60]
got = [r["ipproto"] for r in by_name["IPv6 extension chain beyond the kernel's walk"]]
t.ok(len(got) == 1 and got[0] in want,
     "21 extension headers: %s (want one of %s on %s)" % (got, want,
                                                          os.uname().release))
t.eq([r["ipproto"] for r in by_name["IPv6 unknown extension header"]],
     [253], "an unknown extension header is the protocol")
t.eq([r["ipproto"] for r in by_name["IPv6 middle fragment"]], [17],
     "a middle IPv6 fragment names its datagram's protocol")
t.eq([r["pid"] for r in by_name["IPv4 middle fragment"]], [-1],
     "a middle fragment is nobody's")

sh("ping -c1 -W2 10.0.0.2", ns="a")
with Capture(ns="a") as cap:
    sh("ping -c2 -i0.1 -W2 10.0.0.2", ns="a")
    t.eq(len([r for _, r in cap.read() if r["ipproto"] == 1]), 4,
         "capture keeps working after all that")

# --- BIG TCP: GSO packets beyond 64 KiB ------------------------------------
big4 = sh("ip -n a link set va1 gso_ipv4_max_size 180000 gro_ipv4_max_size "
          "180000", check=False).returncode == 0
if not big4:
    t.diag("no BIG TCP for IPv4 on this kernel (before 6.3): skipped")
else:
    sh("ip -n a link set va1 gso_max_size 180000 gro_max_size 180000")
    sh("ip -n b link set vb1 gso_ipv4_max_size 180000 gro_ipv4_max_size "
       "180000 gso_max_size 180000 gro_max_size 180000")
    for fam, dst in ((4, "10.0.0.2"), (6, "[fd00::2]")):
        srv = bg("socat -u TCP%d-LISTEN:7700,reuseaddr OPEN:/dev/null" % fam,
                 ns="b")
        time.sleep(0.5)
        with Capture(ns="a") as cap:
            sh("head -c 20000000 /dev/zero | socat -u -,blksize=262144 "
               "TCP%d:%s:7700" % (fam, dst), ns="a")
            recs = [r for _, r in cap.read() if r["flags"] == DIR_OUT and
                    r["ipproto"] == 6 and len(r["packet"]) > 65535]
        stop(srv)
        if fam == 4:
            t.ok(recs and all(ip_summary(r)[3] == 0 for r in recs),
                 "IPv4 BIG TCP: records over 64 KiB, tot_len 0, whole",
                 max([len(r["packet"]) for r in recs] or [0]))
        else:
            t.ok(recs and all(r["packet"][6] == 0 for r in recs),
                 "IPv6 BIG TCP: records over 64 KiB with a jumbo hop-by-hop "
                 "header, ipproto TCP", max([len(r["packet"]) for r in recs]
                                            or [0]))
t.done()
