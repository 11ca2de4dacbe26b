#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (not Debian's 6.12 kernels: their source is the debug kernel's of
# make check-debug, where it runs on PREEMPT_RT, with lockdep.)
"""What "every packet" means: forwarding, NAT, fragments, tunnels, drops.

Topology: client c -- router r -- server s, each link a veth; iptap0 in
r.  iptap hooks PRE_ROUTING and LOCAL_OUT first of all hooks, so on r:
  - forwarded packets are seen on input only, never on output;
  - with masquerading, incoming packets show the addresses on the wire
    (before DNAT or de-masquerading);
  - fragments are seen as fragments on input, with or without conntrack
    (defragmentation comes after iptap), and outgoing datagrams whole
    (fragmentation comes after LOCAL_OUT);
  - a tunnel shows each packet twice: inner on the tunnel device, outer
    on the real one;
  - packets the firewall then drops are seen all the same.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (DIR_IN, DIR_OUT, Capture, Tap, bg, ip_summary,
                      iptap_add, load_module, netns_add, sh, stop,
                      veth_link, wait_for)

t = Tap()
load_module()
netns_add("c", "r", "s")
veth_link("c", "vc", "r", "rc", ("10.1.0.2", "10.1.0.1"),
          ("fd01::2", "fd01::1"))
veth_link("s", "vs", "r", "rs", ("10.2.0.2", "10.2.0.1"),
          ("fd02::2", "fd02::1"))
sh("ip -n c route add default via 10.1.0.1")
sh("ip -n c route add default via fd01::1")
sh("ip -n s route add default via 10.2.0.1")
sh("ip -n s route add default via fd02::1")
sh("sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1", ns="r")
iptap_add(ns="r")
# A freshly forwarded IPv6 path loses its first echo now and then, iptap
# loaded or not (12% of 25 tries on 6.12, with no module): what follows
# counts records of single echoes, so first wait until the path answers.
for addr in ("10.2.0.2", "fd02::2"):
    t.ok(wait_for(lambda: sh("ping -c1 -W1 " + addr, ns="c",
                             check=False).returncode == 0, 10),
         "the client reaches %s through the router" % addr)


def recs_of(recs, src, dst, proto=None):
    return [r for _, r in recs if ip_summary(r)[:2] == (src, dst) and
            (proto is None or r["ipproto"] == proto)]


# --- forwarding ----------------------------------------------------------
with Capture(ns="r") as cap:
    sh("ping -c1 -W2 10.2.0.2", ns="c")
    sh("ping -c1 -W2 fd02::2", ns="c")
    recs = cap.read()
for src, dst, name in (("10.1.0.2", "10.2.0.2", "IPv4"),
                       ("fd01::2", "fd02::2", "IPv6")):
    req = recs_of(recs, src, dst)
    rep = recs_of(recs, dst, src)
    t.eq([(r["flags"], r["ifname"]) for r in req], [(DIR_IN, "rc")],
         "forwarded %s request: seen once, in on rc" % name)
    t.eq([(r["flags"], r["ifname"]) for r in rep], [(DIR_IN, "rs")],
         "forwarded %s reply: seen once, in on rs" % name)

# --- NAT: masquerade c behind r ------------------------------------------
# Short echoes and long ones: the router rewrites each packet after the
# hook (its TTL, its source, the reply's destination), and each record
# must stay as the packet arrived, whatever the record shares with it.
sh("nft add table ip nat", ns="r")
sh("nft 'add chain ip nat post { type nat hook postrouting priority 100; }'",
   ns="r")
sh("nft add rule ip nat post oifname rs masquerade", ns="r")
for size in (56, 1400):
    with Capture(ns="r") as cap:
        sh("ping -c1 -W2 -s %d 10.2.0.2" % size, ns="c")
        recs = cap.read()
    what = "NAT, %d-byte echo" % size
    t.eq([(r["flags"], r["ifname"], r["packet"][8], ip_summary(r)[3])
          for r in recs_of(recs, "10.1.0.2", "10.2.0.2", 1)],
         [(DIR_IN, "rc", 64, size + 28)],
         "%s: request seen whole with the client's own address and its "
         "TTL as sent" % what)
    t.eq([(r["flags"], r["ifname"], ip_summary(r)[3])
          for r in recs_of(recs, "10.2.0.2", "10.2.0.1", 1)],
         [(DIR_IN, "rs", size + 28)],
         "%s: reply seen as it arrived, to the router" % what)
    t.eq([(r["flags"], r["ifname"], r["packet"][8])
          for r in recs_of(recs, "10.2.0.2", "10.1.0.2")], [],
         "%s: no record after de-masquerading" % what)
sh("nft delete table ip nat", ns="r")


# --- fragments -----------------------------------------------------------
def fragments_in(label):
    rcv = bg("timeout 5 socat -u UDP4-RECV:7000 OPEN:/dev/null & "
             "timeout 5 socat -u UDP6-RECV:7000 OPEN:/dev/null & wait",
             ns="r")
    time.sleep(0.5)
    with Capture(ns="r") as cap:
        sh("head -c 4000 /dev/zero | socat -u - UDP4-SENDTO:10.2.0.1:7000",
           ns="s")
        sh("head -c 4000 /dev/zero | socat -u - UDP6-SENDTO:[fd02::1]:7000",
           ns="s")
        recs = cap.read()
    stop(rcv)
    v4 = recs_of(recs, "10.2.0.2", "10.2.0.1", 17)
    v6 = recs_of(recs, "fd02::2", "fd02::1", 17)
    t.ok(len(v4) == 3 and all(len(r["packet"]) <= 1500 for r in v4),
         "%s: an IPv4 datagram of 4000 bytes is seen as 3 fragments" % label,
         [len(r["packet"]) for r in v4])
    t.ok(len(v6) == 3 and all(len(r["packet"]) <= 1500 for r in v6),
         "%s: an IPv6 datagram is seen as 3 fragments, ipproto UDP" % label,
         [(len(r["packet"]), r["ipproto"]) for r in v6])


fragments_in("no conntrack")
sh("nft add table inet f", ns="r")
sh("nft 'add chain inet f in { type filter hook input priority 0; }'",
   ns="r")
sh("nft add rule inet f in ct state new,established accept", ns="r")
t.ok("nf_defrag_ipv4" in sh("lsmod").stdout, "conntrack and defrag loaded")
fragments_in("conntrack")

with Capture(ns="r") as cap:
    sh("head -c 4000 /dev/zero | socat -u - UDP4-SENDTO:10.2.0.2:7001",
       ns="r")
    recs = cap.read()
out = recs_of(recs, "10.2.0.1", "10.2.0.2", 17)
t.eq([(r["flags"], len(r["packet"])) for r in out], [(DIR_OUT, 4028)],
     "an outgoing datagram is seen whole, before fragmentation")

# --- firewall drops --------------------------------------------------------
sh("nft add rule inet f in udp dport 7777 drop", ns="r")
sh("nft 'add chain inet f out { type filter hook output priority 0; }'",
   ns="r")
sh("nft add rule inet f out udp dport 7778 drop", ns="r")
with Capture(ns="r") as cap:
    sh("echo x | socat -u - UDP4-SENDTO:10.2.0.1:7777", ns="s")
    sh("echo x | socat -u - UDP4-SENDTO:10.2.0.2:7778", ns="r", check=False)
    recs = cap.read()
t.eq(len(recs_of(recs, "10.2.0.2", "10.2.0.1", 17)), 1,
     "a packet the input firewall drops is seen")
t.eq(len(recs_of(recs, "10.2.0.1", "10.2.0.2", 17)), 1,
     "a packet the output firewall drops is seen")
sh("nft delete table inet f", ns="r")

# --- a tunnel: inner and outer --------------------------------------------
sh("ip -n r tunnel add t0 mode ipip local 10.2.0.1 remote 10.2.0.2")
sh("ip -n s tunnel add t0 mode ipip local 10.2.0.2 remote 10.2.0.1")
for ns, a in (("r", "10.99.0.1/30"), ("s", "10.99.0.2/30")):
    sh("ip -n %s addr add %s dev t0" % (ns, a))
    sh("ip -n %s link set t0 up" % ns)
with Capture(ns="r") as cap:
    sh("ping -c1 -W2 10.99.0.2", ns="r")
    recs = cap.read()
seen = [(r["flags"], r["ifname"], r["ipproto"]) for _, r in recs
        if ip_summary(r)[:2] in (("10.99.0.1", "10.99.0.2"),
                                 ("10.99.0.2", "10.99.0.1"),
                                 ("10.2.0.1", "10.2.0.2"),
                                 ("10.2.0.2", "10.2.0.1"))]
t.eq(seen, [(DIR_OUT, "t0", 1), (DIR_OUT, "rs", 4),
            (DIR_IN, "rs", 4), (DIR_IN, "t0", 1)],
     "ipip: inner and outer packet, both ways, in order")

t.done()
