#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (not Debian's 6.12 kernels: their source is the debug kernel's of
# make check-debug, where it runs on PREEMPT_RT, with lockdep.)
"""The socket probes cost nothing per packet while nobody captures.

The probes on socket events (create, bind, connect, listen, accept,
free) exist while some iptap device exists, and go 5 seconds after the
last one.  Workers register and unregister them, never a device's
creator or remover (under RTNL): the namespace's owner worker arms them
before its scan, so they are there once the scan is done.  The
receive hook, which would run for every datagram a process reads, is
armed only while captures get records, and goes 5 seconds after the last
one.  It is the sock_recv_length tracepoint where the kernel has it
(6.3 and later; never a probe on a function there), else a hook on the
entry of security_socket_recvmsg(): an ftrace callback of the module's
own on x86-64, a kprobe elsewhere.  No probe runs on sends: the hook
records the sending process.  While armed, the receive hook names the
process that reads a socket it did not create: a UDP socket bound by a
parent and read by its child only is the child's from the child's first
read on (on entry), or once that first read returned (the tracepoint).
"""

import atexit
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import Capture, Tap, bg, iptap_add, kernel_mark, load_module, \
    module_log, sh, stop, sysfs, veth_pair, wait_for, workload

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
TRACED = os.path.isdir("/sys/kernel/debug/tracing/events/sock/sock_recv_length")
KIND = "tracepoint" if TRACED else \
    "ftrace" if os.uname().machine == "x86_64" else "kprobe"
t.diag("receive hook: %s" % ("the sock_recv_length tracepoint" if TRACED
                             else "a%s on %s" % (
                                 "n ftrace callback" if KIND == "ftrace"
                                 else " kprobe", RECV)))


def recv_hooked():
    """Whether a function probe of ours sits on RECV: a kprobe, or an
    ftrace callback (which enabled_functions lists; kprobes too)."""
    if KIND == "kprobe":
        return RECV in probes()
    with open("/sys/kernel/debug/tracing/enabled_functions") as f:
        return any(line.split()[0] == RECV for line in f if line.strip())


atexit.register(module_log, module_log("1"))
LOG_START = len(sh("dmesg").stdout)


def recv_said(upto=None):
    """What the module logged of its receive hook since this test began
    (and before the line @upto): "armed" only if it names the hook this
    kernel should have."""
    log = sh("dmesg").stdout[LOG_START:]
    if upto:
        log = log.split(upto)[0]
    said = re.findall(r"iptap: receive hook (armed|disarmed)( \(\w+\))?",
                      log)
    return [w if w == "disarmed" or kind == " (%s)" % KIND else "wrong hook"
            for w, kind in said]


def recv_armed():
    """Whether the receive hook is armed, by the module's log; on kernels
    without the tracepoint, the function's probes must agree."""
    said = recv_said()
    return bool(said) and said[-1] == "armed" and recv_hooked() != TRACED


def recv_disarmed():
    said = recv_said()
    return (not said or said[-1] == "disarmed") and not recv_hooked() and \
        RECV not in probes()


t.eq(probes(), set(), "no device: no probe")

iptap_add(ns="a")
flood = bg("ping -i 0.05 10.0.0.2", ns="a")
time.sleep(1)
t.eq(probes(), EVENTS, "device, no capture, traffic: event probes only")

with Capture(ns="a") as cap:
    t.ok(wait_for(recv_armed, 15),
         "capture getting records: receive hook armed", probes())
    t.ok(len(cap.read(0.3)) > 0, "the capture gets records")
    t.ok("security_socket_sendmsg" not in probes(), "no probe on sends")

    # A socket bound by a parent and read only by its child.  The hook
    # is armed: the child's first recvfrom() names it, on entry (ftrace,
    # kprobe) or once it returned with the first datagram (tracepoint).
    srv, (binder, receiver) = workload("a", "fork-udp-server", 9500)
    time.sleep(0.5)
    sh("for i in 1 2 3; do echo x | socat -u - UDP4:10.0.0.1:9500; "
       "sleep 0.1; done", ns="b")
    got = [r for _, r in cap.read(0.5) if r["flags"] & 1 and
           r["ipproto"] == 17 and r["packet"][22:24] == b"\x25\x1c"]
    t.eq(len(got), 3, "3 datagrams to the forked receiver captured")
    first = (binder, "fork-binder") if TRACED else (receiver, "fork-receiver")
    t.eq([(r["pid"], r["comm"]) for r in got],
         [first] + [(receiver, "fork-receiver")] * 2,
         "they are the child's, which reads them, not the binder's (%d)%s" %
         (binder, ", from the second on" if TRACED else ""))
    stop(srv)

# Marked in the kernel's log as the capture closes: the hook must still
# be armed there (read later, the log does not depend on how long a
# loaded debug kernel takes to get to the check).
CLOSED = "iptap-selftest: probes.py capture closed"
kernel_mark(CLOSED)
said = recv_said(upto=CLOSED)
t.ok(said and said[-1] == "armed",
     "capture closed: the receive hook stays a while", said[-3:])
t.ok(wait_for(recv_disarmed, 12),
     "no capture: receive hook gone within seconds", probes())
t.eq(probes(), EVENTS, "no capture: event probes stay with the device")

with Capture(ns="a") as cap:
    # Within seconds.  Once (CI, debug PREEMPT_RT guest under TCG) it was
    # not seen within 5 s, for a reason not known yet: the diagnostics
    # say whether records came and what the module last logged.
    armed = wait_for(recv_armed, 15)
    t.ok(armed, "a new capture arms the receive hook again",
         None if armed else "probes %s; %d records; ping flood %s; log %s; "
         "iptap0: taps %s, dropped %s, %s; ping's: %s" % (
             probes(), len(cap.read(0.3)),
             "running" if flood.poll() is None else "ended",
             recv_said()[-3:], sysfs("iptap0", "iptap/tap_count", "a"),
             sysfs("iptap0", "iptap/dropped", "a"),
             " ".join(sh("ip -n a -s link show iptap0").stdout.split()[-12:]),
             " ".join(sh("ip -n a -s link show va").stdout.split()[-12:])))
stop(flood)

sh("ip -n a link del iptap0")
t.ok(EVENTS <= probes(), "last device deleted: the event probes linger",
     probes())
t.ok(wait_for(lambda: probes() == set() and recv_disarmed(), 12),
     "last device deleted: no probe within seconds", probes())

# A creation counts its device and returns; its namespace's worker arms
# the probes before the scan, waiting for a removal under way.  Created
# again 5 s after the last deletion, as the idle worker removes them:
# once the scan is done, every probe is there.
rounds = []
for delay in (4.8, 5.0, 5.2, 5.4):
    iptap_add(ns="a")
    sh("ip -n a link del iptap0")
    time.sleep(delay)
    iptap_add(ns="a")
    rounds.append(probes() == EVENTS)
    sh("ip -n a link del iptap0")
t.eq(rounds, [True] * 4, "created again as the probes go: armed once the "
     "scan is done (4 rounds)")
t.done()
