// SPDX-License-Identifier: GPL-2.0
/*
 * iptapdump's host unit tests: record parsing, text formatting, the BPF
 * rewriting (each rewritten program, run by libpcap's bpf_filter() on a
 * synthetic record, must decide as the original does on the bare
 * packet), the metadata checks, pcap writing (read back by libpcap),
 * pcapng writing (its blocks walked here) and the --top table.  No kernel, no privilege.  Prints TAP lines and
 * "unit: N passed, N failed"; exits non-zero on any failure.
 *
 * With arguments, also writes a sample pcap file at the first and a
 * sample pcapng file at the second, for tests/run.sh to hand to tcpdump
 * and tshark.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "iptapdump.h"

static int n_pass, n_fail;

__attribute__((format(printf, 2, 3)))
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", n_pass + n_fail + 1);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (cond)
		n_pass++;
	else
		n_fail++;
	return cond;
}

static int eq_str(const char *got, const char *want, const char *name)
{
	if (!ok(!strcmp(got, want), "%s", name)) {
		printf("#   got:  \"%s\"\n#   want: \"%s\"\n", got, want);
		return 0;
	}
	return 1;
}

/* ---- synthetic packets ---- */

struct pkt {
	const char *name;
	uint8_t b[400];
	uint32_t len;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void ip4(struct pkt *p, unsigned int proto, const char *src,
		const char *dst, uint32_t l4len, unsigned int optwords)
{
	uint32_t hl = 20 + 4 * optwords;

	memset(p->b, 0, sizeof(p->b));
	p->b[0] = (uint8_t)(0x40 | (hl / 4));
	put16(p->b + 2, (uint16_t)(hl + l4len));
	put16(p->b + 4, 0x1234);
	p->b[8] = 64;
	p->b[9] = (uint8_t)proto;
	inet_pton(AF_INET, src, p->b + 12);
	inet_pton(AF_INET, dst, p->b + 16);
	p->len = hl + l4len;
}

/*
 * IPv6 with the n extension headers whose next-header values ext lists
 * put before the transport, 8 bytes each; where the transport starts.
 */
static uint32_t ip6(struct pkt *p, unsigned int proto, const char *src,
		    const char *dst, uint32_t l4len, const uint8_t *ext,
		    unsigned int n)
{
	uint32_t off = 40;
	unsigned int i;

	memset(p->b, 0, sizeof(p->b));
	p->b[0] = 0x60;
	p->b[6] = (uint8_t)(n ? ext[0] : proto);
	p->b[7] = 64;
	inet_pton(AF_INET6, src, p->b + 8);
	inet_pton(AF_INET6, dst, p->b + 24);
	for (i = 0; i < n; i++) {
		p->b[off] = (uint8_t)(i + 1 < n ? ext[i + 1] : proto);
		if (ext[i] == 44)
			put32(p->b + off + 4, 0xabcd);	/* fragment id */
		off += 8;
	}
	put16(p->b + 4, (uint16_t)(off - 40 + l4len));
	p->len = off + l4len;
	return off;
}

static void udp(uint8_t *l4, uint16_t sp, uint16_t dp, uint32_t paylen)
{
	put16(l4, sp);
	put16(l4 + 2, dp);
	put16(l4 + 4, (uint16_t)(8 + paylen));
}

static void tcp(uint8_t *l4, uint16_t sp, uint16_t dp, uint8_t flags,
		uint32_t seq, uint32_t ack)
{
	put16(l4, sp);
	put16(l4 + 2, dp);
	put32(l4 + 4, seq);
	put32(l4 + 8, ack);
	l4[12] = 5 << 4;
	l4[13] = flags;
	put16(l4 + 14, 64240);
}

enum {
	P_TCP4_SYN, P_UDP4_7000, P_UDP4_53, P_ICMP4_ECHO, P_ICMP4_UNREACH,
	P_FRAG4, P_FRAG4_FIRST, P_UDP6_7000, P_TCP6_80_HBH, P_ICMP6_FRAG,
	P_ICMP6_NS, P_FRAG6_LATER, P_UDP6_RT_AH, P_BIG_UDP4, P_GRE4, P_TINY, P_TRUNC_TCP4,
	P_NPKTS
};

static struct pkt pkts[P_NPKTS];

static void make_packets(void)
{
	static const uint8_t hbh_dst[] = { 0, 60 };
	static const uint8_t frag[] = { 44 };
	static const uint8_t rt_ah[] = { 43, 51 };
	struct pkt *p;
	uint32_t off;

	p = &pkts[P_TCP4_SYN];
	p->name = "IPv4 TCP SYN with IP options";
	ip4(p, 6, "10.0.0.1", "10.0.0.2", 20, 1);
	tcp(p->b + 24, 40000, 80, 0x02, 1000, 0);

	p = &pkts[P_UDP4_7000];
	p->name = "IPv4 UDP to 7000";
	ip4(p, 17, "10.0.0.1", "10.0.0.2", 18, 0);
	udp(p->b + 20, 5555, 7000, 10);
	memcpy(p->b + 28, "datagram 0", 10);

	p = &pkts[P_UDP4_53];
	p->name = "IPv4 UDP from 53";
	ip4(p, 17, "192.168.1.1", "10.0.0.1", 40, 0);
	udp(p->b + 20, 53, 33333, 32);

	p = &pkts[P_ICMP4_ECHO];
	p->name = "IPv4 ICMP echo request";
	ip4(p, 1, "10.0.0.1", "10.0.0.2", 64, 0);
	p->b[20] = 8;
	put16(p->b + 24, 77);
	put16(p->b + 26, 3);

	p = &pkts[P_ICMP4_UNREACH];
	p->name = "IPv4 ICMP port unreachable";
	ip4(p, 1, "10.0.0.2", "10.0.0.1", 36, 0);
	p->b[20] = 3;
	p->b[21] = 3;

	p = &pkts[P_FRAG4];
	p->name = "IPv4 non-first fragment of UDP";
	ip4(p, 17, "10.0.0.1", "10.0.0.2", 100, 0);
	put16(p->b + 6, 185);		/* offset 1480 */

	p = &pkts[P_FRAG4_FIRST];
	p->name = "IPv4 first fragment of UDP to 7000";
	ip4(p, 17, "10.0.0.1", "10.0.0.2", 100, 0);
	put16(p->b + 6, 0x2000);	/* more fragments */
	udp(p->b + 20, 5555, 7000, 3000);

	p = &pkts[P_UDP6_7000];
	p->name = "IPv6 UDP to 7000";
	off = ip6(p, 17, "fd00::1", "fd00::2", 12, NULL, 0);
	udp(p->b + off, 6666, 7000, 4);

	p = &pkts[P_TCP6_80_HBH];
	p->name = "IPv6 TCP to 80 after hop-by-hop and destination options";
	off = ip6(p, 6, "fd00::2", "fd00::1", 20, hbh_dst, 2);
	tcp(p->b + off, 80, 41000, 0x12, 5, 1001);

	p = &pkts[P_ICMP6_FRAG];
	p->name = "IPv6 first fragment of an ICMPv6 echo reply";
	off = ip6(p, 58, "fd00::2", "fd00::1", 16, frag, 1);
	p->b[40 + 3] = 1;		/* more fragments */
	p->b[off] = 129;
	put16(p->b + off + 4, 9);
	put16(p->b + off + 6, 1);

	p = &pkts[P_ICMP6_NS];
	p->name = "IPv6 neighbor solicitation";
	off = ip6(p, 58, "fe80::1", "ff02::1:ff00:2", 24, NULL, 0);
	p->b[off] = 135;
	inet_pton(AF_INET6, "fd00::2", p->b + off + 8);

	p = &pkts[P_FRAG6_LATER];
	p->name = "IPv6 non-first fragment of UDP";
	off = ip6(p, 17, "fd00::1", "fd00::2", 50, frag, 1);
	put16(p->b + 40 + 2, 1448);	/* offset 1448, a multiple of 8 */

	p = &pkts[P_UDP6_RT_AH];
	p->name = "IPv6 UDP after routing and a 16-byte AH";
	off = ip6(p, 17, "fd00::1", "fd00::2", 8 + 12, rt_ah, 2);
	p->b[48 + 1] = 2;		/* AH: (2 + 2) * 4 = 16 bytes */
	memmove(p->b + off + 8, p->b + off, 12);
	p->len += 8;
	put16(p->b + 4, (uint16_t)(p->len - 40));
	udp(p->b + off + 8, 1, 53, 4);

	p = &pkts[P_BIG_UDP4];
	p->name = "IPv4 UDP 300 bytes";
	ip4(p, 17, "10.0.0.1", "10.0.0.2", 280, 0);
	udp(p->b + 20, 1234, 7001, 272);

	p = &pkts[P_GRE4];
	p->name = "IPv4 GRE";
	ip4(p, 47, "10.0.0.1", "10.0.0.9", 24, 0);

	p = &pkts[P_TINY];
	p->name = "a 3-byte IPv4 stub";
	memset(p->b, 0, sizeof(p->b));
	p->b[0] = 0x45;
	p->len = 3;

	p = &pkts[P_TRUNC_TCP4];
	p->name = "IPv4 TCP cut after 10 bytes of TCP";
	ip4(p, 6, "10.0.0.1", "10.0.0.2", 40, 0);
	tcp(p->b + 20, 1, 2, 0x18, 7, 8);
	p->len = 30;
}

/* ---- synthetic records ---- */

struct recspec {
	const char *ifname;
	uint32_t flags;
	int32_t pid, epid;
	const char *comm, *ecomm;
};

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* A record as iptap makes it, of pkt; its length. */
static uint32_t make_record(uint8_t *buf, const struct recspec *s,
			    const struct pkt *p)
{
	int v6 = p->len && (p->b[0] >> 4) == 6;

	memset(buf, 0, RECORD_HLEN);
	le32(buf + 0, RECORD_HLEN - 4);
	le32(buf + 4, 1);
	le32(buf + 8, 0);
	strncpy((char *)buf + 12, s->ifname, 23);
	le32(buf + 36, s->flags);
	le32(buf + 40, v6 ? 30 : 2);
	le32(buf + 52, (uint32_t)s->pid);
	strncpy((char *)buf + 56, s->comm, 16);
	le32(buf + 76, 0);
	buf[80] = 1;
	buf[82] = 1;
	le32(buf + 84, (uint32_t)s->epid);
	strncpy((char *)buf + 88, s->ecomm, 16);
	le32(buf + 108, 0xdeadbeef);
	le32(buf + 112, v6 ? p->b[6] : p->b[9]);
	le32(buf + 116, 1700000000);
	le32(buf + 120, 123456);
	le32(buf + 156, IPTAP_PKTAP_EXT_MAGIC);
	le32(buf + 160, 0x89abcdef);	/* cgroup ID */
	le32(buf + 164, 0x1234567);
	le32(buf + 168, 1000);		/* uid */
	le32(buf + RECORD_HLEN - 4, v6 ? 30 : 2);
	memcpy(buf + RECORD_HLEN, p->b, p->len);
	return RECORD_HLEN + p->len;
}

static const struct recspec default_spec = {
	"va1", IPTAP_PTH_FLAG_DIR_OUT, 4242, 4242, "udp-client", "udp-client"
};

/* ---- record parsing ---- */

static void test_parse(void)
{
	struct recspec s = { "veth12", IPTAP_PTH_FLAG_DIR_IN, 77, 66,
			     "child", "parent" };
	uint8_t buf[600];
	struct rec r;
	uint32_t len;

	len = make_record(buf, &s, &pkts[P_UDP6_7000]);
	ok(!rec_parse(buf, len, len, &r), "parse: a record parses");
	ok(r.hdrlen == RECORD_HLEN - 4 && r.flags == 1 && r.family == 30 && r.af == 30,
	   "parse: length, flags, family, AF word");
	eq_str(r.ifname, "veth12", "parse: ifname");
	ok(r.pid == 77 && r.epid == 66, "parse: pid %d, epid %d", r.pid,
	   r.epid);
	eq_str(r.comm, "child", "parse: comm");
	eq_str(r.ecomm, "parent", "parse: ecomm");
	ok(r.ipproto == 17 && r.iftype == 1 && r.ifunit == 1 &&
	   r.flowid == 0xdeadbeef, "parse: ipproto, iftype, ifunit, flowid");
	ok(r.sec == 1700000000 && r.usec == 123456, "parse: timestamp");
	ok(r.pkt == buf + RECORD_HLEN && r.pktcap == pkts[P_UDP6_7000].len &&
	   r.pktlen == pkts[P_UDP6_7000].len, "parse: the packet follows");
	ok(rec_dir(&r) == 1, "parse: direction in");
	ok(r.ext && r.uid == 1000 && r.cgroup_id == 0x123456789abcdefull,
	   "parse: the extension's uid and cgroup ID");
	le32(buf + 156, 0);
	ok(!rec_parse(buf, len, len, &r) && !r.ext && r.uid == -1 &&
	   !r.cgroup_id, "parse: no extension without its magic");
	le32(buf + 156, IPTAP_PKTAP_EXT_MAGIC);

	/* pid -1: every byte of a negative number. */
	s.pid = s.epid = -1;
	s.comm = s.ecomm = "";
	len = make_record(buf, &s, &pkts[P_UDP4_7000]);
	ok(!rec_parse(buf, len, len + 100, &r) && r.pid == -1 &&
	   r.epid == -1 && !r.comm[0], "parse: pid -1, no name");
	ok(r.pktlen == pkts[P_UDP4_7000].len + 100 &&
	   r.pktcap == pkts[P_UDP4_7000].len,
	   "parse: wire length beyond the captured bytes");

	/* A full 16-character name is NUL-terminated all the same. */
	memset(buf + 56, 'x', 17);
	ok(!rec_parse(buf, len, len, &r) && strlen(r.comm) == 17,
	   "parse: an unterminated name stops at its field");

	ok(rec_parse(buf, 159, 159, &r) == -1, "parse: 159 bytes are too few");
	le32(buf + 4, 0);
	ok(rec_parse(buf, len, len, &r) == -1,
	   "parse: pth_type_next 0 is no packet");
	le32(buf + 4, 1);
	le32(buf, 100);
	ok(rec_parse(buf, len, len, &r) == -1, "parse: pth_length < 108");
	le32(buf, 5000);
	ok(rec_parse(buf, len, len, &r) == -1,
	   "parse: pth_length past the record");
	le32(buf, 156);
	le32(buf + 8, 1);
	ok(rec_parse(buf, len, len, &r) == -1, "parse: pth_dlt must be 0");
}

/* ---- text ---- */

static void summary(int i, int quick, const char *want)
{
	char buf[512], name[128];

	fmt_ip(buf, sizeof(buf), pkts[i].b, pkts[i].len, pkts[i].len, quick);
	snprintf(name, sizeof(name), "format%s: %s", quick ? " -q" : "",
		 pkts[i].name);
	eq_str(buf, want, name);
}

static void test_format(void)
{
	struct recspec s = default_spec;
	char buf[1024], small[16];
	uint8_t rb[600];
	struct rec r;
	uint32_t len;

	summary(P_TCP4_SYN, 0, "IP 10.0.0.1.40000 > 10.0.0.2.80: TCP [S] "
		"seq 1000 win 64240 length 0");
	summary(P_UDP4_7000, 0, "IP 10.0.0.1.5555 > 10.0.0.2.7000: UDP, "
		"length 10");
	summary(P_ICMP4_ECHO, 0, "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, "
		"id 77, seq 3, length 64");
	summary(P_ICMP4_UNREACH, 0, "IP 10.0.0.2 > 10.0.0.1: ICMP unreachable "
		"(port), length 36");
	summary(P_FRAG4, 0, "IP 10.0.0.1 > 10.0.0.2: frag id 4660 off 1480 "
		"(udp), length 100");
	summary(P_FRAG4_FIRST, 0, "IP 10.0.0.1.5555 > 10.0.0.2.7000: UDP, "
		"length 3000 (frag id 4660)");
	summary(P_UDP6_7000, 0, "IP6 fd00::1.6666 > fd00::2.7000: UDP, "
		"length 4");
	summary(P_TCP6_80_HBH, 0, "IP6 fd00::2.80 > fd00::1.41000: TCP [S.] "
		"seq 5 ack 1001 win 64240 length 0");
	summary(P_ICMP6_FRAG, 0, "IP6 fd00::2 > fd00::1: ICMP6 echo reply, "
		"id 9, seq 1, length 16 (frag id 43981)");
	summary(P_ICMP6_NS, 0, "IP6 fe80::1 > ff02::1:ff00:2: ICMP6 neighbor "
		"solicitation who has fd00::2, length 24");
	summary(P_FRAG6_LATER, 0, "IP6 fd00::1 > fd00::2: frag id 43981 off "
		"1448 (udp), length 50");
	summary(P_UDP6_RT_AH, 0, "IP6 fd00::1.1 > fd00::2.53: UDP, length 4");
	summary(P_GRE4, 0, "IP 10.0.0.1 > 10.0.0.9: gre, length 24");
	summary(P_TINY, 0, "IP [|ip]");
	summary(P_TRUNC_TCP4, 0, "IP 10.0.0.1.1 > 10.0.0.2.2: [|tcp]");
	summary(P_TCP4_SYN, 1, "IP 10.0.0.1.40000 > 10.0.0.2.80: tcp 0");
	summary(P_UDP6_7000, 1, "IP6 fd00::1.6666 > fd00::2.7000: udp 4");
	summary(P_ICMP4_ECHO, 1, "IP 10.0.0.1 > 10.0.0.2: icmp 64");

	fmt_ip(buf, sizeof(buf), pkts[P_UDP4_7000].b, 0, 0, 0);
	eq_str(buf, "[empty]", "format: an empty packet");
	fmt_ip(small, sizeof(small), pkts[P_UDP6_7000].b,
	       pkts[P_UDP6_7000].len, pkts[P_UDP6_7000].len, 0);
	eq_str(small, "IP6 fd00::1.666", "format: a small buffer truncates");

	fmt_name(buf, sizeof(buf), "Web Content\\\x01");
	eq_str(buf, "Web\\x20Content\\x5c\\x01", "format: names are escaped");
	fmt_proc(buf, sizeof(buf), -1, "");
	eq_str(buf, "-", "format: no process");
	fmt_proc(buf, sizeof(buf), 12, "ping");
	eq_str(buf, "ping:12", "format: comm:pid");

	len = make_record(rb, &s, &pkts[P_UDP4_7000]);
	rec_parse(rb, len, len, &r);
	fmt_record(buf, sizeof(buf), &r, 0, 0);
	eq_str(buf, "22:13:20.123456 out va1 udp-client:4242 IP 10.0.0.1.5555 "
	       "> 10.0.0.2.7000: UDP, length 10", "format: a whole line");

	s.pid = 9;
	s.comm = "fork-child";
	s.epid = 8;
	s.ecomm = "fork-parent";
	s.flags = IPTAP_PTH_FLAG_DIR_IN;
	s.ifname = "";
	len = make_record(rb, &s, &pkts[P_ICMP4_ECHO]);
	rec_parse(rb, len, len, &r);
	fmt_record(buf, sizeof(buf), &r, 1, 0);
	eq_str(buf, "22:13:20.123456 in  - fork-child:9 via fork-parent:8 IP "
	       "10.0.0.1 > 10.0.0.2: icmp 64",
	       "format: the effective process, no interface, -q");
	fmt_record(buf, sizeof(buf), &r, 1, 1);
	eq_str(buf, "22:13:20.123456 in  - fork-child:9 via fork-parent:8 "
	       "user 1000 cgroup #81985529216486895 IP 10.0.0.1 > 10.0.0.2: "
	       "icmp 64", "format: -e, a cgroup with no path here");
	le32(rb + 168, 0xffffffff);
	le32(rb + 160, 0);
	le32(rb + 164, 0);
	rec_parse(rb, len, len, &r);
	fmt_record(buf, sizeof(buf), &r, 1, 1);
	eq_str(buf, "22:13:20.123456 in  - fork-child:9 via fork-parent:8 "
	       "user - cgroup - IP 10.0.0.1 > 10.0.0.2: icmp 64",
	       "format: -e, no socket");
}

/* ---- BPF rewriting ---- */

static const char *const exprs[] = {
	"", "ip", "ip6", "udp port 7000", "tcp", "udp", "icmp", "icmp6",
	"len > 100", "greater 200", "less 60", "tcp[tcpflags] & tcp-syn != 0",
	"host 10.0.0.1",
	"net fd00::/64", "ip[8] = 64", "udp[8:4] = 0x64617461",
	"portrange 7000-7100", "ip6 and udp", "ip proto 47",
	"ip6 and tcp port 80", "(icmp or udp) and not port 53",
	"ip[6:2] & 0x1fff != 0", "ip6[6] = 44", "src net 10.0.0.0/24",
	"dst host fd00::2", "icmp[icmptype] = icmp-echo",
	"icmp6[icmp6type] = icmp6-echoreply", "ip6 multicast",
	"tcp src port 80 or tcp dst port 80", "udp and len >= 48",
	"ip[0] & 0xf > 5", "ip6 and ip6[40] = 0x3a", "not ip",
	"tcp[13] = 0x12", "udp dst port 7000 and ip[2:2] < 100",
	"ip multicast", "ip and ip[9] != 6 and ip[9] != 17",
};

/*
 * Run f on every packet bare and g on its record; both must accept and
 * reject alike, g keeping RECORD_HLEN bytes more.
 */
static int same_decisions(const struct filter *f, const struct filter *g,
			  unsigned int *accepted, unsigned int *rejected,
			  char *why, size_t whylen)
{
	uint8_t rb[600];
	unsigned int i;

	for (i = 0; i < P_NPKTS; i++) {
		uint32_t len = make_record(rb, &default_spec, &pkts[i]);
		unsigned int a = filter_run(f, pkts[i].b, pkts[i].len, pkts[i].len);
		unsigned int b = filter_run(g, rb, len, len);
		unsigned int want = a == 0 ? 0 :
			a > UINT32_MAX - RECORD_HLEN ? UINT32_MAX :
			a + RECORD_HLEN;

		if (b != want) {
			snprintf(why, whylen, "%s: bare %u, record %u",
				 pkts[i].name, a, b);
			return 0;
		}
		if (a)
			(*accepted)++;
		else
			(*rejected)++;
	}
	return 1;
}

static void test_offset_exprs(void)
{
	unsigned int i, acc_total = 0, rej_total = 0;
	char err[256], why[256];

	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		struct filter f, g;
		unsigned int acc = 0, rej = 0;
		int same;

		if (!ok(!filter_compile(exprs[i], &f, err, sizeof(err)),
			"offset: \"%s\" compiles", exprs[i])) {
			printf("#   %s\n", err);
			continue;
		}
		if (!ok(!filter_offset(&f, RECORD_HLEN, &g, err, sizeof(err)) &&
			bpf_validate(g.insns, (int)g.len),
			"offset: \"%s\" rewritten and valid", exprs[i])) {
			printf("#   %s\n", err);
			filter_free(&f);
			continue;
		}
		same = same_decisions(&f, &g, &acc, &rej, why, sizeof(why));
		if (!ok(same, "offset: \"%s\" decides alike on records "
			"(%u accepted, %u rejected)", exprs[i], acc, rej))
			printf("#   %s\n", why);
		acc_total += acc;
		rej_total += rej;
		filter_free(&f);
		filter_free(&g);
	}
	{
		struct filter f, g;

		ok(!filter_compile("ip6 protochain 6", &f, err, sizeof(err)) &&
		   filter_offset(&f, RECORD_HLEN, &g, err, sizeof(err)) == -1 &&
		   strstr(err, "backwards"),
		   "offset: protochain, a loop, is refused: %s", err);
		filter_free(&f);
	}
	ok(acc_total > 100 && rej_total > 100,
	   "offset: the expressions both accept and reject (%u, %u)",
	   acc_total, rej_total);
}

