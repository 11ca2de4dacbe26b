// SPDX-License-Identifier: GPL-2.0
/*
 * ring: a TPACKET_V3 capture that discards what it captures, the
 * benchmark's model of a capture tool with no output cost.  Opens a
 * packet socket on DEV as libpcap does (ETH_P_ALL, a mapped TPACKET_V3
 * ring of BLOCKS blocks of BLOCK_KB KiB each, blocks retired after TOV
 * ms), hands every filled block straight back to the kernel, and on
 * SIGINT or SIGTERM prints the socket's statistics.  With -q, no ring:
 * each frame is read with recv() from the socket's queue, as a reader
 * that does not map a ring gets them.
 *
 *   ring -i DEV [-q] [-n BLOCKS] [-k BLOCK_KB] [-t TOV]
 *
 * The defaults (8 blocks of 256 KiB, 1000 ms) are those libpcap 1.10
 * gives tcpdump: a 2 MiB buffer in blocks that hold a 256 KiB snapshot.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: ring -i DEV [-q] [-n BLOCKS] [-k BLOCK_KB] [-t TOV_MS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long long seen = 0, bytes = 0, blocks_seen = 0;
	unsigned int nblocks = 8, block_kb = 256, tov = 1000, cur = 0, i;
	int version = TPACKET_V3, queue = 0, fd, opt;
	struct tpacket_stats_v3 st;
	struct tpacket_req3 req;
	struct sockaddr_ll sll;
	struct sigaction sa;
	const char *dev = NULL;
	socklen_t len;
	static uint8_t frame[65536];
	uint8_t *map = NULL;

	while ((opt = getopt(argc, argv, "i:qn:k:t:")) != -1) {
		switch (opt) {
		case 'i': dev = optarg; break;
		case 'q': queue = 1; break;
		case 'n': nblocks = atoi(optarg); break;
		case 'k': block_kb = atoi(optarg); break;
		case 't': tov = atoi(optarg); break;
		default: usage();
		}
	}
	if (!dev || !nblocks || !block_kb)
		usage();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/* Protocol 0 until bound: ETH_P_ALL would take every device's frames. */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version))) {
		perror("PACKET_VERSION");
		return 1;
	}
	memset(&req, 0, sizeof(req));
	req.tp_block_size = block_kb * 1024;
	req.tp_block_nr = nblocks;
	req.tp_frame_size = 2048;	/* unused by V3, but must divide a block */
	req.tp_frame_nr = req.tp_block_size / req.tp_frame_size * nblocks;
	req.tp_retire_blk_tov = tov;
	if (!queue &&
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req))) {
		perror("PACKET_RX_RING");
		return 1;
	}
	if (!queue) {
		map = mmap(NULL, (size_t)req.tp_block_size * nblocks,
			   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED,
			   fd, 0);
		if (map == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = if_nametoindex(dev);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "ring: no device %s\n", dev);
		return 1;
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("bind");
		return 1;
	}
	printf("ring ready on %s\n", dev);
	fflush(stdout);

	while (queue && !stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLERR };
		ssize_t n = recv(fd, frame, sizeof(frame), MSG_DONTWAIT);

		if (n >= 0) {
			seen++;
			bytes += n;
		} else if (errno == EAGAIN) {
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
				perror("poll");
				return 1;
			}
		} else if (errno != EINTR) {
			perror("recv");
			return 1;
		}
	}
	while (!queue && !stop) {
		struct tpacket_block_desc *bd = (void *)(map +
				(size_t)cur * req.tp_block_size);
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLERR };
		struct tpacket3_hdr *h;

		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER)) {
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
				perror("poll");
				return 1;
			}
			continue;
		}
		/* Walk the records, as a reader must, and drop them. */
		h = (void *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
		for (i = 0; i < bd->hdr.bh1.num_pkts; i++) {
			bytes += h->tp_snaplen;
			h = (void *)((uint8_t *)h + h->tp_next_offset);
		}
		seen += bd->hdr.bh1.num_pkts;
		blocks_seen++;
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		cur = (cur + 1) % nblocks;
	}

	len = sizeof(st);
	memset(&st, 0, sizeof(st));
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len);
	/* tp_packets counts drops too: it is what reached the socket. */
	printf("ring dev=%s seen=%llu bytes=%llu blocks=%llu kernel_packets=%u kernel_drops=%u freeze_q=%u\n",
	       dev, seen, bytes, blocks_seen, st.tp_packets, st.tp_drops,
	       st.tp_freeze_q_cnt);
	return 0;
}
