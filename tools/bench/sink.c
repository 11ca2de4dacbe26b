// SPDX-License-Identifier: GPL-2.0
/*
 * sink: the benchmark's receiver and its clock.  Receives UDP datagrams
 * with recvmmsg(), or a TCP stream with recv(), on PORT; from the first
 * packet on, skips WARMUP seconds, then counts what arrives during
 * SECONDS of guest time (CLOCK_MONOTONIC) and prints the rate.
 *
 *   sink -u|-t -p PORT [-w WARMUP] [-T SECONDS] [-b BATCH] [-r RCVBUF] [-c DEV]
 *        [-i USEC] [-P] [-L NETNS -d ADDR [-s SIZE]]
 *
 * UDP: BATCH (default 64) datagrams per recvmmsg() call, a receive
 * buffer of RCVBUF bytes (default 32 MiB, forced past rmem_max), so that
 * the receiver, which shares the CPU with the sender, loses nothing
 * while the sender runs; what the socket dropped anyway is reported.
 * With -i, the UDP receiver never waits on the socket: it drains it
 * (MSG_DONTWAIT) and then sleeps USEC microseconds, so that it is woken
 * by a timer rather than by its packets (an alternative model of a
 * receiver; see BENCHMARKS.md).
 * With -L, the sink is the sender too, in lockstep: from a socket in the
 * network namespace NETNS (a name of "ip netns"), connected to ADDR:PORT,
 * it sends whenever its own socket is empty (MSG_DONTWAIT): BATCH
 * datagrams of SIZE bytes (default 64) with one sendmmsg(), or SIZE bytes
 * (default 65536) of its TCP stream with one send().  One process that
 * never sleeps: no wake-ups, no scheduler choosing how a sender and a
 * receiver interleave, so the same work runs in the same order each run.
 * -P prints "tick TIME PACKETS" every 50 ms of guest time (CLOCK_MONOTONIC,
 * packets since the first): bench.sh counts with it the packets of a
 * perf profile.
 * Prints one line: sink pkts= bytes= seconds= pps= mbps= drops=, and with
 * -c the packets and bytes device DEV received in the window (rx_packets=
 * rx_bytes=): for TCP, the number of (GRO/GSO) packets behind the bytes.
 *
 * No receive timeout: under QEMU's -icount sleep=off, guest time jumps to
 * the next timer whenever the guest idles (waiting for the host's disk,
 * say), so a timeout would fire at once.  The caller ends a stuck sink.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 1024
#define BUF_SIZE (256 * 1024)

static const char *dev;

/* A counter of dev from sysfs, 0 if there is none. */
static unsigned long long dev_stat(const char *name)
{
	unsigned long long v = 0;
	char path[256];
	FILE *f;

	if (!dev)
		return 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", dev, name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: sink -u|-t -p PORT [-w WARMUP] [-T SECONDS] [-b BATCH] [-r RCVBUF] [-c DEV] [-i USEC] [-P] [-L NETNS -d ADDR [-s SIZE]]\n");
	exit(2);
}

/* Packets the socket dropped so far (SK_MEMINFO_DROPS). */
static unsigned int sock_drops(int fd)
{
	unsigned int mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) ||
	    len <= SK_MEMINFO_DROPS * sizeof(mem[0]))
		return 0;
	return mem[SK_MEMINFO_DROPS];
}

/* A socket of type PROTO in network namespace NETNS, connected to DST. */
static int lockstep_socket(const char *netns, int proto,
			   const struct sockaddr_in *dst)
{
	int self, ns, fd;
	char path[256];

	snprintf(path, sizeof(path), "/var/run/netns/%s", netns);
	self = open("/proc/self/ns/net", O_RDONLY);
	ns = open(path, O_RDONLY);
	if (self < 0 || ns < 0 || setns(ns, CLONE_NEWNET)) {
		perror(path);
		exit(1);
	}
	fd = socket(AF_INET, proto, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)dst, sizeof(*dst))) {
		perror("lockstep socket");
		exit(1);
	}
	if (setns(self, CLONE_NEWNET)) {
		perror("setns");
		exit(1);
	}
	close(ns);
	close(self);
	return fd;
}

