// SPDX-License-Identifier: GPL-2.0
/*
 * iptapdump: one text line per record, tcpdump-like.
 *
 *   TIME DIR IFNAME PROC [via EPROC] SUMMARY
 *
 * PROC is comm:pid ("-" when the packet belongs to no known process);
 * "via EPROC" names the socket's creator when it is another process.
 * SUMMARY decodes IPv4 or IPv6 (skipping extension headers) and TCP,
 * UDP, ICMP or ICMPv6.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "iptapdump.h"

/* An output buffer that never overflows, truncating instead. */
struct out {
	char *buf;
	size_t len, pos;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->pos + 1 >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->pos += (size_t)n;
	if (o->pos >= o->len)
		o->pos = o->len - 1;
}

void fmt_name(char *buf, size_t len, const char *name)
{
	struct out o = { buf, len, 0 };
	const unsigned char *p;

	if (!len)
		return;
	buf[0] = 0;
	for (p = (const unsigned char *)name; *p; p++) {
		if (*p > 0x20 && *p < 0x7f && *p != '\\')
			put(&o, "%c", *p);
		else
			put(&o, "\\x%02x", *p);
	}
}

void fmt_proc(char *buf, size_t len, int32_t pid, const char *comm)
{
	char name[4 * IPTAP_COMLEN + 1];

	if (pid == -1 && !comm[0]) {
		snprintf(buf, len, "-");
		return;
	}
	fmt_name(name, sizeof(name), comm[0] ? comm : "?");
	snprintf(buf, len, "%s:%d", name, pid);
}

void fmt_time(char *buf, size_t len, uint32_t sec, uint32_t usec)
{
	time_t t = sec;
	struct tm tm;

	if (!localtime_r(&t, &tm)) {
		snprintf(buf, len, "%u.%06u", sec, usec);
		return;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, usec % 1000000);
}

static const char *proto_name(unsigned int p)
{
	switch (p) {
	case 0: return "hopopt";
	case 1: return "icmp";
	case 2: return "igmp";
	case 4: return "ipip";
	case 6: return "tcp";
	case 17: return "udp";
	case 41: return "ipv6";
	case 43: return "ipv6-route";
	case 44: return "ipv6-frag";
	case 47: return "gre";
	case 50: return "esp";
	case 51: return "ah";
	case 58: return "icmp6";
	case 59: return "ipv6-nonxt";
	case 60: return "ipv6-opts";
	case 103: return "pim";
	case 112: return "vrrp";
	case 132: return "sctp";
	case 136: return "udplite";
	default: return NULL;
	}
}

static void put_proto(struct out *o, unsigned int p)
{
	const char *n = proto_name(p);

	if (n)
		put(o, "%s", n);
	else
		put(o, "ip-proto-%u", p);
}

static void put_tcp_flags(struct out *o, unsigned int f)
{
	static const char letters[] = "FSRP.UEW";
	int i, any = 0;

	put(o, "[");
	for (i = 0; i < 8; i++)
		if (f & (1u << i)) {
			put(o, "%c", letters[i]);
			any = 1;
		}
	put(o, "%s]", any ? "" : "none");
}

static const char *icmp4_name(unsigned int type)
{
	switch (type) {
	case 0: return "echo reply";
	case 3: return "unreachable";
	case 4: return "source quench";
	case 5: return "redirect";
	case 8: return "echo request";
	case 9: return "router advertisement";
	case 10: return "router solicitation";
	case 11: return "time exceeded";
	case 12: return "parameter problem";
	case 13: return "timestamp request";
	case 14: return "timestamp reply";
	default: return NULL;
	}
}

static const char *unreach4_name(unsigned int code)
{
	static const char *const n[] = {
		"net", "host", "protocol", "port", "need to frag",
		"source route failed", "net unknown", "host unknown",
		"source host isolated", "net prohibited", "host prohibited",
		"net tos", "host tos", "admin prohibited",
	};

	return code < sizeof(n) / sizeof(n[0]) ? n[code] : NULL;
}

