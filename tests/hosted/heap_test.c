// The heap's unit tests in the hosted build: the kernel's heap tests
// (tests/kernel/test_heap.c, built here unchanged through
// tests/hosted/kcompat/), tests of the hosted platform itself, and of the
// heap under real parallelism, run by tests/hosted/runner.c.
//
//	heap_test [-cpus N] [-run GLOB]

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "kernel/glob.h"
#include "mm/malloc_internal.h"
#include "tests/hosted/runner.h"

// ---- the hosted platform

// sleep_ms: the whole time, whatever preemption signals arrive meanwhile.
static void sleep_ms(unsigned ms)
{
	struct timespec left = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
}

KTEST(hosted, commit_zeroes_release_drops)
{
	// Pages at the far end of the range, where the heap never grows in
	// these tests.
	u64 va = PLAT_HEAP_BASE + PLAT_HEAP_SIZE - (1 << 20), len = 256 << 10;
	u64 p0[FT_NTAGS], p1[FT_NTAGS];
	hosted_page_stats(p0);
	KT_ASSERT(t, plat_heap_commit(va, len), "commit failed");
	hosted_page_stats(p1);
	KT_EXPECT_EQ(t, p1[FT_HEAP] - p0[FT_HEAP], len / PAGE_SIZE);
	u8 *b = (u8 *)va;
	for (u64 i = 0; i < len; i += 512)
		KT_EXPECT(t, b[i] == 0, "fresh page byte %lu is %u", i, b[i]);
	memset(b, 0x5a, len);
	plat_heap_release(va, len);
	hosted_page_stats(p1);
	KT_EXPECT_EQ(t, p1[FT_HEAP], p0[FT_HEAP]);
	KT_ASSERT(t, plat_heap_commit(va, len), "second commit failed");
	for (u64 i = 0; i < len; i += 512)
		KT_EXPECT(t, b[i] == 0, "re-committed byte %lu is %#x", i, b[i]);
	plat_heap_release(va, len);
	// The frame limit makes commits fail, as running out of frames does.
	hosted_set_frame_limit(1);
	KT_EXPECT(t, !plat_heap_commit(va, len), "commit past the frame limit succeeded");
	hosted_set_frame_limit(0);
	hosted_page_stats(p1);
	KT_EXPECT_EQ(t, p1[FT_HEAP], p0[FT_HEAP]);
}

static struct {
	int stage;		// handshakes between the test and its thread
	int written;
	int entered;
} stw_t;

static void stw_region_thread(void *arg)
{
	(void)arg;
	preempt_disable();
	__atomic_store_n(&stw_t.stage, 1, __ATOMIC_SEQ_CST);
	sleep_ms(50);		// the stopper must wait for this
	__atomic_store_n(&stw_t.written, 1, __ATOMIC_RELAXED);
	preempt_enable();
	while (__atomic_load_n(&stw_t.stage, __ATOMIC_SEQ_CST) != 2)
		sched_yield();
	preempt_disable();	// the world is stopped now: waits for stw_end
	__atomic_store_n(&stw_t.entered, 1, __ATOMIC_SEQ_CST);
	preempt_enable();
}

static void stw_handshake(struct kt *t)
{
	if (ncpus_online < 2)
		kt_skip(t, "needs 2 CPUs");
	memset(&stw_t, 0, sizeof(stw_t));
	struct thread *th = thread_create("stw", stw_region_thread, NULL, 1);
	KT_ASSERT(t, th, "thread_create failed");
	while (__atomic_load_n(&stw_t.stage, __ATOMIC_SEQ_CST) != 1)
		sched_yield();
	stw_begin();
	KT_EXPECT(t, __atomic_load_n(&stw_t.written, __ATOMIC_RELAXED), "stw_begin returned inside a region");
	__atomic_store_n(&stw_t.stage, 2, __ATOMIC_SEQ_CST);
	sleep_ms(50);
	KT_EXPECT(t, !__atomic_load_n(&stw_t.entered, __ATOMIC_SEQ_CST),
		  "a thread entered a region during stop-the-world");
	stw_end();
	thread_join(th);
	KT_EXPECT(t, stw_t.entered, "the region after stw_end never ran");
}

