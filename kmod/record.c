// SPDX-License-Identifier: GPL-2.0
/*
 * Building a record from a packet, a PKTAP record or in raw mode the bare
 * IP packet, and handing it to the packet sockets of one iptap device.
 */

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/iptap.h>
#include <linux/kcov.h>
#include <linux/pkt_sched.h>
#include <linux/skbuff.h>
#include <linux/uidgid.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>

#include "compat.h"
#include "iptap.h"

static_assert(sizeof(struct iptap_pktap_hdr) == IPTAP_PKTAP_HDR_LEN);
static_assert(sizeof(struct iptap_pktap_ext) == IPTAP_PKTAP_EXT_LEN);
static_assert(offsetof(struct iptap_pktap_ext, pth_x_cgroup_id) == 4);
static_assert(offsetof(struct iptap_pktap_ext, pth_x_uid) == 12);
static_assert(offsetof(struct iptap_pktap_hdr, pth_flags) == 36);
static_assert(offsetof(struct iptap_pktap_hdr, pth_svc) == 76);
static_assert(offsetof(struct iptap_pktap_hdr, pth_flowid) == 108);
static_assert(offsetof(struct iptap_pktap_hdr, pth_uuid) == 124);
static_assert(sizeof_field(struct iptap_pktap_hdr, pth_comm) >= TASK_COMM_LEN);
static_assert(sizeof_field(struct iptap_pktap_hdr, pth_ecomm) >= TASK_COMM_LEN);

/* skb->priority & TC_PRIO_MAX, as pfifo_fast reads it, to pth_svc. */
static const u32 iptap_prio_to_svc[TC_PRIO_MAX + 1] = {
	[TC_PRIO_FILLER]		= IPTAP_SVC_BK_SYS,
	[TC_PRIO_BULK]			= IPTAP_SVC_BK,
	[TC_PRIO_INTERACTIVE_BULK]	= IPTAP_SVC_RD,
	[TC_PRIO_INTERACTIVE]		= IPTAP_SVC_VO,
	[TC_PRIO_CONTROL]		= IPTAP_SVC_CTL,
};

/*
 * @name as records give it, up to its first NUL and zeros after, in @to:
 * a rename leaves the bytes after the new name's end as they were.
 * Returns the number that ends it (eth0 -> 0, veth12 -> 12, lo -> 0; 0
 * too above U16_MAX).
 */
static u16 iptap_ifname_parse(char *to, const char *name)
{
	u32 unit = 0;
	size_t i;
	char c;

	memset(to, 0, IFNAMSIZ);
	for (i = 0; i < IFNAMSIZ - 1; i++) {
		c = name[i];
		if (!c)
			break;
		to[i] = c;
		if (!isdigit(c))
			unit = 0;
		else if (unit <= U16_MAX)	/* past it, it stays past it */
			unit = unit * 10 + c - '0';
	}
	return unit <= U16_MAX ? unit : 0;
}

/*
 * What iptap_ifname_parse() found last on this CPU, and from what: most
 * records of a CPU name the device its previous record named, and
 * parsing costs a record more than comparing two words (on 7.2, 62
 * instructions of a record against 17).  Keyed by the bytes of the name,
 * not by the device, nothing goes stale: a rename, or another device at
 * the same address, shows in them.  Only used with BHs disabled.
 */
struct iptap_ifname {
	local_lock_t bh_lock;
	u64 raw[IFNAMSIZ / sizeof(u64)];
	char name[IFNAMSIZ];
	u16 unit;
};

static DEFINE_PER_CPU(struct iptap_ifname, iptap_ifname_seen) = {
	.bh_lock = INIT_LOCAL_LOCK(bh_lock),
};

/*
 * Copy the name of @dev into @to and return the number that ends it.
 * It is read whole, by words, once: a rename may be rewriting it, and
 * what is parsed and kept is what was compared.
 */
