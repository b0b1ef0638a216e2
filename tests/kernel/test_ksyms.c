// The embedded symbol table and symbolized backtraces.

#include "kernel/cmdline.h"
#include "kernel/ksyms.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "tests/kernel/ktest.h"

KTEST(ksyms, lookup_known_function)
{
	u64 off = 99;
	const char *name = ksym_lookup((u64)kprintf, &off);
	KT_ASSERT(t, name != NULL, "kprintf at %p not found", (void *)kprintf);
	KT_EXPECT_STREQ(t, name, "kprintf");
	KT_EXPECT_EQ(t, off, 0);
	name = ksym_lookup((u64)kprintf + 3, &off);
	KT_EXPECT(t, name && strcmp(name, "kprintf") == 0, "kprintf+3 resolved to %s", name);
	KT_EXPECT_EQ(t, off, 3);
	char buf[64];
	ksym_format(buf, sizeof(buf), (u64)panic + 0x10);
	KT_EXPECT_STREQ(t, buf, "panic+0x10");
}

KTEST(ksyms, lookup_outside_text)
{
	KT_EXPECT(t, ksym_lookup((u64)&kconfig, NULL) == NULL, "a data address resolved");
	KT_EXPECT(t, ksym_lookup(0, NULL) == NULL, "address 0 resolved");
	KT_EXPECT(t, ksym_lookup(0x100000, NULL) == NULL, "a physical address resolved");
	char buf[16];
	ksym_format(buf, sizeof(buf), 0x1234);
	KT_EXPECT_STREQ(t, buf, "?");
}

KTEST(ksyms, table_by_name)
{
	KT_EXPECT(t, ksym_count() > 100, "only %lu symbols", ksym_count());
	KT_EXPECT_EQ(t, ksym_address("ktest_run"), (u64)ktest_run);
	KT_EXPECT_EQ(t, ksym_address("no_such_function_anywhere"), 0);
	// Every symbol maps back to itself, and the table is sorted.
	extern const u64 ksyms_addr[];
	for (u64 i = 0; i < ksym_count(); i++) {
		u64 off;
		const char *n = ksym_lookup(ksyms_addr[i], &off);
		KT_EXPECT(t, n && off == 0, "symbol %lu at %#lx does not resolve to itself", i, ksyms_addr[i]);
		if (i)
			KT_EXPECT(t, ksyms_addr[i - 1] < ksyms_addr[i], "table unsorted at %lu", i);
	}
}

static u64 bt_pcs[16];
static int bt_n;

static __noinline void bt_level_c(void)
{
	bt_n = backtrace_capture((u64)__builtin_frame_address(0), bt_pcs, 16);
	__asm__ volatile("" ::: "memory");	// keep this a real call frame
}

static __noinline void bt_level_b(void)
{
	bt_level_c();
	__asm__ volatile("" ::: "memory");
}

static __noinline void bt_level_a(void)
{
	bt_level_b();
	__asm__ volatile("" ::: "memory");
}

static bool bt_has(const char *fn)
{
	for (int i = 0; i < bt_n; i++) {
		const char *n = ksym_lookup(bt_pcs[i], NULL);
		if (n && strcmp(n, fn) == 0)
			return true;
	}
	return false;
}

KTEST(ksyms, backtrace_names_callers)
{
	bt_level_a();
	KT_ASSERT(t, bt_n >= 4, "backtrace has only %d frames", bt_n);
	KT_EXPECT(t, bt_has("bt_level_b"), "bt_level_b missing from the backtrace");
	KT_EXPECT(t, bt_has("bt_level_a"), "bt_level_a missing from the backtrace");
	KT_EXPECT(t, bt_has("ktest_ksyms_backtrace_names_callers"), "the test itself missing");
	KT_EXPECT(t, bt_has("ktest_run"), "the runner missing");
}
