// SPDX-License-Identifier: GPL-2.0
/*
 * iptap: a Linux port of the BSD/XNU iptap pseudo-interface.
 *
 * Every IPv4 and IPv6 packet a network namespace sends or receives is
 * handed, framed by an Apple PKTAP header, to the packet sockets bound
 * to the namespace's iptap devices.
 */

#include <linux/module.h>
#include <linux/workqueue.h>
#include <net/rtnetlink.h>

#include "iptap.h"

unsigned int iptap_log;

/* Strictly 0 or 1: kstrtobool() would take "1x" or "yolo" too. */
static int iptap_log_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int err;

	err = kstrtouint(val, 10, &v);
	if (err)
		return err;
	if (v > 1)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

static const struct kernel_param_ops iptap_log_ops = {
	.set	= iptap_log_set,
	.get	= param_get_uint,
};
module_param_cb(log, &iptap_log_ops, &iptap_log, 0644);
MODULE_PARM_DESC(log, "1: log device and hook events (rate-limited); 0: don't");

/* The namespaces' owners_work and the owner sweeps: never under RTNL. */
struct workqueue_struct *iptap_wq;

static int __init iptap_init(void)
{
	int err;

	err = iptap_owners_init();
	if (err)
		return err;
	iptap_scan_init();
	iptap_probes_init();
	iptap_listen_init();

	iptap_wq = alloc_workqueue("iptap", WQ_UNBOUND, 0);
	if (!iptap_wq) {
		err = -ENOMEM;
		goto err_owners;
	}

	/*
	 * A subsystem, not a device, so that a dying namespace has deleted
	 * its iptap devices (and with them our hooks) before our exit runs.
	 */
	err = register_pernet_subsys(&iptap_net_ops);
	if (err)
		goto err_wq;

	/* Its notifiers count changes in the namespaces' state. */
	err = iptap_flows_init();
	if (err)
		goto err_pernet;

	err = rtnl_link_register(&iptap_link_ops);
	if (err)
		goto err_flows;
	/* The sweeps visit every namespace's state: last. */
	iptap_owners_gc_start();
	return 0;

err_flows:
	iptap_flows_exit();
err_pernet:
	unregister_pernet_subsys(&iptap_net_ops);
err_wq:
	destroy_workqueue(iptap_wq);
err_owners:
	iptap_listen_exit();
	iptap_owners_exit();
	return err;
}

static void __exit iptap_exit(void)
{
	/* Deletes every device, and with the last one the hooks. */
	rtnl_link_unregister(&iptap_link_ops);
	/* A hook may still be running on another CPU: wait for it. */
	synchronize_net();
	/* ... and may have kept a record after the last hooks went. */
	iptap_record_spares_free();
	iptap_listen_exit();
	/* The probes and the sweeps read per-namespace state: first. */
	iptap_probes_exit();
	iptap_owners_gc_stop();
	iptap_flows_exit();
	/* Each namespace's exit frees what its owner tables left. */
	unregister_pernet_subsys(&iptap_net_ops);
	destroy_workqueue(iptap_wq);
	iptap_owners_exit();
}

module_init(iptap_init);
module_exit(iptap_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("iptap developers");
MODULE_DESCRIPTION("iptap: PKTAP capture of every IP packet with its process");
MODULE_VERSION(IPTAP_VERSION);
/*
 * No MODULE_ALIAS_RTNL_LINK("iptap") on purpose: with it, "ip link add ...
 * type iptap" in any user namespace would make the kernel load the module.
 * An administrator loads iptap; then containers may use it.
 */
