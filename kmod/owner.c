// SPDX-License-Identifier: GPL-2.0
/*
 * Owner records: which process last used a socket, and which created it.
 *
 * Each network namespace with iptap devices has a table of its own, so
 * that nothing one namespace does (a million sockets, every ping
 * identifier) can slow down or fill another's.  Records are written by
 * the socket probes (probes.c: in the acting task, or in softirq for a
 * connection a listener accepts), by the hook for a sending task
 * (attribute.c) and by the file-table scan (scan.c), and read locklessly
 * under RCU by the packet path.  A record never changes once published,
 * but for the time it was last used: a new owner replaces it, and the
 * old one is freed after a grace period.
 *
 * Sockets are keyed by their cookie, which the kernel never reuses, so a
 * closed socket's record cannot be applied to a new socket; the record
 * goes when the socket is destroyed.  One socket may carry another's
 * cookie: the kernel clones an MPTCP socket accept()ed from a listener
 * with sk_clone_lock(), which copies the listener's.  So the key is the
 * cookie and the socket's address together: two live sockets never share
 * an address, and a record goes with its socket.  Should the probe that
 * sees that miss a hit (kprobes drop hits that nest in another handler
 * on the same CPU), a sweep every IPTAP_GC_INTERVAL drops the records of
 * sockets that no file table holds and that were unused for
 * IPTAP_SOCKET_IDLE.
 *
 * A table holds at most iptap_owners_max socket records (sysctl
 * net.iptap.owners_max of the initial namespace); past that, each
 * attempt to record a new socket is refused and counted, as is a record
 * that no memory could be found for.
 *
 * Echo requests sent by ping, whose replies no exported lookup can match
 * to a socket, are keyed by family and ICMP identifier: at most
 * IPTAP_PINGS_MAX per table, the oldest evicted first, each forgotten
 * IPTAP_PING_TTL after its last request (replies, which anyone can send,
 * do not keep it).  They never take a socket's place.  A ping record
 * holds its process and its socket's cgroup, so an expiry work frees the
 * expired ones while the table has any: a removed cgroup is not kept
 * dying for want of another ping.
 *
 * A table goes with the namespace's last iptap device.  Tables are freed,
 * scanned and swept by their namespace's owners_work, one thing at a
 * time, so that the work never sees a table freed under it.  Only the
 * table's own expiry work runs beside it: it touches ping records alone,
 * which the scan and the sweep skip, and is cancelled before the table
 * is freed.
 */

#include <linux/percpu.h>
#include <linux/rhashtable.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sock_diag.h>
#include <linux/workqueue.h>
#include <net/sock.h>

#include "iptap.h"

#define IPTAP_PINGS_MAX		1024
#define IPTAP_PING_TTL		(60 * HZ)
#define IPTAP_SOCKET_IDLE	(3600 * HZ)
#define IPTAP_GC_INTERVAL	(600 * HZ)

/*
 * Cookies count up from 1, or down from 2^64 - 1 when their generation
 * nests on a CPU: ping keys, bit 63 and 24 bits of family and identifier,
 * lie far from both.
 */
#define IPTAP_PING_KEY		BIT_ULL(63)

/* Records are made where sleeping is not allowed; a failure is counted. */
#define IPTAP_OWNER_GFP		(GFP_ATOMIC | __GFP_NOWARN)

unsigned int iptap_owners_max = 1 << 20;

struct iptap_owners {
	struct rhashtable table;
	atomic_t sockets;		/* socket records */
	atomic_long_t refused;		/* records refused: full, no memory */
	spinlock_t ping_lock;		/* every change of a ping record */
	struct list_head pings;		/* ping records, oldest first */
	unsigned int npings;
	struct delayed_work ping_expiry; /* queued while there are pings */
	struct llist_node dying;	/* in iptap_net::dying */
	struct iptap_defer *defer;	/* PREEMPT_RT: notes of the probes */
	struct iptap_net *in;		/* its namespace's, which outlives it */
};

static struct kmem_cache *iptap_owner_cache;
static void iptap_owners_gc(struct work_struct *work);
static DECLARE_DELAYED_WORK(iptap_gc_work, iptap_owners_gc);

static const struct rhashtable_params iptap_owner_params = {
	.key_len		= sizeof(struct iptap_owner_key),
	.key_offset		= offsetof(struct iptap_owner, key),
	.head_offset		= offsetof(struct iptap_owner, node),
	.automatic_shrinking	= true,
};

void iptap_proc_current(struct iptap_proc *p)
{
	p->tgid = task_tgid(current);
	iptap_comm_copy(p->comm, current->group_leader);
}

/* The socket's cookie, or 0 if it has none yet. */
static u64 iptap_sock_cookie(struct sock *sk)
{
	return atomic64_read(&sk->sk_cookie);
}

