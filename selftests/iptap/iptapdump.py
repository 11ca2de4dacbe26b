#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.12.*+deb12-amd64
# (iptapdump's output: the records it reads are the same on every kernel
# (capture.py checks them on each), so one kernel is enough.)
"""tools/iptapdump on a live iptap device: every mode and error path.

Topology: namespaces a and b joined by a veth (va1 10.0.0.1, fd00::1 in
a; vb1 10.0.0.2, fd00::2 in b); iptap0 lives in a.  Many iptapdump
processes capture at once, each in another mode (text, -q, filters,
--pid, --comm, --in, --out, --if, --top, -w FILE, -w -, -P, -c), while
known processes of a (tests/lib/workload.py) talk to b; then Ctrl-C
(SIGINT) ends them and each output is checked: the right process named
on every line of a known flow, filters that include and exclude the
right packets, pcap files that stock tcpdump and tshark read, pcapng
files with the process of each packet, and the statistics line.  Then the errors: a missing device, a device that is
no iptap device, a bad filter, no privilege, and the device going away
under a capture.

The binary must have been built on the host (make tools): the VM sees
the host's files.
"""

import collections
import os
import re
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (AF_DARWIN_INET, AF_DARWIN_INET6, ROOT, SID_ROOT, Tap,
                      ToolRun, iptap_add, ip_summary, load_module,
                      read_pcap, sh, sid_tshark, stop, veth_pair, workload)

TOOL = os.path.join(ROOT, "tools", "iptapdump", "iptapdump")
# Built with ASan and UBSan by "make -C tools/iptapdump check" (make check
# runs that before the selftests): used for one capture when present.
ASAN_TOOL = os.path.join(ROOT, "tools", "iptapdump", "asan", "iptapdump")
OUT = "/tmp/iptapdump-test"
STATS = re.compile(r"^iptapdump: (\d+) packets captured, (\d+) dropped by "
                   r"kernel$", re.M)
LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d{6}) (in|out) +(\S+) (\S+)"
                  r"(?: via (\S+))? (IP6?) (.*)$")

t = Tap()
if not os.access(TOOL, os.X_OK):
    t.skip_all("%s is not built (make tools)" % TOOL)
load_module()
veth_pair("a", "b")
iptap_add("iptap0", ns="a")
sh("sysctl -qw net.ipv4.ping_group_range='0 2147483647'", ns="a")
os.makedirs(OUT, exist_ok=True)


class Dump(ToolRun):
    """An iptapdump process in namespace a."""

    STATS = STATS

    def __init__(self, name, args, prefix=("ip", "netns", "exec", "a"),
                 wait=True, stdout=None, tool=TOOL):
        super().__init__(name, list(prefix) + [tool] + args, OUT, wait,
                         stdout)

    @property
    def lines(self):
        return self.data.decode(errors="replace").splitlines()


def parsed(lines):
    """(dir, ifname, proc, eproc, family, summary) of each text line,
    or None for a line that is none."""
    out = []
    for line in lines:
        m = LINE.match(line)
        out.append(m.groups()[1:] if m else None)
    return out


start = workload
# Long-lived processes whose pids the captures can name in advance.
sinks = [start("b", "udp-server", port, 4, 120)[0]
         for port in (7001, 7107)]
bsrv = start("b", "tcp-server", 7002, 6)[0]
usrv, (usrv_pid,) = start("a", "udp-server", 7000, 4, 120)

