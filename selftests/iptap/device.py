#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (not Debian's 6.12 kernels: their source is the debug kernel's of
# make check-debug, where it runs on PREEMPT_RT, with lockdep.)
"""The iptap link type: creation, naming, state, type, driver, refusals.

Devices are made with stock iproute2 as a user would; each is up and
ready at once, of type ARPHRD_VOID (65535), without addresses, and
cannot leave its namespace.  Unloading the module removes them all.
"""

import errno
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import rtnl
from iptaplib import Capture, Tap, iptap_add, kernel_mark, load_module, \
    module_log, sh, sysfs

IFLA_NET_NS_FD = 28

t = Tap()
load_module()

sh("ip link add iptap0 type iptap")
sh("ip link add name cap7 type iptap")
sh("ip link add type iptap")          # the kernel names it iptap%d
names = sorted(d for d in os.listdir("/sys/class/net")
               if os.path.isdir("/sys/class/net/%s/iptap" % d))
t.eq(names, ["cap7", "iptap0", "iptap1"], "user-chosen and iptap%d names")

link = sh("ip -d link show iptap0").stdout
t.ok("UP" in link.split(">")[0] and "iptap" in link,
     "new device is up at once, kind iptap", link)
t.eq(sysfs("iptap0", "type"), "65535", "device type is ARPHRD_VOID")
t.eq(sysfs("iptap0", "flags"), "0x81", "flags: UP|NOARP, nothing else")
t.ok("qdisc noqueue" in link, "no qdisc", link)
drv = sh("ethtool -i iptap0").stdout
t.ok("driver: iptap" in drv and "version: " in drv, "ethtool -i names the "
     "driver and version", drv)
t.eq(sorted(os.listdir("/sys/class/net/iptap0/iptap")),
     ["dropped", "tap_count", "unattributed"], "sysfs iptap group")

time.sleep(2)       # give IPv6 time to misbehave, if it would
addrs = sh("ip addr show dev iptap0").stdout
t.ok("inet" not in addrs, "no IPv4 or IPv6 address of its own", addrs)

# A capture opened right after creation works, with no other command.
sh("ip link add iptap9 type iptap")
with Capture("iptap9") as cap:
    sh("ping -c1 -W1 127.0.0.1")
    t.ok(len(cap.read()) >= 2, "capture works right after ip link add")

# Moving a device to another namespace is refused.
sh("ip netns add other")
r = sh("ip link set iptap0 netns other", check=False)
t.ok(r.returncode != 0 and ("Invalid argument" in r.stderr or
                          "netns is immutable" in r.stderr),
     "moving to another namespace is refused with EINVAL", r.stderr)
t.ok(os.path.isdir("/sys/class/net/iptap0"), "the device stayed")

# The device has no link-layer address to set.
r = sh("ip link add iptapx address 02:00:00:00:00:01 type iptap",
       check=False)
t.ok(r.returncode != 0 and "no link-layer address" in r.stderr,
     "IFLA_ADDRESS refused with a message", r.stderr)

# Set down and up again; delete.
sh("ip link set cap7 down")
sh("ip link set cap7 up")
t.ok("UP" in sh("ip link show cap7").stdout.split(">")[0], "down and up")
sh("ip link del cap7")
t.ok(not os.path.exists("/sys/class/net/cap7"), "ip link del")

# A creation that fails after the device's ndo_init leaves nothing
# behind, and devices go on working.  register_netdevice() checks a
# requested ifindex after ndo_init, in the namespace the device is made
# in: ask for one that is free here but taken in "dv", without
# NLM_F_EXCL (with it, 6.15 and later look the index up in "dv" first).
# Each attempt is dv's first device (owner table, then undone).
sh("ip netns add dv")
sh("ip -n dv link add d0 index 4242 type veth peer name d1")
fd = os.open("/run/netns/dv", os.O_RDONLY)
inum = os.fstat(fd).st_ino
was_logging = module_log("1")
kernel_mark("iptap-selftest: dv attempts")
errs = []
for i in range(5):
    try:
        rtnl.request(rtnl.RTM_NEWLINK, rtnl.NLM_F_ACK | rtnl.NLM_F_CREATE,
                     rtnl.ifinfomsg(4242) + rtnl.ifname("bad%d" % i) +
                     rtnl.u32(IFLA_NET_NS_FD, fd) + rtnl.linkinfo())
        errs.append(0)
    except rtnl.NetlinkError as e:
        errs.append(e.errno)
os.close(fd)
t.ok(errs == [errno.EBUSY] * 5,
     "5 creations refused by register_netdevice after ndo_init (EBUSY: "
     "ifindex taken)", errs)
module_log(was_logging)
log = sh("dmesg").stdout.split("iptap-selftest: dv attempts")[-1]
t.ok("netns %d: first device" % inum in log and
     "netns %d: last device gone" % inum in log,
     "each reached ndo_init (dv's first device) and ndo_uninit")
t.eq(sh("ip -n dv -o link show type iptap").stdout.strip(), "",
     "none of them left a device")
sh("ip -n dv link add ok0 type iptap")
t.ok(os.path.isdir("/sys/class/net/iptap9") and
     "UP" in sh("ip -n dv link show ok0").stdout.split(">")[0],
     "then dv's first device is made, and the others stay")
with Capture("iptap9") as cap:
    sh("ping -c1 -W1 127.0.0.1")
    t.ok(len(cap.read()) >= 2, "a device made before them still captures")
sh("ip netns del dv")

# Many devices, then rmmod removes every one, in every namespace.
for i in range(20):
    sh("ip link add many%d type iptap" % i)
iptap_add("iptap0", ns="other")
sh("rmmod iptap")
left = [d for d in os.listdir("/sys/class/net") if d.startswith(("many",
                                                                   "iptap"))]
t.eq(left, [], "rmmod removes all devices")
t.eq(sh("ip -n other link show type iptap", check=False).stdout.strip(), "",
     "rmmod removes devices of other namespaces")


t.done()
