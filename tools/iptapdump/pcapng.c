// SPDX-License-Identifier: GPL-2.0
/*
 * iptapdump: pcapng files with Apple's process blocks, as Apple's
 * tcpdump -P writes them and Wireshark reads them.
 *
 * The section header names the host, its kernel and the device.  Each real interface
 * a record crossed gets an Interface Description Block of link type RAW,
 * named as pth_ifname, and each process (pid and name) a Darwin Process
 * Information Block, both written when first seen.  A packet is an
 * Enhanced Packet Block on its interface, without the PKTAP header: the
 * direction goes into epb_flags, the process and the effective process
 * into Apple's options as indices of their process blocks (0 for the
 * section's first), with the service class and the flow hash.  Records
 * that are not PKTAP records of IP packets are kept whole, on an
 * interface of link type PKTAP named as the capture device.
 *
 * Written in host byte order (the byte-order magic tells readers which);
 * timestamps in microseconds, pcapng's default resolution.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "iptapdump.h"

#define BT_SHB		0x0a0d0d0a
#define BT_IDB		0x00000001
#define BT_EPB		0x00000006
#define BT_DPIB		0x80000001	/* Darwin Process Information Block */
#define BYTE_ORDER_MAGIC 0x1a2b3c4d

#define OPT_END		0
#define OPT_COMMENT	1
#define SHB_HARDWARE	2
#define SHB_OS		3
#define SHB_USERAPPL	4
#define IF_NAME		2
#define IF_DESCRIPTION	3
#define EPB_FLAGS	2
#define DPIB_NAME	2
/* Apple's options of an EPB, each a 32-bit value. */
#define EPB_DARWIN_PIB_ID	0x8001	/* the process's block, by index */
#define EPB_DARWIN_SVC		0x8002	/* the service class */
#define EPB_DARWIN_EPIB_ID	0x8003	/* the effective process's block */
#define EPB_DARWIN_FLOW_ID	0x8005

#define EPB_FLAG_IN	1
#define EPB_FLAG_OUT	2

#define LINKTYPE_RAW	101

/* Big enough for any block iptapdump writes but an EPB's packet. */
#define BLOCK_MAX	1024

struct block {
	uint8_t buf[BLOCK_MAX];
	size_t len;
};

static void put(struct block *b, const void *p, size_t n)
{
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void put32(struct block *b, uint32_t v)
{
	put(b, &v, 4);
}

static void pad4(struct block *b)
{
	while (b->len % 4)
		b->buf[b->len++] = 0;
}

/* An option, cut to what the block can still hold; none when empty. */
static void put_opt(struct block *b, uint16_t code, const void *p, size_t n)
{
	size_t room = b->len < BLOCK_MAX - 64 ? BLOCK_MAX - 64 - b->len : 0;
	uint16_t h[2];

	if (n > room)
		n = room;
	if (!n)
		return;
	h[0] = code;
	h[1] = (uint16_t)n;
	put(b, h, sizeof(h));
	put(b, p, n);
	pad4(b);
}

static void put_opt_str(struct block *b, uint16_t code, const char *s)
{
	put_opt(b, code, s, strlen(s));
}

static void put_opt32(struct block *b, uint16_t code, uint32_t v)
{
	put_opt(b, code, &v, 4);
}

static void start(struct block *b, uint32_t type)
{
	b->len = 0;
	put32(b, type);
	put32(b, 0);			/* total length, set by end() */
}

/* The end-of-options, the trailing length; write it. */
static int end(struct ngw *w, struct block *b, int opts)
{
	uint32_t total;

	if (opts)
		put32(b, OPT_END);
	total = (uint32_t)b->len + 4;
	memcpy(b->buf + 4, &total, 4);
	put32(b, total);
	return fwrite(b->buf, 1, b->len, w->f) == b->len ? 0 : -1;
}

/*
 * The section header: for a live capture, the host, its kernel and the
 * device; for a converted file, only where it came from (the host and
 * kernel here are not those that captured it).
 */
static int write_shb(struct ngw *w, const char *source, int live)
{
	struct block b;
	struct utsname u;
	char host[256], text[512];
	uint16_t version[2] = { 1, 0 };
	int64_t section_len = -1;

	start(&b, BT_SHB);
	put32(&b, BYTE_ORDER_MAGIC);
	put(&b, version, sizeof(version));
	put(&b, &section_len, sizeof(section_len));
	if (!live) {
		snprintf(text, sizeof(text), "converted from %s", source);
		put_opt_str(&b, OPT_COMMENT, text);
	} else {
		if (gethostname(host, sizeof(host)))
			strcpy(host, "?");
		host[sizeof(host) - 1] = 0;
		snprintf(text, sizeof(text), "host %s, iptap device %s", host,
			 source);
		put_opt_str(&b, OPT_COMMENT, text);
		if (!uname(&u)) {
			put_opt_str(&b, SHB_HARDWARE, u.machine);
			snprintf(text, sizeof(text), "%s %s %s", u.sysname,
				 u.release, u.version);
			put_opt_str(&b, SHB_OS, text);
		}
	}
	put_opt_str(&b, SHB_USERAPPL, PROG);
	return end(w, &b, 1);
}

static int write_idb(struct ngw *w, uint16_t linktype, const char *name,
		     const char *desc)
{
	struct block b;
	uint16_t lt[2] = { linktype, 0 };

	start(&b, BT_IDB);
	put(&b, lt, sizeof(lt));
	put32(&b, SNAPLEN);
	put_opt_str(&b, IF_NAME, name);
	put_opt_str(&b, IF_DESCRIPTION, desc);
	return end(w, &b, 1);
}

int ngw_fdopen(struct ngw *w, FILE *f, const char *source, int live)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->live = live;
	snprintf(w->dev, sizeof(w->dev), "%s", live ? source : "pktap");
	return write_shb(w, source, live);
}

