#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""rtnl_latency.py N: add N dummy devices, then delete them, each by one
RTM_NEWLINK or RTM_DELLINK on a netlink socket opened beforehand, and
print "add_median_us=.. add_max_us=.. del_median_us=.. del_max_us=..":
the time from the request to its acknowledgement, on the guest clock.
No process is started and no file read while timing, so that the times
are RTNL's and the kernel's, not those of exec and of the 9p share.
"""

import socket
import statistics
import struct
import sys
import time

RTM_NEWLINK, RTM_DELLINK = 16, 17
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
NLMSG_ERROR = 2
IFLA_IFNAME, IFLA_LINKINFO, IFLA_INFO_KIND = 3, 18, 1


def attr(kind, payload):
    length = 4 + len(payload)
    return struct.pack("HH", length, kind) + payload + b"\0" * (-length % 4)


def request(sock, seq, msg_type, flags, attrs):
    body = struct.pack("BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0) + attrs
    msg = struct.pack("IHHII", 16 + len(body), msg_type,
                      NLM_F_REQUEST | NLM_F_ACK | flags, seq, 0) + body
    t0 = time.monotonic_ns()
    sock.send(msg)
    while True:
        data = sock.recv(65536)
        _, kind, _, rseq, _ = struct.unpack_from("IHHII", data)
        if kind == NLMSG_ERROR and rseq == seq:
            break
    t1 = time.monotonic_ns()
    err = struct.unpack_from("i", data, 16)[0]
    if err:
        sys.exit("rtnl_latency: request %d: %s" % (seq, -err))
    return (t1 - t0) // 1000


def main():
    n = int(sys.argv[1])
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                         socket.NETLINK_ROUTE)
    sock.bind((0, 0))
    names = [("bench%d" % i).encode() + b"\0" for i in range(n)]
    add = [request(sock, i + 1, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
                   attr(IFLA_IFNAME, name) +
                   attr(IFLA_LINKINFO, attr(IFLA_INFO_KIND, b"dummy")))
           for i, name in enumerate(names)]
    dele = [request(sock, n + i + 1, RTM_DELLINK, 0, attr(IFLA_IFNAME, name))
            for i, name in enumerate(names)]
    print("add_median_us=%d add_max_us=%d del_median_us=%d del_max_us=%d" % (
        statistics.median(add), max(add), statistics.median(dele), max(dele)))


if __name__ == "__main__":
    main()
