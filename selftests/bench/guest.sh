#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest.sh: the benchmark inside the VM (see bench.sh, which boots it
# with one vCPU and QEMU's -icount shift=0,sleep=off: guest time counts
# guest instructions, one nanosecond each).
#
# Two network namespaces, a (sender, 10.0.0.1, veth va) and b (receiver,
# 10.0.0.2, veth vb).  Each run starts a fresh sink (receiver, the clock)
# in b, which also sends from a socket in a, in lockstep with what it
# receives (sink -L: one process that never sleeps, so that no scheduler
# decides how sender and receiver interleave); with BENCH_LOCKSTEP=0 a
# fresh blast in a sends instead.  The sink measures BENCH_WINDOW seconds
# of guest time after BENCH_WARMUP seconds from its first packet.  Each
# configuration is measured BENCH_RUNS times in a row, its capture tool
# (if any) running across those runs.  Writes to $IPTAP_RESULTS:
#
#   results.txt   "run set=S cfg=C n=N <sink's fields> <blast's fields>" per run,
#                 "capture set=S cfg=C name=N <tool's statistics>" per capture tool
#   perf-S-C.data perf profiles (BENCH_PROFILES) of a flood in a
#                 configuration, kallsyms the kernel's symbols to read
#                 them with, kallsyms-S-C iptap's where it was loaded,
#                 ticks-S-C.txt the sink's packet count over time
#   insn-S-C.txt  instructions run from each address during a flood
#                 (BENCH_COUNTS), marks-S-C.txt the window's guest times,
#                 ticks-count-S-C.txt the sink's packet count over time
#
# The set "sockets" measures in records (as listener-in) while a process
# in b holds 1,000, 100,000 or 1,000,000 bound UDP sockets made before
# the device (so the scan records their owners), and the same floods
# with those sockets held but iptap not loaded (held-*: what the sockets
# cost the kernel's own lookups); it writes an "owners" line per in-*
# configuration: the sockets, b's owner records, the memory the device,
# its scan and its records took (MemAvailable before and after), and how
# long the scan took in guest time.
#
# The set "recvmsg" is udp64's flood between a and b, which never have
# an iptap device, while a third namespace, c, uses one: what a capture
# elsewhere costs them.  The receive hook runs for every message any
# recvmsg() or recvmmsg() on the host reads while captures get records;
# the sink reads one message per packet, and at most one more per call
# (the one that finds the queue empty).  The
# configurations take one step each: c pinging its loopback every 50 ms
# with iptap not loaded (c-ping), the same with an empty nftables chain
# at each of iptap's hook points (c-nft: netfilter's static keys are
# host-wide), a device and an idle ring in c (elsewhere-idle), the device
# and the pings with no listener (elsewhere-nocap), and with a ring that
# gets the pings' records, which arms the receive hook (elsewhere).
#
# The set "select" is udp64's flood with a ring on a device in a made
# with a uid selector: uid 4242, which none of root's packets match
# (select-reject: each packet attributed and compared, never copied), and
# uid 0, which all do (select-pass), beside idle and listener; and the
# same rejecting device in b, where the flood's packets come in
# (select-reject-in), beside listener-in.
#
# The set "rtnl" floods nothing: it times, in guest time, 20 additions
# and 20 deletions of a dummy device in the initial namespace
# (rtnl_latency.py: one netlink request each, no process started),
# with no other work and then while an ordinary user (uid 65534, in a
# user and network namespace of its own) creates and deletes an iptap
# device in a loop, first with no sockets held and then with
# BENCH_RTNL_SOCKETS (default 100,000) UDP sockets held in b.  It writes
# an "rtnl" line per case: the median and the largest of each.
#
# Environment: BENCH_SETS (default "udp64 udp1400 tcp sockets recvmsg select rtnl"), BENCH_RUNS (3),
# BENCH_WINDOW (UDP, 0.5), BENCH_TCP_WINDOW (1), BENCH_WARMUP (0.2),
# BENCH_LOCKSTEP (1, the default; 0: a separate sender), BENCH_SINK_INTERVAL
# (without lockstep, the UDP sink's sleep between drains in us; 0, the
# default: block in recvmmsg instead), BENCH_SCHED (a command that runs sink and
# blast, e.g. "chrt -b 0"; none by default), BENCH_SETUP (a shell
# command run once before the first flood, debugfs mounted, e.g.
# "echo full >/sys/kernel/debug/sched/preempt"), BENCH_CONFIGS (configurations of every set),
# BENCH_PROFILES ("SET:CFG ...", "" for none), BENCH_PROFILE_SECONDS (1),
# BENCH_PERF_FREQ (5000), BENCH_COUNTS ("SET:CFG ...": exact instruction
# counts of a flood, by address, from the QEMU plugin insncount.so; none
# by default; their window is BENCH_PROFILE_SECONDS too).