#define I(c, t, f, kk) { .code = (c), .jt = (t), .jf = (f), .k = (kk) }

/* mixed: the program must accept some packets and reject others. */
static void check_prog(const char *name, struct bpf_insn *v, unsigned int n,
		       int mixed)
{
	struct filter f = { v, n }, g;
	unsigned int acc = 0, rej = 0;
	char err[256], why[256];
	int same;

	if (!ok(!filter_offset(&f, RECORD_HLEN, &g, err, sizeof(err)) &&
		bpf_validate(g.insns, (int)g.len), "offset: %s: rewritten",
		name)) {
		printf("#   %s\n", err);
		return;
	}
	same = same_decisions(&f, &g, &acc, &rej, why, sizeof(why));
	if (!ok(same && (!mixed || (acc && rej)), "offset: %s: decides alike (%u accepted, "
		"%u rejected)", name, acc, rej))
		printf("#   %s\n", why);
	filter_free(&g);
}

static void test_offset_handmade(void)
{
	struct bpf_insn ret_a[] = {
		I(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0),
		I(BPF_RET | BPF_A, 0, 0, 0),
	};
	struct bpf_insn ret_a_zero[] = {
		I(BPF_LD | BPF_B | BPF_ABS, 0, 0, 9),
		I(BPF_ALU | BPF_SUB | BPF_K, 0, 0, 17),
		I(BPF_RET | BPF_A, 0, 0, 0),
	};
	struct bpf_insn ret_a_huge[] = {
		I(BPF_LD | BPF_IMM, 0, 0, 0xffffff00u),
		I(BPF_RET | BPF_A, 0, 0, 0),
	};
	struct bpf_insn ldx_len[] = {
		I(BPF_LD | BPF_B | BPF_ABS, 0, 0, 0),
		I(BPF_ST, 0, 0, 0),
		I(BPF_LDX | BPF_W | BPF_LEN, 0, 0, 0),
		I(BPF_MISC | BPF_TXA, 0, 0, 0),
		I(BPF_JMP | BPF_JGT | BPF_K, 0, 2, 60),
		I(BPF_LD | BPF_MEM, 0, 0, 0),
		I(BPF_RET | BPF_A, 0, 0, 0),
		I(BPF_RET | BPF_K, 0, 0, 0),
	};
	/* Jumps over and onto instructions that grow. */
	struct bpf_insn jumps[] = {
		I(BPF_LD | BPF_B | BPF_ABS, 0, 0, 9),
		I(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 17),
		I(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0),
		I(BPF_LDX | BPF_W | BPF_LEN, 0, 0, 0),
		I(BPF_JMP | BPF_JA, 0, 0, 1),
		I(BPF_RET | BPF_K, 0, 0, 0),
		I(BPF_JMP | BPF_JGT | BPF_K, 1, 0, 30),
		I(BPF_RET | BPF_A, 0, 0, 0),
		I(BPF_RET | BPF_K, 0, 0, 96),
	};
	struct bpf_insn far_abs[] = {
		I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0x7fffff80u),
		I(BPF_RET | BPF_K, 0, 0, 1),
	};
	struct bpf_insn neg_ind[] = {
		I(BPF_LDX | BPF_IMM, 0, 0, 4),
		I(BPF_LD | BPF_B | BPF_IND, 0, 0, 0xfffffffeu),	/* x - 2 */
		I(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0x40),
		I(BPF_RET | BPF_K, 0, 0, 0xffffffffu),
		I(BPF_RET | BPF_K, 0, 0, 0),
	};
	struct bpf_insn special[] = {
		I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0xfffff000u),
		I(BPF_RET | BPF_A, 0, 0, 0),
	};
	struct bpf_insn all_scratch[2 * BPF_MEMWORDS + 2];
	struct filter f, g;
	char err[256];
	unsigned int i;

	check_prog("ld len; ret a", ret_a, 2, 0);
	check_prog("ret a with a = 0", ret_a_zero, 3, 1);
	check_prog("ret a near 2^32", ret_a_huge, 2, 0);
	check_prog("ldx len", ldx_len, 8, 1);
	check_prog("jumps across grown instructions", jumps, 9, 1);
	check_prog("ld [2^31 - 128]", far_abs, 2, 0);
	/*
	 * The kernel adds x and k modulo 2^32 (libpcap's bpf_filter()
	 * refuses a negative k instead): k - 2 + 176 is k + 174.
	 */
	f.insns = neg_ind;
	f.len = 5;
	ok(!filter_offset(&f, RECORD_HLEN, &g, err, sizeof(err)) &&
	   g.len == 5 && g.insns[1].k == RECORD_HLEN - 2 && g.insns[3].k == 0xffffffffu,
	   "offset: ld [x + k] with a negative k moves modulo 2^32");
	filter_free(&g);

	f.insns = special;
	f.len = 2;
	ok(filter_offset(&f, RECORD_HLEN, &g, err, sizeof(err)) == -1 &&
	   strstr(err, "special"), "offset: special offsets are refused");

	for (i = 0; i < BPF_MEMWORDS; i++)
		all_scratch[i] = (struct bpf_insn)I(BPF_ST, 0, 0, i);
	all_scratch[i++] = (struct bpf_insn)I(BPF_LDX | BPF_W | BPF_LEN, 0, 0, 0);
	all_scratch[i++] = (struct bpf_insn)I(BPF_RET | BPF_K, 0, 0, 1);
	f.insns = all_scratch;
	f.len = i;
	ok(filter_offset(&f, RECORD_HLEN, &g, err, sizeof(err)) == -1 &&
	   strstr(err, "scratch"),
	   "offset: ldx len with no free scratch word is refused");
}