static const char *icmp6_name(unsigned int type)
{
	switch (type) {
	case 1: return "unreachable";
	case 2: return "packet too big";
	case 3: return "time exceeded";
	case 4: return "parameter problem";
	case 128: return "echo request";
	case 129: return "echo reply";
	case 130: return "multicast listener query";
	case 131: return "multicast listener report";
	case 132: return "multicast listener done";
	case 133: return "router solicitation";
	case 134: return "router advertisement";
	case 135: return "neighbor solicitation";
	case 136: return "neighbor advertisement";
	case 137: return "redirect";
	case 143: return "multicast listener report v2";
	default: return NULL;
	}
}

/* src[.sport] > dst[.dport]: */
static void put_addrs(struct out *o, int v6, const uint8_t *src,
		      const uint8_t *dst, const uint8_t *ports)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int af = v6 ? AF_INET6 : AF_INET;

	inet_ntop(af, src, a, sizeof(a));
	inet_ntop(af, dst, b, sizeof(b));
	if (ports)
		put(o, "%s.%u > %s.%u: ", a, get_be16(ports), b,
		    get_be16(ports + 2));
	else
		put(o, "%s > %s: ", a, b);
}

/*
 * A transport header: p, of len bytes (as the IP header says), of which
 * cap were captured, between src and dst.
 */
struct l4 {
	int v6;
	const uint8_t *src, *dst;
	unsigned int proto;
	const uint8_t *p;
	uint32_t cap, len;
};

/* src[.sport] > dst[.dport]: with the ports if @ports. */
static void put_l4_addrs(struct out *o, const struct l4 *t, int ports)
{
	put_addrs(o, t->v6, t->src, t->dst, ports ? t->p : NULL);
}

static void put_tcp(struct out *o, const struct l4 *t, int quick)
{
	const uint8_t *p = t->p;
	uint32_t doff, payload;

	if (t->cap < 20) {
		put_l4_addrs(o, t, t->cap >= 4);
		put(o, "[|tcp]");
		return;
	}
	doff = (uint32_t)(p[12] >> 4) * 4;
	payload = t->len > doff ? t->len - doff : 0;
	put_l4_addrs(o, t, 1);
	if (quick) {
		put(o, "tcp %u", payload);
		return;
	}
	put(o, "TCP ");
	put_tcp_flags(o, p[13]);
	put(o, " seq %u", get_be32(p + 4));
	if (p[13] & 0x10)
		put(o, " ack %u", get_be32(p + 8));
	put(o, " win %u length %u", get_be16(p + 14), payload);
	if (doff < 20)
		put(o, " [bad hdr length %u]", doff);
}

static void put_udp(struct out *o, const struct l4 *t, int quick)
{
	uint32_t ulen;

	if (t->cap < 8) {
		put_l4_addrs(o, t, t->cap >= 4);
		put(o, "[|udp]");
		return;
	}
	put_l4_addrs(o, t, 1);
	ulen = get_be16(t->p + 4);
	/* A jumbogram's UDP length is 0: the IP length counts. */
	if (ulen < 8)
		ulen = t->len;
	put(o, quick ? "udp %u" : "UDP, length %u", ulen >= 8 ? ulen - 8 : 0);
}

/* What follows an ICMP or ICMPv6 message's name. */
static void put_icmp_detail(struct out *o, const struct l4 *t, int six)
{
	unsigned int type = t->p[0], code = t->p[1];
	char a[INET6_ADDRSTRLEN];

	if ((!six && (type == 0 || type == 8)) ||
	    (six && (type == 128 || type == 129))) {
		if (t->cap >= 8)
			put(o, ", id %u, seq %u", get_be16(t->p + 4),
			    get_be16(t->p + 6));
	} else if (!six && type == 3 && unreach4_name(code)) {
		put(o, " (%s)", unreach4_name(code));
	} else if (six && (type == 135 || type == 136) && t->cap >= 24) {
		inet_ntop(AF_INET6, t->p + 8, a, sizeof(a));
		put(o, " %s %s", type == 135 ? "who has" : "tgt is", a);
	} else if (code) {
		put(o, " code %u", code);
	}
}

