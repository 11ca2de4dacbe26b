#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 6.12.*-rt-amd64 7.*
# (and Debian's PREEMPT_RT kernel, whose threaded softirqs and RCU
# change its timing; not Debian's preemptible 6.12, whose code is that
# of 6.1 and 7.2 here.)
"""MPTCP: the packets of a process's MPTCP socket are that process's.

MPTCP carries a connection on subflows, TCP sockets that the kernel
creates for the process's MPTCP socket.  Topology: client c and server s
joined by two veths; c has its second addresses as subflow endpoints,
so that each MPTCP connection gets a second subflow; iptap0 in both
namespaces.  Four connections, each by its own processes:

  - MPTCP client to MPTCP server, over IPv4 and over IPv6;
  - an MPTCP client to a plain TCP server (the client falls back to TCP);
  - a plain TCP client to an MPTCP server (the server falls back);
  - an MPTCP server that accepts in one process and serves in a forked
    child: its records name the acceptor, then the child.

Every record of a connection's first subflow, both directions, must name
its process on each side (pid and comm), but in TIME_WAIT and after an
RST (closing()).  The second subflow's handshake
is the kernel's (a worker opens it, before the subflow is attached to
the MPTCP socket), and may count as unattributed (4 records without data,
more when TCP repeats one; at most 8); then its records name the client
in c and the server in s.
"""

import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (DIR_IN, Capture, Tap, ip_summary, iptap_add,
                      load_module, netns_add, sh, sysfs, veth_link, workload)

IPPROTO_MPTCP = 262

t = Tap()
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP).close()
except OSError as e:
    t.skip_all("no MPTCP in this kernel (%s)" % e)
load_module()

netns_add("c", "s")
veth_link("c", "vc1", "s", "vs1", ("10.0.0.1", "10.0.0.2"),
          ("fd00::1", "fd00::2"))
veth_link("c", "vc2", "s", "vs2", ("10.0.1.1", "10.0.1.2"),
          ("fd01::1", "fd01::2"))
for ns in ("c", "s"):
    sh("sysctl -qw net.mptcp.enabled=1", ns=ns)
    sh("ip mptcp limits set subflow 2 add_addr_accepted 2", ns=ns)
sh("ip mptcp endpoint add 10.0.1.1 subflow", ns="c")
sh("ip mptcp endpoint add fd01::1 subflow", ns="c")
for ns in ("c", "s"):
    iptap_add(ns=ns)
capc = Capture(ns="c")
caps = Capture(ns="s")

# (port, server role, client role, family, server address, seconds the
# server waits before accept(): 7203's first data arrives before it)
CONNS = ((7200, "mptcp-server", "mptcp-client", 4, "10.0.0.2", 0),
         (7201, "mptcp-server", "mptcp-client", 6, "fd00::2", 0),
         (7202, "tcp-server", "mptcp-client", 4, "10.0.0.2", 0),
         (7203, "mptcp-server", "tcp-client", 4, "10.0.0.2", 1))
FORKED = 7204
servers, clients = {}, {}
for port, srole, crole, fam, addr, delay in CONNS:
    p, (pid,) = workload("s", srole, port, fam, delay)
    servers[port] = (p, pid, srole)
fork_srv, (acceptor,) = workload("s", "mptcp-fork-server", FORKED, 4)
for port, srole, crole, fam, addr, _ in CONNS + ((FORKED, None,
                                                   "mptcp-client", 4,
                                                   "10.0.0.2", 0),):
    p, (pid,) = workload("c", crole, addr, port, fam, 3 << 20)
    clients[port] = (p, pid, crole)
worker = int(fork_srv.stdout.readline().split()[1])
for p, _, _ in list(clients.values()) + list(servers.values()):
    p.wait(timeout=120)
fork_srv.wait(timeout=120)
# The traffic is over: wait as long as the drains take to parse what is
# queued (minutes on a debug kernel), not read()'s default 20 s, which
# would cut the later connections off.
recs = {"c": capc.read(1.0, timeout=600), "s": caps.read(0.5, timeout=600)}
t.diag("%d records in c, %d in s" % (len(recs["c"]), len(recs["s"])))


TCP_FIN, TCP_RST = 0x01, 0x04


def closing(recs):
    """Indexes of the records at the end of a subflow (of each, in a list
    of several) that may name nobody:
      - from its first FIN on, those without data: a subflow close()
        detached finishes in TIME_WAIT, which names nobody (as for TCP);
      - after its first RST, the RSTs and whatever comes in.  The kernel
        resets a joined subflow now and then (seen on 6.12-rt, whose
        softirqs preempt the process): when the server's process holds
        its MPTCP socket as an MP_JOIN completes, release_sock() finishes
        the join later, and mptcp_subflow_joined() then sets the
        subflow's mapping over one that data has begun; the next segment
        no longer matches it (MPTcpExtDSSNotMatching), and the server
        resets the subflow (MP_TCPRST, reason 1).  The client's segments
        still in flight find no socket there (or its listener): the
        stack answers each with an RST of its own control socket, as for
        TIME_WAIT, and those RSTs may reach a client subflow the first
        one has already closed."""
    fin, rst, out = {}, {}, set()
    for i, (r, f) in enumerate(recs):
        flow = frozenset(((f[0], f[2]), (f[1], f[3])))
        if f[4] & TCP_FIN:
            fin.setdefault(flow, i)
        if (fin.get(flow, i + 1) <= i and f[5] == 0) or \
           (rst.get(flow, i) < i and (f[4] & TCP_RST or
                                      r["flags"] & DIR_IN)):
            out.add(i)
        if f[4] & TCP_RST:
            rst.setdefault(flow, i)
    return out


