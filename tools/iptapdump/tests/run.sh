#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh: iptapdump's host tests, as "make check" runs them after
# building iptapdump, tests/unit and their ASan/UBSan builds in asan/:
#
#   - the unit tests under valgrind (plain when valgrind is missing),
#   - the unit tests built with ASan and UBSan,
#   - the program's options and error paths that need no iptap device,
#     under valgrind and with ASan,
#   - stock tcpdump and tshark reading a pcap file the writer made, and
#     tshark the pcapng files the writer and -r ... -P made.
#
# Prints TAP-ish "ok"/"not ok" lines and ends with the line
# "iptapdump: N passed, N failed" (", N skipped" when some were).

set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1
pass=0 fail=0 skip=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}

not_ok() {
	fail=$((fail + 1))
	echo "not ok - $*"
}

skip() {
	skip=$((skip + 1))
	echo "ok - $* # SKIP"
}

# The TAP lines of a unit run, counted here, prefixed by a tag.
unit_lines() {
	local tag=$1 log=$2 line

	while IFS= read -r line; do
		case $line in
		"ok "*) ok "[$tag] ${line#ok * - }" ;;
		"not ok "*) not_ok "[$tag] ${line#not ok * - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <"$log"
}

have_valgrind=0
command -v valgrind >/dev/null && have_valgrind=1
vg() {
	if [ $have_valgrind = 1 ]; then
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect \
			--log-file="$tmp/vg.log" "$@"
	else
		"$@"
	fi
}

# 1. Unit tests under valgrind.
vg tests/unit "$tmp/sample.pcap" "$tmp/sample.pcapng" >"$tmp/unit.log" 2>&1
rc=$?
unit_lines unit "$tmp/unit.log"
if [ $have_valgrind = 1 ]; then
	if [ $rc -ne 99 ]; then
		ok "[unit] valgrind reports no error"
	else
		not_ok "[unit] valgrind reports no error"
		sed 's/^/#   /' "$tmp/vg.log" | head -n 40
	fi
else
	skip "[unit] valgrind is not installed"
fi
grep -q '^unit: [0-9]* passed, 0 failed$' "$tmp/unit.log" &&
	ok "[unit] the unit tests ran to their end" ||
	not_ok "[unit] the unit tests ran to their end (exit $rc)"

# 2. Unit tests with ASan and UBSan.
if [ -x asan/unit ]; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		asan/unit >"$tmp/asan.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^unit: [0-9]* passed, 0 failed$' "$tmp/asan.log"; then
		ok "[asan] the unit tests pass with ASan and UBSan ($(grep -c '^ok ' "$tmp/asan.log") tests)"
	else
		not_ok "[asan] the unit tests pass with ASan and UBSan (exit $rc)"
		grep -E '^not ok|ERROR|runtime error' "$tmp/asan.log" | head -n 20 | sed 's/^/#   /'
	fi
else
	skip "[asan] no asan/unit"
fi

# 3. Options and errors that need no device.  expect NAME RC REGEX CMD...:
# CMD must exit RC and its output (both streams) match REGEX.
expect() {
	local name=$1 want=$2 re=$3 bin rc tag

	shift 3
	for bin in ./iptapdump asan/iptapdump; do
		[ -x "$bin" ] || continue
		rm -f "$tmp/vg.log"
		if [ "$bin" = ./iptapdump ]; then
			tag=cli
			vg "$bin" "$@" >"$tmp/out" 2>&1
		else
			tag=cli-asan
			ASAN_OPTIONS=detect_leaks=1 "$bin" "$@" >"$tmp/out" 2>&1
		fi
		rc=$?
		if [ $rc -eq "$want" ] && grep -qE -- "$re" "$tmp/out"; then
			ok "[$tag] $name"
		else
			not_ok "[$tag] $name: exit $rc, want $want and /$re/"
			sed 's/^/#   /' "$tmp/out" | head -n 10
			[ -s "$tmp/vg.log" ] && sed 's/^/#   /' "$tmp/vg.log" | head -n 20
		fi
	done
}

