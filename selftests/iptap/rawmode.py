#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (the oldest and newest kernels: its code runs in process context, or
# takes the packet path's locks as attribution.py does, which runs on
# every kernel; the version-dependent code (kmod/compat.h) it reaches
# is the same on 6.12 as on one of these or on the debug kernels.)
"""Raw mode: an iptap device whose packet sockets get the bare IP packets,
for the tools as Debian ships them.

A device created with IFLA_IPTAP_MODE raw is of type ARPHRD_NONE, which
libpcap captures as DLT_RAW: Debian's own tcpdump captures and filters
it with no patch, and the patched libpcap too opens it as RAW, not
PKTAP.  It gets the same packets as a PKTAP device beside it, without
the header.  IPv6 does not configure it, the mode is reported in
IFLA_INFO_DATA and cannot change, and bad values are refused with a
message.  The requests are made byte by byte (selftests/lib/rtnl.py).
"""

import collections
import errno
import os
import re
import shutil
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (PACKET_HOST, PACKET_OUTGOING, ROOT, Capture, Tap,
                      ToolRun, iptap_add, load_module, sh, sysfs, veth_pair)
import rtnl

TCPDUMP = os.path.join(ROOT, "build", "pcap", "root", "bin", "tcpdump")
STOCK = next((p for p in ("/usr/bin/tcpdump", "/usr/sbin/tcpdump")
              if os.access(p, os.X_OK)), None)
OUT = "/tmp/rawmode-test"
RAW = rtnl.u32(rtnl.IFLA_IPTAP_MODE, rtnl.MODE_RAW)

t = Tap()
load_module()
veth_pair("a", "b")
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)
os.chmod(OUT, 0o777)    # tcpdump drops privileges to user tcpdump


def mode(dev):
    data = rtnl.info_data(dev, ns="a")
    m = data.get(rtnl.IFLA_IPTAP_MODE)
    return struct.unpack("=I", m)[0] if m and len(m) == 4 else None


def exists(dev):
    return sh("ip -n a link show %s" % dev, check=False).returncode == 0


def refused(fn, *args):
    """The NetlinkError a request gets, or None if it succeeded."""
    try:
        fn(*args, ns="a")
    except rtnl.NetlinkError as e:
        return e
    return None


# The device and what the kernel reports of it.
rtnl.newlink("raw0", RAW, ns="a")
iptap_add("iptap0", ns="a")
t.eq(sysfs("raw0", "type", ns="a"), "65534",
     "a raw-mode device is ARPHRD_NONE")
t.eq(sysfs("iptap0", "type", ns="a"), "65535",
     "a device created without a mode is a PKTAP one, ARPHRD_VOID")
t.eq((mode("raw0"), mode("iptap0")), (rtnl.MODE_RAW, rtnl.MODE_PKTAP),
     "IFLA_INFO_DATA reports each device's mode")
link = sh("ip -n a -d link show raw0").stdout
t.ok("link/none" in link and "iptap" in link and
     "UP" in link.split(">")[0], "ip -d link show: up, link/none, kind iptap",
     link)

# Down and up again as an administrator might: still not configured.
sh("ip -n a link set raw0 down && ip -n a link set raw0 up")
time.sleep(3)       # router solicitation would have been sent by now
addrs = sh("ip -n a addr show dev raw0").stdout
t.ok("inet" not in addrs, "IPv6 configures no address on it", addrs)
t.eq(sysfs("raw0", "statistics/tx_dropped", ns="a"), "0",
     "and sends nothing of its own (no MLD, DAD or solicitation)")

# Refusals, each with a message.
e = refused(rtnl.newlink, "raw1", rtnl.u32(rtnl.IFLA_IPTAP_MODE, 2))
t.ok(e is not None and e.errno in (errno.EINVAL, errno.ERANGE) and e.msg and
     not exists("raw1"),
     "mode 2 is refused, with a message", e)
e = refused(rtnl.newlink, "raw1", rtnl.attr(rtnl.IFLA_IPTAP_MODE, b"\1"))
t.ok(e is not None and e.errno in (errno.EINVAL, errno.ERANGE) and e.msg,
     "a mode of the wrong size is refused, with a message", e)
e = refused(rtnl.changelink, "raw0",
            rtnl.u32(rtnl.IFLA_IPTAP_MODE, rtnl.MODE_PKTAP))
t.ok(e is not None and e.errno == errno.EOPNOTSUPP and
     "set when it is created" in e.msg and mode("raw0") == rtnl.MODE_RAW,
     "changing the mode is refused, with a message", e)
e = refused(rtnl.changelink, "raw0", RAW)
t.ok(e is None, "setting the mode it has is accepted", e)

# The same packets as on the PKTAP device, bare.
stock = None
if STOCK:
    # Immediate mode: a ring block the kernel has not retired yet (it
    # does every second) is never read once tcpdump is interrupted.
    stock = ToolRun("stock", ["ip", "netns", "exec", "a", STOCK, "-i",
                              "raw0", "-nn", "-l", "--immediate-mode",
                              "udp port 7901 or "
                              "icmp[icmptype] == icmp-echo or "
                              "icmp[icmptype] == icmp-echoreply"],
                    OUT)
    t.ok("link-type RAW" in stock.stderr,
         "Debian's tcpdump opens it as RAW", stock.stderr)