/* The socket's cookie, given to it now if it has none yet. */
static u64 iptap_sock_cookie_get(struct sock *sk)
{
	u64 cookie = iptap_sock_cookie(sk);
	u32 made[2];

	if (likely(cookie))
		return cookie;
	sock_diag_save_cookie(sk, made);
	return iptap_sock_cookie(sk);
}

static struct iptap_owner_key iptap_sock_key(struct sock *sk, u64 cookie)
{
	return (struct iptap_owner_key){
		.cookie = cookie, .sk = (unsigned long)sk };
}

static struct iptap_owner_key iptap_ping_key(u8 family, u16 id)
{
	return (struct iptap_owner_key){
		.cookie = IPTAP_PING_KEY | (u64)family << 16 | id };
}

/* Only a socket's key holds its address. */
static bool iptap_key_is_ping(const struct iptap_owner_key *key)
{
	return !key->sk;
}

/* Called under RCU. */
static struct iptap_owner *
iptap_owner_find(struct iptap_owners *owners, const struct iptap_owner_key *key)
{
	return rhashtable_lookup(&owners->table, key, iptap_owner_params);
}

/*
 * The socket records last found on each CPU.  A socket's record is looked
 * up for each packet it sends and each message it reads, most often the
 * one found the time before.  An entry is made only from the table its
 * socket's namespace publishes, and holds while no record of that
 * namespace has left a table since (owner_gen): its record is then still
 * in the table, the one a lookup would find, and not freed before the
 * RCU read-side section that read the count ends.
 */
#define IPTAP_MEMO_SLOTS	64

struct iptap_memo_entry {
	const struct iptap_owners *owners;
	struct iptap_owner_key key;
	u64 gen;
	struct iptap_owner *o;
};

/* Softirqs have a set of their own: they may interrupt a task in its. */
struct iptap_memo {
	struct iptap_memo_entry entry[2][IPTAP_MEMO_SLOTS];
};

static struct iptap_memo __percpu *iptap_memo;

/* The record of @sk, whose key is @key, in @owners.  Called under RCU. */
static inline struct iptap_owner *
iptap_owner_find_sock(struct iptap_owners *owners, struct sock *sk,
		      const struct iptap_owner_key *key)
{
	struct iptap_net *in = owners->in;
	/*
	 * Memos only for sockets of the table's namespace, where the changes
	 * of their records are counted.  A packet may carry a socket of
	 * another, which could match an entry of a table freed since, whose
	 * address another namespace's table now has, counted from 0 again.
	 */
	bool memo = net_eq(sock_net(sk), in->net);
	struct iptap_memo_entry *e;
	struct iptap_owner *o;
	u64 gen;

	/* Preemption is off: no other task uses this CPU's entries. */
	e = &get_cpu_ptr(iptap_memo)->entry[!!in_serving_softirq()]
					   [key->cookie % IPTAP_MEMO_SLOTS];
	gen = atomic64_read(&in->owner_gen);
	if (memo && e->owners == owners && e->gen == gen &&
	    e->key.cookie == key->cookie && e->key.sk == key->sk) {
		o = e->o;
		goto out;
	}
	smp_rmb();	/* the count, then the tables: pairs with its increments */
	o = iptap_owner_find(owners, key);
	/* Not from a table retired before the count was read. */
	if (o && memo && rcu_access_pointer(in->owners) == owners)
		*e = (struct iptap_memo_entry){
			.owners = owners, .key = *key, .gen = gen, .o = o };
out:
	put_cpu_ptr(iptap_memo);
	return o;
}

/* The table of a namespace, NULL if it has no iptap device; RCU. */
static struct iptap_owners *iptap_owners_in(struct iptap_net *in)
{
	return rcu_dereference(in->owners);
}

static void iptap_proc_set(struct iptap_proc *dst, const struct iptap_proc *src)
{
	dst->tgid = get_pid(src->tgid);
	memcpy(dst->comm, src->comm, sizeof(dst->comm));
}

static void iptap_owner_init(struct iptap_owner *o,
			     const struct iptap_owner_key *key,
			     const struct iptap_proc *last,
			     const struct iptap_proc *creator)
{
	o->key = *key;
	o->used = jiffies;
	o->cached = false;
	o->gone = false;
	o->cgroup = NULL;
	iptap_proc_set(&o->last, last);
	iptap_proc_set(&o->creator, creator);
}

static struct iptap_owner *
iptap_owner_alloc(const struct iptap_owner_key *key,
		  const struct iptap_proc *last, const struct iptap_proc *creator)
{
	struct iptap_owner *o;

	o = kmem_cache_alloc(iptap_owner_cache, IPTAP_OWNER_GFP);
	if (o)
		iptap_owner_init(o, key, last, creator);
	return o;
}

