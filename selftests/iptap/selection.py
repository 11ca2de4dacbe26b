#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (the oldest and newest kernels: a device's selectors are read in the
# record path that attribution.py takes on every kernel, and their
# cgroup and credential lookups are the same on 6.12.)
"""Selectors: devices that record only some processes' packets.

Namespace a runs four UDP clients against an echo server in b, each from
a port of its own: "web" in the cgroup /system.slice/web.service, its
"worker" in a child cgroup of it as uid 4242, "other" in /other.slice as
uid 4242, and "plain" in the root cgroup as root.  Devices created with
a cgroup, a uid, a pid or several of them must record exactly the
matching clients' packets, both directions, and nothing that belongs
to no process's socket (b's pings, answered by a's kernel, IPv6's own).
Debian's tcpdump and tshark capture a raw device with a cgroup selector;
iptapdump and the patched tcpdump (-k, -Q) show and filter the owner and
cgroup each record carries.  Then every refusal: a bad path, a file, an
unmapped uid, a thread's ID, a change after creation, and a few hundred
random attribute sets, each answered with an error and no change (the
harness fails the test on any kernel warning).  Last, a removed cgroup
that a ping used is let go once the ping's record expires.
"""

import collections
import errno
import os
import random
import re
import shlex
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (PACKET_HOST, PACKET_OUTGOING, ROOT, Capture, Tap,
                      ToolRun, bg, inet_csum, load_module, sh, stop,
                      veth_pair)
import rtnl

LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib")
CG = "/sys/fs/cgroup"
STOCK = next((p for p in ("/usr/bin/tcpdump", "/usr/sbin/tcpdump")
              if os.access(p, os.X_OK)), None)
OUT = "/tmp/selectors-test"
IP = "IP_LIB_DIR=%s ip" % os.path.join(ROOT, "build", "ip")
RAW = rtnl.u32(rtnl.IFLA_IPTAP_MODE, rtnl.MODE_RAW)

t = Tap()
load_module()
veth_pair("a", "b")
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)
os.chmod(OUT, 0o777)    # tcpdump drops privileges to user tcpdump

if not os.path.exists(os.path.join(CG, "cgroup.procs")):
    sh("mount -t cgroup2 cgroup2 %s" % CG, check=False)
try:
    rtnl.newlink("probe0", rtnl.string(rtnl.IFLA_IPTAP_CGROUP, "/"), ns="a")
    sh("ip -n a link del probe0")
    HAVE_CGROUP = True
except rtnl.NetlinkError as e:
    if e.errno != errno.EOPNOTSUPP:
        raise
    t.diag("this kernel keeps no cgroup of sockets: %s" % e.msg)
    HAVE_CGROUP = False

if HAVE_CGROUP:
    for d in ("system.slice/web.service/worker", "other.slice"):
        os.makedirs(os.path.join(CG, d), exist_ok=True)

# (cgroup, uid, port) of each client.
CLIENTS = {
    "web": ("/system.slice/web.service", 0, 5001),
    "worker": ("/system.slice/web.service/worker", 4242, 5002),
    "other": ("/other.slice", 4242, 5003),
    "plain": ("/", 0, 5004),
}

ECHO = ("import socket\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.bind(('0.0.0.0', 7))\n"
        "while True:\n"
        "    d, a = s.recvfrom(100)\n"
        "    s.sendto(d, a)\n")


def client_code(port, wait=False):
    """Two datagrams from port to b's echo server, and their echoes."""
    return ("import socket, sys\n" +
            ("sys.stdin.readline()\n" if wait else "") +
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "s.bind(('10.0.0.1', %d))\n"
            "s.settimeout(3)\n"
            "s.connect(('10.0.0.2', 7))\n"
            "for i in range(2):\n"
            "    s.send(b'x')\n"
            "    s.recv(100)\n" % port)


def in_cgroup(cgroup, uid, argv):
    """A shell command running argv in namespace a, in cgroup, as uid.
    It joins the cgroup first: ip netns exec mounts a sysfs of the
    namespace's, without the cgroup2 mount."""
    q = " ".join("'%s'" % a.replace("'", "'\\''") for a in argv)
    procs = os.path.join(CG, cgroup.lstrip("/"), "cgroup.procs")
    join = "echo $$ > %s && " % procs if HAVE_CGROUP else ""
    drop = ("setpriv --reuid %d --regid %d --clear-groups " % (uid, uid)
            if uid else "")
    return "%sexec ip netns exec a %s%s" % (join, drop, q)


def cgroup_id(cgroup):
    """The ID the kernel gives a cgroup: its directory's inode number."""
    return os.stat(os.path.join(CG, cgroup.lstrip("/"))).st_ino


