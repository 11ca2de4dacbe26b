#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.12.*+deb12-amd64
# (the patched tcpdump's output: the records it reads are the same on
# every kernel (capture.py checks them on each), so one kernel is enough.)
"""The patched tcpdump and libpcap (tools/pcap-patches) on a live iptap device.

Topology: namespaces a and b joined by a veth (va1 10.0.0.1, fd00::1 in
a; vb1 10.0.0.2, fd00::2 in b); iptap0 lives in a.  Many tcpdump
processes capture iptap0 at once, each in another mode: "-y PKTAP" and
no -y (both must open the device as LINKTYPE_PKTAP), -k (the process of
every packet), filter expressions compiled for DLT_PKTAP ("udp port
7000", "icmp", "ip6", "host 10.0.0.2"), macOS-style -Q metadata filters
(pid=, proc=, dir=, if=, combined; on the file: quotes, interface
prefixes, dlt=, flowid=), Linux's -Q in/out, -c with -Q, and -w files; known processes of a (selftests/lib/workload.py) talk to b;
then Ctrl-C ends the captures and each output is checked.  The filters
must run in the kernel: the packets they reject are not even counted as
"received by filter", and the socket has the program tcpdump -d shows
attached (ss -0 -b).  The -w files are read by the stock tcpdump and
tshark.

The binaries must have been built on the host (make pcap-tools): the VM
sees the host's files.
"""

import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (ROOT, Tap, ToolRun, iptap_add, load_module, sh, stop,
                      veth_pair, workload)

TCPDUMP = os.path.join(ROOT, "build", "pcap", "root", "bin", "tcpdump")
# The system's own tcpdump, with the system's libpcap (not /usr/local).
STOCK = next((p for p in ("/usr/bin/tcpdump", "/usr/sbin/tcpdump")
              if os.access(p, os.X_OK)), None)
OUT = "/tmp/tcpdump-test"
# "10:02:11.532118 (va1, proc udp-client:42, svc BE, out) IP 10.0.0.1..."
KLINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d{6}) \(([^,()]*)(?:, proc ([^,()]*))?"
                   r"(?:, eproc ([^,()]*))?, svc (\w+), (in|out)\) "
                   r"(IP6?) (.*)$")
PLAIN = re.compile(r"^(\d\d:\d\d:\d\d\.\d{6}) (IP6?) (.*)$")
STATS = re.compile(r"^(\d+) packets? captured\n(\d+) packets? received by "
                   r"filter\n(\d+) packets? dropped by kernel$", re.M)

t = Tap()
if not os.access(TCPDUMP, os.X_OK):
    t.skip_all("%s is not built (make pcap-tools)" % TCPDUMP)
load_module()
veth_pair("a", "b")
iptap_add("iptap0", ns="a")
sh("sysctl -qw net.ipv4.ping_group_range='0 2147483647'", ns="a")
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)
os.chmod(OUT, 0o777)    # tcpdump drops privileges to user tcpdump


class Dump(ToolRun):
    """A tcpdump process on iptap0 in namespace a."""

    STATS = STATS

    def __init__(self, name, args, wait=True):
        self.cmd = [TCPDUMP, "-i", "iptap0", "-nn", "-l"] + args
        super().__init__(name, ["ip", "netns", "exec", "a"] + self.cmd, OUT,
                         wait)

    @property
    def lines(self):
        return [l for l in self.data.decode(errors="replace").splitlines()
                if l.strip()]

    def parsed(self):
        """(ifname, proc, eproc, svc, dir, family, summary) per -k line,
        None for a line that is none."""
        return [m.groups()[1:] if m else None
                for m in map(KLINE.match, self.lines)]


start = workload


# The device's link types, and the program a filter compiles to.
r = sh("%s -L -i iptap0" % TCPDUMP, ns="a", check=False)
t.ok(r.returncode == 0 and
     re.search(r"^\s+PKTAP ", r.stdout + r.stderr, re.M) and
     "cooked" not in r.stderr,
     "tcpdump -L -i iptap0: the device's link types include PKTAP",
     (r.returncode, r.stdout, r.stderr))
r = sh("%s -d -i iptap0 udp port 7000" % TCPDUMP, ns="a", check=False)
prog = [l for l in r.stdout.splitlines() if re.match(r"^\(\d+\) ", l)]
t.ok(r.returncode == 0 and prog and "ldb      [3]" in prog[0] and
     any("ld       [8]" in l for l in prog),
     "tcpdump -d: \"udp port 7000\" compiles for DLT_PKTAP (loads "
     "pth_length first, checks pth_dlt)", r.stdout + r.stderr)

