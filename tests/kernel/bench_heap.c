// Heap benchmarks: one allocation per iteration, pointer-free or typed,
// on one CPU and on all CPUs at once, and 64 KiB large objects. Batches
// that fit in memory are timed; dropping and collecting them between
// batches (heap_test_collect) is not.

#include "gc/gc.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "mm/malloc_internal.h"
#include "tests/kernel/kbench.h"

#define BATCH_MAX 16384
#define BATCH_BYTES (8ul << 20)

// Typed objects of each benchmarked size, pointers where a tree node or a
// buffer header would have them.
struct t8 { void *p; };
struct t16 { void *p; u64 x; };
struct t64 { void *a, *b; u64 x[6]; };
struct t256 { void *a, *b, *c; u64 x[29]; };
struct t1024 { void *a, *b, *c, *d; u64 x[124]; };
struct t8192 { void *a, *b; u64 x[1022]; };
GC_TYPE(t8_type, struct t8, p);
GC_TYPE(t16_type, struct t16, p);
GC_TYPE(t64_type, struct t64, a, b);
GC_TYPE(t256_type, struct t256, a, b, c);
GC_TYPE(t1024_type, struct t1024, a, b, c, d);
GC_TYPE(t8192_type, struct t8192, a, b);

static const struct gc_type *typed_of(u64 size)
{
	switch (size) {
	case 8: return &t8_type;
	case 16: return &t16_type;
	case 64: return &t64_type;
	case 256: return &t256_type;
	case 1024: return &t1024_type;
	default: return &t8192_type;
	}
}

// arg: size in the low 32 bits, bit 32 typed.
static void *alloc_one(u64 arg)
{
	u64 size = arg & 0xffffffff;
	return arg >> 32 ? gc_alloc(typed_of(size)) : gc_alloc_noscan(size);
}

static u64 batch_of(u64 size)
{
	return MIN((u64)BATCH_MAX, MAX(BATCH_BYTES / size, 1ul));
}

// Each CPU's batch: BATCH_MAX pointers from the frame allocator (a static
// array for 64 CPUs would take 8 MiB of every boot's memory).
#define OBJS_ORDER 5
_Static_assert(BATCH_MAX * sizeof(void *) == PAGE_SIZE << OBJS_ORDER, "one block per CPU");
static void **objs[MAX_CPUS];

// objs_get: the batch arrays, which are no roots: no collection may run
// until objs_put (the allocator alone is measured).
static bool objs_get(unsigned ncpu)
{
	gc_disable();
	for (unsigned c = 0; c < ncpu; c++)
		if (!objs[c] && !(objs[c] = frame_alloc(OBJS_ORDER, FT_TEST)))
			return false;
	return true;
}

static void objs_put(void)
{
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (objs[c]) {
			frame_free(objs[c], OBJS_ORDER);
			objs[c] = NULL;
		}
	gc_enable();
}

static void drop(void **v, u64 n)
{
	for (u64 i = 0; i < n; i++)
		heap_test_free(v[i]);
}

static void alloc_bench(struct kb *b)
{
	u64 batch = batch_of(b->arg & 0xffffffff);
	kb_set_bytes(b, b->arg & 0xffffffff);
	if (!objs_get(1)) {
		objs_put();
		kb_fail(b, "no memory for the batch array");
		return;
	}
	for (u64 done = 0; done < b->n;) {
		u64 k = MIN(batch, b->n - done);
		for (u64 i = 0; i < k; i++) {
			objs[0][i] = alloc_one(b->arg);
			if (!objs[0][i]) {
				kb_fail(b, "allocation %lu failed: %s", done + i, gc_alloc_error());
				drop(objs[0], i);
				objs_put();
				return;
			}
		}
		done += k;
		kb_stop_timer(b);
		drop(objs[0], k);
		heap_test_collect();
		kb_start_timer(b);
	}
	objs_put();
}

#define T (1ul << 32)
KBENCH_CASE(Alloc, "noscan/8B", alloc_bench, 8);
KBENCH_CASE(Alloc, "noscan/16B", alloc_bench, 16);
KBENCH_CASE(Alloc, "noscan/64B", alloc_bench, 64);
KBENCH_CASE(Alloc, "noscan/256B", alloc_bench, 256);
KBENCH_CASE(Alloc, "noscan/1024B", alloc_bench, 1024);
KBENCH_CASE(Alloc, "noscan/8192B", alloc_bench, 8192);
KBENCH_CASE(Alloc, "typed/8B", alloc_bench, T | 8);
KBENCH_CASE(Alloc, "typed/16B", alloc_bench, T | 16);
KBENCH_CASE(Alloc, "typed/64B", alloc_bench, T | 64);
KBENCH_CASE(Alloc, "typed/256B", alloc_bench, T | 256);
KBENCH_CASE(Alloc, "typed/1024B", alloc_bench, T | 1024);
KBENCH_CASE(Alloc, "typed/8192B", alloc_bench, T | 8192);
KBENCH_CASE(AllocLarge, "64KiB", alloc_bench, 64 << 10);

