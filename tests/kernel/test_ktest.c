// The test framework itself: glob selection, failure recording, non-local
// jumps, fault catching, and the registered test table.

#include "kernel/glob.h"
#include "kernel/layout.h"
#include "kernel/setjmp.h"
#include "kernel/string.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "tests/kernel/ktest.h"

KTEST(ktest, glob)
{
	static const struct {
		const char *pat, *name;
		bool match;
	} cases[] = {
		{"*", "frame.alloc_free", true},
		{"*", "", true},
		{"frame.*", "frame.alloc_free", true},
		{"frame.*", "framework.x", false},
		{"frame.*", "heap.frame.x", false},
		{"*.alloc*", "heap.alloc_small", true},
		{"?eap.x", "heap.x", true},
		{"?eap.x", "eap.x", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b", "aXbYc", false},
		{"BenchmarkAlloc*", "BenchmarkAllocSmall/16B", true},
		{"*/16B", "BenchmarkAllocSmall/16B", true},
		{"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"", "", true},
		{"", "a", false},
		{"frame.alloc", "frame.alloc_free", false},	// whole name, not a prefix
		{"**", "x.y", true},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		KT_EXPECT(t, glob_match(cases[i].pat, cases[i].name) == cases[i].match,
			  "glob_match(\"%s\", \"%s\") should be %s", cases[i].pat, cases[i].name,
			  cases[i].match ? "true" : "false");
}

static void inner_expect_fails(struct kt *inner)
{
	KT_EXPECT(inner, 1 + 1 == 3, "arithmetic is off by %d", 1);
	KT_EXPECT(inner, true, "not reached as a failure");
	KT_EXPECT_EQ(inner, 7, 8);
}

KTEST(ktest, expect_records_failure)
{
	struct kt inner = {.tc = t->tc, .quiet = true};
	inner_expect_fails(&inner);
	KT_EXPECT_EQ(t, inner.failures, 2);
	// The first failure is the reason, with file and line.
	KT_EXPECT(t, strstr(inner.reason, "test_ktest.c:") != NULL, "reason \"%s\" lacks the file", inner.reason);
	KT_EXPECT(t, strstr(inner.reason, "arithmetic is off by 1") != NULL, "reason \"%s\"", inner.reason);
}

static __noinline void jump_back(struct kjmp_buf *b, int v)
{
	klong_jmp(b, v);
}

KTEST(ktest, setjmp_roundtrip)
{
	struct kjmp_buf b;
	volatile int passes = 0;
	int r = kset_jmp(&b);
	passes++;
	if (r == 0)
		jump_back(&b, 42);
	KT_EXPECT_EQ(t, r, 42);
	KT_EXPECT_EQ(t, passes, 2);
	r = kset_jmp(&b);
	if (r == 0)
		jump_back(&b, 0);	// 0 is delivered as 1
	KT_EXPECT_EQ(t, r, 1);
}

KTEST(ktest, fault_catch_restores_interrupts)
{
	sti();
	if (KT_FAULT_TRY(t)) {
		(void)*(volatile u64 *)UNMAPPED_TEST_VA;
		kt_fault_disarm(t);
		KT_ASSERT(t, false, "reading %#lx did not fault", (u64)UNMAPPED_TEST_VA);
	}
	KT_EXPECT_EQ(t, t->fault.vector, T_PAGE_FAULT);
	KT_EXPECT(t, irqs_enabled(), "interrupts still off after the caught fault");
	KT_EXPECT(t, !t->fault.armed, "catcher still armed after a fault");
}

KTEST(ktest, registered_names)
{
	extern const struct ktest_case __start_ktests[], __stop_ktests[];
	size_t n = (size_t)(__stop_ktests - __start_ktests);
	KT_EXPECT(t, n >= 25, "only %zu tests registered", n);
	for (const struct ktest_case *tc = __start_ktests; tc < __stop_ktests; tc++) {
		size_t sl = strlen(tc->suite);
		KT_EXPECT(t, strncmp(tc->name, tc->suite, sl) == 0 && tc->name[sl] == '.' && tc->name[sl + 1],
			  "test name \"%s\" is not \"%s.case\"", tc->name, tc->suite);
		KT_EXPECT(t, tc->fn != NULL, "%s has no function", tc->name);
	}
}
