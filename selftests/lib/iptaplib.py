# SPDX-License-Identifier: GPL-2.0
"""Helpers for the iptap selftests, which run as root inside the test VM.

TAP output, shell commands, network namespaces, the module, and a capture
of an iptap device through an AF_PACKET socket whose records are decoded
here from their bytes, by Apple's PKTAP v1 offsets: deliberately not from
the project's uapi header, so that a mistake there shows.
"""

import contextlib
import ctypes
import errno
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

ROOT = os.environ.get("IPTAP_ROOT", os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..")))
RELEASE = os.environ.get("IPTAP_RELEASE", os.uname().release)
KO = os.path.join(ROOT, "build", RELEASE, "kmod", "iptap.ko")

ETH_P_ALL = 0x0003
SO_RCVBUFFORCE = 33
PACKET_HOST = 0
PACKET_OUTGOING = 4
CLONE_NEWNET = 0x40000000
PKTAP_LEN = 156        # Apple's fields
EXT_LEN = 16           # iptap's extension after them
HDR_LEN = PKTAP_LEN + EXT_LEN   # a record's pth_length
REC_HLEN = HDR_LEN + 4          # then the AF word, then the packet
EXT_MAGIC = 0x31747069
DIR_IN = 0x1
DIR_OUT = 0x2
AF_DARWIN_INET = 2
AF_DARWIN_INET6 = 30

_libc = ctypes.CDLL(None, use_errno=True)


class Tap:
    """Test Anything Protocol output; exit code 0 pass, 1 fail, 4 skip."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        print("TAP version 13", flush=True)
        sys.excepthook = self._unexpected

    def _unexpected(self, kind, value, tb):
        """An exception no step caught: a failure the log names, not just
        an exit code."""
        self.ok(False, "no unexpected error: %s: %s" % (kind.__name__, value),
                "".join(traceback.format_exception(kind, value, tb)))
        print("Bail out! the test could not go on", flush=True)
        sys.exit(1)

    def ok(self, cond, name, diag=None):
        self.n += 1
        print(("ok %d %s" if cond else "not ok %d %s") % (self.n, name),
              flush=True)
        if not cond:
            self.failed += 1
            if diag is not None:
                for line in str(diag).splitlines():
                    print("#   " + line, flush=True)
        return cond

    def skip(self, name, why):
        self.n += 1
        print("ok %d %s # SKIP %s" % (self.n, name, why), flush=True)

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got %r, want %r" % (got, want))

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line, flush=True)

    def skip_all(self, why):
        print("1..0 # SKIP %s" % why, flush=True)
        sys.exit(4)

    def done(self):
        if Capture.invalid is not None:
            self.ok(not Capture.invalid, "every frame captured on an iptap "
                    "device was a PKTAP record",
                    [(dev, raw[:64].hex()) for dev, raw in Capture.invalid])
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed or not self.n else 0)


def sh(cmd, check=True, ns=None, **kw):
    """Run a shell command, in network namespace ns if given."""
    if ns:
        cmd = "ip netns exec %s sh -c %s" % (ns, _quote(cmd))
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True, **kw)
    if check and r.returncode:
        said = (r.stderr.strip() or r.stdout.strip()).splitlines()[-5:]
        raise RuntimeError("%s: exit %d: %s" % (cmd, r.returncode,
                                                 "\n".join(said)))
    return r


def bg(cmd, ns=None, output=False):
    """Start a shell command in the background, in a process group of its
    own so that stop() ends all of it.  Its output goes to /dev/null
    unless @output (then read it, with communicate()): a pipe nobody
    reads fills after 64 KiB and stops the command at its next write
    (a ping flood on a slow kernel, after a minute: probes.py once saw
    no packet for that reason)."""
    if ns:
        cmd = "ip netns exec %s sh -c %s" % (ns, _quote(cmd))
    out = subprocess.PIPE if output else subprocess.DEVNULL
    return subprocess.Popen(cmd, shell=True, stdout=out, stderr=out,
                            text=True, start_new_session=True)


def stop(proc):
    """End a background command and everything it started."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def load_module():
    sh("modprobe -a nf_socket_ipv4 nf_socket_ipv6", check=False)
    if not os.path.isdir("/sys/module/iptap"):
        sh("insmod %s" % KO)


def unload_module():
    sh("rmmod iptap", check=False)


MODULE_LOG = "/sys/module/iptap/parameters/log"


def module_log(value):
    """Set the module's log parameter ("1": log device and hook events);
    return the value it had."""
    with open(MODULE_LOG) as f:
        old = f.read().strip()
    with open(MODULE_LOG, "w") as f:
        f.write(value)
    return old


def kernel_mark(text):
    """Write @text into the kernel's log, to read what came before or
    after it there (dmesg) whenever the test gets to it."""
    with open("/dev/kmsg", "w") as f:
        f.write(text + "\n")


TRACING = "/sys/kernel/tracing"


def tracefs(path, text):
    """Write @text to a tracefs file, mounting tracefs first if needed.
    Such files cannot seek, which Python's append mode does: O_APPEND."""
    if not os.path.isdir(TRACING + "/events"):
        sh("mount -t tracefs tracefs " + TRACING)
    fd = os.open(os.path.join(TRACING, path), os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


@contextlib.contextmanager
def netns(name):
    """Enter network namespace name (from ip netns) for this thread."""
    old = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    new = os.open("/run/netns/%s" % name, os.O_RDONLY) if name else None
    try:
        if new is not None and _libc.setns(new, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns")
        yield
    finally:
        if _libc.setns(old, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(old)
        if new is not None:
            os.close(new)


def netns_add(*names):
    """Network namespaces, with their loopback up."""
    for ns in names:
        sh("ip netns add %s" % ns)
        sh("ip -n %s link set lo up" % ns)


def veth_link(ns_a, dev_a, ns_b, dev_b, v4, v6, mtu=1500):
    """A veth between two existing namespaces, addresses v4 and v6 (pairs
    of addresses, a's first) in a /24 and a /64."""
    sh("ip link add %s netns %s mtu %d type veth peer name %s netns %s mtu %d"
       % (dev_a, ns_a, mtu, dev_b, ns_b, mtu))
    for ns, dev, a4, a6 in ((ns_a, dev_a, v4[0], v6[0]),
                            (ns_b, dev_b, v4[1], v6[1])):
        sh("ip -n %s addr add %s/24 dev %s" % (ns, a4, dev))
        sh("ip -n %s addr add %s/64 dev %s nodad" % (ns, a6, dev))
        sh("ip -n %s link set %s up" % (ns, dev))


def veth_pair(ns_a, ns_b, dev_a="va1", dev_b="vb1", v4=("10.0.0.1",
              "10.0.0.2"), v6=("fd00::1", "fd00::2"), mtu=1500):
    """Two new namespaces joined by a veth."""
    netns_add(ns_a, ns_b)
    veth_link(ns_a, dev_a, ns_b, dev_b, v4, v6, mtu)


WORKLOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "workload.py")


def workload(ns, *args):
    """Start a role of workload.py in namespace ns, in a process group of
    its own; return (process, the pids it reports)."""
    p = subprocess.Popen(["ip", "netns", "exec", ns, "python3", WORKLOAD] +
                         [str(a) for a in args], stdout=subprocess.PIPE,
                         text=True, start_new_session=True)
    words = p.stdout.readline().split()
    if not words or words[0] != "READY":
        raise RuntimeError("%s did not start" % (args,))
    return p, [int(w) for w in words[1:]]


def wait_for(cond, seconds):
    """Poll cond() until it holds or seconds pass; its last value."""
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def owner_sysctl(name, ns=None):
    """A net.iptap owner-record value of namespace ns."""
    return int(sh("cat /proc/sys/net/iptap/%s" % name, ns=ns).stdout)


def iptap_add(name="iptap0", ns=None):
    """Create an iptap device, then wait for the scan that finds the
    owners of the namespace's older sockets (it runs in a worker)."""
    sh("ip %s link add %s type iptap" % ("-n " + ns if ns else "", name))
    if not wait_for(lambda: owner_sysctl("owner_scan_pending", ns) == 0, 60):
        raise RuntimeError("the owner scan of %s did not end" % (ns or "/"))


def sysfs(dev, attr, ns=None):
    """Read a device's sysfs attribute.  sysfs shows the devices of the
    namespace it was mounted in, and ip netns exec mounts its own."""
    cmd = "cat /sys/class/net/%s/%s" % (dev, attr)
    if ns:
        cmd = "ip netns exec %s %s" % (ns, cmd)
    return sh(cmd).stdout.strip()


def inet_csum(data):
    """The Internet checksum of data (RFC 1071), as IPv4 and ICMP carry it."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def parse_record(data):
    """Decode a PKTAP v1 record (header, iptap's extension if pth_length
    covers it, DLT_NULL AF word, packet)."""
    if len(data) < PKTAP_LEN + 4:
        return None
    hdrlen = struct.unpack_from("<I", data)[0]
    if not PKTAP_LEN <= hdrlen <= len(data) - 4:
        return None
    u32 = lambda off: struct.unpack_from("<I", data, off)[0]
    s32 = lambda off: struct.unpack_from("<i", data, off)[0]
    u16 = lambda off: struct.unpack_from("<H", data, off)[0]
    cstr = lambda off, n: data[off:off + n]
    return {
        "length": u32(0), "type_next": u32(4), "dlt": u32(8),
        "ifname_raw": cstr(12, 24),
        "ifname": cstr(12, 24).split(b"\0")[0].decode(),
        "flags": u32(36), "family": u32(40), "pre": u32(44), "post": u32(48),
        "pid": s32(52), "comm_raw": cstr(56, 17),
        "comm": cstr(56, 17).split(b"\0")[0].decode(errors="replace"),
        "pad1": cstr(73, 3), "svc": u32(76), "iftype": u16(80),
        "ifunit": u16(82), "epid": s32(84), "ecomm_raw": cstr(88, 17),
        "ecomm": cstr(88, 17).split(b"\0")[0].decode(errors="replace"),
        "pad2": cstr(105, 3), "flowid": u32(108), "ipproto": u32(112),
        "sec": u32(116), "usec": u32(120), "uuid": cstr(124, 16),
        "euuid": cstr(140, 16),
        "x_magic": u32(156) if hdrlen >= HDR_LEN else None,
        "cgroup_id": struct.unpack_from("<Q", data, 160)[0]
        if hdrlen >= HDR_LEN else None,
        "uid": s32(168) if hdrlen >= HDR_LEN else None,
        "af": u32(hdrlen), "packet": data[hdrlen + 4:],
        "raw": data,
    }


def ip_summary(rec):
    """(src, dst, proto, total length) of the record's IP packet."""
    p = rec["packet"]
    if rec["af"] == AF_DARWIN_INET:
        return (socket.inet_ntop(socket.AF_INET, p[12:16]),
                socket.inet_ntop(socket.AF_INET, p[16:20]), p[9],
                struct.unpack_from(">H", p, 2)[0])
    return (socket.inet_ntop(socket.AF_INET6, p[8:24]),
            socket.inet_ntop(socket.AF_INET6, p[24:40]), p[6],
            40 + struct.unpack_from(">H", p, 4)[0])


def wait_hooks(timeout=5):
    """Wait, in this thread's namespace, until its iptap hooks are
    registered, which a worker does soon after a packet socket binds to
    an iptap device.  Returns the seconds waited: 0 if they already were
    when asked, None if they did not come."""
    start, waited = time.time(), 0.0
    while True:
        with open("/proc/sys/net/iptap/hooks_registered") as f:
            if f.read().strip() == "1":
                return waited
        waited = time.time() - start
        if waited > timeout:
            return None
        time.sleep(0.001)


class Capture:
    """An AF_PACKET socket on an iptap device, as tcpdump would open it.
    A thread drains it as records arrive, so that a busy test loses none
    to a full socket buffer."""

    invalid = None      # frames that were no record, from every capture

    def __init__(self, dev="iptap0", ns=None, sock_type=socket.SOCK_RAW,
                 iptap=True):
        self.iptap = iptap
        if Capture.invalid is None:
            Capture.invalid = []
        with netns(ns):
            # Protocol 0 until bound: a socket made with ETH_P_ALL takes
            # frames from every device until bind() narrows it.
            self.sock = socket.socket(socket.AF_PACKET, sock_type, 0)
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
            self.sock.bind((dev, ETH_P_ALL))
            if iptap:
                self.hooks_wait = wait_hooks()
        self.dev = dev
        self.records = []
        self.last = time.time()
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        while not self.stop:
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                continue
            try:
                data, addr = self.sock.recvfrom(1 << 18)
            except OSError as e:
                if e.errno == errno.ENETDOWN:   # the device went away
                    return
                raise
            rec = parse_record(data)
            with self.lock:
                if not self.iptap:
                    self.records.append((addr[2], data))
                elif rec and rec["length"] == HDR_LEN and \
                        rec["x_magic"] == EXT_MAGIC:
                    self.records.append((addr[2], rec))
                else:
                    Capture.invalid.append((self.dev, data))
                self.last = time.time()

    def read(self, settle=0.5, limit=None, timeout=20):
        """Records received so far, once none has come for settle seconds
        (or timeout seconds have passed): a list of (pkttype, decoded
        record), or of (pkttype, frame) on a device that is no iptap.
        They are consumed."""
        end = time.time() + timeout
        while True:
            with self.lock:
                quiet = time.time() - self.last
                if quiet >= settle or not self.thread.is_alive() or (
                        limit and len(self.records) >= limit) or \
                        time.time() > end:
                    out, self.records = self.records, []
                    return out
            time.sleep(min(0.05, settle - quiet))

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


SID_ROOT = os.path.join(ROOT, "build", "kernels", "sid-root")


def sid_tshark(capture, args):
    """sid's tshark (Wireshark 4.6, in the build root make matrix made)
    on the file capture, with the options args: the sh() result, or None
    where there is no such tshark."""
    if not os.access(os.path.join(SID_ROOT, "usr", "bin", "tshark"), os.X_OK):
        return None
    inside = "/tmp/sid-tshark-" + os.path.basename(capture)
    with open(capture, "rb") as src, open(SID_ROOT + inside, "wb") as dst:
        dst.write(src.read())
    try:
        return sh("chroot %s tshark -r %s %s" % (SID_ROOT, inside, args),
                  check=False)
    finally:
        os.unlink(SID_ROOT + inside)


def write_pcap(path, records, linktype=258):
    """A classic pcap file of raw records (bytes)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144,
                            linktype))
        for raw in records:
            t = time.time()
            f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6),
                                len(raw), len(raw)))
            f.write(raw)


def read_pcap(path):
    """The records (bytes) of a classic little-endian pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], 24
    while off + 16 <= len(data):
        cap = struct.unpack_from("<I", data, off + 8)[0]
        out.append(data[off + 16:off + 16 + cap])
        off += 16 + cap
    return out


class ToolRun:
    """A capture program (tcpdump, iptapdump) running in the background,
    its stdout in OUTDIR/NAME.out and its stderr kept; by default it is
    waited for until it says it listens.  Users set STATS, the regular
    expression of its closing statistics."""

    LISTENING = re.compile(rb"listening on [^\n]*\n")
    STATS = None

    def __init__(self, name, cmd, outdir, wait=True, stdout=None):
        self.name = name
        self.path = os.path.join(outdir, name + ".out")
        self.out = open(self.path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=stdout or self.out,
                                     stderr=subprocess.PIPE)
        self.err = b""
        self.rc = None
        if wait:
            self.wait_listening()

    def wait_listening(self, timeout=30):
        """Read stderr until the whole "listening on" line is there."""
        end = time.time() + timeout
        while not self.LISTENING.search(self.err) and time.time() < end:
            r, _, _ = select.select([self.proc.stderr], [], [], 0.2)
            if r:
                chunk = os.read(self.proc.stderr.fileno(), 4096)
                if not chunk:
                    break
                self.err += chunk
        return self.LISTENING.search(self.err) is not None

    def interrupt(self, sig=signal.SIGINT):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.finish()

    def finish(self, timeout=30):
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.err += err
        self.rc = self.proc.returncode
        self.out.close()
        return self

    @property
    def stderr(self):
        return self.err.decode(errors="replace")

    @property
    def data(self):
        with open(self.path, "rb") as f:
            return f.read()

    def stats(self):
        """The numbers of the last statistics line, or None."""
        m = self.STATS.findall(self.stderr)
        return tuple(map(int, m[-1])) if m else None
