// SPDX-License-Identifier: GPL-2.0
/*
 * Socket probes: who creates and uses each IP socket.
 *
 * Modules get no socket-lifecycle callback (the LSM hooks and the
 * inet_sock_set_state tracepoint are not exported), so kprobes on the
 * stable entry points of the LSM layer record the owners.  Each of these
 * runs in the task that acts on the socket, except the one on
 * inet_sock_destruct(), which runs wherever an IPv4 or IPv6 socket is
 * destroyed, before it lets go of its namespace, and only drops its
 * record.  (Not sk_free(): the kernel has inlined copies of it, which
 * close UDP and raw sockets without entering it.)
 *
 * The probes on socket events (create, bind, connect, listen, accept,
 * destroy) exist while some namespace has an iptap device, and a few
 * seconds after the last one.  Registering and unregistering a probe
 * wait for other CPUs and for RCU grace periods, so neither is done
 * under RTNL: a device's creation and removal only count it, the
 * namespace's owners_work arms the probes before its scan (which finds
 * the sockets made before them), and a worker removes them once no
 * device is left.  The receive hook would run for
 * every datagram a process reads anywhere on the host: it is armed only
 * while captures get records, so that idle devices cost nothing per
 * packet.  Senders need no probe: the hook records the sending task
 * itself (attribute.c).
 *
 * The receive hook is the sock_recv_length tracepoint (6.3 and later),
 * found by name since it is not exported: a static call after each
 * message a recvmsg() or recvmmsg() reads, which costs a reader in a
 * namespace without iptap about a third of what a kprobe costs it
 * (BENCHMARKS.md).  It names a reader once its read returns, so a
 * packet that arrives while a process waits in its first read of a
 * socket it did not create is still its previous user's.  Kernels
 * without the tracepoint hook security_socket_recvmsg(), which names
 * the reader on entry: through an ftrace callback of our own where
 * ftrace hands it the arguments (6.1 on x86-64, 6.2), which costs 60 to
 * 75% of a kprobe there, else with a kprobe, which saves every register
 * and then looks itself up.  Tracepoint probes may run preemptible
 * (7.x); the handler assumes nothing of it.
 */

#include <linux/kprobes.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/sched.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>
#include <net/inet_sock.h>
#include <net/mptcp.h>
#include <net/sock.h>

#include "compat.h"
#include "iptap.h"

/* The receive hook goes this long after the last record. */
#define IPTAP_RECV_IDLE	(5 * HZ)
/* The event probes go this long after the last device. */
#define IPTAP_PROBES_LINGER	(5 * HZ)

/*
 * The running process uses @sk, or creates it: noted in the state of its
 * namespace, if that has devices.  Inline: the receive hook runs it for
 * every message read.
 */
static __always_inline void iptap_probe_use(struct sock *sk, bool created)
{
	struct iptap_net *in;

	if (!sk || !iptap_sock_is_user_ip(sk) ||
	    (current->flags & PF_KTHREAD))
		return;
	/* Most uses repeat the one before: known without the namespace. */
	if (!created && iptap_owner_reused(sk))
		return;
	in = iptap_net(sock_net(sk));
	if (READ_ONCE(in->ndevices))
		iptap_owner_probe_sock(in, sk, created);
}

/* security_socket_post_create(sock, family, type, protocol, kern) */
static int iptap_post_create(struct kprobe *p, struct pt_regs *regs)
{
	struct socket *sock = (void *)regs_get_kernel_argument(regs, 0);

	if (!regs_get_kernel_argument(regs, 4))
		iptap_probe_use(sock->sk, true);
	return 0;
}

/* security_socket_{bind,connect,listen,recvmsg}(sock, ...) */
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
 * An MPTCP listener accepts on its listening subflow: the new subflow is
 * its MPTCP socket's owner's until accept() grafts it.
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
	struct socket *sock;
	struct sock *msk;

	if (!sk || !READ_ONCE(iptap_net(sock_net(listener))->ndevices))
		return 0;
	if (iptap_sock_is_user_ip(listener)) {
		iptap_owner_inherit(sk, listener, NULL);
	} else if (listener->sk_protocol == IPPROTO_TCP &&
		   sk_is_mptcp(listener)) {
		rcu_read_lock();	/* for the struct socket */
		sock = READ_ONCE(listener->sk_socket);
		msk = sock ? READ_ONCE(sock->sk) : NULL;
		if (msk && iptap_sock_is_mptcp(msk))
			iptap_owner_inherit(sk, msk, sock);
		rcu_read_unlock();
	}
	return 0;
}