int ngw_open(struct ngw *w, const char *path, const char *source, int live)
{
	FILE *f;

	if (!strcmp(path, "-"))
		return ngw_fdopen(w, stdout, source, live);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	if (ngw_fdopen(w, f, source, live)) {
		int e = errno;

		fclose(f);
		w->f = NULL;
		errno = e;
		return -1;
	}
	w->own = 1;
	return 0;
}

/*
 * The index of the IDB of (linktype, name), written when first seen;
 * -1: errno.  Few interfaces: a list is enough.
 */
static int iface(struct ngw *w, uint16_t linktype, const char *name)
{
	struct ngif *ifs;
	char desc[64];
	size_t i;

	for (i = 0; i < w->nifs; i++)
		if (w->ifs[i].linktype == linktype &&
		    !strcmp(w->ifs[i].name, name))
			return (int)i;
	if (w->nifs == w->ifcap) {
		size_t cap = w->ifcap ? 2 * w->ifcap : 8;

		ifs = realloc(w->ifs, cap * sizeof(*ifs));
		if (!ifs)
			return -1;
		w->ifs = ifs;
		w->ifcap = cap;
	}
	if (linktype != LINKTYPE_RAW)
		snprintf(desc, sizeof(desc), "records that are not PKTAP "
			 "records of IP packets");
	else if (w->live)
		snprintf(desc, sizeof(desc), "seen through %s", w->dev);
	else
		desc[0] = '\0';
	if (write_idb(w, linktype, name, desc))
		return -1;
	w->ifs[w->nifs].linktype = linktype;
	snprintf(w->ifs[w->nifs].name, sizeof(w->ifs[0].name), "%s", name);
	return (int)w->nifs++;
}

static uint32_t proc_hash(int32_t pid, const char *comm)
{
	uint32_t h = 2166136261u ^ (uint32_t)pid;

	while (*comm)
		h = (h ^ (uint8_t)*comm++) * 16777619u;
	return h * 16777619u;
}

/* Put process i in the index (open addressing, idxcap slots). */
static void index_proc(struct ngw *w, size_t i)
{
	size_t slot = proc_hash(w->procs[i].pid, w->procs[i].comm) &
		      (w->idxcap - 1);

	while (w->idx[slot])
		slot = (slot + 1) & (w->idxcap - 1);
	w->idx[slot] = i + 1;
}

static int grow_procs(struct ngw *w)
{
	size_t cap = w->proccap ? 2 * w->proccap : 64, i;
	struct ngproc *procs;
	size_t *idx;

	procs = realloc(w->procs, cap * sizeof(*procs));
	if (!procs)
		return -1;
	w->procs = procs;
	idx = calloc(2 * cap, sizeof(*idx));
	if (!idx)
		return -1;
	free(w->idx);
	w->idx = idx;
	w->idxcap = 2 * cap;
	w->proccap = cap;
	for (i = 0; i < w->nprocs; i++)
		index_proc(w, i);
	return 0;
}