def run_clients(names):
    for name in names:
        cgroup, uid, port = CLIENTS[name]
        sh(in_cgroup(cgroup, uid, ["python3", "-c", client_code(port)]))


def a_ports(frames):
    """Counter of (direction, port of a's side) of IPv4 UDP frames; any
    other frame counts as ("other", its first bytes)."""
    out = collections.Counter()
    for pkttype, p in frames:
        if p[0] >> 4 == 4 and p[9] == 17:
            hl = (p[0] & 15) * 4
            sport, dport = struct.unpack_from(">HH", p, hl)
            if pkttype == PACKET_OUTGOING:
                out[("out", sport)] += 1
            elif pkttype == PACKET_HOST:
                out[("in", dport)] += 1
            else:
                out[("other", pkttype)] += 1
        else:
            out[("other", p[:24].hex())] += 1
    return out


def expect(names):
    """What a device selecting exactly those clients records."""
    c = collections.Counter()
    for name in names:
        port = CLIENTS[name][2]
        c[("out", port)] = 2
        c[("in", port)] = 2
    return c


def refused(fn, *args, **kw):
    """The NetlinkError a request gets, or None if it succeeded."""
    try:
        fn(*args, **kw)
    except rtnl.NetlinkError as e:
        return e
    return None


def exists(dev, ns="a"):
    return sh("ip -n %s link show %s" % (ns, dev), check=False).returncode == 0


def info(dev):
    return rtnl.info_data(dev, ns="a")


echo = subprocess.Popen(["ip", "netns", "exec", "b", "python3", "-c", ECHO],
                        start_new_session=True)
time.sleep(0.5)

# --- Selection by uid, by cgroup, by both ---------------------------------
devices = {"uid0": (rtnl.u32(rtnl.IFLA_IPTAP_UID, 4242),
                    ["worker", "other"])}
if HAVE_CGROUP:
    web = rtnl.string(rtnl.IFLA_IPTAP_CGROUP, "/system.slice/web.service")
    devices.update({
        "cg0": (web, ["web", "worker"]),
        "cg1": (rtnl.string(rtnl.IFLA_IPTAP_CGROUP, "/system.slice") +
                rtnl.u32(rtnl.IFLA_IPTAP_UID, 4242), ["worker"]),
        "cg2": (rtnl.string(rtnl.IFLA_IPTAP_CGROUP, "/other.slice"),
                ["other"]),
        "every": (rtnl.string(rtnl.IFLA_IPTAP_CGROUP, "/"),
                ["web", "worker", "other", "plain"]),
    })
for dev, (data, _) in devices.items():
    rtnl.newlink(dev, RAW + data, ns="a")
if HAVE_CGROUP:
    # The patched tools read a PKTAP device with a selector.
    rtnl.newlink("pk0", rtnl.string(rtnl.IFLA_IPTAP_CGROUP,
                                    "/system.slice/web.service/worker"),
                 ns="a")

# Devices made in a cgroup namespace rooted at web.service: its "/" is
# web.service, and cgroups outside it have no ID there.
NSDEV = ("import sys; sys.path.insert(0, %r); import rtnl\n"
         "for name, path in (('ns0', '/worker'), ('ns1', '/system.slice'),"
         " ('cns', None)):\n"
         "    try:\n"
         "        rtnl.newlink(name, rtnl.string(rtnl.IFLA_IPTAP_CGROUP,"
         " path) if path else b'')\n"
         "        print(name, 'ok')\n"
         "    except rtnl.NetlinkError as e:\n"
         "        print(name, e.errno)\n" % LIB)
if HAVE_CGROUP:
    nsdev = sh(in_cgroup("/system.slice/web.service", 0,
                         ["unshare", "-C", "python3", "-c", NSDEV]),
               check=False)

class TsharkRun(ToolRun):
    LISTENING = re.compile(rb"Capturing on [^\n]*\n")


stock = wireshark = None
if STOCK and HAVE_CGROUP:
    stock = ToolRun("stock", ["ip", "netns", "exec", "a", STOCK, "-i", "cg0",
                              "-nn", "-l", "--immediate-mode"], OUT)
if shutil.which("tshark") and HAVE_CGROUP:
    wireshark = TsharkRun("tshark", ["ip", "netns", "exec", "a", "tshark",
                                     "-i", "cg0", "-w", OUT + "/cg0.pcapng"],
                          OUT)

