#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The socket probes cost nothing per packet while nobody captures.

The probes on socket events (create, bind, connect, listen, accept,
free) exist while some iptap device exists, and go 5 seconds after the
last one (a worker unregisters them, never a device's remover).  The probe on
security_socket_recvmsg(), which would run for every datagram a process
reads, is armed only while captures get records, and goes 5 seconds
after the last one.  No probe runs on sends: the hook records the
sending process.  While armed, the receive probe names the process that
reads a socket it did not create: a UDP socket bound by a parent and
read by its child only is the child's from the child's first read on.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import Capture, Tap, bg, iptap_add, load_module, sh, stop, \
    veth_pair, wait_for, workload

t = Tap()
load_module()
veth_pair("a", "b")


def probes():
    """The functions iptap's kprobes sit on."""
    with open("/sys/kernel/debug/kprobes/list") as f:
        syms = {line.split()[2].split("+")[0] for line in f}
    return {s for s in syms if s.startswith("security_") or
            s in ("inet_csk_clone_lock", "inet_sock_destruct")}


if not os.path.exists("/sys/kernel/debug/kprobes/list"):
    sh("mount -t debugfs debugfs /sys/kernel/debug")

EVENTS = {"security_socket_post_create", "security_socket_bind",
          "security_socket_connect", "security_socket_listen",
          "security_sock_graft", "inet_sock_destruct", "inet_csk_clone_lock"}
RECV = "security_socket_recvmsg"

t.eq(probes(), set(), "no device: no probe")

iptap_add(ns="a")
flood = bg("ping -i 0.05 10.0.0.2", ns="a")
time.sleep(1)
t.eq(probes(), EVENTS, "device, no capture, traffic: event probes only")

with Capture(ns="a") as cap:
    t.ok(wait_for(lambda: RECV in probes(), 5),
         "capture getting records: receive probe armed", probes())
    t.ok(len(cap.read(0.3)) > 0, "the capture gets records")
    t.ok("security_socket_sendmsg" not in probes(), "no probe on sends")

    # A socket bound by a parent and read only by its child.  The probe
    # is armed, so the child's first recvfrom() names it.
    srv, (binder, receiver) = workload("a", "fork-udp-server", 9500)
    time.sleep(0.5)
    sh("for i in 1 2 3; do echo x | socat -u - UDP4:10.0.0.1:9500; "
       "sleep 0.1; done", ns="b")
    got = [r for _, r in cap.read(0.5) if r["flags"] & 1 and
           r["ipproto"] == 17 and r["packet"][22:24] == b"\x25\x1c"]
    t.eq(len(got), 3, "3 datagrams to the forked receiver captured")
    t.eq({(r["pid"], r["comm"]) for r in got}, {(receiver, "fork-receiver")},
         "they are the child's, which reads them, not the binder's (%d)" %
         binder)
    stop(srv)

t.ok(RECV in probes(), "capture closed: the receive probe stays a while")
t.ok(wait_for(lambda: RECV not in probes(), 12),
     "no capture: receive probe gone within seconds", probes())
t.eq(probes(), EVENTS, "no capture: event probes stay with the device")

with Capture(ns="a") as cap:
    t.ok(wait_for(lambda: RECV in probes(), 5),
         "a new capture arms the receive probe again", probes())
stop(flood)

sh("ip -n a link del iptap0")
t.ok(EVENTS <= probes(), "last device deleted: the event probes linger",
     probes())
t.ok(wait_for(lambda: probes() == set(), 12),
     "last device deleted: no probe within seconds", probes())
t.done()
