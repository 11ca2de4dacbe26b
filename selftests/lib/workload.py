#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""workload.py ROLE ARGS...: one known process of the attribution tests.

Each role names itself (prctl PR_SET_NAME: the process's comm), prints
"READY <pid>" once its sockets exist, does its traffic and prints
"DONE".  Roles:
  udp-server PORT FAMILY SECONDS   receive only, never send
  udp-client HOST PORT FAMILY N    send N datagrams
  tcp-server PORT FAMILY [DELAY]   accept one connection (DELAY seconds
                                   after listening), read to EOF,
                                   answer "bye"
  tcp-client HOST PORT FAMILY BYTES  connect, send BYTES, read the answer
  mptcp-server PORT FAMILY [DELAY]  tcp-server over an MPTCP socket
  mptcp-client HOST PORT FAMILY BYTES  tcp-client over an MPTCP socket,
                                   pausing 0.1 s every 256 KiB
  mptcp-fork-server PORT FAMILY    the parent ("mptcp-acceptor") accepts
                                   one MPTCP connection, forks a child
                                   ("mptcp-worker", "WORKER <pid>") that
                                   serves it as tcp-server does, closes
                                   its own copy and listens until the
                                   child is done
  fork-udp HOST PORT               the parent creates a UDP socket and
                                   sends "parent1"; a child ("fork-child")
                                   inherits it and sends "child1","child2";
                                   then the parent sends "parent2"
  fork-udp-server PORT             the parent ("fork-binder") binds a UDP
                                   socket and only waits; a child
                                   ("fork-receiver") inherits it and reads
                                   from it (blocking) until killed
  ping HOST FAMILY COUNT           run ping (a ping socket), report its pid
  pidns-udp HOST PORT              print "READY <pid outside> <pid inside>"
                                   (run it in a child PID namespace), send 2
  udp-many PORT N [ADDR...]        bind N UDP sockets (IPv4) to ports PORT,
                                   PORT+1, ... of each ADDR in turn (default
                                   any address); receive only, until killed
  udp-flow FAMILY ADDR PORT [reuse]  a UDP socket bound to ADDR PORT (PORT
                                   0: unbound until a connect; with reuse,
                                   SO_REUSEADDR first); reads whatever
                                   comes, and obeys commands on stdin, one a
                                   line, each answered with a line: count
                                   (datagrams read), port, reuse (sets
                                   SO_REUSEADDR), connect HOST PORT,
                                   disconnect (AF_UNSPEC), device DEV (""
                                   unbinds: SO_BINDTODEVICE), pause, resume
                                   (reading), child-send HOST PORT (a child,
                                   "udp-flow-child", sends a datagram on the
                                   socket and exits: answers its pid)
  udp-orphan PORT                  a second thread binds a UDP socket to
                                   PORT and receives only; then the main
                                   thread exits, alone (SYS_exit), leaving
                                   a zombie group leader
  udp-each PORT N ADDR...          send one datagram to each socket that
                                   udp-many PORT N ADDR... binds
  churn N                          open and close N bound UDP sockets and N
                                   TCP connections over loopback
  icmp-ids HOST ID N [TYPE]        send one ICMP echo request (or TYPE: 0
                                   for replies) with each identifier
                                   ID..ID+N-1, from a raw socket
"""

import ctypes
import os
import resource
import select
import socket
import struct
import subprocess
import sys
import threading
import time

PR_SET_NAME = 15
SYS_EXIT = 60           # x86_64: ends the calling thread only
IPPROTO_MPTCP = 262
_libc = ctypes.CDLL(None, use_errno=True)


def name(comm):
    _libc.prctl(PR_SET_NAME, comm.encode(), 0, 0, 0)


def say(*words):
    print(*words, flush=True)


def fam(f):
    return socket.AF_INET6 if f == "6" else socket.AF_INET


def nspid():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                ids = line.split()[1:]
                return ids[0], ids[-1]
    return str(os.getpid()), str(os.getpid())


def echo(kind, ident):
    """An ICMP echo message of type kind, identifier ident, sequence 1."""
    msg = struct.pack("!BBHHH", kind, 0, 0, ident, 1) + b"iptap"
    words = sum(struct.unpack("!%dH" % (len(msg) // 2), msg[:len(msg) & ~1]))
    if len(msg) & 1:
        words += msg[-1] << 8
    while words >> 16:
        words = (words & 0xffff) + (words >> 16)
    return msg[:2] + struct.pack("!H", ~words & 0xffff) + msg[4:]


def many(args):
    """The (address, port) pairs of udp-many PORT N [ADDR...]: N sockets,
    ports PORT, PORT+1... of the first address, then of the next."""
    port, n, addrs = int(args[0]), int(args[1]), args[2:] or [""]
    per = -(-n // len(addrs))
    return [(addrs[i // per], port + i % per) for i in range(n)]


def udp_flow(args):
    """The udp-flow role."""
    name("udp-flow")
    s = socket.socket(fam(args[0]), socket.SOCK_DGRAM)
    if args[3:] == ["reuse"]:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args[2] != "0":
        s.bind((args[1], int(args[2])))
    say("READY", os.getpid())
    got, reading = 0, True
    while True:
        r, _, _ = select.select([sys.stdin] + [s] * reading, [], [])
        if s in r:
            try:
                s.recv(65536)
                got += 1
            except OSError:         # destroyed (ss -K): nothing to read
                reading = False
            continue
        cmd = sys.stdin.readline().split()
        if not cmd:
            return
        answer = "ok"
        if cmd[0] == "count":
            answer = got
        elif cmd[0] == "port":
            answer = s.getsockname()[1]
        elif cmd[0] == "reuse":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        elif cmd[0] == "connect":
            s.connect((cmd[1], int(cmd[2])))
        elif cmd[0] == "disconnect":
            unspec = struct.pack("=H14x", socket.AF_UNSPEC)
            if _libc.connect(s.fileno(), unspec, len(unspec)):
                answer = "error %d" % ctypes.get_errno()
        elif cmd[0] == "device":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE,
                         (cmd[1:] or [""])[0].encode())
        elif cmd[0] in ("pause", "resume"):
            reading = cmd[0] == "resume"
        elif cmd[0] == "child-send":
            pid = os.fork()
            if not pid:
                name("udp-flow-child")
                s.sendto(b"child", (cmd[1], int(cmd[2])))
                os._exit(0)
            os.waitpid(pid, 0)
            answer = pid
        say(answer)


def main(role, args):
    if role == "udp-server":
        name("udp-server")
        s = socket.socket(fam(args[1]), socket.SOCK_DGRAM)
        s.bind(("", int(args[0])))
        s.settimeout(float(args[2]))
        say("READY", os.getpid())
        try:
            while True:
                s.recvfrom(65536)
        except socket.timeout:
            pass
    elif role == "udp-client":
        name("udp-client")
        s = socket.socket(fam(args[2]), socket.SOCK_DGRAM)
        say("READY", os.getpid())
        for i in range(int(args[3])):
            s.sendto(b"datagram %d" % i, (args[0], int(args[1])))
            time.sleep(0.05)
    elif role in ("tcp-server", "mptcp-server"):
        name(role)
        ls = socket.socket(fam(args[1]), socket.SOCK_STREAM,
                           IPPROTO_MPTCP if role == "mptcp-server" else 0)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("", int(args[0])))
        ls.listen(4)
        say("READY", os.getpid())
        if len(args) > 2:
            time.sleep(float(args[2]))
        c, _ = ls.accept()
        while c.recv(1 << 16):
            pass
        c.sendall(b"bye")
        c.close()
        ls.close()
    elif role in ("tcp-client", "mptcp-client"):
        name(role)
        s = socket.socket(fam(args[2]), socket.SOCK_STREAM,
                          IPPROTO_MPTCP if role == "mptcp-client" else 0)
        s.settimeout(30)
        s.connect((args[0], int(args[1])))
        say("READY", os.getpid())
        # In pieces, with pauses: time for MPTCP to join more subflows.
        left = int(args[3])
        while left > 0:
            s.sendall(b"x" * min(left, 1 << 18))
            left -= 1 << 18
            if role == "mptcp-client":
                time.sleep(0.1)
        s.shutdown(socket.SHUT_WR)
        while s.recv(1 << 16):
            pass
        s.close()
    elif role == "mptcp-fork-server":
        name("mptcp-acceptor")
        ls = socket.socket(fam(args[1]), socket.SOCK_STREAM, IPPROTO_MPTCP)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("", int(args[0])))
        ls.listen(4)
        say("READY", os.getpid())
        c, _ = ls.accept()
        child = os.fork()
        if child == 0:
            name("mptcp-worker")
            ls.close()
            while c.recv(1 << 16):
                pass
            c.sendall(b"bye")
            c.close()
            os._exit(0)
        say("WORKER", child)
        c.close()
        # Listening still: the client's second subflow joins through it.
        os.waitpid(child, 0)
        ls.close()
    elif role == "fork-udp":
        name("fork-parent")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dst = (args[0], int(args[1]))
        s.sendto(b"parent1", dst)
        r, w = os.pipe()
        child = os.fork()
        if child == 0:
            name("fork-child")
            os.read(r, 1)
            s.sendto(b"child1", dst)
            s.sendto(b"child2", dst)
            os._exit(0)
        say("READY", os.getpid(), child)
        os.write(w, b"x")
        os.waitpid(child, 0)
        time.sleep(0.2)
        s.sendto(b"parent2", dst)
    elif role == "fork-udp-server":
        name("fork-binder")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("", int(args[0])))
        child = os.fork()
        if child == 0:
            name("fork-receiver")
            # Blocking: a timeout would make Python poll() first and
            # call recvfrom() only once a datagram is there.
            while True:
                s.recvfrom(65536)
        say("READY", os.getpid(), child)
        os.waitpid(child, 0)
    elif role == "ping":
        p = subprocess.Popen(["ping", "-c", args[2], "-i", "0.2", "-W", "2",
                              "-" + args[1], args[0]],
                             stdout=subprocess.DEVNULL)
        say("READY", p.pid)
        p.wait()
    elif role == "pidns-udp":
        name("pidns-client")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        say("READY", *nspid())
        for i in range(2):
            s.sendto(b"pidns %d" % i, (args[0], int(args[1])))
            time.sleep(0.05)
    elif role == "udp-many":
        name("udp-many")
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (int(args[1]) + 64, int(args[1]) + 64))
        socks = []
        for addr, port in many(args):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((addr, port))
            socks.append(s)
        say("READY", os.getpid())
        while True:
            time.sleep(60)
    elif role == "udp-flow":
        udp_flow(args)
    elif role == "udp-orphan":
        name("udp-orphan")
        bound = threading.Event()

        def hold():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("", int(args[0])))
            bound.set()
            while True:
                s.recvfrom(65536)

        threading.Thread(target=hold).start()
        bound.wait()
        say("READY", os.getpid())
        _libc.syscall(SYS_EXIT, 0)
    elif role == "udp-each":
        name("udp-each")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        say("READY", os.getpid())
        for dst in many(args):
            s.sendto(b"x", dst)
        say("DONE")
    elif role == "churn":
        name("churn")
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.bind(("127.0.0.1", 0))
        ls.listen(64)
        say("READY", os.getpid())
        for _ in range(int(args[0])):
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("127.0.0.1", 0))
            u.close()
            c = socket.create_connection(ls.getsockname())
            a, _ = ls.accept()
            c.close()
            a.close()
        ls.close()
        say("DONE")
    elif role == "icmp-ids":
        name("icmp-ids")
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                          socket.IPPROTO_ICMP)
        say("READY", os.getpid())
        first, n = int(args[1]), int(args[2])
        kind = int(args[3]) if len(args) > 3 else 8
        for ident in range(first, first + n):
            s.sendto(echo(kind, ident), (args[0], 0))
        say("DONE")
    else:
        sys.exit("unknown role " + role)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