// ---- every CPU at once: rounds of one batch per CPU, started together;
// the round is timed until the last CPU is done.

static struct {
	struct spinlock lock;	// guards the fields below
	struct waitq start, done;
	u64 round;		// rounds started
	u32 finished;		// CPUs done allocating in the current round
	u32 dropped;		// CPUs done dropping their batch
	u64 arg, per_cpu;	// allocations per CPU this round
	bool quit;
	int failed;
	const char *why;
} par = {.lock = SPINLOCK_INIT("bench par")};

static void par_worker(void *arg)
{
	unsigned me = (unsigned)(u64)arg;
	u64 seen = 0;
	for (;;) {
		bool f = spin_lock_irqsave(&par.lock);
		while (par.round == seen && !par.quit)
			waitq_wait(&par.start, &par.lock);
		if (par.quit) {
			spin_unlock_irqrestore(&par.lock, f);
			return;
		}
		seen = par.round;
		u64 k = par.per_cpu, a = par.arg;
		spin_unlock_irqrestore(&par.lock, f);
		u64 i;
		for (i = 0; i < k; i++)
			if (!(objs[me][i] = alloc_one(a)))
				break;
		f = spin_lock_irqsave(&par.lock);
		if (i < k) {
			par.failed++;
			par.why = gc_alloc_error();
		}
		par.finished++;
		waitq_wake_all(&par.done);
		spin_unlock_irqrestore(&par.lock, f);
		drop(objs[me], i);	// not timed: the runner stopped the clock at `finished`
		f = spin_lock_irqsave(&par.lock);
		par.dropped++;
		waitq_wake_all(&par.done);
		spin_unlock_irqrestore(&par.lock, f);
	}
}

static void parallel_bench(struct kb *b)
{
	unsigned n = ncpus_online;
	struct thread *th[MAX_CPUS];
	kb_stop_timer(b);
	if (!objs_get(n)) {
		objs_put();
		kb_fail(b, "no memory for the batch arrays");
		kb_start_timer(b);
		return;
	}
	par.round = 0;
	par.quit = false;
	par.failed = 0;
	par.arg = b->arg;
	waitq_init(&par.start);
	waitq_init(&par.done);
	for (unsigned c = 0; c < n; c++)
		th[c] = thread_create("bench/alloc-par", par_worker, (void *)(u64)c, (int)c);
	u64 batch = batch_of(b->arg & 0xffffffff);
	for (u64 done = 0; done < b->n && !par.failed;) {
		u64 k = MIN(batch, (b->n - done + n - 1) / n);
		bool f = spin_lock_irqsave(&par.lock);
		par.per_cpu = k;
		par.finished = par.dropped = 0;
		par.round++;
		kb_start_timer(b);
		waitq_wake_all(&par.start);
		while (par.finished < n)
			waitq_wait(&par.done, &par.lock);
		kb_stop_timer(b);
		while (par.dropped < n)
			waitq_wait(&par.done, &par.lock);
		spin_unlock_irqrestore(&par.lock, f);
		done += k * n;
		heap_test_collect();
	}
	bool f = spin_lock_irqsave(&par.lock);
	par.quit = true;
	waitq_wake_all(&par.start);
	spin_unlock_irqrestore(&par.lock, f);
	for (unsigned c = 0; c < n; c++)
		thread_join(th[c]);
	heap_test_collect();
	objs_put();
	if (par.failed)
		kb_fail(b, "%d CPUs ran out: %s", par.failed, par.why);
	kb_set_bytes(b, b->arg & 0xffffffff);
	kb_start_timer(b);
}

KBENCH_CASE(AllocParallel, "noscan/16B", parallel_bench, 16);
KBENCH_CASE(AllocParallel, "noscan/64B", parallel_bench, 64);
KBENCH_CASE(AllocParallel, "noscan/1024B", parallel_bench, 1024);
KBENCH_CASE(AllocParallel, "typed/16B", parallel_bench, T | 16);
KBENCH_CASE(AllocParallel, "typed/64B", parallel_bench, T | 64);
KBENCH_CASE(AllocParallel, "typed/1024B", parallel_bench, T | 1024);
