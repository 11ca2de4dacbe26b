// SPDX-License-Identifier: GPL-2.0
/*
 * Owner records: which process last used a socket, and which created it.
 *
 * Records are written in task context by the socket probes (probes.c)
 * and by a one-time scan of file tables, and read locklessly under RCU
 * by the packet path (attribute.c).  A record never changes once
 * published: a new owner replaces it, and the old one is freed after a
 * grace period, so a reader always sees a consistent owner.
 *
 * Sockets are keyed by their cookie, which the kernel never reuses, so a
 * closed socket's record cannot be applied to a new socket.  Echo
 * requests sent by ping (whose replies no exported lookup can match to a
 * socket) are keyed by namespace, family and ICMP identifier.
 *
 * The table is bounded (IPTAP_OWNERS_MAX records); a record goes when its
 * socket is freed, when the last iptap device of its namespace goes, and,
 * if neither happened, when it has not been used for a long time.
 */

#include <linux/fdtable.h>
#include <linux/hash.h>
#include <linux/net.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sock_diag.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <net/sock.h>

#include "iptap.h"

#define IPTAP_OWNERS_BITS	14
#define IPTAP_OWNERS_MAX	65536
#define IPTAP_PING_TTL		(60 * HZ)
#define IPTAP_SOCKET_TTL	(3600 * HZ)
#define IPTAP_GC_INTERVAL	(30 * HZ)

/* Cookies count up from 1 and never reach bit 63: ping keys set it. */
#define IPTAP_PING_KEY		BIT_ULL(63)

static struct hlist_head *iptap_owners;
static DEFINE_SPINLOCK(iptap_owners_lock);	/* writers */
static unsigned int iptap_owners_count;		/* under iptap_owners_lock */
static void iptap_owners_gc(struct work_struct *work);
static DECLARE_DELAYED_WORK(iptap_gc_work, iptap_owners_gc);

static struct hlist_head *iptap_owner_bucket(u64 key)
{
	return &iptap_owners[hash_64(key, IPTAP_OWNERS_BITS)];
}

/* The socket's cookie, or 0 if it has none yet. */
u64 iptap_sock_cookie(struct sock *sk)
{
	return atomic64_read(&sk->sk_cookie);
}

u64 iptap_ping_key(u8 family, u16 id)
{
	return IPTAP_PING_KEY | (u64)family << 16 | id;
}

/* Called under RCU. */
const struct iptap_owner *iptap_owner_find(u64 key, const struct net *net)
{
	struct iptap_owner *o;

	if (!key)
		return NULL;
	hlist_for_each_entry_rcu(o, iptap_owner_bucket(key), node) {
		if (o->key == key && (!(key & IPTAP_PING_KEY) || o->net == net)) {
			if (time_after(jiffies, READ_ONCE(o->used) + HZ))
				WRITE_ONCE(o->used, jiffies);
			return o;
		}
	}
	return NULL;
}

static void iptap_owner_free_rcu(struct rcu_head *head)
{
	struct iptap_owner *o = container_of(head, struct iptap_owner, rcu);

	put_pid(o->last.tgid);
	put_pid(o->creator.tgid);
	kfree(o);
}

/* Called with iptap_owners_lock held. */
static void iptap_owner_unlink(struct iptap_owner *o)
{
	hlist_del_rcu(&o->node);
	iptap_owners_count--;
	call_rcu(&o->rcu, iptap_owner_free_rcu);
}

/*
 * Record the process @tgid, named @comm, as the last user of @key (and as
 * its creator if @created or if the key had no record).  Any context but
 * hard IRQ; never sleeps.
 */
