// SPDX-License-Identifier: GPL-2.0
/*
 * iptapdump: the packet socket and its TPACKET_V3 receive ring.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>

#include "iptapdump.h"

/* A block holds at least one record of the filters' snap length. */
#define BLOCK_SIZE	(1u << 20)

/* The filters are built as libpcap's struct bpf_insn: the same layout. */
_Static_assert(sizeof(struct sock_filter) == 8, "sock_filter layout");

static int is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* ioctl() request req on dev with ifr, whose name it sets; 0 on success. */
static int dev_ioctl(const char *dev, unsigned long req, struct ifreq *ifr)
{
	int fd, rc;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", dev);
	rc = ioctl(fd, req, ifr);
	close(fd);
	return rc;
}

/* Ask ethtool which driver dev has. */
static int driver_is_iptap(const char *dev)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (void *)&info };

	return !dev_ioctl(dev, SIOCETHTOOL, &ifr) &&
	       !strcmp(info.driver, "iptap");
}

/* Records are PKTAP ones on a device of IPTAP_ARPHRD, not in raw mode. */
static int is_pktap(const char *dev)
{
	struct ifreq ifr = { 0 };

	return !dev_ioctl(dev, SIOCGIFHWADDR, &ifr) &&
	       ifr.ifr_hwaddr.sa_family == IPTAP_ARPHRD;
}

int dev_check(const char *dev)
{
	char path[64 + IFNAMSIZ];
	int iptap;

	if (!dev[0] || strlen(dev) >= IFNAMSIZ || strchr(dev, '/') ||
	    !if_nametoindex(dev))
		return DEV_NONE;
	snprintf(path, sizeof(path), "/sys/class/net/%s", dev);
	if (is_dir(path)) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/iptap", dev);
		iptap = is_dir(path);
	} else {
		/*
		 * sysfs shows the network namespace it was mounted in: when
		 * that is not ours, ask the driver's name instead.
		 */
		iptap = driver_is_iptap(dev);
	}
	if (!iptap)
		return DEV_NOT_IPTAP;
	return is_pktap(dev) ? DEV_OK : DEV_RAW;
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

/*
 * The module registers its hooks in a worker soon after a packet socket
 * binds to an iptap device.  Wait for them (a second at most), so that
 * every packet sent once we say we listen is recorded.  An older module
 * without the sysctl registers them with the device.
 */
static void wait_hooks(void)
{
	char c;
	int i;

	for (i = 0; i < 1000; i++) {
		FILE *f = fopen("/proc/sys/net/iptap/hooks_registered", "r");

		if (!f)
			return;
		c = (char)fgetc(f);
		fclose(f);
		if (c == '1')
			return;
		usleep(1000);
	}
}

int ring_open(struct ring *r, const char *dev, size_t bufsize,
	      const struct filter *f, char *err, size_t errlen)
{
	struct tpacket_req3 req;
	struct sockaddr_ll sll;
	int version = TPACKET_V3, e;
	unsigned int ifindex;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	ifindex = if_nametoindex(dev);
	if (!ifindex)
		return fail(err, errlen, "%s: no such device", dev);
	/*
	 * Protocol 0 until bound: a socket made with ETH_P_ALL would take
	 * every device's frames until bind() narrows it to dev.
	 */
	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		e = errno;
		if (e == EPERM || e == EACCES)
			fail(err, errlen, "cannot open a packet socket: %s "
			     "(capturing needs CAP_NET_RAW)", strerror(e));
		else
			fail(err, errlen, "cannot open a packet socket: %s",
			     strerror(e));
		errno = e;
		return -1;
	}
	if (f && f->len) {
		struct sock_fprog prog = {
			.len = (unsigned short)f->len,
			.filter = (struct sock_filter *)f->insns,
		};

		if (setsockopt(r->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			       sizeof(prog))) {
			fail(err, errlen, "cannot attach the filter: %s",
			     strerror(errno));
			goto fail;
		}
	}
	if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &version,
		       sizeof(version))) {
		fail(err, errlen, "TPACKET_V3: %s", strerror(errno));
		goto fail;
	}
	r->block_size = BLOCK_SIZE;
	r->block_nr = (unsigned int)(bufsize / BLOCK_SIZE);
	if (r->block_nr < 2)
		r->block_nr = 2;
	memset(&req, 0, sizeof(req));
	req.tp_block_size = r->block_size;
	req.tp_block_nr = r->block_nr;
	req.tp_frame_size = r->block_size;	/* unused by V3 but checked */
	req.tp_frame_nr = r->block_nr;
	req.tp_retire_blk_tov = BLOCK_TIMEOUT_MS;
	if (setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req,
		       sizeof(req))) {
		fail(err, errlen, "cannot set up the receive ring (%u MiB): %s",
		     r->block_nr, strerror(errno));
		goto fail;
	}
	r->maplen = (size_t)r->block_size * r->block_nr;
	r->map = mmap(NULL, r->maplen, PROT_READ | PROT_WRITE, MAP_SHARED,
		      r->fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		fail(err, errlen, "cannot map the receive ring: %s",
		     strerror(errno));
		goto fail;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		if (errno == ENODEV)
			fail(err, errlen, "%s: no such device", dev);
		else
			fail(err, errlen, "cannot bind to %s: %s", dev,
			     strerror(errno));
		goto fail;
	}
	if (driver_is_iptap(dev))
		wait_hooks();
	return 0;
fail:
	e = errno;
	ring_close(r);
	errno = e;
	return -1;
}

static struct tpacket_block_desc *block(struct ring *r, unsigned int i)
{
	return (struct tpacket_block_desc *)(r->map +
					     (size_t)i * r->block_size);
}

struct tpacket_block_desc *ring_block(struct ring *r)
{
	struct tpacket_block_desc *bd = block(r, r->cur);

	if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
	      TP_STATUS_USER))
		return NULL;
	return bd;
}

void ring_release(struct ring *r)
{
	__atomic_store_n(&block(r, r->cur)->hdr.bh1.block_status,
			 TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	r->cur = (r->cur + 1) % r->block_nr;
}

int ring_stats(struct ring *r)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	/* Reading the counters resets them. */
	if (getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return -1;
	r->drops += st.tp_drops;
	return 0;
}

void ring_close(struct ring *r)
{
	if (r->map)
		munmap(r->map, r->maplen);
	if (r->fd >= 0)
		close(r->fd);
	r->map = NULL;
	r->fd = -1;
}
