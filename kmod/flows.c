// SPDX-License-Identifier: GPL-2.0
/*
 * A cache of in-record attribution, by UDP flow.
 *
 * An incoming datagram is attributed by looking up the socket that will
 * receive it (attribute.c), the walk of a UDP hash chain that the stack
 * makes once more to deliver it: its cost grows with the sockets bound
 * on the host, as the chains get longer.  A flow seen before needs no
 * lookup: each CPU remembers, for its last flows, the socket's owner
 * record, uid and cgroup, and reuses them while nothing that could
 * change the answer has happened since.
 *
 * A socket is remembered only for a datagram it matches as the stack
 * would (address, peer, device), when no other socket on its port could
 * take it: nothing else can take its flows then, except through the
 * changes below.  What could change the answer, and how we learn of it:
 *  - the socket bound, unbound, moved (rehashed), connected or
 *    disconnected, or another bound to its port: probes on the
 *    functions that do it (probes.c) count a change of the port, in a
 *    generation per group of ports of the namespace, when they begin and
 *    when they end.  An entry is valid while the generation of its port
 *    is the one read before its lookup;
 *  - its owner record replaced or dropped (owner.c): a record once cached
 *    counts a change of every port of the namespace when it leaves the
 *    table, before it is freed after RCU, whatever the counts above;
 *  - the addresses and the VRFs that make a destination local for a
 *    socket bound to any address: address and device notifiers count a
 *    change of every port of the namespace;
 *  - a BPF sk_lookup program, which may pick another socket any time:
 *    none may be attached to the namespace, at lookup and at each hit;
 *  - the probes themselves: entries are only made and used from a second
 *    after they are armed (a change already under way then, and longer,
 *    goes uncounted) while neither they nor the probe that sees sockets
 *    destroyed have missed a call.  Probes stopped without a miss
 *    counted (kprobes turned off host-wide in debugfs, ftrace killed)
 *    leave changes uncounted too: no module can tell.
 * What an entry points to lives as long as the owner record, which is
 * freed only after a count (iptap_owner_gone()): whatever went uncounted,
 * a hit may name a wrong owner, never touch freed memory.
 * TCP (whose lookup does not grow with the sockets), ICMP, fragments,
 * IPv6 extension headers and packets through a VRF are looked up every
 * time.
 */

#include <linux/inetdevice.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/local_lock.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/udp.h>
#include <net/addrconf.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/udp.h>

#include "compat.h"
#include "iptap.h"

#define IPTAP_FLOW_SLOTS	256	/* per CPU */

struct iptap_flow {
	struct iptap_flow_key key;
	u64 epoch;			/* of the probes, when made */
	u64 gen;			/* of the port's group, before lookup */
	const struct iptap_owner *owner; /* freed after RCU, gen changed first */
	kuid_t uid;
};

struct iptap_flow_table {
	/* Softirqs of one CPU may preempt each other on PREEMPT_RT. */
	local_lock_t bh_lock;
	struct iptap_flow slot[IPTAP_FLOW_SLOTS];
};

static struct iptap_flow_table __percpu *iptap_flows;

/*
 * Odd while entries may be made and used: it changes when the probes
 * that count changes have been armed for a while, and before they are
 * disarmed.  64 bits, like the generations: they never wrap.
 */
static atomic64_t iptap_flows_epoch;

/* The count of changes of @port in the namespace whose state is @in. */
static atomic64_t *iptap_flow_gen_in(struct iptap_net *in, u16 port)
{
	return &in->flow_gen[port % IPTAP_FLOW_GENS];
}

/*
 * The count of changes of @port in @net; NULL for port 0 (no socket is
 * on it), and while the namespace is made, before our part of it (a
 * subsystem's kernel socket).
 */
static atomic64_t *iptap_flow_gen(struct net *net, u16 port)
{
	struct iptap_net *in = port ? iptap_net(net) : NULL;

	return in ? iptap_flow_gen_in(in, port) : NULL;
}

/* The sockets on @port of @net are about to change: count it. */
void iptap_flows_changing(struct net *net, u16 port)
{
	atomic64_t *gen = iptap_flow_gen(net, port);

	if (gen) {
		atomic64_inc(gen);
		smp_mb__after_atomic();	/* the count, then the change */
	}
}

/* The sockets on @port of @net have changed: count it. */
void iptap_flows_changed(struct net *net, u16 port)
{
	atomic64_t *gen = iptap_flow_gen(net, port);

	if (gen) {
		smp_mb__before_atomic();	/* the change, then its count */
		atomic64_inc(gen);
	}
}

