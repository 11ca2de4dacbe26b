// SPDX-License-Identifier: GPL-2.0
/*
 * Attribution on the packet path: the process a packet belongs to.
 *
 * Outgoing packets carry their socket; incoming ones are matched to the
 * local socket that will receive them with the lookup xt_socket uses.
 * The owner then comes from the socket's record (owner.c), or, for a
 * packet sent in task context, from the sending task itself, which then
 * becomes the socket's recorded owner.  MPTCP packets travel on
 * subflows, TCP sockets of the kernel's, and belong to their MPTCP
 * socket.  Nothing here sleeps, allocates on the common path (only when
 * a socket or an MPTCP subflow changes hands) or takes a lock the stack's
 * own socket lookup would not take.
 */

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/inetdevice.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/addrconf.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/l3mdev.h>
#include <net/mptcp.h>
#include <net/netfilter/nf_socket.h>
#include <net/route.h>
#include <net/sock.h>

#include "iptap.h"

/* An echo request or reply: its ICMP identifier, else -1. */
static int iptap_echo_id(struct sk_buff *skb, u8 pf, bool request)
{
	unsigned int off = 0;
	struct icmphdr _ih;
	const struct icmphdr *ih;
	u8 type;
	int proto;

	if (pf == NFPROTO_IPV4) {
		const struct iphdr *iph = ip_hdr(skb);

		/* A raw socket may send a header shorter than IPv4's own. */
		if (iph->protocol != IPPROTO_ICMP || iph->ihl < 5 ||
		    iph->frag_off & htons(IP_OFFSET))
			return -1;
		off = skb_network_offset(skb) + iph->ihl * 4;
		type = request ? ICMP_ECHO : ICMP_ECHOREPLY;
	} else {
		unsigned short frag = 0;

		/* ipv6_find_hdr() reads a non-zero offset as an inner header. */
		proto = ipv6_find_hdr(skb, &off, -1, &frag, NULL);
		if (proto != IPPROTO_ICMPV6 || frag)
			return -1;
		type = request ? ICMPV6_ECHO_REQUEST : ICMPV6_ECHO_REPLY;
	}
	/* icmphdr and icmp6hdr share type, code and the echo identifier. */
	ih = skb_header_pointer(skb, off, sizeof(_ih), &_ih);
	if (!ih || ih->type != type)
		return -1;
	return ntohs(ih->un.echo.id);
}

/* Can @sk send an echo request: a ping socket, or a raw one? */
static bool iptap_may_ping(const struct sock *sk)
{
	return sk->sk_type == SOCK_RAW || sk->sk_protocol == IPPROTO_ICMP ||
	       sk->sk_protocol == IPPROTO_ICMPV6;
}

static void iptap_attr_from_owner(struct iptap_attr *a,
				  const struct iptap_owner *o)
{
	if (o) {
		a->last = &o->last;
		a->creator = &o->creator;
	} else {
		a->unattributed = true;
	}
}

/* @sk, a process's socket, is the packet's: selectors look at it. */
static void iptap_attr_sock(struct iptap_attr *a, struct sock *sk)
{
	a->has_sk = true;
	a->uid = READ_ONCE(sk->sk_uid);
	a->cgroup = iptap_sock_cgroup(sk);
}

/* An echo reply: ping's, whose socket its record describes. */
static void iptap_attr_ping(struct iptap_attr *a, const struct iptap_ping *ping)
{
	a->last = &ping->owner.last;
	a->creator = &ping->owner.creator;
	a->has_sk = true;
	a->uid = ping->uid;
	a->cgroup = ping->cgroup;
}

/* The full socket a packet belongs to, if any. */
static struct sock *iptap_full_sock(struct sock *sk)
{
	sk = sk_to_full_sk(sk);		/* a request socket: its listener */
	return sk && sk_fullsock(sk) ? sk : NULL;	/* not time-wait */
}

/* A full socket, the subflow of an MPTCP connection or listener? */
static bool iptap_is_subflow(const struct sock *sk)
{
	return sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP &&
	       (sk->sk_family == AF_INET || sk->sk_family == AF_INET6) &&
	       sk_is_mptcp(sk);
}

