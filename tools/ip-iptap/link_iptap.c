// SPDX-License-Identifier: GPL-2.0
/*
 * link_iptap.so: "ip link ... type iptap" options for iproute2.
 *
 * ip loads it from its library directory (or $IP_LIB_DIR) the first time
 * a command names the iptap link kind, and finds iptap_link_util in it.
 * struct link_util and the helpers used here are iproute2's own, so the
 * plugin is built against the source of the iproute2 it is loaded by
 * (tools/ip-iptap/build.sh).
 */

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <linux/iptap.h>

#include "utils.h"
#include "ip_common.h"

/* iproute2's callbacks take arguments that iptap has no use for. */
#define unused __attribute__((unused))

static const char * const iptap_modes[] = {
	[IPTAP_MODE_PKTAP]	= "pktap",
	[IPTAP_MODE_RAW]	= "raw",
};

static void iptap_explain(FILE *f)
{
	fprintf(f,
		"Usage: ... iptap [ mode { pktap | raw } ] [ cgroup PATH ]\n"
		"                 [ uid USER ] [ pid PID ]\n"
		"\n"
		"mode pktap: each packet comes with a PKTAP header naming its\n"
		"            interface, direction and process (the default)\n"
		"mode raw:   the bare IP packets, for tools that know nothing\n"
		"            of PKTAP\n"
		"cgroup PATH: only the packets of sockets in this cgroup v2 or\n"
		"            below it, the path as /proc/PID/cgroup shows it\n"
		"uid USER:   only the packets of sockets this user owns\n"
		"pid PID:    only the packets of this process, or of the sockets\n"
		"            it created\n"
		"All are set when the device is created; a packet must match\n"
		"every selector given.\n");
}

static int iptap_parse_mode(const char *arg, __u32 *mode)
{
	__u32 i;

	for (i = 0; i < ARRAY_SIZE(iptap_modes); i++) {
		if (strcmp(arg, iptap_modes[i]) == 0) {
			*mode = i;
			return 0;
		}
	}
	return -1;
}

/* A user by name, in this system's user database, or by number. */
static int iptap_parse_uid(const char *arg, __u32 *uid)
{
	struct passwd *pw;

	if (get_u32(uid, arg, 10) == 0)
		return 0;
	pw = getpwnam(arg);
	if (!pw)
		return -1;
	*uid = pw->pw_uid;
	return 0;
}

static int iptap_parse_opt(unused struct link_util *lu, int argc, char **argv,
			   struct nlmsghdr *n)
{
	__u32 mode, uid, pid;

	while (argc > 0) {
		if (strcmp(*argv, "mode") == 0) {
			NEXT_ARG();
			if (iptap_parse_mode(*argv, &mode))
				invarg("mode must be \"pktap\" or \"raw\"", *argv);
			addattr32(n, 1024, IFLA_IPTAP_MODE, mode);
		} else if (strcmp(*argv, "cgroup") == 0) {
			NEXT_ARG();
			if (**argv != '/')
				invarg("a cgroup path starts with /", *argv);
			if (addattr_l(n, 1024, IFLA_IPTAP_CGROUP, *argv,
				      strlen(*argv) + 1))
				invarg("the cgroup path is too long", *argv);
		} else if (strcmp(*argv, "uid") == 0) {
			NEXT_ARG();
			if (iptap_parse_uid(*argv, &uid))
				invarg("no such user", *argv);
			addattr32(n, 1024, IFLA_IPTAP_UID, uid);
		} else if (strcmp(*argv, "pid") == 0) {
			NEXT_ARG();
			if (get_u32(&pid, *argv, 10) || pid == 0)
				invarg("a process ID is a positive number", *argv);
			addattr32(n, 1024, IFLA_IPTAP_PID, pid);
		} else if (strcmp(*argv, "help") == 0) {
			iptap_explain(stderr);
			return -1;
		} else {
			fprintf(stderr, "iptap: unknown option \"%s\"?\n",
				*argv);
			iptap_explain(stderr);
			return -1;
		}
		argc--, argv++;
	}
	return 0;
}

static bool iptap_has_u32(struct rtattr *tb[], int type)
{
	return tb[type] && RTA_PAYLOAD(tb[type]) >= sizeof(__u32);
}

static void iptap_print_opt(unused struct link_util *lu, unused FILE *f,
			    struct rtattr *tb[])
{
	__u32 mode;

	if (!tb)
		return;
	if (iptap_has_u32(tb, IFLA_IPTAP_MODE)) {
		mode = rta_getattr_u32(tb[IFLA_IPTAP_MODE]);
		if (mode < ARRAY_SIZE(iptap_modes))
			print_string(PRINT_ANY, "mode", "mode %s ",
				     iptap_modes[mode]);
		else
			print_uint(PRINT_ANY, "mode", "mode %u ", mode);
	}
	/* The kernel ends the string; a truncated one is not printed. */
	if (tb[IFLA_IPTAP_CGROUP] && RTA_PAYLOAD(tb[IFLA_IPTAP_CGROUP]) &&
	    memchr(RTA_DATA(tb[IFLA_IPTAP_CGROUP]), 0,
		   RTA_PAYLOAD(tb[IFLA_IPTAP_CGROUP])))
		print_string(PRINT_ANY, "cgroup", "cgroup %s ",
			     rta_getattr_str(tb[IFLA_IPTAP_CGROUP]));
	if (iptap_has_u32(tb, IFLA_IPTAP_UID))
		print_uint(PRINT_ANY, "uid", "uid %u ",
			   rta_getattr_u32(tb[IFLA_IPTAP_UID]));
	if (iptap_has_u32(tb, IFLA_IPTAP_PID))
		print_uint(PRINT_ANY, "pid", "pid %u ",
			   rta_getattr_u32(tb[IFLA_IPTAP_PID]));
}

/* ip -s -d link show: the device's counters. */
static void iptap_print_xstats(unused struct link_util *lu, unused FILE *f,
			       struct rtattr *xstats)
{
	static const char * const names[IPTAP_XSTATS_MAX + 1] = {
		[IPTAP_XSTATS_RECORDS]		= "records",
		[IPTAP_XSTATS_LOST]		= "lost",
		[IPTAP_XSTATS_UNATTRIBUTED]	= "unattributed",
	};
	struct rtattr *tb[IPTAP_XSTATS_MAX + 1];
	const char *indent = "    ";	/* as ip's own lines */
	char fmt[32];
	int i;

	parse_rtattr_nested(tb, IPTAP_XSTATS_MAX, xstats);
	print_nl();
	for (i = 0; i <= IPTAP_XSTATS_MAX; i++) {
		if (!names[i] || !tb[i] || RTA_PAYLOAD(tb[i]) < sizeof(__u64))
			continue;
		snprintf(fmt, sizeof(fmt), "%s%s %%llu ", indent, names[i]);
		print_u64(PRINT_ANY, names[i], fmt, rta_getattr_u64(tb[i]));
		indent = "";
	}
}

static void iptap_print_help(unused struct link_util *lu, unused int argc,
			     unused char **argv, FILE *f)
{
	iptap_explain(f);
}

struct link_util iptap_link_util = {
	.id		= "iptap",
	.maxattr	= IFLA_IPTAP_MAX,
	.parse_opt	= iptap_parse_opt,
	.print_opt	= iptap_print_opt,
	.print_xstats	= iptap_print_xstats,
	.print_help	= iptap_print_help,
};
