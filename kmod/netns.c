// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state: the namespace's iptap devices, the
 * netfilter hooks that feed them and the net.iptap sysctls.
 *
 * A namespace's hooks are registered while a packet socket listens on
 * one of its iptap devices (listen.c), and unregistered a while after a
 * packet finds none, or with the last device: a namespace without a
 * capture pays nothing per packet.  (XNU registers its IP filters on the
 * first iptap's creation and removes them with the last.)
 */

#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/slab.h>

#include "compat.h"
#include "iptap.h"

/* The hooks stay this long once their worker finds no listener. */
#define IPTAP_HOOKS_LINGER	HZ

unsigned int iptap_net_id __read_mostly;

/* Namespaces whose hooks are registered: with the last, records' spares go. */
static atomic_t iptap_hooked_nets = ATOMIC_INIT(0);

static unsigned int iptap_hook(void *priv, struct sk_buff *skb,
			       const struct nf_hook_state *state)
{
	/*
	 * Filled by iptap_attribute() before any read: a device reads it
	 * only in PKTAP mode or with selectors, which never change
	 * (iptap_changelink()).
	 */
	struct iptap_attr attr __uninitialized;
	struct iptap_net *in = priv;
	bool attributed = false, listened = false;
	struct iptap_dev *idev;

	/* Netfilter calls hooks inside an RCU read-side section. */
	list_for_each_entry_rcu(idev, &in->devices, list) {
		/*
		 * Only devices with a packet socket of their own get a copy:
		 * dev_nit_active() would also be true for a "tcpdump -i any"
		 * anywhere on the host.
		 */
		if (list_empty(&idev->dev->ptype_all))
			continue;
		listened = true;
		/* A raw IP record names no process, but selectors need it. */
		if (!attributed && (idev->mode == IPTAP_MODE_PKTAP ||
				    idev->select.active)) {
			iptap_attribute(in, skb, state, &attr);
			attributed = true;
		}
		if (idev->select.active &&
		    !iptap_select_match(&idev->select, &attr))
			continue;
		iptap_record_deliver(idev, skb, state, &attr);
	}
	if (attributed)
		iptap_probes_recording();
	if (!listened && iptap_hooks_follow)
		iptap_hooks_unlistened(in);
	return NF_ACCEPT;
}

/*
 * First at both hooks: incoming packets are seen as they arrived, before
 * defragmentation, conntrack, NAT and any firewall rule; outgoing ones as
 * the socket sent them, before OUTPUT rules and NAT.  So a capture shows
 * fragments as fragments, the addresses on the wire for incoming
 * packets, and also the packets the firewall then drops.
 */
static const struct nf_hook_ops iptap_hook_ops[] = {
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

/* Does a packet socket listen on one of the namespace's devices? */
static bool iptap_net_listened(struct iptap_net *in)
{
	struct iptap_dev *idev;
	bool listened = false;

	rcu_read_lock();
	list_for_each_entry_rcu(idev, &in->devices, list) {
		if (!list_empty(&idev->dev->ptype_all)) {
			listened = true;
			break;
		}
	}
	rcu_read_unlock();
	return listened;
}

static int iptap_hooks_set(struct iptap_net *in, bool on)
{
	struct net *net = in->net;
	int err;

	lockdep_assert_held(&in->hooks_lock);
	if (on == in->hooks_on)
		return 0;
	if (on) {
		err = nf_register_net_hooks(net, in->hook_ops,
					    ARRAY_SIZE(in->hook_ops));
		if (err)
			return err;
		atomic_inc(&iptap_hooked_nets);
	} else {
		nf_unregister_net_hooks(net, in->hook_ops,
					ARRAY_SIZE(in->hook_ops));
		if (atomic_dec_and_test(&iptap_hooked_nets))
			iptap_record_spares_free();
	}
	WRITE_ONCE(in->hooks_on, on);
	WRITE_ONCE(in->unlistened_since, 0);
	iptap_dbg("hooks %sregistered in netns %u\n", on ? "" : "un",
		  net->ns.inum);
	return 0;
}

/* Do the namespace's devices and their listeners want the hooks? */
static bool iptap_hooks_wanted(struct iptap_net *in)
{
	lockdep_assert_held(&in->hooks_lock);
	return READ_ONCE(in->ndevices) &&
	       (!iptap_hooks_follow || iptap_net_listened(in));
}

/*
 * Register or unregister the hooks as the namespace's devices and their
 * listeners now want, whatever asked.  Whoever adds a device or a tap
 * asks afterwards, so a look after the last addition sees it; removals
 * are noticed by the next packet, which finds no listener.  While
 * devices remain, the hooks outlive their last listener by
 * IPTAP_HOOKS_LINGER from the look that first finds none: a packet
 * socket leaves the list for a moment while it sets up its ring or
 * joins a fanout group, and a capture that closes and opens again need
 * not wait for them.
 */
static void iptap_hooks_work(struct work_struct *work)
{
	struct iptap_net *in = container_of(to_delayed_work(work),
					    struct iptap_net, hooks_work);
	unsigned long now = jiffies, since;
	bool want;
	int err;

	mutex_lock(&in->hooks_lock);
	want = iptap_hooks_wanted(in);
	if (want) {
		WRITE_ONCE(in->unlistened_since, 0);
	} else if (in->hooks_on && READ_ONCE(in->ndevices)) {
		since = in->unlistened_since;
		if (!since) {
			since = now ?: 1;	/* 0: a listener, or no hooks */
			WRITE_ONCE(in->unlistened_since, since);
		}
		if (time_before(now, since + IPTAP_HOOKS_LINGER)) {
			queue_delayed_work(system_highpri_wq, &in->hooks_work,
					   since + IPTAP_HOOKS_LINGER - now);
			want = true;
		}
	}
	err = iptap_hooks_set(in, want);
	if (err) {
		net_warn_ratelimited("iptap: hooks not registered in netns %u (%d), trying again\n",
				     in->net->ns.inum, err);
		queue_delayed_work(system_highpri_wq, &in->hooks_work, HZ);
	}
	mutex_unlock(&in->hooks_lock);
}

/*
 * A packet found no listener: ask whether the hooks are still wanted,
 * unless a look is pending or the linger it began still runs (asking
 * then would only run the worker again and again).
 */
void iptap_hooks_unlistened(struct iptap_net *in)
{
	unsigned long since = READ_ONCE(in->unlistened_since);

	if (since && time_before(jiffies, since + IPTAP_HOOKS_LINGER))
		return;
	if (!delayed_work_pending(&in->hooks_work))
		queue_delayed_work(system_highpri_wq, &in->hooks_work, 0);
}

/*
 * A listener was put on one of the namespace's devices (or may have
 * been, before the device was on the list): look now, from any context.
 * A worker on this CPU with a high priority usually runs before the
 * binder returns to user space.
 */
void iptap_hooks_listener(struct iptap_net *in)
{
	mod_delayed_work(system_highpri_wq, &in->hooks_work, 0);
}

/* Called with RTNL held, from the device's ndo_init. */
int iptap_net_attach(struct iptap_dev *idev)
{
	struct net *net = dev_net(idev->dev);
	struct iptap_net *in = iptap_net(net);
	struct iptap_owners *owners = NULL;
	int err;

	ASSERT_RTNL();
	if (!in->ndevices) {
		owners = iptap_owners_create(in);
		if (!owners)
			return -ENOMEM;
		/* Without the listen probe: the hooks come with the device. */
		if (!iptap_hooks_follow) {
			mutex_lock(&in->hooks_lock);
			err = iptap_hooks_set(in, true);
			mutex_unlock(&in->hooks_lock);
			if (err) {
				iptap_owners_free(owners); /* never published */
				return err;
			}
		}
		rcu_assign_pointer(in->owners, owners);
		iptap_dbg("netns %u: first device\n", net->ns.inum);
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
	struct iptap_net *in = iptap_net(dev_net(idev->dev));

	ASSERT_RTNL();
	list_add_tail_rcu(&idev->list, &in->devices);
	/* A packet socket may have bound since registration. */
	if (iptap_hooks_follow)
		iptap_hooks_listener(in);
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
		/* The hooks go with the last device, at once. */
		mutex_lock(&in->hooks_lock);
		iptap_hooks_set(in, false);
		mutex_unlock(&in->hooks_lock);
		/* Freed after a grace period, by a worker, not under RTNL. */
		iptap_owners_retire(in);
		iptap_dbg("netns %u: last device gone\n", net->ns.inum);
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

/*
 * Registers first the hooks the namespace's listeners want: a program
 * that has bound to a device and reads 1 loses none of its packets.
 */
static unsigned long iptap_hooks_registered(struct iptap_net *in)
{
	bool on;

	mutex_lock(&in->hooks_lock);
	if (!in->hooks_on && iptap_hooks_wanted(in))
		iptap_hooks_set(in, true);
	on = in->hooks_on;
	mutex_unlock(&in->hooks_lock);
	return on;
}

/* Host-wide: calls of dev_add_pack() its probe missed. */
static unsigned long iptap_listen_probe_missed(struct iptap_net *in)
{
	return iptap_listen_missed();
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
	unsigned long val;
	struct ctl_table tmp = {
		.data	= &val,
		.maxlen	= sizeof(val),
		.mode	= table->mode,
	};

	if (write)
		return -EPERM;
	val = get(table->data);		/* hooks_registered may register */
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
	IPTAP_SYSCTL_HOOKS_REGISTERED,
	IPTAP_SYSCTL_LISTEN_PROBE_MISSED,
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
	[IPTAP_SYSCTL_HOOKS_REGISTERED] =
		IPTAP_SYSCTL_SHOW("hooks_registered", iptap_hooks_registered),
	[IPTAP_SYSCTL_LISTEN_PROBE_MISSED] =
		IPTAP_SYSCTL_SHOW("listen_probe_missed",
				  iptap_listen_probe_missed),
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
	mutex_init(&in->hooks_lock);
	BUILD_BUG_ON(sizeof(in->hook_ops) != sizeof(iptap_hook_ops));
	memcpy(in->hook_ops, iptap_hook_ops, sizeof(in->hook_ops));
	for (i = 0; i < ARRAY_SIZE(in->hook_ops); i++)
		in->hook_ops[i].priv = in;
	INIT_DELAYED_WORK(&in->hooks_work, iptap_hooks_work);
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
	cancel_delayed_work_sync(&in->hooks_work);
	WARN_ON_ONCE(in->hooks_on);
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