# Rings of 8 blocks of 1 MiB: a block is handed over 100 ms after its
# first record, so with 2 blocks a reader the scheduler left waiting for
# 200 ms lost a record on the debug kernel ("3 packets captured, 1
# dropped by kernel").
dumps = {
    "all": Dump("all", []),
    "quick": Dump("quick", ["-q", "-B", "8"]),
    "udp7000": Dump("udp7000", ["-B", "8", "udp", "port", "7000"]),
    "icmp": Dump("icmp", ["-B", "8", "icmp"]),
    "ip6": Dump("ip6", ["-B", "8", "ip6"]),
    "pid": Dump("pid", ["-B", "8", "--pid", str(usrv_pid)]),
    "comm": Dump("comm", ["-B", "8", "--comm", "ping"]),
    "in": Dump("in", ["-B", "8", "--in"]),
    "out": Dump("out", ["-B", "8", "--out", "udp"]),
    "if-lo": Dump("if-lo", ["-B", "8", "--if", "lo"]),
    "if-va1": Dump("if-va1", ["-B", "8", "-i", "iptap0", "--if", "va1",
                              "--in", "icmp"]),
    "top": Dump("top", ["-B", "8", "--top"]),
    "wfile": Dump("wfile", ["-B", "16", "-w", OUT + "/cap.pcap"]),
    "wstdout": Dump("wstdout", ["-B", "8", "-w", "-", "udp or icmp"]),
    "pcapng": Dump("pcapng", ["-B", "16", "-P", "-w", OUT + "/cap.pcapng"]),
    "ngstdout": Dump("ngstdout", ["-B", "8", "--pcapng", "-w", "-", "udp"]),
    "count": Dump("count", ["-B", "8", "-c", "3", "icmp"]),
    # Without ip netns exec's sysfs: the device is recognised by its
    # ethtool driver name instead.
    "nsenter": Dump("nsenter", ["-B", "8", "-c", "2", "icmp"],
                    prefix=("nsenter", "--net=/run/netns/a")),
}
if os.access(ASAN_TOOL, os.X_OK):
    dumps["asan"] = Dump("asan", ["-B", "8", "--top", "-w",
                                  OUT + "/asan.pcap"], tool=ASAN_TOOL)
else:
    t.diag("no %s: no capture under ASan" % ASAN_TOOL)
t.ok(all(b"listening on iptap0" in d.err for d in dumps.values()),
     "every capture starts listening on iptap0",
     {n: d.stderr for n, d in dumps.items() if b"listening" not in d.err})

# The traffic, from known processes of a.
procs = []
start_time = time.time()
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
# --top prints a table a second: let it print a few.
time.sleep(max(0.5, 3 - (time.time() - start_time)))

count_exited = dumps["count"].proc.poll() is not None
nsenter_exited = dumps["nsenter"].proc.poll() is not None
for name, d in dumps.items():
    if name in ("count", "nsenter"):
        d.finish()
    else:
        d.interrupt()
for p in sinks + [usrv]:
    stop(p)

t.diag("pids: udp-server %d, udp-client %d, ping %d/%d/%d, fork %d/%d, "
       "tcp-client %d" % (usrv_pid, ucl, ping4, ping6, pinglo, fparent,
                          fchild, tcl))

# Ctrl-C: every capture ends with 0 and the statistics line, counting
# what it printed.
for name, d in dumps.items():
    st = d.stats()
    t.ok(d.rc == 0 and st is not None and st[1] == 0,
         "%s: exit 0 with \"N packets captured, 0 dropped by kernel\"" % name,
         (d.rc, d.stderr))
    if name not in ("top", "wfile", "wstdout", "pcapng", "ngstdout",
                    "asan") and st is not None:
        t.eq(len(d.lines), st[0], "%s: one line per packet captured" % name)

# Text output: the right process on every line of a known flow.
allp = parsed(dumps["all"].lines)
t.ok(allp and None not in allp, "all: every line has the documented form",
     [l for l, p in zip(dumps["all"].lines, allp) if p is None][:5])
allp = [p for p in allp if p]


def check_flow(name, pred, want, need=1):
    got = [p for p in allp if pred(p)]
    bad = [p for p in got if want(p) is not True]
    t.ok(len(got) >= need and not bad,
         "text: %s: %d lines, the right process on each" % (name, len(got)),
         bad[:5] if bad else "only %d lines" % len(got))


check_flow("udp-client, out",
           lambda p: "> 10.0.0.2.7001: UDP" in p[5],
           lambda p: (p[0], p[1], p[2], p[3]) ==
           ("out", "va1", "udp-client:%d" % ucl, None), 3)
