/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iptap: shared declarations of the module's parts.
 */
#ifndef _IPTAP_H
#define _IPTAP_H

#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/sysctl.h>
#include <net/netns/generic.h>

#define IPTAP_VERSION	"0.1.0"

/* Private part of an iptap net_device. */
struct iptap_dev {
	struct list_head list;		/* in iptap_net::devices */
	struct net_device *dev;
	struct nf_hook_ops egress_ops;	/* refuses what is written to us */
	atomic_long_t dropped;		/* records lost to allocation failure */
};

/* Per network namespace state. */
struct iptap_net {
	/* The namespace's iptap devices: RCU readers, writers hold RTNL. */
	struct list_head devices;
	unsigned int ndevices;		/* hooks are registered while > 0 */
	struct ctl_table_header *sysctl;
};

extern unsigned int iptap_net_id;
extern bool iptap_log;
extern const struct nf_hook_ops iptap_hook_ops[4];

#define iptap_dbg(fmt, ...)						\
	do {								\
		if (READ_ONCE(iptap_log))				\
			net_info_ratelimited("iptap: " fmt, ##__VA_ARGS__); \
	} while (0)

static inline struct iptap_net *iptap_net(const struct net *net)
{
	return net_generic(net, iptap_net_id);
}

/* device.c */
extern struct rtnl_link_ops iptap_link_ops;

/* netns.c */
extern struct pernet_operations iptap_net_ops;
int iptap_net_attach(struct iptap_dev *idev);
void iptap_net_detach(struct iptap_dev *idev);
unsigned int iptap_tap_count(struct net_device *dev);

/* record.c */
void iptap_record_deliver(struct iptap_dev *idev, struct sk_buff *skb,
			  const struct nf_hook_state *state);

#endif /* _IPTAP_H */
