// The runner of the hosted test programs (heap_test, gc_test): the
// kernel's test framework (tests/kernel/ktest.h, hosted in
// tests/hosted/kcompat/) over the tests the program links in. Prints
// KTAP version 1 and "# PROGRAM: N passed, N failed, N skipped"; exits 0
// iff nothing failed.
//
//	PROGRAM [-cpus N] [-run GLOB] [-cmdline 'OPTIONS']
//
// -cmdline takes the kernel's command-line options (kernel/cmdline.h:
// gctrace=1 gccheckmark=1 ...) for the programs that read them.

#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernel/glob.h"
#include "mm/malloc_internal.h"
#include "tests/hosted/runner.h"

static const char *program;

// ---- the runner

#define MAX_TESTS 256
#define DEFAULT_TIMEOUT_MS 60000	// sanitizers make everything slower

static const struct ktest_case *tests[MAX_TESTS];
static int ntests;

void ktest_register(const struct ktest_case *tc)
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "ktest_register: more than %d tests\n", MAX_TESTS);
		abort();
	}
	tests[ntests++] = tc;
}

// Constructors run in no promised order: sort by file, then line.
static int by_place(const void *a, const void *b)
{
	const struct ktest_case *x = *(const struct ktest_case *const *)a, *y = *(const struct ktest_case *const *)b;
	int c = strcmp(x->file, y->file);
	return c ? c : x->line - y->line;
}

void kt_fail(struct kt *t, const char *file, int line, const char *fmt, ...)
{
	char msg[sizeof(t->reason)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t->failures++ == 0)
		snprintf(t->reason, sizeof(t->reason), "%s:%d: %s", kbasename(file), line, msg);
	if (!t->quiet)
		printf("    # %s: %s:%d: %s\n", t->tc->name, kbasename(file), line, msg);
}

void kt_abort(struct kt *t)
{
	longjmp(t->abort, 1);
}

void kt_skip(struct kt *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!t->skipped)
		vsnprintf(t->reason, sizeof(t->reason), fmt, ap);
	va_end(ap);
	t->skipped = true;
	kt_abort(t);
}

static __thread struct kt *panic_catcher;

static void catch_panic(const char *msg)
{
	struct kt *t = panic_catcher;
	if (!t || !t->panic_armed)
		return;		// not ours: the panic goes on
	t->panic_armed = false;
	panic_catcher = NULL;
	hosted_panic_hook = NULL;
	snprintf(t->panic_msg, sizeof(t->panic_msg), "%s", msg);
	hosted_preempt_reset(t->panic_preempt_count);
	longjmp(t->panic_jb, 1);
}

void kt_panic_arm(struct kt *t)
{
	t->panic_armed = true;
	t->panic_preempt_count = preempt_count();
	panic_catcher = t;
	hosted_panic_hook = catch_panic;
}

void kt_panic_disarm(struct kt *t)
{
	t->panic_armed = false;
	panic_catcher = NULL;
	hosted_panic_hook = NULL;
}

static const char *running_test;

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = ": a test timed out: ";
	write(2, program, strlen(program));
	write(2, msg, sizeof(msg) - 1);
	write(2, running_test, strlen(running_test));
	write(2, "\n", 1);
	abort();	// the sanitizers (if any) print where everyone was
}

// Runs one test; 0 pass, 1 fail, 2 skip.
static int run_one(const struct ktest_case *tc, int no)
{
	static struct kt t;
	memset(&t, 0, sizeof(t));
	t.tc = tc;
	running_test = tc->name;
	alarm((tc->timeout_ms ? tc->timeout_ms : DEFAULT_TIMEOUT_MS) / 1000 + 1);
	if (setjmp(t.abort) == 0)
		tc->fn(&t);
	alarm(0);
	kt_panic_disarm(&t);
	if (preempt_count() != 0) {
		kt_fail(&t, __FILE__, __LINE__, "left preemption disabled (count %d)", preempt_count());
		hosted_preempt_reset(0);
	}
	if (hosted_cpu() != 0)
		kt_fail(&t, __FILE__, __LINE__, "ended on cpu %d, not 0", hosted_cpu());
	char why[200];
	hosted_program_quiesce();
	if (!heap_check(why, sizeof(why)))
		kt_fail(&t, __FILE__, __LINE__, "heap invariants after the test: %s", why);
	if (t.failures) {
		printf("    not ok %d %s # %s\n", no, tc->name, t.reason);
		return 1;
	}
	if (t.skipped) {
		printf("    ok %d %s # SKIP %s\n", no, tc->name, t.reason);
		return 2;
	}
	printf("    ok %d %s\n", no, tc->name);
	return 0;
}

static int run_tests(const char *glob)
{
	qsort(tests, (size_t)ntests, sizeof(tests[0]), by_place);
	const char *suites[32];
	int nsuites = 0, counts[3] = {0, 0, 0};
	for (int i = 0; i < ntests; i++) {
		if (!glob_match(glob, tests[i]->name))
			continue;
		int s;
		for (s = 0; s < nsuites && strcmp(suites[s], tests[i]->suite) != 0; s++)
			;
		if (s == nsuites && nsuites < (int)ARRAY_SIZE(suites))
			suites[nsuites++] = tests[i]->suite;
	}
	printf("KTAP version 1\n1..%d\n", nsuites);
	for (int s = 0; s < nsuites; s++) {
		int n = 0, no = 0, failed = 0;
		for (int i = 0; i < ntests; i++)
			n += strcmp(tests[i]->suite, suites[s]) == 0 && glob_match(glob, tests[i]->name);
		printf("    KTAP version 1\n    # Subtest: %s\n    1..%d\n", suites[s], n);
		for (int i = 0; i < ntests; i++) {
			if (strcmp(tests[i]->suite, suites[s]) != 0 || !glob_match(glob, tests[i]->name))
				continue;
			fflush(stdout);
			int r = run_one(tests[i], ++no);
			counts[r]++;
			failed |= r == 1;
		}
		printf("%s %d %s\n", failed ? "not ok" : "ok", s + 1, suites[s]);
	}
	printf("# %s: %d passed, %d failed, %d skipped\n", program, counts[0], counts[1], counts[2]);
	fflush(stdout);
	return counts[1] ? 1 : 0;
}

// ---- main

const char *hosted_cmdline = "";

int main(int argc, char **argv)
{
	unsigned ncpus = 4;
	const char *glob = "*";
	program = kbasename(argv[0]);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-cpus") && i + 1 < argc)
			ncpus = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "-run") && i + 1 < argc)
			glob = argv[++i];
		else if (!strcmp(argv[i], "-cmdline") && i + 1 < argc)
			hosted_cmdline = argv[++i];
		else {
			fprintf(stderr, "usage: %s [-cpus N] [-run GLOB] [-cmdline 'OPTIONS']\n", argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	hosted_init(ncpus);
	hosted_cpu_enter(0);
	hosted_program_init();
	return run_tests(glob);
}
