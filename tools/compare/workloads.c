// The workloads of `make compare` (tools/compare/compare.py), in C, built
// once per peer with the same algorithm and sizes:
//
//   PEER_TRICOLOR  the hosted build of mm/ and gc/ (GC_STORE, no free)
//   PEER_BOEHM     Boehm GC (libgc: GC_MALLOC, no free)
//   PEER_GLIBC     glibc malloc/free
//   PEER_JEMALLOC  jemalloc's own API (mallocx/dallocx), so no doubt
//   PEER_MIMALLOC  mimalloc's own API (mi_malloc/mi_free)  which allocator ran
//
// The malloc peers free every object when the algorithm drops it. The Go
// version is tools/compare/workloads.go.
//
//	workloads binary-trees DEPTH THREADS   CLBG binary-trees
//	workloads gcbench                      Ellis, Kovac and Boehm's GCBench
//	workloads churn SIZE THREADS           allocate and drop SIZE-byte objects
//	workloads ring K                       K live 64-byte objects, replaced one at a time
//	workloads mark chain|random|tree       one full collection of 256 MiB of 64-byte
//	                                       all-pointer nodes, or of a 16-byte-node
//	                                       binary tree (collected peers only)
//
// Prints, for the timed workload only (setup and teardown excluded):
//	time_ns N
//	max_pause_ns N      (-1: the peer does not stop the world, or
//	gc_cycles N          reports it elsewhere: Go's gctrace)
// and for the whole process
//	peak_rss_kib N      (VmHWM: the parent's rusage would count the
//	                     memory of the process it was forked from)
// and exits 1 with a message on stderr if a check fails.

#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(PEER_TRICOLOR)
#include "gc/gc.h"
#include "mm/heap.h"
#include "tests/hosted/kcompat/kcompat.h"
#elif defined(PEER_BOEHM)
#define GC_THREADS
#include <gc/gc.h>
#elif defined(PEER_JEMALLOC)
#include <jemalloc/jemalloc.h>
#elif defined(PEER_MIMALLOC)
#include <mimalloc.h>
#elif !defined(PEER_GLIBC)
#error "define one PEER_*"
#endif

#define CHURN_ALLOCS 10000000ul	// objects per churn run, all threads together
#define RING_REPLACE 10000000ul	// replacements per ring run
#define RING_OBJ 64

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "workloads: %s\n", what);
	exit(1);
}

// ---- the peers' allocation primitives

struct node {			// binary-trees
	struct node *l, *r;
};
struct gnode {			// GCBench's Node
	struct gnode *left, *right;
	int i, j;
};

#if defined(PEER_TRICOLOR)
GC_TYPE(node_type, struct node, l, r);
GC_TYPE(gnode_type, struct gnode, left, right);
#define NEW(type) ((struct type *)gc_alloc(&type##_type))
#define SET(lv, v) GC_STORE(lv, v)
#define NEW_DATA(size) gc_alloc_noscan(size)
#define DROP(p) ((void)(p))
#define FREES 0
#elif defined(PEER_BOEHM)
#define NEW(type) ((struct type *)GC_MALLOC(sizeof(struct type)))
#define SET(lv, v) ((lv) = (v))
#define NEW_DATA(size) GC_MALLOC_ATOMIC(size)
#define DROP(p) ((void)(p))
#define FREES 0
#else
#if defined(PEER_JEMALLOC)
#define RAW_ALLOC(size) mallocx((size), 0)
#define RAW_FREE(p) dallocx((p), 0)
#elif defined(PEER_MIMALLOC)
#define RAW_ALLOC(size) mi_malloc(size)
#define RAW_FREE(p) mi_free(p)
#else
#define RAW_ALLOC(size) malloc(size)
#define RAW_FREE(p) free(p)
#endif
static void *zalloc(size_t size)	// zeroed, as the collected peers' objects are
{
	void *p = RAW_ALLOC(size);
	if (p)
		memset(p, 0, size);
	return p;
}
#define NEW(type) ((struct type *)zalloc(sizeof(struct type)))
#define SET(lv, v) ((lv) = (v))
#define NEW_DATA(size) RAW_ALLOC(size)
#define DROP(p) RAW_FREE(p)
#define FREES 1
#endif

