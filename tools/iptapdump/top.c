// SPDX-License-Identifier: GPL-2.0
/*
 * iptapdump --top: packets and bytes per process and interface, like
 * nethogs.  Bytes are IP bytes (the record without its header).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iptapdump.h"

static uint32_t hash(int32_t pid, const char *comm, const char *ifname)
{
	uint32_t h = 2166136261u ^ (uint32_t)pid;
	const char *s;

	for (s = comm; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (s = ifname; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* Rebuild the index, twice as large as the rows' capacity. */
static int reindex(struct top *t)
{
	size_t size = 2 * t->cap, i, j;
	size_t *idx = malloc(size * sizeof(*idx));

	if (!idx)
		return -1;
	for (i = 0; i < size; i++)
		idx[i] = SIZE_MAX;
	for (i = 0; i < t->n; i++) {
		const struct top_row *row = &t->rows[i];

		j = hash(row->pid, row->comm, row->ifname) & (size - 1);
		while (idx[j] != SIZE_MAX)
			j = (j + 1) & (size - 1);
		idx[j] = i;
	}
	free(t->idx);
	t->idx = idx;
	return 0;
}

static struct top_row *find(struct top *t, const struct rec *r)
{
	struct top_row *row;
	size_t j;

	if (t->cap) {
		j = hash(r->pid, r->comm, r->ifname) & (2 * t->cap - 1);
		for (; t->idx[j] != SIZE_MAX; j = (j + 1) & (2 * t->cap - 1)) {
			row = &t->rows[t->idx[j]];
			if (row->pid == r->pid && !strcmp(row->comm, r->comm) &&
			    !strcmp(row->ifname, r->ifname))
				return row;
		}
	}
	if (t->n == t->cap) {
		size_t old = t->cap, cap = old ? 2 * old : 32;

		row = realloc(t->rows, cap * sizeof(*row));
		if (!row)
			return NULL;
		t->rows = row;
		t->cap = cap;
		if (reindex(t)) {
			t->cap = old;	/* the old index still holds */
			return NULL;
		}
	}
	row = &t->rows[t->n];
	memset(row, 0, sizeof(*row));
	row->pid = r->pid;
	memcpy(row->comm, r->comm, sizeof(row->comm));
	memcpy(row->ifname, r->ifname, sizeof(row->ifname));
	j = hash(r->pid, r->comm, r->ifname) & (2 * t->cap - 1);
	while (t->idx[j] != SIZE_MAX)
		j = (j + 1) & (2 * t->cap - 1);
	t->idx[j] = t->n++;
	return row;
}

int top_add(struct top *t, const struct rec *r)
{
	struct top_row *row = find(t, r);
	int out = rec_dir(r) == 2;

	if (!row)
		return -1;
	row->pkts[out]++;
	row->bytes[out] += r->pktlen;
	t->packets++;
	return 0;
}

static int by_activity(const void *a, const void *b)
{
	const struct top_row *x = *(struct top_row *const *)a;
	const struct top_row *y = *(struct top_row *const *)b;
	uint64_t tx = x->bytes[0] + x->bytes[1], ty = y->bytes[0] + y->bytes[1];

	if (x->rate != y->rate)
		return x->rate < y->rate ? 1 : -1;
	if (tx != ty)
		return tx < ty ? 1 : -1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return strcmp(x->ifname, y->ifname);
}

void top_print(struct top *t, FILE *out, int tty, int height,
	       const char *dev, double interval)
{
	struct top_row **v = NULL;
	size_t i, shown;
	char now[32], proc[4 * IPTAP_COMLEN + 1], ifn[4 * IPTAP_IFNAMSIZ + 1];
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	fmt_time(now, sizeof(now), (uint32_t)ts.tv_sec, 0);
	now[8] = 0;			/* seconds are enough */
	for (i = 0; i < t->n; i++) {
		struct top_row *row = &t->rows[i];
		uint64_t total = row->bytes[0] + row->bytes[1];

		row->rate = total - row->last_bytes;
		row->last_bytes = total;
	}
	if (t->n)
		v = malloc(t->n * sizeof(*v));
	if (v) {
		for (i = 0; i < t->n; i++)
			v[i] = &t->rows[i];
		qsort(v, t->n, sizeof(*v), by_activity);
	}
	if (tty)
		fputs("\033[H\033[2J", out);
	fprintf(out, "iptapdump --top %s at %s: %llu packets, %zu rows\n",
		dev, now, (unsigned long long)t->packets, t->n);
	fprintf(out, "%7s %-16s %-10s %8s %11s %8s %11s %9s\n", "PID",
		"COMMAND", "IFACE", "IN-PKTS", "IN-BYTES", "OUT-PKTS",
		"OUT-BYTES", "KB/s");
	shown = v ? t->n : 0;
	if (tty && height > 3 && shown > (size_t)height - 3)
		shown = (size_t)height - 3;
	for (i = 0; i < shown; i++) {
		const struct top_row *row = v[i];

		if (row->pid == -1 && !row->comm[0])
			snprintf(proc, sizeof(proc), "-");
		else
			fmt_name(proc, sizeof(proc),
				 row->comm[0] ? row->comm : "?");
		fmt_name(ifn, sizeof(ifn), row->ifname[0] ? row->ifname : "-");
		fprintf(out, "%7d %-16s %-10s %8llu %11llu %8llu %11llu %9.1f\n",
			row->pid, proc, ifn,
			(unsigned long long)row->pkts[0],
			(unsigned long long)row->bytes[0],
			(unsigned long long)row->pkts[1],
			(unsigned long long)row->bytes[1],
			interval > 0 ? row->rate / 1024.0 / interval : 0.0);
	}
	if (!tty)
		fputc('\n', out);
	fflush(out);
	free(v);
}

void top_free(struct top *t)
{
	free(t->rows);
	free(t->idx);
	t->rows = NULL;
	t->idx = NULL;
	t->n = t->cap = 0;
}
