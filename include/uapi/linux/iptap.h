/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * iptap: capture devices that see every IPv4 and IPv6 packet of their
 * network namespace, each preceded by an Apple PKTAP header naming the
 * interface, the direction and the owning process.
 *
 * A packet socket bound to an iptap device in PKTAP mode (the default,
 * see enum iptap_mode) receives, for every packet,
 *
 *	struct iptap_pktap_hdr		156 bytes, little-endian
 *	struct iptap_pktap_ext		16 bytes, iptap's own
 *	__le32 address family		IPTAP_AF_INET or IPTAP_AF_INET6
 *	the IP packet			from its network header on
 *
 * which is what XNU's iptap emits, with an extension that pth_length
 * covers, and what libpcap calls LINKTYPE_PKTAP.
 */
#ifndef _UAPI_LINUX_IPTAP_H
#define _UAPI_LINUX_IPTAP_H

#include <linux/if_arp.h>
#include <linux/types.h>

/*
 * Device type of an iptap device.  ARPHRD_VOID is already known to the
 * kernel's lockdep class table and IPv6 does not autoconfigure it, so an
 * iptap device never gets addresses or sends MLD/DAD of its own.  Tools
 * recognise an iptap device by its sysfs "iptap" group or its ethtool
 * driver name, not by this type, which other devices may share; one of
 * this type delivers PKTAP records, one in raw mode is ARPHRD_NONE.
 */
#define IPTAP_ARPHRD		ARPHRD_VOID

/*
 * What a device's packet sockets receive for each packet, chosen when
 * the device is created:
 *	IPTAP_MODE_PKTAP	the PKTAP record above; device type
 *				IPTAP_ARPHRD
 *	IPTAP_MODE_RAW		the bare IP packet, from its network header
 *				on; device type ARPHRD_NONE, which libpcap
 *				captures as DLT_RAW, so that tools that know
 *				nothing of PKTAP capture and filter it
 */
enum iptap_mode {
	IPTAP_MODE_PKTAP,
	IPTAP_MODE_RAW,
	__IPTAP_MODE_MAX,
};

#define IPTAP_MODE_MAX		(__IPTAP_MODE_MAX - 1)

/*
 * rtnetlink link attributes (IFLA_INFO_DATA), all fixed at creation.
 *
 * Selectors narrow what a device records to the packets of some
 * processes' sockets; a packet must match every selector given, and one
 * that belongs to no process's socket matches none (echo replies are
 * ping's socket's).  They are checked before any copy is made.  A device
 * reports them as they were given, in its creator's namespaces.
 */
enum {
	IFLA_IPTAP_UNSPEC,
	IFLA_IPTAP_MODE,	/* u32: enum iptap_mode */
	/*
	 * string: a cgroup v2 directory, as /proc/PID/cgroup shows it in
	 * the creator's cgroup namespace ("/system.slice/nginx.service");
	 * the sockets of that cgroup and of its descendants
	 */
	IFLA_IPTAP_CGROUP,
	/*
	 * u32: sockets owned by this user (sk_uid), in the creator's user
	 * namespace
	 */
	IFLA_IPTAP_UID,
	/*
	 * u32: a process, in the creator's PID namespace: the packets
	 * attributed to it, and those of the sockets it created
	 */
	IFLA_IPTAP_PID,
	__IFLA_IPTAP_MAX,
};

#define IFLA_IPTAP_MAX		(__IFLA_IPTAP_MAX - 1)

/*
 * The device's counters, nested in IFLA_INFO_XSTATS (ip -s -d link show),
 * each a u64 since the device was created.
 */
enum {
	IPTAP_XSTATS_UNSPEC,
	IPTAP_XSTATS_RECORDS,		/* handed to its packet sockets */
	IPTAP_XSTATS_LOST,		/* not made: no memory */
	/* records of a process's socket whose owner was unknown */
	IPTAP_XSTATS_UNATTRIBUTED,
	IPTAP_XSTATS_PAD,
	__IPTAP_XSTATS_MAX,
};

#define IPTAP_XSTATS_MAX	(__IPTAP_XSTATS_MAX - 1)

#define IPTAP_LINKTYPE_PKTAP	258	/* pcap link type of a capture */
#define IPTAP_DLT_NULL		0	/* pth_dlt: AF word, then IP */

/* Darwin address family values: what PKTAP readers decode. */
#define IPTAP_AF_INET		2
#define IPTAP_AF_INET6		30

#define IPTAP_PTH_TYPE_PACKET	1

#define IPTAP_PTH_FLAG_DIR_IN	0x00000001	/* received by this host */
#define IPTAP_PTH_FLAG_DIR_OUT	0x00000002	/* sent by this host */