static struct kretprobe iptap_clone_probe = {
	.kp.symbol_name	= "inet_csk_clone_lock",
	.entry_handler	= iptap_clone_entry,
	.handler	= iptap_clone_ret,
	.data_size	= sizeof(struct sock *),
	.maxactive	= 64,
};

/* inet_sock_destruct(sk): the socket is being destroyed. */
static int iptap_sock_destruct(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = (void *)regs_get_kernel_argument(regs, 0);

	/*
	 * Only a socket that holds its namespace (a process's, or an MPTCP
	 * subflow) has a record; it lets go of it after its destructor.
	 */
	if (sk->sk_net_refcnt)
		iptap_owner_forget_sock(sk);
	return 0;
}

/*
 * Registered in this order, and unregistered in it.  The destruction
 * probe comes first: no socket is recorded before it can see it go.  Its
 * misses are read for every cached packet (iptap_probes_missed()).
 */
#define IPTAP_KPROBE_DESTRUCT	0

static struct kprobe iptap_kprobes[] = {
	[IPTAP_KPROBE_DESTRUCT] = { .symbol_name = "inet_sock_destruct",
				    .pre_handler = iptap_sock_destruct },
	{ .symbol_name = "security_socket_post_create",
	  .pre_handler = iptap_post_create },
	{ .symbol_name = "security_socket_bind",
	  .pre_handler = iptap_socket_use },
	{ .symbol_name = "security_socket_connect",
	  .pre_handler = iptap_socket_use },
	{ .symbol_name = "security_socket_listen",
	  .pre_handler = iptap_socket_use },
	{ .symbol_name = "security_sock_graft",
	  .pre_handler = iptap_graft },
};

/* A UDP socket whose port's sockets a function is changing. */
struct iptap_udp_change {
	struct sock *sk;
	u16 port;		/* before the change */
};

/*
 * Counted when it begins and when it ends: an entry made meanwhile may
 * have seen either state.
 */
static void iptap_udp_change_begin(struct kretprobe_instance *ri,
				   struct sock *sk, u16 port)
{
	struct iptap_udp_change *c = (void *)ri->data;

	c->sk = sk;
	c->port = port;
	iptap_flows_changing(sock_net(sk), port);
}

/* udp_lib_{unhash,rehash}(sk, ...), __udp_disconnect(sk, flags) */
static int iptap_udp_table_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct sock *sk = (void *)regs_get_kernel_argument(regs, 0);

	iptap_udp_change_begin(ri, sk, READ_ONCE(inet_sk(sk)->inet_num));
	return 0;
}

/* udp_lib_get_port(sk, snum, ...): snum 0 picks a port */
static int iptap_udp_bind_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	iptap_udp_change_begin(ri, (void *)regs_get_kernel_argument(regs, 0),
			       regs_get_kernel_argument(regs, 1));
	return 0;
}

/* inet_dgram_connect(sock, ...): connect() */
static int iptap_udp_connect_entry(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	struct socket *sock = (void *)regs_get_kernel_argument(regs, 0);
	struct sock *sk = sock->sk;

	iptap_udp_change_begin(ri, sk, READ_ONCE(inet_sk(sk)->inet_num));
	return 0;
}

/*
 * The change is done, in whichever namespace (flows.c may cache a flow
 * of one as soon as it has a device): the ports it left and took.
 */
static int iptap_udp_change_done(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	const struct iptap_udp_change *c = (void *)ri->data;
	u16 port = READ_ONCE(inet_sk(c->sk)->inet_num);

	iptap_flows_changed(sock_net(c->sk), c->port);
	if (port != c->port)
		iptap_flows_changed(sock_net(c->sk), port);
	return 0;
}

