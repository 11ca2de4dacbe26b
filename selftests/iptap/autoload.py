#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
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

# Make the (read-only, shared) module tree writable and install iptap.
unload_module()
sh("mkdir -p /run/ov && mount -t tmpfs tmpfs /run/ov && "
   "mkdir -p /run/ov/u /run/ov/w && mount -t overlay overlay -o "
   "lowerdir=%s,upperdir=/run/ov/u,workdir=/run/ov/w %s" % (mods, mods))
sh("mkdir -p %s/extra && cp %s %s/extra/ && depmod -a" % (mods, KO, mods))
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