set -uo pipefail

bin=${BENCH_OUT:-$IPTAP_ROOT/build/bench}/bin
ko=$IPTAP_ROOT/build/$IPTAP_RELEASE/kmod/iptap.ko
res=$IPTAP_RESULTS
sets=${BENCH_SETS:-udp64 udp1400 tcp sockets recvmsg select rtnl}
runs=${BENCH_RUNS:-3}
window=${BENCH_WINDOW:-0.5}
tcp_window=${BENCH_TCP_WINDOW:-1}
warmup=${BENCH_WARMUP:-0.2}
sink_interval=${BENCH_SINK_INTERVAL:-0}
lockstep=${BENCH_LOCKSTEP:-1}
sched=${BENCH_SCHED:-}
profiles=${BENCH_PROFILES-udp64:baseline udp64:idle udp64:listener udp64:listener-in udp64:tcpdump-veth}
counts=${BENCH_COUNTS:-}
profiler=perf
port=9000
tmp=/tmp/bench
mkdir -p "$tmp"
: >"$res/results.txt"

log() { echo "bench: [$(cut -d' ' -f1 /proc/uptime)] $*"; }

# sleep(1) as a builtin: a read that times out on a FIFO nobody
# writes.  Every fork costs the VM time.
mkfifo "$tmp/nap"
exec {nap_fd}<>"$tmp/nap"
nap() {
	read -r -t "$1" -u "$nap_fd" _
}

# Wait until FILE has a line containing one of PATTERNS, or give up.
wait_for() {
	local file=$1 line pattern _

	shift
	for _ in {1..400}; do
		if [ -f "$file" ]; then
			while IFS= read -r line; do
				for pattern in "$@"; do
					[[ $line == *"$pattern"* ]] && return 0
				done
			done <"$file"
		fi
		nap 0.05
	done
	log "timed out waiting for '$*' in $file"
	cat "$file" 2>/dev/null
	return 1
}

setup_net() {
	ip netns add a
	ip netns add b
	ip -n a link set lo up
	ip -n b link set lo up
	ip link add va netns a type veth peer name vb netns b
	ip -n a addr add 10.0.0.1/24 dev va
	ip -n b addr add 10.0.0.2/24 dev vb
	ip -n a link set va up
	ip -n b link set vb up
	# Neighbour entries that never expire: no ARP inside a window.
	ip -n a neigh replace 10.0.0.2 lladdr "$(ip -n b -br link show vb | awk '{print $3}')" dev va nud permanent
	ip -n b neigh replace 10.0.0.1 lladdr "$(ip -n a -br link show va | awk '{print $3}')" dev vb nud permanent
	# IPv6 is off on the pair: no router solicitations or MLD reports in a window.
	ip netns exec a sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec b sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}

# sink and blast arguments of a set.  In lockstep the sink sends too,
# from a, and there is no blast.
set_args() {
	local proto=-u size

	win=$window
	case $1 in
	udp64|sockets|recvmsg|select) size=64 ;;
	udp1400) size=1400 ;;
	tcp) proto=-t size=65536 win=$tcp_window ;;
	*) log "unknown set $1"; exit 2 ;;
	esac
	if [ "$lockstep" = 1 ]; then
		sink_args="$proto -L a -d 10.0.0.2 -s $size" blast_args=
	elif [ "$proto" = -t ]; then
		sink_args=-t blast_args="-t -s $size"
	else
		sink_args="-u -i $sink_interval" blast_args="-u -s $size"
	fi
}