#define IPTAP_UDP_CHANGE_PROBE(sym, entry)			\
	{							\
		.kp.symbol_name	= sym,				\
		.entry_handler	= entry,			\
		.handler	= iptap_udp_change_done,	\
		.data_size	= sizeof(struct iptap_udp_change), \
	}

/*
 * Whatever makes a UDP lookup find another socket: bind() and the
 * automatic binding of a first send (udp_lib_get_port), close()
 * (udp_lib_unhash), a new local address or device (udp_lib_rehash),
 * connect() (inet_dgram_connect: a connected socket takes only its
 * peer's datagrams), its undoing by connect(AF_UNSPEC) or by a socket
 * destroy request (__udp_disconnect, which 7.x kernels have unhash
 * without calling udp_lib_unhash).  For flows.c.
 */
static struct kretprobe iptap_udp_probes[] = {
	IPTAP_UDP_CHANGE_PROBE("udp_lib_get_port", iptap_udp_bind_entry),
	IPTAP_UDP_CHANGE_PROBE("udp_lib_unhash", iptap_udp_table_entry),
	IPTAP_UDP_CHANGE_PROBE("udp_lib_rehash", iptap_udp_table_entry),
	IPTAP_UDP_CHANGE_PROBE("inet_dgram_connect", iptap_udp_connect_entry),
	IPTAP_UDP_CHANGE_PROBE("__udp_disconnect", iptap_udp_table_entry),
};

static struct kretprobe *iptap_udp_probe_ptrs[ARRAY_SIZE(iptap_udp_probes)];
static bool iptap_udp_probes_armed;
static bool iptap_flows_enabled;	/* under iptap_probes_lock */
static unsigned long iptap_udp_armed_at;	/* jiffies */

/*
 * A change under way when the UDP probes were armed is not counted: its
 * call began before them.  Entries are made from a second later only.
 */
#define IPTAP_FLOWS_DELAY	HZ

static void iptap_flows_start(struct work_struct *work);
static DECLARE_DELAYED_WORK(iptap_flows_start_work, iptap_flows_start);

/* sock_recv_length(sk, ret, flags): a read of @sk returned. */
static void iptap_recv_traced(void *data, struct sock *sk, int ret,
			      int flags)
{
	iptap_probe_use(sk, false);
}

static struct tracepoint *iptap_recv_tp __ro_after_init;

static void iptap_recv_tp_find(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sock_recv_length"))
		iptap_recv_tp = tp;
}

static struct kprobe *iptap_kprobe_ptrs[ARRAY_SIZE(iptap_kprobes)];

/* Serializes arming and disarming; never taken under RTNL. */
static DEFINE_MUTEX(iptap_probes_lock);
static unsigned int iptap_probe_users;	/* iptap devices, written under RTNL */
static bool iptap_probes_armed;		/* the event probes */
static bool iptap_recv_armed;		/* written under the lock */
static bool iptap_recv_failed;		/* do not retry until rearmed */
static unsigned long iptap_last_record;	/* jiffies */

static void iptap_recv_arm(struct work_struct *work);
static void iptap_recv_idle(struct work_struct *work);
static void iptap_probes_idle(struct work_struct *work);
static DECLARE_WORK(iptap_recv_arm_work, iptap_recv_arm);
static DECLARE_DELAYED_WORK(iptap_recv_idle_work, iptap_recv_idle);
static DECLARE_DELAYED_WORK(iptap_probes_idle_work, iptap_probes_idle);

/* A kprobe cannot be registered twice without a reset. */
static void iptap_kprobe_reset(struct kprobe *kp)
{
	kp->addr = NULL;
	kp->flags = 0;
}

#ifdef IPTAP_HAVE_FTRACE_ARGS
/*
 * security_socket_recvmsg(sock, ...).  Like a kprobe handler, it runs
 * with preemption disabled and never within itself: the recursion lock
 * gives both.
 */
static void notrace iptap_recv_ftraced(unsigned long ip,
				       unsigned long parent_ip,
				       struct ftrace_ops *ops,
				       struct ftrace_regs *fregs)
{
	struct socket *sock = (void *)ftrace_regs_get_argument(fregs, 0);
	int bit = ftrace_test_recursion_trylock(ip, parent_ip);

