// The in-kernel benchmark runner: selection by glob, Go's iteration
// scaling, the timer, and results printed in `go test -bench` format. No
// floating point (the kernel is built with -mgeneral-regs-only): every
// value is a ratio of integers, rounded when it is printed.

#include "tests/kernel/kbench.h"
#include "kernel/cmdline.h"
#include "kernel/glob.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/time.h"

extern const struct kbench_case __start_kbench[], __stop_kbench[];

#define MAX_ITERS 1000000000ull		// never more than 1e9 iterations (as Go)
#define LINE_MAX 256

// ---------------------------------------------------------------- timer and reports

void kb_reset_timer(struct kb *b)
{
	if (b->timer_on)
		b->start_ns = nanotime();
	b->elapsed_ns = 0;
	b->nmetrics = 0;
}

void kb_stop_timer(struct kb *b)
{
	if (b->timer_on) {
		b->elapsed_ns += nanotime() - b->start_ns;
		b->timer_on = false;
	}
}

void kb_start_timer(struct kb *b)
{
	if (!b->timer_on) {
		b->start_ns = nanotime();
		b->timer_on = true;
	}
}

void kb_set_bytes(struct kb *b, u64 bytes)
{
	b->bytes = bytes;
}

void kb_fail_at(struct kb *b, const char *file, int line, const char *fmt, ...)
{
	char msg[sizeof(b->reason)];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *base = kbasename(file);	// "tests/kernel/x.c" -> "x.c"
	if (b->failures++ == 0)
		ksnprintf(b->reason, sizeof(b->reason), "%s:%d: %s", base, line, msg);
}

void kb_skip_at(struct kb *b, const char *file, int line, const char *fmt, ...)
{
	char msg[sizeof(b->skip_reason)];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!b->skipped)
		ksnprintf(b->skip_reason, sizeof(b->skip_reason), "%s:%d: %s", kbasename(file), line, msg);
	b->skipped = true;
}

void kb_report_metric(struct kb *b, u64 num, u64 den, const char *unit)
{
	if (!unit || !*unit || strstr(unit, " ") || strcmp(unit, "ns/op") == 0 ||
	    strcmp(unit, "MB/s") == 0) {
		kb_fail(b, "kb_report_metric: bad unit \"%s\"", unit ? unit : "(null)");
		return;
	}
	if (den == 0) {
		kb_fail(b, "kb_report_metric: %s: zero denominator", unit);
		return;
	}
	int i;
	for (i = 0; i < b->nmetrics && strcmp(b->metrics[i].unit, unit) != 0; i++)
		;
	if (i == KB_MAX_METRICS) {
		kb_fail(b, "kb_report_metric: more than %d units", KB_MAX_METRICS);
		return;
	}
	if (i == b->nmetrics)
		b->nmetrics++;
	b->metrics[i].unit = unit;
	b->metrics[i].num = num;
	b->metrics[i].den = den;
}

// ---------------------------------------------------------------- arithmetic

// x / d for a 128-bit x, saturating at UINT64_MAX when the quotient does
// not fit in 64 bits (divq would raise #DE). No libgcc: one divq.
static u64 div128(unsigned __int128 x, u64 d)
{
	u64 hi = (u64)(x >> 64), lo = (u64)x, q, r;
	if (hi >= d)
		return UINT64_MAX;
	asm("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d) : "cc");
	return q;
}

// round(num * 10^decimals / den), saturating.
static u64 scaled_round(u64 num, u64 den, int decimals)
{
	unsigned __int128 x = num;
	for (int i = 0; i < decimals; i++)
		x *= 10;
	return div128(x + den / 2, den);
}

u64 kbench_predict_n(u64 goal_ns, u64 prev_n, u64 prev_ns, u64 last)
{
	if (prev_ns == 0)
		prev_ns = 1;	// a run faster than the clock's resolution
	// Multiply first: for fast benchmarks prev_n is close to prev_ns, and
	// dividing first would lose an order of magnitude.
	u64 n = div128((unsigned __int128)goal_ns * prev_n, prev_ns);
	n = MIN(n, 100 * MAX_ITERS);	// saturation guard; the caps below are lower
	n += n / 5;			// aim 20% past the goal
	n = MIN(n, 100 * last);		// grow at most 100x: the last timing may be noise
	n = MAX(n, last + 1);		// and always grow
	return MIN(n, MAX_ITERS);
}

int kbench_format_value(char *buf, size_t size, u64 num, u64 den, int max_decimals)
{
	if (den == 0)
		return ksnprintf(buf, size, "%10s", "NaN");
	// The fewest decimals that keep four significant digits before
	// rounding (Go's thresholds: 99.95 -> 0 decimals, 9.995 -> 1, ...).
	int d = 0;
	if (num != 0)
		while (d < max_decimals && scaled_round(num, den, d + 1) < 1000)
			d++;
	u64 v = scaled_round(num, den, d);
	if (d == 0)
		return ksnprintf(buf, size, "%10lu", v);
	u64 p = 1;
	for (int i = 0; i < d; i++)
		p *= 10;
	return ksnprintf(buf, size, "%10lu.%0*lu", v / p, d, v % p);
}

// ---------------------------------------------------------------- result lines

struct out {
	char *buf;
	size_t size, len;	// len may exceed size: the full length, like ksnprintf
};

static __printf(2, 3) void out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t at = MIN(o->len, o->size ? o->size - 1 : 0);
	o->len += (size_t)kvsnprintf(o->buf + at, o->size - at, fmt, ap);
	va_end(ap);
}

