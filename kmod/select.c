// SPDX-License-Identifier: GPL-2.0
/*
 * Selectors: a device that records only the packets of some processes'
 * sockets, chosen by cgroup, by owner or by process.  They are given when
 * the device is created, read in the creator's cgroup, user and PID
 * namespaces, and checked on the packet path before anything is copied.
 * Also the cgroup of a socket as a device's creator may see it.
 */

#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <net/netlink.h>

#include "iptap.h"

#ifdef CONFIG_SOCK_CGROUP_DATA
static int iptap_cgroup_resolve(struct iptap_select *sel,
				const struct nlattr *nla,
				struct netlink_ext_ack *extack)
{
	const char *path = nla_data(nla);
	struct cgroup *cgrp;

	/* Resolved from the root of the creator's cgroup namespace. */
	cgrp = cgroup_get_from_path(path);
	if (IS_ERR(cgrp)) {
		if (PTR_ERR(cgrp) == -ENOTDIR)
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "not a cgroup directory");
		else
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "no such cgroup in the cgroup v2 hierarchy");
		return PTR_ERR(cgrp);
	}
	sel->cgroup = cgrp;
	return 0;
}

/* A reference to @cgrp, which something the caller holds pins; NULL-safe. */
struct cgroup *iptap_cgroup_get(struct cgroup *cgrp)
{
	if (cgrp)
		cgroup_get(cgrp);
	return cgrp;
}

void iptap_cgroup_put(struct cgroup *cgrp)
{
	if (cgrp)
		cgroup_put(cgrp);
}

static bool iptap_cgroup_match(struct cgroup *ancestor, struct cgroup *cgrp)
{
	return cgrp && cgroup_is_descendant(cgrp, ancestor);
}

/* The root of the running task's cgroup namespace, or NULL. */
struct cgroup *iptap_cgroup_root_get(void)
{
	struct cgroup *root = cgroup_get_from_path("/");

	return IS_ERR(root) ? NULL : root;
}

/* @cgrp's ID if it is in the creator's cgroup namespace, else 0. */
u64 iptap_cgroup_id_seen(const struct iptap_dev *idev, struct cgroup *cgrp)
{
	if (!cgrp || !idev->cgroup_root ||
	    !cgroup_is_descendant(cgrp, idev->cgroup_root))
		return 0;
	return cgroup_id(cgrp);
}
#else
static int iptap_cgroup_resolve(struct iptap_select *sel,
				const struct nlattr *nla,
				struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG_ATTR(extack, nla,
			    "this kernel keeps no cgroup of sockets (CONFIG_SOCK_CGROUP_DATA)");
	return -EOPNOTSUPP;
}

struct cgroup *iptap_cgroup_get(struct cgroup *cgrp)
{
	return NULL;
}

void iptap_cgroup_put(struct cgroup *cgrp)
{
}

static bool iptap_cgroup_match(struct cgroup *ancestor, struct cgroup *cgrp)
{
	return false;
}

struct cgroup *iptap_cgroup_root_get(void)
{
	return NULL;
}

u64 iptap_cgroup_id_seen(const struct iptap_dev *idev, struct cgroup *cgrp)
{
	return 0;
}
#endif

static int iptap_select_cgroup(struct iptap_select *sel,
			       const struct nlattr *nla,
			       struct netlink_ext_ack *extack)
{
	const char *path = nla_data(nla);

	if (path[0] != '/') {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "a cgroup path starts with /, as /proc/PID/cgroup shows it");
		return -EINVAL;
	}
	sel->cgroup_path = kstrdup(path, GFP_KERNEL_ACCOUNT);
	if (!sel->cgroup_path)
		return -ENOMEM;
	return iptap_cgroup_resolve(sel, nla, extack);
}

static int iptap_select_uid(struct iptap_select *sel, const struct nlattr *nla,
			    struct netlink_ext_ack *extack)
{
	u32 nr = nla_get_u32(nla);
	kuid_t uid = make_kuid(current_user_ns(), nr);

	if (!uid_valid(uid)) {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "this user ID has no mapping in the creator's user namespace");
		return -EINVAL;
	}
	sel->uid = uid;
	sel->uid_nr = nr;
	sel->has_uid = true;
	return 0;
}

