// The in-kernel test runner: selection by glob, KTAP output, failure
// recording, fault catching, per-test timeout and panic reporting.

#include "tests/kernel/ktest.h"
#include "gc/gc.h"
#include "drivers/qemu_exit.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/glob.h"
#include "kernel/layout.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

extern const struct ktest_case __start_ktests[], __stop_ktests[];

#define MAX_SUITES 128

// The run in progress. Only the thread running the tests writes these;
// timer interrupts and panics (any CPU) read them.
static struct {
	struct kt *cur;			// the running test, or NULL
	struct thread *thread;		// the thread running the tests
	int case_no;			// its number within the suite
	int suite_no;			// its suite's number in the top-level plan
	const char *suite;
	volatile u64 deadline_ns;	// 0: no test running
	u32 timeout_ms;
} run;

void kt_fail(struct kt *t, const char *file, int line, const char *fmt, ...)
{
	char msg[sizeof(t->reason)];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *base = kbasename(file);	// "tests/kernel/x.c" -> "x.c"
	if (t->failures++ == 0)
		ksnprintf(t->reason, sizeof(t->reason), "%s:%d: %s", base, line, msg);
	if (!t->quiet)
		kprintf("    # %s: %s:%d: %s\n", t->tc->name, base, line, msg);
}

void kt_abort(struct kt *t)
{
	klong_jmp(&t->abort, 1);
}

void kt_skip(struct kt *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(t->reason, sizeof(t->reason), fmt, ap);
	va_end(ap);
	t->skipped = true;
	kt_abort(t);
}

// Claims an exception raised by a thread that armed a catch (KT_FAULT_TRY
// in the test, KT_FAULT_CATCH in a helper thread): records it and resumes
// that thread at its arming point.
static void catch_fault(struct trapframe *tf, u64 cr2)
{
	struct thread *th = current_thread();
	struct kt_fault *f = th ? th->fault_catch : NULL;
	if (!f || !f->armed)
		return;
	f->armed = false;
	th->fault_catch = NULL;
	this_cpu()->preempt_count = f->preempt_count;
	f->vector = tf->vector;
	f->error = tf->error;
	f->cr2 = cr2;
	f->rip = tf->rip;
	trap_describe(tf, cr2, f->report, sizeof(f->report));
	if (f->irqs_were_on)
		sti();	// the trap gate cleared IF; the thread ran with it set
	klong_jmp(&f->jb, 1);
}

void kt_fault_arm_on(struct kt_fault *f)
{
	memset(f, 0, sizeof(*f));
	f->irqs_were_on = irqs_enabled();
	f->preempt_count = preempt_count();
	trap_catch_hook = catch_fault;
	f->armed = true;
	current_thread()->fault_catch = f;
}

void kt_fault_disarm_on(struct kt_fault *f)
{
	f->armed = false;
	current_thread()->fault_catch = NULL;
}

void kt_fault_arm(struct kt *t) { kt_fault_arm_on(&t->fault); }
void kt_fault_disarm(struct kt *t) { kt_fault_disarm_on(&t->fault); }

static void catch_panic(const char *msg)
{
	struct kt *t = run.cur;
	if (!t || !t->panic_armed || current_thread() != run.thread)
		return;
	t->panic_armed = false;
	// The panicking code may have held locks' preemption counts; the
	// locks themselves must be free (see KT_PANIC_TRY).
	this_cpu()->preempt_count = t->panic_preempt_count;
	strlcpy(t->panic_msg, msg, sizeof(t->panic_msg));
	if (t->panic_irqs_were_on)
		sti();	// panic() turned interrupts off
	klong_jmp(&t->panic_jb, 1);
}

void kt_panic_arm(struct kt *t)
{
	t->panic_msg[0] = 0;
	t->panic_irqs_were_on = irqs_enabled();
	t->panic_preempt_count = preempt_count();
	panic_catch_hook = catch_panic;
	t->panic_armed = true;
}

void kt_panic_disarm(struct kt *t)
{
	t->panic_armed = false;
}

// Reports the running test as failed and ends the run (panic, timeout).
static void __noreturn end_run(const char *why, const char *msg)
{
	if (run.cur) {
		kprintf("    not ok %d %s # %s%s\n", run.case_no, run.cur->tc->name, why, msg);
		kprintf("not ok %d %s\n", run.suite_no, run.suite);
		kprintf("# ktest: run ended early by %s%s in %s\n", why, msg, run.cur->tc->name);
	}
	qemu_exit(QEMU_EXIT_FAILURE);
}

void ktest_on_panic(const char *msg)
{
	if (run.cur)
		end_run("panic: ", msg);
}

