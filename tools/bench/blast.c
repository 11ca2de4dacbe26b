// SPDX-License-Identifier: GPL-2.0
/*
 * blast: the benchmark's sender.  Floods UDP datagrams with sendmmsg(), or
 * streams TCP with send(), to ADDR:PORT until SECONDS of guest time have
 * passed or a signal ends it, then prints what it sent.
 *
 *   blast -u|-t -d ADDR -p PORT [-s SIZE] [-b BATCH] [-T SECONDS]
 *
 * -u: UDP datagrams of SIZE payload bytes (default 64), BATCH (default
 *     64) per sendmmsg() call.  Errors (ENOBUFS, ECONNREFUSED before the
 *     receiver is up) are counted and the flood goes on.
 * -t: one TCP connection, send() of SIZE bytes (default 65536) at a time:
 *     the stack makes GSO packets of up to 64 KiB out of them.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 1024

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: blast -u|-t -d ADDR -p PORT [-s SIZE] [-b BATCH] [-T SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct mmsghdr msgs[MAX_BATCH];
	unsigned long long sent = 0, bytes = 0, errors = 0;
	struct sockaddr_in dst = { .sin_family = AF_INET };
	int proto = 0, batch = 64, size = -1, fd, opt, i;
	double seconds = 0, start, end;
	struct sigaction sa;
	struct iovec iov;
	char *buf;

	while ((opt = getopt(argc, argv, "utd:p:s:b:T:")) != -1) {
		switch (opt) {
		case 'u': proto = SOCK_DGRAM; break;
		case 't': proto = SOCK_STREAM; break;
		case 'd':
			if (inet_pton(AF_INET, optarg, &dst.sin_addr) != 1)
				usage();
			break;
		case 'p': dst.sin_port = htons(atoi(optarg)); break;
		case 's': size = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'T': seconds = atof(optarg); break;
		default: usage();
		}
	}
	if (!proto || !dst.sin_port || !dst.sin_addr.s_addr ||
	    batch < 1 || batch > MAX_BATCH)
		usage();
	if (size < 0)
		size = proto == SOCK_DGRAM ? 64 : 65536;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	buf = calloc(1, size ? size : 1);
	if (!buf) {
		perror("calloc");
		return 1;
	}
	memset(buf, 'x', size);

	fd = socket(AF_INET, proto, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	/*
	 * The receiver may not listen yet: a TCP connect is retried, 100
	 * times (guest time can jump while the guest waits for the host).
	 */
	for (i = 0; connect(fd, (struct sockaddr *)&dst, sizeof(dst)); i++) {
		if (proto != SOCK_STREAM || errno != ECONNREFUSED ||
		    stop || i == 100) {
			perror("connect");
			return 1;
		}
		usleep(10000);
	}

	iov.iov_base = buf;
	iov.iov_len = size;
	for (i = 0; i < batch; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	start = now();
	end = seconds > 0 ? start + seconds : 0;
	while (!stop && (!end || now() < end)) {
		if (proto == SOCK_DGRAM) {
			int n = sendmmsg(fd, msgs, batch, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				errors++;
				continue;
			}
			sent += n;
			bytes += (unsigned long long)n * size;
		} else {
			ssize_t n = send(fd, buf, size, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				perror("send");
				break;
			}
			sent++;
			bytes += n;
		}
	}
	printf("blast sent=%llu sent_bytes=%llu send_errors=%llu send_seconds=%.6f\n",
	       sent, bytes, errors, now() - start);
	return 0;
}