KTEST(hosted, stw_waits_for_regions_and_holds_them_off)
{
	stw_handshake(t);
}

static void take_cpu1(void *arg)
{
	int *order = arg;
	// In a region: a thread that waits for a slot asks its holder for it
	// after 2 ms, and one outside a region hands it over at once.
	preempt_disable();
	__atomic_store_n(order, 1, __ATOMIC_SEQ_CST);	// has cpu 1
	sleep_ms(30);
	__atomic_store_n(order, 2, __ATOMIC_SEQ_CST);	// about to leave it
	preempt_enable();
}

KTEST(hosted, a_cpu_slot_has_one_thread)
{
	if (ncpus_online < 2)
		kt_skip(t, "needs 2 CPUs");
	int order = 0;
	struct thread *th = thread_create("slot", take_cpu1, &order, 1);
	KT_ASSERT(t, th, "thread_create failed");
	while (__atomic_load_n(&order, __ATOMIC_SEQ_CST) == 0)
		sched_yield();
	hosted_cpu_exit();
	hosted_cpu_enter(1);	// waits for the thread to leave cpu 1
	KT_EXPECT(t, __atomic_load_n(&order, __ATOMIC_SEQ_CST) == 2, "entered cpu 1 while it was held");
	KT_EXPECT(t, this_cpu_id() == 1, "this_cpu_id() is %u on cpu 1", this_cpu_id());
	hosted_cpu_exit();
	hosted_cpu_enter(0);
	thread_join(th);
}

KTEST(hosted, recursive_spinlock_panics)
{
	static struct spinlock l = SPINLOCK_INIT("test");
	bool f = spin_lock_irqsave(&l);
	if (KT_PANIC_TRY(t)) {
		spin_lock_irqsave(&l);
		kt_panic_disarm(t);
		KT_ASSERT(t, false, "taking a held lock again did not panic");
	}
	KT_EXPECT(t, strstr(t->panic_msg, "recursion"), "panic: %s", t->panic_msg);
	KT_EXPECT(t, preempt_count() == 1, "preempt count %d after the catch", preempt_count());
	spin_unlock_irqrestore(&l, f);
}

// ---- the heap under real parallelism

#define STRESS_OBJS 4000

static struct {
	int stop;
	unsigned done;		// allocators finished
	int bad[MAX_CPUS];
	u32 n[MAX_CPUS];
	u64 *objs[MAX_CPUS][STRESS_OBJS];
	u64 sizes[MAX_CPUS][STRESS_OBJS];
} stress;

// Allocates small and large objects, stamps each and checks all its own
// objects are still intact. It frees nothing (the test does, once the
// collections are over), so every collection must keep them all.
static void stress_allocator(void *arg)
{
	unsigned me = (unsigned)(u64)arg;
	u64 **objs = stress.objs[me], *sizes = stress.sizes[me];
	u32 n = 0, seed = me * 7919 + 1;
	while (n < STRESS_OBJS && !__atomic_load_n(&stress.stop, __ATOMIC_RELAXED)) {
		seed = seed * 1103515245 + 12345;
		u64 size = seed % 97 == 0 ? (40 << 10) + seed % 30000 : 8 + (seed >> 8) % 2000;
		u64 *p = seed % 3 ? gc_alloc_noscan(size) : gc_alloc_scan(size);
		if (!p) {
			stress.bad[me]++;
			break;
		}
		for (u64 w = 0; w < size / 8; w++)
			if (p[w] != 0) {
				stress.bad[me]++;
				break;
			}
		for (u64 w = 0; w < size / 8; w++)
			p[w] = (u64)me << 56 | (u64)n << 24 | w;
		objs[n] = p;
		sizes[n++] = size;
	}
	for (u32 i = 0; i < n; i++)
		for (u64 w = 0; w < sizes[i] / 8; w++)
			if (objs[i][w] != ((u64)me << 56 | (u64)i << 24 | w)) {
				stress.bad[me]++;
				break;
			}
	stress.n[me] = n;
	__atomic_add_fetch(&stress.done, 1, __ATOMIC_RELEASE);
}

