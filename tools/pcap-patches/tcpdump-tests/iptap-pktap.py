#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Write iptap-pktap.pcap, the input of the -k and -Q cases that patch
0006 adds to tcpdump's own tests (tests/TESTLIST), on standard output.

Records as an iptap device makes them (include/uapi/linux/iptap.h): the
156-byte PKTAP header, iptap's extension (uid, cgroup ID), the AF word,
the IP packet; the last-but-one has no extension, as macOS's records.
Each record exercises something of -k or -Q: a process and its
effective process, names that must be escaped, a packet of no process,
service classes, interface names sharing a prefix, IPv4 and IPv6.
"""

import struct
import sys

SVC = {"BE": 0, "BK": 200, "CTL": 900}
IN, OUT = 1, 2


def pktap(ifname, direction, pid, comm, epid, ecomm, svc, flowid, af,
          ext=None):
    """The PKTAP header; ext is (uid, cgroup ID) or None."""
    h = bytearray(156)
    struct.pack_into("<III", h, 0, 156 + (16 if ext else 0), 1, 0)
    h[12:12 + len(ifname)] = ifname.encode()
    struct.pack_into("<II", h, 36, direction, af)
    struct.pack_into("<i", h, 52, pid)
    h[56:56 + len(comm)] = comm.encode()
    struct.pack_into("<I", h, 76, SVC[svc])
    struct.pack_into("<i", h, 84, epid)
    h[88:88 + len(ecomm)] = ecomm.encode()
    struct.pack_into("<II", h, 108, flowid, 17)
    if ext:
        h += struct.pack("<IQI", 0x31747069, ext[1], ext[0] & 0xffffffff)
    return bytes(h)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, proto, payload):
    a = bytes(map(int, src.split("."))) + bytes(map(int, dst.split(".")))
    h = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(payload), 1, 0x4000, 64,
                    proto, 0) + a
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(sport, dport, seq, ack, flags):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags,
                       64240, 0, 0)


def icmp_echo(ident, seq):
    return struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"iptap-test"


def ipv6_ns(src, dst, target):
    body = struct.pack("!BBHI", 135, 0, 0, 0) + target
    return struct.pack("!IHBB", 6 << 28, len(body), 58, 255) + src + dst + body


LL = bytes.fromhex("fe800000000000000000000000000001")
SNM = bytes.fromhex("ff0200000000000000000001ff000002")
TGT = bytes.fromhex("fe800000000000000000000000000002")
CURL = (1000, 4242)

records = [
    (pktap("eth0", OUT, 1234, "curl", 1234, "curl", "BE", 0x1a2b3c4d, 2,
           CURL), ipv4("10.0.0.1", "93.184.216.34", 6,
                       tcp(40000, 443, 1000, 0, 0x02))),
    (pktap("eth0", IN, 1234, "curl", 1234, "curl", "BE", 0x1a2b3c4d, 2,
           CURL), ipv4("93.184.216.34", "10.0.0.1", 6,
                       tcp(443, 40000, 5000, 1001, 0x12))),
    (pktap("eth0", IN, -1, "", -1, "", "BE", 0x77, 30, (-1, 0)),
     ipv6_ns(LL, SNM, TGT)),
    (pktap("lo", OUT, 77, "Web Cont,(x)", 70, "launcher", "BK", 0x1234, 2,
           (0, 7)), ipv4("127.0.0.1", "127.0.0.1", 17,
                         udp(40001, 9999, b"abcd"))),
    (pktap("eth1", OUT, 300, "ping", 300, "ping", "CTL", 0x5, 2, CURL),
     ipv4("10.1.0.1", "10.1.0.2", 1, icmp_echo(300, 1))),
    (pktap("en0", IN, 99, "mDNSResponder", 99, "mDNSResponder", "BE", 0x9,
           2), ipv4("10.2.0.7", "224.0.0.251", 17, udp(5353, 5353, bytes(12)))),
    (pktap("eth10", IN, 555, "nginx", 550, "nginx", "BE", 0x42, 2,
           (33, 99)), ipv4("10.3.0.9", "10.3.0.1", 17,
                           udp(50000, 8080, b"GET"))),
]

out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 258)
for i, (hdr, pkt) in enumerate(records):
    af = struct.unpack_from("<I", hdr, 40)[0]
    rec = hdr + struct.pack("<I", af) + pkt
    out += struct.pack("<IIII", 1700000000 + i, 1000 * i, len(rec),
                       len(rec)) + rec
sys.stdout.buffer.write(out)