# One measurement: prints the sink's and blast's results.  With a
# profile file name, perf samples the whole machine for BENCH_PROFILE_SECONDS
# once the flood is under way.
measure() {
	local set=$1 cfg=$2 n=$3 perf_out=${4:-} sp bp sink blast

	set_args "$set"
	# Emptied here, not by the redirection below: that happens in the
	# background child, and wait_for could first find the last run's
	# "sink ready" and start the sender before this sink listens.
	: >"$tmp/sink.out"
	# shellcheck disable=SC2086 # argument lists
	ip netns exec b $sched "$bin/sink" $sink_args -p $port -c vb -w "$warmup" \
		${perf_out:+-P} \
		-T "$([ -n "$perf_out" ] && echo 1000 || echo "$win")" \
		>"$tmp/sink.out" 2>&1 &
	sp=$!
	wait_for "$tmp/sink.out" "sink ready" || return 1
	: >"$tmp/blast.out"
	if [ -n "$blast_args" ]; then
		# shellcheck disable=SC2086
		ip netns exec a $sched "$bin/blast" $blast_args -d 10.0.0.2 -p $port \
			>"$tmp/blast.out" 2>&1 &
		bp=$!
	else
		bp=$sp
	fi
	if [ -n "$perf_out" ]; then
		nap "$warmup"
		# Times on the sink's clock: its ticks count the packets.
		if [ "$profiler" = count ]; then
			# The nap above may pass before the flood (an idle
			# guest's clock jumps): count from its fifth tick, and
			# let the sink tick once more after the stop.
			until [ "$(grep -c '^tick ' "$tmp/sink.out")" -ge 5 ]; do
				nap 0.05
			done
			"$bin/mark" start >"$perf_out"
			nap "$profile_seconds"
			"$bin/mark" stop >>"$perf_out"
			grep -F -e '[iptap]' -e '[__builtin__ftrace]' \
				/proc/kallsyms >"$perf_out.syms"
			nap 0.1
		else
			perf record -a -g -B -N --no-bpf-event -k CLOCK_MONOTONIC \
				-F "$perf_freq" -e cpu-clock -o "$perf_out" \
				-- sleep "$profile_seconds" >"$tmp/perf.out" 2>&1 ||
				cat "$tmp/perf.out"
		fi
		kill -TERM "$sp"
	fi
	# The sink ends the run; a sender that fails ends the sink.
	wait -n "$sp" "$bp"
	kill -TERM "$bp" "$sp" 2>/dev/null
	wait "$bp" "$sp" 2>/dev/null
	[ -n "$perf_out" ] && return 0
	sink=$(sed -n 's/^sink \(pkts=.*\)/\1/p' "$tmp/sink.out")
	blast=$(sed -n 's/^blast \(sent=.*\)/\1/p' "$tmp/blast.out")
	if [ -z "$sink" ]; then
		log "$set $cfg run $n failed:"
		cat "$tmp/sink.out" "$tmp/blast.out"
		return 1
	fi
	echo "run set=$set cfg=$cfg n=$n $sink $blast" | tee -a "$res/results.txt"
}

# Capture tools: started by cap_start NAME NS COMMAND..., stopped by
# cap_stop, which records their statistics.
caps=()
cap_start() {
	local name=$1 ns=$2

	shift 2
	ip netns exec "$ns" "$@" >"$tmp/cap-$name.out" 2>&1 &
	caps+=("$name:$!")
}

cap_wait() {
	local c

	for c in "${caps[@]}"; do
		wait_for "$tmp/cap-${c%%:*}.out" "ready on" "listening on" || return 1
	done
	nap 0.2
}

cap_stop() {
	local set=$1 cfg=$2 c name pid stats

	for c in "${caps[@]}"; do
		name=${c%%:*} pid=${c#*:}
		kill -INT "$pid"
		wait "$pid"
		case $name in
		ring*)
			stats=$(sed -n 's/^ring \(dev=.*\)/\1/p' "$tmp/cap-$name.out") ;;
		*)	# tcpdump's three lines of statistics
			stats="tool=tcpdump $(tr '\n' ' ' <"$tmp/cap-$name.out" |
				sed -n 's/.* \([0-9]*\) packets captured \([0-9]*\) packets received by filter \([0-9]*\) packets dropped by kernel.*/captured=\1 received=\2 kernel_drops=\3/p')" ;;
		esac
		echo "capture set=$set cfg=$cfg name=$name $stats" | tee -a "$res/results.txt"
	done
	caps=()
}

iptap_load() {
	modprobe -a nf_socket_ipv4 nf_socket_ipv6
	[ -d /sys/module/iptap ] || insmod "$ko"
}