/* Ping records are few and bigger: socket records do not pay for them. */
static struct iptap_ping *iptap_ping_alloc(const struct iptap_owner_key *key,
					   const struct iptap_proc *p,
					   struct sock *sk)
{
	struct iptap_ping *ping;

	ping = kmalloc(sizeof(*ping), IPTAP_OWNER_GFP | __GFP_ACCOUNT);
	if (!ping)
		return NULL;
	iptap_owner_init(&ping->owner, key, p, p);
	ping->uid = READ_ONCE(sk->sk_uid);
	/* @sk holds its cgroup: the record takes a reference of its own. */
	ping->cgroup = iptap_cgroup_get(iptap_sock_cgroup(sk));
	return ping;
}

static void iptap_owner_free_now(struct iptap_owner *o)
{
	struct iptap_ping *ping;

	put_pid(o->last.tgid);
	put_pid(o->creator.tgid);
	if (!iptap_key_is_ping(&o->key)) {
		iptap_cgroup_put(o->cgroup);
		kmem_cache_free(iptap_owner_cache, o);
		return;
	}
	ping = container_of(o, struct iptap_ping, owner);
	iptap_cgroup_put(ping->cgroup);
	kfree(ping);
}

static void iptap_owner_free_rcu(struct rcu_head *head)
{
	iptap_owner_free_now(container_of(head, struct iptap_owner, rcu));
}

/* Does @o name @tgid as last user (and creator, if @created)? */
static bool iptap_owner_is(const struct iptap_owner *o,
			   const struct pid *tgid, bool created)
{
	return o && o->last.tgid == tgid &&
	       (!created || o->creator.tgid == tgid);
}

/*
 * @o has left the table of @net's owners, to be freed after RCU: cached
 * attribution that names it must not be used by then.  Whatever else
 * moved its socket, so that a count of flows.c may have gone astray.
 */
static void iptap_owner_gone(struct net *net, struct iptap_owner *o)
{
	/*
	 * Gone from the table, then counted: see iptap_owner_find_sock() and
	 * iptap_owner_note().
	 */
	smp_mb__before_atomic();
	atomic64_inc(&iptap_net(net)->owner_gen);
	WRITE_ONCE(o->gone, true);
	smp_mb();	/* gone, then cached: pairs with iptap_owner_keep() */
	if (READ_ONCE(o->cached))
		iptap_flows_changed_all(net);
}

/*
 * flows.c is about to keep @o, the record of @sk: a record it keeps is
 * invalidated when it leaves the table (iptap_owner_gone()), and holds
 * the socket's cgroup until it is freed, since the socket may go first
 * unseen (kprobes turned off).  False if it has left already.
 */
bool iptap_owner_keep(const struct iptap_owner *o, struct sock *sk)
{
	struct iptap_owner *w = (struct iptap_owner *)o;
	struct cgroup *cgrp;

	if (!READ_ONCE(o->cached)) {
		cgrp = iptap_cgroup_get(iptap_sock_cgroup(sk));
		if (cmpxchg(&w->cgroup, NULL, cgrp))	/* another CPU did */
			iptap_cgroup_put(cgrp);
		WRITE_ONCE(w->cached, true);
	}
	smp_mb();	/* cached, then gone: pairs with iptap_owner_gone() */
	return !READ_ONCE(o->gone);
}

/*
 * Record @last as the last user of @sk, whose key is @key, and @creator as
 * its creator, replacing @old, the record found for @key.  Called under
 * RCU; never sleeps.  Concurrent notes of one socket (two threads using
 * it) leave one of them, either right.
 */
static void iptap_owner_publish(struct iptap_owners *owners, struct sock *sk,
				const struct iptap_owner_key *key,
				struct iptap_owner *old,
				const struct iptap_proc *last,
				const struct iptap_proc *creator)
{
	unsigned int max = READ_ONCE(iptap_owners_max);
	struct iptap_owner *o;
	int err;

	/* A new record is counted first: the table never exceeds the limit. */
	if (!old) {
		if (atomic_read(&owners->sockets) >= max)
			goto refuse;
		if (atomic_inc_return(&owners->sockets) > max) {
			atomic_dec(&owners->sockets);
			goto refuse;
		}
	}

	o = iptap_owner_alloc(key, last, creator);
	if (!o) {
		err = -ENOMEM;
		goto uncount;
	}
	if (old)
		err = rhashtable_replace_fast(&owners->table, &old->node,
					      &o->node, iptap_owner_params);
	else
		err = rhashtable_lookup_insert_fast(&owners->table, &o->node,
						    iptap_owner_params);
	if (err) {
		iptap_owner_free_now(o);
		goto uncount;
	}
	if (old) {
		iptap_owner_gone(sock_net(sk), old);
		call_rcu(&old->rcu, iptap_owner_free_rcu);
	}
	return;

uncount:
	if (!old)
		atomic_dec(&owners->sockets);
	/*
	 * Replaced or removed meanwhile, or noted by another: a record is
	 * there, or none is needed.  Otherwise (no memory, a table that
	 * cannot grow now) the socket keeps its older record, or has none
	 * and its packets go unattributed: counted.
	 */
	if (err == -EEXIST || err == -ENOENT)
		return;
refuse:
	iptap_owners_refuse(owners);
}