static void collect_while_allocating(struct kt *t)
{
	if (ncpus_online < 2)
		kt_skip(t, "needs 2 CPUs");
	memset(&stress, 0, sizeof(stress));
	struct thread *th[MAX_CPUS];
	for (unsigned c = 1; c < ncpus_online; c++) {
		th[c] = thread_create("stress", stress_allocator, (void *)(u64)c, (int)c);
		KT_ASSERT(t, th[c], "thread_create failed");
	}
	static struct memstats m;
	char why[160];
	int rounds = 0;
	struct hosted_stw_stats s0, s1;
	hosted_stw_stats(&s0);
	// Until every allocator is through (at least 200 rounds).
	for (; rounds < 200 || __atomic_load_n(&stress.done, __ATOMIC_ACQUIRE) < ncpus_online - 1; rounds++) {
		heap_test_collect();
		read_memstats(&m);
		KT_EXPECT(t, m.heap_objects == m.mallocs - m.frees, "round %d: HeapObjects %lu", rounds,
			  m.heap_objects);
		KT_EXPECT(t, heap_check(why, sizeof(why)), "round %d: %s", rounds, why);
		if (t->failures)
			break;
	}
	__atomic_store_n(&stress.stop, 1, __ATOMIC_RELAXED);
	for (unsigned c = 1; c < ncpus_online; c++) {
		thread_join(th[c]);
		KT_EXPECT(t, stress.bad[c] == 0, "cpu %u: %d objects not zeroed, lost or overwritten", c,
			  stress.bad[c]);
		for (u32 i = 0; i < stress.n[c]; i++)
			heap_test_free(stress.objs[c][i]);
	}
	hosted_stw_stats(&s1);
	heap_test_collect();
	if (!t->quiet)
		printf("    # %d collections and MemStats reads: stop-the-world %lu times, %lu us on average\n",
		       rounds, s1.count - s0.count, (s1.total_ns - s0.total_ns) / 1000 / MAX(s1.count - s0.count, 1));
}

KTEST_TIMEOUT(heap_parallel, collect_and_memstats_while_allocating, 120000)
{
	collect_while_allocating(t);
}

#define LARGE_OBJS 4000

static struct {
	int done;
	u32 n;
	void *objs[LARGE_OBJS];
} large;

static void large_allocator(void *arg)
{
	(void)arg;
	while (large.n < LARGE_OBJS) {
		void *p = gc_alloc_noscan(40 << 10);
		if (!p)
			break;
		large.objs[large.n++] = p;
	}
	__atomic_store_n(&large.done, 1, __ATOMIC_RELEASE);
}

// A large object's span is in use (on heap.inuse) from mheap_use on; a
// collection that stopped the world before alloc_large had filled it in
// swept a span without bitmaps (fixed: alloc_large disables preemption
// from there; it zeroes the span before, while the span is BUSY).
KTEST_TIMEOUT(heap_parallel, large_allocations_during_collections, 120000)
{
	if (ncpus_online < 2)
		kt_skip(t, "needs 2 CPUs");
	memset(&large, 0, sizeof(large));
	struct thread *th = thread_create("large", large_allocator, NULL, 1);
	KT_ASSERT(t, th, "thread_create failed");
	int rounds = 0;
	while (!__atomic_load_n(&large.done, __ATOMIC_ACQUIRE)) {
		heap_test_collect();
		rounds++;
	}
	thread_join(th);
	KT_EXPECT(t, large.n == LARGE_OBJS, "%u large objects allocated: %s", large.n, gc_alloc_error());
	for (u32 i = 0; i < large.n; i++) {
		KT_EXPECT(t, gc_object_base(large.objs[i]) == large.objs[i], "large object %u (%p) lost", i,
			  large.objs[i]);
		heap_test_free(large.objs[i]);
	}
	heap_test_collect();
	if (!t->quiet)
		printf("    # %d collections during %u large allocations\n", rounds, large.n);
}

void hosted_program_init(void)
{
	heap_init();
}

void hosted_program_quiesce(void)
{
	// Nothing runs in the background here.
}