void ktest_tick(const struct trapframe *tf)
{
	u64 d = __atomic_load_n(&run.deadline_ns, __ATOMIC_RELAXED);
	if (!d || nanotime() <= d)
		return;
	struct thread *tt = run.thread;
	bool here = current_thread() == tt;
	if (!here && __atomic_load_n(&tt->state, __ATOMIC_RELAXED) == TS_RUNNING)
		return;		// its own CPU's tick reports it, with its registers
	if (!__atomic_compare_exchange_n(&run.deadline_ns, &d, 0, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;		// another CPU is reporting
	u64 rip = tf->rip, rbp = tf->rbp;
	if (!here) {
		// Switched out: swtch's frame is r15 r14 r13 r12 rbx rbp, return address.
		const u64 *sp = (const u64 *)tt->rsp;
		rbp = sp[5];
		rip = sp[6];
	}
	char msg[48];
	console_panic_mode();
	bool f = console_lock();
	kprintf_locked("ktest: %s exceeded its %u ms timeout; it was %s here:\n", run.cur->tc->name,
		       run.timeout_ms, here ? "interrupted" : "switched out");
	backtrace_print_locked(rip, rbp);
	console_unlock(f);
	ksnprintf(msg, sizeof(msg), "%u ms", run.timeout_ms);
	end_run("timeout after ", msg);
}

static void inject(struct kt *t)
{
	if (kconfig.inject == INJECT_NONE || !glob_match(kconfig.inject_glob, t->tc->name))
		return;
	switch (kconfig.inject) {
	case INJECT_PANIC:
		panic("forced panic (testinject=panic:%s)", kconfig.inject_glob);
	case INJECT_PAGEFAULT:
		(void)*(volatile u64 *)UNMAPPED_TEST_VA;
		break;
	case INJECT_HANG:
		sti();
		for (;;)
			cpu_relax();
	case INJECT_TRIPLE:
		trap_triple_fault();
	default:
		break;
	}
}

#define SLOW_TEST_MS 1000

// Runs one test; returns 0 pass, 1 fail, 2 skip.
static int run_one(const struct ktest_case *tc, int no)
{
	static struct kt t;	// static: tests may be deep; keep the frame small
	memset(&t, 0, sizeof(t));
	t.tc = tc;
	run.cur = &t;
	run.case_no = no;
	run.timeout_ms = tc->timeout_ms ? tc->timeout_ms : kconfig.testtimeout_ms;
	u64 start = nanotime();
	run.deadline_ns = start + (u64)run.timeout_ms * 1000000;
	sti();
	// Every test starts with the collector idle (no cycle running, the
	// sweeper done): its background work moves frame counts. A test that
	// runs with it off starts with the garbage collected: it could not be
	// during the test (on -m 32M the heap tests ran out of frames after
	// the gc suite's last test left 19 MiB of it).
	if (tc->flags & KT_NOGC)
		gc_collect();
	gc_wait_idle();
	if (tc->flags & KT_NOGC)
		gc_disable();
	if (kset_jmp(&t.abort) == 0) {
		inject(&t);
		tc->fn(&t);
	}
	sti();		// a test may have left interrupts off when it aborted
	if (tc->flags & KT_NOGC)
		gc_enable();
	current_thread()->fault_catch = NULL;
	panic_catch_hook = NULL;
	run.deadline_ns = 0;
	if (kconfig.inject == INJECT_FAIL && glob_match(kconfig.inject_glob, tc->name))
		kt_fail(&t, __FILE__, __LINE__, "forced failure (testinject=fail:%s)", kconfig.inject_glob);
	run.cur = NULL;
	// Where make test's time goes (emulated time: for finding the long
	// tests, never for judging them).
	u64 ms = (nanotime() - start) / 1000000;
	if (ms >= SLOW_TEST_MS)
		kprintf("    # %s took %lu ms\n", tc->name, ms);
	if (t.failures) {
		kprintf("    not ok %d %s # %s\n", no, tc->name, t.reason);
		return 1;
	}
	if (t.skipped) {
		kprintf("    ok %d %s # SKIP %s\n", no, tc->name, t.reason);
		return 2;
	}
	kprintf("    ok %d %s\n", no, tc->name);
	return 0;
}

void ktest_run(const char *glob)
{
	const char *suites[MAX_SUITES];
	int nsuites = 0, counts[3] = {0, 0, 0};
	run.thread = current_thread();

	// Suites in the order their first test appears in the section.
	for (const struct ktest_case *tc = __start_ktests; tc < __stop_ktests; tc++) {
		if (!glob_match(glob, tc->name))
			continue;
		int i;
		for (i = 0; i < nsuites && strcmp(suites[i], tc->suite) != 0; i++)
			;
		if (i == nsuites) {
			if (nsuites == MAX_SUITES)
				panic("ktest: more than %d suites", MAX_SUITES);
			suites[nsuites++] = tc->suite;
		}
	}
	kprintf("KTAP version 1\n1..%d\n", nsuites);
	for (int s = 0; s < nsuites; s++) {
		int n = 0, no = 0, suite_failed = 0;
		for (const struct ktest_case *tc = __start_ktests; tc < __stop_ktests; tc++)
			n += strcmp(tc->suite, suites[s]) == 0 && glob_match(glob, tc->name);
		kprintf("    KTAP version 1\n    # Subtest: %s\n    1..%d\n", suites[s], n);
		run.suite = suites[s];
		run.suite_no = s + 1;
		for (const struct ktest_case *tc = __start_ktests; tc < __stop_ktests; tc++) {
			if (strcmp(tc->suite, suites[s]) != 0 || !glob_match(glob, tc->name))
				continue;
			int r = run_one(tc, ++no);
			counts[r]++;
			suite_failed |= r == 1;
		}
		kprintf("%s %d %s\n", suite_failed ? "not ok" : "ok", s + 1, suites[s]);
	}
	kprintf("# ktest: %d passed, %d failed, %d skipped\n", counts[0], counts[1], counts[2]);
	qemu_exit(counts[1] ? QEMU_EXIT_FAILURE : QEMU_EXIT_SUCCESS);
}