/*
 * A socket is refused a record: the table or a queue of notes is full,
 * or there was no memory for it.
 */
void iptap_owners_refuse(struct iptap_owners *owners)
{
	atomic_long_inc(&owners->refused);
	iptap_dbg("a socket is refused an owner record\n");
}

/*
 * A packet is about to be attributed: the owners noted before it first
 * (PREEMPT_RT, defer.c).  Called under RCU from the hooks.
 */
void __iptap_owners_settle(struct iptap_owners *owners)
{
	if (iptap_defer_pending(owners->defer))
		iptap_defer_apply(owners->defer);
}

/* Called under RCU. */
const struct iptap_owner *iptap_owner_of_sock(struct iptap_owners *owners,
					      struct sock *sk)
{
	u64 cookie = iptap_sock_cookie(sk);
	struct iptap_owner_key key = iptap_sock_key(sk, cookie);
	struct iptap_owner *o;

	o = cookie ? iptap_owner_find_sock(owners, sk, &key) : NULL;
	if (o)
		iptap_owner_used(o);
	return o;
}

/*
 * The record each CPU's probes last found already naming the running
 * process, and its socket.  Most uses of a socket repeat the one before:
 * the receive hook runs for each message a process reads, recvmmsg()
 * calls it for each of a batch.  An entry holds as a memo entry does:
 * while its table is published and no record of the namespace has left a
 * table since (owner_gen; a retired table counts too, and a table made
 * later has a later count), for the same socket and process.  Probes
 * reach it in task context only.  Not on PREEMPT_RT, where probes queue
 * their notes (defer.c): the table may not yet say who used a socket last.
 * @in is the state of the socket's namespace, read only once the socket
 * is known to be the same.
 */
struct iptap_reuse {
	struct iptap_net *in;
	const struct iptap_owners *owners;
	struct iptap_owner_key key;
	u64 gen;
	const struct pid *tgid;
	struct iptap_owner *o;
};

static DEFINE_PER_CPU(struct iptap_reuse, iptap_reuse);

/*
 * Is the running process the last user of @sk, as this CPU last found?
 * Then it is noted already.  Called from a probe handler, for a socket
 * of a process, which holds its namespace.
 */
bool iptap_owner_reused(struct sock *sk)
{
	struct iptap_reuse *r;
	bool hit;

	if (IS_ENABLED(CONFIG_PREEMPT_RT) || !in_task())
		return false;
	r = get_cpu_ptr(&iptap_reuse);
	/*
	 * The same cookie, the same socket: @r->in is its namespace's,
	 * which the socket holds (and the probes go before the module's
	 * per-namespace state).
	 */
	hit = r->key.sk == (unsigned long)sk &&
	      r->key.cookie == iptap_sock_cookie(sk) &&
	      r->tgid == task_tgid(current) &&
	      r->gen == atomic64_read(&r->in->owner_gen) &&
	      r->owners == rcu_access_pointer(r->in->owners);
	/*
	 * The same count: @r->o was in its table when the count was read,
	 * and is freed only after RCU once it leaves, which disabled
	 * preemption holds off.
	 */
	if (hit)
		iptap_owner_used(r->o);
	put_cpu_ptr(&iptap_reuse);
	return hit;
}

/*
 * @o, found in @owners of @in after the count was @gen, names the running
 * process.  Called under RCU.
 */
static void iptap_owner_reuse_set(struct iptap_owners *owners,
				  struct iptap_owner *o, u64 gen)
{
	struct iptap_net *in = owners->in;
	struct iptap_reuse *r;

	/*
	 * Retired before @gen was read (after @owners was): the count
	 * already has its increment and nothing will change it again, so
	 * only this read, ordered after the count's by iptap_owner_note(),
	 * sees it.  One retired later changes the count.
	 */
	if (IS_ENABLED(CONFIG_PREEMPT_RT) || !in_task() ||
	    rcu_access_pointer(in->owners) != owners)
		return;
	r = get_cpu_ptr(&iptap_reuse);
	*r = (struct iptap_reuse){ .in = in, .owners = owners, .key = o->key,
				   .gen = gen, .tgid = o->last.tgid, .o = o };
	put_cpu_ptr(&iptap_reuse);
}