check_flow("udp-server, in, pid known before",
           lambda p: "> 10.0.0.1.7000: UDP" in p[5],
           lambda p: (p[0], p[1], p[2]) ==
           ("in", "va1", "udp-server:%d" % usrv_pid), 3)
check_flow("ping IPv4, both directions",
           lambda p: p[4] == "IP" and "ICMP echo" in p[5] and
           "10.0.0.2" in p[5],
           lambda p: p[1] == "va1" and p[2] == "ping:%d" % ping4, 6)
check_flow("ping IPv6, both directions",
           lambda p: p[4] == "IP6" and "ICMP6 echo" in p[5],
           lambda p: p[1] == "va1" and p[2] == "ping:%d" % ping6, 4)
# On lo, the request comes in and the reply goes out as the kernel's.
check_flow("ping on lo, requests out and replies in",
           lambda p: "127.0.0.1" in p[5] and (
               (p[0] == "out" and "echo request" in p[5]) or
               (p[0] == "in" and "echo reply" in p[5])),
           lambda p: p[1] == "lo" and p[2] == "ping:%d" % pinglo, 4)
check_flow("tcp-client, both directions",
           lambda p: "TCP" in p[5] and ".7002" in p[5],
           lambda p: p[1] == "va1" and p[2] == "tcp-client:%d" % tcl and
           p[3] is None, 6)
check_flow("forked child, with its parent as the effective process",
           lambda p: "> 10.0.0.2.7107: UDP, length 6" in p[5],
           lambda p: (p[2], p[3]) ==
           ("fork-child:%d" % fchild, "fork-parent:%d" % fparent), 2)
check_flow("fork parent",
           lambda p: "> 10.0.0.2.7107: UDP, length 7" in p[5],
           lambda p: (p[2], p[3]) == ("fork-parent:%d" % fparent, None), 2)
t.ok(any(p[2] == "-" for p in allp),
     "text: packets of no process show \"-\"")
t.diag("a few lines of the text output:")
for line in dumps["all"].lines[:4] + [l for l in dumps["all"].lines
                                      if " via " in l][:1]:
    t.diag("  " + line)

# -q: shorter lines.
q = parsed(dumps["quick"].lines)
t.ok(any(p and p[5].endswith(": udp 10") for p in q) and
     not any(p and ("UDP" in p[5] or "seq" in p[5]) for p in q),
     "-q: \"udp 10\", no UDP or seq details",
     dumps["quick"].lines[:5])

# Filters, in the kernel, on the inner packet.
u = parsed(dumps["udp7000"].lines)
t.ok(len(u) == 3 and all(p and "10.0.0.1.7000: UDP" in p[5] for p in u),
     "filter \"udp port 7000\": the 3 datagrams to port 7000 and nothing "
     "else", dumps["udp7000"].lines[:8])
i4 = parsed(dumps["icmp"].lines)
t.ok(len(i4) >= 10 and all(p and p[4] == "IP" and "ICMP" in p[5]
                            for p in i4),
     "filter \"icmp\": %d lines, all ICMP over IPv4 (echo on va1 and lo)"
     % len(i4), [l for l, p in zip(dumps["icmp"].lines, i4)
                 if not p or "ICMP" not in p[5]][:5])
i6 = parsed(dumps["ip6"].lines)
t.ok(len(i6) >= 10 and all(p and p[4] == "IP6" for p in i6) and
     any("ICMP6 echo" in p[5] for p in i6) and
     any("TCP" in p[5] for p in i6),
     "filter \"ip6\": %d lines, all IPv6, ping6 and TCP among them" % len(i6),
     dumps["ip6"].lines[:5])

# Metadata options, in the kernel, on the PKTAP header.
pp = parsed(dumps["pid"].lines)
t.ok(len(pp) == 3 and all(p and p[2] == "udp-server:%d" % usrv_pid
                           for p in pp),
     "--pid %d: exactly its 3 datagrams" % usrv_pid, dumps["pid"].lines)
