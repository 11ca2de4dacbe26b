#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Name the module addresses that perf script leaves [unknown].

perf maps a module's samples by the module's base and size from the
guest's /proc/modules.  On 7.x kernels that size counts every region of a
module (text, data, read-only data), placed apart, so one module's map
covers another's text and the samples there stay [unknown] (6.1's perf
reading 7.2's profiles: every function of iptap).  This filter names
them from the guest's kallsyms, by the module text symbol at or before
the address, up to the next text symbol.

Usage: perf script -F comm,time,ip,sym ... | ksyms.py KALLSYMS
"""

import bisect
import re
import sys

# A function past this from its symbol is not taken for it.
MAX_SIZE = 64 * 1024

SAMPLE = re.compile(r"^(\s+)([0-9a-f]+) \[unknown\]")


def module_text(path):
    """Sorted (address, name) of the text symbols of modules."""
    syms = []
    with open(path) as f:
        for line in f:
            words = line.split()
            if len(words) >= 4 and words[1] in ("t", "T") and \
                    words[3].startswith("["):
                syms.append((int(words[0], 16), words[2]))
    syms.sort()
    return syms


def main():
    syms = module_text(sys.argv[1])
    starts = [a for a, _ in syms]
    for line in sys.stdin:
        m = SAMPLE.match(line)
        if m:
            ip = int(m.group(2), 16)
            i = bisect.bisect_right(starts, ip) - 1
            end = starts[i] + MAX_SIZE if i >= 0 else 0
            if i + 1 < len(starts):
                end = min(end, starts[i + 1])
            if ip < end:
                line = "%s%s %s%s" % (m.group(1), m.group(2), syms[i][1],
                                      line[m.end():])
        sys.stdout.write(line)


if __name__ == "__main__":
    main()
