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
#   - stock tcpdump and tshark reading a pcap file the writer made.
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
vg tests/unit "$tmp/sample.pcap" >"$tmp/unit.log" 2>&1
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

if [ $skip -gt 0 ]; then
	echo "iptapdump: $pass passed, $fail failed, $skip skipped"
else
	echo "iptapdump: $pass passed, $fail failed"
fi
[ $fail -eq 0 ]
