#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (not Debian's 6.12 kernels: their source is the debug kernel's of
# make check-debug, where it runs on PREEMPT_RT, with lockdep.)
"""A pre-fork server's children accept() while softirqs read socket locks.

The module learns who accepted a connection from its kprobe on
security_sock_graft(), which __inet_accept() calls inside
write_lock_bh(&sk->sk_callback_lock).  The accepted socket first belongs
to the listener's owner (it inherits that record in softirq, when the
handshake completes); when another process accepts it, the probe records
that process and its name.  So a single-process server never makes the
probe read a name there, and a pre-fork server, whose children accept()
on the parent's listening socket, always does.  Softirqs read
sk_callback_lock too: nft's "meta skuid" (and xt_owner, nf_log) takes it
for every packet of a socket, SYN-ACKs and ACKs included.  Reading the
name with __get_task_comm() takes task_lock(), which tasks take with
softirqs enabled: a CPU holding a task's alloc_lock can be interrupted
by a softirq that waits for a sk_callback_lock whose writer, on the
other CPU, waits for that alloc_lock.  Lockdep reports it (on the debug
kernel, make check-debug) as "SOFTIRQ-READ-safe -> SOFTIRQ-READ-unsafe
lock order detected", clock-AF_INET held by __inet_accept ->
&p->alloc_lock taken by __get_task_comm, and the harness fails the test
on that report by itself.

Topology: a -- b, iptap0 and an nft table in a that counts "meta skuid 0"
packets on input and output, a capture on iptap0.  In a, a pre-fork
server: the parent ("prefork-parent") listens, then forks children
("prefork-kid0".."prefork-kid3") that each accept() five connections on
the parent's socket, tell the client so through a file (their pid),
wait for its upload with select() (no socket call, so that only the
graft probe can have named them), read it to EOF and answer "bye".  In
b, 20 concurrent clients, each uploading 64 KiB once told, so that
nothing of a connection but its handshake comes before the child's
accept().  Both roles are this script's own ("lockorder.py server ...",
"lockorder.py clients ...").

Each child must have accepted its five connections and every client
been told by the child that accepted it.  On iptap0, the handshake of
each connection (SYN, SYN-ACK, ACK: before accept) must name the parent,
the listener's owner, and every record from the upload to the client's
last ACK the very child that accepted it, pid and comm; around them,
retransmissions racing with accept() may name either, and late segments
after the socket is freed the listener's owner or, for the reset that
answers them, no one.  Both nft counters must have counted
packets (the softirq readers of sk_callback_lock ran), and nothing may
count as unattributed.
"""

import ctypes
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (DIR_OUT, Capture, Tap, ip_summary, iptap_add,
                      load_module, sh, stop, sysfs, veth_pair)

PORT = 7300
KIDS = 4
PER_KID = 5
CONNS = KIDS * PER_KID
UPLOAD = 65536
PR_SET_NAME = 15
TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04


def name(comm):
    ctypes.CDLL(None).prctl(PR_SET_NAME, comm.encode(), 0, 0, 0)


def say(*words):
    os.write(1, (" ".join(str(w) for w in words) + "\n").encode())


def server(port, kids, per_kid, marks):
    """The pre-fork server (runs in a): "READY <parent> <kids>...", then
    one line "ACCEPT <client port> <pid> <comm>" per connection.  After
    accept(), a child tells the client through the file marks/<client
    port> (its pid), then waits for the upload without a socket call:
    until it reads, only the graft probe can have named it."""
    name("prefork-parent")
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("", port))
    ls.listen(64)
    children = []
    for i in range(kids):
        pid = os.fork()
        if pid == 0:
            comm = "prefork-kid%d" % i
            name(comm)
            for _ in range(per_kid):
                c, peer = ls.accept()
                say("ACCEPT", peer[1], os.getpid(), comm)
                mark = os.path.join(marks, str(peer[1]))
                with open(mark + ".new", "w") as f:
                    f.write(str(os.getpid()))
                os.rename(mark + ".new", mark)
                select.select([c], [], [], 300)
                while c.recv(1 << 16):
                    pass
                c.sendall(b"bye")
                c.close()
            os._exit(0)
        children.append(pid)
    say("READY", os.getpid(), *children)
    ok = all(os.waitpid(pid, 0)[1] == 0 for pid in children)
    say("DONE" if ok else "FAILED")