/* A deterministic generator of random, valid programs. */
static uint32_t rnd_state = 12345;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static void random_prog(struct bpf_insn *v, unsigned int n)
{
	static const uint16_t loads[] = {
		BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS,
		BPF_LD | BPF_B | BPF_ABS, BPF_LD | BPF_W | BPF_IND,
		BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_B | BPF_IND,
		BPF_LDX | BPF_B | BPF_MSH, BPF_LD | BPF_W | BPF_LEN,
		BPF_LDX | BPF_W | BPF_LEN, BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM,
		BPF_ST, BPF_STX, BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM,
		BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
		BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_SUB | BPF_K,
		BPF_ALU | BPF_AND | BPF_K, BPF_ALU | BPF_RSH | BPF_K,
		BPF_ALU | BPF_ADD | BPF_X,
	};
	static const uint16_t jumps[] = {
		BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JGT | BPF_K,
		BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JSET | BPF_K,
		BPF_JMP | BPF_JGT | BPF_X, BPF_JMP | BPF_JA,
	};
	unsigned int i;

	/*
	 * Scratch words 0-7 are set first (the kernel refuses to read an
	 * unset one; libpcap would read garbage); 8-15 stay free.
	 */
	for (i = 0; i < 16; i += 2) {
		v[i] = (struct bpf_insn)I(BPF_LD | BPF_IMM, 0, 0, rnd(1000));
		v[i + 1] = (struct bpf_insn)I(BPF_ST, 0, 0, i / 2);
	}
	for (; i + 1 < n; i++) {
		struct bpf_insn *w = &v[i];
		unsigned int left = n - i - 2;

		memset(w, 0, sizeof(*w));
		if (rnd(4) == 0) {
			w->code = jumps[rnd(sizeof(jumps) / sizeof(jumps[0]))];
			if (w->code == (BPF_JMP | BPF_JA)) {
				w->k = rnd(left + 1);
			} else {
				w->jt = (uint8_t)rnd(left + 1);
				w->jf = (uint8_t)rnd(left + 1);
				w->k = rnd(3) ? rnd(80) : rnd(0x80);
			}
		} else if (rnd(10) == 0) {
			w->code = rnd(2) ? BPF_RET | BPF_A : BPF_RET | BPF_K;
			w->k = rnd(3) ? rnd(400) : 0;
		} else {
			w->code = loads[rnd(sizeof(loads) / sizeof(loads[0]))];
			switch (w->code) {
			case BPF_ST: case BPF_STX:
			case BPF_LD | BPF_MEM: case BPF_LDX | BPF_MEM:
				w->k = rnd(8);
				break;
			case BPF_ALU | BPF_RSH | BPF_K:
				w->k = rnd(8);
				break;
			default:
				w->k = rnd(3) ? rnd(60) : rnd(400);
			}
		}
	}
	v[n - 1].code = rnd(2) ? BPF_RET | BPF_A : BPF_RET | BPF_K;
	v[n - 1].jt = v[n - 1].jf = 0;
	v[n - 1].k = rnd(5) ? 1 + rnd(300) : 0;
}

