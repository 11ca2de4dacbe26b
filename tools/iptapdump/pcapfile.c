// SPDX-License-Identifier: GPL-2.0
/*
 * iptapdump: classic pcap files of LINKTYPE_PKTAP records, as stock
 * tcpdump and Wireshark read them.  Written in host byte order (the
 * magic number tells readers which), microsecond timestamps.
 */
#include <errno.h>
#include <string.h>

#include "iptapdump.h"

#define PCAP_MAGIC	0xa1b2c3d4u	/* microsecond timestamps */

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t version_major, version_minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec_hdr {
	uint32_t sec, usec, caplen, len;
};

_Static_assert(sizeof(struct pcap_file_hdr) == 24, "pcap header");
_Static_assert(sizeof(struct pcap_rec_hdr) == 16, "pcap record header");

static int write_all(struct pcapw *w, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, w->f) != n)
		return -1;
	return 0;
}

int pcapw_fdopen(struct pcapw *w, FILE *f)
{
	struct pcap_file_hdr h = {
		.magic = PCAP_MAGIC,
		.version_major = 2,
		.version_minor = 4,
		.snaplen = SNAPLEN,
		.linktype = IPTAP_LINKTYPE_PKTAP,
	};

	w->f = f;
	if (write_all(w, &h, sizeof(h)))
		return -1;
	return 0;
}

int pcapw_open(struct pcapw *w, const char *path)
{
	FILE *f;

	if (!strcmp(path, "-")) {
		w->own = 0;
		return pcapw_fdopen(w, stdout);
	}
	f = fopen(path, "wb");
	if (!f)
		return -1;
	w->own = 1;
	if (pcapw_fdopen(w, f)) {
		int e = errno;

		fclose(f);
		w->f = NULL;
		errno = e;
		return -1;
	}
	return 0;
}

int pcapw_write(struct pcapw *w, uint32_t sec, uint32_t usec,
		const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
	struct pcap_rec_hdr h;

	if (caplen > SNAPLEN)
		caplen = SNAPLEN;
	if (wirelen < caplen)
		wirelen = caplen;
	h.sec = sec;
	h.usec = usec;
	h.caplen = caplen;
	h.len = wirelen;
	if (write_all(w, &h, sizeof(h)) || write_all(w, data, caplen))
		return -1;
	return 0;
}

int pcapw_flush(struct pcapw *w)
{
	return fflush(w->f) ? -1 : 0;
}

int pcapw_close(struct pcapw *w)
{
	int rc = 0;

	if (!w->f)
		return 0;
	if (fflush(w->f))
		rc = -1;
	if (w->own && fclose(w->f))
		rc = -1;
	w->f = NULL;
	return rc;
}
