// SPDX-License-Identifier: GPL-2.0
/*
 * iptapdump: the socket filter of a capture.
 *
 * A tcpdump expression is compiled by libpcap for raw IP (DLT_RAW, so
 * the version nibble tells IPv4 from IPv6 and one program serves both)
 * and then moved past the 176 bytes of PKTAP header, iptap's extension
 * and AF word that precede the IP packet in a record:
 *
 *   ld/ldh/ldb [k]        k + 176
 *   ld/ldh/ldb [x + k]    k + 176 (x holds an offset into the packet)
 *   ldxb 4*([k]&0xf)      k + 176
 *   ld #pktlen            followed by "sub #176"
 *   ldx #pktlen           the same, through A and a free scratch word
 *   ret #k                k + 176 (the header is kept too), 0 stays 0
 *   ret a                 a + 176 unless a is 0
 *
 * and jumps are recomputed around the instructions that grew.  The
 * metadata options (--pid, --comm, --uid, --cgroup, --in/--out, --if)
 * become checks of the header's fields put in front of it, so the
 * kernel drops what they exclude before it reaches the ring.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <pcap/bpf.h>

#include "iptapdump.h"

#define MAXINSNS 4096			/* the kernel's BPF_MAXINSNS */

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void filter_free(struct filter *f)
{
	free(f->insns);
	f->insns = NULL;
	f->len = 0;
}