// Threads: the collected peers must know every thread that holds their
// pointers; Tricolor's are its platform's threads (tests/hosted/).
#if defined(PEER_TRICOLOR)
typedef struct thread *thread_t;
static thread_t spawn(void (*fn)(void *), void *arg, int i)
{
	struct thread *t = thread_create("workload", fn, arg, i);
	if (!t)
		die("thread_create failed");
	return t;
}
static void join(thread_t t) { thread_join(t); }
#else
typedef pthread_t thread_t;
struct start {
	void (*fn)(void *);
	void *arg;
};
static void *start(void *p)
{
	struct start s = *(struct start *)p;
	free(p);
	s.fn(s.arg);
	return NULL;
}
static thread_t spawn(void (*fn)(void *), void *arg, int i)
{
	(void)i;
	pthread_t t;
	struct start *s = malloc(sizeof(*s));
	if (!s)
		die("out of memory");
	*s = (struct start){fn, arg};
	if (pthread_create(&t, NULL, start, s) != 0)	// GC_pthread_create under PEER_BOEHM
		die("pthread_create failed");
	return t;
}
static void join(thread_t t) { pthread_join(t, NULL); }
#endif

// run_threads: fn(i) on n threads (n = 1: on this one).
static void run_threads(void (*fn)(void *), unsigned n)
{
	if (n == 1) {
		fn((void *)0ul);
		return;
	}
	thread_t th[8];
	for (unsigned i = 0; i < n; i++)
		th[i] = spawn(fn, (void *)(uintptr_t)i, (int)i);
	for (unsigned i = 0; i < n; i++)
		join(th[i]);
}

// ---- stop-the-world pauses during the timed part

#if defined(PEER_TRICOLOR) || defined(PEER_BOEHM)
static uint64_t max_pause_ns;
static int64_t cycles;
#endif

#if defined(PEER_TRICOLOR)
static uint64_t stops0;
static uint32_t cycles0;
static void pauses_begin(void)
{
	stops0 = gc_stops();
	cycles0 = gc_cycles();
}
static void pauses_end(void)
{
	uint64_t end = gc_stops();
	for (uint64_t i = end - MIN(end - stops0, (uint64_t)GC_STOP_LOG); i < end; i++)
		if (gc_stop_ns(i) != UINT64_MAX && gc_stop_ns(i) > max_pause_ns)
			max_pause_ns = gc_stop_ns(i);
	cycles = gc_cycles() - cycles0;
}
#elif defined(PEER_BOEHM)
// Boehm stops the world from GC_EVENT_PRE_STOP_WORLD to
// GC_EVENT_POST_START_WORLD (its default, non-incremental mode marks
// entirely in between).
static uint64_t stop_start;
static int timing;
static void on_event(GC_EventType e)
{
	if (e == GC_EVENT_PRE_STOP_WORLD)
		stop_start = now_ns();
	else if (e == GC_EVENT_POST_START_WORLD && timing && now_ns() - stop_start > max_pause_ns)
		max_pause_ns = now_ns() - stop_start;
	else if (e == GC_EVENT_END && timing)
		cycles++;
}
static void pauses_begin(void) { timing = 1; }
static void pauses_end(void) { timing = 0; }
#else
static void pauses_begin(void) {}
static void pauses_end(void) {}
#endif

// ---- binary-trees (the Computer Language Benchmarks Game)

#define BT_MIN 4
static unsigned bt_max, bt_threads;
static uint64_t bt_sums[8];

static struct node *bottom_up(unsigned depth)
{
	struct node *n = NEW(node);
	if (!n)
		die("out of memory");
	if (depth) {
		struct node *l = bottom_up(depth - 1), *r = bottom_up(depth - 1);
		SET(n->l, l);
		SET(n->r, r);
	}
	return n;
}

