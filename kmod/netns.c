// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state: the namespace's iptap devices, the
 * netfilter hooks that feed them and the net.iptap sysctls.
 *
 * A namespace's hooks are registered when its first iptap device is
 * created and unregistered when its last one goes, as XNU registers its
 * IP filters on first create and removes them on last destroy: a
 * namespace without iptap devices pays nothing.
 */

#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/slab.h>

#include "compat.h"
#include "iptap.h"

unsigned int iptap_net_id __read_mostly;

static unsigned int iptap_hook(void *priv, struct sk_buff *skb,
			       const struct nf_hook_state *state)
{
	struct iptap_attr attr;
	struct iptap_dev *idev;
	bool attributed = false;

	/* Netfilter calls hooks inside an RCU read-side section. */
	list_for_each_entry_rcu(idev, &iptap_net(state->net)->devices, list) {
		/*
		 * Only devices with a packet socket of their own get a copy:
		 * dev_nit_active() would also be true for a "tcpdump -i any"
		 * anywhere on the host.
		 */
		if (list_empty(&idev->dev->ptype_all))
			continue;
		/* A raw IP record names no process, but selectors need it. */
		if (!attributed && (idev->mode == IPTAP_MODE_PKTAP ||
				    idev->select.active)) {
			iptap_attribute(skb, state, &attr);
			attributed = true;
		}
		if (idev->select.active &&
		    !iptap_select_match(&idev->select, &attr))
			continue;
		iptap_record_deliver(idev, skb, state, &attr);
	}
	if (attributed)
		iptap_probes_recording();
	return NF_ACCEPT;
}

/*
 * First at both hooks: incoming packets are seen as they arrived, before
 * defragmentation, conntrack, NAT and any firewall rule; outgoing ones as
 * the socket sent them, before OUTPUT rules and NAT.  So a capture shows
 * fragments as fragments, the addresses on the wire for incoming
 * packets, and also the packets the firewall then drops.
 */
const struct nf_hook_ops iptap_hook_ops[4] = {
	{
		.hook		= iptap_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= NF_IP_PRI_FIRST,
	},
	{
		.hook		= iptap_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= NF_IP_PRI_FIRST,
	},
	{
		.hook		= iptap_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= NF_IP6_PRI_FIRST,
	},
	{
		.hook		= iptap_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= NF_IP6_PRI_FIRST,
	},
};

/* Called with RTNL held, from the device's ndo_init. */
int iptap_net_attach(struct iptap_dev *idev)
{
	struct net *net = dev_net(idev->dev);
	struct iptap_net *in = iptap_net(net);
	struct iptap_owners *owners = NULL;
	int err;

	ASSERT_RTNL();
	if (!in->ndevices) {
		owners = iptap_owners_create();
		if (!owners)
			return -ENOMEM;
		err = nf_register_net_hooks(net, iptap_hook_ops,
					    ARRAY_SIZE(iptap_hook_ops));
		if (err) {
			iptap_owners_free(owners);	/* never published */
			return err;
		}
		iptap_dbg("hooks registered in netns %u\n", net->ns.inum);
		rcu_assign_pointer(in->owners, owners);
	}
	WRITE_ONCE(in->ndevices, in->ndevices + 1);
	iptap_probes_get();
	if (owners) {
		/*
		 * The worker arms the probes, which record new sockets from
		 * then on, if this device is counted when it looks, and finds
		 * the older ones.  The worker that sees the count sees the
		 * table.
		 */
		smp_store_release(&in->scan_gen, in->scan_gen + 1);
		queue_work(iptap_wq, &in->owners_work);
	}
	/* Hooks find it once it is registered: iptap_net_publish(). */
	INIT_LIST_HEAD(&idev->list);
	return 0;
}

/*
 * Called with RTNL held, once the device is registered: from now on the
 * hooks hand it records.  A device whose registration fails after
 * ndo_init is freed at once, without an RCU grace period, so it must
 * never have been on the list; a registered one is freed after one.
 */
void iptap_net_publish(struct iptap_dev *idev)
{
	ASSERT_RTNL();
	list_add_tail_rcu(&idev->list, &iptap_net(dev_net(idev->dev))->devices);
}

/* Called with RTNL held, from the device's ndo_uninit. */
void iptap_net_detach(struct iptap_dev *idev)
{
	struct net *net = dev_net(idev->dev);
	struct iptap_net *in = iptap_net(net);

	ASSERT_RTNL();
	if (!list_empty(&idev->list))
		list_del_rcu(&idev->list);
	WRITE_ONCE(in->ndevices, in->ndevices - 1);
	if (!in->ndevices) {
		nf_unregister_net_hooks(net, iptap_hook_ops,
					ARRAY_SIZE(iptap_hook_ops));
		iptap_dbg("hooks unregistered in netns %u\n", net->ns.inum);
		/* Freed after a grace period, by a worker, not under RTNL. */
		iptap_owners_retire(in);
	}
	iptap_probes_put();
}

/* Packet sockets receiving from @dev: its ETH_P_ALL handlers. */
unsigned int iptap_tap_count(struct net_device *dev)
{
	struct packet_type *ptype;
	unsigned int count = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(ptype, &dev->ptype_all, list)
		count++;
	rcu_read_unlock();
	return count;
}

static unsigned long iptap_total_tap_count(struct iptap_net *in)
{
	struct iptap_dev *idev;
	unsigned long total = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(idev, &in->devices, list)
		total += iptap_tap_count(idev->dev);
	rcu_read_unlock();
	return total;
}