# Without ip netns exec's sysfs (nsenter keeps the initial namespace's),
# libpcap recognises the device by its ethtool driver name.
r = sh("nsenter --net=/run/netns/a %s -d -i iptap0 icmp" % TCPDUMP,
       check=False)
t.ok(r.returncode == 0 and "ld       [8]" in r.stdout and
     not os.path.exists("/sys/class/net/iptap0"),
     "nsenter (sysfs of another namespace): iptap0 still opens as PKTAP",
     (r.returncode, r.stdout[:200], r.stderr))

# Long-lived processes whose pids the captures can name in advance.
sinks = [start("b", "udp-server", port, 4, 120)[0]
         for port in (7001, 7107)]
bsrv = start("b", "tcp-server", 7002, 6)[0]
usrv, (usrv_pid,) = start("a", "udp-server", 7000, 4, 120)

dumps = {
    "ypktap": Dump("ypktap", ["-y", "PKTAP", "-k"]),
    "plain": Dump("plain", []),
    "udp7000": Dump("udp7000", ["-k", "udp", "port", "7000"]),
    "icmp": Dump("icmp", ["-k", "icmp"]),
    "ip6": Dump("ip6", ["-k", "ip6"]),
    "host": Dump("host", ["-k", "host", "10.0.0.2"]),
    "qpid": Dump("qpid", ["-k", "-Q", "pid=%d" % usrv_pid]),
    "qproc": Dump("qproc", ["-k", "-Q", "proc=ping"]),
    "qdirout": Dump("qdirout", ["-k", "-Q", "dir=out"]),
    "qif": Dump("qif", ["-k", "-Q", "if=lo"]),
    "qcomb": Dump("qcomb", ["-k", "-Q", "proc=ping,dir=in", "-Q",
                            "if=va1", "icmp"]),
    "qor": Dump("qor", ["-k", "-Q", "(proc=tcp-client or pid=%d) and "
                        "not dir=out" % usrv_pid]),
    "in": Dump("in", ["-k", "-Q", "in"]),
    "out": Dump("out", ["-k", "-Q", "out"]),
    "count": Dump("count", ["-k", "-c", "2", "-Q", "proc=ping"]),
    "wfile": Dump("wfile", ["-w", OUT + "/cap.pcap"]),
    "wq": Dump("wq", ["-w", OUT + "/q.pcap", "-Q", "proc=udp-server"]),
}
t.ok(all(b"listening on iptap0, link-type PKTAP" in d.err
         for d in dumps.values()),
     "every capture starts: \"listening on iptap0, link-type PKTAP\"",
     {n: d.stderr for n, d in dumps.items()
      if b"link-type PKTAP" not in d.err})
t.ok("data link type PKTAP" in dumps["ypktap"].stderr and
     "cooked" not in dumps["ypktap"].stderr,
     "-y PKTAP is accepted", dumps["ypktap"].stderr)

# The kernel's view of the sockets while they capture: each has a
# classic BPF program attached exactly when tcpdump was given a filter.
sh("modprobe packet_diag", check=False)
ss = sh("ss -0 -b -p -n", ns="a", check=False)
t.diag("ss -0 -b: %d lines" % len(ss.stdout.splitlines()))


def ss_filter(pid):
    """The length of the filter ss shows on the packet socket of pid,
    0 for none, None when ss shows no such socket."""
    lines = ss.stdout.splitlines()
    for i, line in enumerate(lines):
        if "pid=%d," % pid in line:
            for nxt in lines[i + 1:i + 3]:
                m = re.search(r"bpf filter \((\d+)\)", nxt)
                if m:
                    return int(m.group(1))
                if not nxt.startswith((" ", "\t")):
                    break
            return 0
    return None


def tcpdump_pid(d):
    """tcpdump's pid under ip netns exec (which execs it)."""
    return d.proc.pid


if "bpf filter" in ss.stdout:
    got = ss_filter(tcpdump_pid(dumps["udp7000"]))
    t.eq(got, len(prog), "ss -0 -b: the \"udp port 7000\" program (%d "
         "instructions) is attached to the socket in the kernel" % len(prog))
    # Without an expression, libpcap attaches "ret #snaplen".
    t.eq(ss_filter(tcpdump_pid(dumps["plain"])), 1,
         "ss -0 -b: a program of one instruction (accept) on the capture "
         "without a filter")
