#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (The oldest and newest kernels: the scale is the module's own tables and
# scan, the same code on 6.12; owners.py checks them on every kernel.)
"""Attribution stays exact with a hundred and fifty thousand sockets.

Topology: a -- b over a veth; a has four extra addresses.  In a, one
process ("udp-many") binds 75,000 UDP sockets before a's first iptap
device, so the scan must find their owner; a second one binds 75,000
more after it, so the probes must.  (IPTAP_SOCKETS sets the total: the
debug kernel, several times slower, takes fewer.)  Then b sends one
datagram to every one of those sockets, and every record of them must
name the process that holds its socket: none may be missing or
unattributed, and no record may have been refused.
"""

import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (ETH_P_ALL, REC_HLEN, SO_RCVBUFFORCE, Tap, iptap_add,
                      load_module, netns, owner_sysctl, sh, stop, sysfs,
                      veth_pair, wait_hooks, workload)

N = int(os.environ.get("IPTAP_SOCKETS", 150000))
PORT = 10000
BEFORE = ("10.1.0.1", "10.1.0.2")
AFTER = ("10.1.0.3", "10.1.0.4")

t = Tap()
load_module()
veth_pair("a", "b")
for addr in BEFORE + AFTER:
    sh("ip -n a addr add %s/32 dev va1" % addr)
sh("ip -n b route add 10.1.0.0/24 dev vb1")
# The datagrams arrive faster than a TCG guest reads them.
backlog = sh("sysctl -n net.core.netdev_max_backlog").stdout.strip()
sh("sysctl -qw net.core.netdev_max_backlog=200000")

half = N // 2
before, (before_pid,) = workload("a", "udp-many", PORT, half, *BEFORE)
iptap_add("iptap0", ns="a")
after, (after_pid,) = workload("a", "udp-many", PORT, N - half, *AFTER)
t.diag("%d sockets; owner records in a: %d" %
       (N, owner_sysctl("owner_records", "a")))
t.ok(owner_sysctl("owner_records", "a") >= N,
     "every socket has an owner record")

with netns("a"):
    cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    cap.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 512 << 20)
    cap.bind(("iptap0", ETH_P_ALL))
    wait_hooks()
unattr = int(sysfs("iptap0", "iptap/unattributed", ns="a"))
sender, _ = workload("b", "udp-each", PORT, half, *BEFORE)
sender.wait(timeout=600)
sender, _ = workload("b", "udp-each", PORT, N - half, *AFTER)
sender.wait(timeout=600)

# Each datagram's record: (destination, port) -> (pid, comm).
owners = {}
cap.settimeout(2)
buf = bytearray(256)
try:
    while True:
        n = cap.recv_into(buf)
        if n < REC_HLEN + 24 or buf[REC_HLEN - 4] != 2 or \
                buf[REC_HLEN + 9] != 17:
            continue
        dst = socket.inet_ntoa(bytes(buf[REC_HLEN + 16:REC_HLEN + 20]))
        if not dst.startswith("10.1.0."):
            continue
        dport = struct.unpack_from(">H", buf, REC_HLEN + 20 + 2)[0]
        pid = struct.unpack_from("<i", buf, 52)[0]
        comm = bytes(buf[56:73]).split(b"\0")[0].decode()
        owners[(dst, dport)] = (pid, comm)
except socket.timeout:
    pass
cap.close()
stop(before)
stop(after)
sh("sysctl -qw net.core.netdev_max_backlog=%s" % backlog)

want = {}
for addrs, count, pid in ((BEFORE, half, before_pid),
                          (AFTER, N - half, after_pid)):
    per = -(-count // len(addrs))
    for i in range(count):
        want[(addrs[i // per], PORT + i % per)] = (pid, "udp-many")
t.eq(len(owners), N, "a record of every datagram")
wrong = [(k, owners[k], want.get(k)) for k in owners if owners[k] != want.get(k)]
t.ok(not wrong, "every record names its socket's process (%d wrong)" %
     len(wrong), wrong[:10])
t.eq(int(sysfs("iptap0", "iptap/unattributed", ns="a")) - unattr, 0,
     "nothing unattributed")
t.eq(owner_sysctl("owner_records_refused", "a"), 0, "no record refused")
t.done()