static u16 iptap_copy_ifname(char *to, const struct net_device *dev)
{
	u64 raw[IFNAMSIZ / sizeof(u64)];
	struct iptap_ifname *seen;
	u16 unit;

	BUILD_BUG_ON(sizeof(dev->name) != sizeof(raw));
	/* A rename may race with it: a torn read is parsed as it is. */
	data_race(memcpy(raw, dev->name, sizeof(raw)));

	local_lock_nested_bh(&iptap_ifname_seen.bh_lock);
	seen = this_cpu_ptr(&iptap_ifname_seen);
	if ((raw[0] ^ seen->raw[0]) | (raw[1] ^ seen->raw[1])) {
		seen->unit = iptap_ifname_parse(seen->name, (const char *)raw);
		seen->raw[0] = raw[0];
		seen->raw[1] = raw[1];
	}
	memcpy(to, seen->name, IFNAMSIZ);
	unit = seen->unit;
	local_unlock_nested_bh(&iptap_ifname_seen.bh_lock);
	return unit;
}

/*
 * The transport protocol.  IPv6's is found by ipv6_find_hdr(), which
 * reads with skb_header_pointer(): the hooks must not change the
 * original skb, not even its linear layout.  A non-first IPv6 fragment
 * gives the protocol its first fragment carries; a chain of extension
 * headers that cannot be walked gives the next header of the fixed
 * header.
 */
static u32 iptap_ipproto(struct sk_buff *skb, u8 pf)
{
	unsigned int offset = 0;
	u8 proto;
	int ret;

	/*
	 * Linear at both hooks, on every path to them: written in place
	 * before LOCAL_OUT (__ip_local_out() sets its length and checksum),
	 * pulled before PRE_ROUTING (ip_rcv_core(), br_netfilter's check).
	 */
	if (pf == NFPROTO_IPV4)
		return ip_hdr(skb)->protocol;

	ret = ipv6_find_hdr(skb, &offset, -1, NULL, NULL);
	if (ret >= 0)
		return ret;
	if (skb_copy_bits(skb, skb_network_offset(skb) +
			  offsetof(struct ipv6hdr, nexthdr), &proto, 1))
		return 0;
	return proto;
}

/* @p's PID in @ns, the device creator's; 0 if it has none there. */
static pid_t iptap_proc_nr(const struct iptap_proc *p, struct pid_namespace *ns)
{
	return p ? pid_nr_ns(p->tgid, ns) : 0;
}

/*
 * A process as the device's creator sees it, @nr its PID there: -1 and
 * no name when it is not visible (or there is no process).
 */
static void iptap_fill_proc(__le32 *pid, char *comm,
			    const struct iptap_proc *p, pid_t nr)
{
	if (!nr) {
		*pid = cpu_to_le32(-1);
		return;
	}
	*pid = cpu_to_le32(nr);
	/* Terminated and padded with zeros (iptap_comm_copy()): copied whole. */
	memcpy(comm, p->comm, TASK_COMM_LEN);
}

/*
 * @kuid as the device's creator sees it, (uid_t)-1 if it has no name for
 * it.  A user namespace's map is written once and never changes, so a
 * name found stays true: each CPU keeps the last for the device, which
 * spares most records the walk of the map (on 7.2, 60 instructions of a
 * record).  Per CPU, as records of users in turn would move one shared
 * memo between CPUs.  An unmapped uid is not kept: its namespace may not
 * have a map yet.  A migration between the read and the write leaves a
 * true pair on the other CPU.
 */
static uid_t iptap_uid_seen(struct iptap_dev *idev, kuid_t kuid)
{
	u64 seen = this_cpu_read(*idev->uid_seen);
	uid_t uid;

	if (seen >> 32 == __kuid_val(kuid))
		return (u32)seen;
	uid = from_kuid(idev->user_ns, kuid);
	if (uid != (uid_t)-1)
		this_cpu_write(*idev->uid_seen,
			       (u64)__kuid_val(kuid) << 32 | uid);
	return uid;
}