static void test_offset_random(void)
{
	unsigned int i, tried = 0, bad = 0, first = 0, acc = 0, rej = 0;
	char err[256], why[256] = "";
	struct bpf_insn v[60];

	for (i = 0; i < 3000; i++) {
		unsigned int n = 18 + rnd(42);
		struct filter f = { v, n }, g;

		random_prog(v, n);
		if (!bpf_validate(v, (int)n))
			continue;
		tried++;
		if (filter_offset(&f, RECORD_HLEN, &g, err, sizeof(err))) {
			/* Every scratch word in use is the one refusal. */
			if (!strstr(err, "scratch") && !bad++) {
				first = i;
				memcpy(why, err, sizeof(why));
			}
			continue;
		}
		if (!bpf_validate(g.insns, (int)g.len)) {
			if (!bad++) {
				first = i;
				snprintf(why, sizeof(why), "does not validate");
			}
		} else if (!same_decisions(&f, &g, &acc, &rej, err,
					   sizeof(err)) && !bad++) {
			first = i;
			memcpy(why, err, sizeof(why));
		}
		filter_free(&g);
	}
	if (!ok(!bad && tried > 1000, "offset: %u random programs decide "
		"alike (%u accepts, %u rejects)", tried, acc, rej))
		printf("#   %u bad, first: program %u: %s\n", bad, first, why);
}

