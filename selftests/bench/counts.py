#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""counts.py [--parts] DIR SET CFG [CFG...]: the guest instructions each
function ran per packet in the floods that BENCH_COUNTS counted
(insncount.c), for each configuration CFG of SET in DIR
(build/bench/<release>/), and how each differs from the first CFG's.
Exact counts, not samples: a difference of one instruction per packet
is one.  With --parts, each other CFG's cost over the first, summed by
the part of a capture each function belongs to (PARTS).

    selftests/bench/counts.py build/bench/6.1.0-57-amd64 udp64 ring-veth listener-in
    selftests/bench/counts.py --parts build/bench/7.2.13+deb14-amd64 udp1400 \\
        baseline ring-veth listener listener-in
"""

import bisect
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

KERNEL_START = 0xffff800000000000

# The parts of a capture, by function name (the first that matches), as
# BENCHMARKS.md apportions a record against the tap on a real device: a
# function of the module that no part before names is the record's making.
PARTS = [
    ("copies", r"memcpy|memcpy_orig"),
    ("the veth's clone", r"dev_queue_xmit_nit|skb_clone|__skb_clone|"
     r"__copy_skb_header|kmem_cache_alloc.*|kmem_cache_free|"
     r"skb_release_data|skb_release_head_state|kfree_skbmem|"
     r"ktime_get_real_ts64|memset|memset_orig|skb_push|eth_header_parse"),
    ("the ring", r"tpacket_rcv|prb_.*|tpacket_get_timestamp|"
     r"__packet_rcv_has_room|skb_copy_bits|_raw_spin_lock|"
     r"_raw_spin_unlock|_raw_read_lock|_raw_read_unlock|"
     r"__x86_indirect_thunk_rax|sk_skb_reason_drop|consume_skb|read_tsc"),
    ("netfilter", r"nf_hook_slow|__ip_local_out|ip_rcv|__dev_queue_xmit"),
    ("finding the process", r"iptap_owner_of_sock|iptap_full_sock|"
     r"iptap_attribute|iptap_flow_find|iptap_flow_probes_missed"),
    ("the receive hook", r"call_trace_sock_recv_length|iptap_recv_traced|"
     r"iptap_owner_reused|iptap_owner_probe_sock|iptap_probe_use|"
     r"iptap_owner_note|iptap_recvmsg_.*"),
    ("`__rcu_read_lock` and `__rcu_read_unlock`",
     r"__rcu_read_lock|__rcu_read_unlock"),
    ("the record's making", r"iptap_.*|ktime_get_with_offset|"
     r"ns_to_timespec64|pid_nr_ns"),
]


def part_of(name):
    for part, names in PARTS:
        if re.fullmatch(names, name):
            return part
    return "every other function"


def symbols(*paths):
    """Sorted (address, name) of the text symbols in kallsyms files."""
    syms = []
    for path in paths:
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[1] in "tTwW":
                    syms.append((int(parts[0], 16), parts[2]))
    syms.sort()
    return syms


def packets_in(d, set_, cfg):
    """Packets the sink received between the two marks."""
    with open(os.path.join(d, "marks-%s-%s.txt" % (set_, cfg))) as f:
        t = {w[1]: float(w[2]) for w in (line.split() for line in f)
             if len(w) == 3 and w[0] == "mark"}
    ticks = report.read_ticks(os.path.join(d, "ticks-count-%s-%s.txt" %
                                           (set_, cfg)))
    a, b = (report.packets_at(ticks, t[m]) for m in ("start", "stop"))
    if a is None or b is None:
        sys.exit("counts.py: %s %s: a mark outside the sink's ticks" %
                 (set_, cfg))
    return b - a


def per_function(d, set_, cfg):
    """{function: instructions per packet}, and the packets."""
    syms = symbols(os.path.join(d, "kallsyms"),
                   os.path.join(d, "kallsyms-%s-%s" % (set_, cfg)))
    addrs = [a for a, _ in syms]
    counts = {}
    with open(os.path.join(d, "insn-%s-%s.txt" % (set_, cfg))) as f:
        for line in f:
            addr, n = line.split()
            addr = int(addr, 16)
            if addr < KERNEL_START:
                name = "[user]"
            else:
                i = bisect.bisect_right(addrs, addr) - 1
                name = syms[i][1] if i >= 0 else "[unknown]"
            counts[name] = counts.get(name, 0) + int(n)
    packets = packets_in(d, set_, cfg)
    return {k: v / packets for k, v in counts.items()}, packets


def print_parts(cfgs, cols):
    """Each CFG's cost over the first's, by part."""
    first = cols[0]
    sums = [{} for _ in cols[1:]]
    for k in set().union(*cols):
        part = part_of(k)
        for s, c in zip(sums, cols[1:]):
            s[part] = s.get(part, 0) + c.get(k, 0) - first.get(k, 0)
    print("| part | " + " | ".join(cfgs[1:]) + " |")
    print("|---|" + "---:|" * (len(cfgs) - 1))
    for part in [p for p, _ in PARTS] + ["every other function"]:
        print("| %s | " % part + " | ".join(
            "%.0f" % s.get(part, 0) for s in sums) + " |")
    print("| **counted, over %s** | " % cfgs[0] + " | ".join(
        "**%.0f**" % sum(s.values()) for s in sums) + " |")


def main(argv):
    parts = len(argv) > 1 and argv[1] == "--parts"
    if parts:
        argv = argv[:1] + argv[2:]
    if len(argv) < 4 or (parts and len(argv) < 5):
        sys.exit(__doc__)
    d, set_, cfgs = argv[1], argv[2], argv[3:]
    cols = []
    for cfg in cfgs:
        cost, packets = per_function(d, set_, cfg)
        cols.append(cost)
        print("%s: %s packets counted, %s instructions a packet" %
              (cfg, report.fmt_int(packets),
               report.fmt_int(sum(cost.values()))))
    if parts:
        print()
        print_parts(cfgs, cols)
        return
    names = set().union(*cols)
    first = cols[0]

    def change(k):
        return max(abs(c.get(k, 0) - first.get(k, 0)) for c in cols)
    print()
    print("| function | " + " | ".join(cfgs) + " |")
    print("|---|" + "---:|" * len(cfgs))
    for k in sorted(names, key=lambda k: (-change(k), k)):
        if change(k) < 1 and len(cols) > 1:
            break
        print("| `%s` | " % k + " | ".join(
            "%.0f" % c.get(k, 0) for c in cols) + " |")


if __name__ == "__main__":
    main(sys.argv)