cp = parsed(dumps["comm"].lines)
t.ok(len(cp) >= 14 and all(p and p[2].startswith("ping:") for p in cp) and
     {p[0] for p in cp} == {"in", "out"} and
     {p[2] for p in cp} == {"ping:%d" % x for x in (ping4, ping6, pinglo)},
     "--comm ping: %d lines, the three pings' only, both directions"
     % len(cp), dumps["comm"].lines[:5])
ip = parsed(dumps["in"].lines)
t.ok(len(ip) >= 10 and all(p and p[0] == "in" for p in ip),
     "--in: %d lines, all in" % len(ip))
op = parsed(dumps["out"].lines)
t.ok(len(op) >= 7 and all(p and p[0] == "out" and "UDP" in p[5]
                           for p in op),
     "--out udp: %d lines, all out and UDP" % len(op), dumps["out"].lines[:5])
lp = parsed(dumps["if-lo"].lines)
t.ok(len(lp) >= 4 and all(p and p[1] == "lo" for p in lp),
     "--if lo: %d lines, all on lo" % len(lp))
vp = parsed(dumps["if-va1"].lines)
t.ok(len(vp) >= 3 and all(p and (p[0], p[1]) == ("in", "va1") and
                           "ICMP" in p[5] for p in vp),
     "-i iptap0 --if va1 --in icmp: %d lines, all in, on va1, ICMP" % len(vp),
     dumps["if-va1"].lines[:5])

# -c: the capture ends by itself.
for name, n in (("count", 3), ("nsenter", 2)):
    d = dumps[name]
    t.ok((count_exited if name == "count" else nsenter_exited) and
         d.rc == 0 and len(d.lines) == n and d.stats() == (n, 0),
         "-c %d%s: %d lines, then exit 0 by itself" %
         (n, " (no ip netns exec: no sysfs of a)" if name == "nsenter"
          else "", n), (d.rc, d.lines, d.stderr))

# --top: a table a second, off a tty without escape codes.
top = dumps["top"].data.decode(errors="replace")
tables = top.count("iptapdump --top iptap0 at ")
rows = [l.split() for l in top.splitlines() if re.match(r"^ *-?\d+ ", l)]
t.diag("the last --top table:\n" +
       top.rstrip().split("\n\n")[-1] if tables else "no table")
t.ok(tables >= 3 and "\033" not in top,
     "--top: %d tables, one a second, no escape codes" % tables, top[-800:])
srv_rows = [r for r in rows if r[:3] == [str(usrv_pid), "udp-server", "va1"]]
t.ok(srv_rows and int(srv_rows[-1][3]) == 3 and
     int(srv_rows[-1][4]) == 3 * (20 + 8 + 10),
     "--top: udp-server %d on va1: 3 packets, 114 bytes in" % usrv_pid,
     srv_rows[-1:] or top[-800:])
t.ok(any(r[1] == "ping" and r[2] == "lo" for r in rows) and
     any(r[1] == "tcp-client" for r in rows),
     "--top: rows of ping on lo and of tcp-client")

# -w FILE: stock tcpdump and tshark read it.
n = dumps["wfile"].stats()[0] if dumps["wfile"].stats() else -1
r = sh("tcpdump -nn -r %s/cap.pcap" % OUT, check=False)
t.ok(r.returncode == 0 and "link-type PKTAP" in r.stderr and
     len(r.stdout.splitlines()) == n and
     re.search(r"IP6 fd00::1\.\d+ > fd00::2\.7002: Flags \[S\]", r.stdout),
     "-w FILE: tcpdump -r reads all %d records" % n,
     (r.returncode, r.stderr, r.stdout[:500]))
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

# -w -: the same on standard output.
d = dumps["wstdout"]
n = d.stats()[0] if d.stats() else -1
r = sh("tcpdump -nn -r %s" % d.path, check=False)
lines = r.stdout.splitlines()
t.ok(d.data[:4] == b"\xd4\xc3\xb2\xa1" and len(lines) == n and n >= 20 and
     not any("Flags [" in l or "ICMP6" in l for l in lines),
     "-w - with \"udp or icmp\": %d records that tcpdump -r reads" % n,
     (r.stderr, lines[:5]))

# -P: pcapng.  Read here block by block: each packet's interface,
# direction and process (by its Darwin Process Information Block); then
# by tshark.


