// The benchmark runner's pure parts: iteration prediction, number and
// result-line formatting (Go's `go test -bench` format), the timer and
// metrics, and the registered benchmark table.

#include "kernel/string.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "tests/kernel/kbench.h"
#include "tests/kernel/ktest.h"

extern const struct kbench_case __start_kbench[], __stop_kbench[];

KTEST(kbench, predict_n)
{
	static const struct {
		u64 goal_ns, prev_n, prev_ns, last, want;
	} cases[] = {
		{1000000000, 1, 1000, 1, 100},			// at most 100x the last n
		{1000000000, 100, 1000000, 100, 10000},
		{1000000000, 10000, 500000000, 10000, 24000},	// 2x to the goal, +20%
		{1000000000, 1, 0, 1, 100},			// faster than the clock
		{1000000000, 10, 2000000000, 10, 11},		// slower: still one more
		{1000000000, 100000000, 100000000, 100000000, 1000000000},	// at most 1e9
		{600000000000, 500000000, 1000000, 500000000, 1000000000},	// no overflow
		{200000000, 3, 2999, 3, 300},
		{200000000, 300, 299000, 300, 30000},
		{200000000, 30000, 30000000, 30000, 240000},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 n = kbench_predict_n(cases[i].goal_ns, cases[i].prev_n, cases[i].prev_ns, cases[i].last);
		KT_EXPECT(t, n == cases[i].want, "predict_n(%lu, %lu, %lu, %lu) = %lu, want %lu",
			  cases[i].goal_ns, cases[i].prev_n, cases[i].prev_ns, cases[i].last, n,
			  cases[i].want);
	}
}

KTEST(kbench, format_value)
{
	static const struct {
		u64 num, den;
		int max_decimals;
		const char *want;	// without the padding
	} cases[] = {
		{412000000, 1, 2, "412000000"},
		{2060000000, 5, 2, "412000000"},
		{79, 10, 2, "7.90"},
		{51, 100, 2, "0.51"},
		{123, 10, 2, "12.3"},
		{2, 3, 2, "0.67"},		// rounded
		{1, 300, 2, "0.00"},		// ns/op stops at two decimals
		{0, 7, 2, "0"},
		{99949, 1000, 2, "99.9"},	// Go's thresholds: below 99.95 one decimal
		{99950, 1000, 2, "100"},
		{9994, 1000, 2, "9.99"},
		{9995, 1000, 2, "10.0"},
		{1234567, 1000, 2, "1235"},
		{98, 1, 6, "98.0"},
		{1, 1000, 6, "0.00100"},	// metrics keep three digits, up to 6 decimals
		{1, 3, 6, "0.333"},
		{1, 10000000, 6, "0.000000"},
		{UINT64_MAX, 1, 2, "18446744073709551615"},
		{UINT64_MAX, UINT64_MAX, 2, "1.00"},
		{5, 0, 2, "NaN"},
	};
	char buf[40];
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int len = kbench_format_value(buf, sizeof(buf), cases[i].num, cases[i].den,
					      cases[i].max_decimals);
		const char *s = buf;
		while (*s == ' ')
			s++;
		KT_EXPECT(t, strcmp(s, cases[i].want) == 0, "format(%lu/%lu) = \"%s\", want \"%s\"",
			  cases[i].num, cases[i].den, s, cases[i].want);
		KT_EXPECT_EQ(t, len, (int)strlen(buf));
		// Decimal points line up: the integer part fills 10 columns.
		const char *dot = strstr(buf, ".");
		size_t int_end = dot ? (size_t)(dot - buf) : strlen(buf);
		KT_EXPECT(t, int_end == MAX(10, strlen(cases[i].want) - (dot ? strlen(dot) : 0)),
			  "\"%s\": integer part ends at column %zu", buf, int_end);
	}
}

KTEST(kbench, result_line)
{
	static struct kb b;
	char line[200];

	memset(&b, 0, sizeof(b));
	b.n = 5;
	b.elapsed_ns = 2060000000;
	kb_report_metric(&b, 98, 1, "max-pause-us");
	kbench_format_result(line, sizeof(line), &b, "BenchmarkBinaryTrees/depth=18", 4, 31);
	KT_EXPECT_STREQ(t, line, "BenchmarkBinaryTrees/depth=18-4\t       5\t 412000000 ns/op"
				 "\t        98.0 max-pause-us");

	memset(&b, 0, sizeof(b));
	b.n = 50000000;
	b.elapsed_ns = 395000000;	// 7.9 ns/op
	kb_set_bytes(&b, 16);
	kb_report_metric(&b, 3, 2, "b-unit");	// printed in unit order
	kb_report_metric(&b, 1, 1, "a-unit");
	kb_report_metric(&b, 5, 2, "b-unit");	// replaces
	KT_EXPECT_EQ(t, b.failures, 0);
	kbench_format_result(line, sizeof(line), &b, "BenchmarkAllocSmall/16B", 1, 26);
	// P = 1 is not printed, as in Go; the name is padded to the width.
	KT_EXPECT_STREQ(t, line, "BenchmarkAllocSmall/16B   \t50000000\t         7.90 ns/op"
				 "\t2025.32 MB/s\t         1.00 a-unit\t         2.50 b-unit");

	// A line that does not fit is cut, and the full length is returned.
	int len = kbench_format_result(line, 20, &b, "BenchmarkAllocSmall/16B", 1, 26);
	KT_EXPECT_EQ(t, strlen(line), 19);
	KT_EXPECT(t, len > 60, "length %d", len);
}

