#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.*
# (Debian 12's default kernel: the packages hold no code of a kernel's.)
"""iptap installs as Debian packages, and it all goes away.

make deb builds iptap-dkms (the module's source, for DKMS) and
iptap-tools (iptapdump, and tcpdump with iptap's patches in place of
Debian's through a dpkg diversion).  On the guest's writable root (the
host's, under a tmpfs overlay): dpkg -i installs both, and DKMS
registers the module; the installed tcpdump and iptapdump name the
processes of a capture, ip finds the package's plugin, and the manual
pages are found.  Then dpkg --purge leaves no file of either package, no
DKMS state and no diversion, and /usr/bin/tcpdump is Debian's again,
byte for byte.

The guest has no kernel headers where Debian has them, as a machine
without linux-headers: DKMS registers the module and builds nothing, and
the module make matrix built (from the same sources, with the same
Kbuild) is loaded instead.  DKMS's build, signature and installation of
the package's module are checked natively by packaging/check.sh, with
Debian 12's dkms and the headers of 6.1: in the guest one such build
took 9 to 15 minutes of an emulated CPU.
"""

import glob
import hashlib
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import Tap, bg, load_module, sh, stop, veth_pair, wait_for

t = Tap()
ROOT = os.environ.get("IPTAP_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
DEBS = sorted(glob.glob(os.path.join(ROOT, "build", "deb", "iptap-dkms_*.deb")) +
              glob.glob(os.path.join(ROOT, "build", "deb", "iptap-tools_*.deb")))

if len(DEBS) != 2:
    t.skip_all("the packages are not built (make deb)")

FILES = ["/usr/bin/tcpdump", "/usr/share/man/man8/tcpdump.8.gz"]


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def package_files(pkg):
    """The files dpkg lists for an installed package (not folders)."""
    out = sh("dpkg -L %s" % pkg).stdout.split()
    return [p for p in out if os.path.isfile(p) or os.path.islink(p)]


def diversions():
    return [line for line in sh("dpkg-divert --list").stdout.splitlines()
            if "iptap" in line]


# man-db's dpkg trigger would build the whole index of manual pages
# (this root has none yet) after each dpkg -i and --purge: minutes of an
# emulated CPU.  "man -w" below needs no index; the overlay keeps this
# from the host.
if os.path.exists("/var/lib/man-db/auto-update"):
    os.unlink("/var/lib/man-db/auto-update")

# /lib/modules (the kernel's, shared read-only) writable for DKMS, under
# an overlay.
os.makedirs("/run/iptap-mods/upper", exist_ok=True)
os.makedirs("/run/iptap-mods/work", exist_ok=True)
sh("mount -t overlay -o lowerdir=/lib/modules,upperdir=/run/iptap-mods/upper,"
   "workdir=/run/iptap-mods/work overlay /lib/modules")
if os.path.isdir("/sys/module/iptap"):
    sh("rmmod iptap")



def done():
    sh("umount /lib/modules", check=False)
    t.done()


before = {f: digest(f) for f in FILES}

start = time.monotonic()
r = sh("dpkg -i %s" % " ".join(DEBS), check=False)
t.ok(r.returncode == 0, "dpkg -i iptap-dkms iptap-tools",
     (r.stdout + r.stderr)[-2000:])
t.diag("dpkg -i: %.0f s" % (time.monotonic() - start))
status = sh("dkms status iptap", check=False).stdout
t.ok(re.fullmatch(r"iptap/[\d.]+: added", status.strip()),
     "without headers DKMS registers the module and builds nothing", status)
load_module()
mods = sh("lsmod").stdout
t.ok(all(re.search(r"^%s\s" % m, mods, re.M) for m in
         ("iptap", "nf_socket_ipv4", "nf_socket_ipv6")),
     "iptap loaded with nf_socket_ipv4 and nf_socket_ipv6")

t.eq(sh("command -v tcpdump").stdout.strip(), "/usr/bin/tcpdump",
     "tcpdump from PATH is /usr/bin/tcpdump")
t.ok(before["/usr/bin/tcpdump"] != digest("/usr/bin/tcpdump"),
     "/usr/bin/tcpdump is iptap's")
t.ok(os.path.isfile("/usr/bin/tcpdump.distrib"),
     "Debian's tcpdump diverted to /usr/bin/tcpdump.distrib")
t.ok(len(diversions()) == 2, "two diversions held by iptap-tools",
     diversions())

# A capture with the installed tools, of processes with known names.
veth_pair("a", "b")
sh("ip -n a link add iptap0 type iptap")
tcpd = bg("timeout 20 tcpdump -i iptap0 -y PKTAP -k -n -l -c 8 icmp", ns="a",
          output=True)
dump = bg("timeout 20 iptapdump -c 8 icmp", ns="a", output=True)
time.sleep(2)
sh("ping -c 4 -i 0.2 10.0.0.2", ns="a")
out_tcpdump = tcpd.communicate()[0]
out_dump = dump.communicate()[0]
t.ok(len(re.findall(r"proc ping:\d+", out_tcpdump)) >= 4,
     "the installed tcpdump -k names ping", out_tcpdump[-1500:])
t.ok(len(re.findall(r"\bping\b", out_dump)) >= 4,
     "the installed iptapdump names ping", out_dump[-1500:])
stop(tcpd)
stop(dump)

# Debian's own ip finds the package's plugin in its library directory.
r = sh("ip -n a link add web0 type iptap mode raw && "
       "ip -n a -d link show web0", check=False)
t.ok(r.returncode == 0 and "iptap mode raw" in r.stdout,
     "the installed ip: link add ... type iptap mode raw, and -d shows it",
     r.stdout + r.stderr)

pages = sh("man -w iptap iptapdump tcpdump", check=False)
want = ["/usr/share/man/man4/iptap.4.gz",
        "/usr/share/man/man8/iptapdump.8.gz",
        "/usr/share/man/man8/tcpdump.8.gz"]
t.ok(pages.stdout.split() == want,
     "man -w iptap iptapdump tcpdump: the packages' pages",
     "got %r, want %r %s" % (pages.stdout.split(), want, pages.stderr))
page = sh("man -P cat tcpdump 2>/dev/null | tr -d '\\b' | grep -c PKTAP",
          check=False).stdout.strip()
t.ok(page.isdigit() and int(page) > 0,
     "tcpdump's page is the patched one (PKTAP, -k, -Q)")

installed = package_files("iptap-dkms") + package_files("iptap-tools")
built = glob.glob("/lib/modules/*/updates/dkms/iptap.ko*")
sh("ip netns del a; ip netns del b")
wait_for(lambda: sh("rmmod iptap", check=False).returncode == 0, 10)
r = sh("dpkg --purge iptap-tools iptap-dkms", check=False)
t.ok(r.returncode == 0, "dpkg --purge iptap-tools iptap-dkms",
     (r.stdout + r.stderr)[-2000:])
left = [f for f in installed + built if os.path.lexists(f)
        and f not in FILES]
t.eq(left, [], "no file of the packages is left (%d were installed)" %
     len(installed))
t.ok(not os.path.exists("/var/lib/dkms/iptap"), "no DKMS state left")
t.eq(glob.glob("/usr/src/iptap-*"), [], "no source left in /usr/src")
t.eq(diversions(), [], "no diversion left")
t.eq({f: digest(f) for f in FILES}, before,
     "/usr/bin/tcpdump and its manual page are Debian's again, byte for byte")
t.ok(not os.path.exists("/usr/bin/tcpdump.distrib"), "no tcpdump.distrib")


done()