/* ---- metadata checks ---- */

static int passes(const char *expr, const struct meta *m,
		  const struct recspec *s, int pkt)
{
	uint8_t rb[600];
	struct filter f;
	char err[256];
	uint32_t len = make_record(rb, s, &pkts[pkt]);
	unsigned int r;

	if (filter_build(expr, m, &f, err, sizeof(err))) {
		printf("#   filter_build: %s\n", err);
		return -1;
	}
	r = filter_run(&f, rb, len, len);
	filter_free(&f);
	return r != 0;
}

static void test_meta(void)
{
	struct recspec s = default_spec, t;
	struct meta m;
	struct filter f;
	char err[256];

	memset(&m, 0, sizeof(m));
	ok(!filter_build("", &m, &f, err, sizeof(err)) && f.len == 0,
	   "meta: no expression, no option: no filter at all");
	ok(passes("  ", &m, &s, P_TINY) == 1, "meta: a blank expression "
	   "passes everything");
	ok(filter_build("tcp port 99999", &m, &f, err, sizeof(err)) == -1 &&
	   strstr(err, "illegal port number"),
	   "meta: a bad expression gives libpcap's message (%s)", err);

	meta_add_pid(&m, "4242", err, sizeof(err));
	ok(passes("", &m, &s, P_UDP4_7000) == 1, "meta: --pid 4242 passes "
	   "pid 4242");
	t = s;
	t.pid = 4243;
	ok(passes("", &m, &t, P_UDP4_7000) == 1,
	   "meta: --pid 4242 passes epid 4242");
	t.epid = 4243;
	ok(passes("", &m, &t, P_UDP4_7000) == 0,
	   "meta: --pid 4242 drops pid 4243");
	t.pid = t.epid = -1;
	t.comm = t.ecomm = "";
	ok(passes("", &m, &t, P_UDP4_7000) == 0,
	   "meta: --pid 4242 drops no process");
	meta_add_pid(&m, "-1", err, sizeof(err));
	ok(passes("", &m, &t, P_UDP4_7000) == 1,
	   "meta: --pid 4242 --pid -1 passes no process");
	ok(passes("udp port 7000", &m, &s, P_UDP4_7000) == 1 &&
	   passes("udp port 7000", &m, &s, P_UDP4_53) == 0 &&
	   passes("icmp", &m, &s, P_UDP4_7000) == 0,
	   "meta: --pid with an expression: both must pass");
	ok(meta_add_pid(&m, "12x", err, sizeof(err)) == -1 &&
	   meta_add_pid(&m, "-2", err, sizeof(err)) == -1 &&
	   meta_add_pid(&m, "4294967296", err, sizeof(err)) == -1,
	   "meta: bad pids are refused");

	memset(&m, 0, sizeof(m));
	meta_add_comm(&m, "udp-client", err, sizeof(err));
	ok(passes("", &m, &s, P_UDP4_7000) == 1,
	   "meta: --comm udp-client passes it");
	t = s;
	t.comm = "udp-clien";
	ok(passes("", &m, &t, P_UDP4_7000) == 1,
	   "meta: --comm passes its ecomm");
	t.ecomm = "udp-client2";
	ok(passes("", &m, &t, P_UDP4_7000) == 0,
	   "meta: --comm udp-client drops udp-clien and udp-client2");
	memset(&m, 0, sizeof(m));
	meta_add_comm(&m, "averyveryverylongname", err, sizeof(err));
	t.comm = t.ecomm = "averyveryverylo";
	ok(passes("", &m, &t, P_UDP4_7000) == 1,
	   "meta: a long --comm matches the kernel's 15 characters");
	ok(meta_add_comm(&m, "", err, sizeof(err)) == -1,
	   "meta: an empty --comm is refused");

	memset(&m, 0, sizeof(m));
	meta_add_ifname(&m, "va1", err, sizeof(err));
	t = s;
	ok(passes("", &m, &t, P_UDP4_7000) == 1, "meta: --if va1 passes va1");
	t.ifname = "va10";
	ok(passes("", &m, &t, P_UDP4_7000) == 0, "meta: --if va1 drops va10");
	t.ifname = "va";
	ok(passes("", &m, &t, P_UDP4_7000) == 0, "meta: --if va1 drops va");
	meta_add_ifname(&m, "lo", err, sizeof(err));
	t.ifname = "lo";
	ok(passes("", &m, &t, P_UDP4_7000) == 1, "meta: --if va1 --if lo "
	   "passes lo");
	ok(meta_add_ifname(&m, "abcdefghijklmnopqrstuvwxyz", err,
			   sizeof(err)) == -1, "meta: a too long --if is refused");

	memset(&m, 0, sizeof(m));
	m.dirs = IPTAP_PTH_FLAG_DIR_IN;
	t = s;
	t.flags = IPTAP_PTH_FLAG_DIR_IN;
	ok(passes("", &m, &t, P_UDP4_7000) == 1 &&
	   passes("", &m, &s, P_UDP4_7000) == 0, "meta: --in");
	m.dirs = IPTAP_PTH_FLAG_DIR_OUT;
	ok(passes("", &m, &t, P_UDP4_7000) == 0 &&
	   passes("", &m, &s, P_UDP4_7000) == 1, "meta: --out");
	m.dirs = IPTAP_PTH_FLAG_DIR_IN | IPTAP_PTH_FLAG_DIR_OUT;
	ok(!filter_build("", &m, &f, err, sizeof(err)) && f.len == 0,
	   "meta: --in --out filters nothing");

	/* The extension: the records here are uid 1000's, in one cgroup. */
	memset(&m, 0, sizeof(m));
	ok(!meta_add_uid(&m, "1000", err, sizeof(err)) &&
	   passes("", &m, &s, P_UDP4_7000) == 1, "meta: --uid 1000 passes it");
	m.uids[0] = 1001;
	ok(passes("", &m, &s, P_UDP4_7000) == 0, "meta: --uid 1001 drops it");
	ok(meta_add_uid(&m, "-1", err, sizeof(err)) == -1 &&
	   meta_add_uid(&m, "4294967295", err, sizeof(err)) == -1 &&
	   meta_add_uid(&m, "x", err, sizeof(err)) == -1,
	   "meta: bad uids are refused");
	memset(&m, 0, sizeof(m));
	m.cgroups[m.ncgroups++] = 0x123456789abcdefull + (1ull << 32);
	ok(passes("", &m, &s, P_UDP4_7000) == 0,
	   "meta: a cgroup ID differing in its high word drops it");
	m.cgroups[m.ncgroups++] = 0x123456789abcdefull;
	ok(passes("", &m, &s, P_UDP4_7000) == 1,
	   "meta: its cgroup ID among others passes it");
	ok(meta_add_cgroup(&m, "system.slice", err, sizeof(err)) == -1 &&
	   strstr(err, "starts with /") &&
	   meta_add_cgroup(&m, "/no/such/cgroup/here", err, sizeof(err)) == -1,
	   "meta: --cgroup refuses a relative path and a missing cgroup");

	/* Everything at once. */
	memset(&m, 0, sizeof(m));
	meta_add_pid(&m, "4242", err, sizeof(err));
	meta_add_comm(&m, "udp-client", err, sizeof(err));
	meta_add_ifname(&m, "va1", err, sizeof(err));
	m.dirs = IPTAP_PTH_FLAG_DIR_OUT;
	ok(passes("ip6 or udp", &m, &s, P_UDP4_7000) == 1,
	   "meta: all options and an expression: a match");
	t = s;
	t.ifname = "va2";
	ok(passes("ip6 or udp", &m, &t, P_UDP4_7000) == 0,
	   "meta: all options: another interface");
	ok(passes("ip6 or udp", &m, &s, P_ICMP4_ECHO) == 0,
	   "meta: all options: the expression rejects");
	for (int i = 0; i < META_MAX - 1; i++) {
		meta_add_pid(&m, "1", err, sizeof(err));
		meta_add_comm(&m, "some-long-name", err, sizeof(err));
		meta_add_ifname(&m, "someinterface0", err, sizeof(err));
	}
	ok(m.npids == META_MAX && m.ncomms == META_MAX &&
	   m.nifnames == META_MAX && passes("udp", &m, &s, P_UDP4_7000) == 1 &&
	   passes("udp", &m, &t, P_UDP4_7000) == 0,
	   "meta: %d values of every option", META_MAX);
	ok(meta_add_pid(&m, "1", err, sizeof(err)) == -1,
	   "meta: one value too many is refused");
}