KTEST(kbench, metric_errors)
{
	static struct kb b;
	memset(&b, 0, sizeof(b));
	kb_report_metric(&b, 1, 1, "two words");
	kb_report_metric(&b, 1, 1, "ns/op");
	kb_report_metric(&b, 1, 0, "x/op");
	KT_EXPECT_EQ(t, b.failures, 3);
	KT_EXPECT_EQ(t, b.nmetrics, 0);
	KT_EXPECT(t, strstr(b.reason, "kbench.c:") == b.reason, "reason \"%s\"", b.reason);
	KT_EXPECT(t, strstr(b.reason, "two words") != NULL, "reason \"%s\"", b.reason);
	static const char *const units[] = {"a", "b", "c", "d", "e"};
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		kb_report_metric(&b, i, 1, units[i]);
	KT_EXPECT_EQ(t, b.nmetrics, KB_MAX_METRICS);
	KT_EXPECT_EQ(t, b.failures, 4);
}

KTEST(kbench, skip)
{
	static struct kb b;
	memset(&b, 0, sizeof(b));
	kb_skip(&b, "needs %d CPUs", 2);
	kb_skip(&b, "second reason");	// the first one is kept
	KT_EXPECT(t, b.skipped, "not marked skipped");
	KT_EXPECT_EQ(t, b.failures, 0);	// a skip is not a failure
	KT_EXPECT(t, strstr(b.skip_reason, "test_kbench.c:") == b.skip_reason, "reason \"%s\"",
		  b.skip_reason);
	KT_EXPECT(t, strstr(b.skip_reason, ": needs 2 CPUs") != NULL, "reason \"%s\"", b.skip_reason);
	KT_EXPECT_STREQ(t, b.reason, "");
}

static void spin_ns(u64 ns)
{
	u64 end = nanotime() + ns;
	while (nanotime() < end)
		cpu_relax();
}

KTEST(kbench, timer)
{
	static struct kb b;
	memset(&b, 0, sizeof(b));
	kb_start_timer(&b);
	spin_ns(1000000);
	kb_stop_timer(&b);
	u64 e = b.elapsed_ns;
	KT_EXPECT(t, e >= 1000000, "1 ms timed as %lu ns", e);
	spin_ns(1000000);		// stopped: not counted
	kb_stop_timer(&b);
	KT_EXPECT_EQ(t, b.elapsed_ns, e);
	kb_start_timer(&b);
	spin_ns(1000000);
	kb_start_timer(&b);		// already running: no restart
	kb_stop_timer(&b);
	KT_EXPECT(t, b.elapsed_ns >= e + 1000000, "elapsed %lu after %lu", b.elapsed_ns, e);
	kb_report_metric(&b, 1, 1, "x/op");
	kb_reset_timer(&b);
	KT_EXPECT_EQ(t, b.elapsed_ns, 0);
	KT_EXPECT_EQ(t, b.nmetrics, 0);
}

KTEST(kbench, registered_names)
{
	int n = 0;
	for (const struct kbench_case *bc = __start_kbench; bc < __stop_kbench; bc++, n++) {
		const char *name = bc->name;
		KT_EXPECT(t, strncmp(name, "Benchmark", 9) == 0, "\"%s\" does not start with Benchmark",
			  name);
		// Go's rule: "Benchmark" alone, or followed by a non-lowercase letter.
		KT_EXPECT(t, !(name[9] >= 'a' && name[9] <= 'z'), "\"%s\": lowercase after Benchmark",
			  name);
		for (const char *p = name; *p; p++)
			KT_EXPECT(t, *p > ' ' && *p < 0x7f, "\"%s\": space or control character", name);
		KT_EXPECT(t, bc->fn != NULL, "\"%s\" has no function", name);
		for (const struct kbench_case *o = __start_kbench; o < bc; o++)
			KT_EXPECT(t, strcmp(o->name, name) != 0, "\"%s\" registered twice", name);
	}
	KT_EXPECT_EQ(t, sizeof(struct kbench_case), 32);	// the linker's ALIGN(32) stride
	KT_EXPECT(t, n >= 2, "only %d benchmarks registered", n);
}
