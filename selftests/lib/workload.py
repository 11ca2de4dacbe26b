#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""workload.py ROLE ARGS...: one known process of the attribution tests.

Each role names itself (prctl PR_SET_NAME: the process's comm), prints
"READY <pid>" once its sockets exist, does its traffic and prints
"DONE".  Roles:
  udp-server PORT FAMILY SECONDS   receive only, never send
  udp-client HOST PORT FAMILY N    send N datagrams
  tcp-server PORT FAMILY           accept one connection, read to EOF,
                                   answer "bye"
  tcp-client HOST PORT FAMILY BYTES  connect, send BYTES, read the answer
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
"""

import ctypes
import os
import socket
import subprocess
import sys
import time

PR_SET_NAME = 15
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
    elif role == "tcp-server":
        name("tcp-server")
        ls = socket.socket(fam(args[1]), socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("", int(args[0])))
        ls.listen(4)
        say("READY", os.getpid())
        c, _ = ls.accept()
        while c.recv(1 << 16):
            pass
        c.sendall(b"bye")
        c.close()
        ls.close()
    elif role == "tcp-client":
        name("tcp-client")
        s = socket.create_connection((args[0], int(args[1])), timeout=30)
        say("READY", os.getpid())
        s.sendall(b"x" * int(args[3]))
        s.shutdown(socket.SHUT_WR)
        while s.recv(1 << 16):
            pass
        s.close()
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
    else:
        sys.exit("unknown role " + role)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