/* How an MPTCP subflow stands with its MPTCP socket. */
enum iptap_subflow {
	IPTAP_SUBFLOW_KERNEL,	/* the MPTCP socket is the kernel's */
	IPTAP_SUBFLOW_DETACHED,	/* not attached yet, or not any more */
	IPTAP_SUBFLOW_ATTACHED,
};

/*
 * The record that names the owner of @ssk, an MPTCP subflow, in @o.  The
 * kernel attaches a subflow to its MPTCP socket's struct socket when the
 * connection is a process's: when the socket is created (its first
 * subflow), when it is accept()ed, when a subflow joins (one we open,
 * right after its SYN).  Until then, and once close() has detached it,
 * the subflow's own record answers: its listener's owner (probes.c), or
 * its MPTCP socket's (iptap_owner_adopt()).
 */
static enum iptap_subflow iptap_owner_of_subflow(struct iptap_owners *owners,
						 struct sock *ssk,
						 const struct iptap_owner **o,
						 struct iptap_attr *a)
{
	struct socket *sock = READ_ONCE(ssk->sk_socket);
	struct sock *msk = sock ? READ_ONCE(sock->sk) : NULL;

	if (!msk || msk == ssk) {
		*o = iptap_owner_of_sock(owners, ssk);
		return IPTAP_SUBFLOW_DETACHED;
	}
	if (!iptap_sock_is_mptcp(msk))
		return IPTAP_SUBFLOW_KERNEL;
	/* Read before the check that @msk is still @sock's. */
	iptap_attr_sock(a, msk);
	if (!iptap_owner_of_mptcp(owners, sock, msk, o))
		a->has_sk = false;	/* closed meanwhile */
	if (!*o)		/* or not recorded */
		*o = iptap_owner_of_sock(owners, ssk);
	return IPTAP_SUBFLOW_ATTACHED;
}

/* The packet of an MPTCP subflow: its MPTCP socket's, or the sender's. */
static void iptap_attribute_subflow(struct sock *ssk,
				    struct iptap_owners *owners, bool out,
				    struct iptap_attr *a)
{
	const struct iptap_owner *o;

	iptap_owners_settle(owners);
	switch (iptap_owner_of_subflow(owners, ssk, &o, a)) {
	case IPTAP_SUBFLOW_KERNEL:
		return;
	case IPTAP_SUBFLOW_DETACHED:
		/*
		 * Not the running task's, even in task context: the path
		 * manager opens subflows in whichever process asks it over
		 * netlink ("ip mptcp endpoint add").
		 */
		iptap_attr_from_owner(a, o);
		return;
	case IPTAP_SUBFLOW_ATTACHED:
		break;
	}
	if (out && o)
		iptap_owner_adopt(owners, ssk, o);
	if (out && in_task() && !(current->flags & PF_KTHREAD)) {
		/*
		 * Sent by the running process, not recorded: the MPTCP
		 * socket's users are the probes' (it has no sendmsg probe).
		 */
		iptap_proc_current(&a->cur);
		a->last = &a->cur;
		a->creator = o ? &o->creator : NULL;
		return;
	}
	iptap_attr_from_owner(a, o);
}

/*
 * A socket of the kernel's that holds its namespace may have an owner:
 * a connection an MPTCP listener accepted that fell back to TCP has its
 * listener's until accept() hands it to a process (probes.c).
 */
static void iptap_attribute_kernel(struct sock *sk,
				   struct iptap_owners *owners,
				   struct iptap_attr *a)
{
	const struct iptap_owner *o;

	if (!sk->sk_net_refcnt)
		return;
	iptap_owners_settle(owners);
	o = iptap_owner_of_sock(owners, sk);
	if (o)
		iptap_attr_from_owner(a, o);
}

static void iptap_attribute_out(struct sk_buff *skb,
				const struct nf_hook_state *state,
				struct iptap_owners *owners,
				struct iptap_attr *a)
{
	struct sock *sk = iptap_full_sock(skb->sk);
	const struct iptap_owner *o;
	int id;

	if (!sk)
		return;
	if (!iptap_sock_is_user_ip(sk)) {
		if (iptap_is_subflow(sk))
			iptap_attribute_subflow(sk, owners, true, a);
		else
			iptap_attribute_kernel(sk, owners, a);
		return;
	}
	iptap_attr_sock(a, sk);
	iptap_owners_settle(owners);
	o = iptap_owner_of_sock(owners, sk);

