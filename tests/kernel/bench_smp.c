// Multiprocessor benchmarks: a context switch between two threads on one
// CPU, a cross-CPU call's round trip, stop-the-world with idle and with
// busy CPUs, and an uncontended spinlock. The benchmark runner's thread
// ("main", kernel/sched.c) is pinned to CPU 0; kernel/smp.h and
// kernel/thread.h describe what is measured.

#include "kernel/cpu.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/thread.h"
#include "kernel/x86.h"
#include "tests/kernel/kbench.h"

// ---------------------------------------------------------------- context switch

// Two threads pinned to one CPU take turns through thread_yield. Before
// each yield a thread writes its id into `last`; after it, the id is the
// other's if the other ran in between. Counting those yields proves the
// benchmark timed switches and not yields that found nobody to switch to.
struct pingpong {
	int ready;		// threads that have started; atomic (runner reads it)
	int go;			// set by the runner once both are ready; atomic
	// Touched only by the two threads, which share a CPU and switch
	// through function calls, so plain accesses see each other's stores.
	int last;
	struct pingpong_side {
		struct pingpong *pp;
		int id;
		u64 yields;		// this thread's share of b->n
		u64 after_other;	// yields after which the other had run
	} side[2];
};

static void pingpong_thread(void *arg)
{
	struct pingpong_side *me = arg;
	struct pingpong *pp = me->pp;
	// Release/acquire: the runner's setup of *pp is seen before go.
	__atomic_add_fetch(&pp->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&pp->go, __ATOMIC_ACQUIRE))
		thread_yield();		// with the other thread, or alone until it exists
	for (u64 i = 0; i < me->yields; i++) {
		pp->last = me->id;
		thread_yield();
		if (pp->last != me->id)
			me->after_other++;
	}
	pp->last = me->id;	// the other's last yield came back after this thread ran
}

// One op: one switch. The threads split b->n yields; creating and joining
// them is not timed, waking the runner after the last exit is (once per
// call, amortized over n).
KBENCH(ContextSwitch)
{
	static struct pingpong pp;
	int cpu = (int)ncpus_online - 1;	// CPU 0 when it is the only one

	kb_stop_timer(b);
	memset(&pp, 0, sizeof(pp));
	pp.last = -1;
	for (int i = 0; i < 2; i++) {
		pp.side[i].pp = &pp;
		pp.side[i].id = i;
	}
	pp.side[0].yields = (b->n + 1) / 2;
	pp.side[1].yields = b->n / 2;
	struct thread *t[2];
	t[0] = thread_create("pingpong/0", pingpong_thread, &pp.side[0], cpu);
	t[1] = t[0] ? thread_create("pingpong/1", pingpong_thread, &pp.side[1], cpu) : NULL;
	if (!t[1]) {
		if (t[0]) {
			pp.side[0].yields = 0;
			__atomic_store_n(&pp.go, 1, __ATOMIC_RELEASE);
			thread_join(t[0]);
		}
		kb_fail(b, "out of memory for two threads");
		return;
	}
	// On CPU 0 the yields let them start; on another CPU this spins.
	while (__atomic_load_n(&pp.ready, __ATOMIC_ACQUIRE) < 2)
		thread_yield();

	kb_start_timer(b);
	__atomic_store_n(&pp.go, 1, __ATOMIC_RELEASE);
	thread_join(t[0]);
	thread_join(t[1]);
	kb_stop_timer(b);

	// Every yield should switch, but for the last one of a thread with the
	// extra yield (n odd) and, on CPU 0, the runner taking a turn when it
	// is woken by the first exit.
	u64 switched = pp.side[0].after_other + pp.side[1].after_other;
	if (switched + 2 + b->n / 1000 < b->n)
		kb_fail(b, "threads on cpu %d did not alternate: %lu of %lu yields switched to the other "
			"thread (%lu of %lu, %lu of %lu)", cpu, switched, b->n, pp.side[0].after_other,
			pp.side[0].yields, pp.side[1].after_other, pp.side[1].yields);
}

// ---------------------------------------------------------------- cross-CPU call

static void call_nothing(void *arg)
{
	(void)arg;
}

static void call_where(void *arg)
{
	*(unsigned *)arg = this_cpu_id();	// in the IPI handler: interrupts off
}

// One op: smp_call to the last CPU, which idles in hlt between calls, and
// back: IPI out, the empty function, the completion flag seen by the caller.
KBENCH(IPIRoundTrip)
{
	if (ncpus_online < 2) {
		kb_skip(b, "needs 2 CPUs, %u online", ncpus_online);
		return;
	}
	unsigned cpu = ncpus_online - 1;
	for (u64 i = 0; i < b->n; i++)
		smp_call(cpu, call_nothing, NULL);

	kb_stop_timer(b);
	unsigned ran_on = ~0u;
	smp_call(cpu, call_where, &ran_on);
	if (ran_on != cpu)
		kb_fail(b, "smp_call(cpu %u) ran the function on cpu %u", cpu, ran_on);
}

// ---------------------------------------------------------------- stop the world

// stw_begin's return values (the time to park every other CPU), one every
// `stride` iterations so they span the whole call; for the median.
#define STW_SAMPLES 4096
static u64 stw_samples[STW_SAMPLES];

