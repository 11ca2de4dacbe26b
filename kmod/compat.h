/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few interfaces that differ between the kernels iptap supports
 * (6.1 to Debian sid's newest).  Each test detects the interface itself
 * where a macro allows it, because stable series backport such changes.
 */
#ifndef _IPTAP_COMPAT_H
#define _IPTAP_COMPAT_H

#include <linux/local_lock.h>
#include <linux/netdevice.h>
#include <linux/sysctl.h>
#include <linux/version.h>
#include <net/addrconf.h>
#include <net/net_namespace.h>
#include <net/rtnetlink.h>
#include <net/udp.h>

/*
 * An ftrace callback's arguments, from the registers ftrace saves for it
 * without FTRACE_OPS_FL_SAVE_REGS (the receive hook, probes.c).  6.1 has
 * no accessor; x86-64 keeps them in a pt_regs there.
 */
#include <linux/ftrace.h>
#if defined(CONFIG_DYNAMIC_FTRACE_WITH_ARGS) && defined(CONFIG_X86_64) && \
	!defined(ftrace_regs_get_argument)
#define ftrace_regs_get_argument(fregs, n) \
	regs_get_kernel_argument(&(fregs)->regs, n)
#endif
#if defined(CONFIG_DYNAMIC_FTRACE_WITH_ARGS) && defined(ftrace_regs_get_argument)
#define IPTAP_HAVE_FTRACE_ARGS
#endif

/* UDP-Lite left the kernel in 7.1 (no macro tells). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(7, 1, 0)
#include <net/udplite.h>
#define IPTAP_HAVE_UDPLITE
#endif

/* 6.12 turned the lockless-xmit and netns-local feature bits into flags. */
static inline void iptap_set_lltx_netns_local(struct net_device *dev)
{
#ifdef NETIF_F_LLTX
	dev->features |= NETIF_F_LLTX;
#else
	dev->lltx = true;
#endif
#ifdef NETIF_F_NETNS_LOCAL
	dev->features |= NETIF_F_NETNS_LOCAL;
#else
	dev->netns_immutable = true;
#endif
}

/*
 * 6.11 made ctl_table handlers take a const table; no macro tells the
 * two apart, hence the one version test of the module.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
#define IPTAP_CTL_TABLE const struct ctl_table
#else
#define IPTAP_CTL_TABLE struct ctl_table
#endif

/*
 * 6.6 added sized sysctl tables (register_net_sysctl became a macro);
 * before, a table ended with an empty entry, which we always keep.
 */
static inline struct ctl_table_header *
iptap_register_sysctl(struct net *net, const char *path,
		      struct ctl_table *table, size_t entries)
{
#ifdef register_net_sysctl
	return register_net_sysctl_sz(net, path, table, entries);
#else
	return register_net_sysctl(net, path, table);
#endif
}

/*
 * IPv6 must not configure @dev, registered and not yet up: no link-local
 * address, DAD or router solicitation of its own.  6.2 added a flag for
 * this (an enum, no macro tells); before, the device's own disable_ipv6
 * does it, set as its sysctl would be before the device is up.
 */
static inline void iptap_no_addrconf(struct net_device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	dev->priv_flags |= IFF_NO_ADDRCONF;
#elif IS_ENABLED(CONFIG_IPV6)
	struct inet6_dev *idev = __in6_dev_get(dev);

	if (idev)
		WRITE_ONCE(idev->cnf.disable_ipv6, 1);
#endif
}

/*
 * The UDP sockets of @net: 6.2 let a namespace have a table of its own
 * (no macro tells); before, every namespace's are in the global one.
 */
static inline struct udp_table *iptap_udp_table(const struct net *net)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return net->ipv4.udp_table;
#else
	return &udp_table;
#endif
}

/*
 * The references of an skb's pages: skb_frag_ref() and skb_frag_unref()
 * moved to a header of their own after 6.1 (6.12 has it; Kbuild looks).
 */
#ifdef IPTAP_HAVE_SKBUFF_REF_H
#include <linux/skbuff_ref.h>
#endif

/*
 * 6.12 let NICs receive payloads into device memory (devmem TCP), pages
 * the CPU cannot read; before, every page of an skb is readable.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
static inline bool skb_frags_readable(const struct sk_buff *skb)
{
	return true;
}
#endif

/*
 * 6.11 gave per-CPU data that softirqs use a lock of its own, for the
 * PREEMPT_RT kernels whose softirqs no longer exclude each other on a
 * CPU; before, disabling them was enough.
 */
#ifndef local_lock_nested_bh
#define local_lock_nested_bh(lock)	do { } while (0)
#define local_unlock_nested_bh(lock)	do { } while (0)
#endif

/*
 * 6.15 packed the arguments of rtnl_link_ops.newlink() into struct
 * rtnl_newlink_params.  Before, the struct is ours and a wrapper that
 * fills it stands in for the newlink() written for the new interface.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 15, 0)
struct rtnl_newlink_params {
	struct net *src_net;
	struct nlattr **tb;
	struct nlattr **data;
};

#define IPTAP_NEWLINK(fn)	fn##_args
#define IPTAP_DEFINE_NEWLINK(fn)					\
static int fn##_args(struct net *src_net, struct net_device *dev,	\
		     struct nlattr *tb[], struct nlattr *data[],	\
		     struct netlink_ext_ack *extack)			\
{									\
	struct rtnl_newlink_params params = {				\
		.src_net	= src_net,				\
		.tb		= tb,					\
		.data		= data,					\
	};								\
									\
	return fn(dev, &params, extack);				\
}
#else
#define IPTAP_NEWLINK(fn)	fn
#define IPTAP_DEFINE_NEWLINK(fn)
#endif

#endif /* _IPTAP_COMPAT_H */
