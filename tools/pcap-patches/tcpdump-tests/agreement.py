#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The patched libpcap's filters on PKTAP records agree with stock
libpcap's on the bare link-layer frames, for each link-layer type a
PKTAP header may announce in pth_dlt (DLT_NULL, DLT_EN10MB, DLT_RAW).

The same packets (IPv4 and IPv6; TCP, UDP, ICMP, ICMPv6; a fragment;
ARP and a VLAN-tagged frame on Ethernet) are written as Ethernet, raw IP
and DLT_NULL capture files, which stock tcpdump filters, and wrapped in
PKTAP headers of the matching pth_dlt, which the patched tcpdump
filters: each expression must select the same packets.  A last file
mixes the three types record by record, as a macOS capture of several
interfaces does.

usage: agreement.py STOCK_TCPDUMP PATCHED_TCPDUMP
Prints "ok"/"not ok" lines and "agreement: N passed, N failed".
"""

import os
import struct
import subprocess
import sys
import tempfile

DLT_NULL, DLT_EN10MB, DLT_RAW = 0, 1, 12
LINKTYPE_RAW, LINKTYPE_PKTAP = 101, 258

EXPRESSIONS = [
    "ip", "ip6", "not ip", "not ip6", "tcp", "udp", "icmp", "icmp6",
    "arp", "not arp", "udp port 53", "tcp port 443", "host 10.0.0.1",
    "src host fd00::1", "net 10.1.0.0/16", "ip and not udp",
    "ip6 and tcp port 443", "tcp[tcpflags] & tcp-syn != 0", "ip[8] = 64",
    "ip proto 17", "portrange 1000-2000", "ip[6:2] & 0x3fff != 0",
    "ip6 or arp", "icmp[icmptype] = icmp-echo", "dst port 53 or arp",
]

# What PKTAP filters cannot do right on every record is refused with a
# message, never compiled to a silent "no".
REFUSED = [
    "pppoes", "stp", "ipx", "atalk", "iso", "llc", "ether proto 100",
    "ether host 02:00:00:00:00:01", "vlan", "mpls", "geneve",
]


def csum_free_ip4(proto, src, dst, payload, ttl=64, frag=0):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 7,
                       frag, ttl, proto, 0, bytes(src), bytes(dst)) + payload


def ip6(nh, src, dst, payload):
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), nh, 64,
                       bytes(src), bytes(dst)) + payload


def a4(s):
    return bytes(int(x) for x in s.split("."))


def a6(last):
    return bytes([0xfd] + [0] * 14 + [last])


def tcp(sp, dp, flags):
    return struct.pack(">HHIIBBHHH", sp, dp, 1, 0, 0x50, flags, 512, 0, 0)


def udp(sp, dp, data=b"abcd"):
    return struct.pack(">HHHH", sp, dp, 8 + len(data), 0) + data


def packets():
    """(ethertype, packet) of each test packet."""
    icmp_echo = struct.pack(">BBHHH", 8, 0, 0, 1, 1) + b"ping"
    icmp6_echo = struct.pack(">BBHHH", 128, 0, 0, 1, 1) + b"ping"
    arp = struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\x02" * 6,
                      a4("10.0.0.1"), b"\0" * 6, a4("10.0.0.2"))
    return [
        (0x0800, csum_free_ip4(6, a4("10.0.0.1"), a4("10.0.0.2"),
                               tcp(40000, 443, 0x02))),
        (0x0800, csum_free_ip4(17, a4("10.1.2.3"), a4("10.0.0.9"),
                               udp(1500, 53), ttl=63)),
        (0x0800, csum_free_ip4(1, a4("10.0.0.2"), a4("10.0.0.1"),
                               icmp_echo)),
        (0x0800, csum_free_ip4(17, a4("10.0.0.1"), a4("10.0.0.3"),
                               udp(5000, 6000), frag=0x2000)),
        (0x86dd, ip6(6, a6(1), a6(2), tcp(41000, 443, 0x12))),
        (0x86dd, ip6(17, a6(2), a6(1), udp(53, 1234))),
        (0x86dd, ip6(58, a6(1), a6(3), icmp6_echo)),
        (0x0806, arp),
        (0x8100, struct.pack(">HH", 5, 0x0800) +
         csum_free_ip4(6, a4("10.0.0.1"), a4("10.0.0.2"), tcp(1, 443, 2))),
    ]


def ether(ethertype, pkt):
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + \
        struct.pack(">H", ethertype) + pkt


def null(ethertype, pkt):
    return struct.pack("<I", 2 if ethertype == 0x0800 else 30) + pkt


def pktap(dlt, frame):
    """A PKTAP header of version 1 (156 bytes) announcing dlt."""
    h = bytearray(156)
    struct.pack_into("<III", h, 0, 156, 1, dlt)
    h[12:16] = b"en0\0"
    struct.pack_into("<Ii", h, 36, 2, 42)
    h[56:60] = b"app\0"
    return bytes(h) + frame


# The frames of each link-layer type: (ok for this type, frame).
FRAMES = {
    DLT_EN10MB: lambda et, p: ether(et, p),
    DLT_RAW: lambda et, p: p if et in (0x0800, 0x86dd) else None,
    DLT_NULL: lambda et, p: null(et, p) if et in (0x0800, 0x86dd) else None,
}
LINKTYPES = {DLT_EN10MB: 1, DLT_RAW: LINKTYPE_RAW, DLT_NULL: 0}


def write_pcap(path, linktype, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535,
                            linktype))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr),
                                len(fr)))
            f.write(fr)


def matches(tcpdump, path, expr):
    """The positions (from 1) in the file of the packets expr selects,
    told by their timestamps, or the error.  An expression libpcap finds
    can match nothing selects nothing."""
    r = subprocess.run([tcpdump, "-nn", "-tt", "-r", path, expr],
                       capture_output=True, text=True)
    if r.returncode:
        if "expression rejects all packets" in r.stderr:
            return []
        return "error: " + r.stderr.strip().splitlines()[-1]
    return [int(line.split(".")[0]) - 1700000000 + 1
            for line in r.stdout.splitlines() if line.strip()]


def main():
    stock, patched = sys.argv[1], sys.argv[2]
    passed = failed = 0
    tmp = tempfile.mkdtemp()
    mixed, mixed_map = [], {}
    files = {}
    for dlt, make in FRAMES.items():
        frames = [make(et, p) for et, p in packets()]
        frames = [f for f in frames if f is not None]
        plain = os.path.join(tmp, "plain-%d.pcap" % dlt)
        wrapped = os.path.join(tmp, "pktap-%d.pcap" % dlt)
        write_pcap(plain, LINKTYPES[dlt], frames)
        write_pcap(wrapped, LINKTYPE_PKTAP, [pktap(dlt, f) for f in frames])
        files[dlt] = (plain, wrapped)
        for i, f in enumerate(frames):
            mixed.append(pktap(dlt, f))
            mixed_map[(dlt, i + 1)] = len(mixed)
    mixed_path = os.path.join(tmp, "pktap-mixed.pcap")
    write_pcap(mixed_path, LINKTYPE_PKTAP, mixed)

    names = {DLT_NULL: "DLT_NULL", DLT_EN10MB: "DLT_EN10MB",
             DLT_RAW: "DLT_RAW"}
    for expr in EXPRESSIONS:
        bad = []
        union = []
        for dlt, (plain, wrapped) in files.items():
            want = matches(stock, plain, expr)
            got = matches(patched, wrapped, expr)
            if want != got:
                bad.append("%s: stock %s, PKTAP %s" % (names[dlt], want, got))
            if isinstance(want, list):
                union += [mixed_map[(dlt, n)] for n in want]
        got = matches(patched, mixed_path, expr)
        if got != sorted(union):
            bad.append("mixed: want %s, got %s" % (sorted(union), got))
        if bad:
            failed += 1
            print("not ok - \"%s\" selects the same packets" % expr)
            for b in bad:
                print("#   " + b)
        else:
            passed += 1
            print("ok - \"%s\" selects the same packets" % expr)
    for expr in REFUSED:
        got = matches(patched, files[DLT_EN10MB][1], expr)
        if isinstance(got, str) and any(
                m in got for m in ("not supported", "supported only",
                                   "no VLAN", "no MPLS")):
            passed += 1
            print("ok - \"%s\" is refused: %s" % (expr, got[7:]))
        else:
            failed += 1
            print("not ok - \"%s\" is refused: %s" % (expr, got))
    # A type PKTAP filters cannot handle: no match, whatever the filter.
    other = os.path.join(tmp, "pktap-other.pcap")
    write_pcap(other, LINKTYPE_PKTAP,
               [pktap(105, b"\0" * 40)])     # DLT_IEEE802_11
    got = [matches(patched, other, e) for e in ("ip", "not ip")]
    if got == [[], []]:
        passed += 1
        print("ok - records of another pth_dlt match no filter")
    else:
        failed += 1
        print("not ok - records of another pth_dlt match no filter: %s" % got)
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    print("agreement: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