	if (bit < 0)
		return;
	iptap_probe_use(sock->sk, false);
	ftrace_test_recursion_unlock(bit);
}

static struct ftrace_ops iptap_recv_ops = {
	.func	= iptap_recv_ftraced,
};

/* Written by ftrace_set_filter() as it parses it. */
static unsigned char iptap_recv_func[] = "security_socket_recvmsg";
/* The filter outlives unregistration: set once, under iptap_probes_lock. */
static bool iptap_recv_filtered;

static int iptap_recv_entry_register(void)
{
	int err;

	if (!iptap_recv_filtered) {
		/* A walk of every traceable function, by name. */
		err = ftrace_set_filter(&iptap_recv_ops, iptap_recv_func,
					strlen(iptap_recv_func), 1);
		if (err)
			return err;
		iptap_recv_filtered = true;
	}
	return register_ftrace_function(&iptap_recv_ops);
}

/*
 * Waits for the callbacks still running, preempted ones too (a tasks RCU
 * grace period, longer than a kprobe's removal).  Only ftrace disabled
 * by an error of its own fails it, and may call us still: keep the module.
 */
static void iptap_recv_entry_unregister(void)
{
	if (WARN_ON_ONCE(unregister_ftrace_function(&iptap_recv_ops)))
		__module_get(THIS_MODULE);
}

#define IPTAP_RECV_ENTRY	"ftrace"
#else
static struct kprobe iptap_recv_probe = {
	.symbol_name	= "security_socket_recvmsg",
	.pre_handler	= iptap_socket_use,
};

static int iptap_recv_entry_register(void)
{
	iptap_kprobe_reset(&iptap_recv_probe);
	return register_kprobe(&iptap_recv_probe);
}

static void iptap_recv_entry_unregister(void)
{
	unregister_kprobe(&iptap_recv_probe);
}

#define IPTAP_RECV_ENTRY	"kprobe"
#endif

static int iptap_recv_register(void)
{
	if (iptap_recv_tp)
		return tracepoint_probe_register(iptap_recv_tp,
						 (void *)iptap_recv_traced, NULL);
	return iptap_recv_entry_register();
}

/*
 * Called with iptap_probes_lock held.  The ftrace callback and the
 * kprobe wait for their running handlers; the tracepoint's, which need
 * nothing freed, are waited for once, at module exit.
 */
static void iptap_recv_disarm(void)
{
	if (!iptap_recv_armed)
		return;
	if (iptap_recv_tp)
		WARN_ON_ONCE(tracepoint_probe_unregister(iptap_recv_tp,
							 (void *)iptap_recv_traced,
							 NULL));
	else
		iptap_recv_entry_unregister();
	WRITE_ONCE(iptap_recv_armed, false);
	iptap_dbg("receive hook disarmed\n");
}

static void iptap_recv_arm(struct work_struct *work)
{
	int err;

	mutex_lock(&iptap_probes_lock);
	if (READ_ONCE(iptap_probe_users) && iptap_probes_armed &&
	    !iptap_recv_armed && !iptap_recv_failed) {
		err = iptap_recv_register();
		if (!err) {
			WRITE_ONCE(iptap_recv_armed, true);
			schedule_delayed_work(&iptap_recv_idle_work,
					      IPTAP_RECV_IDLE);
			iptap_dbg("receive hook armed (%s)\n",
				  iptap_recv_tp ? "tracepoint" : IPTAP_RECV_ENTRY);
		} else {
			WRITE_ONCE(iptap_recv_failed, true);
			pr_warn_once("iptap: no receive hook (%d): receiving processes are not recorded\n",
				     err);
		}
	}
	mutex_unlock(&iptap_probes_lock);
}

static void iptap_recv_idle(struct work_struct *work)
{
	unsigned long until;

	mutex_lock(&iptap_probes_lock);
	until = READ_ONCE(iptap_last_record) + IPTAP_RECV_IDLE;
	if (time_after_eq(jiffies, until))
		iptap_recv_disarm();
	else if (iptap_recv_armed)
		schedule_delayed_work(&iptap_recv_idle_work, until - jiffies);
	mutex_unlock(&iptap_probes_lock);
}

/*
 * A record was delivered: keep the receive hook armed.  Called from
 * the hooks; cheap once armed.
 */