static void put_icmp(struct out *o, const struct l4 *t, int quick)
{
	int six = t->proto == IPPROTO_ICMPV6;
	const char *name;

	put_l4_addrs(o, t, 0);
	if (t->cap < 2) {
		put(o, "[|icmp]");
		return;
	}
	if (quick) {
		put(o, "%s %u", six ? "icmp6" : "icmp", t->len);
		return;
	}
	put(o, "%s ", six ? "ICMP6" : "ICMP");
	name = six ? icmp6_name(t->p[0]) : icmp4_name(t->p[0]);
	if (name)
		put(o, "%s", name);
	else
		put(o, "type %u", t->p[0]);
	put_icmp_detail(o, t, six);
	put(o, ", length %u", t->len);
}

static void put_l4(struct out *o, const struct l4 *t, int quick)
{
	switch (t->proto) {
	case IPPROTO_TCP:
		put_tcp(o, t, quick);
		return;
	case IPPROTO_UDP:
		put_udp(o, t, quick);
		return;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		put_icmp(o, t, quick);
		return;
	default:
		put_l4_addrs(o, t, 0);
		put_proto(o, t->proto);
		put(o, quick ? " %u" : ", length %u", t->len);
		return;
	}
}

static void put_ipv4(struct out *o, const uint8_t *p, uint32_t cap,
		     int quick)
{
	uint32_t hl, tot, l4len, frag;
	struct l4 t;

	put(o, "IP ");
	if (cap < 20) {
		put(o, "[|ip]");
		return;
	}
	hl = (uint32_t)(p[0] & 15) * 4;
	tot = get_be16(p + 2);
	if (hl < 20) {
		put_addrs(o, 0, p + 12, p + 16, NULL);
		put(o, "bad header length %u", hl);
		return;
	}
	if (tot < hl) {
		put_addrs(o, 0, p + 12, p + 16, NULL);
		put(o, "bad total length %u", tot);
		return;
	}
	l4len = tot - hl;
	frag = get_be16(p + 6);
	if (frag & 0x1fff) {
		put_addrs(o, 0, p + 12, p + 16, NULL);
		put(o, "frag id %u off %u", get_be16(p + 4),
		    (frag & 0x1fff) * 8);
		put(o, quick ? " " : " (");
		put_proto(o, p[9]);
		put(o, quick ? " %u" : "), length %u", l4len);
		return;
	}
	if (cap < hl) {
		put_addrs(o, 0, p + 12, p + 16, NULL);
		put(o, "[|ip]");
		return;
	}
	t = (struct l4){ .v6 = 0, .src = p + 12, .dst = p + 16, .proto = p[9],
			 .p = p + hl, .cap = cap - hl, .len = l4len };
	put_l4(o, &t, quick);
	if (frag & 0x2000)
		put(o, " (frag id %u)", get_be16(p + 4));
}

static int is_v6_ext(unsigned int nh)
{
	switch (nh) {
	case 0:		/* hop-by-hop options */
	case 43:	/* routing */
	case 44:	/* fragment */
	case 51:	/* authentication header */
	case 60:	/* destination options */
	case 135:	/* mobility */
	case 139:	/* host identity protocol */
	case 140:	/* shim6 */
		return 1;
	default:
		return 0;
	}
}