caps = {dev: Capture(dev, ns="a", iptap=False) for dev in devices}
pk = Capture("pk0", ns="a") if HAVE_CGROUP else None
cns = Capture("cns", ns="a") if HAVE_CGROUP else None
run_clients(CLIENTS)
# Packets of no process's socket: echo requests a's kernel answers.
sh("ping -c2 -i0.2 -W2 10.0.0.1", ns="b")
sh("ping -6 -c2 -i0.2 -W2 fd00::1", ns="b")
time.sleep(0.5)
got = {dev: a_ports(c.read()) for dev, c in caps.items()}
records = pk.read() if pk else []
nsrecords = cns.read() if cns else []
for c in list(caps.values()) + ([pk, cns] if pk else []):
    c.close()

t.eq(got["uid0"], expect(["worker", "other"]),
     "uid 4242: both of that user's clients, both directions, no more")
if HAVE_CGROUP:
    t.eq(got["cg0"], expect(["web", "worker"]),
         "cgroup /system.slice/web.service: it and its child cgroup's "
         "client, both directions, no more")
    t.eq(got["cg2"], expect(["other"]),
         "cgroup /other.slice: only the client in it")
    t.eq(got["cg1"], expect(["worker"]),
         "cgroup /system.slice and uid 4242: only the client matching both")
    t.eq(got["every"], expect(CLIENTS),
         "cgroup /: every process's packets, none of the kernel's pings "
         "or of IPv6's own")
    pids = collections.Counter((r["comm"], r["pid"] > 0)
                               for _, r in records)
    ports = a_ports([(p, r["packet"]) for p, r in records])
    t.ok(ports == expect(["worker"]) and pids == {("python3", True): 4},
         "a PKTAP device with a cgroup: the worker's 4 records, each "
         "naming its process", (ports, pids))
    ids = collections.Counter((r["uid"], r["cgroup_id"]) for _, r in records)
    worker = cgroup_id(CLIENTS["worker"][0])
    t.eq(ids, {(4242, worker): 4},
         "their extension: the socket's owner 4242 and the worker's "
         "cgroup ID")
    t.ok(nsdev.stdout.split() == ["ns0", "ok", "ns1", str(errno.ENOENT),
                                  "cns", "ok"],
         "a cgroup path is resolved in the creator's cgroup namespace",
         nsdev.stdout + nsdev.stderr)
    seen = collections.defaultdict(set)
    for _, r in nsrecords:
        if r["packet"][0] >> 4 == 4 and r["packet"][9] == 17:
            port = struct.unpack_from(">HH", r["packet"], 20)
            seen[port[0] if r["flags"] == 2 else port[1]].add(
                (r["uid"], r["cgroup_id"]))
    want = {5001: {(0, cgroup_id(CLIENTS["web"][0]))},
            5002: {(4242, worker)}, 5003: {(4242, 0)}, 5004: {(0, 0)}}
    t.eq(dict(seen), want, "a device made in that namespace: the IDs of "
         "web.service and its worker, 0 for cgroups outside it")
else:
    t.ok(True, "# SKIP cgroup selectors: this kernel keeps no cgroup of "
         "sockets")

if stock:
    stock.interrupt()
    lines = [line for line in stock.data.decode(errors="replace").splitlines()
             if line]
    t.ok(len(lines) == 8 and
         all(re.search(r"10\.0\.0\.1\.500[12]\b", line) for line in lines),
         "Debian's tcpdump -i cg0: the 8 packets of web and its worker, "
         "nothing else", lines)
elif HAVE_CGROUP:
    t.ok(True, "# SKIP no Debian tcpdump in the guest")
if wireshark:
    wireshark.interrupt()
    r = sh("tshark -r %s/cg0.pcapng -T fields -e frame.protocols "
           "-e udp.srcport -e udp.dstport" % OUT, check=False)
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    t.ok(len(rows) == 8 and
         all(row[0].startswith("raw:ip:udp:") and
             {row[1], row[2]} & {"5001", "5002"} for row in rows),
         "Debian's tshark -i cg0: the same 8 packets, each decoded as raw IP",
         (rows, wireshark.stderr[-300:], r.stderr))
elif HAVE_CGROUP:
    t.ok(True, "# SKIP no tshark in the guest")

# --- Echoes and TCP over IPv6 of a selected process ------------------------
# worker (uid 4242, web.service/worker) and plain (root, /) each ping b
# over IPv4 and IPv6, with a payload pattern of their own, and open a TCP
# connection over IPv6 from a port of their own: uid0 and cg0 must record
# the worker's, replies included, and none of plain's.
TCP_ECHO = ("import socket, threading\n"
            "s = socket.socket(socket.AF_INET6)\n"
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "s.bind(('fd00::2', 8000))\n"
            "s.listen()\n"
            "def serve(c):\n"
            "    c.sendall(c.recv(100))\n"
            "    c.close()\n"
            "while True:\n"
            "    threading.Thread(target=serve, args=(s.accept()[0],)).start()\n")