/* ---- pcap files ---- */

static void test_pcap(const char *sample)
{
	char path[] = "/tmp/iptapdump-unit-XXXXXX";
	struct recspec s = default_spec;
	uint8_t rb[600], hdr[24];
	struct pcap_pkthdr *ph;
	const u_char *data;
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcapw w = { 0 };
	uint32_t len[3];
	int fd, i, n = 0, good = 1;
	pcap_t *p;
	FILE *f;

	fd = mkstemp(path);
	if (!ok(fd >= 0, "pcap: temporary file"))
		return;
	close(fd);
	ok(!pcapw_open(&w, path), "pcap: open");
	for (i = 0; i < 3; i++) {
		int which[] = { P_UDP4_7000, P_TCP6_80_HBH, P_ICMP4_ECHO };

		len[i] = make_record(rb, &s, &pkts[which[i]]);
		pcapw_write(&w, 1700000000 + (uint32_t)i, 500000, rb, len[i],
			    len[i] + (i == 2 ? 10 : 0));
	}
	ok(!pcapw_close(&w), "pcap: close");

	f = fopen(path, "rb");
	ok(f && fread(hdr, 1, 24, f) == 24 &&
	   get_le32(hdr) == 0xa1b2c3d4 && get_le16(hdr + 4) == 2 &&
	   get_le16(hdr + 6) == 4 && get_le32(hdr + 16) == 262144 &&
	   get_le32(hdr + 20) == 258,
	   "pcap: header: magic, 2.4, snaplen 262144, LINKTYPE_PKTAP");
	if (f)
		fclose(f);

	p = pcap_open_offline(path, errbuf);
	if (!ok(p != NULL, "pcap: libpcap opens the file")) {
		printf("#   %s\n", errbuf);
		unlink(path);
		return;
	}
	ok(pcap_datalink(p) == DLT_PKTAP && pcap_snapshot(p) == 262144,
	   "pcap: libpcap sees DLT_PKTAP, snaplen 262144");
	while (pcap_next_ex(p, &ph, &data) == 1) {
		if (n >= 3 || ph->caplen != len[n] ||
		    ph->len != len[n] + (n == 2 ? 10 : 0) ||
		    ph->ts.tv_sec != 1700000000 + n ||
		    ph->ts.tv_usec != 500000 ||
		    get_le32(data + 52) != 4242)
			good = 0;
		n++;
	}
	ok(good && n == 3, "pcap: libpcap reads the 3 records back (%d)", n);
	pcap_close(p);
	unlink(path);

	if (sample) {
		/* For tcpdump and tshark: a few records of known processes. */
		struct recspec a = { "va1", IPTAP_PTH_FLAG_DIR_OUT, 1234, 1234,
				     "udp-client", "udp-client" };
		struct recspec b = { "va1", IPTAP_PTH_FLAG_DIR_IN, 77, 66,
				     "fork-child", "fork-parent" };

		ok(!pcapw_open(&w, sample), "pcap: sample file %s", sample);
		len[0] = make_record(rb, &a, &pkts[P_UDP4_7000]);
		pcapw_write(&w, 1700000000, 1, rb, len[0], len[0]);
		len[0] = make_record(rb, &b, &pkts[P_TCP6_80_HBH]);
		pcapw_write(&w, 1700000001, 2, rb, len[0], len[0]);
		ok(!pcapw_close(&w), "pcap: sample written");
	}
}