# b holds $1 bound UDP sockets (on loopback addresses, 40,000 a piece),
# until sockets_release.
holder=
sockets_hold() {
	local n=$1 addrs=() i

	for ((i = 1; i <= (n + 39999) / 40000; i++)); do
		addrs+=("127.0.1.$i")
	done
	: >"$tmp/holder.out"
	ip netns exec b python3 "$IPTAP_ROOT/selftests/lib/workload.py" \
		udp-many 20000 "$n" "${addrs[@]}" >"$tmp/holder.out" 2>&1 &
	holder=$!
	# Making a million sockets takes minutes of a TCG guest.
	for ((i = 0; i < 36000; i++)); do
		grep -q READY "$tmp/holder.out" && return 0
		kill -0 "$holder" 2>/dev/null || break
		nap 0.05
	done
	log "the holder of $n sockets did not start:"
	cat "$tmp/holder.out"
	return 1
}

sockets_release() {
	[ -n "$holder" ] || return 0
	kill "$holder"
	wait "$holder"
	holder=
}

mem_available_kb() {
	sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo
}

# baseline with $1 sockets held in b: the kernel's own cost of them.
enter_held() {
	sockets_hold "$1" || exit 1
}

# listener-in with $2 sockets held in b: the device's scan records them.
enter_sockets() {
	local cfg=$1 n=$2 before after t0 t1

	sockets_hold "$n" || exit 1
	iptap_load
	before=$(mem_available_kb)
	t0=$(cut -d' ' -f1 /proc/uptime)
	ip -n b link add iptap0 type iptap
	until [ "$(ip netns exec b cat /proc/sys/net/iptap/owner_scan_pending)" = 0 ]; do
		nap 0.05
	done
	t1=$(cut -d' ' -f1 /proc/uptime)
	after=$(mem_available_kb)
	echo "owners set=sockets cfg=$cfg sockets=$n" \
		"records=$(ip netns exec b cat /proc/sys/net/iptap/owner_records)" \
		"mem_kb=$((before - after)) scan_s=$(echo "$t1 - $t0" | bc)" |
		tee -a "$res/results.txt"
	cap_start ring b "$bin/ring" -i iptap0
}

iptap_unload() {
	ip -n a link del iptap0 2>/dev/null
	ip -n b link del iptap0 2>/dev/null
	rmmod iptap 2>/dev/null
	return 0
}

