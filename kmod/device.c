// SPDX-License-Identifier: GPL-2.0
/*
 * The iptap link type: a capture-only net_device.  Records reach its
 * packet sockets from the netfilter hooks (record.c); nothing is ever
 * transmitted through it.
 */

#include <linux/cred.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/iptap.h>
#include <linux/netfilter_netdev.h>
#include <linux/percpu.h>
#include <linux/user_namespace.h>
#include <net/ip.h>
#include <net/rtnetlink.h>

#include "compat.h"
#include "iptap.h"

/*
 * The core hands a frame written to a device (by a packet socket, or a
 * route through it) to the device's packet sockets before ndo_start_xmit
 * sees it, so dropping there would still let a writer forge a record in
 * every other listener's capture.  An egress hook runs before that
 * delivery: refuse everything there.  (tc and BPF redirects skip egress
 * hooks; they need CAP_NET_ADMIN, which can delete the device anyway.)
 */
static unsigned int iptap_refuse_egress(void *priv, struct sk_buff *skb,
					const struct nf_hook_state *state)
{
	dev_core_stats_tx_dropped_inc(state->out);
	return NF_DROP;
}

static int iptap_open(struct net_device *dev)
{
	struct iptap_dev *idev = netdev_priv(dev);

	idev->egress_ops = (struct nf_hook_ops) {
		.hook		= iptap_refuse_egress,
		.pf		= NFPROTO_NETDEV,
		.hooknum	= NF_NETDEV_EGRESS,
		.priority	= INT_MIN,
		.dev		= dev,
	};
	return nf_register_net_hook(dev_net(dev), &idev->egress_ops);
}

static int iptap_stop(struct net_device *dev)
{
	struct iptap_dev *idev = netdev_priv(dev);

	nf_unregister_net_hook(dev_net(dev), &idev->egress_ops);
	return 0;
}

/* Reached by the qdisc bypass, which hands no frame to packet sockets. */
static netdev_tx_t iptap_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev_core_stats_tx_dropped_inc(dev);
	kfree_skb(skb);
	return NETDEV_TX_OK;
}

static void iptap_dev_put_namespaces(struct iptap_dev *idev)
{
	put_pid_ns(idev->pid_ns);
	put_user_ns(idev->user_ns);
	iptap_cgroup_put(idev->cgroup_root);
}

static int iptap_dev_init(struct net_device *dev)
{
	struct iptap_dev *idev = netdev_priv(dev);
	int cpu, err;

	idev->uid_seen = alloc_percpu(u64);
	if (!idev->uid_seen)
		return -ENOMEM;
	/* INVALID_UID, which no user namespace maps: true as it stands. */
	for_each_possible_cpu(cpu)
		per_cpu(*idev->uid_seen, cpu) = U64_MAX;
	idev->dev = dev;
	atomic_long_set(&idev->dropped, 0);
	atomic_long_set(&idev->unattributed, 0);
	/*
	 * Whoever creates the device decides which PIDs, users and cgroups
	 * it may show, and how.
	 */
	idev->pid_ns = get_pid_ns(task_active_pid_ns(current));
	idev->user_ns = get_user_ns(current_user_ns());
	idev->cgroup_root = iptap_cgroup_root_get();
	err = iptap_net_attach(idev);
	if (err) {
		iptap_dev_put_namespaces(idev);
		free_percpu(idev->uid_seen);
	}
	return err;
}

static void iptap_dev_uninit(struct net_device *dev)
{
	iptap_net_detach(netdev_priv(dev));
}

/* After an RCU grace period: no hook can be using the device any more. */
static void iptap_dev_free(struct net_device *dev)
{
	struct iptap_dev *idev = netdev_priv(dev);

	iptap_dev_put_namespaces(idev);
	iptap_select_release(&idev->select);
	free_percpu(idev->uid_seen);
}

static void iptap_get_stats64(struct net_device *dev,
			      struct rtnl_link_stats64 *stats)
{
	/* Records handed to listeners count as received by the device. */
	dev_lstats_read(dev, &stats->rx_packets, &stats->rx_bytes);
}

static const struct net_device_ops iptap_netdev_ops = {
	.ndo_init	 = iptap_dev_init,
	.ndo_uninit	 = iptap_dev_uninit,
	.ndo_open	 = iptap_open,
	.ndo_stop	 = iptap_stop,
	.ndo_start_xmit	 = iptap_start_xmit,
	.ndo_get_stats64 = iptap_get_stats64,
};

static void iptap_get_drvinfo(struct net_device *dev,
			      struct ethtool_drvinfo *info)
{
	strscpy(info->driver, "iptap", sizeof(info->driver));
	strscpy(info->version, IPTAP_VERSION, sizeof(info->version));
}

