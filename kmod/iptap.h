/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iptap: shared declarations of the module's parts.
 */
#ifndef _IPTAP_H
#define _IPTAP_H

#include <linux/iptap.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/pid_namespace.h>
#include <linux/rhashtable-types.h>
#include <linux/sched.h>
#include <linux/sysctl.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#define IPTAP_VERSION	"0.1.0"

/*
 * What a device records, by the socket a packet belongs to (select.c);
 * fixed at creation.  Each selector not given matches every packet.
 */
struct iptap_select {
	bool active;			/* any selector given */
	char *cgroup_path;		/* as given; NULL: any cgroup */
	struct cgroup *cgroup;		/* it and its descendants */
	bool has_uid;
	kuid_t uid;			/* the socket's owner */
	u32 uid_nr;			/* as given */
	struct pid *pid;		/* a thread group; NULL: any */
	u32 pid_nr;			/* as given */
};

/* Private part of an iptap net_device. */
struct iptap_dev {
	struct list_head list;		/* in iptap_net::devices */
	struct net_device *dev;
	/* PIDs, users, cgroups are shown as the device's creator sees them. */
	struct pid_namespace *pid_ns;
	struct user_namespace *user_ns;
	u64 __percpu *uid_seen;		/* per CPU: last uid mapped, kuid << 32 | uid */
	struct cgroup *cgroup_root;	/* of its cgroup namespace, or NULL */
	enum iptap_mode mode;		/* what a record is; fixed */
	struct iptap_select select;	/* which packets it records */
	struct nf_hook_ops egress_ops;	/* refuses what is written to us */
	atomic_long_t dropped;		/* records lost to allocation failure */
	atomic_long_t unattributed;	/* a local socket's, owner unknown */
};

/* A process as recorded: its thread group and the group leader's name. */
struct iptap_proc {
	struct pid *tgid;
	char comm[TASK_COMM_LEN];
};

/* Owner records of one network namespace (owner.c). */
struct iptap_owners;

/* What an owner record is found by. */
struct iptap_owner_key {
	u64 cookie;		/* a socket's cookie, or a ping key */
	u64 sk;			/* the socket's address; 0 for a ping */
};

/* What owner.c knows of a socket (or of a ping identifier). */
struct iptap_owner {
	struct rhash_head node;
	struct iptap_owner_key key;
	union {
		struct list_head ping;	/* a ping record: in the ping list */
		struct {		/* a socket record, for flows.c */
			/* Once cached: the socket's cgroup v2, held, or NULL. */
			struct cgroup *cgroup;
			bool cached;	/* by flows.c, some time */
			bool gone;	/* out of the table, freed after RCU */
		};
	};
	unsigned long used;	/* jiffies, for expiry */
	struct rcu_head rcu;
	struct iptap_proc last;		/* the last process that used it */
	struct iptap_proc creator;	/* the process that created it */
};

/*
 * Note that @o was used now, for the sweeps; cheap when done often, on
 * every packet.  The time of use, and the marks of flows.c, are what
 * changes in a published record.
 */
static inline void iptap_owner_used(const struct iptap_owner *o)
{
	unsigned long *used = (unsigned long *)&o->used;

	if (time_after(jiffies, READ_ONCE(*used) + HZ))
		WRITE_ONCE(*used, jiffies);
}

/* A ping record: ping's socket too, which echo replies belong to. */
struct iptap_ping {
	struct iptap_owner owner;
	kuid_t uid;			/* the socket's owner */
	struct cgroup *cgroup;		/* its cgroup: a reference, or NULL */
};

/* The result of attribute.c for one packet; valid under RCU. */
struct iptap_attr {
	const struct iptap_proc *last;		/* NULL: no process */
	const struct iptap_proc *creator;	/* NULL: same as last */
	bool unattributed;	/* a process's socket, whose owner is unknown */
	struct iptap_proc cur;	/* storage when last is the running task */
	/*
	 * The process's socket the packet belongs to, if any.  The cgroup
	 * outlives a socket freed meanwhile: cgroups are freed after RCU.
	 */
	bool has_sk;		/* false: none; uid and cgroup unset */
	kuid_t uid;		/* its owner */
	struct cgroup *cgroup;	/* its cgroup v2, NULL without one */
};

/* The flows whose attribution is cached: groups of ports (flows.c). */
#define IPTAP_FLOW_GENS	64