static uint64_t check(const struct node *n)
{
	return n->l ? 1 + check(n->l) + check(n->r) : 1;
}

static void free_tree(struct node *n)
{
	if (FREES && n) {
		free_tree(n->l);
		free_tree(n->r);
		DROP(n);
	}
}

// bt_part: thread k's share: iterations k, k + T, ... of every depth.
static void bt_part(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	uint64_t sum = 0;
	for (unsigned d = BT_MIN; d <= bt_max; d += 2) {
		uint64_t iters = 1ul << (bt_max - d + BT_MIN);
		for (uint64_t i = k; i < iters; i += bt_threads) {
			struct node *t = bottom_up(d);
			sum += check(t);
			free_tree(t);
		}
	}
	bt_sums[k] = sum;
}

static void binary_trees(unsigned depth, unsigned threads)
{
	bt_max = depth;
	bt_threads = threads;
	struct node *stretch = bottom_up(depth + 1);
	if (check(stretch) != (2ul << (depth + 1)) - 1)
		die("binary-trees: wrong stretch tree");
	free_tree(stretch);
	struct node *volatile long_lived = bottom_up(depth);
	run_threads(bt_part, threads);
	uint64_t sum = 0, want = 0;
	for (unsigned k = 0; k < threads; k++)
		sum += bt_sums[k];
	for (unsigned d = BT_MIN; d <= depth; d += 2)
		want += (1ul << (depth - d + BT_MIN)) * ((2ul << d) - 1);
	if (sum != want || check(long_lived) != (2ul << depth) - 1)
		die("binary-trees: wrong node counts");
	free_tree(long_lived);
}

// ---- GCBench (John Ellis, Pete Kovac, Hans Boehm)

#define GCB_STRETCH 18
#define GCB_LONG_LIVED 16
#define GCB_ARRAY 500000
#define GCB_MIN 4
#define GCB_MAX 16

static int tree_size(int d) { return (1 << (d + 1)) - 1; }

static struct gnode *new_gnode(void)
{
	struct gnode *n = NEW(gnode);
	if (!n)
		die("out of memory");
	return n;
}

static void populate(int depth, struct gnode *n)	// top-down
{
	if (depth-- <= 0)
		return;
	SET(n->left, new_gnode());
	SET(n->right, new_gnode());
	populate(depth, n->left);
	populate(depth, n->right);
}

static struct gnode *make_tree(int depth)	// bottom-up
{
	struct gnode *n = new_gnode();
	if (depth > 0) {
		struct gnode *l = make_tree(depth - 1), *r = make_tree(depth - 1);
		SET(n->left, l);
		SET(n->right, r);
	}
	return n;
}

static void free_gtree(struct gnode *n)
{
	if (FREES && n) {
		free_gtree(n->left);
		free_gtree(n->right);
		DROP(n);
	}
}

static int gcount(const struct gnode *n)
{
	return n ? 1 + gcount(n->left) + gcount(n->right) : 0;
}

static void gcbench(void)
{
	free_gtree(make_tree(GCB_STRETCH));
	struct gnode *volatile long_lived = new_gnode();
	populate(GCB_LONG_LIVED, long_lived);
	double *array = NEW_DATA(GCB_ARRAY * sizeof(double));
	if (!array)
		die("out of memory");
	for (int i = 0; i < GCB_ARRAY / 2; i++)
		array[i] = 1.0 / i;
	for (int d = GCB_MIN; d <= GCB_MAX; d += 2) {
		int iters = 2 * tree_size(GCB_STRETCH) / tree_size(d);
		for (int i = 0; i < iters; i++) {
			struct gnode *t = new_gnode();
			populate(d, t);
			free_gtree(t);
		}
		for (int i = 0; i < iters; i++)
			free_gtree(make_tree(d));
	}
	if (gcount(long_lived) != tree_size(GCB_LONG_LIVED) || array[1000] != 1.0 / 1000)
		die("gcbench: the long-lived data changed");
	free_gtree(long_lived);
	DROP(array);
}

// ---- churn and ring

static uint64_t churn_size, churn_per_thread;

