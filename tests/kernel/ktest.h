// In-kernel test framework. Tests register with KTEST(suite, case) into the
// .ktests section; `test` or `test=GLOB` on the command line runs them at
// boot (GLOB matches the whole "suite.case" name) and prints KTAP version 1
// with one subtest per suite. QEMU then exits 0x10 if all passed, else 0x11.
//
//	KTEST(frame, alloc_free)
//	{
//		KT_EXPECT_EQ(t, frames_free(), before);
//	}
//
// A failed KT_EXPECT records the reason and continues; a failed KT_ASSERT
// (or kt_skip) ends the test there. A test may provoke a CPU exception on
// purpose inside KT_FAULT_TRY (see below). A panic or a per-test timeout
// ends the whole run with "not ok" for the test and the reason.
#pragma once

#include "kernel/setjmp.h"
#include "kernel/string.h"
#include "kernel/types.h"

struct kt;

struct ktest_case {
	const char *suite;
	const char *name;	// "suite.case"
	void (*fn)(struct kt *t);
	u32 timeout_ms;		// 0: the testtimeout= default
	u32 flags;		// KT_NOGC
} __attribute__((aligned(32)));
// KT_NOGC: no collection runs during the test (gc_disable around it):
// allocator tests that keep objects where the collector does not look.
#define KT_NOGC 1	// gcc aligns such objects to 32 anyway;
				// saying so keeps the section an array

#define KTEST_FULL(suite_, case_, ms, flags)                                                 \
	static void ktest_##suite_##_##case_(struct kt *t);                                 \
	static const struct ktest_case ktest_desc_##suite_##_##case_ __used                \
		__section(".ktests") = {#suite_, #suite_ "." #case_, ktest_##suite_##_##case_, (ms), (flags)}; \
	static void ktest_##suite_##_##case_(struct kt *t)
#define KTEST_TIMEOUT(suite_, case_, ms) KTEST_FULL(suite_, case_, ms, 0)
#define KTEST(suite_, case_) KTEST_FULL(suite_, case_, 0, 0)
#define KTEST_NOGC(suite_, case_) KTEST_FULL(suite_, case_, 0, KT_NOGC)
#define KTEST_TIMEOUT_NOGC(suite_, case_, ms) KTEST_FULL(suite_, case_, ms, KT_NOGC)

struct kt_fault {
	bool armed;
	bool irqs_were_on;
	int preempt_count;	// restored when a fault is caught
	struct kjmp_buf jb;
	u64 vector, error, cr2, rip;
	char report[320];	// trap_describe() text of the caught fault
};

struct kt {
	const struct ktest_case *tc;
	int failures;
	bool skipped;
	char reason[200];	// the first failure (or the skip reason)
	bool quiet;		// no diagnostic lines (the framework's own tests)
	struct kjmp_buf abort;
	struct kt_fault fault;
	bool panic_armed;
	bool panic_irqs_were_on;
	int panic_preempt_count;
	struct kjmp_buf panic_jb;
	char panic_msg[256];	// the caught panic's message
};

void kt_fail(struct kt *t, const char *file, int line, const char *fmt, ...) __printf(4, 5);
void __noreturn kt_abort(struct kt *t);
void __noreturn kt_skip(struct kt *t, const char *fmt, ...) __printf(2, 3);

#define KT_EXPECT(t, cond, ...)                                 \
	do {                                                    \
		if (!(cond))                                    \
			kt_fail((t), __FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

#define KT_ASSERT(t, cond, ...)                                 \
	do {                                                    \
		if (!(cond)) {                                  \
			kt_fail((t), __FILE__, __LINE__, __VA_ARGS__); \
			kt_abort(t);                            \
		}                                               \
	} while (0)

// Integer equality, printing both values in decimal and hex.
#define KT_EXPECT_EQ(t, a, b)                                                               \
	do {                                                                                \
		u64 a_ = (u64)(a), b_ = (u64)(b);                                           \
		if (a_ != b_)                                                               \
			kt_fail((t), __FILE__, __LINE__, "%s == %s: got %ld (%#lx), want %ld (%#lx)", \
				#a, #b, (i64)a_, a_, (i64)b_, b_);                          \
	} while (0)

#define KT_EXPECT_STREQ(t, a, b)                                                            \
	do {                                                                                \
		const char *a_ = (a), *b_ = (b);                                            \
		if (strcmp(a_, b_) != 0)                                                    \
			kt_fail((t), __FILE__, __LINE__, "%s: got \"%s\", want \"%s\"", #a, a_, b_); \
	} while (0)

// Provoking a fault on purpose:
//
//	if (KT_FAULT_TRY(t)) {
//		*(volatile u64 *)bad = 1;	// faults; control goes to the else
//		kt_fault_disarm(t);
//		KT_ASSERT(t, false, "no fault");
//	} else {
//		KT_EXPECT_EQ(t, t->fault.vector, T_PAGE_FAULT);
//	}
#define KT_FAULT_TRY(t) (kt_fault_arm(t), kset_jmp(&(t)->fault.jb) == 0)
void kt_fault_arm(struct kt *t);
void kt_fault_disarm(struct kt *t);
// The same for a thread a test created (the catch belongs to the thread
// that arms it; f is that thread's own struct kt_fault):
//	if (KT_FAULT_CATCH(&f)) { ...; kt_fault_disarm_on(&f); } else { f.vector ... }
#define KT_FAULT_CATCH(f) (kt_fault_arm_on(f), kset_jmp(&(f)->jb) == 0)
void kt_fault_arm_on(struct kt_fault *f);
void kt_fault_disarm_on(struct kt_fault *f);

// Checking that a contract violation panics, the same way:
//
//	if (KT_PANIC_TRY(t)) {
//		frame_free(p, 0);		// a double free: panics
//		kt_panic_disarm(t);
//		KT_ASSERT(t, false, "no panic");
//	} else {
//		KT_EXPECT(t, strstr(t->panic_msg, "not allocated"), ...);
//	}
//
// The code under test must panic before changing state or with no lock
// held: the jump back skips everything between the panic and the test.
#define KT_PANIC_TRY(t) (kt_panic_arm(t), kset_jmp(&(t)->panic_jb) == 0)
void kt_panic_arm(struct kt *t);
void kt_panic_disarm(struct kt *t);

// Runs the tests matching glob and exits QEMU; never returns.
void __noreturn ktest_run(const char *glob);
// Called by panic(): reports the running test (if any) as failed.
void ktest_on_panic(const char *msg);
// Called from every CPU's timer interrupt: enforces the per-test timeout,
// showing where the test thread was stuck (interrupted or switched out).
struct trapframe;
void ktest_tick(const struct trapframe *tf);