/* The socket's identity, as the device's creator sees it. */
static void iptap_fill_ext(struct iptap_pktap_ext *ext,
			   struct iptap_dev *idev,
			   const struct iptap_attr *attr)
{
	ext->pth_x_magic = cpu_to_le32(IPTAP_PKTAP_EXT_MAGIC);
	if (!attr->has_sk) {
		ext->pth_x_cgroup_id = 0;
		ext->pth_x_uid = cpu_to_le32(-1);
		return;
	}
	ext->pth_x_cgroup_id = cpu_to_le64(iptap_cgroup_id_seen(idev,
								attr->cgroup));
	ext->pth_x_uid = cpu_to_le32(iptap_uid_seen(idev, attr->uid));
}

static void iptap_fill_header(struct iptap_pktap_hdr *hdr, struct sk_buff *skb,
			      const struct nf_hook_state *state,
			      const struct iptap_attr *attr,
			      struct pid_namespace *ns, u32 flowid,
			      ktime_t tstamp)
{
	bool out = state->hook == NF_INET_LOCAL_OUT;
	const struct net_device *realdev = out ? state->out : state->in;
	const struct iptap_proc *last = attr->last;
	const struct iptap_proc *creator = attr->creator ?: last;
	pid_t nr = iptap_proc_nr(last, ns);
	u32 nsec;
	u64 sec;

	memset(hdr, 0, sizeof(*hdr));
	hdr->pth_length = cpu_to_le32(IPTAP_PKTAP_HDR_LEN + IPTAP_PKTAP_EXT_LEN);
	hdr->pth_type_next = cpu_to_le32(IPTAP_PTH_TYPE_PACKET);
	hdr->pth_dlt = cpu_to_le32(IPTAP_DLT_NULL);
	if (realdev) {
		hdr->pth_ifunit = cpu_to_le16(iptap_copy_ifname(hdr->pth_ifname,
								realdev));
		hdr->pth_iftype = cpu_to_le16(realdev->type);
	}
	hdr->pth_flags = cpu_to_le32(out ? IPTAP_PTH_FLAG_DIR_OUT :
					   IPTAP_PTH_FLAG_DIR_IN);
	hdr->pth_protocol_family = cpu_to_le32(state->pf == NFPROTO_IPV4 ?
					       IPTAP_AF_INET : IPTAP_AF_INET6);
	iptap_fill_proc(&hdr->pth_pid, hdr->pth_comm, last, nr);
	/* Most sockets are used by the process that made them: one lookup. */
	if (!last || creator->tgid != last->tgid)
		nr = iptap_proc_nr(creator, ns);
	iptap_fill_proc(&hdr->pth_epid, hdr->pth_ecomm, creator, nr);
	hdr->pth_svc = cpu_to_le32(iptap_prio_to_svc[skb->priority & TC_PRIO_MAX]);
	hdr->pth_flowid = cpu_to_le32(flowid);
	hdr->pth_ipproto = cpu_to_le32(iptap_ipproto(skb, state->pf));
	/*
	 * The real clock is never before 1970: settimeofday(), clock_settime()
	 * and adjtimex() refuse to set it there.
	 */
	sec = div_u64_rem(ktime_to_ns(tstamp), NSEC_PER_SEC, &nsec);
	hdr->pth_tstamp_sec = cpu_to_le32((u32)sec);
	hdr->pth_tstamp_usec = cpu_to_le32(nsec / NSEC_PER_USEC);
}

/* Hand @skb to every ETH_P_ALL handler of @dev, as the core's taps do. */
static void iptap_deliver(struct sk_buff *skb, struct net_device *dev)
{
	struct packet_type *ptype, *pt_prev = NULL;
	bool out = skb->pkt_type == PACKET_OUTGOING;

	list_for_each_entry_rcu(ptype, &dev->ptype_all, list) {
		if (out && READ_ONCE(ptype->ignore_outgoing))
			continue;
		if (pt_prev) {
			refcount_inc(&skb->users);
			pt_prev->func(skb, dev, pt_prev, dev);
		}
		pt_prev = ptype;
	}
	if (pt_prev)
		pt_prev->func(skb, dev, pt_prev, dev);
	else
		consume_skb(skb);
}