expect "-h prints the usage" 0 '^usage: iptapdump ' -h
expect "-d shows the filter moved past the record header" 0 \
	'ldh +\[216\]' -d 'udp port 7000'
expect "-d: accepted records keep their header" 0 'ret +#262320' -d icmp
expect "-d: no filter at all without an expression" 0 '^\(no filter' -d
expect "-d: --pid checks pth_pid and pth_epid" 0 'ld +\[84\]' -d --pid 7
expect "-d: options may follow the expression" 0 'ld +\[12\]' \
	-d udp --if va1
expect "a missing device" 1 '^iptapdump: nosuch0: no such device$' \
	-i nosuch0 -c 1
expect "a device that is no iptap device" 1 \
	'^iptapdump: lo: not an iptap device' -i lo -c 1
expect "a bad filter gives libpcap's message" 1 \
	'^iptapdump: bad filter expression "tcp port 99999": illegal port number 99999 > 65535' \
	-i nosuch0 tcp port 99999
expect "a syntax error" 1 'syntax error' 'ip and'
expect "-P needs -w" 2 '-P writes pcapng with -w only' -P
expect "-r prints a file's records" 0 \
	' out va1 udp-client:1234 IP 10\.0\.0\.1\.5555 > 10\.0\.0\.2\.7000: UDP' \
	-r "$tmp/sample.pcap"
expect "-r counts the records read" 0 '^iptapdump: 2 packets read$' \
	-r "$tmp/sample.pcap"
expect "-r applies --pid (pth_epid too)" 0 '^iptapdump: 1 packets read$' \
	-r "$tmp/sample.pcap" --pid 66
expect "-r applies an expression" 0 '^iptapdump: 1 packets read$' \
	-r "$tmp/sample.pcap" ip6
expect "-r of a missing file" 1 'No such file' -r "$tmp/nosuch.pcap"
# A pcap file of Ethernet (link type 1) with no packet.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\xff\xff\0\0\x01\0\0\0' \
	>"$tmp/eth.pcap"
expect "-r of a file that is not PKTAP" 1 'link type 1, not PKTAP \(258\)' \
	-r "$tmp/eth.pcap"
# A record as macOS writes it: a 156-byte header, no iptap extension,
# then DLT_NULL and an IPv4 UDP packet.
python3 -c '
import struct, sys
h = bytearray(156)
struct.pack_into("<III", h, 0, 156, 1, 0)
h[12:16] = b"en0\0"
struct.pack_into("<IIIi", h, 36, 2, 2, 0, 77)
ip = bytes.fromhex("4500001c0001000040110000") + bytes([10, 0, 0, 1, 10, 0, 0, 2])
rec = bytes(h) + struct.pack("<I", 2) + ip + struct.pack(">HHHH", 5, 53, 8, 0)
sys.stdout.buffer.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 258) +
                        struct.pack("<IIII", 1, 0, len(rec), len(rec)) + rec)
' >"$tmp/macos.pcap"
expect "-r prints a record of another layout" 0 'en0 .* IP 10\.0\.0\.1\.5 > 10\.0\.0\.2\.53: UDP' \
	-r "$tmp/macos.pcap"
# The same with an AF word that is no IP's: -P keeps it whole, on a
# PKTAP interface.
python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(d[:40 + 156] + bytes([99, 0, 0, 0]) + d[40 + 160:])
' "$tmp/macos.pcap" >"$tmp/notip.pcap"
expect "-r with a filter leaves out and counts records of another layout" 0 \
	"^iptapdump: 1 records left out: not iptap's layout, which the filters read$" \
	-r "$tmp/macos.pcap" udp
expect "-r ... -P -w converts to pcapng" 0 '^iptapdump: 2 packets read$' \
	-r "$tmp/sample.pcap" -P -w "$tmp/conv.pcapng"