/*
 * Record @p, or the running process if NULL, as the last user of @sk, and
 * as its creator if @created; @in is the state of @sk's namespace.  In a
 * probe handler on PREEMPT_RT, where nothing may be allocated (most run
 * with preemption disabled), a change is only queued (defer.c).
 */
static void iptap_owner_note(struct iptap_net *in, struct sock *sk,
			     const struct iptap_proc *p, bool created,
			     bool in_probe)
{
	struct iptap_owner_key key = iptap_sock_key(sk, iptap_sock_cookie_get(sk));
	struct iptap_owners *owners;
	struct iptap_owner *old;
	struct iptap_proc cur;
	bool queued;
	u64 gen;

	/* The memo's entries hold while the socket's namespace counts. */
	DEBUG_NET_WARN_ON_ONCE(in != iptap_net(sock_net(sk)));
	rcu_read_lock();
	owners = iptap_owners_in(in);
	if (!owners)
		goto out;
	/* Notes still queued are not in the table yet: look first. */
	queued = in_probe && iptap_defer_pending(owners->defer);
	gen = atomic64_read(&in->owner_gen);
	smp_rmb();	/* the count, then the tables: see iptap_owner_reuse_set() */
	old = iptap_owner_find_sock(owners, sk, &key);
	if (!queued &&
	    iptap_owner_is(old, p ? p->tgid : task_tgid(current), created)) {
		iptap_owner_used(old);
		if (in_probe && !p && !created)
			iptap_owner_reuse_set(owners, old, gen);
		goto out;
	}
	/* Its name only for a change: most uses change nothing. */
	if (!p) {
		iptap_proc_current(&cur);
		p = &cur;
	}
	if (in_probe && IS_ENABLED(CONFIG_PREEMPT_RT))
		iptap_defer_note(owners->defer, owners, sk, p, created);
	else
		iptap_owner_publish(owners, sk, &key, old, p,
				    old && !created ? &old->creator : p);
out:
	rcu_read_unlock();
}

/* The running process sends on @sk: called from the hook. */
void iptap_owner_note_sock(struct sock *sk, bool created)
{
	iptap_owner_note(iptap_net(sock_net(sk)), sk, NULL, created, false);
}

/*
 * The running process acts on @sk, of the namespace whose state is @in:
 * called from a probe handler.
 */
void iptap_owner_probe_sock(struct iptap_net *in, struct sock *sk,
			    bool created)
{
	iptap_owner_note(in, sk, NULL, created, true);
}

/* A note a probe handler queued (defer.c), applied in task context. */
void iptap_owner_note_proc(struct sock *sk, const struct iptap_proc *p,
			   bool created)
{
	iptap_owner_note(iptap_net(sock_net(sk)), sk, p, created, false);
}

/*
 * The scan found @sk in the file table of @p: the socket is alive.  A
 * record made since the table exists is more recent: keep it.  Called
 * under RCU.
 */
void iptap_owner_note_scanned(struct iptap_owners *owners, struct sock *sk,
			      const struct iptap_proc *p)
{
	struct iptap_owner_key key = iptap_sock_key(sk, iptap_sock_cookie_get(sk));
	struct iptap_owner *o = iptap_owner_find(owners, &key);

	if (o)
		iptap_owner_used(o);
	else
		iptap_owner_publish(owners, sk, &key, NULL, p, p);
}

/*
 * The record of @msk, an MPTCP socket read from @sock under RCU; NULL if
 * @msk has let go of @sock since.  MPTCP sockets are SLAB_TYPESAFE_BY_RCU:
 * one freed and reused would show another socket's cookie.  An MPTCP
 * socket lets go of its struct socket (sock_orphan()) before it can be
 * freed, and @sock itself outlives the RCU read-side section: still
 * @sock's once the cookie was read, @msk held that cookie.
 */
bool iptap_owner_of_mptcp(struct iptap_owners *owners, struct socket *sock,
			  struct sock *msk, const struct iptap_owner **o)
{
	*o = iptap_owner_of_sock(owners, msk);
	smp_rmb();	/* what was read of @msk, then whose it was */
	if (READ_ONCE(msk->sk_socket) == sock)
		return true;
	*o = NULL;
	return false;
}

/*
 * @sk was accepted by @listener: it is the listener's owner's for now.
 * For an MPTCP listener, @listener is the MPTCP socket read from @sock
 * (else @sock is NULL).  Called from a probe handler.
 */
void iptap_owner_inherit(struct sock *sk, struct sock *listener,
			 struct socket *sock)
{
	struct iptap_net *in = iptap_net(sock_net(sk));
	struct iptap_owners *owners;
	const struct iptap_owner *o = NULL;

