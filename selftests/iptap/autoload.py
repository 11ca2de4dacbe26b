#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# kernels: 6.1.* 7.*
# (the oldest and newest kernels: its code runs in process context, or
# takes the packet path's locks as attribution.py does, which runs on
# every kernel; the version-dependent code (kmod/compat.h) it reaches
# is the same on 6.12 as on one of these or on the debug kernels.)
"""Module autoloading is off: only an administrator loads iptap.

With an rtnl alias, "ip link add ... type iptap" run by anyone with
CAP_NET_ADMIN in some user namespace (that is, any user, via unshare -Urn)
would make the kernel load the module.  iptap has no such alias: the
module is installed where modprobe finds it, and neither an unprivileged
user in a user+network namespace nor root can load it by creating a
device; "modprobe iptap" can, and then the user's namespace may use it.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from iptaplib import KO, Tap, sh, unload_module

t = Tap()
NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups"
rel = os.uname().release
mods = "/lib/modules/%s" % rel

# Install iptap in a module tree of the kernel's that holds only what
# iptap needs (the modules it depends on, the built-in list), mounted in
# place of the kernel's (shared, read-only): depmod over the kernel's
# 4,000 modules would take a minute of the emulated CPU, and the kernel's
# request_module() looks up "rtnl-link-iptap" through the same files.
unload_module()
need = sh("modprobe --show-depends -a nf_socket_ipv4 nf_socket_ipv6").stdout
tree = "/run/ov/lib/modules/%s" % rel
sh("mkdir -p /run/ov && mount -t tmpfs tmpfs /run/ov && "
   "mkdir -p %s/extra" % tree)
for line in need.splitlines():
    words = line.split()
    if words and words[0] == "insmod":
        sh("cp --parents %s /run/ov" % words[1])
sh("cp %s/modules.builtin* %s/modules.order %s/ && cp %s %s/extra/ && "
   "depmod -b /run/ov %s && mount --bind %s %s" %
   (mods, mods, tree, KO, tree, rel, tree, mods))
t.ok("iptap" in sh("modprobe -n -v iptap").stdout,
     "modprobe finds the installed module")
t.eq(sh("modinfo -F alias iptap").stdout.strip(), "",
     "the module has no alias at all")

sh("sysctl -qw kernel.unprivileged_userns_clone=1", check=False)
r = sh("%s unshare -Urn ip link add iptap0 type iptap" % NOBODY, check=False)
t.ok(r.returncode != 0 and not os.path.exists("/sys/module/iptap"),
     "an unprivileged user namespace cannot load iptap", r.stderr)
r = sh("ip netns add al && ip -n al link add iptap0 type iptap",
       check=False)
t.ok(r.returncode != 0 and not os.path.exists("/sys/module/iptap"),
     "creating a device does not load it, even for root", r.stderr)

sh("modprobe iptap")
t.ok(os.path.exists("/sys/module/iptap"), "modprobe iptap loads it, with "
     "its dependencies")
r = sh("%s unshare -Urn ip link add iptap0 type iptap" % NOBODY, check=False)
t.ok(r.returncode == 0, "loaded by the administrator, it serves an "
     "unprivileged user namespace", r.stderr)
unload_module()
sh("umount %s && umount /run/ov" % mods)
t.done()
