// In-kernel benchmarks in the style of Go's testing.B. Benchmarks register
// with KBENCH(Name) into the .kbench section; `bench` or `bench=GLOB` on the
// command line runs them at boot (GLOB matches the whole name, e.g.
// "BenchmarkFrame*") for about `benchtime=MS` each, prints the results in
// the format of `go test -bench` (CONVENTIONS.md) and exits QEMU.
//
//	KBENCH(Nanotime)			// "BenchmarkNanotime"
//	{
//		for (u64 i = 0; i < b->n; i++)
//			nanotime();
//	}
//
//	KBENCH_SUB(FrameAllocFree, order0, "order0")	// "BenchmarkFrameAllocFree/order0"
//	{ ... }
//
//	static void alloc_small(struct kb *b) { ... b->arg ... }
//	KBENCH_CASE(AllocSmall, "16B", alloc_small, 16);	// "BenchmarkAllocSmall/16B"
//	KBENCH_CASE(AllocSmall, "32B", alloc_small, 32);
//
// The runner calls the function with b->n = 1, then with growing n (Go's
// rule: aim 20% past the target, at most 100x per step, at most 1e9) until
// one call takes at least benchtime. Only the last call is reported. The
// timer runs during the whole call unless the benchmark stops it around its
// setup. Interrupts are on. A benchmark must not keep state between calls
// that changes its cost (free what it allocates).
#pragma once

#include "kernel/types.h"

struct kb;

struct kbench_case {
	const char *name;		// "BenchmarkName" or "BenchmarkName/label"
	void (*fn)(struct kb *b);
	u64 arg;			// b->arg during the run (KBENCH_CASE)
} __attribute__((aligned(32)));		// as struct ktest_case: keeps the section an array

#define KBENCH_CAT_(a, b) a##b
#define KBENCH_CAT(a, b) KBENCH_CAT_(a, b)

// KBENCH(Name) { body }: the benchmark "BenchmarkName".
#define KBENCH(name_)                                                               \
	static void kbench_##name_(struct kb *b);                                   \
	static const struct kbench_case kbench_desc_##name_ __used                  \
		__section(".kbench") = {"Benchmark" #name_, kbench_##name_, 0};      \
	static void kbench_##name_(struct kb *b)

// KBENCH_SUB(Name, id, "label") { body }: "BenchmarkName/label". id is any
// C identifier unique for Name; label must not contain spaces.
#define KBENCH_SUB(name_, id_, label)                                                \
	static void kbench_##name_##_##id_(struct kb *b);                            \
	static const struct kbench_case kbench_desc_##name_##_##id_ __used           \
		__section(".kbench") = {"Benchmark" #name_ "/" label,                 \
					kbench_##name_##_##id_, 0};                   \
	static void kbench_##name_##_##id_(struct kb *b)

// KBENCH_CASE(Name, "label", fn, arg): "BenchmarkName/label" runs an
// existing function fn(struct kb *b) with b->arg = arg; one function serves
// a family of sizes or modes. At most one per source line.
#define KBENCH_CASE(name_, label, fn_, arg_)                                        \
	static const struct kbench_case KBENCH_CAT(kbench_desc_##name_##_, __LINE__) \
		__used __section(".kbench") = {"Benchmark" #name_ "/" label, (fn_), (arg_)}

#define KB_MAX_METRICS 4

// The state of one benchmark. Benchmarks read n and arg and use the kb_*
// functions; the other fields belong to the runner.
struct kb {
	u64 n;				// iterations to run in this call
	u64 arg;			// the descriptor's arg
	const struct kbench_case *bc;
	bool timer_on;
	u64 start_ns;			// nanotime() when the timer last started
	u64 elapsed_ns;			// timed ns of this call so far
	u64 bytes;			// kb_set_bytes(): bytes per iteration
	int nmetrics;
	struct {
		const char *unit;
		u64 num, den;		// the value is num / den
	} metrics[KB_MAX_METRICS];
	int failures;
	char reason[200];		// the first failure
	bool skipped;
	char skip_reason[200];		// the first kb_skip
};

// kb_reset_timer: zero the elapsed time and drop reported metrics; the
// timer keeps running if it was. Use after expensive setup.
void kb_reset_timer(struct kb *b);
// kb_stop_timer / kb_start_timer: exclude the code between them.
void kb_stop_timer(struct kb *b);
void kb_start_timer(struct kb *b);
// kb_set_bytes: bytes processed per iteration; adds an "MB/s" column
// (10^6 bytes per second, as Go's SetBytes).
void kb_set_bytes(struct kb *b, u64 bytes);
// kb_report_metric: an extra column "value unit" with value = num / den,
// e.g. kb_report_metric(b, pauses_ns, b->n, "pause-ns/op"). Reporting a
// unit again replaces its value. The unit must not contain spaces and
// must not be ns/op or MB/s; at most KB_MAX_METRICS units per benchmark.
void kb_report_metric(struct kb *b, u64 num, u64 den, const char *unit);
// kb_fail: mark the benchmark failed with a reason (file:line is added) and
// return; the runner stops it after this call and the run prints FAIL.
// The benchmark should clean up and return.
#define kb_fail(b, ...) kb_fail_at((b), __FILE__, __LINE__, __VA_ARGS__)
void kb_fail_at(struct kb *b, const char *file, int line, const char *fmt, ...) __printf(4, 5);
// kb_skip: mark the benchmark skipped with a reason (file:line is added),
// e.g. when the machine lacks what it measures; the benchmark should clean
// up and return. The runner prints Go's `go test -v -bench` skip lines,
//	--- SKIP: BenchmarkName
//	    file.c:12: reason
// and counts it as neither passed nor failed. A failure wins over a skip.
#define kb_skip(b, ...) kb_skip_at((b), __FILE__, __LINE__, __VA_ARGS__)
void kb_skip_at(struct kb *b, const char *file, int line, const char *fmt, ...) __printf(4, 5);

// Runs the benchmarks matching glob and exits QEMU; never returns
// (tests/kernel/kbench_boot.c).
void __noreturn kbench_run(const char *glob);
// kbench_run_all: the part of kbench_run that the hosted build shares:
// runs the benchmarks matching glob (print_header first, if any does),
// prints their lines and PASS or FAIL; returns how many failed.
int kbench_run_all(const char *glob, void (*print_header)(void));

// The pure parts, exposed for the kbench tests:
// kbench_predict_n: the next iteration count after `last` iterations ran
// as prev_n in prev_ns, aiming at goal_ns (Go's predictN).
u64 kbench_predict_n(u64 goal_ns, u64 prev_n, u64 prev_ns, u64 last);
// kbench_format_value: num / den rounded to about three significant digits
// with at most max_decimals decimals, the integer part right-aligned in 10
// characters so decimal points line up (Go's column format). Returns the
// length, like ksnprintf.
int kbench_format_value(char *buf, size_t size, u64 num, u64 den, int max_decimals);
// kbench_format_result: the result line of a finished benchmark b, without
// the newline: name and -P (P omitted when 1, as Go does) left-aligned in
// width, TAB, iterations in 8, TAB, ns/op, then MB/s and metrics.
int kbench_format_result(char *buf, size_t size, const struct kb *b, const char *name, unsigned procs,
			 int width);