	rcu_read_lock();
	owners = iptap_owners_in(in);
	if (owners && sock)
		iptap_owner_of_mptcp(owners, sock, listener, &o);
	else if (owners)
		o = iptap_owner_of_sock(owners, listener);
	if (o)
		iptap_owner_note(in, sk, &o->last, true, true);
	rcu_read_unlock();
}

/*
 * @ssk, an MPTCP subflow, carries packets of the owner @o of its MPTCP
 * socket: it keeps a copy in a record of its own, for its packets once
 * close() has detached it.  A new record once per subflow and per change
 * of owner.  Called under RCU from the hook.
 */
void iptap_owner_adopt(struct iptap_owners *owners, struct sock *ssk,
		       const struct iptap_owner *o)
{
	struct iptap_owner_key key = iptap_sock_key(ssk,
						    iptap_sock_cookie_get(ssk));
	struct iptap_owner *old = iptap_owner_find(owners, &key);

	if (!old || old->last.tgid != o->last.tgid ||
	    old->creator.tgid != o->creator.tgid)
		iptap_owner_publish(owners, ssk, &key, old, &o->last,
				    &o->creator);
}

/* The socket is being freed: its record can go at once. */
void iptap_owner_forget_sock(struct sock *sk)
{
	u64 cookie = iptap_sock_cookie(sk);
	struct iptap_owner_key key = iptap_sock_key(sk, cookie);
	struct iptap_owners *owners;
	struct iptap_owner *o;

	if (!cookie)
		return;
	rcu_read_lock();
	owners = iptap_owners_in(iptap_net(sock_net(sk)));
	o = owners ? iptap_owner_find(owners, &key) : NULL;
	if (o && !rhashtable_remove_fast(&owners->table, &o->node,
					 iptap_owner_params)) {
		atomic_dec(&owners->sockets);
		iptap_owner_gone(sock_net(sk), o);
		call_rcu(&o->rcu, iptap_owner_free_rcu);
	}
	rcu_read_unlock();
}

static bool iptap_ping_expired(const struct iptap_owner *o)
{
	return time_after(jiffies, READ_ONCE(o->used) + IPTAP_PING_TTL);
}

/* The sender of echo requests @id, if known.  Called under RCU. */
const struct iptap_ping *iptap_owner_of_ping(struct iptap_owners *owners,
					     u8 family, u16 id)
{
	struct iptap_owner_key key = iptap_ping_key(family, id);
	struct iptap_owner *o;

	o = iptap_owner_find(owners, &key);
	/* Not renewed: anyone can send a reply, requests are the pinger's. */
	if (!o || iptap_ping_expired(o))
		return NULL;
	return container_of(o, struct iptap_ping, owner);
}

/* Called with ping_lock held. */
static void iptap_ping_unlink(struct iptap_owners *owners,
			      struct iptap_owner *o)
{
	list_del(&o->ping);
	WRITE_ONCE(owners->npings, owners->npings - 1);
	call_rcu(&o->rcu, iptap_owner_free_rcu);
}

/* Called with ping_lock held. */
static void iptap_ping_remove(struct iptap_owners *owners,
			      struct iptap_owner *o)
{
	WARN_ON_ONCE(rhashtable_remove_fast(&owners->table, &o->node,
					    iptap_owner_params));
	iptap_ping_unlink(owners, o);
}

/*
 * Forget the expired ping records, all of them: a request renews a
 * record, so the list's order is that of their making, not of their use.
 * Then come back when the first of the others expires.
 */
static void iptap_pings_expire(struct work_struct *work)
{
	struct iptap_owners *owners = container_of(to_delayed_work(work),
						   struct iptap_owners,
						   ping_expiry);
	unsigned long next = IPTAP_PING_TTL + 1;
	struct iptap_owner *o, *tmp;

	spin_lock_bh(&owners->ping_lock);
	list_for_each_entry_safe(o, tmp, &owners->pings, ping) {
		if (iptap_ping_expired(o))
			iptap_ping_remove(owners, o);
		else
			next = min(next, READ_ONCE(o->used) + IPTAP_PING_TTL +
					 1 - jiffies);
	}
	/* Does nothing if a new ping queued it meanwhile, for a TTL at most. */
	if (owners->npings)
		queue_delayed_work(iptap_wq, &owners->ping_expiry, next);
	spin_unlock_bh(&owners->ping_lock);
}

/*
 * Record the current process, and its socket @sk, as the sender of echo
 * requests @id.  Called under RCU from the hook, in task context.
 */
