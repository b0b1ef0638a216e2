// Exception handling: faults provoked on purpose are reported with the
// right vector, error code, faulting address and text. Also checks that
// the timer interrupt arrives.

#include "kernel/layout.h"
#include "kernel/cpu.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "tests/kernel/ktest.h"

static bool report_has(struct kt *t, const char *s)
{
	return strstr(t->fault.report, s) != NULL;
}

KTEST(trap, page_fault_reports_address)
{
	u64 addr = UNMAPPED_TEST_VA + 0x123;
	if (KT_FAULT_TRY(t)) {
		(void)*(volatile u64 *)addr;
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "reading %#lx did not fault", addr);
	}
	KT_EXPECT_EQ(t, t->fault.vector, T_PAGE_FAULT);
	KT_EXPECT_EQ(t, t->fault.cr2, addr);
	KT_EXPECT_EQ(t, t->fault.error & (PF_PRESENT | PF_WRITE | PF_USER | PF_FETCH), 0);
	char want[32];
	ksnprintf(want, sizeof(want), "cr2 %p", (void *)addr);
	KT_EXPECT(t, report_has(t, want), "report lacks \"%s\": %s", want, t->fault.report);
	KT_EXPECT(t, report_has(t, "page fault (vector 14)"), "report: %s", t->fault.report);
	KT_EXPECT(t, report_has(t, "read not-present page, kernel mode"), "report: %s", t->fault.report);
	KT_EXPECT(t, report_has(t, "ktest_trap_page_fault_reports_address+0x"), "RIP not symbolized: %s",
		  t->fault.report);
}

KTEST(trap, page_fault_write)
{
	u64 addr = UNMAPPED_TEST_VA + 0x2000;
	if (KT_FAULT_TRY(t)) {
		*(volatile u64 *)addr = 1;
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "writing %#lx did not fault", addr);
	}
	KT_EXPECT_EQ(t, t->fault.vector, T_PAGE_FAULT);
	KT_EXPECT_EQ(t, t->fault.cr2, addr);
	KT_EXPECT(t, t->fault.error & PF_WRITE, "error code %#lx lacks the write bit", t->fault.error);
	KT_EXPECT(t, report_has(t, "write not-present page"), "report: %s", t->fault.report);
}

KTEST(trap, general_protection_non_canonical)
{
	if (KT_FAULT_TRY(t)) {
		(void)*(volatile u64 *)0x8000000000000000ull;
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "non-canonical read did not fault");
	}
	KT_EXPECT_EQ(t, t->fault.vector, T_GP);
	KT_EXPECT(t, report_has(t, "general protection fault (vector 13)"), "report: %s", t->fault.report);
}

KTEST(trap, invalid_opcode)
{
	static u64 ud_at;	// static: a register would not survive the jump back
	if (KT_FAULT_TRY(t)) {
		// The address is stored before the fault: an asm's register
		// outputs are never written when it faults.
		__asm__ volatile("leaq 1f(%%rip), %%rax\n\tmovq %%rax, %0\n1: ud2" : "=m"(ud_at)::"rax");
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "ud2 did not fault");
	}
	KT_EXPECT_EQ(t, t->fault.vector, T_INVALID_OPCODE);
	KT_EXPECT_EQ(t, t->fault.rip, ud_at);	// a fault: RIP is the instruction
	KT_EXPECT(t, report_has(t, "invalid opcode (vector 6)"), "report: %s", t->fault.report);
}

KTEST(trap, divide_error)
{
	if (KT_FAULT_TRY(t)) {
		u64 zero = 0;
		__asm__ volatile("xor %%edx, %%edx\n\tmov $1, %%eax\n\tdivq %0" : : "r"(zero) : "rax", "rdx");
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "division by zero did not fault");
	}
	KT_EXPECT_EQ(t, t->fault.vector, T_DIVIDE);
	KT_EXPECT(t, report_has(t, "divide error (vector 0)"), "report: %s", t->fault.report);
}

KTEST(trap, breakpoint)
{
	static u64 after;	// static: a register would not survive the jump back
	if (KT_FAULT_TRY(t)) {
		__asm__ volatile("leaq 1f(%%rip), %%rax\n\tmovq %%rax, %0\n\tint3\n1:" : "=m"(after)::"rax");
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "int3 did not trap");
	}
	KT_EXPECT_EQ(t, t->fault.vector, T_BREAKPOINT);
	KT_EXPECT_EQ(t, t->fault.rip, after);	// a trap: RIP is past the instruction
}

KTEST(trap, timer_interrupts_arrive)
{
	// The test thread is pinned to CPU 0, so this is its own tick count.
	volatile u64 *ticks = &cpus[0].ticks;
	u64 start = *ticks, deadline = nanotime() + 2000000000ull;
	KT_ASSERT(t, irqs_enabled(), "tests must run with interrupts on");
	KT_ASSERT(t, this_cpu_id() == 0, "test thread on cpu %u", this_cpu_id());
	while (*ticks < start + 3 && nanotime() < deadline)
		hlt();	// the tick wakes us
	KT_EXPECT(t, *ticks >= start + 3, "only %lu timer ticks in 2 s", *ticks - start);
}
