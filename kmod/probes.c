// SPDX-License-Identifier: GPL-2.0
/*
 * Socket probes: who creates and uses each IP socket.
 *
 * Modules get no socket-lifecycle callback (the LSM hooks and the
 * inet_sock_set_state tracepoint are not exported), so kprobes on the
 * stable entry points of the LSM layer record the owners.  Each of these
 * runs in the task that acts on the socket, except security_sk_free(),
 * which runs wherever the socket is freed and only drops its record.
 * The probes exist only while some namespace has an iptap device.
 */

#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/sched.h>
#include <net/sock.h>

#include "iptap.h"

static bool iptap_probe_wanted(struct sock *sk)
{
	return sk && iptap_sock_is_user_ip(sk) &&
	       !(current->flags & PF_KTHREAD) &&
	       READ_ONCE(iptap_net(sock_net(sk))->ndevices);
}

static void iptap_probe_use(struct sock *sk, bool created)
{
	if (iptap_probe_wanted(sk))
		iptap_owner_note_sock(sk, created);
}

/* security_socket_post_create(sock, family, type, protocol, kern) */
static int iptap_post_create(struct kprobe *p, struct pt_regs *regs)
{
	struct socket *sock = (void *)regs_get_kernel_argument(regs, 0);

	if (!regs_get_kernel_argument(regs, 4))
		iptap_probe_use(sock->sk, true);
	return 0;
}

/* security_socket_{bind,connect,listen,sendmsg,recvmsg}(sock, ...) */
static int iptap_socket_use(struct kprobe *p, struct pt_regs *regs)
{
	struct socket *sock = (void *)regs_get_kernel_argument(regs, 0);

	iptap_probe_use(sock->sk, false);
	return 0;
}

/* security_sock_graft(sk, parent): an accepted socket meets its owner. */
static int iptap_graft(struct kprobe *p, struct pt_regs *regs)
{
	iptap_probe_use((void *)regs_get_kernel_argument(regs, 0), true);
	return 0;
}

/*
 * inet_csk_clone_lock(listener, req, priority) returns the socket of a
 * connection a listener has just accepted in softirq.  Until a process
 * accept()s it, it is the listener owner's: packets may arrive first.
 */
static int iptap_clone_entry(struct kretprobe_instance *ri,
			     struct pt_regs *regs)
{
	*(struct sock **)ri->data = (void *)regs_get_kernel_argument(regs, 0);
	return 0;
}

static int iptap_clone_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *listener = *(struct sock **)ri->data;
	struct sock *sk = (void *)regs_return_value(regs);

	if (sk && iptap_sock_is_user_ip(listener) &&
	    READ_ONCE(iptap_net(sock_net(listener))->ndevices))
		iptap_owner_inherit(sk, listener);
	return 0;
}

static struct kretprobe iptap_clone_probe = {
	.kp.symbol_name	= "inet_csk_clone_lock",
	.entry_handler	= iptap_clone_entry,
	.handler	= iptap_clone_ret,
	.data_size	= sizeof(struct sock *),
	.maxactive	= 64,
};

/* security_sk_free(sk) */
static int iptap_sk_free(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = (void *)regs_get_kernel_argument(regs, 0);

	/* Its namespace may be gone: touch only the socket itself. */
	if (sk->sk_family == AF_INET || sk->sk_family == AF_INET6)
		iptap_owner_forget_sock(sk);
	return 0;
}

static struct kprobe iptap_kprobes[] = {
	{ .symbol_name = "security_socket_post_create",
	  .pre_handler = iptap_post_create },
	{ .symbol_name = "security_socket_bind",
	  .pre_handler = iptap_socket_use },
	{ .symbol_name = "security_socket_connect",
	  .pre_handler = iptap_socket_use },
	{ .symbol_name = "security_socket_listen",
	  .pre_handler = iptap_socket_use },
	{ .symbol_name = "security_socket_sendmsg",
	  .pre_handler = iptap_socket_use },
	{ .symbol_name = "security_socket_recvmsg",
	  .pre_handler = iptap_socket_use },
	{ .symbol_name = "security_sock_graft",
	  .pre_handler = iptap_graft },
	{ .symbol_name = "security_sk_free",
	  .pre_handler = iptap_sk_free },
};

static struct kprobe *iptap_kprobe_ptrs[ARRAY_SIZE(iptap_kprobes)];
static unsigned int iptap_probe_users;	/* iptap devices, under RTNL */

/* A device is created: the first one anywhere arms the probes. */
int iptap_probes_get(void)
{
	unsigned int i;
	int err;

	ASSERT_RTNL();
	if (iptap_probe_users++)
		return 0;
	for (i = 0; i < ARRAY_SIZE(iptap_kprobes); i++) {
		/* A kprobe cannot be registered twice without a reset. */
		iptap_kprobes[i].addr = NULL;
		iptap_kprobes[i].flags = 0;
		iptap_kprobe_ptrs[i] = &iptap_kprobes[i];
	}
	err = register_kprobes(iptap_kprobe_ptrs, ARRAY_SIZE(iptap_kprobes));
	if (err)
		goto err;
	iptap_clone_probe.kp.addr = NULL;
	iptap_clone_probe.kp.flags = 0;
	err = register_kretprobe(&iptap_clone_probe);
	if (err) {
		unregister_kprobes(iptap_kprobe_ptrs, ARRAY_SIZE(iptap_kprobes));
		goto err;
	}
	return 0;
err:
	iptap_probe_users--;
	return err;
}

/* Waits for running handlers: unregister_kprobes() synchronizes RCU. */
void iptap_probes_put(void)
{
	ASSERT_RTNL();
	if (--iptap_probe_users)
		return;
	unregister_kretprobe(&iptap_clone_probe);
	unregister_kprobes(iptap_kprobe_ptrs, ARRAY_SIZE(iptap_kprobes));
}
