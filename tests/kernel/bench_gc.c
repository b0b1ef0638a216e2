// Collector benchmarks, with the collector on (GOGC as booted):
//   BinaryTrees/depth=N  the Computer Language Benchmarks Game's
//                        binary-trees, depth 18 and 20, its trees spread
//                        over all CPUs; one op is the whole program;
//   GCBench              Ellis, Kovac and Boehm's GCBench, one op the
//                        whole program, on one thread;
//   MarkRate/{shuffled,tree}  a forced cycle over a pointer-dense heap
//                        of 256 MiB, two shapes; MB/s/CPU is bytes
//                        scanned per second of marking CPU time;
//   AllocWithGC/64B      one 64-byte typed allocation per op, dropped
//                        at once, while the pacer runs cycles.
// Each reports peak-heap-MB (gc_peak_heap), gc-cycles per op and the
// max and p99 stop-the-world pause in us over every stop in the run
// (gc_stops); MarkRate reports its rate instead of cycles.

#include "gc/gc.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "mm/heap.h"
#include "tests/kernel/kbench.h"

// ---- what every benchmark here reports

struct gcwin {
	u32 cycles;
	u64 stops;
};

static void gcwin_begin(struct kb *b, struct gcwin *w)
{
	// One collection first, untimed and outside the window: the first
	// cycle of a boot runs collector code the emulator has not translated
	// yet (a millisecond-long stop under TCG that a warm run never has).
	bool timing = b->timer_on;
	kb_stop_timer(b);
	gc_collect();
	if (timing)
		kb_start_timer(b);
	gc_peak_heap(true);
	w->cycles = gc_cycles();
	w->stops = gc_stops();
}

// shellsort: the pauses in order (a few thousand at most).
static void shellsort(u64 *v, u64 n)
{
	for (u64 gap = n / 2; gap; gap /= 2)
		for (u64 i = gap; i < n; i++)
			for (u64 j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
				u64 x = v[j];
				v[j] = v[j - gap];
				v[j - gap] = x;
			}
}

static u64 pause_buf[GC_STOP_LOG];

// gcwin_end: peak heap, and the pauses' max and p99 (nearest rank) over
// the stops since gcwin_begin; with more stops than the log keeps, over
// the last GC_STOP_LOG of them. cycles: report gc-cycles per op.
static void gcwin_end(struct kb *b, const struct gcwin *w, bool cycles)
{
	u64 end = gc_stops(), n = 0;
	for (u64 i = end - MIN(end - w->stops, (u64)GC_STOP_LOG); i < end; i++) {
		u64 d = gc_stop_ns(i);
		if (d != UINT64_MAX)
			pause_buf[n++] = d;
	}
	shellsort(pause_buf, n);
	kb_report_metric(b, gc_peak_heap(false), 1000000, "peak-heap-MB");
	if (cycles)
		kb_report_metric(b, gc_cycles() - w->cycles, b->n, "gc-cycles");
	kb_report_metric(b, n ? pause_buf[n - 1] : 0, 1000, "max-pause-us");
	kb_report_metric(b, n ? pause_buf[(n * 99 + 99) / 100 - 1] : 0, 1000, "p99-pause-us");
}

// ---- binary-trees

struct bt {
	struct bt *l, *r;
};
GC_TYPE(bt_type, struct bt, l, r);

// bottom_up: a full tree of the given depth (2^(depth+1) - 1 nodes), or
// NULL if the heap ran out.
static struct bt *bottom_up(unsigned depth)
{
	struct bt *n = gc_alloc(&bt_type);
	if (!n || depth == 0)
		return n;
	struct bt *l = bottom_up(depth - 1), *r = bottom_up(depth - 1);
	if (!l || !r)
		return NULL;
	GC_STORE(n->l, l);
	GC_STORE(n->r, r);
	return n;
}

static u64 check(const struct bt *n)
{
	return n->l ? 1 + check(n->l) + check(n->r) : 1;
}

static u64 tree_nodes(unsigned depth) { return (2ul << depth) - 1; }

#define BT_MIN_DEPTH 4

// One run's work: for each depth d = 4, 6, .., max, 2^(max - d + 4)
// trees, cut into one chunk per CPU; workers take chunks in order.
static struct {
	struct spinlock lock;	// guards the fields below
	struct waitq wq;	// workers wait for a run; the runner for its end
	u64 run;		// runs started
	bool quit;
	unsigned max, nchunks, nworkers;
	u32 next_chunk;		// atomic: the next chunk to take
	u32 done_workers;
	u64 checksum;		// sum of check() over the run's trees
	bool failed;
} bt = {.lock = SPINLOCK_INIT("bench bt")};

