// SPDX-License-Identifier: GPL-2.0
/*
 * iptapdump: decode a record's PKTAP header from its bytes.
 */
#include <stddef.h>
#include <string.h>

#include "iptapdump.h"

/* The uapi struct must have Apple's offsets: check it against them. */
#define OFF(f) offsetof(struct iptap_pktap_hdr, f)
_Static_assert(sizeof(struct iptap_pktap_hdr) == 156, "pktap size");
_Static_assert(OFF(pth_ifname) == 12 && OFF(pth_flags) == 36 &&
	       OFF(pth_protocol_family) == 40 && OFF(pth_pid) == 52 &&
	       OFF(pth_comm) == 56 && OFF(pth_svc) == 76 &&
	       OFF(pth_iftype) == 80 && OFF(pth_ifunit) == 82 &&
	       OFF(pth_epid) == 84 && OFF(pth_ecomm) == 88 &&
	       OFF(pth_flowid) == 108 && OFF(pth_ipproto) == 112 &&
	       OFF(pth_tstamp_sec) == 116, "pktap offsets");

uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[1] << 8 | p[0]);
}

uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | p[0];
}

static void get_str(char *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && src[i]; i++)
		dst[i] = (char)src[i];
	dst[i] = 0;
}

#define EXT_OFF(f) (IPTAP_PKTAP_HDR_LEN + offsetof(struct iptap_pktap_ext, f))
_Static_assert(EXT_OFF(pth_x_magic) == 156 && EXT_OFF(pth_x_cgroup_id) == 160 &&
	       EXT_OFF(pth_x_uid) == 168 &&
	       sizeof(struct iptap_pktap_ext) == IPTAP_PKTAP_EXT_LEN,
	       "extension offsets");

/* The first 108 bytes are what every PKTAP reader requires. */
#define PKTAP_MIN 108

int rec_parse(const uint8_t *d, uint32_t caplen, uint32_t wirelen,
	      struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->data = d;
	r->caplen = caplen;
	r->wirelen = wirelen;
	if (caplen < IPTAP_PKTAP_HDR_LEN + 4)
		return -1;
	r->hdrlen = get_le32(d + OFF(pth_length));
	if (r->hdrlen < PKTAP_MIN || r->hdrlen > caplen - 4 ||
	    get_le32(d + OFF(pth_type_next)) != IPTAP_PTH_TYPE_PACKET ||
	    get_le32(d + OFF(pth_dlt)) != IPTAP_DLT_NULL)
		return -1;
	get_str(r->ifname, d + OFF(pth_ifname), IPTAP_IFNAMSIZ);
	r->flags = get_le32(d + OFF(pth_flags));
	r->family = get_le32(d + OFF(pth_protocol_family));
	r->pid = (int32_t)get_le32(d + OFF(pth_pid));
	get_str(r->comm, d + OFF(pth_comm), IPTAP_COMLEN);
	r->svc = get_le32(d + OFF(pth_svc));
	r->iftype = get_le16(d + OFF(pth_iftype));
	r->ifunit = get_le16(d + OFF(pth_ifunit));
	r->epid = (int32_t)get_le32(d + OFF(pth_epid));
	get_str(r->ecomm, d + OFF(pth_ecomm), IPTAP_COMLEN);
	r->flowid = get_le32(d + OFF(pth_flowid));
	if (r->hdrlen >= IPTAP_PKTAP_HDR_LEN) {
		r->ipproto = get_le32(d + OFF(pth_ipproto));
		r->sec = get_le32(d + OFF(pth_tstamp_sec));
		r->usec = get_le32(d + OFF(pth_tstamp_usec));
	}
	r->uid = -1;
	if (r->hdrlen >= IPTAP_PKTAP_HDR_LEN + IPTAP_PKTAP_EXT_LEN &&
	    get_le32(d + EXT_OFF(pth_x_magic)) == IPTAP_PKTAP_EXT_MAGIC) {
		r->ext = 1;
		r->cgroup_id = get_le32(d + EXT_OFF(pth_x_cgroup_id)) |
			       (uint64_t)get_le32(d + EXT_OFF(pth_x_cgroup_id) +
						  4) << 32;
		r->uid = (int32_t)get_le32(d + EXT_OFF(pth_x_uid));
	}
	r->af = get_le32(d + r->hdrlen);
	r->pkt = d + r->hdrlen + 4;
	r->pktcap = caplen - r->hdrlen - 4;
	r->pktlen = wirelen >= r->hdrlen + 4 ? wirelen - r->hdrlen - 4 :
		    r->pktcap;
	return 0;
}

int rec_is_ip(const struct rec *r)
{
	return r->af == 2 || r->af == 24 || r->af == 28 || r->af == 30;
}

int rec_iptap_layout(const struct rec *r)
{
	return r->ext && r->hdrlen == IPTAP_PKTAP_HDR_LEN + IPTAP_PKTAP_EXT_LEN;
}

int rec_dir(const struct rec *r)
{
	if (r->flags & IPTAP_PTH_FLAG_DIR_IN)
		return 1;
	if (r->flags & IPTAP_PTH_FLAG_DIR_OUT)
		return 2;
	return 0;
}