expect "protochain cannot run in the kernel" 1 'backwards' ip6 protochain 6
expect "-c 0 is refused" 2 'bad count "0"' -c 0
expect "--pid x is refused" 2 'bad pid "x"' --pid x
expect "an empty --comm is refused" 2 'empty --comm' --comm ''
expect "an unknown option" 2 'usage:' --bogus
expect "--top and -w - exclude each other" 2 'both want standard output' \
	--top -w -

# 4. Stock readers of the writer's file (two records: udp-client 1234
# out on va1, fork-child 77 via fork-parent 66 in).
if [ ! -s "$tmp/sample.pcap" ]; then
	not_ok "[readers] the unit tests wrote a sample file"
else
	if command -v tcpdump >/dev/null; then
		tcpdump -nn -r "$tmp/sample.pcap" >"$tmp/td" 2>"$tmp/td.err"
		rc=$?
		if [ $rc -eq 0 ] && grep -q 'link-type PKTAP' "$tmp/td.err" &&
		   grep -q '^[0-9:.]* IP 10.0.0.1.5555 > 10.0.0.2.7000' "$tmp/td" &&
		   grep -q '^[0-9:.]* IP6 fd00::2 > fd00::1: HBH DSTOPT 80 > 41000: Flags \[S\.\]' "$tmp/td"; then
			ok "[readers] tcpdump -r reads the pcap file"
		else
			not_ok "[readers] tcpdump -r reads the pcap file (exit $rc)"
			sed 's/^/#   /' "$tmp/td" "$tmp/td.err"
		fi
	else
		skip "[readers] tcpdump is not installed"
	fi
	if command -v tshark >/dev/null; then
		tshark -r "$tmp/sample.pcap" -T fields -e pktap.pid \
			-e pktap.cmdname -e pktap.epid -e pktap.ecmdname \
			-e pktap.ifname >"$tmp/ts" 2>"$tmp/ts.err"
		printf '1234\tudp-client\t1234\tudp-client\tva1\n77\tfork-child\t66\tfork-parent\tva1\n' >"$tmp/ts.want"
		if cmp -s "$tmp/ts" "$tmp/ts.want"; then
			ok "[readers] tshark shows pktap.pid, cmdname, epid, ecmdname, ifname"
		else
			not_ok "[readers] tshark shows pktap.pid, cmdname, epid, ecmdname, ifname"
			sed 's/^/#   /' "$tmp/ts" "$tmp/ts.err"
		fi
	else
		skip "[readers] tshark is not installed"
	fi
fi

# 5. tshark on pcapng: the unit tests' sample (udp-client 1234 out on
# va1, fork-child 77 via fork-parent 66 in on lo, udp-client again, a
# packet of no process in on va1) and the conversion of sample.pcap.
# Debian 12's tshark shows the process blocks only as blocks (the "MIME
# Files Format" view); the per-packet fields need Wireshark 4.6, sid's,
# which kernels.sh installs in the sid build root.
tshark_check() {
	local name=$1 want=$2

	shift 2
	"$@" >"$tmp/ts" 2>"$tmp/ts.err"
	printf "$want" >"$tmp/ts.want"
	if cmp -s "$tmp/ts" "$tmp/ts.want"; then
		ok "[pcapng] $name"
	else
		not_ok "[pcapng] $name"
		diff "$tmp/ts.want" "$tmp/ts" | sed 's/^/#   /' | head -n 10
		sed 's/^/#   /' "$tmp/ts.err" | head -n 5
	fi
}

if ! command -v tshark >/dev/null; then
	skip "[pcapng] tshark is not installed"
elif [ ! -s "$tmp/sample.pcapng" ] || [ ! -s "$tmp/conv.pcapng" ]; then
	not_ok "[pcapng] the unit tests and -r -P wrote pcapng files"
