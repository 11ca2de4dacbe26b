// SPDX-License-Identifier: GPL-2.0
/*
 * iptapdump: capture from an iptap device, for users of stock libpcap
 * and tcpdump, which open iptap devices as cooked captures.
 *
 * Reads the device through a TPACKET_V3 ring, filters in the kernel
 * (a tcpdump expression on the inner IP packet, and the PKTAP header's
 * process, interface and direction) and prints one line per packet,
 * writes a pcap file of LINKTYPE_PKTAP or a pcapng file with Apple's
 * process blocks, or shows a table per process.  Reads PKTAP files too.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_packet.h>
#include <pcap/pcap.h>

#include "iptapdump.h"

#define DEFAULT_DEV	"iptap0"
#define DEFAULT_BUF	8			/* MiB of ring */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [-i DEV | -r FILE] [-c COUNT] [-w FILE|-] [-P] [-q] [-e] [-d]\n"
"                 [-B MIB] [--pid PID] [--comm NAME] [--uid UID]\n"
"                 [--cgroup PATH] [--in] [--out] [--if IFNAME] [--top]\n"
"                 [EXPRESSION]\n"
"\n"
"Capture from an iptap device (default " DEFAULT_DEV ").\n"
"\n"
"  -i DEV         the iptap device to read\n"
"  -r FILE        read the PKTAP records of a pcap or pcapng file\n"
"                 (\"-\": standard input) instead of a device\n"
"  -c COUNT       stop after COUNT packets\n"
"  -w FILE        write a pcap file (LINKTYPE_PKTAP) instead of text;\n"
"                 \"-\" writes it to standard output\n"
"  -P, --pcapng   with -w: write pcapng, an interface per real interface,\n"
"                 the processes in Apple's process blocks (Wireshark's\n"
"                 frame.darwin.process_info fields)\n"
"  -q             quick output: shorter lines, less protocol detail\n"
"  -e             also print the owner and the cgroup of each packet's\n"
"                 socket\n"
"  -d             print the kernel filter program and exit\n"
"  -B MIB         size of the receive ring in MiB (default %d)\n"
"  --pid PID      only packets of process PID (or of sockets it created);\n"
"                 -1: packets of no known process\n"
"  --comm NAME    only packets of processes named NAME (or of sockets\n"
"                 such a process created)\n"
"  --uid UID      only packets of sockets that user owns\n"
"  --cgroup PATH  only packets of sockets in the cgroup v2 PATH, as\n"
"                 /proc/PID/cgroup shows it, or in the cgroups below it\n"
"                 as they are when the capture starts\n"
"  --in, --out    only received, only sent packets\n"
"  --if IFNAME    only packets of the real interface IFNAME\n"
"  --top          a table of packets and bytes per process and interface,\n"
"                 refreshed every second\n"
"  EXPRESSION     a tcpdump filter on the IP packet (pcap-filter(7))\n"
"\n"
"--pid, --comm, --uid, --cgroup and --if may be repeated (any of the\n"
"values matches).\n"
"Ctrl-C stops the capture and prints the packets captured and dropped.\n",
		DEFAULT_BUF);
}

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

__attribute__((format(printf, 1, 2), noreturn))
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(" PROG " -h for help)\n", stderr);
	exit(2);
}

static unsigned long parse_ulong(const char *arg, const char *what,
				 unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || !v || v > max)
		usage_error("bad %s \"%s\"", what, arg);
	return v;
}

/* The remaining arguments, joined by spaces, as tcpdump does. */
static char *join(char **argv, int argc)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		die("out of memory");
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

struct opts {
	const char *dev, *wfile, *rfile;
	unsigned long count;
	size_t bufsize;
	int quick, ext, dump, top, pcapng;
	struct meta meta;
	char *expr;
};

struct state {
	struct opts *o;
	struct ring ring;
	pcap_t *file;			/* -r */
	struct filter filter;		/* applied here to -r's records */
	struct pcapw w;
	struct ngw ng;
	struct top top;
	int tty;
	enum { OUT_TEXT, OUT_PCAP, OUT_PCAPNG } writing;
	unsigned long long captured;
	unsigned long long unfiltered;	/* -r: records the filters cannot read */
	int out_error;			/* errno of a failed write */
	int interrupted;		/* a write was cut by a signal */
	char line[1024];
};

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int term_height(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || !ws.ws_row)
		return 24;
	return ws.ws_row;
}

