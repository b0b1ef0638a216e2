// The kernel's test framework interface (tests/kernel/ktest.h) for the
// hosted build: the same macros and struct kt fields, over the runner in
// tests/hosted/heap_test.c, so kernel test files build here unchanged.
// Tests register through constructors and run in file and line order;
// output is KTAP version 1, as in the kernel.
#pragma once

#include <setjmp.h>

#include "kernel/types.h"
#include "tests/hosted/kcompat/kcompat.h"

struct kt;

struct ktest_case {
	const char *suite;
	const char *name;	// "suite.case"
	void (*fn)(struct kt *t);
	u32 timeout_ms;		// 0: the runner's default
	const char *file;
	int line;
};
void ktest_register(const struct ktest_case *tc);

#define KTEST_TIMEOUT(suite_, case_, ms)                                                          \
	static void ktest_##suite_##_##case_(struct kt *t);                                      \
	static const struct ktest_case ktest_desc_##suite_##_##case_ = {                         \
		#suite_, #suite_ "." #case_, ktest_##suite_##_##case_, (ms), __FILE__, __LINE__}; \
	__attribute__((constructor)) static void ktest_reg_##suite_##_##case_(void)              \
	{                                                                                        \
		ktest_register(&ktest_desc_##suite_##_##case_);                                  \
	}                                                                                        \
	static void ktest_##suite_##_##case_(struct kt *t)
#define KTEST(suite_, case_) KTEST_TIMEOUT(suite_, case_, 0)
// No collector in the hosted heap tests yet: "no collection during the
// test" holds anyway.
#define KTEST_NOGC(suite_, case_) KTEST(suite_, case_)
#define KTEST_TIMEOUT_NOGC(suite_, case_, ms) KTEST_TIMEOUT(suite_, case_, ms)

struct kt {
	const struct ktest_case *tc;
	int failures;
	bool skipped;
	char reason[200];	// the first failure (or the skip reason)
	bool quiet;
	jmp_buf abort;
	bool panic_armed;
	int panic_preempt_count;
	jmp_buf panic_jb;
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

// A provoked panic comes back here through hosted_panic_hook, with the
// preemption count restored; the code under test must panic with no lock
// held, as in the kernel.
#define KT_PANIC_TRY(t) (kt_panic_arm(t), setjmp((t)->panic_jb) == 0)
void kt_panic_arm(struct kt *t);
void kt_panic_disarm(struct kt *t);
