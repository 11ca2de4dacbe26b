#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py OUTDIR BENCHMARKS.md COMMAND RELEASE...: turn the results
of bench.sh (OUTDIR/RELEASE/results.txt and the perf profiles folded
into OUTDIR/RELEASE/profile-*.txt) into the tables of BENCHMARKS.md,
between its "generated" markers; the rest of the file is left alone.

Guest time is counted in instructions (QEMU -icount shift=0: one
instruction is one nanosecond), so a cost per packet in instructions is
(1/rate - 1/rate_baseline) * 1e9.
"""

import collections
import os
import re
import statistics
import sys

BEGIN = "<!-- bench.sh: generated tables begin -->"
END = "<!-- bench.sh: generated tables end -->"

CONFIGS = {
    "baseline": "baseline: iptap not loaded",
    "idle": "idle: iptap0 in a, no listener",
    "listener": "listener: TPACKET_V3 ring on iptap0 in a (out records)",
    "listener2": "listener2: two rings on iptap0 in a (out records)",
    "listener-queue": "listener-queue: a socket without a ring on iptap0 in a, read with recv() (out records)",
    "listener-in": "listener-in: ring on iptap0 in b (in records, socket lookup)",
    "listener-both": "listener-both: iptap0 and a ring in a and in b (2 records a packet)",
    "tcpdump-iptap": "tcpdump -i iptap0 -w /dev/null in a",
    "ring-veth": "ring on the veth va (not loaded)",
    "ring2-veth": "two rings on the veth va (not loaded)",
    "queue-veth": "a socket without a ring on the veth va, read with recv() (not loaded)",
    "tcpdump-veth": "tcpdump -i va -w /dev/null (not loaded)",
    "nflog": "nftables `log group 1` + tcpdump -i nflog:1 (not loaded)",
    "tcpdump-any": "tcpdump -i any -w /dev/null in a (not loaded)",
    "held-100k": "100,000 UDP sockets held in b, iptap not loaded",
    "held-1m": "1,000,000 UDP sockets held in b, iptap not loaded",
    "in-1k": "listener-in, 1,000 UDP sockets held in b",
    "in-100k": "listener-in, 100,000 UDP sockets held in b",
    "in-1m": "listener-in, 1,000,000 UDP sockets held in b",
    "c-ping": "iptap not loaded, a third namespace, c, pinging its loopback every 50 ms",
    "c-nft": "iptap not loaded, c pinging, an empty nftables chain in c at prerouting and at output",
    "elsewhere-idle": "ring on iptap0 in c, no traffic in c (no record: receive hook not armed)",
    "elsewhere-nocap": "iptap0 in c, no listener, ping in c every 50 ms (receive hook not armed)",
    "elsewhere": "ring on iptap0 in c, ping in c every 50 ms: records, receive hook armed (a and b have no device)",
    "select-reject": "ring on iptap0 in a, created with `uid 4242`: every packet attributed, none recorded",
    "select-pass": "ring on iptap0 in a, created with `uid 0`: every packet recorded",
    "select-reject-in": "ring on iptap0 in b, created with `uid 4242`: every incoming packet attributed, none recorded",
    "baseline-last": "baseline again, last",
}

# Profile buckets, in the order of the table.  A sample goes to the
# first rule of classify() that matches its call chain.
B_SEND = "UDP/IP output and veth transmit"
B_RECV_SOFTIRQ = "veth receive, IP/UDP input (softirq)"
B_RECVMSG = "UDP receive (udp_recvmsg: dequeue, copy to user)"
B_SYSCALL = "system calls: entry, exit, msghdr copies"
B_SCHED = "scheduler: context switches, wake-ups"
B_USER = "blast and sink user space"
B_OTHER = "timer interrupts, kernel threads, other"
B_NF = "netfilter hook walk (nf_hook_slow itself)"
B_KPROBES = "iptap: socket kprobes (owner records)"
B_ATTR = "iptap: attribution"
B_COPY = "iptap: copy (skb allocation, linear copy)"
B_HASH = "iptap: flow hash"
B_TSTAMP = "iptap: timestamp"
B_HDR = "iptap: PKTAP header"
B_DELIVER = "iptap: delivery to the packet socket (tpacket_rcv, wake-up)"
B_IPTAP = "iptap: rest of hook and record"
B_TAP = "tap on the veth (dev_queue_xmit_nit, tpacket_rcv, wake-up)"
B_NFLOG = "nftables rule + NFLOG"
B_CAPTURE = "capture process (ring or tcpdump: user space, system calls)"
BUCKETS = [B_SEND, B_RECV_SOFTIRQ, B_RECVMSG, B_SYSCALL, B_SCHED, B_USER,
           B_OTHER, B_NF, B_KPROBES, B_ATTR, B_COPY, B_HASH, B_TSTAMP, B_HDR,
           B_DELIVER, B_IPTAP, B_TAP, B_NFLOG, B_CAPTURE]

# Inside iptap's hook: the innermost of these frames names the part.
IPTAP_MARKERS = {}
for _names, _bucket in (
        (("__pskb_copy_fclone", "skb_orphan_frags_rx"), B_COPY),
        (("__skb_get_hash", "skb_get_hash", "__skb_get_hash_net"), B_HASH),
        (("iptap_attribute", "iptap_attribute_in", "iptap_attribute_out"),
         B_ATTR),
        (("iptap_fill_header", "iptap_fill_proc", "iptap_ipproto"), B_HDR),
        (("ktime_get_real_ts64", "ktime_get_with_offset", "ktime_get_real"),
         B_TSTAMP),
        (("iptap_deliver", "tpacket_rcv", "packet_rcv", "consume_skb",
          "kfree_skb_reason", "sk_free", "__kfree_skb"), B_DELIVER)):
    for _n in _names:
        IPTAP_MARKERS[_n] = _bucket

KPROBE_FRAMES = {"kprobe_ftrace_handler", "iptap_socket_use",
                 "iptap_post_create", "iptap_graft", "iptap_sk_free",
                 "iptap_clone_entry", "iptap_clone_ret", "kprobe_int3_handler",
                 "optimized_callback", "opt_pre_handler", "kprobe_handler",
                 "arch_ftrace_ops_list_func", "ftrace_ops_list_func",
                 "ftrace_regs_caller", "ftrace_caller", "ftrace_trampoline"}
SCHED_FRAMES = {"__schedule", "schedule", "try_to_wake_up", "schedule_tail",
                "finish_task_switch", "finish_task_switch.isra.0",
                "preempt_schedule_common", "__cond_resched"}
SOFTIRQ_FRAMES = {"net_rx_action", "process_backlog",
                  "__netif_receive_skb_one_core", "ip_rcv"}
SYSCALL_FRAMES = {"entry_SYSCALL_64_after_hwframe", "do_syscall_64"}


def classify(comm, frames):
    """frames: outermost first."""
    if comm in ("ring", "tcpdump"):
        return B_CAPTURE
    fs = set(frames)
    if fs & KPROBE_FRAMES or any(f.startswith(("iptap_owner", "iptap_probe"))
                                 for f in frames):
        return B_KPROBES
    # The ftrace trampoline of a kprobe has no symbol.
    if len(frames) >= 2 and frames[-1] == "[unknown]" and \
            frames[-2].startswith("security_socket_"):
        return B_KPROBES
    if "iptap_hook" in fs:
        for f in reversed(frames):
            if f in IPTAP_MARKERS:
                return IPTAP_MARKERS[f]
        return B_IPTAP
    if "dev_queue_xmit_nit" in fs:
        return B_TAP
    if any(f.startswith(("nft_", "nfulnl_", "nf_log")) for f in frames):
        return B_NFLOG
    if frames and frames[-1] == "nf_hook_slow":
        return B_NF
    if fs & SCHED_FRAMES:
        return B_SCHED
    if fs & SOFTIRQ_FRAMES:
        return B_RECV_SOFTIRQ
    if "udp_sendmsg" in fs or "tcp_sendmsg" in fs:
        return B_SEND
    if "udp_recvmsg" in fs or "tcp_recvmsg" in fs:
        return B_RECVMSG
    if fs & SYSCALL_FRAMES:
        return B_SYSCALL
    if comm in ("blast", "sink") and not any(
            f.startswith(("asm_", "entry_")) for f in frames):
        return B_USER
    return B_OTHER


def parse_kv(line):
    return dict(m.groups() for m in re.finditer(r"(\w+)=(\S+)", line))


def load_owners(rdir):
    """The "owners" lines of the sockets set: cfg -> kv."""
    out = {}
    try:
        with open(os.path.join(rdir, "results.txt")) as f:
            for line in f:
                if line.startswith("owners "):
                    kv = parse_kv(line)
                    out[kv["cfg"]] = kv
    except OSError:
        pass
    return out


def load_rtnl(rdir):
    """The "rtnl" lines: [kv]."""
    try:
        with open(os.path.join(rdir, "results.txt")) as f:
            return [parse_kv(line) for line in f if line.startswith("rtnl ")]
    except OSError:
        return []


def load(rdir):
    runs = collections.defaultdict(list)     # (set, cfg) -> [kv]
    caps = collections.defaultdict(list)
    with open(os.path.join(rdir, "results.txt")) as f:
        for line in f:
            kind = line.split(" ", 1)[0]
            kv = parse_kv(line)
            if kind == "run" and kv.get("n") != "profile":
                runs[kv["set"], kv["cfg"]].append(kv)
            elif kind == "capture":
                caps[kv["set"], kv["cfg"]].append(kv)
    return runs, caps


def load_profile(path, ticks_path):
    """Folded stacks: {(comm, frames tuple): samples}, and the packets
    the sink received between the first and the last sample (0 if
    unknown), from its ticks (time, packets so far)."""
    prof = collections.Counter()
    span = None
    with open(path) as f:
        for line in f:
            if line.startswith("#time "):
                span = [float(x) for x in line.split()[1:3]]
                continue
            count, _, chain = line.rstrip("\n").partition(" ")
            parts = chain.split(";")
            prof[parts[0], tuple(parts[1:])] += int(count)
    ticks = read_ticks(ticks_path) if os.path.exists(ticks_path) else []
    packets = 0
    if span and len(ticks) > 1:
        a, b = packets_at(ticks, span[0]), packets_at(ticks, span[1])
        if a is not None and b is not None:
            packets = b - a
    return prof, packets


def read_ticks(path):
    """The sink's ticks (sink -P): [(guest time, packets so far)]."""
    with open(path) as f:
        return [(float(a), int(b)) for _, a, b in
                (line.split() for line in f)]