	if (in_task() && !(current->flags & PF_KTHREAD)) {
		/* Sent by the running process: it is the last user. */
		if (!o || o->last.tgid != task_tgid(current)) {
			iptap_proc_current(&a->cur);
			a->last = &a->cur;
			a->creator = o ? &o->creator : NULL;
			/* Its ACKs and the replies it gets are its too. */
			iptap_owner_note_sock(sk, false);
		} else {
			iptap_attr_from_owner(a, o);
		}
		/*
		 * Replies to ping carry only its identifier: remember it.
		 * Echo requests come from ping and raw sockets.
		 */
		if (!iptap_may_ping(sk))
			return;
		id = iptap_echo_id(skb, state->pf, true);
		if (id >= 0)
			iptap_owner_note_ping(owners, sk, state->pf, id);
		return;
	}
	/* ACKs, retransmissions, SYN-ACKs: the socket's last known owner. */
	iptap_attr_from_owner(a, o);
}

/* Whether a packet is for this host, and what says so. */
enum iptap_locality {
	IPTAP_PASSING,		/* through the host, not to it */
	IPTAP_LOCAL_ADDRESS,	/* to an address or a group (flows.c) */
	IPTAP_LOCAL_OTHER,	/* by a route or a setting */
};

/*
 * An optimistic address (RFC 4429) is the host's during its duplicate
 * address detection, and no notifier tells when that fails.
 */
static enum iptap_locality iptap_locality6(struct net *net,
					   const struct in6_addr *daddr)
{
	if (ipv6_addr_is_multicast(daddr) ||
	    ipv6_chk_addr_and_flags(net, daddr, NULL, true, 0,
				    IFA_F_TENTATIVE | IFA_F_OPTIMISTIC))
		return IPTAP_LOCAL_ADDRESS;
	return ipv6_chk_addr(net, daddr, NULL, 0) ? IPTAP_LOCAL_OTHER :
						    IPTAP_PASSING;
}

/*
 * Is @skb addressed to this host?  It may be passing through.  Linux takes
 * a packet for any of its addresses on whatever interface it comes in
 * (the weak host model), in the VRF of that interface.
 */
static enum iptap_locality iptap_locality(struct sk_buff *skb,
					  const struct nf_hook_state *state)
{
	const struct net_device *in = state->in, *owner;
	enum iptap_locality local = IPTAP_LOCAL_ADDRESS;
	struct in_device *in_dev;
	__be32 daddr;
	u32 table;

	if (state->pf == NFPROTO_IPV6)
		return iptap_locality6(state->net, &ipv6_hdr(skb)->daddr);

	daddr = ip_hdr(skb)->daddr;
	if (ipv4_is_multicast(daddr) || ipv4_is_lbcast(daddr))
		return IPTAP_LOCAL_ADDRESS;
	/* Martians, as the route lookup of a packet from outside sees them. */
	if (ipv4_is_zeronet(daddr))
		return IPTAP_PASSING;
	if (ipv4_is_loopback(daddr) && !(in->flags & IFF_LOOPBACK)) {
		in_dev = __in_dev_get_rcu(in);
		if (!in_dev || !IN_DEV_NET_ROUTE_LOCALNET(in_dev, state->net))
			return IPTAP_PASSING;
		local = IPTAP_LOCAL_OTHER;	/* while the setting lasts */
	}
	/*
	 * An address of an interface is found in a hash table; the routes
	 * would cost a walk of the FIB per packet.  Its local route is the
	 * same (unless removed by hand), but only in the VRF of its interface.
	 */
	table = l3mdev_fib_table(in);
	owner = __ip_dev_find(state->net, daddr, false);
	if (owner && l3mdev_fib_table(owner) == table)
		return local;
	/* The routes then: a directed broadcast, a VRF's local route. */
	switch (inet_addr_type_table(state->net, daddr,
				     table ?: RT_TABLE_LOCAL)) {
	case RTN_LOCAL:
	case RTN_BROADCAST:
		return IPTAP_LOCAL_OTHER;
	default:
		return IPTAP_PASSING;
	}
}

static bool iptap_is_local(struct sk_buff *skb,
			   const struct nf_hook_state *state)
{
	return iptap_locality(skb, state) != IPTAP_PASSING;
}

