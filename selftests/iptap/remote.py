#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.12.*+deb12-amd64
# (sshdump and the tools over SSH: userspace only, so one kernel is enough.)
"""Capture on a server, look on a workstation: Wireshark's sshdump.

Topology: namespaces srv (va1 10.0.0.1, iptap0, an OpenSSH server) and
ws (vb1 10.0.0.2, the workstation).  On srv, a user "capture" who is
not root logs in with a key; the only privilege the capture needs is
CAP_NET_RAW, given to copies of iptapdump and of the patched tcpdump as
file capabilities, as Debian gives it to Wireshark's dumpcap.  On ws,
Debian's sshdump (the extcap behind Wireshark's "SSH remote capture"
interface) runs the remote command and writes what it streams into a
file, which tshark reads: `iptapdump -P -w -` gives pcapng whose process
blocks name ping, `tcpdump -U -i iptap0 -y PKTAP -w -` PKTAP records
whose pktap.cmdname is ping.  Without the capability the same user's
capture is refused.

sshd is OpenSSH's, extracted into build/ssh/ by make deps (installing
openssh-server would start an SSH server on the host).
"""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import (ROOT, SID_ROOT, Tap, bg, iptap_add, load_module, sh,
                      sid_tshark, stop, veth_pair)

t = Tap()
SSHD = os.path.join(ROOT, "build", "ssh", "root", "usr", "sbin", "sshd")
SSHDUMP = "/usr/lib/x86_64-linux-gnu/wireshark/extcap/sshdump"
IPTAPDUMP = os.path.join(ROOT, "tools", "iptapdump", "iptapdump")
TCPDUMP = os.path.join(ROOT, "build", "pcap", "tcpdump", "tcpdump")
for need in (SSHD, SSHDUMP, IPTAPDUMP, TCPDUMP):
    if not os.access(need, os.X_OK):
        t.skip_all("%s is missing (make deps tools)" % need)

RUN = "/run/iptap-remote"
HOME = RUN + "/home"
BIN = RUN + "/bin"
shutil.rmtree(RUN, ignore_errors=True)
os.makedirs(HOME + "/.ssh")
os.makedirs(BIN)

load_module()
veth_pair("srv", "ws")
iptap_add("iptap0", ns="srv")

# The server's side, on this guest's throwaway root (a tmpfs overlay):
# the capture user, sshd's privilege separation user and folder, keys.
sh("getent passwd sshd >/dev/null || useradd -r -d /run/sshd -s /usr/sbin/nologin sshd")
sh("mkdir -p /run/sshd && chmod 755 /run/sshd")
# No password, and not a locked account ("*", not useradd's "!"): sshd
# without PAM refuses locked accounts even a key.
sh("getent passwd capture >/dev/null || useradd -M -d %s -s /bin/sh -p '*' "
   "capture" % HOME)
sh("ssh-keygen -q -t ed25519 -N '' -f %s/host_key" % RUN)
sh("ssh-keygen -q -t ed25519 -N '' -f %s/ws_key" % RUN)
shutil.copy(RUN + "/ws_key.pub", HOME + "/.ssh/authorized_keys")
sh("chown -R capture: %s && chmod 700 %s/.ssh" % (HOME, HOME))
for tool in (IPTAPDUMP, TCPDUMP):
    shutil.copy(tool, BIN)
os.makedirs(RUN + "/nocap")
shutil.copy(IPTAPDUMP, RUN + "/nocap")
os.chmod(RUN, 0o755)
for tool in ("iptapdump", "tcpdump"):
    sh("setcap cap_net_raw=ep %s/%s" % (BIN, tool))
with open(RUN + "/sshd_config", "w") as f:
    f.write("ListenAddress 10.0.0.1\n"
            "HostKey %s/host_key\n"
            "PidFile none\n"
            "UsePAM no\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin no\n"
            "AllowUsers capture\n" % RUN)