/* The index of the DPIB of (pid, comm), written when first seen. */
static int64_t process(struct ngw *w, int32_t pid, const char *comm)
{
	struct block b;
	struct ngproc *p;
	size_t slot, i;

	if (w->idxcap) {
		slot = proc_hash(pid, comm) & (w->idxcap - 1);
		for (; w->idx[slot]; slot = (slot + 1) & (w->idxcap - 1)) {
			p = &w->procs[w->idx[slot] - 1];
			if (p->pid == pid && !strcmp(p->comm, comm))
				return (int64_t)w->idx[slot] - 1;
		}
	}
	if (w->nprocs == w->proccap && grow_procs(w))
		return -1;
	start(&b, BT_DPIB);
	put32(&b, (uint32_t)pid);
	put_opt_str(&b, DPIB_NAME, comm);
	if (end(w, &b, 1))
		return -1;
	i = w->nprocs++;
	p = &w->procs[i];
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	index_proc(w, i);
	return (int64_t)i;
}

static int write_epb(struct ngw *w, uint32_t ifid, uint32_t sec, uint32_t usec,
		     const uint8_t *pkt, uint32_t caplen, uint32_t len,
		     const struct block *opts)
{
	static const uint8_t zero[4];
	uint64_t ts = (uint64_t)sec * 1000000 + usec;
	uint32_t h[7], total, padlen;

	if (caplen > SNAPLEN)
		caplen = SNAPLEN;
	if (len < caplen)
		len = caplen;
	padlen = (4 - caplen % 4) % 4;
	total = (uint32_t)sizeof(h) + caplen + padlen + (uint32_t)opts->len + 4;
	h[0] = BT_EPB;
	h[1] = total;
	h[2] = ifid;
	h[3] = (uint32_t)(ts >> 32);
	h[4] = (uint32_t)ts;
	h[5] = caplen;
	h[6] = len;
	if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h) ||
	    (caplen && fwrite(pkt, 1, caplen, w->f) != caplen) ||
	    (padlen && fwrite(zero, 1, padlen, w->f) != padlen) ||
	    (opts->len && fwrite(opts->buf, 1, opts->len, w->f) != opts->len) ||
	    fwrite(&total, 1, 4, w->f) != 4)
		return -1;
	return 0;
}

int ngw_write(struct ngw *w, const struct rec *r)
{
	struct block o;
	int64_t pib = -1, epib = -1;
	int ifid, dir = rec_dir(r);

	ifid = iface(w, LINKTYPE_RAW, r->ifname);
	if (ifid < 0)
		return -1;
	if (r->pid != -1 && (pib = process(w, r->pid, r->comm)) < 0)
		return -1;
	if (r->epid != -1 && (epib = process(w, r->epid, r->ecomm)) < 0)
		return -1;
	o.len = 0;
	if (dir)
		put_opt32(&o, EPB_FLAGS, dir == 1 ? EPB_FLAG_IN : EPB_FLAG_OUT);
	if (pib >= 0)
		put_opt32(&o, EPB_DARWIN_PIB_ID, (uint32_t)pib);
	if (epib >= 0)
		put_opt32(&o, EPB_DARWIN_EPIB_ID, (uint32_t)epib);
	put_opt32(&o, EPB_DARWIN_SVC, r->svc);
	if (r->flowid)
		put_opt32(&o, EPB_DARWIN_FLOW_ID, r->flowid);
	put32(&o, OPT_END);
	return write_epb(w, (uint32_t)ifid, r->sec, r->usec, r->pkt, r->pktcap,
			 r->pktlen, &o);
}

int ngw_write_record(struct ngw *w, uint32_t sec, uint32_t usec,
		     const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
	struct block none = { .len = 0 };
	int ifid = iface(w, IPTAP_LINKTYPE_PKTAP, w->dev);

	if (ifid < 0)
		return -1;
	return write_epb(w, (uint32_t)ifid, sec, usec, data, caplen, wirelen,
			 &none);
}

int ngw_flush(struct ngw *w)
{
	return fflush(w->f) ? -1 : 0;
}

int ngw_close(struct ngw *w)
{
	int rc = 0;

	if (w->f) {
		if (fflush(w->f))
			rc = -1;
		if (w->own && fclose(w->f))
			rc = -1;
	}
	free(w->ifs);
	free(w->procs);
	free(w->idx);
	memset(w, 0, sizeof(*w));
	return rc;
}