static void churn_part(void *arg)
{
	(void)arg;
	for (uint64_t i = 0; i < churn_per_thread; i++) {
		volatile uint64_t *p = NEW_DATA(churn_size);
		if (!p)
			die("out of memory");
		p[0] = i;	// touch it
		DROP((void *)p);
	}
}

static void churn(uint64_t size, unsigned threads)
{
	churn_size = size;
	churn_per_thread = CHURN_ALLOCS / threads;
	run_threads(churn_part, threads);
}

#if defined(PEER_TRICOLOR)
GC_ROOT(static void **ring_slots);
#elif defined(PEER_BOEHM)
static void **ring_slots;	// in the data segment, which Boehm scans
#else
static void **ring_slots;
#endif

static void ring(uint64_t k)
{
#if defined(PEER_TRICOLOR)
	SET(ring_slots, (void **)gc_alloc_scan(k * sizeof(void *)));
#elif defined(PEER_BOEHM)
	ring_slots = GC_MALLOC(k * sizeof(void *));
#else
	ring_slots = calloc(k, sizeof(void *));
#endif
	if (!ring_slots)
		die("out of memory");
	for (uint64_t i = 0; i < k; i++)
		SET(ring_slots[i], NEW_DATA(RING_OBJ));
	pauses_begin();
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < RING_REPLACE; i++) {
		uint64_t *p = NEW_DATA(RING_OBJ);
		if (!p)
			die("out of memory");
		p[0] = i;
		void *old = ring_slots[i % k];
		SET(ring_slots[i % k], p);
		DROP(old);
	}
	uint64_t t = now_ns() - t0;
	pauses_end();
	for (uint64_t i = 0; i < k; i++)
		DROP(ring_slots[i]);
#if FREES
	free(ring_slots);
#endif
	printf("time_ns %lu\n", t);
}

// ---- mark: a full collection of a pointer-dense heap
//
// MARK_HEAP of 64-byte nodes, every word a pointer, in a shuffled order:
// in "chain" node i of that order refers to nodes i+1 .. i+8 (the graph of
// the in-kernel BenchmarkMarkRate/shuffled: marking chases pointers
// across the whole heap, and Tricolor's marker keeps only a window of the
// chain grey, so one CPU does nearly all of it: docs/PERFORMANCE.md); in
// "random" the first word still refers to node i+1 (so every node is
// reachable) and the other seven to random nodes (wide: every CPU can
// mark). "tree" is binary-trees' tree of depth MARK_TREE_DEPTH (that of
// BenchmarkMarkRate/tree), built depth first (bottom_up), as programs
// build their data: a subtree lies in the memory after its root. The
// graph is built with the collector held off; the time is
// that of MARK_CYCLES forced full collections after a first one, divided
// by MARK_CYCLES.

#define MARK_HEAP (256ul << 20)
#define MARK_CYCLES 2
#define MARK_TREE_DEPTH 23	// bottom_up's: 2^24 - 1 nodes of 16 bytes

struct mnode {
	struct mnode *p[8];
};

#if defined(PEER_TRICOLOR)
GC_TYPE(mnode_type, struct mnode, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
GC_ROOT(static struct mnode *mark_root);
GC_ROOT(static struct node *tree_root);
#define GC_OFF() gc_disable()
#define GC_ON() gc_enable()
#define GC_FULL() gc_collect()
#elif defined(PEER_BOEHM)
static struct mnode *mark_root;	// in the data segment, which Boehm scans
static struct node *tree_root;
#define GC_OFF() GC_disable()
#define GC_ON() GC_enable()
#define GC_FULL() GC_gcollect()
#endif

#if defined(PEER_TRICOLOR) || defined(PEER_BOEHM)
static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
	return *x;
}