static void bt_chunk(unsigned c, u64 *sum, bool *failed)
{
	unsigned n = bt.nworkers;
	unsigned d = BT_MIN_DEPTH + 2 * (c / n);
	u64 iters = 1ul << (bt.max - d + BT_MIN_DEPTH), per = (iters + n - 1) / n;
	u64 lo = MIN(per * (c % n), iters), hi = MIN(lo + per, iters);
	for (u64 i = lo; i < hi; i++) {
		struct bt *t = bottom_up(d);
		if (!t) {
			*failed = true;
			return;
		}
		*sum += check(t);
	}
}

static void bt_worker(void *arg)
{
	(void)arg;
	u64 seen = 0;
	for (;;) {
		bool f = spin_lock_irqsave(&bt.lock);
		while (bt.run == seen && !bt.quit)
			waitq_wait(&bt.wq, &bt.lock);
		seen = bt.run;
		bool quit = bt.quit;
		spin_unlock_irqrestore(&bt.lock, f);
		if (quit)
			return;
		u64 sum = 0;
		bool failed = false;
		for (u32 c; !failed && (c = __atomic_fetch_add(&bt.next_chunk, 1, __ATOMIC_RELAXED)) < bt.nchunks;)
			bt_chunk(c, &sum, &failed);
		f = spin_lock_irqsave(&bt.lock);
		bt.checksum += sum;
		bt.failed |= failed;
		bt.done_workers++;
		waitq_wake_all(&bt.wq);
		spin_unlock_irqrestore(&bt.lock, f);
	}
}

// bt_expected: the run's checksum: every tree's node count.
static u64 bt_expected(unsigned max)
{
	u64 sum = 0;
	for (unsigned d = BT_MIN_DEPTH; d <= max; d += 2)
		sum += (1ul << (max - d + BT_MIN_DEPTH)) * tree_nodes(d);
	return sum;
}

static void binary_trees(struct kb *b)
{
	unsigned max = (unsigned)b->arg, n = ncpus_online;
	struct thread *th[MAX_CPUS];
	bt.max = max;
	bt.nworkers = n;
	bt.nchunks = ((max - BT_MIN_DEPTH) / 2 + 1) * n;
	bt.quit = false;
	waitq_init(&bt.wq);
	for (unsigned c = 0; c < n; c++)
		th[c] = thread_create("bench/bt", bt_worker, NULL, (int)c);
	struct gcwin w;
	gcwin_begin(b, &w);
	const char *why = NULL;
	for (u64 i = 0; i < b->n && !why; i++) {
		// The stretch tree, then the long-lived one, as the original.
		struct bt *stretch = bottom_up(max + 1);
		if (!stretch || check(stretch) != tree_nodes(max + 1)) {
			why = stretch ? "wrong stretch tree" : "no memory for the stretch tree";
			break;
		}
		stretch = NULL;
		struct bt *volatile long_lived = bottom_up(max);
		bool f = spin_lock_irqsave(&bt.lock);
		bt.checksum = 0;
		bt.failed = false;
		bt.done_workers = 0;
		bt.next_chunk = 0;
		bt.run++;
		waitq_wake_all(&bt.wq);
		while (bt.done_workers < n)
			waitq_wait(&bt.wq, &bt.lock);
		spin_unlock_irqrestore(&bt.lock, f);
		if (!long_lived || bt.failed)
			why = "out of memory";
		else if (bt.checksum != bt_expected(max) || check(long_lived) != tree_nodes(max))
			why = "wrong node counts";
		long_lived = NULL;
	}
	kb_stop_timer(b);
	gcwin_end(b, &w, true);
	bool f = spin_lock_irqsave(&bt.lock);
	bt.quit = true;
	waitq_wake_all(&bt.wq);
	spin_unlock_irqrestore(&bt.lock, f);
	for (unsigned c = 0; c < n; c++)
		thread_join(th[c]);
	if (why)
		kb_fail(b, "depth %u: %s (%s)", max, why, gc_alloc_error());
	kb_start_timer(b);
}

KBENCH_CASE(BinaryTrees, "depth=18", binary_trees, 18);
KBENCH_CASE(BinaryTrees, "depth=20", binary_trees, 20);

// ---- GCBench (John Ellis, Pete Kovac, Hans Boehm), as in Boehm's
// GCBench.c: a long-lived tree of depth 16 and an array of 500,000
// doubles stay while temporary trees of depths 4, 6, .., 16 are built top
// down and bottom up, 2 x (nodes of a depth-18 tree) nodes per depth. The
// kernel has no floating point: the array holds 8-byte integers (it is
// pointer-free either way, all the collector sees).

