// SPDX-License-Identifier: GPL-2.0
/*
 * mark: where the benchmark's instruction counts begin and end.  Runs a
 * no-op that the QEMU plugin selftests/bench/insncount.c recognizes
 * (start: zero the counts; stop: write them), and prints the guest's
 * CLOCK_MONOTONIC time at that point, to find the packets a count is
 * for.  Outside that plugin the no-op does nothing.
 *
 *   mark start|stop
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

/* nopl DISP(%rax,%rax,1): the displacements insncount.c looks for. */
#define MARK(disp) \
	asm volatile(".byte 0x0f, 0x1f, 0x84, 0x00; .long " #disp ::: "memory")

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double t;

	if (argc == 2 && !strcmp(argv[1], "start")) {
		t = now();
		MARK(0x7461700a);
	} else if (argc == 2 && !strcmp(argv[1], "stop")) {
		MARK(0x7461700b);
		t = now();
	} else {
		fprintf(stderr, "usage: mark start|stop\n");
		return 2;
	}
	printf("mark %s %.6f\n", argv[1], t);
	return 0;
}