else:
    t.diag("ss shows no packet socket filters here (no packet_diag): "
           "relying on the counters below")

# The traffic, from known processes of a.
procs = []
p, (ucl,) = start("a", "udp-client", "10.0.0.2", 7001, 4, 3)
procs.append(p)
p, (ping4,) = start("a", "ping", "10.0.0.2", 4, 3)
procs.append(p)
p, (ping6,) = start("a", "ping", "fd00::2", 6, 2)
procs.append(p)
p, (pinglo,) = start("a", "ping", "127.0.0.1", 4, 2)
procs.append(p)
p, (fparent, fchild) = start("a", "fork-udp", "10.0.0.2", 7107)
procs.append(p)
p, (tcl,) = start("a", "tcp-client", "fd00::2", 7002, 6, 20000)
procs.append(p)
for _ in range(3):
    sh("echo to-server | socat -u - UDP4-SENDTO:10.0.0.1:7000", ns="b")
for p in procs:
    p.wait(timeout=60)
bsrv.wait(timeout=60)
time.sleep(1)

count_exited = dumps["count"].proc.poll() is not None
for name, d in dumps.items():
    if name == "count":
        d.finish()
    else:
        d.interrupt()
for p in sinks + [usrv]:
    stop(p)
t.diag("pids: udp-server %d, udp-client %d, ping %d/%d/%d, fork %d/%d, "
       "tcp-client %d" % (usrv_pid, ucl, ping4, ping6, pinglo, fparent,
                          fchild, tcl))

# Ctrl-C: every capture ends with 0 and its statistics; -c by itself.
for name, d in dumps.items():
    st = d.stats()
    t.ok(d.rc == 0 and st is not None and st[2] == 0,
         "%s: exit 0, statistics, 0 dropped by kernel" % name,
         (d.rc, d.stderr[-600:]))
    if st is not None and not name.startswith("w"):
        t.eq(len(d.lines), st[0], "%s: one line per packet captured" % name)

# -k: the process of every packet of a known flow.  The known flows make
# at least 30 packets; IPv6 neighbour and router traffic adds a varying few.
allp = dumps["ypktap"].parsed()
t.ok(len(allp) >= 30 and None not in allp,
     "-y PKTAP -k: %d lines, each \"(ifname, proc name:pid, svc X, in|out)"
     " IP...\"" % len(allp),
     [l for l, p in zip(dumps["ypktap"].lines, allp) if p is None][:5])
allp = [p for p in allp if p]
t.diag("a few lines of tcpdump -k:")
for line in dumps["ypktap"].lines[:3] + [l for l in dumps["ypktap"].lines
                                         if "eproc" in l][:1]:
    t.diag("  " + line)


def check_flow(name, pred, want, need=1):
    got = [p for p in allp if pred(p)]
    bad = [p for p in got if want(p) is not True]
    t.ok(len(got) >= need and not bad,
         "-k: %s: %d lines, the right process on each" % (name, len(got)),
         bad[:5] if bad else "only %d lines" % len(got))


check_flow("udp-client, out",
           lambda p: "> 10.0.0.2.7001:" in p[6],
           lambda p: p[:5] == ("va1", "udp-client:%d" % ucl, None, "BE",
                               "out"), 3)
check_flow("udp-server, in",
           lambda p: "> 10.0.0.1.7000:" in p[6],
           lambda p: (p[0], p[1], p[4]) ==
           ("va1", "udp-server:%d" % usrv_pid, "in"), 3)
check_flow("ping IPv4 and IPv6, both directions",
           lambda p: "ICMP" in p[6] and " echo " in p[6] and
           ("10.0.0.2" in p[6] or "fd00::2" in p[6]),
           lambda p: p[0] == "va1" and p[1] in ("ping:%d" % ping4,
                                                "ping:%d" % ping6), 10)
# On lo, the request comes in and the reply goes out as the kernel's.
check_flow("ping on lo, requests out and replies in",
           lambda p: "127.0.0.1" in p[6] and (
               (p[4] == "out" and "echo request" in p[6]) or
               (p[4] == "in" and "echo reply" in p[6])),
           lambda p: p[0] == "lo" and p[1] == "ping:%d" % pinglo, 4)
check_flow("tcp-client, both directions",
           lambda p: ".7002" in p[6] and "Flags" in p[6],
           lambda p: p[0] == "va1" and p[1] == "tcp-client:%d" % tcl and
           p[2] is None, 6)
