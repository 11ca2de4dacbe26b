#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 6.12.*-rt-amd64 7.*
# (not Debian's preemptible 6.12: its unload paths are those of 6.1 and
# 7.2; PREEMPT_RT's threaded softirqs and RCU are not.)
"""rmmod while devices, captures and traffic exist; then reload.

Unloading must remove every device and hook at once, with listeners
still reading and packets flowing in several namespaces; the module must
load again and capture as before.  Done a few times in a row.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (Capture, Tap, bg, iptap_add, load_module, sh, stop,
                      veth_pair)

t = Tap()
veth_pair("a", "b")
floods = [bg("ping -f -W1 %s >/dev/null 2>&1" % dst, ns=ns)
          for ns, dst in (("a", "10.0.0.2"), ("b", "fd00::1"),
                          ("a", "127.0.0.1"))]
for round_ in range(3):
    load_module()
    iptap_add("iptap0", ns="a")
    iptap_add("iptap1", ns="a")
    iptap_add("iptap0", ns="b")
    caps = [Capture("iptap0", ns="a"), Capture("iptap1", ns="a"),
            Capture("iptap0", ns="b")]
    time.sleep(0.5)
    got = [len(c.read(0.2, limit=50)) for c in caps]
    t.ok(all(n > 0 for n in got), "round %d: captures running" % round_,
         got)
    t.eq(open("/sys/module/iptap/refcnt").read().strip(), "0",
         "round %d: captures and traffic hold no module reference" % round_)
    probes = open("/sys/kernel/debug/kprobes/list").read()
    t.ok("security_socket_bind" in probes, "round %d: socket probes are "
         "armed while devices exist" % round_)
    r = sh("rmmod iptap", check=False)
    t.ok(r.returncode == 0, "round %d: rmmod succeeds under load" % round_,
         r.stderr)
    left = sh("ip -n a -d link show; ip -n b -d link show",
              check=False).stdout
    left = [l for l in left.splitlines() if l.strip().startswith("iptap")]
    t.eq(left, [], "round %d: no device left" % round_)
    probes = open("/sys/kernel/debug/kprobes/list").read()
    t.ok("security_socket" not in probes and "inet_csk_clone_lock" not in
         probes and "inet_sock_destruct" not in probes,
         "round %d: no probe left" % round_, probes)
    for c in caps:
        c.read(0.1)
        c.close()
t.ok(all(f.poll() is None for f in floods), "traffic ran throughout")
for f in floods:
    stop(f)
load_module()
iptap_add(ns="a")
with Capture(ns="a") as cap:
    sh("ping -c1 -W1 10.0.0.2", ns="a")
    t.ok(len(cap.read()) >= 2, "after reloading, capture works")
t.done()
