// SPDX-License-Identifier: GPL-2.0
/*
 * insncount.so: a QEMU TCG plugin that counts the guest instructions run
 * from each address, between two marks the guest makes (tools/bench/mark.c).
 *
 * perf's cpu-clock samples fall every 1e9/FREQ guest instructions when
 * the guest's clock counts instructions: a fixed stride through a flood
 * that repeats itself, which lands again and again on the same few
 * places of it and misses others.  Counting every translation block's
 * executions has no stride: what a function costs a packet is exact.
 *
 *	qemu-system-x86_64 ... -plugin insncount.so,out=PREFIX
 *
 * At the guest's start mark every count is zeroed; at its stop mark the
 * counts are written to PREFIX.N (N = 1, 2, ... for each stop), one
 * "ADDRESS INSTRUCTIONS" line (hex, decimal) per block that ran, where
 * ADDRESS is the guest's virtual address of the block's first
 * instruction: a block ends at any jump, call or return, so all of its
 * instructions belong to the function that address is in.  A block that
 * an exception leaves part-way counts whole.  One vCPU: the counts are
 * not atomic.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* The guest's marks: "nopl DISP(%rax,%rax,1)" with our displacement. */
#define MARK_START	0x7461700aU
#define MARK_STOP	0x7461700bU
static const unsigned char mark_op[4] = { 0x0f, 0x1f, 0x84, 0x00 };

/* One translation of a block: a block may be translated again. */
struct block {
	uint64_t vaddr;
	uint64_t runs;
	uint64_t insns;
	struct block *next;
};

static struct block *blocks;
static const char *prefix;
static unsigned int windows;

static void write_counts(void)
{
	char path[4096];
	struct block *b;
	FILE *f;

	snprintf(path, sizeof(path), "%s.%u", prefix, ++windows);
	f = fopen(path, "w");
	if (!f) {
		qemu_plugin_outs("insncount: cannot write the counts\n");
		return;
	}
	for (b = blocks; b; b = b->next)
		if (b->runs)
			fprintf(f, "%" PRIx64 " %" PRIu64 "\n", b->vaddr,
				b->runs * b->insns);
	fclose(f);
}

static void mark(unsigned int vcpu __attribute__((unused)), void *data)
{
	struct block *b;

	if ((uintptr_t)data == MARK_STOP) {
		write_counts();
		return;
	}
	for (b = blocks; b; b = b->next)
		b->runs = 0;
}

/* The displacement of a mark at @insn, else 0. */
static uint32_t mark_of(const struct qemu_plugin_insn *insn)
{
	const unsigned char *p = qemu_plugin_insn_data(insn);
	uint32_t disp;

	if (qemu_plugin_insn_size(insn) != 8 ||
	    memcmp(p, mark_op, sizeof(mark_op)))
		return 0;
	memcpy(&disp, p + 4, sizeof(disp));	/* x86: little-endian */
	return disp == MARK_START || disp == MARK_STOP ? disp : 0;
}

static void translated(qemu_plugin_id_t id __attribute__((unused)),
		       struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);
	struct block *b = calloc(1, sizeof(*b));
	uint32_t m;

	if (!b)
		abort();
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	b->insns = n;
	b->next = blocks;
	blocks = b;
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &b->runs, 1);
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		m = mark_of(insn);
		if (m)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, mark,
							       QEMU_PLUGIN_CB_NO_REGS,
							       (void *)(uintptr_t)m);
	}
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			prefix = argv[i] + 4;
	if (!prefix || info->system.smp_vcpus != 1) {
		fprintf(stderr, "insncount: out=PREFIX and one vCPU, please\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
	return 0;
}
