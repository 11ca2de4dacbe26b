#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (not Debian's 6.12 kernels: their source is the debug kernel's of
# make check-debug, where it runs on PREEMPT_RT, with lockdep.)
"""Records written into a buffer a ring gave back.

Each CPU keeps the last record that a ring socket copied and let go of,
and writes the next record into it (kmod/record.c).  A record a socket
without a ring still holds in its queue must never be written over.

Topology: namespaces a and b joined by a veth of MTU 9000; iptap0 lives
in a.  A sender in a and one in b each send datagrams of sizes that grow
and shrink (5 bytes to 8000, past the largest record kept), each
numbered and filled with a pattern of its own.  Captured by iptapdump's ring alone, then by the
ring and by a packet socket that reads only after the last datagram
(every record waits in its queue while the next ones are made), then by
that socket alone: every record must carry its own datagram, whole.

A TCP stream's GSO packets make records that share the packet's pages;
kept, such a record lets go of them.  A stream written 64 KiB at a time,
each write followed by a datagram, must come out of the ring and out of
a socket read last whole, the datagrams too; and 256 MiB sent past a
ring whose filter takes only UDP must leave the memory the stream used
free again.
"""

import os
import shutil
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (ETH_P_ALL, ROOT, SO_RCVBUFFORCE, Tap, ToolRun,
                      iptap_add, load_module, netns, parse_record, read_pcap,
                      veth_pair, wait_hooks)

TOOL = os.path.join(ROOT, "tools", "iptapdump", "iptapdump")
OUT = "/tmp/reuse-test"
# Linear packets all, up to twice the largest record kept (4 KiB).
SIZES = (5, 1400, 7, 1000, 6000, 64, 1472, 200, 8000, 33)
COUNT = 200
PORT_OUT, PORT_IN = 9999, 9998
PORT_TCP = 9997
CHUNK = 64 << 10

t = Tap()
load_module()
veth_pair("a", "b", mtu=9000)
iptap_add("iptap0", ns="a")
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)


def payload(tag, i):
    """Datagram i of sender tag: its number, then a pattern of its own."""
    size = SIZES[i % len(SIZES)]
    body = bytes((i * 7 + k + tag) & 0xff for k in range(size - 5))
    return struct.pack("!BI", tag, i) + body


def send_both():
    """Each sender's datagrams, from a socket made in its namespace."""
    for ns, tag, addr, port in (("a", 1, "10.0.0.2", PORT_OUT),
                                ("b", 2, "10.0.0.1", PORT_IN)):
        with netns(ns):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with s:
            for i in range(COUNT):
                s.sendto(payload(tag, i), (addr, port))


def datagrams(packets):
    """The payloads of the UDP datagrams to our ports, from the records'
    IPv4 packets."""
    got = []
    for pkt in packets:
        if len(pkt) < 28 or pkt[0] >> 4 != 4 or pkt[9] != 17:
            continue
        ihl = (pkt[0] & 0xf) * 4
        if struct.unpack_from("!H", pkt, ihl + 2)[0] in (PORT_OUT, PORT_IN):
            got.append(pkt[ihl + 8:])
    return got


def check(name, packets):
    """Every datagram once, each with its own bytes."""
    got = datagrams(packets)
    want = {(tag, i): payload(tag, i) for tag in (1, 2) for i in range(COUNT)}
    seen = {}
    for data in got:
        key = struct.unpack_from("!BI", data) if len(data) >= 5 else None
        seen.setdefault(key, []).append(data)
    bad = [k for k, p in want.items() if seen.get(k) != [p]]
    t.eq(len(got), len(want), "%s: a record for each datagram, out and in"
         % name)
    t.ok(not bad, "%s: each record carries its own datagram, whole" % name,
         [(k, [len(d) for d in seen.get(k, [])]) for k in bad[:5]])


def pcap_packets(path):
    """The IP packet of each record of a PKTAP pcap file."""
    return [rec["packet"] for rec in map(parse_record, read_pcap(path))
            if rec]


class Dump(ToolRun):
    def __init__(self, name, expr="udp", mib=8):
        super().__init__(name, ["ip", "netns", "exec", "a", TOOL, "-B",
                                str(mib), "-w", "%s/%s.pcap" % (OUT, name),
                                expr], OUT)


def slow_reader():
    """A packet socket on iptap0 that nobody reads until told."""
    with netns("a"):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
        s.bind(("iptap0", ETH_P_ALL))
        wait_hooks()
    return s


def read_all(s):
    out = []
    s.setblocking(False)
    while True:
        try:
            data = s.recv(1 << 18)	# a GSO packet's record is larger
        except BlockingIOError:
            return out
        rec = parse_record(data)
        if rec:
            out.append(rec["packet"])


# --- a ring alone: most records are written into the kept buffer ---------
ring = Dump("ring")
t.ok(b"listening on iptap0" in ring.err, "iptapdump listens", ring.stderr)
send_both()
ring.interrupt()
check("ring alone", pcap_packets(OUT + "/ring.pcap"))