static const struct ethtool_ops iptap_ethtool_ops = {
	.get_drvinfo	= iptap_get_drvinfo,
	.get_link	= ethtool_op_get_link,
};

static ssize_t tap_count_show(struct device *d, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "%u\n", iptap_tap_count(to_net_dev(d)));
}
static DEVICE_ATTR_RO(tap_count);

static ssize_t dropped_show(struct device *d, struct device_attribute *attr,
			    char *buf)
{
	struct iptap_dev *idev = netdev_priv(to_net_dev(d));

	return sysfs_emit(buf, "%ld\n", atomic_long_read(&idev->dropped));
}
static DEVICE_ATTR_RO(dropped);

static ssize_t unattributed_show(struct device *d,
				 struct device_attribute *attr, char *buf)
{
	struct iptap_dev *idev = netdev_priv(to_net_dev(d));

	return sysfs_emit(buf, "%ld\n", atomic_long_read(&idev->unattributed));
}
static DEVICE_ATTR_RO(unattributed);

static struct attribute *iptap_attrs[] = {
	&dev_attr_tap_count.attr,
	&dev_attr_dropped.attr,
	&dev_attr_unattributed.attr,
	NULL,
};

static const struct attribute_group iptap_group = {
	.name	= "iptap",
	.attrs	= iptap_attrs,
};

static void iptap_setup(struct net_device *dev)
{
	dev->type = IPTAP_ARPHRD;
	dev->flags = IFF_NOARP;
	dev->priv_flags |= IFF_NO_QUEUE;
	/* Records are as long as the packets they carry, GSO ones too. */
	dev->mtu = IP_MAX_MTU;
	dev->min_mtu = 0;
	dev->max_mtu = IP_MAX_MTU;
	dev->hard_header_len = 0;
	dev->addr_len = 0;
	dev->netdev_ops = &iptap_netdev_ops;
	dev->ethtool_ops = &iptap_ethtool_ops;
	dev->sysfs_groups[0] = &iptap_group;
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_LSTATS;
	dev->needs_free_netdev = true;
	dev->priv_destructor = iptap_dev_free;
	/*
	 * Refuse moves to another namespace: a device captures the packets
	 * of the namespace it was created in, for that namespace's admin.
	 */
	iptap_set_lltx_netns_local(dev);
}

static const struct nla_policy iptap_policy[IFLA_IPTAP_MAX + 1] = {
	[IFLA_IPTAP_UNSPEC]	= { .strict_start_type = IFLA_IPTAP_MODE },
	[IFLA_IPTAP_MODE]	= NLA_POLICY_MAX(NLA_U32, IPTAP_MODE_MAX),
	[IFLA_IPTAP_CGROUP]	= { .type = NLA_NUL_STRING, .len = PATH_MAX - 1 },
	[IFLA_IPTAP_UID]	= { .type = NLA_U32 },
	[IFLA_IPTAP_PID]	= NLA_POLICY_MIN(NLA_U32, 1),
};

/*
 * The core parses IFLA_INFO_DATA leniently, skipping attributes beyond
 * the policy's; an attribute iptap does not know is a request it cannot
 * honour, so check the data strictly here.
 */
static int iptap_validate_data(struct nlattr *tb[],
			       struct netlink_ext_ack *extack)
{
	struct nlattr *linkinfo[IFLA_INFO_MAX + 1];
	int err;

	if (!tb[IFLA_LINKINFO])
		return 0;
	err = nla_parse_nested_deprecated(linkinfo, IFLA_INFO_MAX,
					  tb[IFLA_LINKINFO], NULL, extack);
	if (err || !linkinfo[IFLA_INFO_DATA])
		return err;
	return nla_validate_nested(linkinfo[IFLA_INFO_DATA], IFLA_IPTAP_MAX,
				   iptap_policy, extack);
}

static int iptap_validate(struct nlattr *tb[], struct nlattr *data[],
			  struct netlink_ext_ack *extack)
{
	if (tb[IFLA_ADDRESS]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_ADDRESS],
				    "iptap devices have no link-layer address");
		return -EINVAL;
	}
	return iptap_validate_data(tb, extack);
}

static int iptap_newlink(struct net_device *dev,
			 struct rtnl_newlink_params *params,
			 struct netlink_ext_ack *extack)
{
	struct iptap_dev *idev = netdev_priv(dev);
	struct nlattr **data = params->data;
	int err;