/* ---- pcapng files ---- */

struct ngfile {
	uint8_t *d;
	size_t len;
};

/* The whole file; the block walk below needs it in memory. */
static int slurp(const char *path, struct ngfile *f)
{
	FILE *fp = fopen(path, "rb");
	long n;

	f->d = NULL;
	if (!fp)
		return -1;
	if (fseek(fp, 0, SEEK_END) || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET)) {
		fclose(fp);
		return -1;
	}
	f->len = (size_t)n;
	f->d = malloc(f->len + 1);
	if (!f->d || fread(f->d, 1, f->len, fp) != f->len) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return 0;
}

/* Option code of the block's options starting at off; its value. */
static const uint8_t *ng_opt(const uint8_t *b, size_t off, size_t end,
			     uint16_t code, uint16_t *len)
{
	while (off + 4 <= end) {
		uint16_t c = get_le16(b + off), l = get_le16(b + off + 2);

		if (c == 0)
			return NULL;
		if (c == code) {
			*len = l;
			return b + off + 4;
		}
		off += 4 + ((l + 3u) & ~3u);
	}
	return NULL;
}

static uint32_t ng_opt32(const uint8_t *b, size_t off, size_t end,
			 uint16_t code, uint32_t none)
{
	uint16_t l;
	const uint8_t *v = ng_opt(b, off, end, code, &l);

	return v && l == 4 ? get_le32(v) : none;
}

/* Option 2 (an IDB's if_name, a DPIB's name) as a string, "" if none. */
static void ng_name(const uint8_t *b, size_t off, size_t end, char *buf,
		    size_t len)
{
	uint16_t l = 0;
	const uint8_t *v = ng_opt(b, off, end, 2, &l);

	snprintf(buf, len, "%.*s", v ? (int)l : 0, v ? (const char *)v : "");
}