# --- a ring and a queue: the queued records must stay as they were -------
ring = Dump("both")
slow = slow_reader()
send_both()
ring.interrupt()
check("ring beside a queue, the ring's records",
      pcap_packets(OUT + "/both.pcap"))
check("ring beside a queue, the queue's records, read last",
      read_all(slow))
slow.close()

# --- a queue alone: every record is kept by the socket -------------------
slow = slow_reader()
send_both()
check("a queue alone, read last", read_all(slow))
slow.close()

# --- GSO packets: a kept record lets go of the pages it shared ----------
def chunk(i):
    """Write i of the stream: 64 KiB of a pattern of its own."""
    return bytes((i * 13 + k) & 0xff for k in range(256)) * (CHUNK // 256)


def stream(chunks, datagram=None):
    """A TCP connection from a to b carrying chunks writes of 64 KiB,
    each followed by datagram(i) if given; the bytes b read, or with no
    datagrams only their number."""
    with netns("b"):
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("10.0.0.2", PORT_TCP))
    srv.listen(1)
    got = []

    def serve():
        conn, _ = srv.accept()
        with conn:
            while True:
                data = conn.recv(1 << 20)
                if not data:
                    return
                got.append(data if datagram else len(data))

    reader = threading.Thread(target=serve)
    reader.start()
    with netns("a"):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with c, u:
        c.connect(("10.0.0.2", PORT_TCP))
        for i in range(chunks):
            c.sendall(chunk(i) if datagram else chunk(0))
            if datagram:
                u.sendto(datagram(i), ("10.0.0.2", PORT_OUT))
    reader.join()
    srv.close()
    return b"".join(got) if datagram else sum(got)


def tcp_payload(packets):
    """The bytes a's records carried to b's port, placed by their
    sequence numbers from the SYN's (retransmissions overlap)."""
    base, data, have = None, bytearray(), bytearray()
    for pkt in packets:
        if len(pkt) < 40 or pkt[0] >> 4 != 4 or pkt[9] != 6:
            continue
        ihl = (pkt[0] & 0xf) * 4
        _, dport, seq = struct.unpack_from("!HHI", pkt, ihl)
        if dport != PORT_TCP:
            continue
        if pkt[ihl + 13] & 0x02:	# SYN
            base = (seq + 1) & 0xffffffff
            continue
        doff = (pkt[ihl + 12] >> 4) * 4
        seg = pkt[ihl + doff:struct.unpack_from("!H", pkt, 2)[0]]
        if base is None or not seg:
            continue
        off = (seq - base) & 0xffffffff
        end = off + len(seg)
        if end > len(data):
            data.extend(bytes(end - len(data)))
            have.extend(bytes(end - len(have)))
        data[off:end] = seg
        have[off:end] = b"\1" * len(seg)
    hole = have.find(0)
    return bytes(data if hole < 0 else data[:hole])


CHUNKS = 64
SENT = b"".join(chunk(i) for i in range(CHUNKS))


def check_stream(name, packets):
    """The stream and the datagrams between its writes, each whole."""
    big = [p for p in packets if len(p) > 9000]
    t.ok(big, "%s: the stream leaves a in GSO packets larger than the MTU"
         % name, "largest packet %d bytes" % max(map(len, packets), default=0))
    got = tcp_payload(packets)
    t.ok(got == SENT, "%s: the stream's records, GSO packets among them, "
         "carry it whole" % name, "%d of %d bytes" % (len(got), len(SENT)))
    dgrams = datagrams(packets)
    t.ok(dgrams == [payload(1, i) for i in range(CHUNKS)],
         "%s: each datagram after a GSO packet's record carries its own "
         "bytes" % name, [len(d) for d in dgrams[:8]])


for queue in (False, True):
    name = "stream" + ("-queue" if queue else "")
    # Room for every record: a ring that drops would leave holes.
    ring = Dump(name, "tcp port %d or udp port %d" % (PORT_TCP, PORT_OUT),
                mib=32)
    slow = slow_reader() if queue else None
    read = stream(CHUNKS, lambda i: payload(1, i))
    ring.interrupt()
    t.ok(read == SENT, "%s: b reads the whole stream" % name,
         "%d of %d bytes" % (len(read), len(SENT)))
    check_stream("%s, the ring's records" % name,
                 pcap_packets("%s/%s.pcap" % (OUT, name)))
    if slow:
        check_stream("%s, the queue's records, read last" % name,
                     read_all(slow))
        slow.close()


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) << 10
    return 0


# Records of the stream are made and kept, but the ring's filter takes
# none of them: what they shared must be let go of, every time.
ring = Dump("leak")
before = mem_available()
read = stream(4096)
freed = mem_available()
ring.interrupt()
t.eq(read, 4096 * CHUNK, "b reads 256 MiB")
t.diag("MemAvailable %d MiB before the stream, %d MiB after"
       % (before >> 20, freed >> 20))
t.ok(before - freed < 64 << 20,
     "256 MiB of GSO packets recorded leave no pages behind",
     "MemAvailable %d MiB before, %d MiB after" % (before >> 20, freed >> 20))

t.done()