/*
 * A write failed: a signal that cut it ends the capture quietly (the
 * output may be a pipe nobody reads), anything else is an error.
 */
static void out_failed(struct state *s)
{
	if (errno == EINTR)
		s->interrupted = 1;
	else if (!s->out_error)
		s->out_error = errno ? errno : EIO;
}

/*
 * One record, of the ring or of a file: write it, count it or print it.
 * dir: its direction when the header has none (the ring's packet type).
 */
static void handle_record(struct state *s, const uint8_t *data,
			  uint32_t caplen, uint32_t len, uint32_t sec,
			  uint32_t usec, uint32_t dir)
{
	struct rec r;
	int ok;

	s->captured++;
	if (s->writing == OUT_PCAP &&
	    pcapw_write(&s->w, sec, usec, data, caplen, len))
		out_failed(s);
	if (s->writing == OUT_PCAP && !s->o->top)
		return;
	ok = !rec_parse(data, caplen, len, &r);
	r.sec = sec;
	r.usec = usec;
	if (ok && !rec_dir(&r))
		r.flags = dir;
	if (s->writing == OUT_PCAPNG &&
	    (ok && rec_is_ip(&r) ? ngw_write(&s->ng, &r) :
		  ngw_write_record(&s->ng, sec, usec, data, caplen, len)))
		out_failed(s);
	if (s->o->top) {
		if (ok && top_add(&s->top, &r))
			die("out of memory");
		return;
	}
	if (s->writing)
		return;
	if (ok) {
		fmt_record(s->line, sizeof(s->line), &r, s->o->quick,
			   s->o->ext);
	} else {
		char t[32];

		fmt_time(t, sizeof(t), sec, usec);
		snprintf(s->line, sizeof(s->line),
			 "%s ? [not a PKTAP record, %u bytes]", t, caplen);
	}
	if (puts(s->line) == EOF)
		out_failed(s);
}

static void handle(struct state *s, const struct tpacket3_hdr *h)
{
	const struct sockaddr_ll *sll = (const void *)((const uint8_t *)h +
		TPACKET_ALIGN(sizeof(struct tpacket3_hdr)));

	/* No direction in the header: the packet type tells it. */
	handle_record(s, (const uint8_t *)h + h->tp_mac, h->tp_snaplen,
		      h->tp_len, h->tp_sec, h->tp_nsec / 1000,
		      sll->sll_pkttype == PACKET_OUTGOING ?
		      IPTAP_PTH_FLAG_DIR_OUT : IPTAP_PTH_FLAG_DIR_IN);
}