static void test_pcapng(const char *sample)
{
	char path[] = "/tmp/iptapdump-ng-XXXXXX";
	struct recspec a = { "va1", IPTAP_PTH_FLAG_DIR_OUT, 1234, 1234,
			     "udp-client", "udp-client" };
	struct recspec b = { "lo", IPTAP_PTH_FLAG_DIR_IN, 77, 66,
			     "fork-child", "fork-parent" };
	struct recspec k = { "va1", IPTAP_PTH_FLAG_DIR_IN, -1, -1, "", "" };
	const struct recspec *order[] = { &a, &b, &a, &k };
	const int which[] = { P_UDP4_7000, P_TCP6_80_HBH, P_ICMP4_ECHO,
			      P_UDP4_7000 };
	uint8_t rb[600];
	struct ngw w;
	struct rec r;
	struct ngfile f = { 0 };
	size_t off = 0;
	int fd, i, nidb = 0, ndpib = 0, nepb = 0, shb = 0, lengths = 1;
	uint32_t epb_if[5], epb_pib[5], epb_epib[5], epb_dir[5], epb_cap[5];
	uint32_t dpib_pid[4];
	char dpib_name[4][20], idb_name[4][24];
	uint16_t idb_type[4];
	FILE *fp;

	fd = mkstemp(path);
	if (!ok(fd >= 0, "pcapng: temporary file"))
		return;
	fp = fdopen(fd, "wb");
	ok(fp && !ngw_fdopen(&w, fp, "iptap0", 1), "pcapng: open");
	for (i = 0; i < 4; i++) {
		uint32_t len = make_record(rb, order[i], &pkts[which[i]]);

		rec_parse(rb, len, len + (i == 2 ? 10 : 0), &r);
		r.sec = 1700000000 + (uint32_t)i;
		r.usec = 250000;
		ok(!ngw_write(&w, &r), "pcapng: record %d written", i);
	}
	/* Not a record of an IP packet: kept whole. */
	memset(rb, 0x5a, 40);
	ok(!ngw_write_record(&w, 1700000009, 0, rb, 40, 40),
	   "pcapng: a record that does not parse is written whole");
	ok(!ngw_close(&w), "pcapng: close");
	fclose(fp);

	if (!ok(!slurp(path, &f), "pcapng: read back")) {
		free(f.d);
		unlink(path);
		return;
	}
	while (off + 12 <= f.len) {
		const uint8_t *bl = f.d + off;
		uint32_t type = get_le32(bl), total = get_le32(bl + 4);

		if (total < 12 || total % 4 || off + total > f.len ||
		    get_le32(bl + total - 4) != total) {
			lengths = 0;
			break;
		}
		if (type == 0x0a0d0d0a) {
			shb += off == 0 && get_le32(bl + 8) == 0x1a2b3c4d &&
			       get_le16(bl + 12) == 1 && get_le16(bl + 14) == 0 &&
			       ng_opt(bl, 24, total - 4, 3, &(uint16_t){ 0 }) &&
			       ng_opt(bl, 24, total - 4, 1, &(uint16_t){ 0 });
		} else if (type == 1 && nidb < 4) {
			idb_type[nidb] = get_le16(bl + 8);
			ng_name(bl, 16, total - 4, idb_name[nidb],
				sizeof(idb_name[0]));
			nidb++;
		} else if (type == 0x80000001 && ndpib < 4) {
			dpib_pid[ndpib] = get_le32(bl + 8);
			ng_name(bl, 12, total - 4, dpib_name[ndpib],
				sizeof(dpib_name[0]));
			ndpib++;
		} else if (type == 6 && nepb < 5) {
			uint32_t cap = get_le32(bl + 20);
			size_t opts = 28 + ((cap + 3u) & ~3u);

			epb_if[nepb] = get_le32(bl + 8);
			epb_cap[nepb] = cap;
			epb_dir[nepb] = ng_opt32(bl, opts, total - 4, 2, 0);
			epb_pib[nepb] = ng_opt32(bl, opts, total - 4, 0x8001,
						 99);
			epb_epib[nepb] = ng_opt32(bl, opts, total - 4, 0x8003,
						  99);
			if (nepb == 0)
				ok(get_le32(bl + 12) == (uint32_t)(
					1700000000250000ull >> 32) &&
				   get_le32(bl + 16) == (uint32_t)1700000000250000ull &&
				   cap == pkts[P_UDP4_7000].len &&
				   get_le32(bl + 24) == cap &&
				   !memcmp(bl + 28, pkts[P_UDP4_7000].b, cap) &&
				   ng_opt32(bl, opts, total - 4, 0x8005, 0) ==
				   0xdeadbeef &&
				   ng_opt32(bl, opts, total - 4, 0x8002, 99) == 0,
				   "pcapng: an EPB holds the time in microseconds, "
				   "the bare IP packet, the flow hash, the service "
				   "class");
			if (nepb == 2)
				ok(get_le32(bl + 24) == cap + 10,
				   "pcapng: the original length is kept");
			nepb++;
		}
		off += total;
	}
	ok(lengths && off == f.len, "pcapng: every block's two lengths agree "
	   "and are multiples of 4");
	ok(shb == 1, "pcapng: a section header first, with the OS and a comment");
	ok(nidb == 3 && idb_type[0] == 101 && !strcmp(idb_name[0], "va1") &&
	   idb_type[1] == 101 && !strcmp(idb_name[1], "lo") &&
	   idb_type[2] == 258 && !strcmp(idb_name[2], "iptap0"),
	   "pcapng: one RAW interface per real interface, named as pth_ifname, "
	   "and a PKTAP one for what does not parse");
	ok(ndpib == 3 && dpib_pid[0] == 1234 &&
	   !strcmp(dpib_name[0], "udp-client") && dpib_pid[1] == 77 &&
	   !strcmp(dpib_name[1], "fork-child") && dpib_pid[2] == 66 &&
	   !strcmp(dpib_name[2], "fork-parent"),
	   "pcapng: one process block per process, in order of appearance");
	ok(nepb == 5 && epb_if[0] == 0 && epb_if[1] == 1 && epb_if[2] == 0 &&
	   epb_if[3] == 0 && epb_if[4] == 2 && epb_cap[4] == 40,
	   "pcapng: each packet on its interface");
	ok(nepb == 5 && epb_pib[0] == 0 && epb_epib[0] == 0 &&
	   epb_pib[1] == 1 && epb_epib[1] == 2 && epb_pib[2] == 0 &&
	   epb_pib[3] == 99 && epb_epib[3] == 99 && epb_pib[4] == 99,
	   "pcapng: process and effective process by block index; none "
	   "without a process");
	ok(nepb == 5 && epb_dir[0] == 2 && epb_dir[1] == 1 && epb_dir[3] == 1 &&
	   epb_dir[4] == 0, "pcapng: the direction in epb_flags");
	free(f.d);
	unlink(path);

	if (sample) {
		fp = fopen(sample, "wb");
		ok(fp && !ngw_fdopen(&w, fp, "iptap0", 1),
		   "pcapng: sample file %s", sample);
		for (i = 0; i < 4; i++) {
			uint32_t len = make_record(rb, order[i],
						   &pkts[which[i]]);

			rec_parse(rb, len, len, &r);
			r.sec = 1700000000 + (uint32_t)i;
			ngw_write(&w, &r);
		}
		ok(!ngw_close(&w), "pcapng: sample written");
		if (fp)
			fclose(fp);
	}
}

/* ---- --top ---- */

static void test_top(void)
{
	struct recspec a = default_spec;
	struct recspec b = { "lo", IPTAP_PTH_FLAG_DIR_IN, -1, -1, "", "" };
	struct top t = { 0 };
	uint8_t rb[600];
	char *buf = NULL, want[256];
	size_t size = 0;
	struct rec r;
	uint32_t len;
	FILE *f;
	int i, good = 1;

	for (i = 0; i < 5; i++) {
		len = make_record(rb, &a, &pkts[P_UDP4_7000]);
		rec_parse(rb, len, len, &r);
		good &= !top_add(&t, &r);
	}
	a.flags = IPTAP_PTH_FLAG_DIR_IN;
	len = make_record(rb, &a, &pkts[P_BIG_UDP4]);
	rec_parse(rb, len, len, &r);
	good &= !top_add(&t, &r);
	len = make_record(rb, &b, &pkts[P_ICMP4_ECHO]);
	rec_parse(rb, len, len, &r);
	good &= !top_add(&t, &r);
	ok(good && t.n == 2 && t.packets == 7, "top: 7 packets in 2 rows");

	f = open_memstream(&buf, &size);
	top_print(&t, f, 0, 0, "iptap0", 1.0);
	fclose(f);
	snprintf(want, sizeof(want), "%7d %-16s %-10s %8d %11d %8d %11d ",
		 4242, "udp-client", "va1", 1, 300, 5, 5 * 38);
	ok(buf && strstr(buf, want) != NULL, "top: the udp-client row");
	snprintf(want, sizeof(want), "%7d %-16s %-10s %8d %11d %8d %11d ",
		 -1, "-", "lo", 1, 84, 0, 0);
	ok(buf && strstr(buf, want) != NULL, "top: the row of no process");
	ok(buf && strstr(buf, "udp-client") < strstr(buf, "    -1 "),
	   "top: the busiest row first");
	ok(buf && !strchr(buf, '\033') && strstr(buf, "iptapdump --top "
	   "iptap0 at ") == buf && strstr(buf, "7 packets, 2 rows"),
	   "top: no escape codes off a tty; a title line");
	if (n_fail)
		printf("# %s", buf ? buf : "(null)\n");
	free(buf);

	/* Many rows: the index grows. */
	for (i = 0; i < 1000; i++) {
		a.pid = i;
		len = make_record(rb, &a, &pkts[P_UDP4_7000]);
		rec_parse(rb, len, len, &r);
		top_add(&t, &r);
		top_add(&t, &r);
	}
	ok(t.n == 1002 && t.packets == 2007, "top: 1002 rows (%zu)", t.n);
	buf = NULL;
	f = open_memstream(&buf, &size);
	top_print(&t, f, 1, 10, "iptap0", 1.0);
	fclose(f);
	ok(buf && !strncmp(buf, "\033[H\033[2J", 7) &&
	   strstr(buf, "      0 udp-client") && !strstr(buf, "    999 ") &&
	   !strstr(buf, "   4242 "),
	   "top: on a tty, the screen is cleared and rows fit its height");
	free(buf);
	top_free(&t);
}

int main(int argc, char **argv)
{
	setenv("TZ", "UTC", 1);
	tzset();
	printf("TAP version 13\n");
	make_packets();
	test_parse();
	test_format();
	test_offset_exprs();
	test_offset_handmade();
	test_offset_random();
	test_meta();
	test_pcap(argc > 1 ? argv[1] : NULL);
	test_pcapng(argc > 2 ? argv[2] : NULL);
	test_top();
	printf("1..%d\n", n_pass + n_fail);
	printf("unit: %d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
