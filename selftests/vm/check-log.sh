#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-log.sh [FILE]: print the lines of a kernel log that report a
# kernel problem (oops, BUG, WARNING, KASAN, UBSAN, KFENCE, lockdep, RCU
# stall, hung task, kmemleak, list or refcount corruption, debugobjects,
# leaked device references) and exit 1 if there is any.  Tainting by an
# out-of-tree or unsigned module is expected.  Most reports of the debug
# kernel (make check-debug) begin "BUG:" (KASAN, KFENCE, sleeping in
# atomic context) or "WARNING:" (lockdep, suspicious RCU usage, WARN_ON
# and DEBUG_NET_WARN_ON_ONCE); the others are listed by name.

grep -aE \
	-e 'BUG:|Oops|WARNING:|kernel BUG|general protection fault|Kernel panic' \
	-e 'Unable to handle kernel|Call Trace:|RIP: ' \
	-e 'KASAN|UBSAN|KFENCE|kmemleak: [0-9]+ new suspected|unreferenced object' \
	-e 'possible (circular|recursive) locking|inconsistent lock state' \
	-e 'suspicious RCU usage|DEBUG_LOCKS_WARN_ON|lock held when returning' \
	-e 'rcu: INFO|rcu_(sched|preempt) (self-)?detected stall|RCU Stall' \
	-e 'soft lockup|hard LOCKUP|blocked for more than' \
	-e 'list_(add|del) corruption|refcount_t: |use-after-free|double-free' \
	-e '\[ cut here \]|ODEBUG: |ref_tracker: |waiting for .* to become free' \
	-e 'trying to register non-static key|turning off the locking correctness' \
	-e 'kmemleak: .*(disabled|failed|error)' \
	"${1:--}" |
	# A boot banner of the debug kernel (CONFIG_DEBUG_OBJECTS_RCU_HEAD).
	grep -avF 'RCU callback double-/use-after-free debug is enabled' && exit 1
exit 0