void iptap_owner_note_ping(struct iptap_owners *owners, struct sock *sk,
			   u8 family, u16 id)
{
	struct iptap_owner_key key = iptap_ping_key(family, id);
	struct iptap_owner *old, *o;
	struct iptap_ping *ping;
	struct iptap_proc p;
	int err;

	iptap_proc_current(&p);
	old = iptap_owner_find(owners, &key);
	if (iptap_owner_is(old, p.tgid, true) && !iptap_ping_expired(old)) {
		ping = container_of(old, struct iptap_ping, owner);
		if (uid_eq(ping->uid, READ_ONCE(sk->sk_uid)) &&
		    ping->cgroup == iptap_sock_cgroup(sk)) {
			iptap_owner_used(old);
			return;
		}
	}
	ping = iptap_ping_alloc(&key, &p, sk);
	if (!ping)
		return;
	o = &ping->owner;

	spin_lock_bh(&owners->ping_lock);
	/* Ping records change only under the lock: @old is stable. */
	old = iptap_owner_find(owners, &key);
	if (old)
		err = rhashtable_replace_fast(&owners->table, &old->node,
					      &o->node, iptap_owner_params);
	else
		err = rhashtable_insert_fast(&owners->table, &o->node,
					     iptap_owner_params);
	if (err) {
		spin_unlock_bh(&owners->ping_lock);
		iptap_owner_free_now(o);
		return;
	}
	if (old)
		iptap_ping_unlink(owners, old);
	list_add_tail(&o->ping, &owners->pings);
	WRITE_ONCE(owners->npings, owners->npings + 1);
	/* Does nothing if already queued. */
	queue_delayed_work(iptap_wq, &owners->ping_expiry, IPTAP_PING_TTL);

	/* Forget the expired, and the oldest beyond the bound. */
	while ((old = list_first_entry(&owners->pings, struct iptap_owner,
				       ping)) != o) {
		if (owners->npings <= IPTAP_PINGS_MAX && !iptap_ping_expired(old))
			break;
		iptap_ping_remove(owners, old);
	}
	spin_unlock_bh(&owners->ping_lock);
}

unsigned long iptap_owners_count(const struct iptap_owners *owners)
{
	return atomic_read(&owners->sockets) + READ_ONCE(owners->npings);
}

unsigned long iptap_owners_refused(const struct iptap_owners *owners)
{
	return atomic_long_read(&owners->refused);
}

struct iptap_owners *iptap_owners_create(struct iptap_net *in)
{
	struct iptap_owners *owners;

	owners = kzalloc(sizeof(*owners), GFP_KERNEL);
	if (!owners)
		return NULL;
	owners->in = in;
	if (IS_ENABLED(CONFIG_PREEMPT_RT)) {
		owners->defer = iptap_defer_create();
		if (!owners->defer)
			goto err;
	}
	if (rhashtable_init(&owners->table, &iptap_owner_params))
		goto err_defer;
	spin_lock_init(&owners->ping_lock);
	INIT_LIST_HEAD(&owners->pings);
	INIT_DELAYED_WORK(&owners->ping_expiry, iptap_pings_expire);
	return owners;

err_defer:
	if (owners->defer)
		iptap_defer_destroy(owners->defer);
err:
	kfree(owners);
	return NULL;
}

static void iptap_owner_destroy(void *ptr, void *arg)
{
	iptap_owner_free_now(ptr);
}

/* The namespace's last device is going: its table goes, after it. */
void iptap_owners_retire(struct iptap_net *in)
{
	struct iptap_owners *owners;

	owners = rcu_replace_pointer(in->owners, NULL, lockdep_rtnl_is_held());
	/*
	 * Its records are freed after RCU: cached attribution is stale.
	 * Unpublished, then counted: pairs with iptap_owner_find_sock() and
	 * iptap_owner_note().
	 */
	smp_mb__before_atomic();
	atomic64_inc(&in->owner_gen);
	iptap_flows_changed_all(in->net);
	llist_add(&owners->dying, &in->dying);
	queue_work(iptap_wq, &in->owners_work);
}

/* A table nobody can reach any more, with its records. */
void iptap_owners_free(struct iptap_owners *owners)
{
	/*
	 * No hook can find the table any more, so only the work itself could
	 * queue it again, which the cancel prevents.
	 */
	cancel_delayed_work_sync(&owners->ping_expiry);
	if (owners->defer)
		iptap_defer_destroy(owners->defer);
	rhashtable_free_and_destroy(&owners->table, iptap_owner_destroy, NULL);
	kfree(owners);
}

/* Free the retired tables, in time proportional to their own records. */
static void iptap_owners_free_dying(struct iptap_net *in)
{
	struct llist_node *dying = llist_del_all(&in->dying);
	struct iptap_owners *owners, *tmp;

	if (!dying)
		return;
	/* Wait for the probes, hooks and readers that found them. */
	synchronize_rcu();
	llist_for_each_entry_safe(owners, tmp, dying, dying)
		iptap_owners_free(owners);
}