static void put_ipv6(struct out *o, const uint8_t *p, uint32_t cap,
		     uint32_t wirelen, int quick)
{
	uint32_t off = 40, total, fragid = 0, len;
	unsigned int nh;
	struct l4 t;
	int first_frag = 0;

	put(o, "IP6 ");
	if (cap < 40) {
		put(o, "[|ip6]");
		return;
	}
	/* Payload length 0: a jumbogram, whose length is the packet's. */
	total = get_be16(p + 4) ? 40u + get_be16(p + 4) : wirelen;
	nh = p[6];
	while (is_v6_ext(nh)) {
		if (cap < off + 8 || total < off + 8) {
			put_addrs(o, 1, p + 8, p + 24, NULL);
			put(o, "[|ip6 ext ");
			put_proto(o, nh);
			put(o, "]");
			return;
		}
		if (nh == 44) {
			uint32_t fo = get_be16(p + off + 2) & 0xfff8;

			fragid = get_be32(p + off + 4);
			nh = p[off];
			off += 8;
			if (fo) {
				put_addrs(o, 1, p + 8, p + 24, NULL);
				put(o, "frag id %u off %u", fragid, fo);
				put(o, quick ? " " : " (");
				put_proto(o, nh);
				put(o, quick ? " %u" : "), length %u",
				    total - off);
				return;
			}
			first_frag = p[off - 8 + 3] & 1;
			continue;
		}
		len = nh == 51 ? (p[off + 1] + 2u) * 4 : (p[off + 1] + 1u) * 8;
		nh = p[off];
		off += len;
	}
	if (total < off || cap < off) {
		put_addrs(o, 1, p + 8, p + 24, NULL);
		put(o, "[|ip6]");
		return;
	}
	t = (struct l4){ .v6 = 1, .src = p + 8, .dst = p + 24, .proto = nh,
			 .p = p + off, .cap = cap - off, .len = total - off };
	put_l4(o, &t, quick);
	if (first_frag)
		put(o, " (frag id %u)", fragid);
}

void fmt_ip(char *buf, size_t len, const uint8_t *pkt, uint32_t caplen,
	    uint32_t wirelen, int quick)
{
	struct out o = { buf, len, 0 };

	if (!len)
		return;
	buf[0] = 0;
	if (!caplen) {
		put(&o, "[empty]");
		return;
	}
	switch (pkt[0] >> 4) {
	case 4:
		put_ipv4(&o, pkt, caplen, quick);
		break;
	case 6:
		put_ipv6(&o, pkt, caplen, wirelen, quick);
		break;
	default:
		put(&o, "IP version %u, length %u", pkt[0] >> 4, wirelen);
	}
}

/* " user UID cgroup PATH", "-" for what the record does not know. */
static void fmt_owner(struct out *o, const struct rec *r)
{
	char path[4 * 256 + 1];
	const char *p;

	if (r->ext && r->uid != -1)
		put(o, "user %u ", (uint32_t)r->uid);
	else
		put(o, "user - ");
	p = r->ext && r->cgroup_id ? cgroup_path(r->cgroup_id) : NULL;
	if (p) {
		fmt_name(path, sizeof(path), p);
		put(o, "cgroup %s ", path);
	} else if (r->ext && r->cgroup_id) {
		put(o, "cgroup #%llu ", (unsigned long long)r->cgroup_id);
	} else {
		put(o, "cgroup - ");
	}
}

void fmt_record(char *buf, size_t len, const struct rec *r, int quick,
		int ext)
{
	static const char *const dirs[] = { "?", "in", "out" };
	char t[32], ifn[4 * IPTAP_IFNAMSIZ + 1], proc[4 * IPTAP_COMLEN + 16];
	char eproc[sizeof(proc)];
	struct out o = { buf, len, 0 };

	fmt_time(t, sizeof(t), r->sec, r->usec);
	fmt_name(ifn, sizeof(ifn), r->ifname[0] ? r->ifname : "-");
	fmt_proc(proc, sizeof(proc), r->pid, r->comm);
	put(&o, "%s %-3s %s %s ", t, dirs[rec_dir(r)], ifn, proc);
	if (r->epid != r->pid) {
		fmt_proc(eproc, sizeof(eproc), r->epid, r->ecomm);
		put(&o, "via %s ", eproc);
	}
	if (ext)
		fmt_owner(&o, r);
	fmt_ip(buf + o.pos, len - o.pos, r->pkt, r->pktcap, r->pktlen,
	       quick);
}
