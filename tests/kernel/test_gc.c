// The collector: garbage is reclaimed and everything reachable survives
// (from globals, registered ranges, stacks, registers, interior
// pointers, through lists, cycles and deep chains); the write barrier
// keeps a graph that threads on every CPU rewire during back-to-back
// cycles intact, checked by gccheckmark; black allocation, assists,
// sweeping, pacing, statistics and the gctrace line.

#include "gc/gc_internal.h"
#include "kernel/cmdline.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "tests/kernel/ktest.h"

struct gnode {
	u64 key;
	struct gnode *next, *other;
	u64 check;		// key * K: corruption shows
};
GC_TYPE(gnode_type, struct gnode, next, other);
#define CHECK_K 0x9e3779b97f4a7c15ull

GC_ROOT(static struct gnode *groot);
GC_ROOT(static void *groot_slots[8]);

static struct gnode *new_node(u64 key)
{
	struct gnode *n = gc_alloc(&gnode_type);
	if (n) {
		n->key = key;
		n->check = key * CHECK_K;
	}
	return n;
}

// collected: p's object was freed by the last collection (its slot is
// no longer allocated). Tests read this only right after gc_collect.
static bool collected(const void *p)
{
	return gc_object_base(p) == NULL;
}

// Conservative stack scanning keeps whatever a stale register or stack
// slot still points to, so tests that expect an object to be collected
// make it, and drop their last reference, on a helper thread that then
// exits (its stack is gone); the test thread only ever holds the
// object's address hidden (xor a constant, in a volatile).
#define HIDE_K 0x5a5a5a5a5a5a5a5aull
static u64 hide(const void *p) { return (u64)p ^ HIDE_K; }
static void *unhide(u64 h) { return (void *)(h ^ HIDE_K); }

static void in_thread(struct kt *t, void (*fn)(void *), void *arg)
{
	struct thread *th = thread_create("gc test helper", fn, arg, THREAD_ANY_CPU);
	KT_ASSERT(t, th, "thread_create failed");
	thread_join(th);
}

static volatile u64 hidden;	// the helpers' result
static volatile bool helper_ok;

// probe_collected: whether the hidden object is freed, looked up on a
// helper thread so the test thread never holds its address.
static void probe(void *arg)
{
	(void)arg;
	helper_ok = collected(unhide(hidden));
}

static bool gone(struct kt *t)
{
	in_thread(t, probe, NULL);
	return helper_ok;
}

static void make_garbage(void *arg)
{
	(void)arg;
	struct gnode *n = new_node(1);
	hidden = hide(n);
	helper_ok = n && gc_object_base(n) == n;
}

KTEST(gc, unreachable_object_is_reclaimed)
{
	in_thread(t, make_garbage, NULL);
	KT_ASSERT(t, helper_ok, "the fresh node is not an allocated object");
	gc_collect();
	KT_EXPECT(t, gone(t), "an unreachable node survived a collection");
}

// build_list: a list of (u64)arg nodes, keys n-1 first down to 0, under
// groot; helper_ok says whether it is whole (else it is garbage and groot
// is untouched), hidden holds its head.
static void build_list(void *arg)
{
	struct gnode *head = NULL;
	helper_ok = false;
	for (u64 i = 0; i < (u64)arg; i++) {
		struct gnode *n = new_node(i);
		if (!n)
			return;
		GC_STORE(n->next, head);
		head = n;
	}
	GC_STORE(groot, head);
	hidden = hide(head);
	helper_ok = true;
}

static void check_list(void *arg)
{
	u64 n = 0;
	helper_ok = true;
	for (struct gnode *p = groot; p; p = p->next, n++)
		if (p->check != p->key * CHECK_K || collected(p))
			helper_ok = false;
	helper_ok = helper_ok && n == (u64)arg;
	GC_STORE(groot, NULL);
}

KTEST(gc, global_root_keeps_a_list)
{
	in_thread(t, build_list, (void *)1000ul);
	KT_ASSERT(t, helper_ok, "allocation failed: %s", gc_alloc_error());
	gc_collect();
	gc_collect();
	in_thread(t, check_list, (void *)1000ul);	// and clears the root
	KT_EXPECT(t, helper_ok, "the list lost or corrupted nodes across two collections");
	gc_collect();
	KT_EXPECT(t, gone(t), "the list survived after its root was cleared");
}

// A ring of 100, reachable only through an interior pointer (to the
// `check` field of one node) in a root slot.
static void build_ring(void *arg)
{
	(void)arg;
	struct gnode *first = new_node(0), *prev = first;
	for (u64 i = 1; first && i < 100; i++) {
		struct gnode *n = new_node(i);
		if (!n)
			return;
		GC_STORE(prev->next, n);
		prev = n;
	}
	GC_STORE(prev->next, first);	// closes the ring
	GC_STORE(groot_slots[3], (void *)&first->check);
	hidden = hide(first);
}

static void check_ring(void *arg)
{
	(void)arg;
	struct gnode *first = (struct gnode *)((u64)groot_slots[3] - __builtin_offsetof(struct gnode, check));
	struct gnode *p = first;
	helper_ok = true;
	for (int i = 0; i < 100; i++, p = p->next)
		if (collected(p) || p->check != p->key * CHECK_K)
			helper_ok = false;
	helper_ok = helper_ok && p == first;
	GC_STORE(groot_slots[3], NULL);
}

KTEST(gc, cycles_and_interior_pointers)
{
	hidden = 0;
	in_thread(t, build_ring, NULL);
	KT_ASSERT(t, hidden, "allocation failed");
	gc_collect();
	in_thread(t, check_ring, NULL);
	KT_EXPECT(t, helper_ok, "the ring lost or corrupted nodes");
	gc_collect();
	KT_EXPECT(t, gone(t), "an unreachable ring survived");
}

