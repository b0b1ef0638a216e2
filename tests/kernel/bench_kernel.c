// Benchmarks of kernel basics: the cost of reading the clock and of
// formatting a line. They also prove the benchmark runner (kbench.c).

#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "tests/kernel/kbench.h"

static volatile u64 sink;	// results go here so no loop is optimized away

// One nanotime(): rdtsc and a fixed-point multiply.
KBENCH(Nanotime)
{
	u64 sum = 0;
	for (u64 i = 0; i < b->n; i++)
		sum += nanotime();
	sink = sum;
}

// One ksnprintf of a decimal, a string and a 64-bit hex number into a
// buffer; MB/s counts the characters produced.
KBENCH(Ksnprintf)
{
	static const char want[] = "-12345 tricolor ffffffff80104a2b";
	char buf[64] = "";
	int len = 0;
	for (u64 i = 0; i < b->n; i++)
		len = ksnprintf(buf, sizeof(buf), "%d %s %lx", -12345, "tricolor", 0xffffffff80104a2bul);
	if (len != (int)sizeof(want) - 1 || strcmp(buf, want) != 0)
		kb_fail(b, "ksnprintf gave \"%s\" (%d), want \"%s\"", buf, len, want);
	kb_set_bytes(b, (u64)len);
	sink = (u64)buf[0];
}

// The primitives the allocator fast paths are built from, so their cost
// under the emulator can be weighed: a preemption-count pair, an
// interrupt-flag save/restore pair, one atomic compare-and-swap.
KBENCH_SUB(Primitive, preempt, "preempt-disable-enable")
{
	for (u64 i = 0; i < b->n; i++) {
		preempt_disable();
		preempt_enable();
	}
}

KBENCH_SUB(Primitive, irq, "irq-save-restore")
{
	for (u64 i = 0; i < b->n; i++) {
		bool f = irq_save();
		irq_restore(f);
	}
}

KBENCH_SUB(Primitive, cas, "atomic-cas")
{
	static u64 word;
	for (u64 i = 0; i < b->n; i++) {
		u64 old = i;
		__atomic_compare_exchange_n(&word, &old, i + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
	sink = word;
}

KBENCH_SUB(Primitive, loop, "empty-loop")
{
	for (u64 i = 0; i < b->n; i++)
		__asm__ volatile("" ::: "memory");
}
