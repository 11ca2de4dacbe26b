#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (the oldest and newest kernels: its code runs in process context, or
# takes the packet path's locks as attribution.py does, which runs on
# every kernel; the version-dependent code (kmod/compat.h) it reaches
# is the same on 6.12 as on one of these or on the debug kernels.)
"""Isolation: namespaces, privileges, PID namespaces, hostile writes of knobs.

 - two namespaces with traffic in both and an iptap in each: no record
   crosses;
 - a namespace deleted with its device and a capture still open, and
   namespaces coming and going with devices in them;
 - creating a device needs CAP_NET_ADMIN over the namespace, capturing
   needs CAP_NET_RAW; an unprivileged user in a user+network namespace
   of their own may create an iptap there and sees only that namespace;
 - a uid as each device's creator sees it: two devices in one namespace,
   made in two user namespaces, name the same users each its own way;
 - no header byte carries stale kernel memory, after memory is sprayed
   with a pattern;
 - knobs refuse garbage with EINVAL and keep their value.
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (DIR_IN, DIR_OUT, REC_HLEN, Capture, Tap, bg,
                      ip_summary, iptap_add, load_module, netns, sh, stop,
                      veth_pair, wait_for)

t = Tap()
load_module()
NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups"

# --- two namespaces, traffic in both -------------------------------------
veth_pair("x1", "x2", "vx1", "vx2", ("10.1.0.1", "10.1.0.2"),
          ("fd01::1", "fd01::2"))
veth_pair("y1", "y2", "vy1", "vy2", ("10.2.0.1", "10.2.0.2"),
          ("fd02::1", "fd02::2"))
iptap_add(ns="x1")
iptap_add(ns="y1")
with Capture(ns="x1") as cx, Capture(ns="y1") as cy:
    fx = bg("ping -c20 -i0.05 10.1.0.2; ping -c20 -i0.05 fd01::2", ns="x1")
    fy = bg("ping -c20 -i0.05 10.2.0.2; ping -c20 -i0.05 fd02::2", ns="y1")
    fx.wait()
    fy.wait()
    rx, ry = cx.read(), cy.read()
addrs_x = {"10.1.0.1", "10.1.0.2", "fd01::1", "fd01::2"}
addrs_y = {"10.2.0.1", "10.2.0.2", "fd02::1", "fd02::2"}


def crossing(recs, foreign, devs):
    return [(ip_summary(r), r["ifname"]) for _, r in recs
            if set(ip_summary(r)[:2]) & foreign or r["ifname"] not in devs]


t.ok(len(rx) >= 80 and len(ry) >= 80, "both namespaces captured their "
     "traffic", (len(rx), len(ry)))
t.eq(crossing(rx, addrs_y, {"vx1", "lo"}), [], "no record of y reaches x")
t.eq(crossing(ry, addrs_x, {"vy1", "lo"}), [], "no record of x reaches y")

# --- a namespace deleted under a device and an open capture --------------
sh("ip netns add z")
sh("ip -n z link set lo up")
iptap_add(ns="z")
cz = Capture(ns="z")
sh("ping -c 20 -i 0.01 127.0.0.1", ns="z")
flood = bg("ping -f 127.0.0.1 >/dev/null 2>&1", ns="z")
sh("ip netns del z")
time.sleep(1)
got = len(cz.read(0.2))
cz.close()
stop(flood)
t.ok(got >= 80, "namespace deleted under traffic, with device and capture "
     "open: capture ends cleanly", got)

# --- devices in namespaces that come and go --------------------------------
for i in range(10):
    ns = "churn%d" % i
    sh("ip netns add %s" % ns)
    sh("ip -n %s link set lo up" % ns)
    iptap_add(ns=ns)
    iptap_add("iptap1", ns=ns)
    sh("ping -c1 -W1 127.0.0.1", ns=ns)
    if i % 2:
        sh("ip -n %s link del iptap1" % ns)
    sh("ip netns del %s" % ns)
t.ok(True, "10 namespaces created and deleted with devices in them")

# --- privileges -------------------------------------------------------------
r = sh("%s ip link add iptapu type iptap" % NOBODY, check=False)
t.ok(r.returncode != 0 and "Operation not permitted" in r.stderr,
     "an ordinary user cannot create a device (EPERM)", r.stderr)
iptap_add("iptaph")
r = sh("%s ip link del iptaph" % NOBODY, check=False)
t.ok(r.returncode != 0 and "Operation not permitted" in r.stderr,
     "an ordinary user cannot delete a device (EPERM)", r.stderr)
r = sh("%s python3 -c 'import socket; socket.socket(socket.AF_PACKET, "
       "socket.SOCK_RAW, 0)'" % NOBODY, check=False)
t.ok(r.returncode != 0 and "PermissionError" in r.stderr,
     "an ordinary user cannot open a packet socket to capture", r.stderr)

# An unprivileged user's own user and network namespace: create, capture,
# and see only that namespace, while the host is busy too.
host = bg("ping -c 30 -i 0.05 127.0.0.1 >/dev/null", ns=None)
script = ("import socket, select, time, subprocess\n"
          "subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)\n"
          "subprocess.run(['ip', 'link', 'add', 'iptap0', 'type', 'iptap'],"
          " check=True)\n"
          "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)\n"
          "s.bind(('iptap0', 3))\n"
          "for _ in range(5000):\n"
          "    if open('/proc/sys/net/iptap/hooks_registered').read() == "
          "'1\\n':\n"
          "        break\n"
          "    time.sleep(0.001)\n"
          "subprocess.run(['ping', '-c3', '-i0.1', '10.77.0.1'],"
          " capture_output=True)\n"
          "n = 0\n"
          "while select.select([s], [], [], 0.5)[0]:\n"
          "    d = s.recv(70000)\n"
          "    print(d[12:28].split(b'\\0')[0].decode(), d[176 + 12:176 + 20]"
          ".hex())\n")
with open("/tmp/userns.py", "w") as f:
    f.write(script)
os.chmod("/tmp/userns.py", 0o644)
sh("sysctl -qw kernel.unprivileged_userns_clone=1", check=False)
r = sh("%s unshare -Urn sh -c 'ip addr add 10.77.0.1/8 dev lo 2>/dev/null; "
       "python3 /tmp/userns.py'" % NOBODY, check=False)
stop(host)
lines = r.stdout.split("\n")
recs = [l.split() for l in lines if l.strip()]
t.ok(r.returncode == 0 and len(recs) == 12 and
     all(l == ["lo", "0a4d00010a4d0001"] for l in recs),
     "unshare -Urn: a user creates an iptap and sees only its own "
     "namespace's 12 records", r.stdout[-800:] + r.stderr[-800:])

# A uid as each device's creator sees it: two devices in one namespace,
# one made by the host's root, one by the root of a user namespace where
# nobody (65534) is 0 and the host's root has no name.  Both users ping in
# turn, so that the uid each device last named changes between records.
if os.path.exists("/tmp/uidns.pid"):
    os.unlink("/tmp/uidns.pid")
# Written whole, then renamed: the test reads it as soon as it exists.
holder = bg("%s sh -c 'echo $$ >/tmp/uidns.pid.new && "
            "mv /tmp/uidns.pid.new /tmp/uidns.pid && "
            "exec unshare -Urn sleep 300'" % NOBODY)
wait_for(lambda: os.path.exists("/tmp/uidns.pid") and
         os.readlink("/proc/%s/ns/user" % open("/tmp/uidns.pid").read()
                     .strip()) != os.readlink("/proc/self/ns/user"), 10)
pid = open("/tmp/uidns.pid").read().strip()
sh("ip netns attach uidns %s" % pid)
sh("ip -n uidns link set lo up")
sh("ip -n uidns addr add 10.77.0.1/8 dev lo")
iptap_add("iptap0", ns="uidns")
sh("nsenter -t %s -U -n ip link add iptap1 type iptap" % pid)
as_nobody = "nsenter -t %s -U -n ping -c2 -i0.1 10.77.0.2" % pid
as_root = "ip netns exec uidns ping -c2 -i0.1 10.77.0.3"
with Capture("iptap0", ns="uidns") as host, \
        Capture("iptap1", ns="uidns") as inner:
    for _ in range(3):
        sh(as_nobody)
        sh(as_root)
    views = {"host": host.read(), "user namespace": inner.read()}
stop(holder)
sh("ip netns del uidns")
os.unlink("/tmp/uidns.pid")
# Whose each echo request (out) and reply (in, by identifier) is.
expect = {"host": {"10.77.0.2": 65534, "10.77.0.3": 0},
          "user namespace": {"10.77.0.2": 0, "10.77.0.3": -1}}
for view, recs in views.items():
    # By the address pinged: the requests' destination, the replies' source.
    seen = [(max(ip_summary(r)[:2]), r["uid"]) for _, r in recs
            if ip_summary(r)[2] == 1 and
            (r["packet"][20], r["flags"] & (DIR_IN | DIR_OUT)) in
            ((8, DIR_OUT), (0, DIR_IN))]
    t.ok(len(seen) == 24 and
         all(uid == expect[view][dst] for dst, uid in seen),
         "%s's device: 12 pings' requests and replies, each with its "
         "user as the device's creator sees it" % view, seen)

# --- no stale kernel memory in any header byte ------------------------------
# Spray freed memory with a pattern: many datagrams full of it, received
# and freed, then capture and look for the pattern in the headers.
PAT = bytes([0xa5, 0x5a, 0xc3, 0x3c]) * 64
with netns("x1"):
    rx_s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx_s.bind(("127.0.0.1", 7400))
    tx_s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
with Capture(ns="x1") as cap:
    for size in (0, 1, 7, 31, 100, 256, 1000, 1400, 4000, 9000):
        for _ in range(20):
            tx_s.sendto((PAT * 64)[:size], ("127.0.0.1", 7400))
            rx_s.recv(65536)
    sh("ping -c5 -i0.05 -s 1000 -p a55ac33c 10.1.0.2", ns="x1")
    recs = cap.read()
rx_s.close()
tx_s.close()
leaks = [r["raw"][:REC_HLEN].hex() for _, r in recs
         if any(PAT[i:i + 4] in r["raw"][:REC_HLEN] for i in range(4))]
t.ok(len(recs) >= 400 and not leaks,
     "%d records after a pattern spray: no header byte holds it" % len(recs),
     leaks[:3])

# --- knobs refuse garbage --------------------------------------------------
PARAM = "/sys/module/iptap/parameters/log"
before = open(PARAM).read()
for bad in ("garbage", "-1", "2", "x" * 5000, "1x"):
    try:
        with open(PARAM, "w") as f:
            f.write(bad)
        result = "accepted"
    except OSError as e:
        result = os.strerror(e.errno)
    t.ok(result == "Invalid argument" and open(PARAM).read() == before,
         "log=%r refused with EINVAL, unchanged" % bad[:10], result)
for path in ("/sys/class/net/iptaph/iptap/tap_count",
             "/sys/class/net/iptaph/iptap/dropped",
             "/sys/class/net/iptaph/iptap/unattributed",
             "/proc/sys/net/iptap/total_tap_count"):
    try:
        with open(path, "w") as f:
            f.write("5")
        result = "accepted"
    except OSError as e:
        result = os.strerror(e.errno)
    t.ok(result != "accepted", "%s is read-only (%s)" % (path, result))

t.done()
