#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""counts.py DIR SET CFG [CFG...]: the guest instructions each function
ran per packet in the floods that BENCH_COUNTS counted (insncount.c),
for each configuration CFG of SET in DIR (build/bench/<release>/), and
how each differs from the first CFG's.  Exact counts, not samples: a
difference of one instruction per packet is one.

    selftests/bench/counts.py build/bench/6.1.0-57-amd64 udp64 ring-veth listener-in
"""

import bisect
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

KERNEL_START = 0xffff800000000000


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


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    d, set_, cfgs = argv[1], argv[2], argv[3:]
    cols = []
    for cfg in cfgs:
        cost, packets = per_function(d, set_, cfg)
        cols.append(cost)
        print("%s: %s packets counted, %s instructions a packet" %
              (cfg, report.fmt_int(packets),
               report.fmt_int(sum(cost.values()))))
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