with Capture("raw0", ns="a", iptap=False) as raw, \
        Capture("iptap0", ns="a") as pktap:
    sh("ping -c2 -i0.2 -W2 10.0.0.2", ns="a")
    sh("ping -6 -c2 -i0.2 -W2 fd00::2", ns="a")
    for port in (7900, 7901):
        sh("for i in 1 2 3; do echo x | socat -u - UDP4-SENDTO:10.0.0.2:%d;"
           " done" % port, ns="a")
    time.sleep(0.5)
    frames = raw.read()
    records = pktap.read()


def ours(packet):
    """The test's traffic: ICMP and UDP over IPv4, ICMPv6 echoes.  What
    IPv6 sends by itself (MLD, ND) may slip between the two reads."""
    if packet[0] >> 4 == 4:
        return packet[9] in (1, 17)
    return packet[6] == 58 and packet[40] in (128, 129)


frames = [(p, f) for p, f in frames if ours(f)]
bare = collections.Counter(f for _, f in frames)
wrapped = collections.Counter(r["packet"] for _, r in records
                              if ours(r["packet"]))
t.ok(bare and bare == wrapped,
     "raw0 gets exactly the packets iptap0 records, without the header",
     "%d frames, %d records, %d in common" % (
         sum(bare.values()), sum(wrapped.values()),
         sum((bare & wrapped).values())))
versions = collections.Counter(f[0] >> 4 for _, f in frames)
t.ok(versions[4] >= 10 and versions[6] >= 4 and set(versions) == {4, 6},
     "IPv4 and IPv6 packets, each from its IP header on", versions)
dirs = collections.Counter(p for p, _ in frames)
t.ok(dirs[PACKET_OUTGOING] >= 4 and dirs[PACKET_HOST] >= 4 and
     set(dirs) == {PACKET_OUTGOING, PACKET_HOST},
     "sent packets come as PACKET_OUTGOING, received as PACKET_HOST", dirs)

if stock:
    stock.interrupt()
    lines = [l for l in stock.data.decode(errors="replace").splitlines()
             if l]
    echo = [l for l in lines if re.search(r" IP 10\.0\.0\.[12] > "
                                          r"10\.0\.0\.[12]: ICMP echo", l)]
    udp = [l for l in lines if " UDP," in l]
    t.ok(len(echo) == 4 and len(udp) == 3 and
         all(".7901: UDP" in l for l in udp) and len(lines) == 7,
         "its filter keeps the 4 echoes and the 3 datagrams to 7901, "
         "nothing else", lines)
else:
    t.ok(True, "# SKIP no Debian tcpdump in the guest")

if os.access(TCPDUMP, os.X_OK):
    r = sh("%s -L -i raw0" % TCPDUMP, ns="a", check=False)
    types = r.stdout + r.stderr
    t.ok(r.returncode == 0 and re.search(r"^\s+RAW ", types, re.M) and
         "PKTAP" not in types,
         "the patched tcpdump sees raw0 as RAW, not PKTAP", types)
else:
    t.ok(True, "# SKIP %s is not built (make pcap-tools)" % TCPDUMP)

# ip, with the plugin of tools/ip-iptap.
IP = "IP_LIB_DIR=%s ip" % os.path.join(ROOT, "build", "ip")
if os.path.isfile(os.path.join(ROOT, "build", "ip", "link_iptap.so")):
    r = sh("%s -n a link add web0 type iptap mode raw" % IP, check=False)
    t.ok(r.returncode == 0 and mode("web0") == rtnl.MODE_RAW,
         "ip link add web0 type iptap mode raw", r.stderr)
    r = sh("%s -n a link add web1 type iptap mode pktap" % IP, check=False)
    t.ok(r.returncode == 0 and mode("web1") == rtnl.MODE_PKTAP,
         "ip link add web1 type iptap mode pktap", r.stderr)
    show = sh("%s -n a -d link show" % IP).stdout
    t.ok(re.search(r"web0:.*\n.*link/none.*\n\s+iptap mode raw ", show) and
         re.search(r"web1:.*\n.*link/void.*\n\s+iptap mode pktap ", show),
         "ip -d link show prints each device's mode", show)
    js = sh("%s -n a -d -j link show web0" % IP).stdout
    t.ok('"info_kind":"iptap","info_data":{"mode":"raw"}' in js,
         "and so does its JSON", js)
    r = sh("%s -n a link set web0 type iptap mode pktap" % IP, check=False)
    t.ok(r.returncode != 0 and "set when it is created" in r.stderr,
         "ip link set ... mode pktap: the kernel's refusal is shown",
         r.stderr)
    r = sh("%s -n a link add web2 type iptap mode tun" % IP, check=False)
    t.ok(r.returncode != 0 and '"pktap" or "raw"' in r.stderr and
         not exists("web2"), "a mode ip does not know is refused", r.stderr)
    r = sh("%s link help iptap" % IP, check=False)
    t.ok("mode { pktap | raw }" in r.stdout + r.stderr,
         "ip link help iptap", r.stdout + r.stderr)
else:
    t.ok(True, "# SKIP build/ip/link_iptap.so is not built (make ip-plugin)")

# iptapdump reads PKTAP records: it refuses a raw device, saying why.
r = sh("ip netns exec a %s -i raw0 -c 1" %
       os.path.join(ROOT, "tools", "iptapdump", "iptapdump"), check=False)
t.ok(r.returncode != 0 and "raw mode" in r.stderr,
     "iptapdump refuses a raw-mode device, with a message", r.stderr)

sh("ip -n a link del raw0")
t.ok(not exists("raw0"), "and the device goes")
t.done()