def named(recs, pid, role, grace=0):
    """Do all records name (pid, role), but the first grace ones (without
    data: unnamed_lead()) and the closing ones, which may name nobody?"""
    ok_none = closing(recs) | set(range(grace))
    return all((r["pid"], r["comm"]) == (pid, role) or
               (i in ok_none and r["pid"] == -1)
               for i, (r, _) in enumerate(recs))


def unnamed_lead(recs, most=8):
    """How many records, at most @most, come before the first that names
    a process, all carrying no data: a joining subflow's handshake, which
    the kernel opens before it attaches the subflow (SYN, SYN-ACK, ACK,
    the peer's ACK; more when a slow peer makes TCP repeat one)."""
    n = 0
    for r, f in recs[:most]:
        if r["pid"] != -1 or f[5]:
            break
        n += 1
    return n


def tcp_of(r):
    """(src, dst, sport, dport, flags, payload bytes) of a TCP record."""
    src, dst, proto, total = ip_summary(r)
    if proto != 6:
        return None
    p = r["packet"]
    off = (p[0] & 0xf) * 4 if r["af"] == 2 else 40
    sport, dport = struct.unpack_from(">HH", p, off)
    hlen = (p[off + 12] >> 4) * 4
    return src, dst, sport, dport, p[off + 13], total - off - hlen


JOINED = ("10.0.1.1", "fd01::1")    # c's address of the joined subflows

for port, srole, crole, fam, addr, _ in CONNS:
    for ns, (_, pid, role) in (("c", clients[port]), ("s", servers[port])):
        first, joined = [], []
        for _, r in recs[ns]:
            f = tcp_of(r)
            if not f or port not in (f[2], f[3]):
                continue
            client_addr = f[0] if f[3] == port else f[1]
            (joined if client_addr in JOINED else first).append((r, f))
        who = "%s %d (%s) in %s" % (role, port, "IPv%d" % fam, ns)
        t.ok(first and named(first, pid, role),
             "%s: all %d records of the first subflow name it (but in "
             "TIME_WAIT)" % (who, len(first)),
             [(i, r["pid"], r["comm"], f[4], f[5])
              for i, (r, f) in enumerate(first)
              if (r["pid"], r["comm"]) != (pid, role)][:10])
        if srole != "mptcp-server" or crole != "mptcp-client":
            continue
        # The opening side's handshake may come before the kernel
        # attaches the subflow.
        lead = unnamed_lead(joined)
        grace = lead if ns == "c" else 0
        t.diag("%s: %d leading records without data name nobody" %
               (who, lead))
        t.ok(joined and named(joined, pid, role, grace),
             "%s: a second subflow joined (%d records), all its records "
             "name it%s" % (who, len(joined),
                            " but its handshake's" if grace else ""),
             [(i, r["pid"], r["comm"], "in" if r["flags"] & 1 else "out",
               f[4], f[5])
              for i, (r, f) in enumerate(joined)
              if (r["pid"], r["comm"]) != (pid, role)][:10])

# A connection accepted by one process and served by its child: the
# acceptor's until the worker uses it, then the worker's.
mine = [(r, f) for _, r in recs["s"] for f in [tcp_of(r)]
        if f and FORKED in (f[2], f[3])]
t.ok(mine and all(r["pid"] in (acceptor, worker) or
                  (i in closing(mine) and r["pid"] == -1)
                  for i, (r, _) in enumerate(mine)),
     "forked MPTCP server: all %d records name the acceptor or its worker "
     "(but in TIME_WAIT)" % len(mine),
     sorted({(r["pid"], r["comm"]) for r, _ in mine}))
answer = [i for i, (r, f) in enumerate(mine) if f[2] == FORKED and f[5] > 0]
t.ok(answer and named(mine[answer[0]:], worker, "mptcp-worker"),
     "forked MPTCP server: from its answer to the end of the connection "
     "(after close(), but in TIME_WAIT), every record names the worker",
     sorted({(r["pid"], r["comm"], f[4]) for r, f in mine[answer[0]:] if
             (r["pid"], r["comm"]) != (worker, "mptcp-worker")}) if answer
     else "no answer seen")

t.diag("unattributed: c %s, s %s" % (sysfs("iptap0", "iptap/unattributed",
                                           ns="c"),
                                     sysfs("iptap0", "iptap/unattributed",
                                           ns="s")))
t.done()
