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
    "listener-in": "listener-in: ring on iptap0 in b (in records, socket lookup)",
    "listener-both": "listener-both: iptap0 and a ring in a and in b (2 records a packet)",
    "tcpdump-iptap": "tcpdump -i iptap0 -w /dev/null in a",
    "ring-veth": "ring on the veth va (not loaded)",
    "tcpdump-veth": "tcpdump -i va -w /dev/null (not loaded)",
    "nflog": "nftables `log group 1` + tcpdump -i nflog:1 (not loaded)",
    "tcpdump-any": "tcpdump -i any -w /dev/null in a (not loaded)",
    "baseline-last": "baseline again, last",
}

# Profile buckets, in the order of the table.
BUCKETS = [
    "sender: syscalls, UDP/IP out, veth, IP/UDP in (softirq)",
    "receiver: recvmmsg",
    "other processes, kernel threads",
    "netfilter hook walk (nf_hook_slow itself)",
    "iptap: socket kprobes (owner records)",
    "iptap: attribution",
    "iptap: copy (skb allocation, linear copy)",
    "iptap: flow hash",
    "iptap: timestamp",
    "iptap: PKTAP header",
    "iptap: delivery to the packet socket",
    "iptap: rest of hook and record",
    "tap on the real device (dev_queue_xmit_nit)",
    "nftables rule + NFLOG",
    "capture process (ring, tcpdump)",
]

IPTAP_MARKERS = [
    (("__pskb_copy_fclone", "skb_orphan_frags_rx"),
     "iptap: copy (skb allocation, linear copy)"),
    (("__skb_get_hash", "skb_get_hash", "__skb_get_hash_net"),
     "iptap: flow hash"),
    (("iptap_attribute", "iptap_attribute_in", "iptap_attribute_out"),
     "iptap: attribution"),
    (("iptap_fill_header", "iptap_fill_proc", "iptap_ipproto"),
     "iptap: PKTAP header"),
    (("ktime_get_real_ts64", "ktime_get_with_offset", "ktime_get_real"),
     "iptap: timestamp"),
    (("iptap_deliver", "tpacket_rcv", "packet_rcv", "consume_skb",
      "kfree_skb_reason", "sk_free", "__kfree_skb"),
     "iptap: delivery to the packet socket"),
]

KPROBE_FRAMES = {"kprobe_ftrace_handler", "iptap_socket_use",
                 "iptap_post_create", "iptap_graft", "iptap_sk_free",
                 "iptap_clone_entry", "iptap_clone_ret", "kprobe_int3_handler",
                 "optimized_callback", "opt_pre_handler", "kprobe_handler",
                 "arch_ftrace_ops_list_func", "ftrace_ops_list_func",
                 "ftrace_regs_caller", "ftrace_caller",
                 "ftrace_trampoline"}


def classify(comm, frames):
    """frames: outermost first."""
    if comm in ("ring", "tcpdump"):
        return "capture process (ring, tcpdump)"
    fs = set(frames)
    if fs & KPROBE_FRAMES or any(f.startswith("iptap_owner") or
                                 f.startswith("iptap_probe") for f in frames):
        return "iptap: socket kprobes (owner records)"
    if "iptap_hook" in fs:
        for f in reversed(frames):
            for names, bucket in IPTAP_MARKERS:
                if f in names:
                    return bucket
        return "iptap: rest of hook and record"
    if frames and frames[-1] == "nf_hook_slow":
        return "netfilter hook walk (nf_hook_slow itself)"
    if any(f.startswith("nft_") or f.startswith("nfulnl_") or
           f.startswith("nf_log") for f in frames):
        return "nftables rule + NFLOG"
    if "dev_queue_xmit_nit" in fs:
        return "tap on the real device (dev_queue_xmit_nit)"
    if comm == "blast":
        return "sender: syscalls, UDP/IP out, veth, IP/UDP in (softirq)"
    if comm == "sink":
        return "receiver: recvmmsg"
    return "other processes, kernel threads"


def parse_kv(line):
    return dict(m.groups() for m in re.finditer(r"(\w+)=(\S+)", line))


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