	if (data && data[IFLA_IPTAP_MODE])
		idev->mode = nla_get_u32(data[IFLA_IPTAP_MODE]);
	/* Raw IP, as libpcap reads a device without link-layer header. */
	if (idev->mode == IPTAP_MODE_RAW)
		dev->type = ARPHRD_NONE;
	/* Before registration: no packet escapes the selectors. */
	err = iptap_select_parse(&idev->select, data, extack);
	if (err)
		return err;

	err = register_netdevice(dev);
	if (err) {
		/*
		 * Unless the destructor will, once hooks are done with the
		 * device (a notifier's refusal unregisters it).  After one
		 * that has run (a failure after ndo_init), it is safe to
		 * repeat.
		 */
		if (dev->reg_state == NETREG_UNINITIALIZED)
			iptap_select_release(&idev->select);
		return err;
	}
	iptap_net_publish(idev);
	/* IPv6 configures ARPHRD_NONE devices as it does tunnels. */
	if (idev->mode == IPTAP_MODE_RAW)
		iptap_no_addrconf(dev);

	/* Ready for capture at once, as XNU's iptap devices are. */
	err = dev_change_flags(dev, dev->flags | IFF_UP, extack);
	if (err)
		unregister_netdevice(dev);
	return err;
}

IPTAP_DEFINE_NEWLINK(iptap_newlink)

/*
 * Packet sockets chose how to read the device when they opened it, and
 * what a capture holds is what the device was created for.
 */
static int iptap_changelink(struct net_device *dev, struct nlattr *tb[],
			    struct nlattr *data[],
			    struct netlink_ext_ack *extack)
{
	struct iptap_dev *idev = netdev_priv(dev);
	struct nlattr *changed;

	if (!data)
		return 0;
	if (data[IFLA_IPTAP_MODE] &&
	    nla_get_u32(data[IFLA_IPTAP_MODE]) != idev->mode) {
		NL_SET_ERR_MSG_ATTR(extack, data[IFLA_IPTAP_MODE],
				    "the mode of an iptap device is set when it is created");
		return -EOPNOTSUPP;
	}
	changed = iptap_select_changed(&idev->select, data);
	if (changed) {
		NL_SET_ERR_MSG_ATTR(extack, changed,
				    "the selectors of an iptap device are set when it is created");
		return -EOPNOTSUPP;
	}
	return 0;
}

static size_t iptap_get_size(const struct net_device *dev)
{
	const struct iptap_dev *idev = netdev_priv(dev);

	return nla_total_size(sizeof(u32)) +	/* IFLA_IPTAP_MODE */
	       iptap_select_size(&idev->select);
}

static int iptap_fill_info(struct sk_buff *skb, const struct net_device *dev)
{
	const struct iptap_dev *idev = netdev_priv(dev);

	if (nla_put_u32(skb, IFLA_IPTAP_MODE, idev->mode))
		return -EMSGSIZE;
	return iptap_select_fill(skb, &idev->select);
}

static size_t iptap_get_xstats_size(const struct net_device *dev)
{
	/* The core adds the room of IFLA_INFO_XSTATS itself. */
	return 3 * nla_total_size_64bit(sizeof(u64));
}

static int iptap_fill_xstats(struct sk_buff *skb, const struct net_device *dev)
{
	const struct iptap_dev *idev = netdev_priv(dev);
	struct nlattr *xstats;
	u64 records, bytes;

	/* It only reads the counters, but does not say so. */
	dev_lstats_read((struct net_device *)dev, &records, &bytes);
	xstats = nla_nest_start(skb, IFLA_INFO_XSTATS);
	if (!xstats)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, IPTAP_XSTATS_RECORDS, records,
			      IPTAP_XSTATS_PAD) ||
	    nla_put_u64_64bit(skb, IPTAP_XSTATS_LOST,
			      atomic_long_read(&idev->dropped),
			      IPTAP_XSTATS_PAD) ||
	    nla_put_u64_64bit(skb, IPTAP_XSTATS_UNATTRIBUTED,
			      atomic_long_read(&idev->unattributed),
			      IPTAP_XSTATS_PAD)) {
		nla_nest_cancel(skb, xstats);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, xstats);
	return 0;
}

struct rtnl_link_ops iptap_link_ops __read_mostly = {
	.kind		= "iptap",
	.priv_size	= sizeof(struct iptap_dev),
	.maxtype	= IFLA_IPTAP_MAX,
	.policy		= iptap_policy,
	.setup		= iptap_setup,
	.validate	= iptap_validate,
	.newlink	= IPTAP_NEWLINK(iptap_newlink),
	.changelink	= iptap_changelink,
	.get_size	= iptap_get_size,
	.fill_info	= iptap_fill_info,
	.get_xstats_size = iptap_get_xstats_size,
	.fill_xstats	= iptap_fill_xstats,
};