static int iptap_select_pid(struct iptap_select *sel, const struct nlattr *nla,
			    struct netlink_ext_ack *extack)
{
	u32 nr = nla_get_u32(nla);
	struct pid *pid;

	/* In the creator's PID namespace, as the device shows PIDs. */
	pid = nr <= INT_MAX ? find_get_pid(nr) : NULL;
	if (!pid) {
		NL_SET_ERR_MSG_ATTR(extack, nla, "no such process");
		return -ESRCH;
	}
	if (!pid_has_task(pid, PIDTYPE_TGID)) {
		put_pid(pid);
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "no such process: the ID is a thread's");
		return -ESRCH;
	}
	sel->pid = pid;
	sel->pid_nr = nr;
	return 0;
}

/* Read the selectors of a new device from its attributes. */
int iptap_select_parse(struct iptap_select *sel, struct nlattr *data[],
		       struct netlink_ext_ack *extack)
{
	int err = 0;

	if (!data)
		return 0;
	if (data[IFLA_IPTAP_CGROUP])
		err = iptap_select_cgroup(sel, data[IFLA_IPTAP_CGROUP], extack);
	if (!err && data[IFLA_IPTAP_UID])
		err = iptap_select_uid(sel, data[IFLA_IPTAP_UID], extack);
	if (!err && data[IFLA_IPTAP_PID])
		err = iptap_select_pid(sel, data[IFLA_IPTAP_PID], extack);
	if (err) {
		iptap_select_release(sel);
		return err;
	}
	sel->active = sel->cgroup_path || sel->has_uid || sel->pid;
	return 0;
}

/* Drop what the selectors hold; may be called again. */
void iptap_select_release(struct iptap_select *sel)
{
	iptap_cgroup_put(sel->cgroup);
	put_pid(sel->pid);
	kfree(sel->cgroup_path);
	memset(sel, 0, sizeof(*sel));
}

/* The attribute in @data that asks for other selectors than @sel's. */
struct nlattr *iptap_select_changed(const struct iptap_select *sel,
				    struct nlattr *data[])
{
	struct nlattr *nla;

	nla = data[IFLA_IPTAP_CGROUP];
	if (nla && (!sel->cgroup_path || nla_strcmp(nla, sel->cgroup_path)))
		return nla;
	nla = data[IFLA_IPTAP_UID];
	if (nla && (!sel->has_uid || nla_get_u32(nla) != sel->uid_nr))
		return nla;
	nla = data[IFLA_IPTAP_PID];
	if (nla && (!sel->pid || nla_get_u32(nla) != sel->pid_nr))
		return nla;
	return NULL;
}

/* Is @pid the packet's process or its socket's creator? */
static bool iptap_select_proc(const struct pid *pid, const struct iptap_attr *a)
{
	return (a->last && a->last->tgid == pid) ||
	       (a->creator && a->creator->tgid == pid);
}

/* Does a packet attributed as @a match every selector of @sel? */
bool iptap_select_match(const struct iptap_select *sel,
			const struct iptap_attr *a)
{
	if (sel->pid && !iptap_select_proc(sel->pid, a))
		return false;
	if (!sel->cgroup && !sel->has_uid)
		return true;
	if (!a->has_sk)
		return false;
	if (sel->has_uid && !uid_eq(a->uid, sel->uid))
		return false;
	return !sel->cgroup || iptap_cgroup_match(sel->cgroup, a->cgroup);
}

size_t iptap_select_size(const struct iptap_select *sel)
{
	size_t size = 0;

	if (sel->cgroup_path)
		size += nla_total_size(strlen(sel->cgroup_path) + 1);
	if (sel->has_uid)
		size += nla_total_size(sizeof(u32));
	if (sel->pid)
		size += nla_total_size(sizeof(u32));
	return size;
}

/* The selectors as they were given. */
int iptap_select_fill(struct sk_buff *skb, const struct iptap_select *sel)
{
	if (sel->cgroup_path &&
	    nla_put_string(skb, IFLA_IPTAP_CGROUP, sel->cgroup_path))
		return -EMSGSIZE;
	if (sel->has_uid && nla_put_u32(skb, IFLA_IPTAP_UID, sel->uid_nr))
		return -EMSGSIZE;
	if (sel->pid && nla_put_u32(skb, IFLA_IPTAP_PID, sel->pid_nr))
		return -EMSGSIZE;
	return 0;
}