struct gcb {
	struct gcb *left, *right;
	int i, j;
};
GC_TYPE(gcb_type, struct gcb, left, right);

#define GCB_STRETCH 18
#define GCB_LONG_LIVED 16
#define GCB_ARRAY 500000
#define GCB_MIN 4
#define GCB_MAX 16

static int gcb_size(int depth) { return (1 << (depth + 1)) - 1; }

// gcb_populate: the tree below n, top down; false if the heap ran out.
static bool gcb_populate(int depth, struct gcb *n)
{
	if (depth-- <= 0)
		return true;
	struct gcb *l = gc_alloc(&gcb_type), *r = gc_alloc(&gcb_type);
	if (!l || !r)
		return false;
	GC_STORE(n->left, l);
	GC_STORE(n->right, r);
	return gcb_populate(depth, l) && gcb_populate(depth, r);
}

// gcb_make: a tree bottom up, or NULL if the heap ran out.
static struct gcb *gcb_make(int depth)
{
	struct gcb *n = gc_alloc(&gcb_type);
	if (!n || depth <= 0)
		return n;
	struct gcb *l = gcb_make(depth - 1), *r = gcb_make(depth - 1);
	if (!l || !r)
		return NULL;
	GC_STORE(n->left, l);
	GC_STORE(n->right, r);
	return n;
}

static int gcb_count(const struct gcb *n)
{
	return n ? 1 + gcb_count(n->left) + gcb_count(n->right) : 0;
}

// gcb_run: one GCBench; NULL or what went wrong.
static const char *gcb_run(void)
{
	if (!gcb_make(GCB_STRETCH))
		return "out of memory";
	struct gcb *volatile long_lived = gc_alloc(&gcb_type);
	u64 *volatile array = gc_alloc_noscan(GCB_ARRAY * sizeof(u64));
	if (!long_lived || !array || !gcb_populate(GCB_LONG_LIVED, long_lived))
		return "out of memory";
	for (u64 i = 0; i < GCB_ARRAY / 2; i++)
		array[i] = i * i;
	for (int d = GCB_MIN; d <= GCB_MAX; d += 2) {
		int iters = 2 * gcb_size(GCB_STRETCH) / gcb_size(d);
		for (int i = 0; i < iters; i++) {
			struct gcb *t = gc_alloc(&gcb_type);
			if (!t || !gcb_populate(d, t))
				return "out of memory";
		}
		for (int i = 0; i < iters; i++)
			if (!gcb_make(d))
				return "out of memory";
	}
	if (gcb_count(long_lived) != gcb_size(GCB_LONG_LIVED) || array[1000] != 1000 * 1000)
		return "the long-lived data changed";
	return NULL;
}

KBENCH(GCBench)
{
	struct gcwin w;
	gcwin_begin(b, &w);
	const char *why = NULL;
	for (u64 i = 0; i < b->n && !why; i++)
		why = gcb_run();
	kb_stop_timer(b);
	gcwin_end(b, &w, true);
	if (why)
		kb_fail(b, "%s (%s)", why, gc_alloc_error());
	kb_start_timer(b);
}

// ---- mark rate over a pointer-dense heap of MARK_HEAP
//
// Two shapes, every word of every node a pointer field (the tree's
// leaves hold NULLs):
//   shuffled  64-byte nodes, each referring to the next 8 of a shuffled
//             order: every pointer leads somewhere else in the heap, so
//             each costs cache and TLB misses (the worst case; the grey
//             set stays a window of the order, so one CPU marks it);
//   tree      a complete binary tree of 16-byte nodes built depth first,
//             as programs build their data (binary-trees' long-lived
//             tree): a subtree lies in the pages after its root. Go 1.19
//             marks binary-trees' heap at 0.44 GB/s per CPU here and the
//             shuffled graph at 0.07-0.10 (docs/PERFORMANCE.md).

#define MARK_HEAP (256ul << 20)

// mark_rate_run: the timed part: b->n forced cycles over what root
// reaches, MARK_HEAP bytes of it; reports MB/s/CPU (bytes scanned per
// second of marking CPU time).
static void mark_rate_run(struct kb *b, void *volatile *root)
{
	struct gcwin w;
	gcwin_begin(b, &w);	// (its collection frees the builder's leftovers)
	u64 scanned = 0, cpu = 0, least = UINT64_MAX;
	kb_start_timer(b);
	for (u64 i = 0; i < b->n; i++) {
		gc_collect();
		struct gc_cycle_stats s;
		gc_last_cycle(&s);
		scanned += s.scan_work;
		cpu += s.mark_cpu_ns;
		least = MIN(least, s.marked);
	}
	kb_stop_timer(b);
	bool kept = gc_object_base(*root) == *root;
	*root = NULL;
	gcwin_end(b, &w, false);
	kb_report_metric(b, scanned * 1000, cpu ? cpu : 1, "MB/s/CPU");
	gc_collect();
	if (!kept || least < MARK_HEAP)
		kb_fail(b, "a cycle found %lu bytes live of the %lu reachable%s", least, MARK_HEAP,
			kept ? "" : ", and the root was freed");
	kb_start_timer(b);
}