def packets_at(ticks, t):
    """The packets the sink had received at time t, between two ticks or
    just past the last (the sink is ended right after perf); None
    elsewhere."""
    for (ta, na), (tb, nb) in zip(ticks, ticks[1:]):
        if ta <= t <= tb or (tb == ticks[-1][0] and tb < t < tb + 0.2):
            return na + (nb - na) * (t - ta) / (tb - ta)
    return None


def fmt_int(x):
    return "" if x is None else "{:,}".format(int(round(x)))


def rate_of(kv, tcp):
    return float(kv["mbps"]) if tcp else float(kv["pps"])


class Kernel:
    def __init__(self, outdir, rel):
        self.rel = rel
        self.dir = os.path.join(outdir, rel)
        self.runs, self.caps = load(self.dir)
        self.owners = load_owners(self.dir)
        self.perf_freq = 5000
        try:
            with open(os.path.join(self.dir, "results.txt")) as f:
                for line in f:
                    if line.startswith("profile "):
                        self.perf_freq = int(parse_kv(line)["freq"])
        except (OSError, KeyError, ValueError):
            pass

    def rates(self, set_, cfg):
        tcp = set_ == "tcp"
        return [rate_of(kv, tcp) for kv in self.runs.get((set_, cfg), [])]

    def median(self, set_, cfg):
        r = self.rates(set_, cfg)
        return statistics.median(r) if r else None

    def base(self, set_):
        r = self.rates(set_, "baseline") + self.rates(set_, "baseline-last")
        return statistics.median(r) if r else None

    def cost(self, set_, cfg):
        """Instructions per packet (UDP) or per 64 KiB (TCP) over baseline."""
        m, b = self.median(set_, cfg), self.base(set_)
        if not m or not b:
            return None
        if set_ == "tcp":       # rates in Mbit/s
            per = lambda mbps: 65536 * 8 / (mbps * 1e6) * 1e9
        else:
            per = lambda pps: 1e9 / pps
        return per(m) - per(b)

    def ratio(self, set_, cfg):
        m, b = self.median(set_, cfg), self.base(set_)
        return m / b if m and b else None

    def capture_note(self, set_, cfg):
        out = []
        for kv in self.caps.get((set_, cfg), []):
            drops = kv.get("kernel_drops", "?")
            got = kv.get("kernel_packets") or kv.get("received") or "?"
            out.append("%s: %s, %s dropped" % (kv.get("name"), got, drops))
        return "; ".join(out)

    def table(self, set_, title):
        tcp = set_ == "tcp"
        cfgs = [c for c in CONFIGS if (set_, c) in self.runs]
        if not cfgs:
            return []
        unit = "Mbit/s" if tcp else "packets/s"
        costu = "per 64 KiB" if tcp else "per packet"
        lines = ["#### %s" % title, "",
                 "| configuration | %s, median | runs (min-max) | ratio to baseline | "
                 "cost over baseline, instructions %s | %s |" % (
                     unit, costu,
                     "received packets (avg bytes)" if tcp else
                     "capture: records that reached the socket, dropped"),
                 "|---|---:|---:|---:|---:|---|"]
        for c in cfgs:
            r = self.rates(set_, c)
            m = statistics.median(r)
            fmt = (lambda x: "%.0f" % x) if tcp else fmt_int
            cost = self.cost(set_, c)
            if tcp:
                kvs = self.runs[set_, c]
                pk = sum(int(kv.get("rx_packets", 0)) for kv in kvs)
                by = sum(int(kv.get("rx_bytes", 0)) for kv in kvs)
                extra = "%s (%s)" % (fmt_int(pk / len(kvs)),
                                     fmt_int(by / pk) if pk else "?")
                if self.capture_note(set_, c):
                    extra += "; " + self.capture_note(set_, c)
            else:
                extra = self.capture_note(set_, c)
            ratio = self.ratio(set_, c)
            lines.append("| %s | %s | %s-%s (%d) | %s | %s | %s |" % (
                CONFIGS[c], fmt(m), fmt(min(r)), fmt(max(r)), len(r),
                "" if ratio is None else "%.3f" % ratio,
                "" if c.startswith("baseline") else fmt_int(cost), extra))
        lines.append("")
        return lines

    def sockets_table(self):
        """Attribution cost and owner-record memory by sockets held."""
        set_ = "sockets"
        if (set_, "baseline") not in self.runs:
            return []
        lines = ["#### Attribution with many sockets (UDP, 64-byte datagrams, in records)", "",
                 "Instructions per packet over the run with the same sockets held "
                 "and iptap not loaded (for 1,000 sockets and fewer: over baseline). "
                 "Memory: MemAvailable before `ip link add` and after its scan, per "
                 "owner record.", "",
                 "| sockets held in b | packets/s, median | iptap's cost, instructions per packet | "
                 "owner records | memory per record, bytes | scan, guest seconds |",
                 "|---:|---:|---:|---:|---:|---:|"]
        rows = (("listener-in", "baseline", "(none)"), ("in-1k", "baseline", "1,000"),
                ("in-100k", "held-100k", "100,000"), ("in-1m", "held-1m", "1,000,000"))
        per = lambda pps: 1e9 / pps
        for cfg, ref, label in rows:
            m = self.median(set_, cfg)
            b = self.median(set_, ref) if ref != "baseline" else self.base(set_)
            if not m or not b:
                continue
            o = self.owners.get(cfg, {})
            recs = int(o["records"]) if "records" in o else None
            mem = (int(o["mem_kb"]) * 1024 / recs) if recs and "mem_kb" in o else None
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                label, fmt_int(m), fmt_int(per(m) - per(b)),
                fmt_int(recs), fmt_int(mem), o.get("scan_s", "")))
        lines.append("")
        return lines

    def rtnl_table(self):
        """ip link add/del latency under an unprivileged iptap churn."""
        rows = load_rtnl(self.dir)
        if not rows:
            return []
        lines = ["#### RTNL: adding and deleting a dummy device as root (guest microseconds)", "",
                 "20 of each in the initial namespace, one netlink request each "
                 "(`rtnl_latency.py`), alone and while uid 65534, in a user and network "
                 "namespace of its own, creates and deletes an iptap device in a loop "
                 "(`ip link add t type iptap && ip link del t`).", "",
                 "| UDP sockets held in b | other work | add, median | add, max | "
                 "del, median | del, max |", "|---:|---|---:|---:|---:|---:|"]
        for kv in rows:
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                fmt_int(int(kv["sockets"])),
                "none" if kv["loop"] == "none" else
                "iptap create/delete loop (%s cycles meanwhile)" % kv.get("cycles", "?"),
                fmt_int(int(kv["add_median_us"])), fmt_int(int(kv["add_max_us"])),
                fmt_int(int(kv["del_median_us"])), fmt_int(int(kv["del_max_us"]))))
        lines.append("")
        return lines

    def targets(self):
        lines = ["#### Targets", "",
                 "| target | measured | met |", "|---|---|---|"]
        for set_ in ("udp64", "udp1400", "tcp"):
            r = self.ratio(set_, "idle")
            if r is not None:
                lines.append("| idle >= 0.99 of baseline (%s) | %.3f | %s |" % (
                    set_, r, "yes" if r >= 0.99 else "**no**"))
        lst, nfl, tdv = (self.ratio("udp64", c) for c in
                         ("listener", "nflog", "tcpdump-veth"))
        if lst and nfl:
            lines.append("| iptap capture (listener) at least as fast as NFLOG (udp64) | "
                         "%.3f vs %.3f | %s |" % (lst, nfl, "yes" if lst >= nfl else "**no**"))
        if lst and tdv:
            pp = (lst - tdv) * 100
            lines.append("| iptap capture (listener) within 5 points of tcpdump on the veth (udp64) | "
                         "%.3f vs %.3f (%+.1f points) | %s |" % (
                             lst, tdv, pp, "yes" if pp >= -5 else "**no**"))
        on, off = (self.median("recvmsg", c) for c in ("elsewhere", "elsewhere-nocap"))
        if on and off:
            lines.append("| a capture in another namespace costs nothing measurable per recvmsg() "
                         "here: the ring in c against the same device and pings with no "
                         "listener (recvmsg) | %s instructions per packet (%.3f) | %s |" % (
                             fmt_int(1e9 / on - 1e9 / off), on / off,
                             "yes" if on / off >= 0.99 else "**no**"))
        rt = {(kv["sockets"], kv["loop"]): int(kv["add_median_us"]) + int(kv["del_median_us"])
              for kv in load_rtnl(self.dir)}
        churn = sorted((int(n), v) for (n, loop), v in rt.items() if loop != "none")
        if len(churn) >= 2:
            (n0, v0), (n1, v1) = churn[0], churn[-1]
            lines.append("| `ip link add`+`del` under the churn loop does not grow with sockets "
                         "| %s us at %s sockets, %s us at %s | %s |" % (
                             fmt_int(v0), fmt_int(n0), fmt_int(v1), fmt_int(n1),
                             "yes" if v1 <= v0 * 1.1 else "**no**"))
        ti, tv = self.ratio("udp64", "tcpdump-iptap"), tdv
        if ti and tv:
            lines.append("| same tool on both devices: tcpdump -i iptap0 vs tcpdump -i va (udp64) | "
                         "%.3f vs %.3f (%+.1f points) | %s |" % (
                             ti, tv, (ti - tv) * 100,
                             "yes" if ti - tv >= -0.05 else "**no**"))
        lines += self.record_targets()
        lines.append("")
        return lines

    def spread(self, set_, cfg):
        """(max - min) / median of a configuration's runs."""
        r = self.rates(set_, cfg)
        return (max(r) - min(r)) / statistics.median(r) if len(r) > 1 else None

    def record_targets(self):
        """Issue 15's targets (its idle target is targets()'s): a record's
        cost against the same ring on the real device, in records'
        attribution, TCP, the baseline's spread, a second packet socket."""
        lines = []
        yes = lambda ok: "yes" if ok else "**no**"
        for set_ in ("udp64", "udp1400"):
            veth = self.cost(set_, "ring-veth")
            for cfg, what in (("listener", "out"), ("listener-in", "in")):
                c = self.cost(set_, cfg)
                if c is None or not veth or veth <= 0:
                    continue
                lines.append("| a record (%s, %s records, attribution included) costs at most "
                             "1.5 times the ring on the veth | %s vs %s instructions a packet "
                             "(%.2f times) | %s |" % (
                                 set_, what, fmt_int(c), fmt_int(veth), c / veth,
                                 yes(c <= 1.5 * veth)))
        out, inn = self.cost("udp64", "listener"), self.cost("udp64", "listener-in")
        if out is not None and inn is not None:
            lines.append("| in-record attribution at most 300 instructions a packet (udp64: "
                         "listener-in over listener) | %s | %s |" % (
                             fmt_int(inn - out), yes(inn - out <= 300)))
        lt, vt = self.ratio("tcp", "listener"), self.ratio("tcp", "ring-veth")
        if lt and vt:
            lines.append("| TCP GSO stream with a listener at least the ring on the veth "
                         "(ratio to baseline) | %.3f vs %.3f | %s |" % (lt, vt, yes(lt >= vt)))
        for set_ in ("udp64", "udp1400", "tcp"):
            first, last = self.median(set_, "baseline"), self.median(set_, "baseline-last")
            if not first or not last:
                continue
            drift = abs(last - first) / first
            sp = [x for x in (self.spread(set_, "baseline"),
                              self.spread(set_, "baseline-last")) if x is not None]
            lines.append("| the benchmark sees 1%%: the baseline's runs span less than 1%% "
                         "and its medians measured first and last agree within 0.5%% (%s, "
                         "%d runs each) | runs span %s; medians %.2f%% apart | %s |" % (
                             set_, len(self.rates(set_, "baseline")),
                             " and ".join("%.2f%%" % (x * 100) for x in sp), drift * 100,
                             yes(drift < 0.005 and sp and max(sp) < 0.01)))
        two = self.cost("udp64", "listener2")
        v1, v2 = self.cost("udp64", "ring-veth"), self.cost("udp64", "ring2-veth")
        idle = self.cost("udp64", "idle")
        if None not in (out, two, v1, v2, idle):
            second, vsecond, record = two - out, v2 - v1, out - idle
            lines.append("| a second packet socket on iptap0 costs one delivery, not a record: "
                         "its cost within 1.5 times a second ring on the veth's (udp64) | "
                         "second ring %s instructions a packet (veth: %s; a record: %s) | %s |" % (
                             fmt_int(second), fmt_int(vsecond), fmt_int(record),
                             yes(second <= 1.5 * max(vsecond, 1) and second < record / 2)))
        return lines

    def profiles(self):
        profs = {}
        packets = {}
        for c in CONFIGS:
            p = os.path.join(self.dir, "profile-udp64-%s.txt" % c)
            if os.path.exists(p):
                profs[c], packets[c] = load_profile(
                    p, os.path.join(self.dir, "ticks-udp64-%s.txt" % c))
        if not profs:
            return []
        cfgs = list(profs)
        per_packet = {}
        selfs = {}
        for c in cfgs:
            total = sum(profs[c].values())
            if not total or not packets[c]:
                continue
            # A sample every 1e9 / FREQ instructions, over the packets
            # sent while perf recorded.
            scale = 1e9 / self.perf_freq / packets[c]
            b = collections.Counter()
            s = collections.Counter()
            for (comm, frames), n in profs[c].items():
                b[classify(comm, list(frames))] += n * scale
                s[frames[-1] if frames else "?"] += n * scale
            per_packet[c] = b
            selfs[c] = s
        cfgs = [c for c in cfgs if c in per_packet]
        stack = [B_SEND, B_RECV_SOFTIRQ, B_RECVMSG, B_SYSCALL, B_USER, B_OTHER]
        capture = [bk for bk in BUCKETS if bk not in stack and bk != B_SCHED]
        lines = ["#### Where the time goes (udp64, perf cpu-clock samples)", "",
                 "Guest instructions per packet while perf recorded, by the "
                 "call chain of each sample (see classify() in "
                 "selftests/bench/report.py): samples times %s instructions, "
                 "over the packets the sink received between the first and "
                 "the last sample; samples: %s.  Under icount these samples "
                 "are not where the instructions are: single functions are "
                 "off by hundreds of instructions a packet (Method, \"The "
                 "counts\"); BENCH_COUNTS gives exact ones." % (
                     fmt_int(1e9 / self.perf_freq), ", ".join(
                         "%s %s" % (c, fmt_int(sum(profs[c].values())))
                         for c in cfgs)),
                 "",
                 "| part | " + " | ".join(cfgs) + " |",
                 "|---|" + "---:|" * len(cfgs)]
        row = lambda name, vals: lines.append(
            "| %s | %s |" % (name, " | ".join(fmt_int(v) for v in vals)))
        for bk in capture:
            vals = [per_packet[c].get(bk, 0) for c in cfgs]
            if max(vals) >= 5:
                row(bk, vals)
        row("**capture, all of the above**",
            [sum(per_packet[c].get(bk, 0) for bk in capture) for c in cfgs])
        row(B_SCHED, [per_packet[c].get(B_SCHED, 0) for c in cfgs])
        row("network stack, system calls, user space of sender and receiver",
            [sum(per_packet[c].get(bk, 0) for bk in stack) for c in cfgs])
        row("**total while profiled**", [sum(per_packet[c].values()) for c in cfgs])
        row("total without perf (1e9 / median packets per second)",
            [1e9 / (self.median("udp64", c) or float("inf")) for c in cfgs])
        lines.append("| cost over baseline without perf | %s |" % " | ".join(
            "" if c.startswith("baseline") or self.cost("udp64", c) is None
            else fmt_int(self.cost("udp64", c)) for c in cfgs))
        lines.append("")
        for c, anchor in (("listener", "iptap_hook"),
                          ("listener-in", "iptap_hook"),
                          ("tcpdump-veth", "dev_queue_xmit_nit")):
            if c not in profs or c not in per_packet:
                continue
            scale = 1e9 / self.perf_freq / packets[c]
            fn = collections.Counter()
            for (comm, frames), n in profs[c].items():
                if anchor in frames:
                    fn[frames[-1]] += n * scale
            lines += ["Functions under `%s` in %s, instructions per packet "
                      "(self): %s." % (anchor, c, ", ".join(
                          "`%s` %s" % (f, fmt_int(v))
                          for f, v in fn.most_common(12))), ""]
        return lines