int filter_compile(const char *expr, struct filter *out, char *err,
		   size_t errlen)
{
	struct bpf_program prog;
	pcap_t *p;

	out->insns = NULL;
	out->len = 0;
	p = pcap_open_dead(DLT_RAW, (int)SNAPLEN);
	if (!p)
		return fail(err, errlen, "pcap_open_dead failed");
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		fail(err, errlen, "%s", pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	out->insns = calloc(prog.bf_len ? prog.bf_len : 1,
			    sizeof(*out->insns));
	if (!out->insns) {
		pcap_freecode(&prog);
		return fail(err, errlen, "out of memory");
	}
	memcpy(out->insns, prog.bf_insns, prog.bf_len * sizeof(*out->insns));
	out->len = prog.bf_len;
	pcap_freecode(&prog);
	return 0;
}

static int is_jump(const struct bpf_insn *i)
{
	return BPF_CLASS(i->code) == BPF_JMP;
}

/* How many instructions the rewrite of i takes. */
static unsigned int grown(const struct bpf_insn *i)
{
	switch (i->code) {
	case BPF_LD | BPF_W | BPF_LEN:
		return 2;
	case BPF_LDX | BPF_W | BPF_LEN:
		return 5;
	case BPF_RET | BPF_A:
		return 6;
	default:
		return 1;
	}
}

static struct bpf_insn insn(uint16_t code, uint8_t jt, uint8_t jf,
			    uint32_t k)
{
	struct bpf_insn i = { .code = code, .jt = jt, .jf = jf, .k = k };

	return i;
}

/* Is an absolute load at k+off still a plain packet offset? */
static int abs_ok(uint32_t k, uint32_t off)
{
	return k < 0x80000000u && k + off < 0x80000000u;
}

/*
 * A scratch word the program does not use, in *scratch (BPF_MEMWORDS if
 * it uses all of them); fails on loads from the kernel's special offsets
 * (SKF_AD_OFF and the like), which no shift can keep meaning the same.
 */
static int check_program(const struct filter *in, unsigned int *scratch,
			 char *err, size_t errlen)
{
	unsigned int i, used = 0;

	*scratch = BPF_MEMWORDS;
	for (i = 0; i < in->len; i++) {
		const struct bpf_insn *f = &in->insns[i];

		if ((f->code == (BPF_ST) || f->code == (BPF_STX) ||
		     f->code == (BPF_LD | BPF_MEM) ||
		     f->code == (BPF_LDX | BPF_MEM)) && f->k < BPF_MEMWORDS)
			used |= 1u << f->k;
		if (((BPF_CLASS(f->code) == BPF_LD &&
		      BPF_MODE(f->code) == BPF_ABS) ||
		     f->code == (BPF_LDX | BPF_B | BPF_MSH)) &&
		    f->k >= 0x80000000u)
			return fail(err, errlen, "the filter uses the kernel's "
				    "special offsets, which cannot be moved");
	}
	for (i = 0; i < BPF_MEMWORDS; i++)
		if (!(used & (1u << i))) {
			*scratch = i;
			break;
		}
	return 0;
}

/*
 * Where each instruction of @in lands in the rewritten program: pos[i],
 * and pos[len] is the new length.  NULL when out of memory.
 */
static unsigned int *layout(const struct filter *in)
{
	unsigned int *pos, i, total = 0;

	pos = calloc(in->len + 1, sizeof(*pos));
	if (!pos)
		return NULL;
	for (i = 0; i < in->len; i++) {
		pos[i] = total;
		total += grown(&in->insns[i]);
	}
	pos[in->len] = total;
	return pos;
}

/* Jump @w, instruction @i of @in, to where its targets landed. */
static int relocate_jump(const struct filter *in, unsigned int i,
			 const unsigned int *pos, struct bpf_insn *w,
			 char *err, size_t errlen)
{
	const struct bpf_insn *f = &in->insns[i];
	unsigned int here = pos[i] + 1, n = in->len, t, e;

	if (BPF_OP(f->code) == BPF_JA) {
		if (f->k >= n - i - 1)
			goto bad_jump;
		w->k = pos[i + 1 + f->k] - here;
		return 0;
	}
	t = i + 1 + f->jt;
	e = i + 1 + f->jf;
	if (t >= n || e >= n)
		goto bad_jump;
	if (pos[t] - here > 255 || pos[e] - here > 255)
		return fail(err, errlen, "filter too long: a jump cannot "
			    "reach past the rewritten instructions");
	w->jt = (uint8_t)(pos[t] - here);
	w->jf = (uint8_t)(pos[e] - here);
	return 0;

bad_jump:
	if (BPF_OP(f->code) == BPF_JA && f->k >= 0x80000000u)
		return fail(err, errlen, "the program jumps backwards (as "
			    "\"protochain\" does), which kernel filters "
			    "cannot");
	return fail(err, errlen, "bad program: jump out of range at %u", i);
}

/*
 * Write the rewrite of @f, which is not a jump, at @w: grown(f)
 * instructions that do what @f did on a packet @off bytes further on.
 */
static int rewrite_insn(const struct bpf_insn *f, uint32_t off,
			unsigned int scratch, struct bpf_insn *w,
			char *err, size_t errlen)
{
	uint32_t k = f->k;

	*w = *f;
	switch (f->code) {
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
	case BPF_LDX | BPF_B | BPF_MSH:
		/*
		 * Past 2 GiB it would turn into a special offset; it could
		 * never load anything, so neither may it.
		 */
		if (abs_ok(k, off))
			w->k = k + off;
		else
			*w = insn(BPF_RET | BPF_K, 0, 0, 0);
		break;
	case BPF_LD | BPF_W | BPF_IND:
	case BPF_LD | BPF_H | BPF_IND:
	case BPF_LD | BPF_B | BPF_IND:
		w->k = k + off;		/* x + k, modulo 2^32 */
		break;
	case BPF_LD | BPF_W | BPF_LEN:
		w[1] = insn(BPF_ALU | BPF_SUB | BPF_K, 0, 0, off);
		break;
	case BPF_LDX | BPF_W | BPF_LEN:
		if (scratch >= BPF_MEMWORDS)
			return fail(err, errlen, "filter uses every scratch "
				    "word, cannot rewrite \"ldx #pktlen\"");
		w[0] = insn(BPF_ST, 0, 0, scratch);
		w[1] = insn(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0);
		w[2] = insn(BPF_ALU | BPF_SUB | BPF_K, 0, 0, off);
		w[3] = insn(BPF_MISC | BPF_TAX, 0, 0, 0);
		w[4] = insn(BPF_LD | BPF_MEM, 0, 0, scratch);
		break;
	case BPF_RET | BPF_K:
		if (k)
			w->k = k > UINT32_MAX - off ? UINT32_MAX : k + off;
		break;
	case BPF_RET | BPF_A:
		w[0] = insn(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 0);
		w[1] = insn(BPF_JMP | BPF_JGT | BPF_K, 2, 0, UINT32_MAX - off);
		w[2] = insn(BPF_ALU | BPF_ADD | BPF_K, 0, 0, off);
		w[3] = insn(BPF_RET | BPF_A, 0, 0, 0);
		w[4] = insn(BPF_RET | BPF_K, 0, 0, UINT32_MAX);
		w[5] = insn(BPF_RET | BPF_K, 0, 0, 0);
		break;
	default:
		break;
	}
	return 0;
}

int filter_offset(const struct filter *in, uint32_t off, struct filter *out,
		  char *err, size_t errlen)
{
	unsigned int *pos, i, total, scratch;
	struct bpf_insn *o = NULL;
	int ret = -1;

	out->insns = NULL;
	out->len = 0;
	if (!in->len)
		return fail(err, errlen, "empty program");
	if (check_program(in, &scratch, err, errlen))
		return -1;
	pos = layout(in);
	if (!pos)
		return fail(err, errlen, "out of memory");
	total = pos[in->len];
	if (total > MAXINSNS) {
		fail(err, errlen, "filter too long (%u instructions)", total);
		goto out;
	}
	o = calloc(total, sizeof(*o));
	if (!o) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < in->len; i++) {
		const struct bpf_insn *f = &in->insns[i];
		struct bpf_insn *w = &o[pos[i]];

		if (is_jump(f)) {
			*w = *f;
			ret = relocate_jump(in, i, pos, w, err, errlen);
		} else {
			ret = rewrite_insn(f, off, scratch, w, err, errlen);
		}
		if (ret)
			goto out;
	}
	out->insns = o;
	out->len = total;
	o = NULL;
	ret = 0;
out:
	free(o);
	free(pos);
	return ret;
}