/* @stat of the namespace's owner table; 0 while it has none. */
static unsigned long
iptap_owners_stat(struct iptap_net *in,
		  unsigned long (*stat)(const struct iptap_owners *owners))
{
	struct iptap_owners *owners;
	unsigned long n;

	rcu_read_lock();
	owners = rcu_dereference(in->owners);
	n = owners ? stat(owners) : 0;
	rcu_read_unlock();
	return n;
}

static unsigned long iptap_owner_records(struct iptap_net *in)
{
	return iptap_owners_stat(in, iptap_owners_count);
}

static unsigned long iptap_owner_records_refused(struct iptap_net *in)
{
	return iptap_owners_stat(in, iptap_owners_refused);
}

static unsigned long iptap_owner_scan_pending(struct iptap_net *in)
{
	return READ_ONCE(in->scan_done) != READ_ONCE(in->scan_gen);
}

/* Host-wide: socket destructions the probe missed, since loading. */
static unsigned long iptap_owner_destructions_missed(struct iptap_net *in)
{
	return iptap_probes_missed();
}

/* A read-only value of the namespace, computed by table->extra1. */
static int iptap_sysctl_show(IPTAP_CTL_TABLE *table, int write,
			     void *buffer, size_t *lenp, loff_t *ppos)
{
	unsigned long (*get)(struct iptap_net *in) = table->extra1;
	unsigned long val = get(table->data);
	struct ctl_table tmp = {
		.data	= &val,
		.maxlen	= sizeof(val),
		.mode	= table->mode,
	};

	if (write)
		return -EPERM;
	return proc_doulongvec_minmax(&tmp, write, buffer, lenp, ppos);
}

#define IPTAP_SYSCTL_SHOW(name, fn) {				\
		.procname	= name,				\
		.maxlen		= sizeof(unsigned long),	\
		.mode		= 0444,				\
		.proc_handler	= iptap_sysctl_show,		\
		.extra1		= fn,				\
	}

/* The entries before IPTAP_SYSCTL_OWNERS_MAX show a struct iptap_net. */
enum {
	IPTAP_SYSCTL_TOTAL_TAP_COUNT,
	IPTAP_SYSCTL_OWNER_RECORDS,
	IPTAP_SYSCTL_OWNER_RECORDS_REFUSED,
	IPTAP_SYSCTL_OWNER_SCAN_PENDING,
	IPTAP_SYSCTL_OWNER_DESTRUCTIONS_MISSED,
	IPTAP_SYSCTL_OWNERS_MAX,
	IPTAP_SYSCTL_ENTRIES
};

static const struct ctl_table iptap_sysctl_template[IPTAP_SYSCTL_ENTRIES + 1] = {
	[IPTAP_SYSCTL_TOTAL_TAP_COUNT] =
		IPTAP_SYSCTL_SHOW("total_tap_count", iptap_total_tap_count),
	[IPTAP_SYSCTL_OWNER_RECORDS] =
		IPTAP_SYSCTL_SHOW("owner_records", iptap_owner_records),
	[IPTAP_SYSCTL_OWNER_RECORDS_REFUSED] =
		IPTAP_SYSCTL_SHOW("owner_records_refused",
				  iptap_owner_records_refused),
	[IPTAP_SYSCTL_OWNER_SCAN_PENDING] =
		IPTAP_SYSCTL_SHOW("owner_scan_pending",
				  iptap_owner_scan_pending),
	[IPTAP_SYSCTL_OWNER_DESTRUCTIONS_MISSED] =
		IPTAP_SYSCTL_SHOW("owner_destructions_missed",
				  iptap_owner_destructions_missed),
	[IPTAP_SYSCTL_OWNERS_MAX] = {
		/* Host-wide; only the initial namespace may change it. */
		.procname	= "owners_max",
		.data		= &iptap_owners_max,
		.maxlen		= sizeof(unsigned int),
		.mode		= 0644,
		.proc_handler	= proc_douintvec_minmax,
		.extra1		= SYSCTL_ONE,
		.extra2		= SYSCTL_INT_MAX,	/* an atomic_t counts */
	},
};

static int __net_init iptap_net_init(struct net *net)
{
	struct iptap_net *in = iptap_net(net);
	struct ctl_table *table;
	int i;

	in->net = net;
	INIT_LIST_HEAD(&in->devices);
	in->ndevices = 0;
	INIT_WORK(&in->owners_work, iptap_owners_work);
	init_llist_head(&in->dying);

	table = kmemdup(iptap_sysctl_template, sizeof(iptap_sysctl_template),
			GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	for (i = 0; i < IPTAP_SYSCTL_OWNERS_MAX; i++)
		table[i].data = in;
	if (!net_eq(net, &init_net))
		table[IPTAP_SYSCTL_OWNERS_MAX].mode = 0444;

	in->sysctl = iptap_register_sysctl(net, "net/iptap", table,
					   IPTAP_SYSCTL_ENTRIES);
	if (!in->sysctl) {
		kfree(table);
		return -ENOMEM;
	}
	return 0;
}

static void __net_exit iptap_net_exit(struct net *net)
{
	struct iptap_net *in = iptap_net(net);
	const struct ctl_table *table = in->sysctl->ctl_table_arg;

	/* The namespace's devices, its hooks and its owners are gone. */
	WARN_ON_ONCE(in->ndevices);
	iptap_owners_net_exit(in);
	unregister_net_sysctl_table(in->sysctl);
	kfree(table);
}

struct pernet_operations iptap_net_ops = {
	.init	= iptap_net_init,
	.exit	= iptap_net_exit,
	.id	= &iptap_net_id,
	.size	= sizeof(struct iptap_net),
};
