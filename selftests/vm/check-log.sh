#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-log.sh [FILE]: print the lines of a kernel log that report a
# kernel problem (oops, BUG, WARNING, KASAN, UBSAN, KFENCE, lockdep, RCU
# stall, hung task, kmemleak, list or refcount corruption) and exit 1 if
# there is any.  Tainting by an out-of-tree or unsigned module is expected.

grep -aE \
	-e 'BUG:|Oops|WARNING:|kernel BUG|general protection fault|Kernel panic' \
	-e 'Unable to handle kernel|Call Trace:|RIP: ' \
	-e 'KASAN|UBSAN|KFENCE|kmemleak: [0-9]+ new suspected|unreferenced object' \
	-e 'possible (circular|recursive) locking|inconsistent lock state' \
	-e 'suspicious RCU usage|DEBUG_LOCKS_WARN_ON|lock held when returning' \
	-e 'rcu: INFO|rcu_(sched|preempt) (self-)?detected stall|RCU Stall' \
	-e 'soft lockup|hard LOCKUP|blocked for more than' \
	-e 'list_(add|del) corruption|refcount_t: |use-after-free|double-free' \
	"${1:--}" && exit 1
exit 0