tcp_echo = subprocess.Popen(["ip", "netns", "exec", "b", "python3", "-c",
                             TCP_ECHO], start_new_session=True)


def tcp_client(port):
    return ("import socket\n"
            "s = socket.socket(socket.AF_INET6)\n"
            "s.bind(('fd00::1', %d))\n"
            "s.settimeout(5)\n"
            "s.connect(('fd00::2', 8000))\n"
            "s.sendall(b'hi')\n"
            "s.recv(100)\n"
            "s.close()\n" % port)


def classify(frames):
    """Counter of (whose, what) of echoes and TCP over IPv6."""
    out = collections.Counter()
    for _, p in frames:
        if p[0] >> 4 == 4 and p[9] == 1 and p[20] in (0, 8):
            out[({b"\x77": "worker", b"\x55": "plain"}.get(
                p[-1:], "?"), "echo4")] += 1
        elif p[0] >> 4 == 6 and p[6] == 58 and p[40] in (128, 129):
            out[({b"\x77": "worker", b"\x55": "plain"}.get(
                p[-1:], "?"), "echo6")] += 1
        elif p[0] >> 4 == 6 and p[6] == 6:
            ports = struct.unpack_from(">HH", p, 40)
            who = {6002: "worker", 6004: "plain"}.get(
                ports[0] if ports[0] != 8000 else ports[1], "?")
            out[(who, "tcp6")] += 1
        else:
            out[("?", p[:8].hex())] += 1
    return out


# Unprivileged ping, with the ICMP sockets it uses then.
sh("sysctl -qw net.ipv4.ping_group_range='0 2147483647'", ns="a")
time.sleep(0.5)
phase2 = {dev: Capture(dev, ns="a", iptap=False)
          for dev in (["uid0", "cg0"] if HAVE_CGROUP else ["uid0"])}
for name, pattern, port in (("worker", "77", 6002), ("plain", "55", 6004)):
    cgroup, uid, _ = CLIENTS[name]
    for six in ("", "-6 "):
        sh(in_cgroup(cgroup, uid, ["sh", "-c", "ping %s-c2 -i0.2 -W2 -p %s "
                                   "%s" % (six, pattern,
                                           "fd00::2" if six else
                                           "10.0.0.2")]))
    sh(in_cgroup(cgroup, uid, ["python3", "-c", tcp_client(port)]))
time.sleep(0.5)
for dev, cap in phase2.items():
    got = classify(cap.read())
    cap.close()
    t.ok(got[("worker", "echo4")] == 4 and got[("worker", "echo6")] == 4 and
         got[("worker", "tcp6")] >= 6 and
         set(got) == {("worker", "echo4"), ("worker", "echo6"),
                      ("worker", "tcp6")},
         "%s: the worker's pings over IPv4 and IPv6 with their replies, and "
         "its TCP connection over IPv6 both ways; nothing of plain's" % dev,
         got)
stop(tcp_echo)

# --- iptapdump: the owner and cgroup of each packet, and filters on them ---
IPTAPDUMP = os.path.join(ROOT, "tools", "iptapdump", "iptapdump")


def iptapdump(name, *args):
    """iptapdump on pk1 in namespace a, entered with nsenter: ip netns
    exec would hide the cgroup2 mount that names the cgroups."""
    return ToolRun(name, ["nsenter", "--net=/run/netns/a", IPTAPDUMP,
                          "-i", "pk1", "-e", "-c", "8"] + list(args), OUT)


# The patched tcpdump (tools/pcap-patches), entered the same way.
TCPDUMP = os.path.join(ROOT, "build", "pcap", "root", "bin", "tcpdump")
HAVE_TCPDUMP = os.access(TCPDUMP, os.X_OK)


def tcpdump(name, *args):
    return ToolRun(name, ["nsenter", "--net=/run/netns/a", TCPDUMP,
                          "-i", "pk1", "-nn", "-l", "-c", "8"] + list(args),
                   OUT)


def lines_of(run):
    run.finish()
    return [line for line in run.data.decode(errors="replace").splitlines()
            if line]