static void iptap_owner_note(u64 key, const struct net *net, struct pid *tgid,
			     const char *comm, bool created)
{
	struct iptap_owner *old, *o;
	unsigned long flags;

	/* If this fails, the socket's packets count as unattributed. */
	o = kzalloc(sizeof(*o), GFP_ATOMIC);
	if (!o)
		return;
	o->key = key;
	o->net = net;
	o->used = jiffies;
	o->last.tgid = get_pid(tgid);
	strscpy(o->last.comm, comm, sizeof(o->last.comm));

	spin_lock_irqsave(&iptap_owners_lock, flags);
	old = (struct iptap_owner *)iptap_owner_find(key, net);
	if (old && !created)
		o->creator = old->creator;
	else
		o->creator = o->last;
	get_pid(o->creator.tgid);
	if (old) {
		hlist_replace_rcu(&old->node, &o->node);
		call_rcu(&old->rcu, iptap_owner_free_rcu);
	} else if (iptap_owners_count < IPTAP_OWNERS_MAX) {
		hlist_add_head_rcu(&o->node, iptap_owner_bucket(key));
		iptap_owners_count++;
	} else {
		spin_unlock_irqrestore(&iptap_owners_lock, flags);
		iptap_dbg("owner table full\n");
		iptap_owner_free_rcu(&o->rcu);
		return;
	}
	spin_unlock_irqrestore(&iptap_owners_lock, flags);
}

/* Does @key already name @tgid as last user (and creator, if @created)? */
static bool iptap_owner_is(u64 key, const struct net *net, struct pid *tgid,
			   bool created)
{
	const struct iptap_owner *o;
	bool same;

	rcu_read_lock();
	o = iptap_owner_find(key, net);
	same = o && o->last.tgid == tgid && (!created || o->creator.tgid == tgid);
	rcu_read_unlock();
	return same;
}

/* Record the current process as the last user (or creator) of @sk. */
void iptap_owner_note_sock(struct sock *sk, bool created)
{
	struct pid *tgid = task_tgid(current);
	char comm[TASK_COMM_LEN];
	u32 cookie[2];
	u64 key;

	/* Gives the socket a cookie if it has none yet. */
	sock_diag_save_cookie(sk, cookie);
	key = iptap_sock_cookie(sk);
	if (iptap_owner_is(key, sock_net(sk), tgid, created))
		return;
	/* The process's name, not the thread's. */
	__get_task_comm(comm, sizeof(comm), current->group_leader);
	iptap_owner_note(key, sock_net(sk), tgid, comm, created);
}

/* @sk was accepted by @listener: it is the listener's owner's for now. */
void iptap_owner_inherit(struct sock *sk, struct sock *listener)
{
	const struct iptap_owner *o;
	struct iptap_proc last;
	u32 cookie[2];

	rcu_read_lock();
	o = iptap_owner_find(iptap_sock_cookie(listener), NULL);
	if (o) {
		last.tgid = get_pid(o->last.tgid);
		memcpy(last.comm, o->last.comm, sizeof(last.comm));
	}
	rcu_read_unlock();
	if (!o)
		return;
	sock_diag_save_cookie(sk, cookie);
	iptap_owner_note(iptap_sock_cookie(sk), sock_net(sk), last.tgid,
			 last.comm, true);
	put_pid(last.tgid);
}

/* Record the current process as the sender of echo requests @id. */
void iptap_owner_note_ping(const struct net *net, u8 family, u16 id)
{
	struct pid *tgid = task_tgid(current);
	char comm[TASK_COMM_LEN];
	u64 key = iptap_ping_key(family, id);

	if (iptap_owner_is(key, net, tgid, true))
		return;
	__get_task_comm(comm, sizeof(comm), current->group_leader);
	iptap_owner_note(key, net, tgid, comm, true);
}

/* The socket is being freed: its record can go at once. */
void iptap_owner_forget_sock(struct sock *sk)
{
	u64 key = iptap_sock_cookie(sk);
	struct iptap_owner *o;
	unsigned long flags;

	if (!key)
		return;
	rcu_read_lock();
	o = (struct iptap_owner *)iptap_owner_find(key, NULL);
	rcu_read_unlock();
	if (!o)
		return;

	spin_lock_irqsave(&iptap_owners_lock, flags);
	o = (struct iptap_owner *)iptap_owner_find(key, NULL);
	if (o)
		iptap_owner_unlink(o);
	spin_unlock_irqrestore(&iptap_owners_lock, flags);
}