int kbench_format_result(char *buf, size_t size, const struct kb *b, const char *name, unsigned procs,
			 int width)
{
	struct out o = {buf, size, 0};
	char v[40];

	if (size)
		buf[0] = 0;
	// Go's benchmarkName(): the -P suffix is left out when P is 1.
	if (procs != 1) {
		char full[LINE_MAX];
		ksnprintf(full, sizeof(full), "%s-%u", name, procs);
		out_add(&o, "%-*s\t", width, full);
	} else {
		out_add(&o, "%-*s\t", width, name);
	}
	out_add(&o, "%8lu", b->n);
	if (b->elapsed_ns != 0 && b->n != 0) {	// Go omits a zero ns/op
		kbench_format_value(v, sizeof(v), b->elapsed_ns, b->n, 2);
		out_add(&o, "\t%s ns/op", v);
	}
	if (b->bytes && b->elapsed_ns && b->n) {
		// MB/s = bytes * n / 1e6 / (ns / 1e9), in hundredths.
		u64 h = div128((unsigned __int128)b->bytes * b->n * 100000 + b->elapsed_ns / 2,
			       b->elapsed_ns);
		out_add(&o, "\t%4lu.%02lu MB/s", h / 100, h % 100);
	}
	// Extra metrics in unit order, as Go sorts them.
	bool done[KB_MAX_METRICS] = {false};
	for (int k = 0; k < b->nmetrics; k++) {
		int m = -1;
		for (int i = 0; i < b->nmetrics; i++)
			if (!done[i] && (m < 0 || strcmp(b->metrics[i].unit, b->metrics[m].unit) < 0))
				m = i;
		done[m] = true;
		kbench_format_value(v, sizeof(v), b->metrics[m].num, b->metrics[m].den, 6);
		out_add(&o, "\t%s %s", v, b->metrics[m].unit);
	}
	return (int)o.len;
}

// ---------------------------------------------------------------- the runner

// One call of the benchmark function with b->n = n, timed.
static void run_n(struct kb *b, u64 n)
{
	// When gc/ exists, collect here (as Go's runN does) so one call's
	// garbage is not charged to the next.
	b->n = n;
	b->timer_on = false;
	kb_reset_timer(b);
	kb_start_timer(b);
	b->bc->fn(b);
	kb_stop_timer(b);
}

// Go's launch(): n = 1, then predicted counts until one call lasts the
// goal, or until it fails or skips. Returns true if it did not fail.
static bool run_bench(struct kb *b, u64 goal_ns)
{
	run_n(b, 1);
	for (u64 n = 1; !b->failures && !b->skipped && b->elapsed_ns < goal_ns && n < MAX_ITERS;) {
		u64 last = n;
		n = kbench_predict_n(goal_ns, b->n, b->elapsed_ns, last);
		run_n(b, n);
	}
	return b->failures == 0;
}

int kbench_run_all(const char *glob, void (*print_header)(void))
{
	static struct kb b;	// static: keeps the runner's frame small
	char line[LINE_MAX];
	unsigned procs = ncpus_online;	// the -P of a result line
	u64 goal_ns = (u64)kconfig.benchtime_ms * 1000000;
	int width = 0, matched = 0, failed = 0;

	// Names are padded to the longest selected one, suffix included.
	for (const struct kbench_case *bc = __start_kbench; bc < __stop_kbench; bc++) {
		if (!glob_match(glob, bc->name))
			continue;
		int w = (int)strlen(bc->name);
		if (procs != 1)
			w = ksnprintf(line, sizeof(line), "%s-%u", bc->name, procs);
		width = MAX(width, w);
		matched++;
	}
	if (!matched)
		pr_warn("bench: no benchmark matches '%s'", glob);
	else
		print_header();

	for (const struct kbench_case *bc = __start_kbench; bc < __stop_kbench; bc++) {
		if (!glob_match(glob, bc->name))
			continue;
		memset(&b, 0, sizeof(b));
		b.bc = bc;
		b.arg = bc->arg;
		if (!run_bench(&b, goal_ns)) {
			failed++;
			kprintf("--- FAIL: %s\n    %s\n", bc->name, b.reason);
			if (b.failures > 1)
				kprintf("    (and %d more failures)\n", b.failures - 1);
		} else if (b.skipped) {
			// As Go's -v output: the name without -P, as for FAIL.
			kprintf("--- SKIP: %s\n    %s\n", bc->name, b.skip_reason);
		} else {
			kbench_format_result(line, sizeof(line), &b, bc->name, procs, width);
			kprintf("%s\n", line);
		}
	}
	kprintf("%s\n", failed ? "FAIL" : "PASS");
	return failed;
}