// mark_build: the graph of shape (chain or random), reachable from
// mark_root.
static void mark_build(int wide)
{
	uint64_t n = MARK_HEAP / sizeof(struct mnode), seed = 88172645463325252ull;
	struct mnode **v = malloc(n * sizeof(*v));	// not scanned: collection is off
	if (!v)
		die("out of memory");
	for (uint64_t i = 0; i < n; i++)
		if (!(v[i] = NEW(mnode)))
			die("out of memory");
	for (uint64_t i = n - 1; i > 0; i--) {	// Fisher-Yates
		uint64_t j = xorshift(&seed) % (i + 1);
		struct mnode *x = v[i];
		v[i] = v[j];
		v[j] = x;
	}
	for (uint64_t i = 0; i < n; i++)
		for (unsigned k = 0; k < 8; k++)
			SET(v[i]->p[k], v[wide && k ? xorshift(&seed) % n : (i + 1 + k) % n]);
	SET(mark_root, v[0]);	// p[0] links every node in one cycle: all reachable
	free(v);
}

static void mark(const char *shape)
{
	int wide = !strcmp(shape, "random"), tree = !strcmp(shape, "tree");
	if (!wide && !tree && strcmp(shape, "chain"))
		die("mark: chain, random or tree");
	GC_OFF();
	if (tree)
		SET(tree_root, bottom_up(MARK_TREE_DEPTH));
	else
		mark_build(wide);
	GC_ON();
	GC_FULL();
	pauses_begin();
	uint64_t t0 = now_ns();
	for (int i = 0; i < MARK_CYCLES; i++)
		GC_FULL();
	uint64_t t = now_ns() - t0;
	pauses_end();
	uint64_t len = 0, n = MARK_HEAP / sizeof(struct mnode);
	if (tree) {
		len = check(tree_root);
		n = (2ull << MARK_TREE_DEPTH) - 1;
	} else {
		const struct mnode *x = mark_root;
		do
			x = x->p[0], len++;
		while (x != mark_root && len <= n);
	}
	if (len != n)
		die("mark: the graph changed");
	printf("time_ns %lu\n", t / MARK_CYCLES);
}
#else
static void mark(const char *shape)
{
	(void)shape;
	die("mark: only the collected peers");
}
#endif

// ---- main

static long peak_rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
#if defined(PEER_TRICOLOR)
	hosted_init(2);
	hosted_cpu_enter(0);
	// TRICOLOR_CMDLINE: kernel command-line options for the collector
	// (gctrace=1, gcpercent=...), as GODEBUG is for Go's side.
	const char *opts = getenv("TRICOLOR_CMDLINE");
	hosted_gc_start(opts ? opts : "");
#elif defined(PEER_BOEHM)
	GC_INIT();
	GC_allow_register_threads();
	GC_set_on_collection_event(on_event);
#endif
	if (argc < 2)
		die("usage: workloads binary-trees DEPTH THREADS | gcbench | churn SIZE THREADS | ring K | mark chain|random|tree");
	const char *w = argv[1];
	uint64_t a = argc > 2 ? strtoull(argv[2], NULL, 10) : 0, b = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
	if (b < 1 || b > 8)
		die("1 to 8 threads");
	if (!strcmp(w, "mark") && argc > 2) {
		mark(argv[2]);
	} else if (!strcmp(w, "ring")) {
		if (a < 1)
			die("ring: K >= 1");
		ring(a);
	} else {
		pauses_begin();
		uint64_t t0 = now_ns();
		if (!strcmp(w, "binary-trees") && a >= BT_MIN && a <= 24)
			binary_trees((unsigned)a, (unsigned)b);
		else if (!strcmp(w, "gcbench"))
			gcbench();
		else if (!strcmp(w, "churn") && a >= 8 && a <= 4096)
			churn(a, (unsigned)b);
		else
			die("unknown workload or bad size");
		uint64_t t = now_ns() - t0;
		pauses_end();
		printf("time_ns %lu\n", t);
	}
#if defined(PEER_TRICOLOR) || defined(PEER_BOEHM)
	printf("max_pause_ns %lu\ngc_cycles %ld\n", max_pause_ns, cycles);
#else
	printf("max_pause_ns -1\ngc_cycles -1\n");
#endif
	printf("peak_rss_kib %ld\n", peak_rss_kib());
	return 0;
}