/* Remove the records of @net, or all of them when @net is NULL. */
static void iptap_owners_purge(const struct net *net, bool expired_only)
{
	struct iptap_owner *o;
	struct hlist_node *tmp;
	unsigned long flags, ttl;
	unsigned int i;

	for (i = 0; i < BIT(IPTAP_OWNERS_BITS); i++) {
		spin_lock_irqsave(&iptap_owners_lock, flags);
		hlist_for_each_entry_safe(o, tmp, &iptap_owners[i], node) {
			if (net && o->net != net)
				continue;
			ttl = o->key & IPTAP_PING_KEY ? IPTAP_PING_TTL :
							IPTAP_SOCKET_TTL;
			if (expired_only &&
			    time_before(jiffies, READ_ONCE(o->used) + ttl))
				continue;
			iptap_owner_unlink(o);
		}
		spin_unlock_irqrestore(&iptap_owners_lock, flags);
	}
}

static void iptap_owners_gc(struct work_struct *work)
{
	if (READ_ONCE(iptap_owners_count))
		iptap_owners_purge(NULL, true);
	schedule_delayed_work(&iptap_gc_work, IPTAP_GC_INTERVAL);
}

/* The last iptap device of @net is gone. */
void iptap_owners_forget_net(const struct net *net)
{
	iptap_owners_purge(net, false);
}

struct iptap_scan {
	struct net *net;
	struct pid *tgid;
	char comm[TASK_COMM_LEN];
};

static int iptap_scan_fd(const void *arg, struct file *file, unsigned int fd)
{
	const struct iptap_scan *scan = arg;
	struct socket *sock = sock_from_file(file);
	struct sock *sk = sock ? sock->sk : NULL;
	u32 cookie[2];

	if (sk && iptap_sock_is_user_ip(sk) && net_eq(sock_net(sk), scan->net)) {
		sock_diag_save_cookie(sk, cookie);
		if (!iptap_owner_is(iptap_sock_cookie(sk), scan->net, scan->tgid,
				    false))
			iptap_owner_note(iptap_sock_cookie(sk), scan->net,
					 scan->tgid, scan->comm, false);
	}
	return 0;
}

/*
 * Sockets that existed before the namespace's first iptap device have no
 * record: find their owners in the file tables of all processes, as
 * "ss -p" does.  A socket held by several processes is recorded for one
 * of them; the next use records the user.
 */
void iptap_owners_scan(struct net *net)
{
	struct iptap_scan scan = { .net = net };
	struct task_struct *p;

	rcu_read_lock();
	for_each_process(p) {
		if (p->flags & PF_KTHREAD)
			continue;
		scan.tgid = task_tgid(p);
		__get_task_comm(scan.comm, sizeof(scan.comm), p);
		task_lock(p);
		if (p->files)
			iterate_fd(p->files, 0, iptap_scan_fd, &scan);
		task_unlock(p);
	}
	rcu_read_unlock();
}

int iptap_owners_init(void)
{
	iptap_owners = kvcalloc(BIT(IPTAP_OWNERS_BITS), sizeof(*iptap_owners),
				GFP_KERNEL);
	if (!iptap_owners)
		return -ENOMEM;
	schedule_delayed_work(&iptap_gc_work, IPTAP_GC_INTERVAL);
	return 0;
}

/* After the probes are gone and no hook can run. */
void iptap_owners_exit(void)
{
	cancel_delayed_work_sync(&iptap_gc_work);
	iptap_owners_purge(NULL, false);
	rcu_barrier();
	kvfree(iptap_owners);
}