void iptap_probes_recording(void)
{
	unsigned long now = jiffies;

	if (READ_ONCE(iptap_last_record) != now)
		WRITE_ONCE(iptap_last_record, now);
	if (!READ_ONCE(iptap_recv_armed) && !READ_ONCE(iptap_recv_failed))
		schedule_work(&iptap_recv_arm_work);
}

/* Called with iptap_probes_lock held.  Without them, nothing is cached. */
static void iptap_udp_probes_arm(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(iptap_udp_probes); i++) {
		iptap_kprobe_reset(&iptap_udp_probes[i].kp);
		/* connect() may sleep inside: room for many at once. */
		iptap_udp_probes[i].maxactive = max(64U,
						    4 * num_possible_cpus());
		iptap_udp_probe_ptrs[i] = &iptap_udp_probes[i];
	}
	err = register_kretprobes(iptap_udp_probe_ptrs,
				  ARRAY_SIZE(iptap_udp_probes));
	if (err) {
		pr_warn_once("iptap: UDP socket probes not armed (%d): no flow is cached\n",
			     err);
		return;
	}
	iptap_udp_probes_armed = true;
	iptap_udp_armed_at = jiffies;
	mod_delayed_work(system_wq, &iptap_flows_start_work, IPTAP_FLOWS_DELAY);
}

/*
 * Entries can be made once the probes have been armed for a while, and
 * have missed nothing: they miss nothing until disarmed, or the entries
 * stop there.
 */
static void iptap_flows_start(struct work_struct *work)
{
	unsigned long at;

	mutex_lock(&iptap_probes_lock);
	at = iptap_udp_armed_at + IPTAP_FLOWS_DELAY;
	/* A run queued before the probes were armed again: not yet. */
	if (iptap_udp_probes_armed && time_before(jiffies, at)) {
		mod_delayed_work(system_wq, &iptap_flows_start_work,
				 at - jiffies);
	} else if (iptap_udp_probes_armed && !iptap_flows_enabled &&
		   !iptap_flow_probes_missed()) {
		iptap_flows_enable();
		iptap_flows_enabled = true;
	}
	mutex_unlock(&iptap_probes_lock);
}

/* Called with iptap_probes_lock held. */
static void iptap_udp_probes_disarm(void)
{
	if (!iptap_udp_probes_armed)
		return;
	if (iptap_flows_enabled)
		iptap_flows_disable();
	iptap_flows_enabled = false;
	unregister_kretprobes(iptap_udp_probe_ptrs,
			      ARRAY_SIZE(iptap_udp_probes));
	iptap_udp_probes_armed = false;
}

static unsigned long iptap_kretprobe_missed(const struct kretprobe *rp)
{
	return READ_ONCE(rp->nmissed) | READ_ONCE(rp->kp.nmissed);
}

/*
 * Did the UDP probes, or the destruction probe, run no handler for a
 * call since armed?  Its change went uncounted.  Read for every cached
 * packet: a test of each count, no sum, no loop.
 */
bool iptap_flow_probes_missed(void)
{
	const struct kretprobe *rp = iptap_udp_probes;

	BUILD_BUG_ON(ARRAY_SIZE(iptap_udp_probes) != 5);
	return iptap_probes_missed() | iptap_kretprobe_missed(&rp[0]) |
	       iptap_kretprobe_missed(&rp[1]) | iptap_kretprobe_missed(&rp[2]) |
	       iptap_kretprobe_missed(&rp[3]) | iptap_kretprobe_missed(&rp[4]);
}

/* Called with iptap_probes_lock held. */
static int iptap_probes_arm(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(iptap_kprobes); i++) {
		iptap_kprobe_reset(&iptap_kprobes[i]);
		iptap_kprobe_ptrs[i] = &iptap_kprobes[i];
	}
	err = register_kprobes(iptap_kprobe_ptrs, ARRAY_SIZE(iptap_kprobes));
	if (err)
		return err;
	iptap_kprobe_reset(&iptap_clone_probe.kp);
	err = register_kretprobe(&iptap_clone_probe);
	if (err) {
		unregister_kprobes(iptap_kprobe_ptrs, ARRAY_SIZE(iptap_kprobes));
		return err;
	}
	iptap_udp_probes_arm();
	WRITE_ONCE(iptap_probes_armed, true);
	WRITE_ONCE(iptap_recv_failed, false);
	iptap_dbg("event probes armed\n");
	return 0;
}