def clients(host, port, n, nbytes, marks):
    """n concurrent clients (run in b): "OK <local port> <acceptor pid>"
    for each that was accepted, uploaded and got "bye", "FAIL ..."
    otherwise."""
    def one():
        try:
            s = socket.create_connection((host, port), timeout=300)
            mark = os.path.join(marks, str(s.getsockname()[1]))
            end = time.time() + 300
            while not os.path.exists(mark):
                if time.time() > end:
                    raise RuntimeError("never accepted")
                time.sleep(0.01)
            with open(mark) as f:
                acceptor = int(f.read())
            s.sendall(b"x" * nbytes)
            s.shutdown(socket.SHUT_WR)
            answer = b""
            while True:
                chunk = s.recv(64)
                if not chunk:
                    break
                answer += chunk
            s.close()
            if answer != b"bye":
                raise RuntimeError("answer %r" % answer)
            say("OK", os.path.basename(mark), acceptor)
        except Exception as e:  # reported to the test
            say("FAIL", repr(e).replace("\n", " "))

    threads = [threading.Thread(target=one) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    say("DONE")


if len(sys.argv) > 1:
    if sys.argv[1] == "server":
        server(*map(int, sys.argv[2:5]), sys.argv[5])
    else:
        clients(sys.argv[2], *map(int, sys.argv[3:6]), sys.argv[6])
    sys.exit(0)

SELF = os.path.abspath(__file__)


class Role:
    """This script in one of its roles, in namespace ns, in a process
    group of its own; its output read line by line, as words."""

    def __init__(self, ns, *args):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, SELF] +
            [str(a) for a in args], stdout=subprocess.PIPE,
            start_new_session=True)
        self.buf = b""
        self.lines = []

    def until(self, last, timeout):
        """Read lines until one begins with a word of last (or EOF, or
        timeout seconds); return that first word or None."""
        end = time.time() + timeout
        fd = self.proc.stdout.fileno()
        while time.time() < end:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                words = line.decode(errors="replace").split()
                self.lines.append(words)
                if words and words[0] in last:
                    return words[0]
            r, _, _ = select.select([fd], [], [], 1)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return None
                self.buf += chunk
        return None

    def said(self, word):
        return [w[1:] for w in self.lines if w and w[0] == word]


def nft_packets(chain):
    out = sh("nft list chain inet lockorder %s" % chain, ns="a").stdout
    m = re.search(r"meta skuid 0 counter packets (\d+)", out)
    return int(m.group(1)) if m else None


t = Tap()
load_module()
veth_pair("a", "b")
# Softirq readers of sk_callback_lock: nft_meta's skuid, on every packet
# of a's sockets, the SYN-ACKs and ACKs sent in softirq and every packet
# received included.
sh("nft add table inet lockorder", ns="a")
for chain, hook in (("in", "input"), ("out", "output")):
    sh("nft 'add chain inet lockorder %s { type filter hook %s priority 0; }'"
       % (chain, hook), ns="a")
    sh("nft add rule inet lockorder %s meta skuid 0 counter" % chain, ns="a")
iptap_add(ns="a")
cap = Capture("iptap0", ns="a")

start = time.time()
marks = tempfile.mkdtemp(prefix="lockorder.")
srv = Role("a", "server", PORT, KIDS, PER_KID, marks)
if srv.until(("READY",), 120) != "READY":
    stop(srv.proc)
    t.ok(False, "the pre-fork server starts", srv.lines)
    t.done()