static void *range_table[4];	// not a GC_ROOT: registered by the test

static void fill_range(void *arg)
{
	(void)arg;
	struct gnode *n = new_node(7);
	GC_STORE(range_table[2], (void *)n);
	hidden = hide(n);
}

KTEST(gc, registered_range_is_a_root)
{
	KT_ASSERT(t, gc_add_roots(range_table, sizeof(range_table)), "root table full");
	in_thread(t, fill_range, NULL);
	gc_collect();
	KT_EXPECT(t, !gone(t), "an object held by a registered range was freed");
	gc_remove_roots(range_table);
	gc_collect();
	KT_EXPECT(t, gone(t), "an object held by an unregistered range survived");
	range_table[2] = NULL;
}

// A thread that holds a node only in a local (its stack or a register)
// while the test collects.
static struct {
	int phase;		// 1: holding, 2: may check and leave
	volatile u64 hidden;
	bool ok;
} holder;

static void holder_thread(void *arg)
{
	(void)arg;
	struct gnode *n = new_node(42);
	__atomic_store_n(&holder.hidden, hide(n), __ATOMIC_RELEASE);
	__atomic_store_n(&holder.phase, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&holder.phase, __ATOMIC_ACQUIRE) == 1)
		thread_yield();
	holder.ok = n->key == 42 && n->check == 42 * CHECK_K && !collected(n);
	__asm__ volatile("" ::"r"(n));	// n stays live across the wait
}

KTEST(gc, other_threads_stacks_are_roots)
{
	holder.phase = 0;
	holder.ok = false;
	struct thread *th = thread_create("gc holder", holder_thread, NULL, THREAD_ANY_CPU);
	KT_ASSERT(t, th, "thread_create failed");
	while (__atomic_load_n(&holder.phase, __ATOMIC_ACQUIRE) != 1)
		thread_yield();
	gc_collect();
	gc_collect();
	hidden = holder.hidden;
	KT_EXPECT(t, !gone(t), "a node held by another thread's stack was freed");
	__atomic_store_n(&holder.phase, 2, __ATOMIC_RELEASE);
	thread_join(th);
	KT_EXPECT(t, holder.ok, "the holder found its node changed or freed");
	gc_collect();
	KT_EXPECT(t, gone(t), "the node survived its thread");
}

KTEST(gc, own_stack_is_a_root)
{
	struct gnode *n = new_node(9);
	KT_ASSERT(t, n, "allocation failed");
	gc_collect();
	KT_EXPECT(t, !collected(n) && n->check == 9 * CHECK_K, "a node held in a local was freed");
	__asm__ volatile("" ::"r"(n));
}

// A chain of a million nodes: marking uses work buffers, not recursion.
// Built and checked on helper threads (a stale copy of the head on the
// test thread's stack would keep 32 MiB alive for the tests after).
#define CHAIN_NODES 1000000ul

static void check_chain(void *arg)
{
	(void)arg;
	u64 k = 0;
	helper_ok = true;
	for (struct gnode *p = groot; p; p = p->next, k++)
		if (p->check != p->key * CHECK_K || p->key != CHAIN_NODES - 1 - k) {
			helper_ok = false;
			break;
		}
	helper_ok = helper_ok && k == CHAIN_NODES;
	GC_STORE(groot, NULL);
}

KTEST_TIMEOUT(gc, deep_chain_of_a_million, 300000)
{
	in_thread(t, build_list, (void *)CHAIN_NODES);
	if (!helper_ok) {
		gc_collect();
		kt_skip(t, "no memory for %lu nodes", CHAIN_NODES);
	}
	gc_collect();
	in_thread(t, check_chain, NULL);
	KT_EXPECT(t, helper_ok, "the chain lost or corrupted nodes");
	gc_collect();
}

// Reclaiming frees memory: many cycles of garbage keep the heap bounded.
KTEST(gc, garbage_does_not_grow_the_heap)
{
	struct memstats *m = gc_alloc_noscan(sizeof(*m));	// big for a stack
	KT_ASSERT(t, m, "allocation failed");
	GC_STORE(groot_slots[0], (void *)m);
	gc_collect();
	read_memstats(m);
	u64 sys0 = m->heap_sys;
	for (int round = 0; round < 20; round++)
		for (int i = 0; i < 20000; i++)
			KT_ASSERT(t, new_node((u64)i), "allocation failed in round %d: %s", round, gc_alloc_error());
	gc_collect();
	read_memstats(m);
	KT_EXPECT(t, m->heap_sys <= sys0 + (16ul << 20), "HeapSys grew from %lu to %lu for garbage", sys0,
		  m->heap_sys);
	KT_EXPECT(t, m->num_gc >= 2, "NumGC %lu", m->num_gc);
	KT_EXPECT(t, m->frees > 0, "Frees %lu", m->frees);
	KT_EXPECT(t, m->heap_alloc <= m->heap_inuse, "HeapAlloc %lu > HeapInuse %lu", m->heap_alloc,
		  m->heap_inuse);
	GC_STORE(groot_slots[0], NULL);
}

// ---- concurrent mutation with cycles back to back, checked by checkmark

#define MUT_NODES 512
#define MUT_THREADS_MAX 8

static struct {
	int stop;
	int running;
	u64 ops[MUT_THREADS_MAX];
	int bad;
	char why[160];
} mut;

// Each mutator owns a table of nodes (a registered root range) and keeps
// rewiring: a node's `next` and `other` get random nodes of the table;
// entries are replaced by new nodes, dropped, or set from a random
// node's neighbour (so objects reachable only through the heap move into
// the table: the deletion half of the barrier matters).
struct mut_arg {
	unsigned id;
	struct gnode **table;
};

