#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The iptap link type: creation, naming, state, type, driver, refusals.

Devices are made with stock iproute2 as a user would; each is up and
ready at once, of type ARPHRD_VOID (65535), without addresses, and
cannot leave its namespace.  Unloading the module removes them all.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import Capture, Tap, iptap_add, load_module, sh, sysfs

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

# A creation that fails after the device's ndo_init (ifindex 1 is lo's)
# leaves nothing behind, and the namespace's devices go on working: as
# root here, and in a loop as an unprivileged user in a namespace of its
# own, where each attempt is the namespace's first device.
fails = [sh("ip link add bad%d index 1 type iptap" % i, check=False)
         for i in range(20)]
t.ok(all(r.returncode != 0 for r in fails) and
     not [d for d in os.listdir("/sys/class/net") if d.startswith("bad")],
     "20 creations refused after ndo_init (taken ifindex), none left",
     fails[0].stderr)
with Capture("iptap9") as cap:
    sh("ping -c1 -W1 127.0.0.1")
    t.ok(len(cap.read()) >= 2, "the existing device captures after them")
NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups"
sh("sysctl -qw kernel.unprivileged_userns_clone=1", check=False)
r = sh("%s unshare -Urn sh -c 'for i in $(seq 50); do "
       "ip link add t index 1 type iptap 2>/dev/null && exit 1; done; "
       "ip link add t type iptap && ip -o link show t'" % NOBODY,
       check=False)
t.ok(r.returncode == 0 and "UP" in r.stdout.split(">")[0],
     "unprivileged: 50 failed first creations, then one that succeeds",
     r.stdout + r.stderr)

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