/* A growing program, for the metadata checks. */
struct prog {
	struct bpf_insn *v;
	unsigned int n, cap;
	int oom;
};

static unsigned int emit(struct prog *p, uint16_t code, uint8_t jt,
			 uint8_t jf, uint32_t k)
{
	if (p->n == p->cap) {
		unsigned int cap = p->cap ? 2 * p->cap : 64;
		struct bpf_insn *v = realloc(p->v, cap * sizeof(*v));

		if (!v) {
			p->oom = 1;
			return p->n;
		}
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n] = insn(code, jt, jf, k);
	return p->n++;
}

/* One field compare: (load size at off) & mask == val. */
struct check {
	uint16_t size;			/* BPF_W or BPF_B */
	uint32_t off, mask, val;
};

#define ALT_MAX 8			/* checks per alternative */

struct alt {
	struct check c[ALT_MAX];
	unsigned int n;
};

static void alt_add(struct alt *a, uint16_t size, uint32_t off,
		    uint32_t mask, uint32_t val)
{
	a->c[a->n].size = size;
	a->c[a->n].off = off;
	a->c[a->n].mask = mask;
	a->c[a->n].val = val;
	a->n++;
}

/* Compare a fixed-size, zero-padded field of len bytes with s. */
static void alt_field(struct alt *a, uint32_t off, const char *s,
		      size_t len)
{
	uint8_t buf[IPTAP_IFNAMSIZ] = { 0 };
	size_t i;

	memcpy(buf, s, strnlen(s, len));
	for (i = 0; i + 4 <= len; i += 4)
		alt_add(a, BPF_W, off + (uint32_t)i, 0, get_be32(buf + i));
	for (; i < len; i++)
		alt_add(a, BPF_B, off + (uint32_t)i, 0, buf[i]);
}

/*
 * A category passes when any of its alternatives does, an alternative
 * when all its checks do.  Failing a category jumps to a "ret #0" put
 * after the last category; the reject jumps are recorded in rej.
 */
static int emit_category(struct prog *p, const struct alt *alts,
			 unsigned int nalts, unsigned int *rej,
			 unsigned int *nrej, char *err, size_t errlen)
{
	unsigned int pass[2 * META_MAX], npass = 0, a, c;

	for (a = 0; a < nalts; a++) {
		unsigned int fails[ALT_MAX], nfails = 0;

		for (c = 0; c < alts[a].n; c++) {
			const struct check *k = &alts[a].c[c];

			emit(p, BPF_LD | k->size | BPF_ABS, 0, 0, k->off);
			if (k->mask)
				emit(p, BPF_ALU | BPF_AND | BPF_K, 0, 0,
				     k->mask);
			fails[nfails++] = emit(p, BPF_JMP | BPF_JEQ | BPF_K,
					       0, 0, k->val);
		}
		pass[npass++] = emit(p, BPF_JMP | BPF_JA, 0, 0, 0);
		if (p->oom)
			return fail(err, errlen, "out of memory");
		for (c = 0; c < nfails; c++) {
			unsigned int d = p->n - fails[c] - 1;

			if (d > 255)
				return fail(err, errlen, "metadata filter "
					    "too long");
			p->v[fails[c]].jf = (uint8_t)d;
		}
	}
	rej[(*nrej)++] = emit(p, BPF_JMP | BPF_JA, 0, 0, 0);
	if (p->oom)
		return fail(err, errlen, "out of memory");
	for (c = 0; c < npass; c++)
		p->v[pass[c]].k = p->n - pass[c] - 1;
	return 0;
}