# Put the machine in configuration CFG (from the module not loaded).
enter() {
	local cfg=$1

	case $cfg in
	baseline|baseline-last) ;;
	idle)
		iptap_load
		ip -n a link add iptap0 type iptap ;;
	listener)
		iptap_load
		ip -n a link add iptap0 type iptap
		cap_start ring a "$bin/ring" -i iptap0 ;;
	listener2)
		iptap_load
		ip -n a link add iptap0 type iptap
		cap_start ring-1 a "$bin/ring" -i iptap0
		cap_start ring-2 a "$bin/ring" -i iptap0 ;;
	listener-queue)
		iptap_load
		ip -n a link add iptap0 type iptap
		cap_start ring a "$bin/ring" -q -i iptap0 ;;
	listener-in)
		iptap_load
		ip -n b link add iptap0 type iptap
		cap_start ring b "$bin/ring" -i iptap0 ;;
	listener-both)
		iptap_load
		ip -n a link add iptap0 type iptap
		ip -n b link add iptap0 type iptap
		cap_start ring-a a "$bin/ring" -i iptap0
		cap_start ring-b b "$bin/ring" -i iptap0 ;;
	select-reject|select-pass)
		iptap_load
		# A uid selector: root's flood is uid 0's, never 4242's.
		IP_LIB_DIR=$IPTAP_ROOT/build/ip ip -n a link add iptap0 \
			type iptap uid "$([ "$cfg" = select-pass ] && echo 0 ||
					  echo 4242)"
		cap_start ring a "$bin/ring" -i iptap0 ;;
	select-reject-in)
		iptap_load
		# b's receiver is root's: in records attributed, none copied.
		IP_LIB_DIR=$IPTAP_ROOT/build/ip ip -n b link add iptap0 \
			type iptap uid 4242
		cap_start ring b "$bin/ring" -i iptap0 ;;
	tcpdump-iptap)
		iptap_load
		ip -n a link add iptap0 type iptap
		cap_start tcpdump a /usr/bin/tcpdump -i iptap0 -w /dev/null ;;
	ring-veth)
		cap_start ring a "$bin/ring" -i va ;;
	queue-veth)
		cap_start ring a "$bin/ring" -q -i va ;;
	ring2-veth)
		cap_start ring-1 a "$bin/ring" -i va
		cap_start ring-2 a "$bin/ring" -i va ;;
	tcpdump-veth)
		cap_start tcpdump a /usr/bin/tcpdump -i va -w /dev/null ;;
	nflog)
		ip netns exec a nft -f - <<-EOF
		table ip bench {
			chain out {
				type filter hook output priority filter;
				log group 1
			}
		}
		EOF
		cap_start tcpdump a /usr/bin/tcpdump -i nflog:1 -w /dev/null ;;
	tcpdump-any)
		cap_start tcpdump a /usr/bin/tcpdump -i any -w /dev/null ;;
	elsewhere*|c-*)
		ip netns add c
		ip -n c link set lo up
		case $cfg in
		c-ping) ;;
		c-nft)
			ip netns exec c nft -f - <<-EOF
			table inet bench {
				chain pre { type filter hook prerouting priority 0; }
				chain out { type filter hook output priority 0; }
			}
			EOF
			;;
		*)
			iptap_load
			ip -n c link add iptap0 type iptap ;;
		esac
		case $cfg in
		elsewhere|elsewhere-idle) cap_start ring c "$bin/ring" -i iptap0 ;;
		esac
		pinger=""
		if [ "$cfg" != elsewhere-idle ]; then
			ip netns exec c ping -q -i 0.05 127.0.0.1 >/dev/null 2>&1 &
			pinger=$!
		fi ;;
	held-100k) enter_held 100000 ;;
	held-1m) enter_held 1000000 ;;
	in-1k)	enter_sockets "$cfg" 1000 ;;
	in-100k) enter_sockets "$cfg" 100000 ;;
	in-1m)	enter_sockets "$cfg" 1000000 ;;
	*)
		log "unknown configuration $cfg"; exit 2 ;;
	esac
	cap_wait
	# iptap caches the attribution of UDP flows from a second after a
	# first device armed its probes (flows.c): no run measures before.
	if [ -d /sys/module/iptap ]; then
		nap 1
	fi
}

leave() {
	local set=$1 cfg=$2

	[ ${#caps[@]} -gt 0 ] && cap_stop "$set" "$cfg"
	case $cfg in
	nflog) ip netns exec a nft delete table ip bench ;;
	elsewhere*|c-*)
		[ -n "$pinger" ] && kill "$pinger" && wait "$pinger"
		ip netns del c ;;
	esac
	iptap_unload
	sockets_release
}

configs_of() {
	if [ -n "${BENCH_CONFIGS:-}" ]; then
		echo "$BENCH_CONFIGS"
		return
	fi
	case $1 in
	udp64)
		echo baseline idle listener listener2 listener-in \
		     listener-both tcpdump-iptap ring-veth ring2-veth \
		     tcpdump-veth nflog tcpdump-any baseline-last ;;
	udp1400)
		echo baseline idle listener listener-in ring-veth \
		     baseline-last ;;
	recvmsg)
		echo baseline c-ping c-nft elsewhere-idle elsewhere-nocap elsewhere \
			baseline-last ;;
	select)
		echo baseline idle listener select-reject select-pass \
		     listener-in select-reject-in baseline-last ;;
	sockets)
		echo baseline listener-in in-1k held-100k in-100k held-1m \
		     in-1m baseline-last ;;
	*)	echo baseline idle listener ring-veth baseline-last ;;
	esac
}

# perf's cpu-clock samples: with icount, a sample every 1e9/FREQ guest
# instructions, wherever the guest is.  bench.sh reads them on the host.
perf_freq=${BENCH_PERF_FREQ:-5000}
profile_seconds=${BENCH_PROFILE_SECONDS:-1}
profile_run() {
	local set=$1 cfg=$2

	enter "$cfg"
	# Module addresses change from one insmod to the next.
	[ -d /sys/module/iptap ] &&
		grep -F '[iptap]' /proc/kallsyms >"$res/kallsyms-$set-$cfg"
	measure "$set" "$cfg" profile "$tmp/perf.data"
	leave "$set" "$cfg-profile"
	cp "$tmp/perf.data" "$res/perf-$set-$cfg.data"
	grep '^tick ' "$tmp/sink.out" >"$res/ticks-$set-$cfg.txt"
	echo "profile set=$set cfg=$cfg freq=$perf_freq seconds=$profile_seconds" |
		tee -a "$res/results.txt"
}

