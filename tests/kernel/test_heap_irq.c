// The heap in interrupt context: forbidden, and checked. Kernel-only (the
// hosted port builds tests/kernel/test_heap.c, which has no interrupts).

#include "kernel/percpu.h"
#include "kernel/x86.h"
#include "mm/heap.h"
#include "tests/kernel/ktest.h"

KTEST_NOGC(heap, interrupt_handlers_may_not_allocate)
{
	cli();
	this_cpu()->irq_depth++;
	if (KT_PANIC_TRY(t)) {
		void *p = gc_alloc_noscan(32);
		kt_panic_disarm(t);
		this_cpu()->irq_depth--;
		sti();
		KT_ASSERT(t, false, "allocation in interrupt context gave %p", p);
	}
	this_cpu()->irq_depth--;
	sti();
	KT_EXPECT(t, strstr(t->panic_msg, "interrupt handler"), "panic: %s", t->panic_msg);
	KT_EXPECT_EQ(t, preempt_count(), 0);
}