#define PID_OFF		52
#define COMM_OFF	56
#define EPID_OFF	84
#define ECOMM_OFF	88
#define IFNAME_OFF	12
#define FLAGS_OFF	36
#define CGROUP_OFF	160
#define UID_OFF		168

static uint32_t le_word(int32_t v)
{
	/* A little-endian field, as a big-endian "ld [k]" sees it. */
	return __builtin_bswap32((uint32_t)v);
}

int filter_meta(const struct meta *m, struct filter *out, char *err,
		size_t errlen)
{
	struct alt alts[2 * META_MAX];
	unsigned int rej[4], nrej = 0, i, n;
	struct prog p = { 0 };
	int j;

	out->insns = NULL;
	out->len = 0;
	/* --pid: the process or the socket's creator. */
	if (m->npids) {
		memset(alts, 0, sizeof(alts));
		for (j = 0, n = 0; j < m->npids; j++) {
			alt_add(&alts[n++], BPF_W, PID_OFF, 0,
				le_word(m->pids[j]));
			alt_add(&alts[n++], BPF_W, EPID_OFF, 0,
				le_word(m->pids[j]));
		}
		if (emit_category(&p, alts, n, rej, &nrej, err, errlen))
			goto out;
	}
	if (m->ncomms) {
		memset(alts, 0, sizeof(alts));
		for (j = 0, n = 0; j < m->ncomms; j++) {
			alt_field(&alts[n++], COMM_OFF, m->comms[j],
				  IPTAP_COMLEN);
			alt_field(&alts[n++], ECOMM_OFF, m->comms[j],
				  IPTAP_COMLEN);
		}
		if (emit_category(&p, alts, n, rej, &nrej, err, errlen))
			goto out;
	}
	if (m->nifnames) {
		memset(alts, 0, sizeof(alts));
		for (j = 0, n = 0; j < m->nifnames; j++)
			alt_field(&alts[n++], IFNAME_OFF, m->ifnames[j],
				  IPTAP_IFNAMSIZ);
		if (emit_category(&p, alts, n, rej, &nrej, err, errlen))
			goto out;
	}
	/* --uid: the socket's owner. */
	if (m->nuids) {
		memset(alts, 0, sizeof(alts));
		for (j = 0; j < m->nuids; j++)
			alt_add(&alts[j], BPF_W, UID_OFF, 0,
				le_word((int32_t)m->uids[j]));
		if (emit_category(&p, alts, m->nuids, rej, &nrej, err, errlen))
			goto out;
	}
	/* --cgroup: the socket's cgroup, one of those listed. */
	if (m->ncgroups) {
		memset(alts, 0, sizeof(alts));
		for (j = 0; j < m->ncgroups; j++) {
			alt_add(&alts[j], BPF_W, CGROUP_OFF, 0,
				le_word((int32_t)m->cgroups[j]));
			alt_add(&alts[j], BPF_W, CGROUP_OFF + 4, 0,
				le_word((int32_t)(m->cgroups[j] >> 32)));
		}
		if (emit_category(&p, alts, m->ncgroups, rej, &nrej, err,
				  errlen))
			goto out;
	}
	if (m->dirs && m->dirs != (IPTAP_PTH_FLAG_DIR_IN |
				   IPTAP_PTH_FLAG_DIR_OUT)) {
		memset(alts, 0, sizeof(alts));
		/* The flags' low byte is the first: little-endian. */
		alt_add(&alts[0], BPF_B, FLAGS_OFF, m->dirs, m->dirs);
		if (emit_category(&p, alts, 1, rej, &nrej, err, errlen))
			goto out;
	}
	if (!p.n)
		return 0;
	/* Every category passed: skip the reject. */
	emit(&p, BPF_JMP | BPF_JA, 0, 0, 1);
	i = emit(&p, BPF_RET | BPF_K, 0, 0, 0);
	if (p.oom) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	for (j = 0; j < (int)nrej; j++)
		p.v[rej[j]].k = i - rej[j] - 1;
	out->insns = p.v;
	out->len = p.n;
	return 0;
out:
	free(p.v);
	return -1;
}

int filter_concat(const struct filter *a, const struct filter *b,
		  struct filter *out)
{
	out->len = a->len + b->len;
	out->insns = calloc(out->len ? out->len : 1, sizeof(*out->insns));
	if (!out->insns) {
		out->len = 0;
		return -1;
	}
	if (a->len)
		memcpy(out->insns, a->insns, a->len * sizeof(*a->insns));
	if (b->len)
		memcpy(out->insns + a->len, b->insns,
		       b->len * sizeof(*b->insns));
	return 0;
}

