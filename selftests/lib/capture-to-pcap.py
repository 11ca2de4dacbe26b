#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""capture-to-pcap.py DEV FILE SECONDS: write what a packet socket on an
iptap device receives for SECONDS seconds to FILE as LINKTYPE_PKTAP pcap
(a stand-in until the project's own capture tool exists)."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from iptaplib import Capture, write_pcap

dev, path, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
raws = []
with Capture(dev) as cap:
    open(path + ".ready", "w").close()
    end = time.time() + secs
    while time.time() < end:
        raws += [r["raw"] for _, r in cap.read(0.2)]
write_pcap(path, raws)