if HAVE_CGROUP:
    rtnl.newlink("pk1", b"", ns="a")
    runs = [iptapdump("web", "--cgroup", "/system.slice/web.service"),
            iptapdump("uid", "--uid", "4242")]
    if HAVE_TCPDUMP:
        runs += [tcpdump("tdweb", "-w", OUT + "/web.pcap", "-Q",
                         "cgroup=/system.slice/web.service"),
                 tcpdump("tduid", "-kAuc", "-Q", "uid=4242"),
                 # ip netns exec mounts a sysfs without the cgroup2 mount.
                 ToolRun("tdnocg", ["ip", "netns", "exec", "a", TCPDUMP,
                                    "-i", "pk1", "-nn", "-l", "-c", "8",
                                    "-kc", "-Q", "uid=4242"], OUT)]
    run_clients(CLIENTS)
    web, uid = [lines_of(r) for r in runs[:2]]
    t.ok(len(web) == 8 and
         all(re.search(r" python3:\d+ user 0 cgroup /system.slice/"
                       r"web.service IP 10.0.0.[12].(5001|7) > ", line) or
             re.search(r" python3:\d+ user 4242 cgroup /system.slice/"
                       r"web.service/worker IP 10.0.0.[12].(5002|7) > ",
                       line) for line in web),
         "iptapdump -e --cgroup /system.slice/web.service: the packets of "
         "web and its worker, each with its owner and cgroup path",
         web + [runs[0].stderr])
    t.ok(len(uid) == 8 and
         all(re.search(r" user 4242 cgroup /(system.slice/web.service/"
                       r"worker|other.slice) IP 10.0.0.[12].(500[23]|7) > ",
                       line) for line in uid),
         "iptapdump --uid 4242: the worker's and the other client's",
         uid + [runs[1].stderr])
    r = sh("%s -i pk1 --cgroup /no/such -c 1" % IPTAPDUMP, check=False)
    t.ok(r.returncode == 2 and "cgroup /no/such" in r.stderr,
         "iptapdump --cgroup names a missing cgroup", r.stderr)

if HAVE_CGROUP and HAVE_TCPDUMP:
    runs[2].finish()
    web_rd = sh("%s -nn -kNuc -r %s/web.pcap" % (TCPDUMP, OUT), check=False)
    web_path = sh("%s -nn -r %s/web.pcap -Q cgroup=/" % (TCPDUMP, OUT),
                  check=False)
    uid = lines_of(runs[3])
    web = web_rd.stdout.splitlines()
    web_id = cgroup_id(CLIENTS["web"][0])
    worker_id = cgroup_id(CLIENTS["worker"][0])
    t.ok(runs[2].rc == 0 and len(web) == 8 and
         all(re.search(r"^\S+ \(proc python3, user 0, cgroup #%d\) IP "
                       r"10.0.0.[12].(5001|7) > " % web_id, line) or
             re.search(r"^\S+ \(proc python3, user 4242, cgroup #%d\) IP "
                       r"10.0.0.[12].(5002|7) > " % worker_id, line)
             for line in web),
         "patched tcpdump -Q cgroup=/system.slice/web.service -w: web's and "
         "its worker's 8 packets; -kNuc -r: their owners, cgroups by ID",
         web + [runs[2].stderr, web_rd.stderr])
    t.ok(len(uid) == 8 and
         all(re.search(r"^\S+ \(\S+, proc python3:\d+, svc BE, (in|out), "
                       r"flowid 0x[0-9a-f]+, user 4242, cgroup /(system.slice/"
                       r"web.service/worker|other.slice)\) IP 10.0.0.[12]."
                       r"(500[23]|7) > ", line) for line in uid),
         "patched tcpdump -kA -Q uid=4242, live: the worker's and the other "
         "client's, each with its owner and cgroup path", uid +
         [runs[3].stderr])
    nocg = lines_of(runs[4])
    t.ok(len(nocg) == 8 and
         all(re.search(r"^\S+ \(cgroup #\d+\) IP ", line) for line in nocg)
         and "tcpdump: warning: no cgroup2 mount in /proc/self/mounts: "
         "cgroups are shown by ID and -Q cgroup=PATH matches none" in
         runs[4].stderr,
         "patched tcpdump -kc under ip netns exec (no cgroup2 mount): "
         "cgroups by ID, and a warning that says why", nocg +
         [runs[4].stderr])
    t.ok(web_path.returncode == 1 and
         "needs a live capture" in web_path.stderr,
         "tcpdump -r FILE -Q cgroup=PATH: refused, the IDs are another "
         "host's", web_path.stderr)
elif HAVE_CGROUP:
    t.ok(True, "# SKIP %s is not built (make pcap-tools)" % TCPDUMP)

# --- Selection by process -------------------------------------------------
# A client that waits for a line before it sends; a thread of it too.
code = ("import threading, sys\n"
        "ready = threading.Event()\n"
        "th = threading.Thread(target=lambda: (print(threading.get_native_id(),"
        " flush=True), ready.wait()))\n"
        "th.start()\n" + client_code(5005, wait=True) + "ready.set()\n")