/* A record lost: it could not get the memory it needs. */
static void iptap_record_lost(struct iptap_dev *idev)
{
	atomic_long_inc(&idev->dropped);
	dev_core_stats_rx_dropped_inc(idev->dev);
	iptap_dbg("%s: record lost, out of memory\n", idev->dev->name);
}

/*
 * A ring socket copies a record into its ring and lets go of it before
 * iptap_deliver() returns.  So each CPU keeps the last record that came
 * back untouched, and writes the next one into it: no allocation, no
 * zeroing and no free per packet, the larger part of what a record costs
 * beyond the copy.  Only records iptap allocated itself are kept, never
 * one a socket still holds or shares the data of (a queue, a clone).
 */
static DEFINE_PER_CPU(struct sk_buff *, iptap_spare_record);

/* The largest record kept, whatever the page size: an Ethernet MTU's. */
#define IPTAP_SPARE_MAX		SKB_WITH_OVERHEAD(4096)

/*
 * A socket without a ring keeps every record.  Offered a record we also
 * hold, it must clone it, for nothing: after a record was kept, the next
 * ones on this CPU are handed over whole, and only then tried again.
 */
#define IPTAP_SPARE_BACKOFF	64
static DEFINE_PER_CPU(int, iptap_spare_skip);

/*
 * The slots are exchanged with xchg(), atomic across CPUs, rather than
 * this_cpu_xchg(), atomic on its own CPU only: iptap_record_spares_free()
 * empties them all from one CPU while the others may be using theirs.
 */
static struct sk_buff *iptap_spare_take(unsigned int size)
{
	struct sk_buff *rec;

	if (size > IPTAP_SPARE_MAX)
		return NULL;
	rec = xchg(raw_cpu_ptr(&iptap_spare_record), NULL);
	if (!rec)
		return NULL;
	if (skb_end_offset(rec) < size) {
		/* Replaced by a larger one after this record. */
		consume_skb(rec);
		return NULL;
	}
	/* What alloc_skb() would set. */
	rec->alloc_cpu = raw_smp_processor_id();
	skb_set_kcov_handle(rec, kcov_common_handle());
	return rec;
}

/* May the next record on this CPU be kept? */
static bool iptap_spare_trying(void)
{
	/*
	 * A migration, or a softirq's record between the read and the
	 * decrement, may take the count below 0: the next failed put sets
	 * it again.
	 */
	if (this_cpu_read(iptap_spare_skip) > 0) {
		this_cpu_dec(iptap_spare_skip);
		return false;
	}
	return true;
}

/*
 * Can @rec be kept, if nothing holds it after its delivery?  Its pages,
 * a GSO packet's, are let go then: only its own buffer is kept.
 */
static bool iptap_spare_fits(const struct sk_buff *rec)
{
	return (!skb_is_nonlinear(rec) || !skb_has_frag_list(rec)) &&
	       !rec->pfmemalloc && skb_end_offset(rec) <= IPTAP_SPARE_MAX;
}

/* Let go of the pages @rec shares with its packet, now nothing else can. */
static void iptap_spare_unshare(struct sk_buff *rec)
{
	struct skb_shared_info *shinfo = skb_shinfo(rec);
	int i;

	for (i = 0; i < shinfo->nr_frags; i++)
		skb_frag_unref(rec, i);
	shinfo->nr_frags = 0;
	shinfo->flags = 0;
	rec->truesize -= rec->data_len;
}

