#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo, inside the VM: load iptap, create iptap0, let a few known
# processes talk, and show what iptap0 captured.

set -e
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

modprobe -a nf_socket_ipv4 nf_socket_ipv6
insmod "build/$IPTAP_RELEASE/kmod/iptap.ko"
ip link add va type veth peer name vb
ip netns add peer
ip link set vb netns peer
ip addr add 10.0.0.1/24 dev va; ip link set va up
ip -n peer addr add 10.0.0.2/24 dev vb; ip -n peer link set vb up
ip -n peer link set lo up

say ip link add iptap0 type iptap
ip link add iptap0 type iptap
say ip -d link show iptap0
ip -d link show iptap0

dump=tools/iptapdump/iptapdump
tcpdump=build/pcap/root/bin/tcpdump
$tcpdump -i iptap0 -y PKTAP -k -nn -l >/tmp/demo-tcpdump.txt 2>&1 &
tdump=$!
$dump -i iptap0 >/tmp/demo.txt 2>/tmp/demo.err &
text=$!
$dump -i iptap0 -w /tmp/demo.pcap 2>/dev/null &
file=$!
sleep 1

echo
echo "Traffic: ping to a peer namespace, a UDP datagram from socat,"
echo "an HTTP request from a python3 client to a python3 web server."
ping -c2 -i0.2 10.0.0.2 >/dev/null
echo hello | socat -u - UDP4-SENDTO:10.0.0.2:5353
(cd /tmp && exec python3 -m http.server 8080 --bind 127.0.0.1 >/dev/null 2>&1) &
httpd=$!
for _ in $(seq 100); do
	ss -ltn | grep -q '127.0.0.1:8080 ' && break
	sleep 0.1
done
python3 -c 'import urllib.request as u; u.urlopen("http://127.0.0.1:8080/").read()'
kill "$httpd"
sleep 0.5
kill -INT "$text" "$file" "$tdump"
wait "$text" "$file" "$tdump"

say tcpdump -i iptap0 -y PKTAP -k -nn "   (the project's patched tcpdump)"
grep -v 'ICMP6' /tmp/demo-tcpdump.txt

say iptapdump -i iptap0
cat /tmp/demo.txt /tmp/demo.err
say tshark -r demo.pcap -T fields -e pktap.ifname -e pktap.pid -e pktap.cmdname -e ip.src -e ip.dst -e _ws.col.Protocol
tshark -r /tmp/demo.pcap -T fields -e frame.number -e pktap.ifname \
	-e pktap.pid -e pktap.cmdname -e ip.src -e ip.dst -e _ws.col.Protocol 2>/dev/null
say tcpdump -nn -r demo.pcap -c 6
tcpdump -nn -r /tmp/demo.pcap -c 6 2>/dev/null
say ip -s link show iptap0
ip -s link show iptap0
