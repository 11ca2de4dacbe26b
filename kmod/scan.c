// SPDX-License-Identifier: GPL-2.0
/*
 * The file-table scan: owners of the sockets that existed before their
 * namespace's first iptap device.
 *
 * The probes record sockets from the moment the namespace's worker has
 * armed them (or found them armed); older ones are found once, after
 * that, in the file tables of all
 * processes, as "ss -p" finds them.  The scan runs in the namespace's
 * owners_work, outside RTNL, one task at a time and a few hundred files
 * at a time, rescheduling in between, and stops when the table it fills
 * is retired.  It is skipped when the namespace has no socket that
 * packets can reach (no hashed TCP, UDP or IPv4 UDP-Lite socket), as in
 * a namespace just created.  A sweep runs it over everything, to mark
 * the records of sockets that processes hold as used.
 *
 * A socket held by several processes is recorded for the first one
 * found; its next use records the user.  A thread whose file table is
 * not its group leader's is scanned on its own, and so is each thread
 * of a process whose leader has exited.  Sockets that only io_uring
 * holds (fixed files) are not found.
 */

#include <linux/fdtable.h>
#include <linux/net.h>
#include <linux/pid.h>
#include <linux/sched/task.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/transp_v6.h>
#include <net/udp.h>

#include "compat.h"
#include "iptap.h"

/* Files looked at between two reschedules. */
#define IPTAP_SCAN_BATCH	512

/* The protocols whose hashed sockets packets can reach. */
static struct proto *iptap_scan_protos[] = {
	&tcp_prot, &udp_prot,
#ifdef IPTAP_HAVE_UDPLITE
	&udplite_prot,
#endif
#if IS_ENABLED(CONFIG_IPV6)
	&tcpv6_prot,
	NULL,		/* UDPv6, not exported: learnt from a socket */
#endif
};

struct iptap_scan {
	struct iptap_net *in;
	struct iptap_owners *owners;
	struct iptap_proc proc;
	unsigned int batch;
};

/* Has @net a socket that packets can reach? */
static bool iptap_scan_needed(struct net *net)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(iptap_scan_protos); i++)
		if (iptap_scan_protos[i] &&
		    sock_prot_inuse_get(net, iptap_scan_protos[i]) > 0)
			return true;
	return false;
}

/* The table being filled is no longer the namespace's. */
static bool iptap_scan_stale(const struct iptap_scan *scan)
{
	return rcu_access_pointer(scan->in->owners) != scan->owners;
}

/*
 * Called for each open file of a task, under its file table's lock.
 * Returns the next descriptor to look at after a batch, 0 to go on.
 */
static int iptap_scan_fd(const void *arg, struct file *file, unsigned int fd)
{
	struct iptap_scan *scan = *(struct iptap_scan * const *)arg;
	struct socket *sock = sock_from_file(file);
	struct sock *sk = sock ? sock->sk : NULL;

	if (sk && iptap_sock_is_user_ip(sk) &&
	    net_eq(sock_net(sk), scan->in->net)) {
		rcu_read_lock();
		iptap_owner_note_scanned(scan->owners, sk, &scan->proc);
		rcu_read_unlock();
	}
	return ++scan->batch == IPTAP_SCAN_BATCH ? fd + 1 : 0;
}

/* Name @scan->proc after @p's process; false if @p is gone. */
static bool iptap_scan_proc(struct iptap_scan *scan, struct task_struct *p,
			    struct files_struct *files)
{
	struct task_struct *leader;
	bool shared = false;

	rcu_read_lock();
	if (!pid_alive(p)) {
		rcu_read_unlock();
		return false;
	}
	/* Threads sharing their leader's table are scanned with it. */
	leader = READ_ONCE(p->group_leader);
	if (leader != p)
		shared = READ_ONCE(leader->files) == files;
	if (!shared)
		iptap_comm_copy(scan->proc.comm, leader);
	rcu_read_unlock();
	if (shared)
		return false;
	scan->proc.tgid = get_task_pid(p, PIDTYPE_TGID);
	return !!scan->proc.tgid;
}

static void iptap_scan_task(struct iptap_scan *scan, struct task_struct *p)
{
	struct iptap_scan *arg = scan;
	struct files_struct *files;
	int fd = 0;

	task_lock(p);
	files = p->files;		/* NULL once the task has exited */
	task_unlock(p);
	if (!files || !iptap_scan_proc(scan, p, files))
		return;

	do {
		scan->batch = 0;
		task_lock(p);
		fd = p->files ? iterate_fd(p->files, fd, iptap_scan_fd, &arg) : 0;
		task_unlock(p);
		cond_resched();
	} while (fd > 0 && !iptap_scan_stale(scan));
	put_pid(scan->proc.tgid);
}

/* The task with the lowest PID from @*nr on, with a reference. */
static struct task_struct *iptap_scan_next(int *nr)
{
	struct task_struct *p = NULL;
	struct pid *pid;

	rcu_read_lock();
	while (!p && (pid = find_ge_pid(*nr, &init_pid_ns))) {
		*nr = pid_nr(pid) + 1;
		p = pid_task(pid, PIDTYPE_PID);
		if (p && !(p->flags & PF_KTHREAD))
			get_task_struct(p);
		else
			p = NULL;
	}
	rcu_read_unlock();
	return p;
}

/*
 * Called from @in's owners_work, which keeps @owners alive.  Unless @all,
 * skipped when no socket of the namespace can receive packets.
 */
void iptap_scan(struct iptap_net *in, struct iptap_owners *owners, bool all)
{
	struct iptap_scan scan = { .in = in, .owners = owners };
	struct task_struct *p;
	int nr = 1;

	if (!all && !iptap_scan_needed(in->net))
		return;
	while (!iptap_scan_stale(&scan) && (p = iptap_scan_next(&nr))) {
		iptap_scan_task(&scan, p);
		put_task_struct(p);
		cond_resched();
	}
	iptap_dbg("netns %u: owner scan %s\n", in->net->ns.inum,
		  iptap_scan_stale(&scan) ? "abandoned" : "done");
}

void iptap_scan_init(void)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct socket *sock;

	/* Without IPv6 (ipv6.disable=1) there is no UDPv6 socket to count. */
	if (!sock_create_kern(&init_net, AF_INET6, SOCK_DGRAM, IPPROTO_UDP,
			      &sock)) {
		iptap_scan_protos[ARRAY_SIZE(iptap_scan_protos) - 1] =
			sock->sk->sk_prot;
		sock_release(sock);
	}
#endif
}
