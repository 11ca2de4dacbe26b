/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iptapdump: capture from an iptap device.  Shared declarations.
 *
 * A record, as a packet socket bound to an iptap device receives it, is
 * the 156-byte little-endian PKTAP v1 header, iptap's 16-byte extension
 * (pth_length covers both), a 4-byte little-endian address family word
 * (2 or 30) and the IP packet.
 */
#ifndef IPTAPDUMP_H
#define IPTAPDUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <linux/iptap.h>

#define PROG "iptapdump"

/* Classic pcap snap length of -w files and of the compiled filters. */
#define SNAPLEN 262144u
/* Where the IP packet starts in a record: header + AF word. */
#define RECORD_HLEN IPTAP_RECORD_HLEN

/* ---- record.c: a record's header, decoded from its bytes ---- */

struct rec {
	const uint8_t *data;		/* the whole record */
	uint32_t caplen;		/* bytes of it we have */
	uint32_t wirelen;		/* its length on the "wire" */
	uint32_t sec, usec;		/* capture time */

	uint32_t hdrlen;		/* pth_length */
	char ifname[IPTAP_IFNAMSIZ + 1];
	uint32_t flags;			/* IPTAP_PTH_FLAG_DIR_* */
	uint32_t family;		/* pth_protocol_family */
	int32_t pid, epid;
	char comm[IPTAP_COMLEN + 1], ecomm[IPTAP_COMLEN + 1];
	uint32_t svc, flowid, ipproto;
	uint16_t iftype, ifunit;
	uint32_t af;			/* the AF word after the header */
	int ext;			/* iptap's extension is there: */
	uint64_t cgroup_id;		/* the socket's cgroup, 0: none */
	int32_t uid;			/* its owner, -1: none */

	const uint8_t *pkt;		/* the IP packet */
	uint32_t pktcap;		/* its captured bytes */
	uint32_t pktlen;		/* its length */
};

uint16_t get_be16(const uint8_t *p);
uint32_t get_be32(const uint8_t *p);
uint32_t get_le32(const uint8_t *p);
uint16_t get_le16(const uint8_t *p);

/* 0 and *r filled, or -1: too short or no PKTAP v1 header. */
int rec_parse(const uint8_t *data, uint32_t caplen, uint32_t wirelen,
	      struct rec *r);
/* Direction of a record: 1 in, 2 out, 0 unknown. */
int rec_dir(const struct rec *r);
/* Its AF word is IPv4's or one of the BSD IPv6 values. */
int rec_is_ip(const struct rec *r);
/* iptap's header and extension: where the compiled filters look. */
int rec_iptap_layout(const struct rec *r);

/* ---- format.c: text output ---- */

/* Copy a name, escaping what would break a whitespace-separated line. */
void fmt_name(char *buf, size_t len, const char *name);
/* "comm:pid", or "-" with no process. */
void fmt_proc(char *buf, size_t len, int32_t pid, const char *comm);
/* "HH:MM:SS.uuuuuu" in local time. */
void fmt_time(char *buf, size_t len, uint32_t sec, uint32_t usec);
/* Summary of an IP packet: addresses, ports, protocol details. */
void fmt_ip(char *buf, size_t len, const uint8_t *pkt, uint32_t caplen,
	    uint32_t wirelen, int quick);
/* One output line (no newline) for a record; ext: with its owner. */
void fmt_record(char *buf, size_t len, const struct rec *r, int quick,
		int ext);

/* ---- cgroups.c: cgroup IDs to paths ---- */

/*
 * The path of the cgroup v2 with this ID, below the cgroup2 mount, or
 * NULL when it is not found (gone, or no cgroup2 mount to look in).
 */
const char *cgroup_path(uint64_t id);
/* The IDs of the cgroup at path and of its descendants; -1: errno. */
int cgroup_ids(const char *path, uint64_t *ids, int max, int *n);

/* ---- filter.c: kernel filters ---- */

struct bpf_insn;

#define META_MAX 16			/* values per metadata option */

struct meta {
	int32_t pids[META_MAX];
	int npids;
	char comms[META_MAX][IPTAP_COMLEN];
	int ncomms;
	char ifnames[META_MAX][IPTAP_IFNAMSIZ];
	int nifnames;
	unsigned int dirs;		/* IPTAP_PTH_FLAG_DIR_* wanted, 0: any */
	uint32_t uids[META_MAX];	/* the socket's owner */
	int nuids;
	uint64_t cgroups[2 * META_MAX];	/* the socket's cgroup */
	int ncgroups;
};

struct filter {
	struct bpf_insn *insns;
	unsigned int len;
};

/*
 * Compile a tcpdump expression for raw IP (DLT_RAW: the version nibble
 * tells IPv4 from IPv6) with libpcap.  On error, err holds libpcap's text.
 */
int filter_compile(const char *expr, struct filter *out, char *err,
		   size_t errlen);
/*
 * Rewrite a program written for a packet so that it does the same on
 * that packet preceded by off bytes: packet loads move by off, the
 * packet length loses off and accepted lengths gain it.
 */
int filter_offset(const struct filter *in, uint32_t off, struct filter *out,
		  char *err, size_t errlen);
/* Checks of PKTAP header fields that reject what meta does not want. */
int filter_meta(const struct meta *m, struct filter *out, char *err,
		size_t errlen);