def load_profile(path):
    """Folded stacks: {(comm, frames tuple): samples}."""
    prof = collections.Counter()
    with open(path) as f:
        for line in f:
            count, _, chain = line.rstrip("\n").partition(" ")
            parts = chain.split(";")
            prof[parts[0], tuple(parts[1:])] += int(count)
    return prof


def fmt_int(x):
    return "{:,}".format(int(round(x)))


def rate_of(kv, tcp):
    return float(kv["mbps"]) if tcp else float(kv["pps"])


class Kernel:
    def __init__(self, outdir, rel):
        self.rel = rel
        self.dir = os.path.join(outdir, rel)
        self.runs, self.caps = load(self.dir)

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
            lines.append("| %s | %s | %s-%s (%d) | %.3f | %s | %s |" % (
                CONFIGS[c], fmt(m), fmt(min(r)), fmt(max(r)), len(r),
                self.ratio(set_, c),
                "" if c.startswith("baseline") else fmt_int(cost), extra))
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
        ti, tv = self.ratio("udp64", "tcpdump-iptap"), tdv
        if ti and tv:
            lines.append("| same tool on both devices: tcpdump -i iptap0 vs tcpdump -i va (udp64) | "
                         "%.3f vs %.3f (%+.1f points) | %s |" % (
                             ti, tv, (ti - tv) * 100,
                             "yes" if ti - tv >= -0.05 else "**no**"))
        lines.append("")
        return lines

    def profiles(self):
        profs = {}
        for c in CONFIGS:
            p = os.path.join(self.dir, "profile-udp64-%s.txt" % c)
            if os.path.exists(p):
                profs[c] = load_profile(p)
        if not profs:
            return []
        cfgs = list(profs)
        per_packet = {}
        selfs = {}
        for c in cfgs:
            total = sum(profs[c].values())
            pps = self.median("udp64", c)
            if not total or not pps:
                continue
            scale = 1e9 / pps / total     # instructions per packet per sample
            b = collections.Counter()
            s = collections.Counter()
            for (comm, frames), n in profs[c].items():
                b[classify(comm, list(frames))] += n * scale
                s[frames[-1] if frames else "?"] += n * scale
            per_packet[c] = b
            selfs[c] = s
        cfgs = [c for c in cfgs if c in per_packet]
        lines = ["#### Where the time goes (udp64, perf cpu-clock samples)", "",
                 "Guest instructions per packet, by where the sample fell: the "
                 "profile's shares times the configuration's median time per "
                 "packet (1e9 / packets per second of the unprofiled runs); "
                 "samples: %s." % ", ".join(
                     "%s %s" % (c, fmt_int(sum(profs[c].values()))) for c in cfgs),
                 "",
                 "| bucket | " + " | ".join(cfgs) + " |",
                 "|---|" + "---:|" * len(cfgs)]
        for bk in BUCKETS:
            vals = [per_packet[c].get(bk, 0) for c in cfgs]
            if max(vals) < 5:
                continue
            lines.append("| %s | %s |" % (bk, " | ".join(fmt_int(v) for v in vals)))
        lines.append("| **total** | %s |" % " | ".join(
            fmt_int(sum(per_packet[c].values())) for c in cfgs))
        lines.append("")
        for c in ("idle", "listener", "listener-in"):
            if c not in selfs or "baseline" not in selfs:
                continue
            diff = {f: selfs[c][f] - selfs["baseline"].get(f, 0)
                    for f in selfs[c]}
            top = sorted(diff.items(), key=lambda kv: -kv[1])[:12]
            lines += ["Functions with the most added instructions per packet, "
                      "%s over baseline (self time): %s." % (c, ", ".join(
                          "`%s` %s" % (f, fmt_int(v)) for f, v in top if v > 0)),
                      ""]
        return lines


def main():
    outdir, md, command = sys.argv[1:4]
    rels = sys.argv[4:]
    body = [BEGIN, "",
            "Made by `%s`." % command, ""]
    for rel in rels:
        k = Kernel(outdir, rel)
        if not k.runs:
            body += ["### %s" % rel, "", "No results (see build/bench/%s/)." % rel, ""]
            continue
        body += ["### %s" % rel, ""]
        body += k.table("udp64", "UDP, 64-byte datagrams")
        body += k.table("udp1400", "UDP, 1400-byte datagrams")
        body += k.table("tcp", "TCP stream, 64 KiB writes (GSO)")
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