waiter = subprocess.Popen(["ip", "netns", "exec", "a", "python3", "-c", code],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True)
thread = int(waiter.stdout.readline())
rtnl.newlink("pid0", RAW + rtnl.u32(rtnl.IFLA_IPTAP_PID, waiter.pid),
             ns="a")
with Capture("pid0", ns="a", iptap=False) as cap:
    subprocess.run(["ip", "netns", "exec", "a", "python3", "-c",
                    client_code(5006)], check=True)
    waiter.stdin.write("go\n")
    waiter.stdin.flush()
    waiter.wait(timeout=20)
    time.sleep(0.5)
    got = a_ports(cap.read())
t.eq(got, {("out", 5005): 2, ("in", 5005): 2},
     "pid: that process's packets, not another client's sent meanwhile")
e = refused(rtnl.newlink, "pid1",
            RAW + rtnl.u32(rtnl.IFLA_IPTAP_PID, thread), ns="a")
t.ok(waiter.returncode == 0 and e is not None and e.errno == errno.ESRCH and
     "no such process" in e.msg and not exists("pid1"),
     "a thread's ID is no process's: refused, with a message", e)

# --- What the kernel reports, and ip ---------------------------------------
d = info("uid0")
t.ok(d.get(rtnl.IFLA_IPTAP_UID) == struct.pack("=I", 4242) and
     rtnl.IFLA_IPTAP_CGROUP not in d and rtnl.IFLA_IPTAP_PID not in d,
     "IFLA_INFO_DATA reports the uid as given, and no other selector", d)
d = info("pid0")
t.ok(d.get(rtnl.IFLA_IPTAP_PID) == struct.pack("=I", waiter.pid),
     "and the pid as given, after the process has gone", d)
if HAVE_CGROUP:
    t.eq(info("cg1").get(rtnl.IFLA_IPTAP_CGROUP), b"/system.slice\0",
         "and the cgroup as given")

if os.path.isfile(os.path.join(ROOT, "build", "ip", "link_iptap.so")) \
        and HAVE_CGROUP:
    r = sh("%s -n a link add web0 type iptap mode raw cgroup "
           "/system.slice/web.service uid nobody pid 1" % IP, check=False)
    show = sh("%s -n a -d link show web0" % IP, check=False).stdout
    t.ok(r.returncode == 0 and re.search(
        r"iptap mode raw cgroup /system.slice/web.service uid 65534 pid 1 ",
        show), "ip link add ... cgroup PATH uid nobody pid 1, shown by "
        "ip -d link show", r.stderr + show)
    js = sh("%s -n a -d -j link show web0" % IP, check=False).stdout
    t.ok('"info_data":{"mode":"raw","cgroup":"/system.slice/web.service",'
         '"uid":65534,"pid":1}' in js, "and in its JSON", js)
    show = sh("%s -n a -s -d link show pk0" % IP, check=False).stdout
    t.ok(re.search(r"iptap mode pktap cgroup /system.slice/web.service/"
                   r"worker \n\s+records 4 lost 0 unattributed 0 ", show),
         "ip -s -d link show: the device's counters, 4 records", show)
    r = sh("%s -n a link set web0 type iptap uid 0" % IP, check=False)
    t.ok(r.returncode != 0 and "selectors" in r.stderr,
         "ip link set ... uid 0: the kernel's refusal is shown", r.stderr)
    r = sh("%s -n a link add web1 type iptap cgroup system.slice" % IP,
           check=False)
    t.ok(r.returncode != 0 and "starts with /" in r.stderr and
         not exists("web1"), "ip refuses a relative cgroup path", r.stderr)
    r = sh("%s link help iptap" % IP, check=False)
    t.ok("[ cgroup PATH ]" in r.stdout + r.stderr and
         "[ uid USER ] [ pid PID ]" in r.stdout + r.stderr,
         "ip link help iptap names the selectors", r.stdout + r.stderr)
else:
    t.ok(True, "# SKIP build/ip/link_iptap.so is not built (make ip-plugin),"
         " or no cgroup selectors here")