check_flow("forked child, with its parent as the effective process",
           lambda p: "> 10.0.0.2.7107: UDP, length 6" in p[6],
           lambda p: (p[1], p[2]) ==
           ("fork-child:%d" % fchild, "fork-parent:%d" % fparent), 2)

# Without -y, without -k: the same link type, plain tcpdump lines.
pl = dumps["plain"].lines
t.ok(len(pl) >= 30 and all(PLAIN.match(l) for l in pl) and
     abs(len(pl) - len(allp)) <= 4,
     "no -y: %d lines, decoded as IP and IP6 (as -y PKTAP: %d)"
     % (len(pl), len(allp)), [l for l in pl if not PLAIN.match(l)][:5])

# Filter expressions on the packet behind the PKTAP header.
u = dumps["udp7000"]
up = u.parsed()
t.ok(len(up) == 3 and all(p and "> 10.0.0.1.7000:" in p[6] for p in up),
     "filter \"udp port 7000\": the 3 datagrams to port 7000, nothing else",
     u.lines[:8])
# What the kernel's filter rejects is not "received by filter" (the
# socket may have queued a packet or two before libpcap attached it).
st = u.stats()
t.ok(st is not None and 3 <= st[1] <= 3 + 3 and len(allp) >= 30,
     "filter \"udp port 7000\" runs in the kernel: %s packets received "
     "by filter of %d on the device" % (st and st[1], len(allp)),
     u.stderr[-300:])
i4 = dumps["icmp"].parsed()
t.ok(len(i4) >= 10 and all(p and p[5] == "IP" and "ICMP" in p[6]
                            for p in i4),
     "filter \"icmp\": %d lines, all ICMP over IPv4 (va1 and lo)" % len(i4),
     dumps["icmp"].lines[:5])
i6 = dumps["ip6"].parsed()
t.ok(len(i6) >= 10 and all(p and p[5] == "IP6" for p in i6) and
     any("ICMP6" in p[6] for p in i6) and any("Flags" in p[6] for p in i6),
     "filter \"ip6\": %d lines, all IPv6, ICMP6 and TCP among them"
     % len(i6), dumps["ip6"].lines[:5])
hp = dumps["host"].parsed()
t.ok(len(hp) >= 12 and all(p and p[5] == "IP" and "10.0.0.2" in p[6]
                            for p in hp) and
     not any("127.0.0.1" in p[6] for p in hp),
     "filter \"host 10.0.0.2\": %d lines, each to or from 10.0.0.2"
     % len(hp), dumps["host"].lines[:5])
st = dumps["icmp"].stats()
t.ok(st is not None and len(i4) <= st[1] <= len(i4) + 3,
     "filter \"icmp\" runs in the kernel: as many received by filter as "
     "captured", dumps["icmp"].stderr[-300:])

# -Q metadata filters.
qp = dumps["qpid"].parsed()
t.ok(len(qp) == 3 and all(p and p[1] == "udp-server:%d" % usrv_pid
                           for p in qp),
     "-Q pid=%d: exactly its 3 datagrams" % usrv_pid, dumps["qpid"].lines)
# As macOS's: "N drops by metadata filter", the packets -Q dropped.
st = dumps["qpid"].stats()
m = re.findall(r"^(\d+) drops? by metadata filter$", dumps["qpid"].stderr,
               re.M)
t.ok(st is not None and len(m) == 1 and int(m[0]) > 0 and
     st[0] + int(m[0]) <= st[1],
     "-Q pid=N: the statistics count the drops by metadata filter",
     dumps["qpid"].stderr[-300:])
qp = dumps["qproc"].parsed()
t.ok(len(qp) >= 14 and all(p and p[1] and p[1].startswith("ping:")
                            for p in qp) and
     {p[4] for p in qp} == {"in", "out"} and
     {p[1] for p in qp} == {"ping:%d" % x for x in (ping4, ping6, pinglo)},
     "-Q proc=ping: %d lines, the three pings', both directions" % len(qp),
     dumps["qproc"].lines[:5])
qp = dumps["qdirout"].parsed()
t.ok(len(qp) >= 15 and all(p and p[4] == "out" for p in qp),
     "-Q dir=out: %d lines, all out" % len(qp), dumps["qdirout"].lines[:5])