static u64 rnd(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static bool node_ok(const struct gnode *n)
{
	return n->check == n->key * CHECK_K && gc_object_base(n) == n;
}

// await_progress: sleeps until a helper's progress counter moves past
// *seen, then records it. Tests that collect while helpers mutate call it
// before each collection: a collector fast enough (the hosted build) to
// run all its cycles before a helper thread is scheduled would test
// nothing.
static void await_progress(const u64 *count, u64 *seen)
{
	while (__atomic_load_n(count, __ATOMIC_RELAXED) == *seen)
		thread_sleep(1000000);
	*seen = __atomic_load_n(count, __ATOMIC_RELAXED);
}

static void mutator(void *arg)
{
	struct mut_arg *a = arg;
	u64 seed = 0x1234567 + a->id * 7919;
	struct gnode **tab = a->table;
	while (!__atomic_load_n(&mut.stop, __ATOMIC_ACQUIRE)) {
		u64 r = rnd(&seed);
		unsigned i = (unsigned)(r % MUT_NODES), j = (unsigned)((r >> 16) % MUT_NODES);
		struct gnode *x = tab[i], *y = tab[j];
		switch ((r >> 32) % 6) {
		case 0: {
			struct gnode *n = new_node(r);
			if (!n)
				break;
			GC_STORE(n->next, y);
			GC_STORE(tab[i], n);
			break;
		}
		case 1:
			if (x)
				GC_STORE(x->next, y);
			break;
		case 2:
			if (x)
				GC_STORE(x->other, y);
			break;
		case 3:
			if (x && x->next)	// move a heap-only object into the table
				GC_STORE(tab[j], x->next);
			break;
		case 4:
			GC_STORE(tab[i], NULL);
			break;
		default:
			if (x && !node_ok(x) && !__atomic_exchange_n(&mut.bad, 1, __ATOMIC_ACQ_REL))
				ksnprintf(mut.why, sizeof(mut.why), "node %p (key %lu) corrupted or freed", x, x->key);
			if (x && x->next && !node_ok(x->next) && !__atomic_exchange_n(&mut.bad, 1, __ATOMIC_ACQ_REL))
				ksnprintf(mut.why, sizeof(mut.why), "node %p's next %p corrupted or freed", x, x->next);
			break;
		}
		__atomic_store_n(&mut.ops[a->id], mut.ops[a->id] + 1, __ATOMIC_RELAXED);	// await_progress reads it
	}
	__atomic_fetch_sub(&mut.running, 1, __ATOMIC_ACQ_REL);
}

KTEST_TIMEOUT(gc, concurrent_mutation_with_checkmark, 300000)
{
	unsigned n = MIN(ncpus_online, (unsigned)MUT_THREADS_MAX);
	static struct gnode *tables[MUT_THREADS_MAX][MUT_NODES];
	static struct mut_arg args[MUT_THREADS_MAX];
	memset(tables, 0, sizeof(tables));
	memset(&mut, 0, sizeof(mut));
	bool old = gc_set_checkmark(true);
	struct thread *th[MUT_THREADS_MAX];
	for (unsigned i = 0; i < n; i++) {
		KT_ASSERT(t, gc_add_roots(tables[i], sizeof(tables[i])), "root table full");
		args[i] = (struct mut_arg){i, tables[i]};
		th[i] = thread_create("mutator", mutator, &args[i], (int)i);
		KT_ASSERT(t, th[i], "thread_create failed");
	}
	mut.running = (int)n;
	u32 c0 = gc_cycles();
	u64 seen = 0;
	for (int c = 0; c < 50 && !mut.bad; c++) {
		await_progress(&mut.ops[0], &seen);
		gc_collect();	// checkmark panics if a reachable object was missed
	}
	__atomic_store_n(&mut.stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < n; i++)
		thread_join(th[i]);
	gc_set_checkmark(old);
	KT_EXPECT(t, !mut.bad, "%s", mut.why);
	KT_EXPECT(t, gc_cycles() - c0 >= 50, "only %u cycles", gc_cycles() - c0);
	u64 ops = 0;
	for (unsigned i = 0; i < n; i++) {
		ops += mut.ops[i];
		for (unsigned k = 0; k < MUT_NODES; k++)
			if (tables[i][k])
				KT_EXPECT(t, node_ok(tables[i][k]), "table %u entry %u corrupted after the run", i, k);
		gc_remove_roots(tables[i]);
	}
	KT_EXPECT(t, ops > 0, "the mutators did nothing");
	memset(tables, 0, sizeof(tables));
	gc_collect();
}

// ---- black allocation and assists

static struct {
	int stop;
	u64 allocated;
} churn;

static void churner(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&churn.stop, __ATOMIC_ACQUIRE)) {
		struct gnode *keep = new_node(5);
		for (int i = 0; i < 64; i++)
			new_node((u64)i);
		if (keep)
			GC_STORE(groot_slots[5], (void *)keep);
		__atomic_store_n(&churn.allocated, churn.allocated + 65, __ATOMIC_RELAXED);
	}
}

KTEST_TIMEOUT(gc, allocation_during_mark_survives, 300000)
{
	bool old = gc_set_checkmark(true);
	memset(&churn, 0, sizeof(churn));
	struct thread *th = thread_create("churner", churner, NULL, THREAD_ANY_CPU);
	KT_ASSERT(t, th, "thread_create failed");
	u64 seen = 0;
	for (int c = 0; c < 10; c++) {
		await_progress(&churn.allocated, &seen);
		gc_collect();
	}
	__atomic_store_n(&churn.stop, 1, __ATOMIC_RELEASE);
	thread_join(th);
	gc_set_checkmark(old);
	struct gnode *k = groot_slots[5];
	KT_EXPECT(t, k && node_ok(k), "the node the churner kept is gone");
	KT_EXPECT(t, churn.allocated > 0, "the churner allocated nothing");
	GC_STORE(groot_slots[5], NULL);
}

