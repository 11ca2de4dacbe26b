// SPDX-License-Identifier: GPL-2.0
/*
 * Owner notes of the socket probes, deferred on PREEMPT_RT.
 *
 * Kprobe handlers run with preemption disabled, and so do tracepoint
 * probes before 7.x.  On PREEMPT_RT the slab allocator and spinlock_t
 * sleep, so a handler may neither allocate a record nor insert one into a
 * table (an rhashtable insertion can allocate a bucket table).  There, a
 * handler only queues what it saw (the socket, held, and the process) on
 * its owner table's queue, in the order the events happen; the receive
 * hook's tracepoint probe, preemptible from 7.x on, queues too, so that
 * its notes never overtake those queued before them.  The notes are
 * applied in that order, one at a time, in task context by a worker and
 * by the packet hooks before they look an owner up: a hook that finds
 * notes pending applies them or waits for the applier, so that no packet
 * is attributed without a note made before it.  Each namespace's table
 * has its own queue, so that no namespace can fill or slow down
 * another's.  A note that finds the queue full is lost and counted as a
 * refused record.
 *
 * Elsewhere handlers apply their notes at once and nothing here is used.
 */

#include <linux/irq_work.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/sock.h>

#include "iptap.h"

/* Notes a queue holds before its worker applies them. */
#define IPTAP_DEFER_QUEUE	256

struct iptap_note {
	struct sock *sk;		/* held */
	struct iptap_proc proc;		/* tgid held */
	bool created;
};

struct iptap_defer {
	/* Raw: taken in probe handlers, where spinlock_t would sleep. */
	raw_spinlock_t lock;
	unsigned int head;		/* the oldest note */
	unsigned int len;
	/* Notes queued and not yet applied: read without a lock. */
	atomic_t pending;
	/* Taken to apply a note, so that notes are applied in order. */
	spinlock_t apply_lock;
	struct irq_work kick;
	struct work_struct work;
	struct iptap_note notes[IPTAP_DEFER_QUEUE];
};

/* Called with @d locked. */
static struct iptap_note *iptap_defer_newest(struct iptap_defer *d)
{
	if (!d->len)
		return NULL;
	return &d->notes[(d->head + d->len - 1) % IPTAP_DEFER_QUEUE];
}

/*
 * Queue a note of @p using @sk (its creator, if @created) on @d, the
 * queue of @owners.  Called from probe handlers, under RCU.
 */
void iptap_defer_note(struct iptap_defer *d, struct iptap_owners *owners,
		      struct sock *sk, const struct iptap_proc *p,
		      bool created)
{
	struct iptap_note *n;
	unsigned long flags;

	/*
	 * An int3 probe runs as an NMI, which may have interrupted this
	 * CPU in the queue: never wait there (on x86, probes at function
	 * entry go through ftrace instead, where this cannot happen).
	 */
	if (in_nmi()) {
		if (!raw_spin_trylock_irqsave(&d->lock, flags))
			goto refuse;
	} else {
		raw_spin_lock_irqsave(&d->lock, flags);
	}
	/* The same process using the socket again: already queued. */
	n = iptap_defer_newest(d);
	if (n && n->sk == sk && n->proc.tgid == p->tgid &&
	    (n->created || !created)) {
		raw_spin_unlock_irqrestore(&d->lock, flags);
		return;
	}
	if (d->len == IPTAP_DEFER_QUEUE) {
		raw_spin_unlock_irqrestore(&d->lock, flags);
		goto refuse;
	}
	n = &d->notes[(d->head + d->len++) % IPTAP_DEFER_QUEUE];
	sock_hold(sk);
	n->sk = sk;
	n->proc.tgid = get_pid(p->tgid);
	memcpy(n->proc.comm, p->comm, sizeof(n->proc.comm));
	n->created = created;
	atomic_inc(&d->pending);
	raw_spin_unlock_irqrestore(&d->lock, flags);
	/* Safe wherever a probe may run, unlike queue_work(). */
	irq_work_queue(&d->kick);
	return;
refuse:
	iptap_owners_refuse(owners);
}

/* Take the oldest note off @d into @n; false if there is none. */
static bool iptap_defer_take(struct iptap_defer *d, struct iptap_note *n)
{
	unsigned long flags;
	bool found = false;

	raw_spin_lock_irqsave(&d->lock, flags);
	if (d->len) {
		*n = d->notes[d->head];
		d->head = (d->head + 1) % IPTAP_DEFER_QUEUE;
		d->len--;
		found = true;
	}
	raw_spin_unlock_irqrestore(&d->lock, flags);
	return found;
}

/*
 * Apply the notes queued on @d before this call, oldest first.  Called
 * in task context or from the hooks, never from a probe handler.
 */
void iptap_defer_apply(struct iptap_defer *d)
{
	unsigned int todo = atomic_read(&d->pending);
	struct iptap_note n;
	bool found;

	while (todo--) {
		/*
		 * BH off: a softirq run on this task's way out of a
		 * BH-disabled section must not enter a hook that waits for
		 * this applier.
		 */
		spin_lock_bh(&d->apply_lock);
		found = iptap_defer_take(d, &n);
		if (found) {
			iptap_owner_note_proc(n.sk, &n.proc, n.created);
			/* Pairs with iptap_defer_pending(): published first. */
			smp_mb__before_atomic();
			atomic_dec(&d->pending);
		}
		spin_unlock_bh(&d->apply_lock);
		if (!found)
			break;
		put_pid(n.proc.tgid);
		sock_put(n.sk);
	}
}

/* Are notes queued on @d?  A record applied since reads as such. */
bool __iptap_defer_pending(struct iptap_defer *d)
{
	return atomic_read_acquire(&d->pending);
}

/* Notes queued while this runs have kicked it again. */
static void iptap_defer_work(struct work_struct *work)
{
	iptap_defer_apply(container_of(work, struct iptap_defer, work));
}

static void iptap_defer_kick(struct irq_work *kick)
{
	queue_work(iptap_wq, &container_of(kick, struct iptap_defer, kick)->work);
}

struct iptap_defer *iptap_defer_create(void)
{
	struct iptap_defer *d;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return NULL;
	raw_spin_lock_init(&d->lock);
	spin_lock_init(&d->apply_lock);
	init_irq_work(&d->kick, iptap_defer_kick);
	INIT_WORK(&d->work, iptap_defer_work);
	return d;
}

/* No probe can reach @d's table any more: apply what is left, free. */
void iptap_defer_destroy(struct iptap_defer *d)
{
	irq_work_sync(&d->kick);
	cancel_work_sync(&d->work);
	iptap_defer_apply(d);
	kfree(d);
}