# Instruction counts (BENCH_COUNTS): bench.sh loads the QEMU plugin
# insncount.so, which writes the counts of each window between "mark
# start" and "mark stop" to $res/insn.N.
counted=0
count_run() {
	local set=$1 cfg=$2

	enter "$cfg"
	# Module and ftrace trampoline addresses change from one use to
	# the next: read them during the flood, after the window.
	profiler=count measure "$set" "$cfg" profile "$tmp/marks"
	leave "$set" "$cfg-count"
	mv "$tmp/marks.syms" "$res/kallsyms-$set-$cfg"
	counted=$((counted + 1))
	mv "$res/insn.$counted" "$res/insn-$set-$cfg.txt"
	cp "$tmp/marks" "$res/marks-$set-$cfg.txt"
	grep '^tick ' "$tmp/sink.out" >"$res/ticks-count-$set-$cfg.txt"
	echo "count set=$set cfg=$cfg seconds=$profile_seconds" |
		tee -a "$res/results.txt"
}

# One "rtnl" line: dummy devices added and deleted by root, with what
# else runs (a churn that cycled iptap devices CYCLES times meanwhile).
rtnl_case() {
	local sockets=$1 loop=$2 times

	times=$(python3 "$IPTAP_ROOT/selftests/bench/rtnl_latency.py" 20) || exit 1
	echo "rtnl set=rtnl sockets=$sockets loop=$loop $times" \
		"cycles=$(wc -l <"$tmp/churn.out")" | tee -a "$res/results.txt"
}

rtnl_bench() {
	local n churn

	iptap_load
	for n in 0 "${BENCH_RTNL_SOCKETS:-100000}"; do
		[ "$n" = 0 ] || sockets_hold "$n" || exit 1
		: >"$tmp/churn.out"
		rtnl_case "$n" none
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			unshare -Urn sh -c 'while :; do
				ip link add t type iptap && ip link del t && echo
			done' >>"$tmp/churn.out" 2>&1 &
		churn=$!
		nap 1
		: >"$tmp/churn.out"
		rtnl_case "$n" iptap-churn
		kill "$churn"
		wait "$churn"
		sockets_release
	done
	iptap_unload
}

log "kernel $(uname -r), $(nproc) CPU, sets: $sets, $runs runs of ${window}s (TCP ${tcp_window}s) after ${warmup}s, $([ "$lockstep" = 1 ] && echo "the sink sending in lockstep" || echo "UDP sink interval ${sink_interval}us"), run by ${sched:-themselves}"
setup_net
if [ -n "${BENCH_SETUP:-}" ]; then
	mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
	log "setup: $BENCH_SETUP"
	bash -c "$BENCH_SETUP" || exit 1
fi
# The tools' pages, read once over 9p before any window.
cat "$bin"/* /usr/bin/tcpdump "$ko" >/dev/null
# A first flood, not recorded: the first one after boot is slower.
measure udp64 warm-up 0 >/dev/null
: >"$res/results.txt"

for set in $sets; do
	if [ "$set" = rtnl ]; then
		log "rtnl: ip link add/del, with an unprivileged iptap churn"
		rtnl_bench
		continue
	fi
	for cfg in $(configs_of "$set"); do
		log "$set: $cfg"
		enter "$cfg"
		for n in $(seq "$runs"); do
			measure "$set" "$cfg" "$n"
		done
		leave "$set" "$cfg"
	done
done

if [ -n "$profiles$counts" ]; then
	echo 0 >/proc/sys/kernel/kptr_restrict
	cat /proc/kallsyms >"$res/kallsyms"
fi
for p in $profiles; do
	log "profile ${p%%:*}: ${p#*:}"
	profile_run "${p%%:*}" "${p#*:}"
done
for p in $counts; do
	log "count ${p%%:*}: ${p#*:}"
	count_run "${p%%:*}" "${p#*:}"
done
log "done"