/* Every entry of @net may be wrong now. */
void iptap_flows_changed_all(struct net *net)
{
	struct iptap_net *in = iptap_net(net);
	unsigned int i;

	if (!in)
		return;
	smp_mb__before_atomic();	/* the change, then its count */
	for (i = 0; i < IPTAP_FLOW_GENS; i++)
		atomic64_inc(&in->flow_gen[i]);
}

/* Entries can be made and used from now on. */
void iptap_flows_enable(void)
{
	atomic64_inc(&iptap_flows_epoch);
}

/* Every entry is invalid from now on.  Called after iptap_flows_enable(). */
void iptap_flows_disable(void)
{
	atomic64_inc(&iptap_flows_epoch);
}

/* The epoch entries are made in and valid for, or 0 for none. */
static u64 iptap_flows_valid_epoch(const struct net *net)
{
	u64 epoch = atomic64_read(&iptap_flows_epoch);

	if (!(epoch & 1) || iptap_flow_probes_missed())
		return 0;
#ifdef CONFIG_BPF_SYSCALL
	if (rcu_access_pointer(net->bpf.run_array[NETNS_BPF_SK_LOOKUP]))
		return 0;
#endif
	return epoch;
}

/* The flow of @skb, if it is a UDP datagram in one piece. */
static bool iptap_flow_key(struct sk_buff *skb,
			   const struct nf_hook_state *state,
			   struct iptap_flow_key *key)
{
	const __be16 *ports;
	unsigned int off;
	int sdif;

	if (state->pf == NFPROTO_IPV4) {
		const struct iphdr *iph = ip_hdr(skb);

		if (iph->protocol != IPPROTO_UDP || ip_is_fragment(iph))
			return false;
		ipv6_addr_set_v4mapped(iph->saddr, &key->saddr);
		ipv6_addr_set_v4mapped(iph->daddr, &key->daddr);
		sdif = inet_sdif(skb);
		off = skb_network_offset(skb) + iph->ihl * 4;
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		if (ip6h->nexthdr != IPPROTO_UDP)
			return false;
		key->saddr = ip6h->saddr;
		key->daddr = ip6h->daddr;
		sdif = inet6_sdif(skb);
		off = skb_network_offset(skb) + sizeof(*ip6h);
	}
	/* Through a VRF, a socket's match depends on a setting too. */
	if (sdif)
		return false;
	/*
	 * The ports, source then destination as in the UDP header, read
	 * into the key if they must be copied: a buffer on our stack would
	 * cost every packet a stack canary.
	 */
	BUILD_BUG_ON(offsetof(struct iptap_flow_key, dport) !=
		     offsetof(struct iptap_flow_key, sport) + sizeof(__be16));
	ports = skb_header_pointer(skb, off, 2 * sizeof(__be16), &key->sport);
	/* No socket is on port 0, which has no count of changes. */
	if (!ports || !ports[1])
		return false;
	key->net = state->net->net_cookie;
	key->sport = ports[0];
	key->dport = ports[1];
	key->pf = state->pf;
	key->pad = 0;
	key->dif = state->in->ifindex;
	return true;
}

/*
 * Keys are read whole, by words: they have no padding but their pad
 * field, which iptap_flow_key() sets to 0.
 */
static const u64 *iptap_flow_key_words(const struct iptap_flow_key *key)
{
	BUILD_BUG_ON(sizeof(*key) != sizeof(key->net) + sizeof(key->saddr) +
		     sizeof(key->daddr) + sizeof(key->dif) + sizeof(key->sport) +
		     sizeof(key->dport) + sizeof(key->pf) + sizeof(key->pad));
	BUILD_BUG_ON(sizeof(*key) != 7 * sizeof(u64));	/* as written below */
	return (const u64 *)key;
}

static bool iptap_flow_key_equal(const struct iptap_flow_key *a,
				 const struct iptap_flow_key *b)
{
	const u64 *x = iptap_flow_key_words(a), *y = iptap_flow_key_words(b);

	/* Without a loop, which gcc keeps: this runs for every cached packet. */
	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) |
		 (x[3] ^ y[3]) | (x[4] ^ y[4]) | (x[5] ^ y[5]) |
		 (x[6] ^ y[6]));
}

/*
 * Called with the table's bh_lock held.  The key's words folded together,
 * then spread over the slots.  No secret seed: the slots are few and
 * direct-mapped, so a sender of many flows evicts the others' entries
 * whatever the hash, and an entry evicted only costs its flow a lookup.
 * Rotations keep a flow and its reverse apart.
 */