qp = dumps["qif"].parsed()
t.ok(len(qp) >= 4 and all(p and p[0] == "lo" for p in qp),
     "-Q if=lo: %d lines, all on lo" % len(qp), dumps["qif"].lines[:5])
qp = dumps["qcomb"].parsed()
t.ok(len(qp) == 3 and all(p and p[0] == "va1" and p[4] == "in" and
                           p[1] == "ping:%d" % ping4 and
                           "ICMP echo reply" in p[6] for p in qp),
     "-Q proc=ping,dir=in -Q if=va1 icmp: the 3 echo replies to ping on "
     "va1 (IPv4) only", dumps["qcomb"].lines[:5])
qp = dumps["qor"].parsed()
t.ok(len(qp) >= 6 and all(p and p[4] == "in" and p[1] in (
    "tcp-client:%d" % tcl, "udp-server:%d" % usrv_pid) for p in qp) and
     sum(1 for p in qp if p[1].startswith("udp-server")) == 3,
     "-Q \"(proc=tcp-client or pid=N) and not dir=out\": %d lines" % len(qp),
     dumps["qor"].lines[:5])

# Linux's -Q in / -Q out: pcap_setdirection on the raw socket.
for name, want in (("in", "in"), ("out", "out")):
    qp = dumps[name].parsed()
    t.ok(len(qp) >= 15 and all(p and p[4] == want for p in qp),
         "-Q %s: %d lines, all %s" % (name, len(qp), want),
         [l for l, p in zip(dumps[name].lines, qp)
          if not p or p[4] != want][:5])
# The workload's packets (those with a process): the captures start and
# stop at slightly different times, and packets of no process (neighbour
# discovery, MLD) may come at any time.
# TCP sequence numbers are printed relative to each capture's first
# packet of a connection: compare the addresses only.
def own(ps):
    return sorted((p[1], p[4], p[6].split(": ")[0]) for p in ps
                  if p and p[1])


split = own(dumps["in"].parsed() + dumps["out"].parsed())
t.eq(split, own(allp), "-Q in and -Q out together: every packet of a "
     "process (%d lines)" % len(split))

# -c with -Q counts only the packets that match.
d = dumps["count"]
qp = d.parsed()
t.ok(count_exited and d.rc == 0 and len(qp) == 2 and
     all(p and p[1].startswith("ping:") for p in qp) and
     d.stats() is not None and d.stats()[0] == 2,
     "-c 2 -Q proc=ping: 2 ping lines, then exit 0 by itself",
     (count_exited, d.rc, d.lines, d.stderr))

# -w: stock tcpdump and tshark read the files.
n = dumps["wfile"].stats()[0] if dumps["wfile"].stats() else -1
if STOCK:
    r = sh("%s -nn -r %s/cap.pcap" % (STOCK, OUT), check=False)
    t.ok(r.returncode == 0 and "link-type PKTAP" in r.stderr and
         len(r.stdout.splitlines()) == n and n >= 30 and
         re.search(r"IP6 fd00::1\.\d+ > fd00::2\.7002: Flags \[S\]",
                   r.stdout),
         "-w FILE: the stock %s -r reads all %d records" % (STOCK, n),
         (r.returncode, r.stderr, r.stdout[:500]))
else:
    t.diag("no stock tcpdump: -w file not read by it")
r = sh("tshark -r %s/cap.pcap -Y 'udp.dstport == 7000' -T fields "
       "-e pktap.pid -e pktap.cmdname" % OUT, check=False)
t.eq(r.stdout.splitlines(), ["%d\tudp-server" % usrv_pid] * 3,
     "-w FILE: tshark shows pktap.pid and pktap.cmdname")
r = sh("tshark -r %s/cap.pcap -Y 'udp.dstport == 7107' -T fields "
       "-e pktap.pid -e pktap.cmdname -e pktap.epid -e pktap.ecmdname" % OUT,
       check=False)
t.ok("%d\tfork-child\t%d\tfork-parent" % (fchild, fparent) in
     r.stdout.splitlines(), "-w FILE: tshark shows pktap.epid and "
     "pktap.ecmdname", r.stdout)
r = sh("tshark -r %s/q.pcap -T fields -e pktap.pid -e pktap.cmdname" % OUT,
       check=False)
t.eq(r.stdout.splitlines(), ["%d\tudp-server" % usrv_pid] * 3,
     "-w FILE -Q proc=udp-server: only its 3 records are written")