parent = int(srv.said("READY")[0][0])
kids = [int(w) for w in srv.said("READY")[0][1:]]
cli = Role("b", "clients", "10.0.0.1", PORT, CONNS, UPLOAD, marks)
cli_end = cli.until(("DONE",), 240)
srv_end = srv.until(("DONE", "FAILED"), 30)
t.diag("%d connections served in %.1fs" % (CONNS, time.time() - start))
recs = cap.read(1.0)
cap.close()
stop(cli.proc)
stop(srv.proc)
shutil.rmtree(marks)

# Who accepted which connection, by the client's port.
accepted = {int(port): (int(pid), comm)
            for port, pid, comm in srv.said("ACCEPT")}
per_kid = {}
for pid, comm in accepted.values():
    per_kid[(pid, comm)] = per_kid.get((pid, comm), 0) + 1
t.diag("parent %d, connections per child: %s" % (parent, sorted(
    (comm, pid, n) for (pid, comm), n in per_kid.items())))
t.ok(srv_end == "DONE" and len(accepted) == CONNS and
     sorted(per_kid) == sorted((pid, "prefork-kid%d" % i)
                               for i, pid in enumerate(kids)) and
     set(per_kid.values()) == {PER_KID},
     "each of the %d children accepted %d connections on the parent's "
     "socket" % (KIDS, PER_KID), (srv_end, srv.lines))
fails = cli.said("FAIL")
told = {int(port): int(pid) for port, pid in cli.said("OK")}
t.ok(cli_end == "DONE" and not fails and len(told) == CONNS and
     all(accepted.get(port, (None,))[0] == pid
         for port, pid in told.items()),
     "every client was told by the child that accepted it, uploaded and "
     "got its answer", (cli_end, fails, told, accepted))

# The records of each connection, in the order they were made: (outgoing,
# TCP flags, TCP payload length, record).
conns = {}
stray = []
for _, r in recs:
    p = r["packet"]
    hl = (p[0] & 15) * 4
    if r["ipproto"] != 6:
        continue        # IPv6 multicast listener reports of the veth
    sport, dport = struct.unpack_from(">HH", p, hl)
    out = r["flags"] == DIR_OUT
    local, remote = (sport, dport) if out else (dport, sport)
    if local != PORT or remote not in accepted:
        stray.append((ip_summary(r), r["flags"]))
        continue
    payload = ip_summary(r)[3] - hl - (p[hl + 12] >> 4) * 4
    conns.setdefault(remote, []).append((out, p[hl + 13], payload, r))
t.diag("%d records, %d of no connection of the server" % (len(recs),
                                                          len(stray)))


def first(recs_c, cond, after=-1):
    return next((i for i, (out, flags, n, _) in enumerate(recs_c)
                 if i > after and cond(out, flags, n)), None)