/* Drop the socket records of @owners unused for IPTAP_SOCKET_IDLE. */
static void iptap_owners_sweep(struct iptap_net *in,
			       struct iptap_owners *owners)
{
	struct rhashtable_iter iter;
	struct iptap_owner *o;
	unsigned int n;

	rhashtable_walk_enter(&owners->table, &iter);
	do {
		rhashtable_walk_start(&iter);
		for (n = 0; n < 1024 && (o = rhashtable_walk_next(&iter)); n++) {
			if (IS_ERR(o)) {
				if (PTR_ERR(o) == -EAGAIN)	/* resized */
					continue;
				o = NULL;
				break;
			}
			if (iptap_key_is_ping(&o->key) ||
			    time_before(jiffies, READ_ONCE(o->used) +
						 IPTAP_SOCKET_IDLE) ||
			    rhashtable_remove_fast(&owners->table, &o->node,
						   iptap_owner_params))
				continue;
			atomic_dec(&owners->sockets);
			iptap_owner_gone(in->net, o);
			call_rcu(&o->rcu, iptap_owner_free_rcu);
		}
		rhashtable_walk_stop(&iter);
		cond_resched();
	} while (o && rcu_access_pointer(in->owners) == owners);
	rhashtable_walk_exit(&iter);
}

void iptap_owners_work(struct work_struct *work)
{
	struct iptap_net *in = container_of(work, struct iptap_net, owners_work);
	/* Pairs with iptap_net_attach(): a new count comes with its table. */
	unsigned int gen = smp_load_acquire(&in->scan_gen);
	struct iptap_owners *owners;

	iptap_owners_free_dying(in);

	/*
	 * Only this work frees tables: @owners stays valid until it ends,
	 * even if its device goes meanwhile (the scan then stops early).
	 */
	rcu_read_lock();
	owners = rcu_dereference(in->owners);
	rcu_read_unlock();
	/* Before the scan: sockets made meanwhile are the probes'. */
	if (owners)
		iptap_probes_sync();
	if (owners && READ_ONCE(in->sweep)) {
		/*
		 * Records whose destruction was missed are those no process
		 * holds and nothing used for long: a scan first marks every
		 * socket in a file table as used (idle listeners too).
		 */
		WRITE_ONCE(in->sweep, false);
		iptap_scan(in, owners, true);
		iptap_owners_sweep(in, owners);
	} else if (owners && READ_ONCE(in->scan_done) != gen) {
		iptap_scan(in, owners, false);
	}
	WRITE_ONCE(in->scan_done, gen);
}

/* The namespace is being dismantled: its devices are gone. */
void iptap_owners_net_exit(struct iptap_net *in)
{
	cancel_work_sync(&in->owners_work);
	iptap_owners_free_dying(in);
}

/*
 * Records of sockets whose destruction the probe missed would stay until
 * their namespace's last device goes: once a hit was missed, or while the
 * probe is not armed (which the namespaces' workers try again), sweep.
 */
static void iptap_owners_gc(struct work_struct *work)
{
	struct net *net;

	if (iptap_probes_missing()) {
		down_read(&net_rwsem);
		for_each_net(net) {
			struct iptap_net *in = iptap_net(net);

			if (rcu_access_pointer(in->owners)) {
				WRITE_ONCE(in->sweep, true);
				queue_work(iptap_wq, &in->owners_work);
			}
		}
		up_read(&net_rwsem);
	}
	queue_delayed_work(iptap_wq, &iptap_gc_work, IPTAP_GC_INTERVAL);
}

int iptap_owners_init(void)
{
	/* Records are charged to the memory cgroup of the task making them. */
	iptap_owner_cache = KMEM_CACHE(iptap_owner, SLAB_ACCOUNT);
	if (!iptap_owner_cache)
		return -ENOMEM;
	iptap_memo = alloc_percpu(struct iptap_memo);
	if (!iptap_memo) {
		kmem_cache_destroy(iptap_owner_cache);
		return -ENOMEM;
	}
	return 0;
}

/* After iptap_wq exists; before the namespaces' state goes. */
void iptap_owners_gc_start(void)
{
	queue_delayed_work(iptap_wq, &iptap_gc_work, IPTAP_GC_INTERVAL);
}

void iptap_owners_gc_stop(void)
{
	cancel_delayed_work_sync(&iptap_gc_work);
}

/* After every table has been freed. */
void iptap_owners_exit(void)
{
	rcu_barrier();		/* replaced records still being freed */
	kmem_cache_destroy(iptap_owner_cache);
	free_percpu(iptap_memo);
}