/* Called with iptap_probes_lock held.  Waits for running handlers. */
static void iptap_probes_disarm(void)
{
	iptap_recv_disarm();
	iptap_udp_probes_disarm();
	unregister_kretprobe(&iptap_clone_probe);
	unregister_kprobes(iptap_kprobe_ptrs, ARRAY_SIZE(iptap_kprobes));
	WRITE_ONCE(iptap_probes_armed, false);
	iptap_dbg("event probes disarmed\n");
}

/* A device is created: its namespace's owners_work arms the probes. */
void iptap_probes_get(void)
{
	ASSERT_RTNL();
	WRITE_ONCE(iptap_probe_users, iptap_probe_users + 1);
}

/*
 * Called from a namespace's owners_work before it scans, outside RTNL.
 * A device created while the idle worker disarms waits here for it, not
 * in ip link add, and arms again.  If arming fails the devices still
 * capture: only the scan and the sending tasks name owners.
 */
void iptap_probes_sync(void)
{
	int err;

	mutex_lock(&iptap_probes_lock);
	if (READ_ONCE(iptap_probe_users) && !iptap_probes_armed) {
		err = iptap_probes_arm();
		if (err) {
			/* No receive hook either; the sweeps try again. */
			WRITE_ONCE(iptap_recv_failed, true);
			pr_warn_ratelimited("iptap: socket probes not armed (%d): only the scan and senders name owners\n",
					    err);
		}
	}
	mutex_unlock(&iptap_probes_lock);
}

/* The last device anywhere is gone: disarm a while later. */
void iptap_probes_put(void)
{
	ASSERT_RTNL();
	WRITE_ONCE(iptap_probe_users, iptap_probe_users - 1);
	if (!iptap_probe_users)
		mod_delayed_work(system_long_wq, &iptap_probes_idle_work,
				 IPTAP_PROBES_LINGER);
}

/*
 * A device created after the count was read here queues its namespace's
 * owners_work, which arms again once this is done.
 */
static void iptap_probes_idle(struct work_struct *work)
{
	mutex_lock(&iptap_probes_lock);
	if (!READ_ONCE(iptap_probe_users) && iptap_probes_armed)
		iptap_probes_disarm();
	mutex_unlock(&iptap_probes_lock);
}

/*
 * Whether owner records can miss their socket's destruction: the
 * destruction probe dropped hits since it was last armed, or it is not
 * armed while a device exists (arming failed, or is under way).
 */
bool iptap_probes_missing(void)
{
	return iptap_probes_missed() ||
	       (READ_ONCE(iptap_probe_users) && !READ_ONCE(iptap_probes_armed));
}

/* Hits of the destruction probe that kprobes dropped, since armed. */
unsigned long iptap_probes_missed(void)
{
	return READ_ONCE(iptap_kprobes[IPTAP_KPROBE_DESTRUCT].nmissed);
}

/* Module init: find the receive tracepoint, where the kernel has one. */
void __init iptap_probes_init(void)
{
	for_each_kernel_tracepoint(iptap_recv_tp_find, NULL);
}

/*
 * Module exit, after every device is gone: by then no hook is left to
 * schedule the works again.
 */
void iptap_probes_exit(void)
{
	cancel_delayed_work_sync(&iptap_probes_idle_work);
	mutex_lock(&iptap_probes_lock);
	if (iptap_probes_armed)
		iptap_probes_disarm();
	mutex_unlock(&iptap_probes_lock);
	cancel_delayed_work_sync(&iptap_flows_start_work);
	cancel_work_sync(&iptap_recv_arm_work);
	cancel_delayed_work_sync(&iptap_recv_idle_work);
	/* No receive handler may still run when the module's text goes. */
	if (iptap_recv_tp)
		tracepoint_synchronize_unregister();
#ifdef IPTAP_HAVE_FTRACE_ARGS
	else
		ftrace_free_filter(&iptap_recv_ops);
#endif
}