// mark_rate_skip: building the heap failed (why); the collector is on again.
static void mark_rate_skip(struct kb *b, const char *why)
{
	gc_enable();
	gc_collect();
	kb_skip(b, "no memory for a %lu MiB heap (%s): boot with more (make bench MEM=1G)", MARK_HEAP >> 20, why);
	kb_start_timer(b);
}

struct mr {
	struct mr *p[8];
};
GC_TYPE(mr_type, struct mr, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);

KBENCH_SUB(MarkRate, shuffled, "shuffled")
{
	u64 n = MARK_HEAP / sizeof(struct mr);
	kb_stop_timer(b);
	// Built with the collector held off: the table is noscan (it is not
	// part of what is measured), so it keeps nothing alive.
	gc_disable();
	struct mr **v = gc_alloc_noscan(n * sizeof(*v));
	const char *why = v ? NULL : gc_alloc_error();
	for (u64 i = 0; v && i < n && !why; i++)
		if (!(v[i] = gc_alloc(&mr_type)))
			why = gc_alloc_error();
	if (why) {
		v = NULL;
		mark_rate_skip(b, why);
		return;
	}
	u64 seed = 88172645463325252ull;
	for (u64 i = n - 1; i > 0; i--) {	// shuffle (xorshift, Fisher-Yates)
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		u64 j = seed % (i + 1);
		struct mr *x = v[i];
		v[i] = v[j];
		v[j] = x;
	}
	for (u64 i = 0; i < n; i++)
		for (unsigned k = 0; k < 8; k++)
			GC_STORE(v[i]->p[k], v[(i + 1 + k) % n]);
	// One root holds it all (v[0] reaches every node); v goes.
	void *volatile root = v[0];
	v = NULL;
	gc_enable();
	mark_rate_run(b, &root);
}

struct mt {
	struct mt *l, *r;
};
GC_TYPE(mt_type, struct mt, l, r);

// mt_make: a complete tree of the given depth (1: one node), depth first;
// NULL if the heap ran out.
static struct mt *mt_make(int depth)
{
	struct mt *n = gc_alloc(&mt_type);
	if (!n || depth <= 1)
		return n;
	struct mt *l = mt_make(depth - 1), *r = l ? mt_make(depth - 1) : NULL;
	if (!r)
		return NULL;
	GC_STORE(n->l, l);
	GC_STORE(n->r, r);
	return n;
}

KBENCH_SUB(MarkRate, tree, "tree")
{
	// 2^24 - 1 nodes of 16 bytes: MARK_HEAP less one node, so 2^24
	// (MARK_HEAP exactly) with a second root node of 16 bytes.
	enum { DEPTH = 24 };
	_Static_assert(((1ul << DEPTH) * sizeof(struct mt)) == MARK_HEAP, "the tree and its extra node");
	kb_stop_timer(b);
	gc_disable();	// nothing is garbage while it is built: a cycle would be waste
	struct mt *top = gc_alloc(&mt_type), *t = top ? mt_make(DEPTH) : NULL;
	if (!t) {
		top = NULL;
		mark_rate_skip(b, gc_alloc_error());
		return;
	}
	GC_STORE(top->l, t);
	t = NULL;
	void *volatile root = top;
	top = NULL;
	gc_enable();
	mark_rate_run(b, &root);
}

// ---- allocation with the collector on

struct awg64 {
	void *a, *b;
	u64 x[6];
};
GC_TYPE(awg64_type, struct awg64, a, b);
GC_ROOT(static void *awg_keep);

KBENCH_SUB(AllocWithGC, 64B, "64B")
{
	struct gcwin w;
	gcwin_begin(b, &w);
	for (u64 i = 0; i < b->n; i++) {
		struct awg64 *p = gc_alloc(&awg64_type);
		if (!p) {
			kb_fail(b, "allocation %lu failed: %s", i, gc_alloc_error());
			break;
		}
		if (i % 1024 == 0)	// a little live data: one in 1024 stays until the next
			GC_STORE(awg_keep, p);
	}
	kb_stop_timer(b);
	GC_STORE(awg_keep, NULL);
	gcwin_end(b, &w, true);
	kb_start_timer(b);
}
