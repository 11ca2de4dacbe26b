// SPDX-License-Identifier: GPL-2.0
/*
 * Listeners: a namespace's netfilter hooks exist only while a packet
 * socket listens on one of its iptap devices.
 *
 * A hook that finds no listener still costs every packet of the
 * namespace a call (BENCHMARKS.md, "idle").  Nothing tells a device that
 * a packet socket binds to it: af_packet puts its handler on the
 * device's ptype_all list with dev_add_pack(), which has no notifier.
 * So a kretprobe on dev_add_pack(), armed for as long as the module is
 * loaded (before any device can exist), sees every handler put on an
 * iptap device's list, once it is there: a bind(), a ring set up, a
 * fanout group made, a bound socket's device brought up.  It asks the
 * namespace's worker to look; so does a packet that finds no listener.
 * The worker decides from the lists alone (netns.c), so a request that
 * comes twice or for nothing is harmless, and every handler added after
 * the worker looked is followed by another request.
 *
 * The worker is not the binder: bind() may return before the hooks are
 * registered, and a packet sent in between is not recorded.  The
 * request goes to a high-priority worker on the binder's CPU, which
 * usually runs before bind() returns to user space; a program that must
 * not lose a packet reads net.iptap.hooks_registered, which registers
 * the hooks its listener wants before it answers.
 *
 * The probe runs only where dev_add_pack() is called, never per packet.
 * Every call takes a return instance for as long as its entry handler
 * runs, and a call for our device until it returns; with none free (or
 * when kprobes are disabled), the call is missed, and a listener it
 * added goes unseen until the next addition or a read of the sysctl.
 * net.iptap.listen_probe_missed counts the calls missed for want of an
 * instance or by nesting, for any device; kprobes count none while
 * they are disabled.
 */

#include <linux/if_ether.h>
#include <linux/kprobes.h>
#include <linux/netdevice.h>

#include "iptap.h"

bool iptap_hooks_follow __read_mostly;

/* dev_add_pack(pt): take a return probe only for our devices' taps. */
static int iptap_add_pack_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct packet_type *pt = (void *)regs_get_kernel_argument(regs, 0);
	struct net_device *dev = pt->dev;

	if (!dev || pt->type != htons(ETH_P_ALL) ||
	    dev->rtnl_link_ops != &iptap_link_ops)
		return 1;
	*(struct net_device **)ri->data = dev;
	return 0;
}

/* The handler is on the device's list: the caller still holds both. */
static int iptap_add_pack_ret(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct net_device *dev = *(struct net_device **)ri->data;

	iptap_hooks_listener(iptap_net(dev_net(dev)));
	return 0;
}

static struct kretprobe iptap_listen_probe = {
	.kp.symbol_name	= "dev_add_pack",
	.entry_handler	= iptap_add_pack_entry,
	.handler	= iptap_add_pack_ret,
	.data_size	= sizeof(struct net_device *),
};

/* Calls the probe missed since loading: no instance free, or nested. */
unsigned long iptap_listen_missed(void)
{
	if (!iptap_hooks_follow)
		return 0;
	return (unsigned int)READ_ONCE(iptap_listen_probe.nmissed) +
	       READ_ONCE(iptap_listen_probe.kp.nmissed);
}

/* Module init, before the first device. */
void __init iptap_listen_init(void)
{
	int err;

	/* Binders wait for ptype_lock holding their instance. */
	iptap_listen_probe.maxactive = max(64U, 4 * num_possible_cpus());
	err = register_kretprobe(&iptap_listen_probe);
	if (err) {
		pr_info("iptap: no probe on dev_add_pack() (%d): hooks stay while a namespace has a device\n",
			err);
		return;
	}
	iptap_hooks_follow = true;
}

/* Module exit, after the last device. */
void iptap_listen_exit(void)
{
	if (iptap_hooks_follow)
		unregister_kretprobe(&iptap_listen_probe);
}