def pcapng_packets(data):
    """(ifname, epb_flags, (pid, name) or None, IP packet) per EPB."""
    ifs, procs, out, off = [], [], [], 0

    def opts(body):
        o, i = {}, 0
        while i + 4 <= len(body):
            code, n = struct.unpack_from("<HH", body, i)
            if code == 0:
                break
            o[code] = body[i + 4:i + 4 + n]
            i += 4 + (n + 3) // 4 * 4
        return o

    while off + 12 <= len(data):
        btype, total = struct.unpack_from("<II", data, off)
        body = data[off + 8:off + total - 4]
        if btype == 1:
            ifs.append(opts(body[8:]).get(2, b"").decode())
        elif btype == 0x80000001:
            procs.append((struct.unpack_from("<I", body)[0],
                          opts(body[4:]).get(2, b"").decode()))
        elif btype == 6:
            ifid, _, _, cap, _ = struct.unpack_from("<5I", body)
            o = opts(body[20 + (cap + 3) // 4 * 4:])
            pib = o.get(0x8001)
            out.append((ifs[ifid],
                        struct.unpack("<I", o.get(2, b"\0" * 4))[0],
                        procs[struct.unpack("<I", pib)[0]] if pib else None,
                        body[20:20 + cap]))
        off += total
    return out


def pktap_packets(path):
    """The same of each record of a PKTAP pcap file."""
    out = []
    for rec in read_pcap(path):
        hlen, = struct.unpack_from("<I", rec)
        pid, = struct.unpack_from("<i", rec, 52)
        name = rec[56:73].split(b"\0")[0].decode()
        out.append((rec[12:36].split(b"\0")[0].decode(),
                    struct.unpack_from("<I", rec, 36)[0],
                    (pid & 0xffffffff, name) if pid != -1 else None,
                    rec[hlen + 4:]))
    return out


with open(OUT + "/cap.pcapng", "rb") as f:
    ng = pcapng_packets(f.read())
n = dumps["pcapng"].stats()[0] if dumps["pcapng"].stats() else -1
t.eq(len(ng), n, "-P -w FILE: one EPB per packet captured")
pk = pktap_packets(OUT + "/cap.pcap")
# The two captures ran side by side: each packet of a known flow is in
# both, with the same interface, direction and process.
known = {usrv_pid, ucl, fparent, fchild, tcl}
t.eq(sorted(p for p in ng if p[2] and p[2][0] in known),
     sorted(p for p in pk if p[2] and p[2][0] in known),
     "-P -w FILE: the packets of the known processes, each on its "
     "interface with its direction and process, as in the PKTAP capture")
t.ok(any(p[2] == (usrv_pid, "udp-server") and p[0] == "va1" and p[1] == 1
         for p in ng) and
     any(p[2] is None for p in ng) and
     {p[0] for p in ng} == {"va1", "lo"},
     "-P -w FILE: udp-server's packets in on va1, packets of no process, "
     "interfaces va1 and lo only")
r = sh("tshark -r %s/cap.pcapng -T fields -e frame.interface_name "
       "-e frame.packet_flags_direction" % OUT, check=False)
want = ["%s\t0x%08x" % (p[0], p[1]) for p in ng]
t.ok(r.returncode == 0 and r.stdout.splitlines() == want,
     "-P -w FILE: tshark reads every packet, its interface and direction",
     (r.stderr[-300:], r.stdout.splitlines()[:3], want[:3]))
r = sh("tshark -r %s/cap.pcapng -X 'read_format:MIME Files Format' -T fields "
       "-e pcapng.darwin.process_id -e pcapng.darwin.process_name" % OUT,
       check=False)
ids, _, names = r.stdout.strip().partition("\t")
procs = set(zip(ids.split(","), names.split(",")))
t.ok(r.returncode == 0 and
     {(str(usrv_pid), "udp-server"), (str(fchild), "fork-child"),
      (str(tcl), "tcp-client")} <= procs,
     "-P -w FILE: tshark reads the process blocks of udp-server, "
     "fork-child and tcp-client", r.stdout[:300])


def conversations(out):
    """{(address, address): frames} of tshark's -z conv,ip and conv,ipv6
    tables (each row: A <-> B, frames and bytes each way, then in all)."""
    return {tuple(sorted(m.group(1, 2))): int(m.group(3))
            for m in re.finditer(r"^(\S+)\s+<->\s+(\S+)\s+\d+\s+\S+\s+\S+"
                                 r"\s+\d+\s+\S+\s+\S+\s+(\d+)\s", out, re.M)}


# Statistics > Conversations: every packet of the file counted in its
# IPv4 or IPv6 conversation, as the EPBs hold them.
ng_conv = collections.Counter()
for p in ng:
    af = {4: AF_DARWIN_INET, 6: AF_DARWIN_INET6}.get(p[3][0] >> 4)
    if af:
        src, dst = ip_summary({"packet": p[3], "af": af})[:2]
        ng_conv[tuple(sorted((src, dst)))] += 1
r = sh("tshark -r %s/cap.pcapng -q -z conv,ip -z conv,ipv6" % OUT,
       check=False)
t.ok(r.returncode == 0 and conversations(r.stdout) == ng_conv,
     "-P -w FILE: tshark -z conv,ip and conv,ipv6 count each "
     "conversation's packets as the file holds them",
     (conversations(r.stdout), dict(ng_conv)))

# Wireshark 4.6 (sid's tshark, in the sid build root make matrix made):
# the process of each packet, as its Darwin fields give it, is the one
# the PKTAP capture of the same traffic names (Debian 12's tshark
# reading pktap.pid and pktap.cmdname), for the known processes.
cap_ng = OUT + "/cap.pcapng"
r = sid_tshark(cap_ng, "-T fields -e frame.darwin.process_info.pid "
               "-e frame.darwin.process_info.pname")
if r is not None:
    # Wireshark's display filter on the process name.
    rf = sid_tshark(cap_ng, "-Y 'frame.darwin.process_info.pname == "
                    "\"udp-server\"' -T fields "
                    "-e frame.darwin.process_info.pid")
    ws = [tuple(line.split("\t")) for line in r.stdout.splitlines()]
    ng_procs = [("%d" % p[2][0], p[2][1]) if p[2] else ("", "")
                for p in ng]
    r2 = sh("tshark -r %s/cap.pcap -T fields -e pktap.pid -e pktap.cmdname"
            % OUT, check=False)
    pk_procs = {}
    for line in r2.stdout.splitlines():
        pid, _, name = line.partition("\t")
        if pid.isdigit() and int(pid) in known:
            pk_procs[(pid, name)] = pk_procs.get((pid, name), 0) + 1
    ws_procs = {}
    for k in ws:
        if len(k) == 2 and k[0].isdigit() and int(k[0]) in known:
            ws_procs[k] = ws_procs.get(k, 0) + 1
    t.ok(r.returncode == 0 and ws == ng_procs and ws_procs == pk_procs and
         (str(usrv_pid), "udp-server") in ws_procs,
         "-P -w FILE: Wireshark 4.6 names each packet's process as the "
         "file says, and the packets per known process are the PKTAP "
         "capture's", (r.stderr[-300:], ws[:5], ng_procs[:5], ws_procs,
                       pk_procs))
    served = pk_procs.get((str(usrv_pid), "udp-server"), 0)
    rc = sid_tshark(cap_ng, "-q -z conv,ip -z conv,ipv6")
    t.ok(rc.returncode == 0 and conversations(rc.stdout) == ng_conv,
         "-P -w FILE: Wireshark 4.6's -z conv,ip and conv,ipv6 count "
         "each conversation's packets as the file holds them",
         (rc.stderr[-300:], conversations(rc.stdout), dict(ng_conv)))
    t.ok(rf.returncode == 0 and served > 0 and
         rf.stdout.split() == [str(usrv_pid)] * served,
         "-P -w FILE: Wireshark 4.6's filter frame.darwin.process_info."
         "pname == \"udp-server\" keeps its %d packets, no other" % served,
         (rf.stderr[-300:], rf.stdout.split()[:5]))
else:
    t.diag("no sid tshark in %s: no check with Wireshark 4.6" % SID_ROOT)

# --pcapng -w -: the same, streamed, with a filter.
d = dumps["ngstdout"]
ng = pcapng_packets(d.data)
n = d.stats()[0] if d.stats() else -1
t.ok(d.data[:4] == b"\x0a\x0d\x0d\x0a" and len(ng) == n and n >= 10 and
     all(p[3][0] >> 4 == 4 and p[3][9] == 17 or
         p[3][0] >> 4 == 6 and p[3][6] == 17 for p in ng),
     "--pcapng -w - with \"udp\": %d UDP packets, streamed" % n)

# --top -w FILE under ASan and UBSan: no report, the same records.
if "asan" in dumps:
    d = dumps["asan"]
    r = sh("tcpdump -nn -r %s/asan.pcap" % OUT, check=False)
    t.ok(d.rc == 0 and "Sanitizer" not in d.stderr and
         "runtime error" not in d.stderr and
         "%d udp-server" % usrv_pid in d.data.decode(errors="replace") and
         len(r.stdout.splitlines()) == (d.stats() or (-1,))[0] >= 30,
         "ASan/UBSan build, --top -w FILE: no report, a table and a file",
         (d.rc, d.stderr[-2000:], r.stderr))

# Errors.
for name, args, pre, want in (
        ("a missing device", ["-i", "nosuch0"], "", "nosuch0: no such device"),
        ("a device that is no iptap device", ["-i", "lo"], "",
         "lo: not an iptap device"),
        ("a bad filter", ["udp", "port", "99999"], "",
         "bad filter expression \"udp port 99999\": illegal port number"),
        ("a syntax error in the filter", ["ip", "and"], "", "syntax error"),
        ("no privilege", [], "setpriv --reuid=65534 --regid=65534 "
         "--clear-groups ", "Operation not permitted (capturing needs "
         "CAP_NET_RAW)")):
    r = sh("%s%s %s" % (pre, TOOL, " ".join("'%s'" % a for a in args)),
           ns="a", check=False)
    t.ok(r.returncode == 1 and r.stderr.startswith("iptapdump: ") and
         want in r.stderr and not r.stdout,
         "error: %s: exit 1, \"%s\"" % (name, want),
         (r.returncode, r.stderr))

# The device goes away under a running capture.
iptap_add("iptap1", ns="a")
d = Dump("gone", ["-i", "iptap1"])
sh("ip -n a link del iptap1")
d.finish(timeout=20)
t.ok(d.rc == 1 and "iptap1 went down or away" in d.stderr and
     d.stats() is not None,
     "the device deleted under a capture: exit 1 with a message and the "
     "statistics", (d.rc, d.stderr))

# Ctrl-C works while the output is blocked on a pipe nobody reads.
d = Dump("blocked", ["-B", "2", "udp", "port", "7001"],
         stdout=subprocess.PIPE)
sh("python3 -c \"import socket; s = socket.socket(socket.AF_INET, "
   "socket.SOCK_DGRAM); [s.sendto(b'x' * 10, ('10.0.0.2', 7001)) "
   "for _ in range(3000)]\"", ns="a")
time.sleep(1)
alive = d.proc.poll() is None
try:
    with open("/proc/%d/wchan" % d.proc.pid) as f:
        t.diag("blocked capture waits in %s" % f.read())
except OSError:
    pass
d.proc.send_signal(signal.SIGINT)
try:
    d.proc.wait(timeout=20)
    exited = True
except subprocess.TimeoutExpired:
    exited = False
    d.proc.kill()
    d.proc.wait()
d.err += d.proc.stderr.read()
st = d.stats()
t.ok(alive and exited and d.proc.returncode == 0 and st and st[0] > 100,
     "Ctrl-C while stdout is a full pipe: exit 0 with the statistics",
     (alive, exited, d.proc.returncode, d.stderr))
d.proc.stdout.close()
d.proc.stderr.close()
d.out.close()

t.done()