static bool iptap_sock_bound_any(const struct sock *sk)
{
	if (sk->sk_family == AF_INET)
		return !sk->sk_rcv_saddr;
	return ipv6_addr_any(&sk->sk_v6_rcv_saddr) &&
	       !sk->sk_rcv_saddr;
}

static bool iptap_first_fragment(struct sk_buff *skb, u8 pf)
{
	unsigned short frag = 0;
	unsigned int off = 0;

	if (pf == NFPROTO_IPV4)
		return !(ip_hdr(skb)->frag_off & htons(IP_OFFSET));
	ipv6_find_hdr(skb, &off, -1, &frag, NULL);
	return !frag;
}

static void iptap_attribute_in(struct iptap_net *in, struct sk_buff *skb,
			       const struct nf_hook_state *state,
			       struct iptap_owners *owners,
			       struct iptap_attr *a)
{
	/* Only its epoch is always set; the rest when that is not 0. */
	struct iptap_flow_query q __uninitialized;
	const struct iptap_owner *o;
	const struct iptap_ping *ping;
	struct sock *found, *sk;
	int id;

	/* A UDP flow attributed before, unchanged since? */
	if (iptap_flow_find(in, skb, state, owners, &q, a))
		return;

	/* Ping sockets have no exported lookup: match their identifier. */
	id = iptap_echo_id(skb, state->pf, false);
	if (id >= 0) {
		iptap_owners_settle(owners);
		ping = iptap_owner_of_ping(owners, state->pf, id);
		/*
		 * A local reply is ping's; a forwarded one is nobody's here,
		 * unless its identifier is one of ours too.
		 */
		if (ping)
			iptap_attr_ping(a, ping);
		else if (iptap_is_local(skb, state))
			a->unattributed = true;
		return;
	}

	/* Ports are only in first fragments. */
	if (!iptap_first_fragment(skb, state->pf))
		return;

	/* TCP and UDP, and ICMP errors about them. */
	if (state->pf == NFPROTO_IPV4)
		found = nf_sk_lookup_slow_v4(state->net, skb, state->in);
	else
		found = nf_sk_lookup_slow_v6(state->net, skb, state->in);
	if (!found)
		return;			/* a closed port */

	sk = iptap_full_sock(found);
	/* A kernel socket that holds no namespace has no owner. */
	if (!sk || (!iptap_sock_is_user_ip(sk) && !sk->sk_net_refcnt))
		goto put;
	/* A socket bound to any address also matches forwarded packets. */
	if (iptap_sock_bound_any(sk)) {
		switch (iptap_locality(skb, state)) {
		case IPTAP_PASSING:
			goto put;
		case IPTAP_LOCAL_OTHER:
			q.epoch = 0;	/* no notifier tells of a change */
			break;
		case IPTAP_LOCAL_ADDRESS:
			break;
		}
	}
	if (iptap_sock_is_user_ip(sk)) {
		iptap_attr_sock(a, sk);
		/* After the lookup: the socket may have just been bound. */
		iptap_owners_settle(owners);
		o = iptap_owner_of_sock(owners, sk);
		iptap_attr_from_owner(a, o);
		if (o)
			iptap_flow_remember(&q, sk, o);
	} else if (iptap_is_subflow(sk)) {
		iptap_attribute_subflow(sk, owners, false, a);
	} else {
		iptap_attribute_kernel(sk, owners, a);
	}
put:
	/* The record outlives the reference: it is freed after RCU. */
	sock_gen_put(found);
}

/*
 * Who does @skb belong to?  @in is the state of its namespace.  Called
 * once per packet, under RCU.
 */
void iptap_attribute(struct iptap_net *in, struct sk_buff *skb,
		     const struct nf_hook_state *state, struct iptap_attr *a)
{
	struct iptap_owners *owners = rcu_dereference(in->owners);

	/* The rest of @a is read only where these say it was set. */
	a->last = NULL;
	a->creator = NULL;
	a->unattributed = false;
	a->has_sk = false;
	if (!owners)		/* the namespace's last device is going */
		return;
	if (state->hook == NF_INET_LOCAL_OUT)
		iptap_attribute_out(skb, state, owners, a);
	else
		iptap_attribute_in(in, skb, state, owners, a);
}