/* Per network namespace state. */
struct iptap_net {
	struct net *net;
	/* The namespace's iptap devices: RCU readers, writers hold RTNL. */
	struct list_head devices;
	unsigned int ndevices;
	/*
	 * The hooks, registered while a device has a listener (listen.c):
	 * hooks_on changes under hooks_lock, which nests inside RTNL.
	 */
	struct mutex hooks_lock;
	bool hooks_on;
	/* The hooks as registered here: their priv is this state. */
	struct nf_hook_ops hook_ops[4];
	struct delayed_work hooks_work;	/* looks again at the listeners */
	unsigned long unlistened_since;	/* jiffies: none found; 0 */
	/* Owner records, while the namespace has devices; RCU readers. */
	struct iptap_owners __rcu *owners;
	/*
	 * What is done to owner tables outside RTNL, one thing at a time:
	 * freeing the tables of the namespace's former devices, arming the
	 * socket probes, the scan for the owners of older sockets, a sweep
	 * of idle records.
	 */
	struct work_struct owners_work;
	struct llist_head dying;	/* tables to free */
	unsigned int scan_gen;		/* scans asked for, under RTNL */
	unsigned int scan_done;		/* the last one done */
	bool sweep;			/* a sweep is asked for */
	struct ctl_table_header *sysctl;
	/* Changes of the UDP sockets on each group of ports, counted. */
	atomic64_t flow_gen[IPTAP_FLOW_GENS];
	/* Owner records that left the namespace's tables, counted. */
	atomic64_t owner_gen ____cacheline_aligned_in_smp;
};

extern unsigned int iptap_net_id;
extern unsigned int iptap_log;
extern unsigned int iptap_owners_max;
extern struct workqueue_struct *iptap_wq;

#define iptap_dbg(fmt, ...)						\
	do {								\
		if (READ_ONCE(iptap_log))				\
			net_info_ratelimited("iptap: " fmt, ##__VA_ARGS__); \
	} while (0)

static inline struct iptap_net *iptap_net(const struct net *net)
{
	return net_generic(net, iptap_net_id);
}

/* A socket of a process (not the kernel's) speaking IPv4 or IPv6. */
static inline bool iptap_sock_is_user_ip(const struct sock *sk)
{
	return (sk->sk_family == AF_INET || sk->sk_family == AF_INET6) &&
	       !sk->sk_kern_sock;
}

/* A process's MPTCP socket (not the kernel's)? */
static inline bool iptap_sock_is_mptcp(const struct sock *sk)
{
	return sk->sk_protocol == IPPROTO_MPTCP && iptap_sock_is_user_ip(sk);
}

/*
 * The name of the process led by @leader, copied as get_task_comm() does
 * from 6.13 on: without task_lock(), which must never nest inside the
 * socket locks our callers may hold and softirqs take.  A rename racing
 * with the copy may give a mix of both names, always terminated and
 * padded with zeros: records copy the whole array.
 */
static inline void iptap_comm_copy(char *comm, const struct task_struct *leader)
{
	strscpy_pad(comm, leader->comm, TASK_COMM_LEN);
}

/* The cgroup v2 of @sk, which the socket holds; NULL if not kept. */
static inline struct cgroup *iptap_sock_cgroup(struct sock *sk)
{
#ifdef CONFIG_SOCK_CGROUP_DATA
	return sock_cgroup_ptr(&sk->sk_cgrp_data);
#else
	return NULL;
#endif
}

/* device.c */
extern struct rtnl_link_ops iptap_link_ops;

/* netns.c */
extern struct pernet_operations iptap_net_ops;
int iptap_net_attach(struct iptap_dev *idev);
void iptap_net_publish(struct iptap_dev *idev);
void iptap_net_detach(struct iptap_dev *idev);
unsigned int iptap_tap_count(struct net_device *dev);
void iptap_hooks_listener(struct iptap_net *in);
void iptap_hooks_unlistened(struct iptap_net *in);

/* listen.c */
extern bool iptap_hooks_follow;	/* the hooks follow listeners, not devices */
void iptap_listen_init(void);
void iptap_listen_exit(void);
unsigned long iptap_listen_missed(void);

/* record.c */
void iptap_record_deliver(struct iptap_dev *idev, struct sk_buff *skb,
			  const struct nf_hook_state *state,
			  const struct iptap_attr *attr);
void iptap_record_spares_free(void);

/* select.c */
struct cgroup *iptap_cgroup_root_get(void);
struct cgroup *iptap_cgroup_get(struct cgroup *cgrp);
void iptap_cgroup_put(struct cgroup *cgrp);
u64 iptap_cgroup_id_seen(const struct iptap_dev *idev, struct cgroup *cgrp);
int iptap_select_parse(struct iptap_select *sel, struct nlattr *data[],
		       struct netlink_ext_ack *extack);
void iptap_select_release(struct iptap_select *sel);
struct nlattr *iptap_select_changed(const struct iptap_select *sel,
				    struct nlattr *data[]);
bool iptap_select_match(const struct iptap_select *sel,
			const struct iptap_attr *a);
size_t iptap_select_size(const struct iptap_select *sel);
int iptap_select_fill(struct sk_buff *skb, const struct iptap_select *sel);

/* attribute.c */
void iptap_attribute(struct iptap_net *in, struct sk_buff *skb,
		     const struct nf_hook_state *state, struct iptap_attr *a);

/* flows.c */
struct iptap_flow_key {
	u64 net;			/* the namespace's cookie */
	struct in6_addr saddr, daddr;	/* IPv4: mapped */
	int dif;
	__be16 sport, dport;
	u32 pf;
	u32 pad;			/* zero */
};

/* A flow not in the cache, and what its entry needs from before lookup. */
struct iptap_flow_query {
	struct iptap_flow_key key;
	u64 epoch;			/* 0: not to be cached */
	u64 gen;
};

int iptap_flows_init(void);
void iptap_flows_exit(void);
void iptap_flows_enable(void);
void iptap_flows_disable(void);
void iptap_flows_changing(struct net *net, u16 port);
void iptap_flows_changed(struct net *net, u16 port);
void iptap_flows_changed_all(struct net *net);
bool iptap_flow_find(struct iptap_net *in, struct sk_buff *skb,
		     const struct nf_hook_state *state,
		     struct iptap_owners *owners, struct iptap_flow_query *q,
		     struct iptap_attr *a);
void iptap_flow_remember(const struct iptap_flow_query *q, struct sock *sk,
			 const struct iptap_owner *o);

/* owner.c */
int iptap_owners_init(void);
void iptap_owners_exit(void);
void iptap_owners_gc_start(void);
void iptap_owners_gc_stop(void);
struct iptap_owners *iptap_owners_create(struct iptap_net *in);
void iptap_owners_free(struct iptap_owners *owners);
void iptap_owners_retire(struct iptap_net *in);
void iptap_owners_work(struct work_struct *work);
void iptap_owners_net_exit(struct iptap_net *in);
unsigned long iptap_owners_count(const struct iptap_owners *owners);
unsigned long iptap_owners_refused(const struct iptap_owners *owners);
void iptap_proc_current(struct iptap_proc *p);
const struct iptap_owner *iptap_owner_of_sock(struct iptap_owners *owners,
					      struct sock *sk);
bool iptap_owner_keep(const struct iptap_owner *o, struct sock *sk);
const struct iptap_ping *iptap_owner_of_ping(struct iptap_owners *owners,
					     u8 family, u16 id);
void iptap_owners_refuse(struct iptap_owners *owners);
void __iptap_owners_settle(struct iptap_owners *owners);

/* Apply the owners noted before a packet, before attributing it. */
static inline void iptap_owners_settle(struct iptap_owners *owners)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		__iptap_owners_settle(owners);
}

