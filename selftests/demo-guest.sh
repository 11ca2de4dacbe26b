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

python3 selftests/lib/capture-to-pcap.py iptap0 /tmp/demo.pcap 6 &
while [ ! -e /tmp/demo.pcap.ready ]; do sleep 0.1; done

echo
echo "Traffic: ping to a peer namespace, a UDP datagram from socat,"
echo "an HTTP request from python3 to a local web server."
ping -c2 -i0.2 10.0.0.2 >/dev/null
echo hello | socat -u - UDP4-SENDTO:10.0.0.2:5353
(cd /tmp && python3 -m http.server 8080 --bind 127.0.0.1 >/dev/null 2>&1 &
 echo $! >/tmp/httpd.pid)
sleep 1.5
python3 -c 'import urllib.request as u; u.urlopen("http://127.0.0.1:8080/").read()'
kill "$(cat /tmp/httpd.pid)"
wait

say tcpdump -nn -r demo.pcap
tcpdump -nn -r /tmp/demo.pcap 2>/dev/null
say tshark -r demo.pcap -T fields -e pktap.ifname -e pktap.pid -e pktap.cmdname -e ip.src -e ip.dst -e _ws.col.Protocol
tshark -r /tmp/demo.pcap -T fields -e frame.number -e pktap.ifname \
	-e pktap.pid -e pktap.cmdname -e ip.src -e ip.dst -e _ws.col.Protocol 2>/dev/null
say ip -s link show iptap0
ip -s link show iptap0