// sort_u64: Shell sort, gaps 1, 4, 13, 40, ... (Knuth): a few thousand
// values sort in well under a millisecond, even emulated.
static void sort_u64(u64 *a, u64 n)
{
	u64 gap = 1;
	while (gap < n / 3)
		gap = 3 * gap + 1;
	for (; gap > 0; gap /= 3)
		for (u64 i = gap; i < n; i++) {
			u64 v = a[i], j = i;
			for (; j >= gap && a[j - gap] > v; j -= gap)
				a[j] = a[j - gap];
			a[j] = v;
		}
}

// stw_loop: b->n stops and restarts, timed; then (untimed) the
// p50-stw-begin-ns and max-stw-begin-ns metrics.
static void stw_loop(struct kb *b)
{
	u64 stride = (b->n + STW_SAMPLES - 1) / STW_SAMPLES, nsamples = 0, max = 0;
	for (u64 i = 0, next = 0; i < b->n; i++) {
		u64 ns = stw_begin();
		stw_end();
		if (i == next) {
			stw_samples[nsamples++] = ns;
			next += stride;
		}
		max = MAX(max, ns);
	}
	kb_stop_timer(b);
	sort_u64(stw_samples, nsamples);
	u64 mid = nsamples / 2;
	if (nsamples % 2)
		kb_report_metric(b, stw_samples[mid], 1, "p50-stw-begin-ns");
	else
		kb_report_metric(b, stw_samples[mid - 1] + stw_samples[mid], 2, "p50-stw-begin-ns");
	kb_report_metric(b, max, 1, "max-stw-begin-ns");
}

// The other CPUs sit in hlt; each stop wakes them with its IPI.
KBENCH_SUB(STW, idle, "idle")
{
	stw_loop(b);
}

// One thread per other CPU spins with interrupts on, so each stop parks it
// on the way out of the IPI (a preemptible point).
struct spinner {
	volatile u64 count;	// volatile: every iteration is a real store, not optimized away
	int started;		// atomic: set once the thread runs
} __attribute__((aligned(64)));	// one cache line per CPU: no false sharing

static struct spinner spinners[MAX_CPUS];
static int spinners_stop;	// atomic: the runner asks them to return

static void spinner_thread(void *arg)
{
	struct spinner *s = arg;
	__atomic_store_n(&s->started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&spinners_stop, __ATOMIC_RELAXED))
		s->count++;
}

// stop_spinners: asks threads t[1..n-1] (NULL ones skipped) to return and
// joins them.
static void stop_spinners(struct thread **t, unsigned n)
{
	__atomic_store_n(&spinners_stop, 1, __ATOMIC_RELAXED);
	for (unsigned c = 1; c < n; c++)
		if (t[c])
			thread_join(t[c]);
}

KBENCH_SUB(STW, busy, "busy")
{
	static struct thread *t[MAX_CPUS];
	unsigned n = ncpus_online;

	if (n < 2) {
		kb_skip(b, "no other CPU to keep busy (%u online)", n);
		return;
	}
	kb_stop_timer(b);
	memset(spinners, 0, sizeof(spinners));
	memset(t, 0, sizeof(t));
	__atomic_store_n(&spinners_stop, 0, __ATOMIC_RELAXED);
	for (unsigned c = 1; c < n; c++) {
		char name[THREAD_NAME_MAX];
		ksnprintf(name, sizeof(name), "stw-spinner/%u", c);
		t[c] = thread_create(name, spinner_thread, &spinners[c], (int)c);
		if (!t[c]) {
			stop_spinners(t, c);
			kb_fail(b, "out of memory for spinner thread %u", c);
			return;
		}
	}
	for (unsigned c = 1; c < n; c++)
		while (!__atomic_load_n(&spinners[c].started, __ATOMIC_ACQUIRE))
			cpu_relax();

	kb_start_timer(b);
	stw_loop(b);	// stops the timer

	// Each other CPU was busy with its spinner, not idle: a spinner never
	// blocks, so it stays its CPU's current thread (parking runs on its
	// stack, in the interrupt). Not a count of its iterations: with more
	// vCPUs than host cores one may not get to run between two stops.
	for (unsigned c = 1; c < n; c++) {
		struct thread *cur = __atomic_load_n(&cpus[c].current, __ATOMIC_RELAXED);
		if (cur != t[c])
			kb_fail(b, "cpu %u is running %s, not its spinner", c, cur ? cur->name : "nothing");
	}
	stop_spinners(t, n);
}

// ---------------------------------------------------------------- spinlock

// One op: take and release a lock no other CPU touches (interrupts and
// preemption off and on again, owner bookkeeping, the ticket).
KBENCH(SpinlockUncontended)
{
	static struct spinlock lock = SPINLOCK_INIT("bench private");
	for (u64 i = 0; i < b->n; i++) {
		bool f = spin_lock_irqsave(&lock);
		spin_unlock_irqrestore(&lock, f);
	}
	if (lock.next != lock.serving || lock.owner_cpu != -1 || !irqs_enabled())
		kb_fail(b, "lock left inconsistent: next %u serving %u owner cpu %d, interrupts %s",
			lock.next, lock.serving, lock.owner_cpu, irqs_enabled() ? "on" : "off");
}