/* Keep @rec, delivered, for the next record if nothing else holds it. */
static void iptap_spare_put(struct sk_buff *rec)
{
	if (refcount_read(&rec->users) != 1 || skb_cloned(rec)) {
		this_cpu_write(iptap_spare_skip, IPTAP_SPARE_BACKOFF);
		consume_skb(rec);
		return;
	}
	/* Other CPUs' last reads of it come before our writes. */
	smp_acquire__after_ctrl_dep();
	if (skb_is_nonlinear(rec))
		iptap_spare_unshare(rec);
	/* Nothing a memset would lose: a record has none of these. */
	DEBUG_NET_WARN_ON_ONCE(rec->sk || rec->destructor || skb_dst(rec) ||
			       skb_nfct(rec) || skb_has_extensions(rec) ||
			       rec->head_frag || rec->fclone);
	/* As alloc_skb() leaves it, but for what iptap_spare_take() sets. */
	memset(rec, 0, offsetof(struct sk_buff, tail));
	skb_unset_mac_header(rec);
	rec->transport_header = (typeof(rec->transport_header))~0U;
	rec->data = rec->head;
	skb_reset_tail_pointer(rec);
	consume_skb(xchg(raw_cpu_ptr(&iptap_spare_record), rec));
}

/*
 * Free the kept records.  A hook still running on another CPU may keep
 * one again; it waits for the next call, at the latest the module's exit.
 */
void iptap_record_spares_free(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		consume_skb(xchg(per_cpu_ptr(&iptap_spare_record, cpu), NULL));
}

/*
 * Share @skb's pages with @rec, which has the same linear part: what
 * pskb_copy() does, without its allocation and the metadata we would
 * then drop.  Out of line, so that linear packets, most of them, keep a
 * short path (6.1: 14 instructions a record fewer).
 */
static noinline void iptap_record_share_frags(struct sk_buff *rec,
					      struct sk_buff *skb)
{
	const struct skb_shared_info *from = skb_shinfo(skb);
	struct skb_shared_info *to = skb_shinfo(rec);
	int i;

	for (i = 0; i < from->nr_frags; i++) {
		to->frags[i] = from->frags[i];
		skb_frag_ref(skb, i);
	}
	to->nr_frags = from->nr_frags;
	/* Pages a sender may still write (splice): say so, as a copy does. */
	to->flags |= from->flags & SKBFL_SHARED_FRAG;
	rec->data_len = skb->data_len;
	rec->len += skb->data_len;
	rec->truesize += skb->data_len;
}

/*
 * The record of a packet whose pages we cannot just share: a list of
 * skbs (GRO), or pages lent by the sender.  A copy of the skb, then.
 */
static struct sk_buff *iptap_record_copy_skb(struct sk_buff *skb,
					     unsigned int headroom)
{
	struct sk_buff *rec;

	rec = __pskb_copy_fclone(skb, headroom, GFP_ATOMIC, false);
	if (!rec)
		return NULL;

	/*
	 * Pages a sender lent with MSG_ZEROCOPY must not wait in a capture
	 * queue: copy them, as the core does before its own taps.
	 */
	if (skb_orphan_frags_rx(rec, GFP_ATOMIC)) {
		kfree_skb(rec);
		return NULL;
	}

	/* The copy carries the original's metadata: keep none of it. */
	skb_dst_drop(rec);
	nf_reset_ct(rec);
	skb_ext_reset(rec);
	skb_gso_reset(rec);		/* a record is one blob */
	rec->encapsulation = 0;
	rec->ip_summed = CHECKSUM_NONE;	/* no checksum state survives the push */
	return rec;
}

/*
 * A private copy of @skb with @headroom bytes in front for our header,
 * carrying none of the original's metadata but its flow hash; written
 * into this CPU's kept record if @spare.
 */