static int blank(const char *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n')
			return 0;
	return 1;
}

int filter_build(const char *expr, const struct meta *m, struct filter *out,
		 char *err, size_t errlen)
{
	struct filter raw, moved, pre;
	int rc = -1;

	out->insns = NULL;
	out->len = 0;
	if (filter_meta(m, &pre, err, errlen))
		return -1;
	if (blank(expr) && !pre.len)
		return 0;
	if (filter_compile(expr ? expr : "", &raw, err, errlen))
		goto free_pre;
	if (filter_offset(&raw, RECORD_HLEN, &moved, err, errlen))
		goto free_raw;
	if (filter_concat(&pre, &moved, out)) {
		fail(err, errlen, "out of memory");
		goto free_moved;
	}
	if (out->len > MAXINSNS) {
		fail(err, errlen, "filter too long (%u instructions)",
		     out->len);
		filter_free(out);
		goto free_moved;
	}
	if (!bpf_validate(out->insns, (int)out->len)) {
		fail(err, errlen, "the rewritten filter does not validate");
		filter_free(out);
		goto free_moved;
	}
	rc = 0;
free_moved:
	filter_free(&moved);
free_raw:
	filter_free(&raw);
free_pre:
	filter_free(&pre);
	return rc;
}

unsigned int filter_run(const struct filter *f, const uint8_t *buf,
			unsigned int wirelen, unsigned int caplen)
{
	if (!f->len)
		return UINT32_MAX;
	return bpf_filter(f->insns, buf, wirelen, caplen);
}

void filter_dump(const struct filter *f, FILE *out)
{
	unsigned int i;

	if (!f->len) {
		fprintf(out, "(no filter: every record is accepted)\n");
		return;
	}
	for (i = 0; i < f->len; i++)
		fprintf(out, "%s\n", bpf_image(&f->insns[i], (int)i));
}

int meta_add_pid(struct meta *m, const char *arg, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < -1 || v > INT32_MAX)
		return fail(err, errlen, "bad pid \"%s\"", arg);
	if (m->npids == META_MAX)
		return fail(err, errlen, "at most %d --pid", META_MAX);
	m->pids[m->npids++] = (int32_t)v;
	return 0;
}

int meta_add_uid(struct meta *m, const char *arg, char *err, size_t errlen)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v >= UINT32_MAX)
		return fail(err, errlen, "bad uid \"%s\"", arg);
	if (m->nuids == META_MAX)
		return fail(err, errlen, "at most %d --uid", META_MAX);
	m->uids[m->nuids++] = (uint32_t)v;
	return 0;
}

int meta_add_cgroup(struct meta *m, const char *path, char *err,
		    size_t errlen)
{
	int max = 2 * META_MAX - m->ncgroups, n = 0;

	if (path[0] != '/')
		return fail(err, errlen,
			    "a cgroup path starts with /, as /proc/PID/cgroup shows it: \"%s\"",
			    path);
	if (!cgroup_ids(path, m->cgroups + m->ncgroups, max, &n)) {
		m->ncgroups += n;
		return 0;
	}
	if (errno == E2BIG)
		return fail(err, errlen,
			    "%s holds %d cgroups, more than %d: capture on a device made with \"ip link add ... type iptap cgroup %s\"",
			    path, n, max, path);
	return fail(err, errlen, "cgroup %s: %s", path, strerror(errno));
}

/* The kernel keeps 15 characters of a command name (TASK_COMM_LEN 16). */
#define TASK_COMM_MAX 15

int meta_add_comm(struct meta *m, const char *name, char *err, size_t errlen)
{
	if (!name[0])
		return fail(err, errlen, "empty --comm");
	if (m->ncomms == META_MAX)
		return fail(err, errlen, "at most %d --comm", META_MAX);
	memset(m->comms[m->ncomms], 0, IPTAP_COMLEN);
	memcpy(m->comms[m->ncomms], name, strnlen(name, TASK_COMM_MAX));
	m->ncomms++;
	return 0;
}

int meta_add_ifname(struct meta *m, const char *name, char *err,
		    size_t errlen)
{
	if (!name[0] || strlen(name) >= IPTAP_IFNAMSIZ)
		return fail(err, errlen, "bad interface name \"%s\"", name);
	if (m->nifnames == META_MAX)
		return fail(err, errlen, "at most %d --if", META_MAX);
	memset(m->ifnames[m->nifnames], 0, IPTAP_IFNAMSIZ);
	memcpy(m->ifnames[m->nifnames], name, strlen(name));
	m->nifnames++;
	return 0;
}