# Its log (a few lines a connection) is read if it does not come up.
sshd = bg("%s -D -e -f %s/sshd_config" % (SSHD, RUN), ns="srv", output=True)
up = False
for _ in range(100):
    if sh("ss -Hltn 'sport = 22'", ns="srv").stdout.strip():
        up = True
        break
    time.sleep(0.2)
if not t.ok(up, "sshd listens on 10.0.0.1:22 in srv"):
    stop(sshd)
    t.diag(sshd.stderr.read())
    t.done()


def sshdump(name, command):
    """sshdump in ws, running command on srv as capture, while srv pings
    ws; the file it wrote."""
    out = "%s/%s" % (RUN, name)
    ping = bg("sleep 3; ping -c 8 -i 0.3 10.0.0.2", ns="srv")
    r = sh("timeout 60 %s --extcap-interface=sshdump --capture --fifo=%s "
           "--remote-host=10.0.0.1 --remote-port=22 --remote-username=capture "
           "--sshkey=%s/ws_key --remote-capture-command=%s"
           % (SSHDUMP, out, RUN, "'" + command + "'"), ns="ws", check=False)
    stop(ping)
    t.diag("sshdump %s: exit %d %s" % (name, r.returncode,
                                      r.stderr.strip()[-300:]))
    return out


# iptapdump -P: pcapng with the process blocks.
f = sshdump("iptapdump.pcapng", BIN + "/iptapdump -P -w - -c 6 icmp")
r = sh("tshark -r %s -T fields -e frame.interface_name -e icmp.type" % f,
       check=False)
lines = r.stdout.split("\n")[:6]
t.ok(r.returncode == 0 and len(r.stdout.splitlines()) == 6 and
     all(line.startswith("va1\t") for line in lines),
     "sshdump with iptapdump -P -w -: 6 ICMP packets on va1 that tshark reads",
     r.stdout + r.stderr[-300:])
r = sh("tshark -r %s -X 'read_format:MIME Files Format' -T fields "
       "-e pcapng.darwin.process_name" % f, check=False)
t.ok("ping" in r.stdout.strip().split(","),
     "its process blocks name ping", r.stdout + r.stderr[-300:])
# Wireshark 4.6 puts each packet's process in its own fields and filters
# on them.
r = sid_tshark(f, "-Y 'frame.darwin.process_info.pname == \"ping\"' "
               "-T fields -e frame.darwin.process_info.pid")
if r is None:
    t.diag("no sid tshark in %s: no check with Wireshark 4.6" % SID_ROOT)
else:
    pids = r.stdout.split()
    t.ok(r.returncode == 0 and len(pids) == 6 and len(set(pids)) == 1,
         "Wireshark 4.6 filters the 6 packets by their process, ping",
         r.stdout + r.stderr[-300:])

# The patched tcpdump: PKTAP records.
f = sshdump("tcpdump.pcap",
            BIN + "/tcpdump -U -i iptap0 -y PKTAP -w - -c 6 icmp")
r = sh("tshark -r %s -T fields -e pktap.ifname -e pktap.cmdname" % f,
       check=False)
got = r.stdout.splitlines()
t.ok(r.returncode == 0 and len(got) == 6 and "va1\tping" in got,
     "sshdump with tcpdump -U -i iptap0 -y PKTAP -w -: 6 records, "
     "pktap.cmdname ping", r.stdout + r.stderr[-300:])

# Without CAP_NET_RAW the same user captures nothing.
r = sh("ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
       "-o BatchMode=yes -i %s/ws_key capture@10.0.0.1 "
       "%s/nocap/iptapdump -c 1" % (RUN, RUN), ns="ws", check=False)
t.ok(r.returncode != 0 and "CAP_NET_RAW" in r.stderr,
     "without CAP_NET_RAW the remote user's capture is refused",
     r.stderr[-300:])

stop(sshd)
if t.failed:
    t.diag("sshd said: " + sshd.stderr.read()[-1500:])
shutil.rmtree(RUN, ignore_errors=True)
t.done()