# Reading a file back with the patched tcpdump: filters and -Q apply too.
r = sh("%s -nn -k -r %s/cap.pcap -Q 'proc=fork-child' 'udp port 7107'"
       % (TCPDUMP, OUT), check=False)
lines = r.stdout.splitlines()
t.ok(r.returncode == 0 and len(lines) == 2 and
     all("eproc fork-parent:%d" % fparent in l for l in lines),
     "-r FILE -k -Q proc=fork-child 'udp port 7107': its 2 datagrams",
     (r.stderr, lines))

# macOS's -Q syntax (patch 0005), on the same file: single quotes,
# interface prefixes, dlt and flowid.
def rq(*args):
    r = sh("%s -nn -kA -r %s/cap.pcap %s" % (TCPDUMP, OUT, " ".join(
        "'%s'" % a.replace("'", "'\\''") for a in args)), check=False)
    return r.returncode, r.stdout.splitlines()


allr = rq()[1]
rc, lines = rq("-Q", "proc = 'fork-child'", "udp port 7107")
t.ok(rc == 0 and len(lines) == 2 and
     all("proc fork-child:" in l for l in lines),
     "-Q \"proc = 'fork-child'\": single quotes, as macOS's example", lines)
va1 = [l for l in allr if l.split(" ", 1)[1].startswith("(va1,")]
t.ok(len(va1) >= 10 and rq("-Q", "if=va")[1] == va1 and
     rq("-Q", "if=va")[1] == rq("-Q", "if=va1")[1] and
     rq("-Q", "if=va0")[1] == [] and rq("-Q", "if!=v")[1] == [
         l for l in allr if not l.split(" ", 1)[1].startswith("(va")],
     "-Q if=va matches va1 (a name not ending in a digit is a prefix); "
     "if=va0 nothing", (len(va1), len(allr)))
flows = re.findall(r"flowid (0x[0-9a-f]+)", "\n".join(allr))
one = [l for l in allr
       if flows and re.search(r"flowid %s[,)]" % flows[-1], l)]
t.ok(len(flows) == len(allr) and rq("-Q", "flowid=" + flows[-1])[1] == one
     and rq("-Q", "flowid=%d" % int(flows[-1], 16))[1] == one,
     "-Q flowid=%s: the %d records of that flow, hex or decimal"
     % (flows[-1] if flows else "?", len(one)), (len(flows), len(allr)))
t.ok(rq("-Q", "dlt=NULL")[1] == allr and rq("-Q", "dlt=0")[1] == allr and
     rq("-Q", "dlt=ether")[1] == [] and rq("-Q", "dlt!=RAW")[1] == allr,
     "-Q dlt=NULL: every record (iptap's inner link type), dlt=ether none",
     len(allr))

# Errors.
for what, args, want in (
        ("a bad metadata filter", ["-Q", "pid=abc"],
         "invalid metadata filter `pid=abc': `abc' is not a number"),
        ("an unknown metadata key", ["-Q", "user=root"],
         "unknown metadata `user'"),
        ("-Q metadata on a device that is not PKTAP", ["-i", "lo", "-Q",
                                                       "pid=1"],
         "-Q metadata filters need link-type PKTAP"),
        ("50,000 nested parentheses", ["-Q", "(" * 50000 + "pid=1" +
                                       ")" * 50000],
         "more than 100 nested `not' and parentheses"),
        ("100,000 nots", ["-Q", "!" * 100000 + "pid=1"],
         "more than 100 nested `not' and parentheses"),
        ("10,001 primitives", ["-Q", ",".join(["pid=1"] * 10001)],
         "more than 10000 primitives"),
        ("an unknown link type", ["-Q", "dlt=bogus"],
         "`bogus' is not a link type"),
        ("a flow ID past 32 bits", ["-Q", "flowid=4294967296"],
         "flow ID `4294967296' is not a 32-bit number"),
        ("an unterminated single quote", ["-Q", "proc='ping"],
         "missing closing quote"),
        ("a link type past 32 bits", ["-Q", "dlt=4294967296"],
         "link type `4294967296' is not a 32-bit number"),
        ("geneve on PKTAP", ["-i", "iptap0", "geneve"],
         "'geneve' not supported on PKTAP captures")):
    r = sh("%s %s" % (TCPDUMP, " ".join(
        "'%s'" % a.replace("'", "'\\''") for a in args)),
           ns="a", check=False, timeout=30)
    t.ok(r.returncode == 1 and want in r.stderr, "error: %s" % what,
         (r.returncode, r.stderr))

t.done()