else
	tshark_check "tshark reads each packet's interface and direction" \
		'va1\t0x00000002\t10.0.0.1\t\nlo\t0x00000001\t\tfd00::2\nva1\t0x00000002\t10.0.0.1\t\nva1\t0x00000001\t10.0.0.1\t\n' \
		tshark -r "$tmp/sample.pcapng" -T fields -e frame.interface_name \
		-e frame.packet_flags_direction -e ip.src -e ipv6.src -E occurrence=f \
		-E aggregator=,
	tshark_check "tshark reads the process blocks in order" \
		'1234,77,66\tudp-client,fork-child,fork-parent\n' \
		tshark -r "$tmp/sample.pcapng" -X 'read_format:MIME Files Format' \
		-T fields -e pcapng.darwin.process_id -e pcapng.darwin.process_name
	tshark_check "tshark -z conv,ip (Statistics > Conversations) sees each conversation" \
		'10.0.0.1<->10.0.0.2:3\n' \
		sh -c "tshark -r '$tmp/sample.pcapng' -q -z conv,ip | awk '\$2 == \"<->\" { print \$1 \$2 \$3 \":\" \$10 }'"
	"$here/iptapdump" -r "$tmp/notip.pcap" -P -w "$tmp/notip.pcapng" 2>/dev/null
	tshark_check "-P keeps a record whose AF word is no IP's whole, on a PKTAP interface" \
		'pktap\ten0\n' \
		tshark -r "$tmp/notip.pcapng" -T fields -e frame.interface_name \
		-e pktap.ifname
	tshark_check "a converted file: interfaces, directions, processes" \
		'va1\t0x00000002\nva1\t0x00000001\n' \
		tshark -r "$tmp/conv.pcapng" -T fields -e frame.interface_name \
		-e frame.packet_flags_direction
	tshark_check "a converted file: its process blocks" \
		'1234,77,66\tudp-client,fork-child,fork-parent\n' \
		tshark -r "$tmp/conv.pcapng" -X 'read_format:MIME Files Format' \
		-T fields -e pcapng.darwin.process_id -e pcapng.darwin.process_name
fi

sid=$here/../../build/kernels/sid-root
if [ ! -x "$sid/usr/bin/tshark" ] || [ "$(id -u)" != 0 ]; then
	skip "[pcapng] no Wireshark 4.6: no tshark in the sid build root (make matrix, as root)"
elif [ -s "$tmp/sample.pcapng" ]; then
	cp "$tmp/sample.pcapng" "$sid/tmp/iptapdump-sample.pcapng"
	f=/tmp/iptapdump-sample.pcapng
	tshark_check "Wireshark $(chroot "$sid" tshark -v 2>/dev/null | sed -n '1s/.* \([0-9][0-9.]*\)\.$/\1/p'): each packet's process, service class, flow hash" \
		'va1\t1234\tudp-client\t0\t0xdeadbeef\nlo\t77\tfork-child\t0\t0xdeadbeef\nva1\t1234\tudp-client\t0\t0xdeadbeef\nva1\t\t\t0\t0xdeadbeef\n' \
		chroot "$sid" tshark -r $f -T fields -e frame.interface_name \
		-e frame.darwin.process_info.pid -e frame.darwin.process_info.pname \
		-e frame.darwin.sc -e frame.darwin.flow_id
	tshark_check "Wireshark 4.6 filters by process name" '1\n3\n' \
		chroot "$sid" tshark -r $f -T fields -e frame.number \
		-Y 'frame.darwin.process_info.pname == "udp-client"'
	# Its dissector fills no .epid/.epname field: the effective
	# process is only in the frame's summary.
	tshark_check "Wireshark 4.6 names the effective process" \
		'Frame 2: Packet, 76 bytes on wire (608 bits), 76 bytes captured (608 bits) on interface lo, id 1 (inbound) proc: fork-child(77) [fork-parent(66)]\n' \
		sh -c "chroot '$sid' tshark -r $f -V -Y frame.number==2 | grep '^Frame'"
	rm -f "$sid$f"
fi

if [ $skip -gt 0 ]; then
	echo "iptapdump: $pass passed, $fail failed, $skip skipped"
else
	echo "iptapdump: $pass passed, $fail failed"
fi
[ $fail -eq 0 ]