// ---- pacing and statistics

// mixer: allocates every kind of object (typed nodes, noscan of several
// classes, tiny, large) on a CPU of its own, MIX_ROUNDS rounds of four.
#define MIX_ROUNDS 20000
static struct {
	u64 allocated;
	u32 done;
} mix;

static void mixer(void *arg)
{
	(void)arg;
	for (u64 i = 0; i < MIX_ROUNDS; i++) {
		new_node(i);
		gc_alloc_noscan(8 + i % 7);		// tiny
		gc_alloc_noscan(16 << (i % 8));	// 16 B .. 2 KiB
		if (i % 1024 == 0)
			gc_alloc_noscan(40 << 10);	// large
		__atomic_fetch_add(&mix.allocated, 4, __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&mix.done, 1, __ATOMIC_RELEASE);
}

// HeapObjects (Mallocs - Frees, from per-CPU counts that count a cached
// span's free objects as allocated until it is given back, then take
// them back) equals what the spans hold, at stops that land anywhere in
// cycles and allocations on every CPU: mark termination detaching the
// caches' spans, the collector releasing them, refills, sweeps.
KTEST_TIMEOUT(gc, heap_objects_match_the_spans, 300000)
{
	struct memstats *m = gc_alloc_noscan(sizeof(*m));
	KT_ASSERT(t, m, "allocation failed");
	GC_STORE(groot_slots[2], (void *)m);
	memset(&mix, 0, sizeof(mix));
	u32 c0 = gc_cycles();
	struct thread *th[MAX_CPUS];
	unsigned n = ncpus_online;
	for (unsigned c = 0; c < n; c++) {
		th[c] = thread_create("mixer", mixer, NULL, (int)c);
		KT_ASSERT(t, th[c], "thread_create failed");
	}
	u64 seen = 0;
	int bad = 0, checks = 0;
	while (__atomic_load_n(&mix.done, __ATOMIC_ACQUIRE) < n) {
		// Not await_progress: the mixers may finish right after the
		// last count this loop saw, and then nothing would move.
		u64 now = __atomic_load_n(&mix.allocated, __ATOMIC_RELAXED);
		if (now == seen) {
			thread_sleep(1000000);
			continue;
		}
		seen = now;
		u64 spans = heap_objects_in_spans(m);
		if (spans != m->heap_objects && bad++ < 3)
			KT_EXPECT(t, false, "check %d: HeapObjects %lu, the spans hold %lu (Mallocs %lu, Frees %lu)",
				  checks, m->heap_objects, spans, m->mallocs, m->frees);
		checks++;
	}
	for (unsigned c = 0; c < n; c++)
		thread_join(th[c]);
	u32 cycles = gc_cycles() - c0;
	kprintf("    # %d checks while %u CPUs allocated, %u cycles\n", checks, n, cycles);
	// 12 MiB each, three times the smallest heap goal: cycles ran.
	KT_EXPECT(t, cycles >= 1, "no cycle while %u CPUs allocated", n);
	gc_collect();
	gc_wait_idle();
	u64 spans = heap_objects_in_spans(m);
	KT_EXPECT_EQ(t, m->heap_objects, spans);
	GC_STORE(groot_slots[2], NULL);
}

KTEST(gc, pacer_starts_cycles_and_gogc_changes_their_number)
{
	gc_collect();
	int old = gc_set_percent(100);
	u32 c0 = gc_cycles();
	for (int i = 0; i < 200000; i++)
		KT_ASSERT(t, new_node((u64)i), "allocation failed: %s", gc_alloc_error());
	// Let the gc thread finish a cycle the pacer started.
	for (int i = 0; i < 200 && gc_cycles() == c0; i++)
		thread_sleep(1000000);
	u32 at100 = gc_cycles() - c0;
	gc_set_percent(400);
	gc_collect();
	u32 c1 = gc_cycles();
	for (int i = 0; i < 200000; i++)
		KT_ASSERT(t, new_node((u64)i), "allocation failed: %s", gc_alloc_error());
	for (int i = 0; i < 200 && gc_cycles() == c1; i++)
		thread_sleep(1000000);
	u32 at400 = gc_cycles() - c1 - 0;
	gc_set_percent(-1);
	gc_collect();
	u32 c2 = gc_cycles();
	for (int i = 0; i < 200000; i++)
		KT_ASSERT(t, new_node((u64)i), "allocation failed: %s", gc_alloc_error());
	thread_sleep(20000000);
	u32 off = gc_cycles() - c2;
	gc_set_percent(old);
	// 200000 nodes of 32 B = 6.1 MiB of garbage over a small live heap.
	KT_EXPECT(t, at100 >= 1, "GOGC=100: %u pacer cycles for 6 MiB of garbage", at100);
	KT_EXPECT(t, at400 <= at100, "GOGC=400 ran more cycles (%u) than GOGC=100 (%u)", at400, at100);
	KT_EXPECT_EQ(t, off, 0);
}

KTEST(gc, pause_ring_and_counters)
{
	struct memstats *m = gc_alloc_noscan(sizeof(*m));
	KT_ASSERT(t, m, "allocation failed");
	GC_STORE(groot_slots[1], (void *)m);
	read_memstats(m);
	u64 n0 = m->num_gc, f0 = m->num_forced_gc, total0 = m->pause_total_ns;
	gc_collect();
	read_memstats(m);
	// The pacer may have run a cycle of its own in between.
	KT_EXPECT(t, m->num_gc >= n0 + 1 && m->num_gc <= n0 + 3, "NumGC %lu -> %lu", n0, m->num_gc);
	KT_EXPECT_EQ(t, m->num_forced_gc, f0 + 1);
	u64 sum = 0;
	for (u64 n = n0 + 1; n <= m->num_gc; n++) {
		u64 p = m->pause_ns[(n + 255) % 256];
		KT_EXPECT(t, p > 0, "PauseNs of cycle %lu is 0", n);
		sum += p;
	}
	KT_EXPECT_EQ(t, m->pause_total_ns, total0 + sum);
	KT_EXPECT_EQ(t, m->last_gc, m->pause_end[(m->num_gc + 255) % 256]);
	KT_EXPECT(t, m->next_gc >= (4ul << 20), "NextGC %lu under the 4 MiB minimum", m->next_gc);
	KT_EXPECT(t, m->enable_gc, "EnableGC false");
	GC_STORE(groot_slots[1], NULL);
}

// ---- finalizers, weak references, pools

static struct {
	int runs;
	u64 obj;		// hidden, as the finalizer saw it
	u64 key;
	void *arg;
} fin;

static void count_finalizer(void *obj, void *arg)
{
	struct gnode *n = obj;
	__atomic_fetch_add(&fin.runs, 1, __ATOMIC_RELAXED);
	fin.obj = hide(obj);
	fin.key = n->key;	// the object is still whole when its finalizer runs
	fin.arg = arg;
}

static void make_finalized(void *arg)
{
	struct gnode *n = new_node(77);
	hidden = hide(n);
	helper_ok = n && gc_set_finalizer(n, count_finalizer, arg) && !gc_set_finalizer(n, count_finalizer, arg);
	GC_STORE(groot_slots[6], (void *)n);	// reachable: no finalizer yet
}

static void drop_slot6(void *arg)
{
	(void)arg;
	GC_STORE(groot_slots[6], NULL);
}

// wait_finalizers: until `want` finalizers ran in all (the finalizer
// thread runs them after the cycle), or a generous bound of collections.
static void wait_finalizers(u64 want)
{
	for (int i = 0; i < 1000 && gc_finalizers_run() < want; i++)
		thread_sleep(1000000);
}

KTEST(gc, finalizer_runs_once_after_unreachable)
{
	memset(&fin, 0, sizeof(fin));
	u64 ran0 = gc_finalizers_run();
	static int cookie;
	in_thread(t, make_finalized, &cookie);
	KT_ASSERT(t, helper_ok, "gc_set_finalizer failed, or accepted a second finalizer");
	gc_collect();
	KT_EXPECT_EQ(t, gc_finalizers_run() - ran0, 0);
	in_thread(t, drop_slot6, NULL);
	gc_collect();	// unreachable: queued, and kept for its finalizer
	wait_finalizers(ran0 + 1);
	KT_EXPECT_EQ(t, gc_finalizers_run() - ran0, 1);
	KT_EXPECT_EQ(t, fin.runs, 1);
	KT_EXPECT(t, fin.obj == hidden && fin.key == 77, "the finalizer got another object or a broken one");
	KT_EXPECT(t, fin.arg == &cookie, "the finalizer got argument %p", fin.arg);
	gc_collect();
	gc_collect();
	KT_EXPECT_EQ(t, fin.runs, 1);	// exactly once
	KT_EXPECT(t, gone(t), "the object survived after its finalizer ran");
	int x = 0;
	KT_EXPECT(t, !gc_set_finalizer(&x, count_finalizer, NULL), "a finalizer was set on a stack address");
}

static void make_cleared_finalizer(void *arg)
{
	(void)arg;
	struct gnode *n = new_node(78);
	hidden = hide(n);
	helper_ok = gc_set_finalizer(n, count_finalizer, NULL) && gc_clear_finalizer(n) && !gc_clear_finalizer(n);
}

KTEST(gc, cleared_finalizer_never_runs)
{
	memset(&fin, 0, sizeof(fin));
	in_thread(t, make_cleared_finalizer, NULL);
	KT_ASSERT(t, helper_ok, "set/clear did not behave");
	gc_collect();
	gc_collect();
	KT_EXPECT(t, gone(t), "the object survived");
	KT_EXPECT_EQ(t, fin.runs, 0);
}

static struct gc_weak *weak;

static void make_weak(void *arg)
{
	struct gnode *n = new_node(5);
	weak = n ? gc_weak_new(n) : NULL;
	hidden = hide(n);
	if (arg)
		GC_STORE(groot_slots[7], (void *)n);
	helper_ok = weak && gc_weak_get(weak) == n;
}

static void probe_weak(void *arg)
{
	(void)arg;
	struct gnode *n = gc_weak_get(weak);
	helper_ok = n == unhide(hidden) && n->key == 5;
}

// gc_copy_ptrs is a memmove of pointers: overlapping runs either way.
KTEST(gc, copy_ptrs_moves_overlapping_runs)
{
	static void *v[16];
	for (u64 i = 0; i < 16; i++)
		v[i] = (void *)(i + 1);	// not heap addresses: the barrier ignores them
	gc_copy_ptrs(&v[2], &v[0], 10);	// forward overlap: copied from the end
	for (u64 i = 0; i < 16; i++)
		KT_EXPECT_EQ(t, (u64)v[i], i < 2 || i > 11 ? i + 1 : i - 1);
	for (u64 i = 0; i < 16; i++)
		v[i] = (void *)(i + 1);
	gc_copy_ptrs(&v[0], &v[3], 10);	// backward overlap: copied from the start
	for (u64 i = 0; i < 16; i++)
		KT_EXPECT_EQ(t, (u64)v[i], i < 10 ? i + 4 : i + 1);
}

// ---- clobberfree

// make_pair: two nodes from one span; the first stays (groot_slots[4]),
// the second is garbage (hidden). helper_ok: both made, one span.
static void make_pair(void *arg)
{
	(void)arg;
	struct gnode *a = new_node(41), *b = new_node(42);
	helper_ok = a && b && span_of((u64)a) == span_of((u64)b);
	GC_STORE(groot_slots[4], (void *)a);
	hidden = hide(b);
}

KTEST(gc, clobberfree_fills_freed_objects)
{
	bool old = gc_set_clobberfree(true);
	helper_ok = false;
	for (int i = 0; i < 4 && !helper_ok; i++)	// a refill may split a pair
		in_thread(t, make_pair, NULL);
	KT_ASSERT(t, helper_ok, "no two nodes in one span in 4 tries");
	gc_collect();
	gc_set_clobberfree(old);
	bool freed = gone(t);
	// The kept node's span stays in use, so the freed slot is still mapped.
	const u64 *w = unhide(hidden);
	struct gnode *a = groot_slots[4];
	KT_EXPECT(t, freed, "the dropped node survived");
	for (unsigned i = 0; freed && i < sizeof(struct gnode) / 8; i++)
		KT_EXPECT(t, w[i] == GC_CLOBBER_WORD, "word %u of the freed node %p is %#lx", i, w, w[i]);
	KT_EXPECT(t, a->key == 41 && a->check == 41 * CHECK_K, "the live neighbour changed");
	struct gnode *n = new_node(7);	// freed slots come back zeroed, clobbered or not
	KT_EXPECT(t, n && !n->next && !n->other, "a new node is not zeroed");
	GC_STORE(groot_slots[4], NULL);
}

KTEST(gc, weak_reference_clears_when_unreachable)
{
	in_thread(t, make_weak, (void *)1);	// kept by a root
	KT_ASSERT(t, helper_ok, "gc_weak_new/get failed");
	gc_collect();
	in_thread(t, probe_weak, NULL);
	KT_EXPECT(t, helper_ok, "a weak reference to a reachable object changed");
	GC_STORE(groot_slots[7], NULL);
	gc_collect();
	KT_EXPECT(t, gc_weak_get(weak) == NULL, "a weak reference to an unreachable object is not NULL");
	KT_EXPECT(t, gone(t), "the object survived");
	gc_weak_free(weak);
	KT_EXPECT(t, gc_weak_new(&weak) == NULL, "a weak reference to a non-heap address");
}

static struct gc_pool test_pool;

static void fill_pool(void *arg)
{
	(void)arg;
	// Pinned to CPU 0, like the test thread, so both see CPU 0's stacks.
	struct gnode *n = new_node(11);
	hidden = hide(n);
	gc_pool_put(&test_pool, n);
}

static void take_pool(void *arg)
{
	(void)arg;
	helper_ok = gc_pool_get(&test_pool) == unhide(hidden);
}

KTEST(gc, pool_is_emptied_over_two_cycles)
{
	static bool inited;
	if (!inited)
		KT_ASSERT(t, (inited = gc_pool_init(&test_pool, "test pool")), "gc_pool_init failed");
	while (gc_pool_get(&test_pool))
		;
	struct thread *th = thread_create("pool filler", fill_pool, NULL, 0);
	KT_ASSERT(t, th, "thread_create failed");
	thread_join(th);
	gc_collect();	// the object moves to the victim cache and survives
	th = thread_create("pool taker", take_pool, NULL, 0);
	KT_ASSERT(t, th, "thread_create failed");
	thread_join(th);
	KT_EXPECT(t, helper_ok, "the pooled object was not there after one cycle");
	th = thread_create("pool filler", fill_pool, NULL, 0);
	KT_ASSERT(t, th, "thread_create failed");
	thread_join(th);
	gc_collect();
	gc_collect();	// unused through two cycles: dropped
	KT_EXPECT(t, gc_pool_get(&test_pool) == NULL, "the pool still had an object after two cycles");
	KT_EXPECT(t, gone(t), "the dropped object survived");
}

// ---- assists, sweeping and scavenging, the memory limit, the CPU limiter

// LIVE(bytes): build_list's argument for a list of that many bytes.
#define LIVE(bytes) ((void *)((bytes) / sizeof(struct gnode)))

// tree: a full binary tree of the given depth (next and other are the
// children), or NULL if the heap ran out.
static struct gnode *tree(unsigned depth)
{
	struct gnode *n = new_node(depth);
	if (!n || depth == 0)
		return n;
	struct gnode *l = tree(depth - 1), *r = tree(depth - 1);
	if (!l || !r)
		return NULL;
	GC_STORE(n->next, l);
	GC_STORE(n->other, r);
	return n;
}

// build_tree: tree((u64)arg) under groot; helper_ok says whether it is
// whole. Unlike a list, which marks one node at a time, a tree gives
// assists work wherever they look.
static void build_tree(void *arg)
{
	struct gnode *root = tree((unsigned)(u64)arg);
	GC_STORE(groot, root);
	helper_ok = root != NULL;
}

static void clear_live(void *arg)
{
	(void)arg;
	GC_STORE(groot, NULL);
}

static struct {
	int stop;
	int cycles;
} bg;

static void collector_loop(void *arg)
{
	(void)arg;
	for (int i = 0; i < bg.cycles; i++)
		gc_collect();
	__atomic_store_n(&bg.stop, 1, __ATOMIC_RELEASE);
}

KTEST_TIMEOUT(gc, assists_happen_when_allocating_during_mark, 300000)
{
	if (kconfig.gcstoptheworld)
		kt_skip(t, "gcstoptheworld=1: no concurrent mark to assist");
	in_thread(t, build_list, LIVE(4ul << 20));	// marking takes a while
	KT_ASSERT(t, helper_ok, "no memory for the live list");
	u64 a0 = gc_assists();
	bg.stop = 0;
	bg.cycles = 3;
	struct thread *th = thread_create("collector loop", collector_loop, NULL, THREAD_ANY_CPU);
	KT_ASSERT(t, th, "thread_create failed");
	u64 n = 0;
	while (!__atomic_load_n(&bg.stop, __ATOMIC_ACQUIRE))
		new_node(n++);
	thread_join(th);
	in_thread(t, clear_live, NULL);
	KT_EXPECT(t, gc_assists() > a0, "no assist in 3 cycles while allocating %lu nodes", n);
}

KTEST_TIMEOUT(gc, sweep_returns_spans_and_scavenger_releases, 300000)
{
	struct memstats *m = gc_alloc_noscan(sizeof(*m));
	KT_ASSERT(t, m, "allocation failed");
	GC_STORE(groot_slots[2], (void *)m);
	in_thread(t, build_list, LIVE(12ul << 20));
	if (!helper_ok) {
		in_thread(t, clear_live, NULL);
		gc_collect();
		kt_skip(t, "no memory for a 12 MiB heap");
	}
	read_memstats(m);
	u64 inuse0 = m->heap_inuse, rel0 = m->heap_released;
	in_thread(t, clear_live, NULL);
	gc_collect();
	gc_wait_idle();	// the sweeper and scavenger are done
	read_memstats(m);
	KT_EXPECT(t, m->heap_inuse + (8ul << 20) <= inuse0, "HeapInuse %lu -> %lu after dropping 12 MiB", inuse0,
		  m->heap_inuse);
	KT_EXPECT(t, m->heap_released >= rel0 + (4ul << 20), "HeapReleased %lu -> %lu", rel0, m->heap_released);
	KT_EXPECT(t, m->heap_idle >= m->heap_released, "HeapIdle %lu < HeapReleased %lu", m->heap_idle,
		  m->heap_released);
	GC_STORE(groot_slots[2], NULL);
}

static u64 memory_in_use(struct memstats *m)
{
	read_memstats(m);
	return m->sys - m->heap_released;	// what GOMEMLIMIT counts
}

KTEST_TIMEOUT(gc, memory_limit_keeps_the_heap_under_it, 300000)
{
	struct memstats *m = gc_alloc_noscan(sizeof(*m));
	KT_ASSERT(t, m, "allocation failed");
	GC_STORE(groot_slots[2], (void *)m);
	gc_collect();
	gc_wait_idle();
	thread_sleep(500000000);	// the CPU limiter's bucket drains (earlier tests filled it)
	u64 base = memory_in_use(m), limit = base + (12ul << 20);
	int oldp = gc_set_percent(-1);	// only the limit starts cycles
	u64 oldl = gc_set_memory_limit(limit);
	u32 c0 = gc_cycles();
	in_thread(t, build_list, LIVE(1ul << 20));
	bool built = helper_ok;
	u64 peak = 0;
	for (int i = 0; built && i < 8192; i++) {	// 32 MiB of 4 KiB garbage
		KT_ASSERT(t, gc_alloc_noscan(4096), "allocation %d failed: %s", i, gc_alloc_error());
		if (i % 512 == 0)
			peak = MAX(peak, memory_in_use(m));
	}
	gc_wait_idle();	// a cycle the limit started may still be running (under host contention, one was)
	u32 cycles = gc_cycles() - c0;
	gc_set_memory_limit(oldl);
	gc_set_percent(oldp);
	in_thread(t, clear_live, NULL);
	GC_STORE(groot_slots[2], NULL);
	KT_ASSERT(t, built, "no memory for the live list");
	KT_EXPECT(t, cycles >= 2, "GOGC off and a limit: %u cycles for 32 MiB of garbage", cycles);
	// Soft, as GOMEMLIMIT is: what is allocated while a cycle marks and
	// spans not yet swept may push past it for a while. Measured within
	// 0.1% of it on -smp 1 to 8 (since the scavenger takes only the pages
	// it releases); bounded at 125% (about 17 MiB). With GOGC off and no
	// limit the heap would hold all 32 MiB.
	kprintf("    # memory in use peaked at %lu KiB, limit %lu KiB, %u cycles\n", peak >> 10, limit >> 10, cycles);
	KT_EXPECT(t, peak <= limit / 4 * 5, "memory in use peaked at %lu KiB, limit %lu KiB", peak >> 10,
		  limit >> 10);
}

// The CPU limiter's bucket: GC time in, half of all CPU time out, on
// when full (200 ms per CPU), off as soon as it drains a little.
KTEST(gc, cpu_limiter_bucket)
{
	const u64 ms = 1000000;
	u64 b = 0;
	bool on = false;
	int steps = 0;
	for (; !on && steps < 1000; steps++)	// GC takes the whole CPU
		on = gc_limiter_step(&b, ms, ms, 1);
	KT_EXPECT_EQ(t, steps, 400);	// 0.5 ms net per ms: 200 ms of excess in 400 ms
	KT_EXPECT_EQ(t, b, 200 * ms);
	KT_EXPECT(t, gc_limiter_step(&b, 10 * ms, ms, 1), "full bucket off at 100%% GC");
	KT_EXPECT_EQ(t, b, 200 * ms);	// capped: excess beyond the window is forgotten
	KT_EXPECT(t, !gc_limiter_step(&b, 0, ms, 1), "still on with GC idle for 1 ms");
	KT_EXPECT_EQ(t, b, 200 * ms - ms / 2);
	b = 0;
	for (int i = 0; i < 10000; i++)		// exactly 50%: never fills
		KT_EXPECT(t, !gc_limiter_step(&b, ms, ms, 2), "on at 50%% (step %d)", i);
	KT_EXPECT_EQ(t, b, 0);
	b = 0;
	steps = 0;	// 4 CPUs, GC on 3 of them: 1 ms net per ms, 800 ms window
	for (on = false; !on && steps < 2000; steps++)
		on = gc_limiter_step(&b, 3 * ms, ms, 4);
	KT_EXPECT_EQ(t, steps, 800);
}

// churn_marking: allocates nodes until `want` of them were allocated
// while a cycle marked (at most 8M in all, 256 MiB, which means no cycle
// marks). Counted by allocations, not by cycles: how many allocations a
// cycle lasts depends on how fast the mutator runs against the mark
// workers (on -smp 1 under TCG, with assists off, from 65 thousand to
// more than 8 million). NULL, or why an allocation failed.
static const char *churn_marking(u64 want, u64 *nodes, u64 *marking)
{
	*marking = 0;
	for (*nodes = 0; *nodes < 8000000 && *marking < want; ++*nodes) {
		bool m = __atomic_load_n(&heap.marking, __ATOMIC_RELAXED);
		if (!new_node(*nodes))
			return gc_alloc_error();
		*marking += m;
	}
	return NULL;
}

// A heap that does not fit its limit: the collector runs back to back and
// every allocation during mark owes the worst-case assist. Two facts make
// the CPU limiter stop that spiral, and neither depends on how fast
// anything runs:
// - while it is on, no allocation assists, not even one made while a
//   cycle marks: the heap grows past its limit instead, and allocation
//   never fails;
// - it is fed GC's real CPU time: whenever GC used more than its 50% for
//   longer than the bucket (200 ms per CPU), it turned on. The bucket's
//   arithmetic is cpu_limiter_bucket's. Whether GC gets that far depends
//   on the machine (measured: 34% to 90% of all CPUs under TCG), so the
//   log says whether this run tested it.
KTEST_TIMEOUT(gc, cpu_limiter_stops_a_spiral, 300000)
{
	if (kconfig.gcstoptheworld)
		kt_skip(t, "gcstoptheworld=1: every cycle stops the world, there are no assists to limit");
	struct memstats *m = gc_alloc_noscan(sizeof(*m));
	KT_ASSERT(t, m, "allocation failed");
	GC_STORE(groot_slots[2], (void *)m);
	in_thread(t, build_tree, (void *)17ul);	// 8 MiB, plenty of work for assists
	if (!helper_ok) {
		in_thread(t, clear_live, NULL);
		kt_skip(t, "no memory for an 8 MiB heap");
	}
	gc_collect();
	// Everything but the heap, plus half the heap in use: well under the
	// live heap, whatever earlier tests left backed, so the goal stays
	// below the marked heap.
	read_memstats(m);
	u64 oldl = gc_set_memory_limit(m->sys - m->heap_sys + m->heap_inuse / 2);

	// 20000 allocations while marking, each owing assist work (a 32-byte
	// node at the worst-case ratio owes 4 KiB; an assist pays 16 KiB).
	gc_limiter_hold(true);
	u64 a0 = gc_assists(), held_nodes, held_marking;
	const char *held_failed = churn_marking(20000, &held_nodes, &held_marking);
	u64 held_assists = gc_assists() - a0;
	gc_limiter_hold(false);

	struct gc_limiter_state l0, l1;
	for (int i = 0; i < 100; i++) {	// drains in a millisecond unless GC is over its share
		gc_limiter_sync(&l0);
		if (!l0.on)
			break;
		thread_sleep(10000000);
	}
	u64 nodes, marking;
	u32 c0 = gc_cycles();
	const char *failed = churn_marking(100000, &nodes, &marking);
	gc_limiter_sync(&l1);
	u32 cycles = gc_cycles() - c0;
	gc_set_memory_limit(oldl);
	in_thread(t, clear_live, NULL);
	GC_STORE(groot_slots[2], NULL);

	KT_EXPECT(t, !held_failed, "allocation %lu failed with the limiter on: %s", held_nodes, held_failed);
	KT_EXPECT(t, held_marking >= 20000, "%lu of %lu allocations while marking with the heap over its limit",
		  held_marking, held_nodes);
	KT_EXPECT(t, held_assists == 0, "%lu assists in %lu allocations while marking with the limiter on",
		  held_assists, held_marking);
	KT_ASSERT(t, !l0.on, "the limiter is still on 1 s after it was released");
	KT_EXPECT(t, !failed, "allocation %lu failed: %s", nodes, failed);
	KT_EXPECT(t, marking >= 100000, "%lu of %lu allocations while marking with the heap over its limit",
		  marking, nodes);
	// The bucket ends at least as full as GC time fed minus time drained
	// (it empties no lower than 0) and stays below full while off.
	u64 fed = l1.gc_ns - l0.gc_ns, wall = (l1.at_ns - l0.at_ns) * ncpus_online;
	u64 over = wall * LIMITER_PERCENT / 100 + LIMITER_WINDOW_NS * ncpus_online;
	u64 engaged = l1.engaged - l0.engaged;
	kprintf("    # limiter held on: %lu of %lu allocations while marking, %lu assists\n", held_marking,
		held_nodes, held_assists);
	kprintf("    # %u cycles, GC CPU %lu of %lu ms (all CPUs), limiter engaged %lu times%s\n", cycles,
		fed / 1000000, wall / 1000000, engaged,
		fed >= over ? "" : " (GC under its share: the limiter's trigger untested)");
	KT_EXPECT(t, fed < over || engaged > 0,
		  "GC used %lu ms of %lu ms CPU (over %lu ms) and the limiter never turned on", fed / 1000000,
		  wall / 1000000, over / 1000000);
}