#define IPTAP_IFNAMSIZ		24
#define IPTAP_COMLEN		17

/*
 * pth_svc: Apple's service classes, the values of Darwin's SO_TC_*
 * socket option (what XNU writes there and Apple's tcpdump -k names).
 * iptap maps the packet's priority (skb->priority & 15, the band index
 * pfifo_fast uses) onto them:
 *	TC_PRIO_FILLER (1)		IPTAP_SVC_BK_SYS
 *	TC_PRIO_BULK (2)		IPTAP_SVC_BK
 *	TC_PRIO_INTERACTIVE_BULK (4)	IPTAP_SVC_RD
 *	TC_PRIO_INTERACTIVE (6)		IPTAP_SVC_VO
 *	TC_PRIO_CONTROL (7)		IPTAP_SVC_CTL
 *	anything else			IPTAP_SVC_BE (0)
 */
#define IPTAP_SVC_BE		0
#define IPTAP_SVC_BK_SYS	100
#define IPTAP_SVC_BK		200
#define IPTAP_SVC_RD		300
#define IPTAP_SVC_OAM		400
#define IPTAP_SVC_AV		500
#define IPTAP_SVC_RV		600
#define IPTAP_SVC_VI		700
#define IPTAP_SVC_VO		800
#define IPTAP_SVC_CTL		900

/*
 * Apple's struct pktap_header, version 1, with explicit widths and byte
 * order.  Every byte iptap does not set is zero.
 */
struct iptap_pktap_hdr {
	__le32	pth_length;		/* IPTAP_PKTAP_HDR_LEN + ext */
	__le32	pth_type_next;		/* IPTAP_PTH_TYPE_PACKET */
	__le32	pth_dlt;		/* IPTAP_DLT_NULL */
	char	pth_ifname[IPTAP_IFNAMSIZ]; /* real interface, NUL-ended */
	__le32	pth_flags;		/* IPTAP_PTH_FLAG_DIR_* */
	__le32	pth_protocol_family;	/* IPTAP_AF_INET or IPTAP_AF_INET6 */
	__le32	pth_frame_pre_length;	/* 0 */
	__le32	pth_frame_post_length;	/* 0 */
	__le32	pth_pid;		/* owning process (s32), -1: unknown */
	char	pth_comm[IPTAP_COMLEN];	/* its command name, "" if unknown */
	__u8	pth_pad1[3];
	__le32	pth_svc;		/* IPTAP_SVC_* */
	__le16	pth_iftype;		/* ARPHRD_* of the real interface */
	__le16	pth_ifunit;		/* number ending its name, else 0 */
	__le32	pth_epid;		/* creator of the socket (s32) */
	char	pth_ecomm[IPTAP_COMLEN];
	__u8	pth_pad2[3];
	__le32	pth_flowid;		/* the packet's flow hash */
	__le32	pth_ipproto;		/* transport protocol */
	__le32	pth_tstamp_sec;		/* capture time, UTC */
	__le32	pth_tstamp_usec;
	__u8	pth_uuid[16];		/* zero: Linux has no executable UUID */
	__u8	pth_euuid[16];
};

#define IPTAP_PKTAP_HDR_LEN	156

/*
 * What iptap adds after Apple's fields, covered by pth_length: readers
 * skip pth_length bytes to find the packet, so tcpdump, Wireshark and
 * libpcap's filters read the records as they read XNU's.  A reader
 * knows it by a pth_length of at least IPTAP_PKTAP_HDR_LEN +
 * IPTAP_PKTAP_EXT_LEN and by its magic; later versions only append.
 * The socket is the process's socket the packet belongs to (for an echo
 * reply, the socket that sent the request); packets of none (forwarded,
 * the kernel's) have uid -1, cgroup 0.
 */
struct iptap_pktap_ext {
	__le32	pth_x_magic;		/* IPTAP_PKTAP_EXT_MAGIC */
	/*
	 * The socket's cgroup v2, by its ID (on 64-bit hosts the inode
	 * number of its directory); 0: none, or outside the creator's
	 * cgroup namespace.
	 */
	__le64	pth_x_cgroup_id;
	/*
	 * The socket's owner, in the creator's user namespace; -1: none, or
	 * not mapped there.
	 */
	__le32	pth_x_uid;
} __attribute__((packed));

#define IPTAP_PKTAP_EXT_MAGIC	0x31747069	/* "ipt1" */
#define IPTAP_PKTAP_EXT_LEN	16
#define IPTAP_RECORD_HLEN	(IPTAP_PKTAP_HDR_LEN + IPTAP_PKTAP_EXT_LEN + 4)

#endif /* _UAPI_LINUX_IPTAP_H */
