// SPDX-License-Identifier: GPL-2.0
/*
 * The file-table scan: owners of the sockets that existed before their
 * namespace's first iptap device.
 *
 * The probes record sockets from the moment the namespace has an owner
 * table; older ones are found once, in the file tables of all
 * processes, as "ss -p" finds them.  The scan runs in a work item,
 * outside RTNL, one task at a time and a few hundred sockets at a time,
 * rescheduling in between, and stops when the table it fills is gone.
 * It is skipped when the namespace has no socket that packets can reach
 * (no bound TCP or UDP socket), as in a namespace just created.
 *
 * A socket held by several processes is recorded for the first one
 * found; its next use records the user.  A thread whose file table is
 * not its group leader's is scanned on its own.
 */

#include <linux/fdtable.h>
#include <linux/net.h>
#include <linux/pid.h>
#include <linux/sched/task.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/transp_v6.h>
#include <net/udp.h>
#include <net/udplite.h>

#include "iptap.h"

/* Sockets recorded between two reschedules. */
#define IPTAP_SCAN_BATCH	256

/* IPv6's UDP protocol, which is not exported: learnt from a socket. */
static struct proto *iptap_udpv6_prot;

struct iptap_scan {
	struct iptap_net *in;
	struct iptap_owners *owners;
	struct iptap_proc proc;
	unsigned int batch;
};

/* Has @net a socket that packets can reach?  A hashed one is counted. */
static bool iptap_scan_needed(struct net *net)
{
	int n;

	n = sock_prot_inuse_get(net, &tcp_prot) +
	    sock_prot_inuse_get(net, &udp_prot) +
	    sock_prot_inuse_get(net, &udplite_prot);
#if IS_ENABLED(CONFIG_IPV6)
	n += sock_prot_inuse_get(net, &tcpv6_prot);
	if (iptap_udpv6_prot)
		n += sock_prot_inuse_get(net, iptap_udpv6_prot);
#endif
	return n > 0;
}

/*
 * Called for each open file of a task, under its file table's lock.
 * Returns the next descriptor to look at after a batch, -ESTALE if the
 * table went, 0 to go on.
 */
static int iptap_scan_fd(const void *arg, struct file *file, unsigned int fd)
{
	struct iptap_scan *scan = *(struct iptap_scan * const *)arg;
	struct socket *sock = sock_from_file(file);
	struct sock *sk = sock ? sock->sk : NULL;
	int ret = 0;

	if (!sk || !iptap_sock_is_user_ip(sk) ||
	    !net_eq(sock_net(sk), scan->in->net))
		return 0;

	rcu_read_lock();
	if (rcu_dereference(scan->in->owners) == scan->owners)
		iptap_owner_note_scanned(scan->owners, sk, &scan->proc);
	else
		ret = -ESTALE;
	rcu_read_unlock();
	if (!ret && ++scan->batch == IPTAP_SCAN_BATCH)
		ret = fd + 1;
	return ret;
}

/* Scan @p's file table, unless @p shares its group leader's. */
static int iptap_scan_task(struct iptap_scan *scan, struct task_struct *p)
{
	struct iptap_scan *arg = scan;
	unsigned int fd = 0;
	bool shared;
	int ret;

	task_lock(p);
	/* Only compared, never followed: the leader may be exiting. */
	shared = !thread_group_leader(p) &&
		 READ_ONCE(p->group_leader->files) == p->files;
	task_unlock(p);
	if (shared)
		return 0;

	scan->proc.tgid = get_task_pid(p, PIDTYPE_TGID);
	if (!scan->proc.tgid)
		return 0;
	rcu_read_lock();
	iptap_comm_copy(scan->proc.comm, rcu_dereference(p->group_leader));
	rcu_read_unlock();

	do {
		scan->batch = 0;
		task_lock(p);
		ret = p->files ? iterate_fd(p->files, fd, iptap_scan_fd, &arg) : 0;
		task_unlock(p);
		fd = ret;
		cond_resched();
	} while (ret > 0);
	put_pid(scan->proc.tgid);
	return ret;
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

void iptap_scan_work(struct work_struct *work)
{
	struct iptap_net *in = container_of(work, struct iptap_net, scan_work);
	unsigned int gen = READ_ONCE(in->scan_gen);
	struct iptap_scan scan = { .in = in };
	struct task_struct *p;
	int nr = 1, ret = 0;

	scan.owners = rcu_access_pointer(in->owners);
	if (!scan.owners || !iptap_scan_needed(in->net))
		goto out;

	while (!ret && (p = iptap_scan_next(&nr))) {
		ret = iptap_scan_task(&scan, p);
		put_task_struct(p);
		cond_resched();
	}
	iptap_dbg("netns %u: owner scan %s\n", in->net->ns.inum,
		  ret ? "abandoned" : "done");
out:
	WRITE_ONCE(in->scan_done, gen);
}

void iptap_scan_init(void)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct socket *sock;

	/* Without IPv6 (ipv6.disable=1) there is no UDPv6 socket to count. */
	if (!sock_create_kern(&init_net, AF_INET6, SOCK_DGRAM, IPPROTO_UDP,
			      &sock)) {
		iptap_udpv6_prot = sock->sk->sk_prot;
		sock_release(sock);
	}
#endif
}