int main(int argc, char **argv)
{
	static struct mmsghdr msgs[MAX_BATCH];
	static struct mmsghdr smsgs[MAX_BATCH];
	static struct iovec iovs[MAX_BATCH], siov;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	const char *netns = NULL;
	int sfd = -1, size = -1;
	unsigned long long pkts = 0, bytes = 0, all = 0;
	unsigned long long rxp0 = 0, rxb0 = 0, rxp = 0, rxb = 0;
	int proto = 0, batch = 64, rcvbuf = 32 << 20, fd, cfd, opt, i, one = 1;
	int ticks = 0;
	long interval = 0;
	double warmup = 0.2, seconds = 1, t, t0 = 0, ts = 0, te = 0;
	double next_tick = 0;
	unsigned int drops0 = 0;
	char *buf;

	while ((opt = getopt(argc, argv, "utp:w:T:b:r:c:i:PL:d:s:")) != -1) {
		switch (opt) {
		case 'u': proto = SOCK_DGRAM; break;
		case 't': proto = SOCK_STREAM; break;
		case 'p': addr.sin_port = htons(atoi(optarg)); break;
		case 'w': warmup = atof(optarg); break;
		case 'T': seconds = atof(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'r': rcvbuf = atoi(optarg); break;
		case 'c': dev = optarg; break;
		case 'i': interval = atol(optarg); break;
		case 'P': ticks = 1; break;
		case 'L': netns = optarg; break;
		case 'd':
			if (inet_pton(AF_INET, optarg, &dst.sin_addr) != 1)
				usage();
			break;
		case 's': size = atoi(optarg); break;
		default: usage();
		}
	}
	if (!proto || !addr.sin_port || batch < 1 || batch > MAX_BATCH ||
	    seconds <= 0 || size > BUF_SIZE ||
	    (netns && (interval || !dst.sin_addr.s_addr)))
		usage();
	if (size < 0)
		size = proto == SOCK_DGRAM ? 64 : 65536;
	dst.sin_port = addr.sin_port;

	buf = malloc((size_t)BUF_SIZE * (proto == SOCK_DGRAM ? batch : 1));
	if (!buf) {
		perror("malloc");
		return 1;
	}
	fd = socket(AF_INET, proto, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (proto == SOCK_DGRAM &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		perror("SO_RCVBUFFORCE");
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("bind");
		return 1;
	}
	if (proto == SOCK_STREAM) {
		if (listen(fd, 1)) {
			perror("listen");
			return 1;
		}
		/* Printed once ready: the script starts the sender then. */
		printf("sink ready\n");
		fflush(stdout);
		if (netns)
			sfd = lockstep_socket(netns, proto, &dst);
		cfd = accept(fd, NULL, NULL);
		if (cfd < 0) {
			perror("accept");
			return 1;
		}
		close(fd);
		fd = cfd;
	} else {
		printf("sink ready\n");
		fflush(stdout);
	}
	for (i = 0; i < batch; i++) {
		iovs[i].iov_base = buf + (size_t)i * BUF_SIZE;
		iovs[i].iov_len = BUF_SIZE;
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	if (netns) {
		if (sfd < 0)
			sfd = lockstep_socket(netns, proto, &dst);
		siov.iov_base = malloc(size ? size : 1);
		if (!siov.iov_base) {
			perror("malloc");
			return 1;
		}
		siov.iov_len = size;
		memset(siov.iov_base, 'x', size);
		for (i = 0; i < batch; i++) {
			smsgs[i].msg_hdr.msg_iov = &siov;
			smsgs[i].msg_hdr.msg_iovlen = 1;
		}
	}

	for (;;) {
		unsigned long long n = 0, nb = 0;

		if (proto == SOCK_DGRAM) {
			int r = recvmmsg(fd, msgs, batch,
					 interval || netns ? MSG_DONTWAIT :
					 MSG_WAITFORONE, NULL);

			if (r < 0) {
				if (errno == EINTR)
					continue;
				if (netns && errno == EAGAIN) {
					if (sendmmsg(sfd, smsgs, batch, 0) < 0 &&
					    errno != EINTR && errno != ENOBUFS) {
						perror("sendmmsg");
						return 1;
					}
					continue;
				}
				if (interval && errno == EAGAIN) {
					struct timespec nap = {
						.tv_sec = interval / 1000000,
						.tv_nsec = interval % 1000000 * 1000,
					};

					nanosleep(&nap, NULL);
					continue;
				}
				perror("recvmmsg");
				return 1;
			}
			n = r;
			for (i = 0; i < r; i++)
				nb += msgs[i].msg_len;
		} else {
			ssize_t r = recv(fd, buf, BUF_SIZE,
					 netns ? MSG_DONTWAIT : 0);

			if (r < 0 && netns && errno == EAGAIN) {
				if (send(sfd, siov.iov_base, size, MSG_DONTWAIT) < 0 &&
				    errno != EAGAIN && errno != EINTR) {
					perror("send");
					return 1;
				}
				continue;
			}
			if (r <= 0) {
				fprintf(stderr, "recv: %s\n",
					r ? strerror(errno) : "connection closed");
				return 1;
			}
			n = 1;
			nb = r;
		}
		t = now();
		if (!t0)
			t0 = t;
		all += n;
		if (ticks && t >= next_tick) {
			printf("tick %.6f %llu\n", t, all);
			fflush(stdout);
			next_tick = t + 0.05;
		}
		if (!ts) {
			/* The window opens with the first call after warm-up. */
			if (t >= t0 + warmup) {
				ts = t;
				drops0 = sock_drops(fd);
				rxp0 = dev_stat("rx_packets");
				rxb0 = dev_stat("rx_bytes");
			}
			continue;
		}
		pkts += n;
		bytes += nb;
		if (t >= ts + seconds) {
			te = t;
			rxp = dev_stat("rx_packets");
			rxb = dev_stat("rx_bytes");
			break;
		}
	}
	printf("sink pkts=%llu bytes=%llu seconds=%.6f pps=%.1f mbps=%.3f drops=%u",
	       pkts, bytes, te - ts, pkts / (te - ts),
	       bytes * 8 / (te - ts) / 1e6, sock_drops(fd) - drops0);
	if (dev)
		printf(" rx_packets=%llu rx_bytes=%llu", rxp - rxp0, rxb - rxb0);
	printf("\n");
	return 0;
}