static inline struct iptap_flow *
iptap_flow_slot(const struct iptap_flow_key *key)
{
	const u64 *w = iptap_flow_key_words(key);
	u64 fold = w[0] ^ rol64(w[1], 8) ^ rol64(w[2], 16) ^ rol64(w[3], 24) ^
		   rol64(w[4], 32) ^ rol64(w[5], 40) ^ rol64(w[6], 48);

	BUILD_BUG_ON(!is_power_of_2(IPTAP_FLOW_SLOTS));
	return &this_cpu_ptr(iptap_flows)->slot[hash_64(fold,
						   ilog2(IPTAP_FLOW_SLOTS))];
}

/*
 * Attribute @skb, an incoming packet of the namespace whose state is @in,
 * from the cache; false if it is not there.  @q is then what
 * iptap_flow_remember() needs to add it, taken before the lookup, whose
 * records are in @owners.  Called under RCU.
 */
bool iptap_flow_find(struct iptap_net *in, struct sk_buff *skb,
		     const struct nf_hook_state *state,
		     struct iptap_owners *owners, struct iptap_flow_query *q,
		     struct iptap_attr *a)
{
	const struct iptap_flow *f;
	bool hit;

	q->epoch = 0;
	/* The per-CPU entries are only touched with BH disabled. */
	if (!in_softirq() || !iptap_flow_key(skb, state, &q->key))
		return false;
	/* The owners noted before the packet may replace a record. */
	iptap_owners_settle(owners);
	q->epoch = iptap_flows_valid_epoch(state->net);
	if (!q->epoch)
		return false;
	q->gen = atomic64_read(iptap_flow_gen_in(in, ntohs(q->key.dport)));
	smp_rmb();	/* the count of changes, then what they change */
	/* The last device retired @owners, then counted a change: stale. */
	if (rcu_access_pointer(in->owners) != owners) {
		q->epoch = 0;
		return false;
	}

	local_lock_nested_bh(&iptap_flows->bh_lock);
	f = iptap_flow_slot(&q->key);
	hit = f->epoch == q->epoch && f->gen == q->gen &&
	      iptap_flow_key_equal(&f->key, &q->key);
	if (hit) {
		iptap_owner_used(f->owner);
		a->last = &f->owner->last;
		a->creator = &f->owner->creator;
		a->has_sk = true;
		a->uid = f->uid;
		a->cgroup = READ_ONCE(f->owner->cgroup);
	}
	local_unlock_nested_bh(&iptap_flows->bh_lock);
	return hit;
}

/*
 * Could @sk, a UDP socket on the port of @key, take its datagrams, by its
 * address, device and family?  (Its peer, which connect() changes, is
 * not looked at.)
 */
static bool iptap_udp_sock_may_take(const struct sock *sk,
				    const struct iptap_flow_key *key)
{
	int bound = READ_ONCE(sk->sk_bound_dev_if);

	if (bound && bound != key->dif)
		return false;
	/*
	 * IPv4 datagrams go to IPv6 sockets too, by their IPv4 address (that
	 * of a mapped one, or the one connect() chose), unless IPv6-only.
	 */
	if (key->pf == NFPROTO_IPV4)
		return !ipv6_only_sock(sk) &&
		       (!sk->sk_rcv_saddr ||
			sk->sk_rcv_saddr == key->daddr.s6_addr32[3]);
	return sk->sk_family == AF_INET6 &&
	       (ipv6_addr_any(&sk->sk_v6_rcv_saddr) ||
		ipv6_addr_equal(&sk->sk_v6_rcv_saddr, &key->daddr));
}

/*
 * Does @sk take the datagrams of @key as the stack's lookup matches them?
 * (A BPF sk_lookup program, attached and gone since, may have picked it.)
 * Sockets of the packet's own family only: a dual-stack socket's IPv4
 * flows are looked up every time.
 */
static bool iptap_udp_sock_matches(const struct sock *sk,
				   const struct iptap_flow_key *key)
{
	const struct inet_sock *inet = inet_sk(sk);
	bool v4 = key->pf == NFPROTO_IPV4;

	if (sk->sk_family != (v4 ? AF_INET : AF_INET6) ||
	    inet->inet_num != ntohs(key->dport) ||
	    !iptap_udp_sock_may_take(sk, key) ||
	    (inet->inet_dport && inet->inet_dport != key->sport))
		return false;
	if (v4)
		return !inet->inet_daddr ||
		       inet->inet_daddr == key->saddr.s6_addr32[3];
	return ipv6_addr_any(&sk->sk_v6_daddr) ||
	       ipv6_addr_equal(&sk->sk_v6_daddr, &key->saddr);
}