/* a, then b: b runs on what a's checks let through (a must not return). */
int filter_concat(const struct filter *a, const struct filter *b,
		  struct filter *out);
/*
 * The whole program for a capture: metadata checks, then expr moved
 * past the record header.  out->len is 0 when nothing is filtered.
 */
int filter_build(const char *expr, const struct meta *m, struct filter *out,
		 char *err, size_t errlen);
void filter_free(struct filter *f);
/* Run a program on a buffer, as the kernel would: bytes to keep. */
unsigned int filter_run(const struct filter *f, const uint8_t *buf,
			unsigned int wirelen, unsigned int caplen);
void filter_dump(const struct filter *f, FILE *out);
/* Add a --comm / --if value; -1 with a message when it cannot be one. */
int meta_add_comm(struct meta *m, const char *name, char *err, size_t errlen);
int meta_add_ifname(struct meta *m, const char *name, char *err,
		    size_t errlen);
int meta_add_pid(struct meta *m, const char *arg, char *err, size_t errlen);
int meta_add_uid(struct meta *m, const char *arg, char *err, size_t errlen);
/* The cgroup at path and its descendants as they are now. */
int meta_add_cgroup(struct meta *m, const char *path, char *err,
		    size_t errlen);

/* ---- pcapfile.c: classic pcap, LINKTYPE_PKTAP ---- */

struct pcapw {
	FILE *f;
	int own;			/* close f at the end */
};

int pcapw_open(struct pcapw *w, const char *path);	/* "-": stdout */
int pcapw_fdopen(struct pcapw *w, FILE *f);
int pcapw_write(struct pcapw *w, uint32_t sec, uint32_t usec,
		const uint8_t *data, uint32_t caplen, uint32_t wirelen);
int pcapw_flush(struct pcapw *w);
int pcapw_close(struct pcapw *w);

/* ---- pcapng.c: pcapng with Apple's process blocks ---- */

struct ngif {
	uint16_t linktype;
	char name[IPTAP_IFNAMSIZ + 1];
};

struct ngproc {
	int32_t pid;
	char comm[IPTAP_COMLEN + 1];
};

struct ngw {
	FILE *f;
	int own;			/* close f at the end */
	int live;			/* of a device, not a file */
	char dev[IPTAP_IFNAMSIZ + 1];	/* names the PKTAP interface */
	struct ngif *ifs;		/* the IDBs written, in order */
	size_t nifs, ifcap;
	struct ngproc *procs;		/* the process blocks, in order */
	size_t nprocs, proccap;
	size_t *idx;			/* procs by (pid, comm): index + 1 */
	size_t idxcap;
};

/*
 * Open path ("-": stdout) and write the section header: of a live capture
 * of device source, or of a file source converted.
 */
int ngw_open(struct ngw *w, const char *path, const char *source, int live);
int ngw_fdopen(struct ngw *w, FILE *f, const char *source, int live);
/* A parsed record: an EPB, after its IDB and process blocks if new. */
int ngw_write(struct ngw *w, const struct rec *r);
/* A record that does not parse, whole, on a PKTAP interface. */
int ngw_write_record(struct ngw *w, uint32_t sec, uint32_t usec,
		     const uint8_t *data, uint32_t caplen, uint32_t wirelen);
int ngw_flush(struct ngw *w);
int ngw_close(struct ngw *w);

/* ---- top.c: packets and bytes per process and interface ---- */

struct top_row {
	int32_t pid;
	char comm[IPTAP_COMLEN + 1];
	char ifname[IPTAP_IFNAMSIZ + 1];
	uint64_t pkts[2], bytes[2];	/* [0] in, [1] out */
	uint64_t last_bytes;		/* bytes at the previous table */
	uint64_t rate;			/* bytes in the last interval */
};

struct top {
	struct top_row *rows;
	size_t n, cap;
	size_t *idx;			/* open addressing, 2 * cap slots */
	uint64_t packets;
};

int top_add(struct top *t, const struct rec *r);
/* Print the table; tty: clear the screen first and fit its height. */
void top_print(struct top *t, FILE *out, int tty, int height,
	       const char *dev, double interval);
void top_free(struct top *t);

/* ---- ring.c: the TPACKET_V3 ring ---- */

/* A partly filled block is handed over after this long. */
#define BLOCK_TIMEOUT_MS 100

struct ring {
	int fd;
	uint8_t *map;
	size_t maplen;
	unsigned int block_size, block_nr, cur;
	uint64_t drops;
};

enum {
	DEV_OK,
	DEV_NONE,			/* no such device */
	DEV_NOT_IPTAP,			/* exists, no iptap sysfs group */
	DEV_RAW,			/* an iptap device in raw mode */
};

/* Whether dev exists and is an iptap device of PKTAP records. */
int dev_check(const char *dev);
/*
 * Open a socket on dev with filter f (may be empty) and a ring of about
 * bufsize bytes.  -1 with errno and a message in err.
 */
int ring_open(struct ring *r, const char *dev, size_t bufsize,
	      const struct filter *f, char *err, size_t errlen);
/* The next block the kernel has handed over, or NULL. */
struct tpacket_block_desc *ring_block(struct ring *r);
void ring_release(struct ring *r);
/* Add the kernel's drop count since the last call to r->drops. */
int ring_stats(struct ring *r);
void ring_close(struct ring *r);

#endif