def main():
    outdir, md, command = sys.argv[1:4]
    rels = sys.argv[4:]
    body = [BEGIN, "",
            "Made by `%s` (what `make bench` runs after `make matrix`), "
            "QEMU `-accel tcg -icount shift=0,sleep=off`, one vCPU; "
            "results in `%s/`." % (command, os.path.relpath(
                outdir, os.path.join(os.path.dirname(__file__), "..", ".."))), ""]
    for rel in rels:
        k = Kernel(outdir, rel)
        if not k.runs:
            body += ["### %s" % rel, "", "No results (see build/bench/%s/)." % rel, ""]
            continue
        body += ["### %s" % rel, ""]
        body += k.table("udp64", "UDP, 64-byte datagrams")
        body += k.table("udp1400", "UDP, 1400-byte datagrams")
        body += k.table("tcp", "TCP stream, 64 KiB writes (GSO)")
        body += k.table("sockets", "UDP, 64-byte datagrams, with many sockets held")
        body += k.sockets_table()
        body += k.table("recvmsg", "UDP, 64-byte datagrams, a capture in another namespace")
        body += k.table("select", "UDP, 64-byte datagrams, a device with a selector")
        body += k.rtnl_table()
        body += k.targets()
        body += k.profiles()
    body.append(END)
    text = open(md).read() if os.path.exists(md) else "# Benchmarks\n\n%s\n%s\n" % (BEGIN, END)
    if BEGIN not in text or END not in text:
        text += "\n%s\n%s\n" % (BEGIN, END)
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(md + ".tmp", "w") as f:
        f.write(head + "\n".join(body) + tail)
    os.replace(md + ".tmp", md)


if __name__ == "__main__":
    main()