static struct sk_buff *iptap_record_copy(struct sk_buff *skb,
					 unsigned int headroom, bool spare)
{
	unsigned int headlen = skb_headlen(skb);
	bool paged = skb_is_nonlinear(skb);
	struct sk_buff *rec;

	/* Pages in device memory: the headers alone, as af_packet takes them. */
	if (paged && unlikely(!skb_frags_readable(skb)))
		paged = false;
	else if (paged && unlikely(skb_has_frag_list(skb) || skb_zcopy(skb)))
		return iptap_record_copy_skb(skb, headroom);

	/*
	 * The linear part is copied, as pushing into a clone would write into
	 * the original's head; paged data (GSO payloads) is shared.  Copying
	 * bytes into a new skb is cheaper than copying the skb, whose
	 * metadata we would then drop.
	 */
	rec = spare ? iptap_spare_take(headroom + headlen) : NULL;
	if (!rec)
		rec = alloc_skb(headroom + headlen, GFP_ATOMIC);
	if (!rec)
		return NULL;
	/* Unchecked: sized for both. */
	skb_reserve(rec, headroom);
	__skb_put_data(rec, skb->data, headlen);
	if (paged)
		iptap_record_share_frags(rec, skb);
	/* What skb_get_hash() below needs to find the same hash. */
	rec->protocol = skb->protocol;
	skb_copy_hash(rec, skb);
	return rec;
}

/* Put the PKTAP header and the address family in front of @rec. */
static void iptap_record_pktap(struct iptap_dev *idev, struct sk_buff *rec,
			       struct sk_buff *skb,
			       const struct nf_hook_state *state,
			       const struct iptap_attr *attr)
{
	u32 flowid = skb_get_hash(rec);	/* computed on the copy if unset */
	__le32 af;

	/* Into the headroom iptap_record_copy() left for it. */
	iptap_fill_header(__skb_push(rec, IPTAP_RECORD_HLEN), skb, state, attr,
			  idev->pid_ns, flowid, rec->tstamp);
	iptap_fill_ext((struct iptap_pktap_ext *)(rec->data + IPTAP_PKTAP_HDR_LEN),
		       idev, attr);
	if (attr->unattributed)
		atomic_long_inc(&idev->unattributed);
	af = cpu_to_le32(state->pf == NFPROTO_IPV4 ? IPTAP_AF_INET :
						     IPTAP_AF_INET6);
	memcpy(rec->data + IPTAP_RECORD_HLEN - sizeof(af), &af, sizeof(af));
	rec->protocol = 0;	/* a PKTAP record is no Ethernet payload */
}

/* @attr is only read by devices in PKTAP mode. */
void iptap_record_deliver(struct iptap_dev *idev, struct sk_buff *skb,
			  const struct nf_hook_state *state,
			  const struct iptap_attr *attr)
{
	struct net_device *dev = idev->dev;
	bool keep = iptap_spare_trying();
	struct sk_buff *rec;

	/* A raw record is the packet alone. */
	rec = iptap_record_copy(skb, idev->mode == IPTAP_MODE_PKTAP ?
				     IPTAP_RECORD_HLEN : 0, keep);
	if (!rec) {
		iptap_record_lost(idev);
		return;
	}
	rec->dev = dev;
	/* Header offsets were relative to the original's headroom. */
	skb_reset_network_header(rec);
	/* pth_tstamp and the sockets' timestamp are the same instant. */
	__net_timestamp(rec);

	/*
	 * Packet sockets take their queue lock without disabling BHs, and
	 * the real device's name is parsed into a per-CPU memo.
	 */
	local_bh_disable();
	if (idev->mode == IPTAP_MODE_PKTAP)
		iptap_record_pktap(idev, rec, skb, state, attr);
	else
		rec->protocol = htons(state->pf == NFPROTO_IPV4 ? ETH_P_IP :
								  ETH_P_IPV6);
	rec->pkt_type = state->hook == NF_INET_LOCAL_OUT ? PACKET_OUTGOING :
							   PACKET_HOST;
	skb_reset_mac_header(rec);
	skb_reset_network_header(rec);
	skb_reset_transport_header(rec);

	/* Our own reference: the record comes back if nobody keeps it. */
	keep = keep && iptap_spare_fits(rec);
	if (keep)
		skb_get(rec);

	dev_lstats_add(dev, rec->len);
	iptap_deliver(rec, dev);
	local_bh_enable();

	if (keep)
		iptap_spare_put(rec);
}