void iptap_owner_note_sock(struct sock *sk, bool created);
bool iptap_owner_reused(struct sock *sk);
void iptap_owner_probe_sock(struct iptap_net *in, struct sock *sk,
			    bool created);
void iptap_owner_note_proc(struct sock *sk, const struct iptap_proc *p,
			   bool created);
void iptap_owner_note_scanned(struct iptap_owners *owners, struct sock *sk,
			      const struct iptap_proc *p);
bool iptap_owner_of_mptcp(struct iptap_owners *owners, struct socket *sock,
			  struct sock *msk, const struct iptap_owner **o);
void iptap_owner_inherit(struct sock *sk, struct sock *listener,
			 struct socket *sock);
void iptap_owner_adopt(struct iptap_owners *owners, struct sock *ssk,
		       const struct iptap_owner *o);
void iptap_owner_note_ping(struct iptap_owners *owners, struct sock *sk,
			   u8 family, u16 id);
void iptap_owner_forget_sock(struct sock *sk);

/* scan.c */
void iptap_scan_init(void);
void iptap_scan(struct iptap_net *in, struct iptap_owners *owners, bool all);

/* defer.c: the probes' notes on PREEMPT_RT */
struct iptap_defer;
struct iptap_defer *iptap_defer_create(void);
void iptap_defer_destroy(struct iptap_defer *d);
void iptap_defer_note(struct iptap_defer *d, struct iptap_owners *owners,
		      struct sock *sk, const struct iptap_proc *p,
		      bool created);
void iptap_defer_apply(struct iptap_defer *d);
bool __iptap_defer_pending(struct iptap_defer *d);

static inline bool iptap_defer_pending(struct iptap_defer *d)
{
	return IS_ENABLED(CONFIG_PREEMPT_RT) && __iptap_defer_pending(d);
}

/* probes.c */
void iptap_probes_init(void);
void iptap_probes_get(void);
void iptap_probes_sync(void);
void iptap_probes_put(void);
void iptap_probes_exit(void);
unsigned long iptap_probes_missed(void);
bool iptap_flow_probes_missed(void);
bool iptap_probes_missing(void);
void iptap_probes_recording(void);

#endif /* _IPTAP_H */