/*
 * Is @sk, a hashed UDP socket, the only one on its port in its namespace
 * that could take the flow of @key?  Others may take some of its flows
 * in ways no probe sees: a tie goes to the last socket to receive on this
 * CPU, a reuseport group has its program, options that allow sharing can
 * be cleared after bind().  Otherwise it keeps them until another binds
 * the port, which udp_lib_get_port()'s probe counts.  Called under RCU,
 * after the lookup: one bound before the generation was read is on the
 * chain.
 */
static bool iptap_udp_flow_unshared(struct sock *sk,
				    const struct iptap_flow_key *key)
{
	struct net *net = sock_net(sk);
	u16 port = udp_sk(sk)->udp_port_hash;
	struct udp_hslot *hslot = udp_hashslot(iptap_udp_table(net), net,
					       port);
	struct sock *other;

	sk_for_each_rcu(other, &hslot->head)
		if (other != sk && net_eq(sock_net(other), net) &&
		    udp_sk(other)->udp_port_hash == port &&
		    iptap_udp_sock_may_take(other, key))
			return false;
	return true;
}

/*
 * The lookup after iptap_flow_find() found @sk, a process's, and its
 * record @o: remember them for the flow, if its answer can be reused.
 */
void iptap_flow_remember(const struct iptap_flow_query *q, struct sock *sk,
			 const struct iptap_owner *o)
{
	struct iptap_flow *f;

	if (!q->epoch || sk->sk_protocol != IPPROTO_UDP ||
	    !iptap_udp_sock_matches(sk, &q->key) ||
	    !iptap_udp_flow_unshared(sk, &q->key) || !iptap_owner_keep(o, sk))
		return;
	local_lock_nested_bh(&iptap_flows->bh_lock);
	f = iptap_flow_slot(&q->key);
	f->key = q->key;
	f->epoch = q->epoch;
	f->gen = q->gen;
	f->owner = o;
	f->uid = READ_ONCE(sk->sk_uid);
	local_unlock_nested_bh(&iptap_flows->bh_lock);
}

/*
 * Devices decide through which VRF a destination is local (a device
 * joins or leaves one), which device an index names, and whether an IPv6
 * address kept while its device is down counts (no address notifier
 * tells).  Their events are rare: any of them counts.
 */
static int iptap_flows_netdev_event(struct notifier_block *nb,
				    unsigned long event, void *ptr)
{
	iptap_flows_changed_all(dev_net(netdev_notifier_info_to_dev(ptr)));
	return NOTIFY_DONE;
}

/* Addresses decide which destinations are local. */
static int iptap_flows_inetaddr_event(struct notifier_block *nb,
				      unsigned long event, void *ptr)
{
	const struct in_ifaddr *ifa = ptr;

	iptap_flows_changed_all(dev_net(ifa->ifa_dev->dev));
	return NOTIFY_DONE;
}

static int iptap_flows_inet6addr_event(struct notifier_block *nb,
				       unsigned long event, void *ptr)
{
	const struct inet6_ifaddr *ifa = ptr;

	iptap_flows_changed_all(dev_net(ifa->idev->dev));
	return NOTIFY_DONE;
}

static struct notifier_block iptap_flows_netdev_nb = {
	.notifier_call = iptap_flows_netdev_event,
};

static struct notifier_block iptap_flows_inetaddr_nb = {
	.notifier_call = iptap_flows_inetaddr_event,
};

static struct notifier_block iptap_flows_inet6addr_nb = {
	.notifier_call = iptap_flows_inet6addr_event,
};

/* After the namespaces' state exists: the notifiers write to it. */
int __init iptap_flows_init(void)
{
	int cpu, err;

	iptap_flows = alloc_percpu(struct iptap_flow_table);
	if (!iptap_flows)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		local_lock_init(&per_cpu_ptr(iptap_flows, cpu)->bh_lock);
	err = register_netdevice_notifier(&iptap_flows_netdev_nb);
	if (err)
		goto err_free;
	err = register_inetaddr_notifier(&iptap_flows_inetaddr_nb);
	if (err)
		goto err_netdev;
	err = register_inet6addr_notifier(&iptap_flows_inet6addr_nb);
	if (err)
		goto err_inetaddr;
	return 0;

err_inetaddr:
	unregister_inetaddr_notifier(&iptap_flows_inetaddr_nb);
err_netdev:
	unregister_netdevice_notifier(&iptap_flows_netdev_nb);
err_free:
	free_percpu(iptap_flows);
	return err;
}

/* After the hooks and the probes are gone. */
void iptap_flows_exit(void)
{
	unregister_inet6addr_notifier(&iptap_flows_inet6addr_nb);
	unregister_inetaddr_notifier(&iptap_flows_inetaddr_nb);
	unregister_netdevice_notifier(&iptap_flows_netdev_nb);
	free_percpu(iptap_flows);
}