# The phases of a connection, by its records:
#   handshake   the first SYN in, SYN-ACK out and ACK in, before the
#               child can accept(): the listener's owner's, the parent's;
#   accepted    from the first byte of the upload, which the client sends
#               once told of the accept(), to the child's FIN and the
#               first segment in after it, both included: the child's,
#               every one (the first ones known from the graft probe
#               only, as the child makes no socket call until the upload
#               is there);
# and, tolerated because they race with accept() or with the socket's
# end: SYN and ACK retransmissions of the handshake before the upload
# (the parent's or the child's), and later segments in that may arrive
# once the socket is freed (the listener's, the parent's) and the reset
# that answers them (sent by no socket: -1).
PARENT = (parent, "prefork-parent")
handshake_bad, accepted_bad, other_bad, incomplete = [], [], [], []
counts = {"handshake": 0, "accepted": 0, "tolerated": 0}
tolerated = []
for port in sorted(accepted):
    child = accepted[port]
    recs_c = conns.get(port, [])
    syn = first(recs_c, lambda out, f, n: not out and f & TCP_SYN)
    synack = first(recs_c, lambda out, f, n: out and f & TCP_SYN)
    ack = first(recs_c, lambda out, f, n: not out and not f & TCP_SYN)
    upload = first(recs_c, lambda out, f, n: not out and n > 0)
    fin = first(recs_c, lambda out, f, n: out and f & TCP_FIN,
                upload if upload is not None else len(recs_c))
    last = first(recs_c, lambda out, f, n: not out,
                 fin if fin is not None else len(recs_c))
    if None in (syn, synack, ack, upload, fin, last) or \
            not syn < synack < ack < upload or \
            first(recs_c, lambda out, f, n: out and n > 0,
                  upload) is None:
        incomplete.append((port, [(out, f, n) for out, f, n, _ in recs_c]))
        continue
    for i, (out, flags, n, r) in enumerate(recs_c):
        got = (r["pid"], r["comm"])
        if i in (syn, synack, ack):
            counts["handshake"] += 1
            if got != PARENT:
                handshake_bad.append((port, i, got))
        elif upload <= i <= last:
            counts["accepted"] += 1
            if got != child:
                accepted_bad.append((port, i, got, child))
        else:
            counts["tolerated"] += 1
            tolerated.append((port, i, "out" if out else "in", "".join(
                f for b, f in enumerate("FSRPAU") if flags >> b & 1), n, got))
            if got != child and not (
                    i < upload and got == PARENT or
                    i > last and not out and got == PARENT or
                    i > last and out and flags & TCP_RST and
                    got == (-1, "")):
                other_bad.append((port, i, got, child))
t.diag("records by phase: %s" % counts)
if tolerated:
    t.diag("tolerated (port, index, direction, flags, payload, named): %s"
           % tolerated[:8])


def show(port):
    """The records of a connection, for a diagnostic."""
    out = []
    for i, (o, flags, n, r) in enumerate(conns.get(port, [])):
        p = r["packet"]
        hl = (p[0] & 15) * 4
        seq, ack = struct.unpack_from(">II", p, hl + 4)
        out.append("%3d %s %-3s payload %5d seq %10d ack %10d: %d %s" % (
            i, "out" if o else "in ", "".join(
                f for b, f in enumerate("FSRPAU") if flags >> b & 1),
            n, seq, ack, r["pid"], r["comm"]))
    return "\n".join(["connection from port %d" % port] + out)


for port in sorted(set(b[0] for b in handshake_bad + accepted_bad +
                       other_bad) | set(b[0] for b in incomplete))[:3]:
    t.diag(show(port))
t.ok(not incomplete and not stray,
     "every record is of a connection, each with its handshake, upload, "
     "answer, FIN and last ACK", ([b[0] for b in incomplete], stray[:5]))
t.ok(counts["handshake"] == 3 * CONNS and not handshake_bad,
     "%d handshake records name the listener's owner, the parent"
     % counts["handshake"], handshake_bad[:10])
t.ok(counts["accepted"] >= 3 * CONNS and not accepted_bad,
     "%d records from accept() to the last ACK name the child that "
     "accepted (pid and comm)" % counts["accepted"], accepted_bad[:10])
t.ok(not other_bad, "%d records around them are the parent's, the "
     "child's or no one's as they may be" % counts["tolerated"],
     other_bad[:10])

packets_in, packets_out = nft_packets("in"), nft_packets("out")
t.diag("nft meta skuid 0: %s packets in, %s out" % (packets_in,
                                                    packets_out))
t.ok(packets_in is not None and packets_in >= CONNS and
     packets_out is not None and packets_out >= CONNS,
     "nft read the sockets' owners on input and output (from softirq)",
     (packets_in, packets_out))
t.eq(sysfs("iptap0", "iptap/unattributed", ns="a"), "0",
     "no packet of a local socket went unattributed")
t.done()