# --- Refusals ---------------------------------------------------------------
U32, STR = rtnl.u32, rtnl.string
bad = [
    ("a uid with no mapping", U32(rtnl.IFLA_IPTAP_UID, 0xffffffff),
     (errno.EINVAL,), "no mapping"),
    ("a uid of 2 bytes", rtnl.attr(rtnl.IFLA_IPTAP_UID, b"\1\0"),
     (errno.EINVAL, errno.ERANGE), ""),
    ("pid 0", U32(rtnl.IFLA_IPTAP_PID, 0), (errno.EINVAL, errno.ERANGE), ""),
    ("a pid no process has", U32(rtnl.IFLA_IPTAP_PID, 4000000),
     (errno.ESRCH,), "no such process"),
    ("pid 2^31", U32(rtnl.IFLA_IPTAP_PID, 1 << 31), (errno.ESRCH,),
     "no such process"),
    ("an attribute iptap does not know", U32(9, 1), (errno.EINVAL,),
     "Unknown attribute type"),
    ("a mode flagged as nested", rtnl.attr(rtnl.IFLA_IPTAP_MODE |
                                           rtnl.NLA_F_NESTED, b"\1\0\0\0"),
     (errno.EINVAL,), ""),
]
if HAVE_CGROUP:
    bad += [
        ("a relative cgroup path", STR(rtnl.IFLA_IPTAP_CGROUP,
                                       "system.slice"),
         (errno.EINVAL,), "starts with /"),
        ("a cgroup that does not exist", STR(rtnl.IFLA_IPTAP_CGROUP,
                                             "/system.slice/nope"),
         (errno.ENOENT,), "no such cgroup"),
        ("a cgroup's file", STR(rtnl.IFLA_IPTAP_CGROUP,
                                "/system.slice/cgroup.procs"),
         (errno.ENOTDIR,), "not a cgroup directory"),
        ("a cgroup path without its NUL",
         rtnl.attr(rtnl.IFLA_IPTAP_CGROUP, b"/system.slice"),
         (errno.EINVAL,), ""),
        ("a cgroup path of 5000 bytes",
         STR(rtnl.IFLA_IPTAP_CGROUP, "/" + "a" * 4999),
         (errno.EINVAL, errno.ERANGE), ""),
        ("a good cgroup with a bad pid",
         STR(rtnl.IFLA_IPTAP_CGROUP, "/system.slice") +
         U32(rtnl.IFLA_IPTAP_PID, 4000000), (errno.ESRCH,),
         "no such process"),
    ]
for i, (what, data, errnos, msg) in enumerate(bad):
    e = refused(rtnl.newlink, "bad%d" % i, RAW + data, ns="a")
    t.ok(e is not None and e.errno in errnos and e.msg and msg in e.msg and
         not exists("bad%d" % i), "refused: %s, with a message" % what, e)

e = refused(rtnl.changelink, "uid0", U32(rtnl.IFLA_IPTAP_UID, 0), ns="a")
t.ok(e is not None and e.errno == errno.EOPNOTSUPP and
     "set when it is created" in e.msg and
     info("uid0").get(rtnl.IFLA_IPTAP_UID) == struct.pack("=I", 4242),
     "changing a selector is refused, with a message, and changes nothing",
     e)
e = refused(rtnl.changelink, "pid0", U32(rtnl.IFLA_IPTAP_UID, 0), ns="a")
t.ok(e is not None and e.errno == errno.EOPNOTSUPP and
     rtnl.IFLA_IPTAP_UID not in info("pid0"),
     "so is adding one to a device created without", e)
e = refused(rtnl.changelink, "uid0", RAW + U32(rtnl.IFLA_IPTAP_UID, 4242),
            ns="a")
t.ok(e is None, "restating the selectors a device has is accepted", e)

# --- An unprivileged user, in namespaces of its own.
code = ("import sys; sys.path.insert(0, %r); import rtnl\n"
        "rtnl.newlink('u0', rtnl.u32(rtnl.IFLA_IPTAP_UID, 0))\n"
        "print(rtnl.info_data('u0').get(rtnl.IFLA_IPTAP_UID).hex())\n"
        "try:\n"
        "    rtnl.newlink('u1', rtnl.u32(rtnl.IFLA_IPTAP_UID, 4242))\n"
        "    print('created')\n"
        "except rtnl.NetlinkError as e:\n"
        "    print(e.errno)\n" % LIB)
r = sh("setpriv --reuid 65534 --regid 65534 --clear-groups unshare -Urn "
       "python3 -c '%s'" % code.replace("'", "'\\''"), check=False)
t.ok(r.stdout.split() == ["00000000", str(errno.EINVAL)],
     "an unprivileged user in its own namespaces selects its uid 0, and "
     "cannot name a uid its namespace does not map", r.stdout + r.stderr)