static void parse(struct opts *o, int argc, char **argv)
{
	enum { OPT_PID = 256, OPT_COMM, OPT_UID, OPT_CGROUP, OPT_IN, OPT_OUT,
	       OPT_IF, OPT_TOP };
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, OPT_PID },
		{ "comm", required_argument, NULL, OPT_COMM },
		{ "uid", required_argument, NULL, OPT_UID },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "in", no_argument, NULL, OPT_IN },
		{ "out", no_argument, NULL, OPT_OUT },
		{ "if", required_argument, NULL, OPT_IF },
		{ "top", no_argument, NULL, OPT_TOP },
		{ "pcapng", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[256];
	int c;

	memset(o, 0, sizeof(*o));
	o->dev = DEFAULT_DEV;
	o->bufsize = (size_t)DEFAULT_BUF << 20;
	/* Options may follow the expression, as with tcpdump; "--" ends them. */
	while ((c = getopt_long(argc, argv, "i:r:c:w:PqedB:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'i':
			o->dev = optarg;
			break;
		case 'c':
			o->count = parse_ulong(optarg, "count", ULONG_MAX);
			break;
		case 'r':
			o->rfile = optarg;
			break;
		case 'w':
			o->wfile = optarg;
			break;
		case 'P':
			o->pcapng = 1;
			break;
		case 'q':
			o->quick = 1;
			break;
		case 'e':
			o->ext = 1;
			break;
		case 'd':
			o->dump = 1;
			break;
		case 'B':
			o->bufsize = parse_ulong(optarg, "ring size", 4096) << 20;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_PID:
			if (meta_add_pid(&o->meta, optarg, err, sizeof(err)))
				usage_error("%s", err);
			break;
		case OPT_COMM:
			if (meta_add_comm(&o->meta, optarg, err, sizeof(err)))
				usage_error("%s", err);
			break;
		case OPT_UID:
			if (meta_add_uid(&o->meta, optarg, err, sizeof(err)))
				usage_error("%s", err);
			break;
		case OPT_CGROUP:
			if (meta_add_cgroup(&o->meta, optarg, err, sizeof(err)))
				usage_error("%s", err);
			break;
		case OPT_IN:
			o->meta.dirs |= IPTAP_PTH_FLAG_DIR_IN;
			break;
		case OPT_OUT:
			o->meta.dirs |= IPTAP_PTH_FLAG_DIR_OUT;
			break;
		case OPT_IF:
			if (meta_add_ifname(&o->meta, optarg, err, sizeof(err)))
				usage_error("%s", err);
			break;
		case OPT_TOP:
			o->top = 1;
			break;
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (o->top && o->wfile && !strcmp(o->wfile, "-"))
		usage_error("--top and -w - both want standard output");
	if (o->pcapng && !o->wfile)
		usage_error("-P writes pcapng with -w only");
	o->expr = join(argv + optind, argc - optind);
}

/* SIGALRM every second (on), or no more (off). */
static void tick(int on)
{
	struct itimerval it = {
		.it_interval = { on, 0 },
		.it_value = { on, 0 },
	};

	setitimer(ITIMER_REAL, &it, NULL);
}

/* Print the table when its second has come; the ms until the next. */
static int top_tick(struct state *s, double *next, double *last)
{
	double now = now_mono();

	if (now >= *next) {
		top_print(&s->top, stdout, s->tty, term_height(), s->o->dev,
			  now - *last);
		*last = now;
		while (*next <= now)
			*next += 1.0;
	}
	return (int)((*next - now) * 1000) + 1;
}

static int flush_output(struct state *s)
{
	switch (s->writing) {
	case OUT_PCAP:
		return pcapw_flush(&s->w);
	case OUT_PCAPNG:
		return ngw_flush(&s->ng);
	default:
		return fflush(stdout) ? -1 : 0;
	}
}

/* Hand a block's records over; 1 when the capture is done. */
static int do_block(struct state *s, struct tpacket_block_desc *bd)
{
	const struct tpacket3_hdr *h;
	uint32_t i, n = bd->hdr.bh1.num_pkts;
	int done = 0;

	h = (const void *)((const uint8_t *)bd +
			   bd->hdr.bh1.offset_to_first_pkt);
	for (i = 0; i < n; i++) {
		handle(s, h);
		if ((s->o->count && s->captured >= s->o->count) ||
		    s->out_error || s->interrupted) {
			done = 1;
			break;
		}
		h = (const void *)((const uint8_t *)h + h->tp_next_offset);
	}
	ring_release(&s->ring);
	if (flush_output(s))
		out_failed(s);
	return done || s->out_error || s->interrupted;
}

/*
 * Wait for the ring, the socket's error, a signal or a timeout (ms, -1
 * none).  Signals are blocked only here, so that one that comes before
 * ppoll() starts still ends its wait, and a write blocked on a full
 * pipe is interrupted too.  -1 with a message on a socket error.
 */
static int wait_ring(struct state *s, int tmo)
{
	struct pollfd pfd = { .fd = s->ring.fd, .events = POLLIN };
	struct timespec ts = { tmo / 1000, (tmo % 1000) * 1000000L };
	sigset_t block, orig;
	int e = 0, n;
	socklen_t len = sizeof(e);

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	n = got_signal ? 0 : ppoll(&pfd, 1, tmo < 0 ? NULL : &ts, &orig);
	if (n < 0 && errno != EINTR)
		die("poll: %s", strerror(errno));
	sigprocmask(SIG_SETMASK, &orig, NULL);
	if (n <= 0 || !(pfd.revents & POLLERR))
		return 0;
	getsockopt(s->ring.fd, SOL_SOCKET, SO_ERROR, &e, &len);
	if (!e)
		return 0;
	if (e == ENETDOWN)
		fprintf(stderr, PROG ": %s went down or away\n", s->o->dev);
	else
		fprintf(stderr, PROG ": %s: %s\n", s->o->dev, strerror(e));
	return -1;
}

static void open_output(struct state *s)
{
	const struct opts *o = s->o;
	int rc;

	if (!o->wfile)
		return;
	if (o->pcapng)
		rc = ngw_open(&s->ng, o->wfile, o->rfile ? o->rfile : o->dev,
			      !o->rfile);
	else
		rc = pcapw_open(&s->w, o->wfile);
	if (rc)
		die("%s: %s", o->wfile, strerror(errno));
	s->writing = o->pcapng ? OUT_PCAPNG : OUT_PCAP;
}

/* Open the ring on the device, with filter @f, and the output file. */
static void open_capture(struct state *s, const struct filter *f)
{
	const struct opts *o = s->o;
	char err[512];

	switch (dev_check(o->dev)) {
	case DEV_NONE:
		die("%s: no such device", o->dev);
	case DEV_NOT_IPTAP:
		die("%s: not an iptap device (no /sys/class/net/%s/iptap)",
		    o->dev, o->dev);
	case DEV_RAW:
		die("%s: an iptap device in raw mode: its packets come without "
		    "PKTAP header (capture it with tcpdump)", o->dev);
	default:
		break;
	}
	if (ring_open(&s->ring, o->dev, o->bufsize, f, err, sizeof(err)))
		die("%s", err);
	open_output(s);
}

/*
 * -r: the file's records that pass filter @f (kept: the kernel is not
 * there to run it), written or printed as a capture's would be.  The
 * filters read iptap's layout (header, extension, AF word, packet), so
 * with a filter, records of another layout (macOS's) are left out and
 * counted.
 */
static int read_file(struct state *s, struct filter *f)
{
	const struct opts *o = s->o;
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	s->file = pcap_open_offline(o->rfile, err);
	if (!s->file)
		die("%s", err);
	if (pcap_datalink(s->file) != IPTAP_LINKTYPE_PKTAP)
		die("%s: link type %d, not PKTAP (%d)", o->rfile,
		    pcap_datalink(s->file), IPTAP_LINKTYPE_PKTAP);
	s->filter = *f;
	f->insns = NULL;
	open_output(s);
	while ((rc = pcap_next_ex(s->file, &h, &data)) == 1) {
		struct rec r;

		if (s->filter.len) {
			if (rec_parse(data, h->caplen, h->len, &r) ||
			    !rec_iptap_layout(&r)) {
				s->unfiltered++;
				continue;
			}
			if (!filter_run(&s->filter, data, h->len, h->caplen))
				continue;
		}
		handle_record(s, data, h->caplen, h->len,
			      (uint32_t)h->ts.tv_sec, (uint32_t)h->ts.tv_usec,
			      0);
		if ((o->count && s->captured >= o->count) || s->out_error ||
		    s->interrupted || got_signal)
			return 0;
	}
	/* A signal that cut a read of a pipe ends it as at its end. */
	if (rc == PCAP_ERROR && !got_signal) {
		fprintf(stderr, PROG ": %s: %s\n", o->rfile,
			pcap_geterr(s->file));
		return 1;
	}
	return 0;
}

static void set_signals(void)
{
	struct sigaction sa;

	/* No SA_RESTART: a signal interrupts a blocked write too. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/*
 * Read blocks until a signal, the packet count or an error (1).  @last
 * and @next are the --top display's times.
 */
static int capture(struct state *s, double *last, double *next, int *done)
{
	struct tpacket_block_desc *bd;
	int top = s->o->top;

	while (!*done && !got_signal) {
		bd = ring_block(&s->ring);
		if (bd) {
			*done = do_block(s, bd);
		} else if (wait_ring(s, top ? top_tick(s, next, last) : -1)) {
			return 1;
		}
		if (top && !*done)
			top_tick(s, next, last);
	}
	return 0;
}

/*
 * Stopped by a signal: the kernel hands a partly filled block over after
 * its timeout, so wait for that once to keep what came before Ctrl-C.  A
 * second Ctrl-C, or a second passing, cuts the rest short; from then on a
 * SIGALRM a second interrupts any write blocked on a pipe nobody reads,
 * so the end never hangs.
 */
static void drain(struct state *s, int *done)
{
	struct tpacket_block_desc *bd;
	int waited = 0;
	unsigned int k;

	got_signal = 0;
	tick(1);
	for (k = 0; k <= s->ring.block_nr && !*done && !got_signal; k++) {
		bd = ring_block(&s->ring);
		if (bd) {
			*done = do_block(s, bd);
			continue;
		}
		if (waited || wait_ring(s, 2 * BLOCK_TIMEOUT_MS))
			break;
		waited = 1;
	}
}

/* Flush and close the outputs, and report; 1 if an output failed. */
static int finish(struct state *s, double last)
{
	const struct opts *o = s->o;
	int rc = 0;

	/*
	 * A write cut by a signal may be blocked on a pipe nobody reads:
	 * drop what is pending rather than block again (here, or in exit()).
	 */
	if (s->interrupted) {
		__fpurge(stdout);
		if (s->writing)
			__fpurge(s->writing == OUT_PCAP ? s->w.f : s->ng.f);
	}
	if (o->top && !s->out_error && !s->interrupted)
		top_print(&s->top, stdout, s->tty, term_height(),
			  o->rfile ? o->rfile : o->dev, now_mono() - last);
	if ((s->writing == OUT_PCAP && pcapw_close(&s->w)) ||
	    (s->writing == OUT_PCAPNG && ngw_close(&s->ng)))
		out_failed(s);
	if (fflush(stdout))
		out_failed(s);
	tick(0);
	if (s->interrupted)
		__fpurge(stdout);
	if (s->out_error && s->out_error != EPIPE) {
		fprintf(stderr, PROG ": %s: %s\n",
			s->writing && o->wfile ? o->wfile : "standard output",
			strerror(s->out_error));
		rc = 1;
	}
	if (o->rfile) {
		fprintf(stderr, PROG ": %llu packets read\n", s->captured);
		if (s->unfiltered)
			fprintf(stderr, PROG ": %llu records left out: not "
				"iptap's layout, which the filters read\n",
				s->unfiltered);
		return rc;
	}
	ring_stats(&s->ring);
	fprintf(stderr, PROG ": %llu packets captured, %llu dropped by kernel\n",
		s->captured, (unsigned long long)s->ring.drops);
	return rc;
}

int main(int argc, char **argv)
{
	struct state s = { 0 };
	struct filter f;
	struct opts o;
	char err[512];
	double next = 0, last = 0;
	int rc, done = 0;

	parse(&o, argc, argv);
	s.o = &o;

	if (filter_build(o.expr, &o.meta, &f, err, sizeof(err)))
		die("bad filter expression \"%s\": %s", o.expr, err);
	if (o.dump) {
		filter_dump(&f, stdout);
		filter_free(&f);
		free(o.expr);
		return 0;
	}
	set_signals();
	s.tty = isatty(STDOUT_FILENO);
	if (o.rfile) {
		last = now_mono();
		rc = read_file(&s, &f);
		if (finish(&s, last))
			rc = 1;
		pcap_close(s.file);
		filter_free(&s.filter);
		top_free(&s.top);
		free(o.expr);
		return rc;
	}
	open_capture(&s, &f);
	filter_free(&f);

	fprintf(stderr, PROG ": listening on %s, link-type PKTAP (%d), "
		"snapshot length %u bytes\n", o.dev, IPTAP_LINKTYPE_PKTAP,
		SNAPLEN);
	if (o.top) {
		last = now_mono();
		next = last + 1.0;
	}
	rc = capture(&s, &last, &next, &done);
	if (got_signal && !done && !rc)
		drain(&s, &done);
	if (finish(&s, last))
		rc = 1;
	ring_close(&s.ring);
	top_free(&s.top);
	free(o.expr);
	return rc;
}
