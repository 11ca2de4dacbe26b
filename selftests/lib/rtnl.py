# SPDX-License-Identifier: GPL-2.0
"""rtnetlink requests for iptap link attributes, made byte by byte, so
that the tests depend on no iproute2 support for them and can also send
what iproute2 never would.

The attribute numbers are written here, not read from the uapi header,
so that a mistake there shows.
"""

import contextlib
import errno
import os
import socket
import struct

from iptaplib import netns

RTM_NEWLINK = 16
RTM_GETLINK = 18
NLMSG_ERROR = 2
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
NLMSGERR_ATTR_MSG = 1
IFLA_IFNAME = 3
IFLA_LINKINFO = 18
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
NLA_F_NESTED = 0x8000

IFLA_IPTAP_MODE = 1
IFLA_IPTAP_CGROUP = 2
IFLA_IPTAP_UID = 3
IFLA_IPTAP_PID = 4
MODE_PKTAP = 0
MODE_RAW = 1


class NetlinkError(OSError):
    """A refusal: errno and the kernel's extack message."""

    def __init__(self, err, msg):
        super().__init__(err, "%s: %s" % (os.strerror(err), msg))
        self.msg = msg


def attr(kind, payload):
    data = struct.pack("=HH", 4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


def u32(kind, value):
    return attr(kind, struct.pack("=I", value))


def string(kind, value):
    return attr(kind, value.encode() + b"\0")


def parse_attrs(data):
    """{type: payload} of a run of attributes (nested flag dropped)."""
    out = {}
    while len(data) >= 4:
        length, kind = struct.unpack_from("=HH", data)
        if length < 4:
            break
        out[kind & ~NLA_F_NESTED] = data[4:length]
        data = data[(length + 3) & ~3:]
    return out


def linkinfo(data=b""):
    """IFLA_LINKINFO of kind iptap with IFLA_INFO_DATA data."""
    info = attr(IFLA_INFO_KIND, b"iptap\0")
    if data:
        info += attr(IFLA_INFO_DATA | NLA_F_NESTED, data)
    return attr(IFLA_LINKINFO | NLA_F_NESTED, info)


@contextlib.contextmanager
def _socket(ns):
    # A netlink socket stays in the namespace it was made in.
    with netns(ns):
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                          socket.NETLINK_ROUTE)
    try:
        s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        s.bind((0, 0))
        yield s
    finally:
        s.close()


def request(msg_type, flags, body, ns=None):
    """Send one request; the answers' payloads, or NetlinkError."""
    with _socket(ns) as s:
        hdr = struct.pack("=IHHII", 16 + len(body), msg_type,
                          NLM_F_REQUEST | flags, 1, 0)
        s.send(hdr + body)
        answers = []
        while True:
            data = s.recv(65536)
            while len(data) >= 16:
                length, kind, mflags, _, _ = struct.unpack_from("=IHHII",
                                                                data)
                payload = data[16:length]
                data = data[(length + 3) & ~3:]
                if kind != NLMSG_ERROR:
                    answers.append((kind, payload))
                    if not flags & NLM_F_ACK:
                        return answers
                    continue
                err = -struct.unpack_from("=i", payload)[0]
                if not err:
                    return answers
                # The request echoed back, then the extack attributes.
                olen = struct.unpack_from("=I", payload, 4)[0]
                tlvs = parse_attrs(payload[4 + (olen if not mflags & 0x100
                                                else 16):])
                msg = tlvs.get(NLMSGERR_ATTR_MSG, b"").rstrip(b"\0")
                raise NetlinkError(err, msg.decode(errors="replace"))


def ifinfomsg(index=0):
    return struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, 0, 0)


def ifname(name):
    return attr(IFLA_IFNAME, name.encode() + b"\0")


def newlink(name, data=b"", ns=None):
    """ip link add NAME type iptap, with IFLA_INFO_DATA data."""
    request(RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            ifinfomsg() + ifname(name) + linkinfo(data), ns)


def changelink(name, data, ns=None):
    """ip link set NAME type iptap, with IFLA_INFO_DATA data."""
    request(RTM_NEWLINK, NLM_F_ACK, ifinfomsg() + ifname(name) +
            linkinfo(data), ns)


def info_data(name, ns=None):
    """{attribute: payload} of the device's IFLA_INFO_DATA."""
    answers = request(RTM_GETLINK, 0, ifinfomsg() + ifname(name), ns)
    for kind, payload in answers:
        if kind == RTM_NEWLINK:
            tlvs = parse_attrs(payload[16:])
            info = parse_attrs(tlvs.get(IFLA_LINKINFO, b""))
            return parse_attrs(info.get(IFLA_INFO_DATA, b""))
    raise OSError(errno.ENODEV, name)