# --- Random and boundary attribute sets -----------------------------------
rng = random.Random(14)
answered = 0
for i in range(400):
    data = b""
    for _ in range(rng.randrange(0, 5)):
        kind = rng.randrange(0, 7) | (rtnl.NLA_F_NESTED
                                      if rng.random() < 0.05 else 0)
        choice = rng.random()
        if choice < 0.3:
            payload = struct.pack("=I", rng.choice(
                [0, 1, 2, 4242, 0xffffffff, 1 << 31, os.getpid()]))
        elif choice < 0.6:
            payload = rng.choice(["/", "/system.slice", "", "//",
                                  "/../..", "/system.slice/web.service/",
                                  "/a" * 300]).encode() + \
                rng.choice([b"\0", b"", b"\0\0x"])
        else:
            payload = bytes(rng.randrange(256)
                            for _ in range(rng.randrange(0, 12)))
        data += rtnl.attr(kind, payload)
    try:
        if rng.random() < 0.5:
            rtnl.newlink("fz%d" % i, data, ns="a")
        else:
            rtnl.changelink("uid0", data, ns="a")
        answered += 1
    except rtnl.NetlinkError:
        answered += 1
left = [line.split(":")[1].strip().split("@")[0] for line in
        sh("ip -n a -o link show").stdout.splitlines() if ": fz" in line]
for dev in left:
    sh("ip -n a link del %s" % dev)
t.ok(answered == 400 and
     info("uid0").get(rtnl.IFLA_IPTAP_UID) == struct.pack("=I", 4242),
     "400 random attribute sets: each answered, uid0's selector unchanged "
     "(%d devices created and deleted)" % len(left))

# --- A removed cgroup is not kept by its pings' record ------------------------
# The record of a ping holds its socket's cgroup; the table's expiry work
# frees it IPTAP_PING_TTL (60 s) after the ping's last request, at most
# 60 s late, with no other ping and with the namespace's devices still
# there.  b keeps sending replies with the ping's identifier meanwhile,
# each attributed to the ping (a capture runs): anyone can send them, and
# they do not keep the record.

# Sends the ICMP message given in hex to 10.0.0.1, every second.
REPLIER = ("import socket, sys, time\n"
           "s = socket.socket(socket.AF_INET, socket.SOCK_RAW, "
           "socket.IPPROTO_ICMP)\n"
           "while True:\n"
           "    s.sendto(bytes.fromhex(sys.argv[1]), ('10.0.0.1', 0))\n"
           "    time.sleep(1)\n")


def echo_reply(ident):
    """An ICMP echo reply with identifier ident, sequence 1."""
    msg = struct.pack("!BBHHH", 0, 0, 0, ident, 1)
    return msg[:2] + struct.pack("!H", inet_csum(msg)) + msg[4:]


def dying(cgroup):
    with open(os.path.join(CG, cgroup, "cgroup.stat")) as f:
        return int(re.search(r"nr_dying_descendants (\d+)", f.read())[1])


if HAVE_CGROUP:
    leaf = "pingt.slice/leaf"
    os.makedirs(os.path.join(CG, leaf), exist_ok=True)
    rtnl.newlink("pt0", b"", ns="a")
    cap = Capture("pt0", ns="a")
    replier = None
    try:
        sh(in_cgroup("/" + leaf, 0, ["ping", "-c1", "-W2", "10.0.0.2"]))
        time.sleep(0.5)
        pings = [r for _, r in cap.read() if r["cgroup_id"] ==
                 cgroup_id("/" + leaf)]
        os.rmdir(os.path.join(CG, leaf))
        ident = (struct.unpack("!H", pings[0]["packet"][24:26])[0]
                 if pings else 0)
        replier = bg("exec python3 -c %s %s" % (shlex.quote(REPLIER),
                                                 echo_reply(ident).hex()),
                     ns="b")
        start = time.time()
        time.sleep(5)
        held = dying("pingt.slice")
        while dying("pingt.slice") and time.time() - start < 180:
            time.sleep(2)
        took = time.time() - start
        stop(replier)
        replier = None
        ping_pid = pings[0]["pid"] if pings else None
        replies = [r["pid"] for _, r in cap.read() if r["af"] == 2 and
                   r["packet"][9] == 1 and r["packet"][20] == 0]
        t.ok(len(pings) == 2 and held == 1 and dying("pingt.slice") == 0 and
             replies.count(ping_pid) > 0,
             "a ping's record keeps its removed cgroup (dying 5 s after "
             "rmdir), then lets it go with no other ping, though replies to "
             "it keep coming: after %.0f s, %d of %d replies attributed to "
             "the ping"
             % (took, replies.count(ping_pid), len(replies)),
             (len(pings), held, took))
    finally:
        if replier:
            stop(replier)
        cap.close()
    sh("ip -n a link del pt0")
    os.rmdir(os.path.join(CG, "pingt.slice"))

stop(echo)
for d in ("system.slice/web.service/worker", "system.slice/web.service",
          "system.slice", "other.slice"):
    try:
        os.rmdir(os.path.join(CG, d))
    except OSError:
        pass
t.done()
