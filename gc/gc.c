// The garbage collector: concurrent tri-color mark-sweep, after Go's
// (mgc.go). This comment is the overview of gc/ (gc.c: cycles, workers,
// assists, pacer, memory and CPU limits, statistics, gctrace; mark.c:
// work buffers, scanning, roots; barrier.c: the write barrier and
// gccheckmark; special.c: finalizers, weak references, pools); the heap
// it collects is described in mm/malloc.c.
//
// Colours. An object is white (mark bit clear), grey (marked, queued in a
// work buffer) or black (marked and scanned, or noscan). Marking ends
// when nothing is grey; white objects are then garbage.
//
// A cycle (one at a time; steps 0 and 1 run on the thread whose
// allocation crossed the trigger, as Go's gcStart, or on the "gc" thread
// for forced cycles; the gc thread runs the rest):
//   0. Finish sweeping the last cycle's spans (every span is swept before
//      its mark bits are used again).
//   1. Sweep termination, world stopped: a new cycle number, root jobs
//      reset, tiny blocks dropped from the per-CPU caches (a block kept
//      across the cycle could be freed while still being carved), then
//      heap.marking and gc_barrier_on set. Every CPU sees them when it
//      leaves the rendezvous. Right after it, the same thread wakes the
//      mark workers and lets assists mark (mark_begin).
//   2. Concurrent mark: one worker thread per CPU, pinned, scans roots
//      (the .gcroots section, registered ranges, each thread's stack
//      while that thread is held switched out, see mark.c) and drains
//      work buffers. Mutators run: their stores shade (barrier.c), their
//      new objects are black (a span's blackfrom says which; markers
//      treat them as marked, mm/malloc.c), and allocating threads assist
//      in proportion to what they allocate.
//   3. Mark termination, world stopped, once every worker has gone idle
//      since it was last woken (a mutator whose barrier or assist greys
//      objects then hands them over at once, gcw_handoff): every CPU's
//      work buffer is flushed; stacks not scanned yet (threads that ran
//      throughout) are scanned now, and what they reach is marked for up
//      to 20 us. If anything is still grey, the world restarts and
//      marking goes on (the attempt's pause still counts). Else the new
//      objects of the spans still cached get their mark bits (those of
//      spans that left a cache got theirs then), marking and the
//      barrier go off, each CPU's cache is swapped for an empty
//      spare, gccheckmark verifies, the marked bytes become heap.live,
//      the pacer sets the next trigger and sweepgen moves on by 2. Once
//      the world runs, the old caches' spans go on their classes'
//      unswept lists (mm/malloc.c mcache_detach_all).
//   4. Concurrent sweep: the "sweeper" thread sweeps span after span
//      (mm/mcentral.c heap_sweep_one); an allocation that needs a span
//      sweeps its class's spans first (sweep on demand). Marks become
//      allocation bits; an empty span goes back to the CPU that took it
//      in the last cycle (its next refill reuses it, still in its
//      caches) or to the page heap. Then the sweeper scavenges: idle
//      heap pages, those CPUs' empty spans last, go back to the frame
//      allocator until at most 10% more than the heap goal stays backed.
// gcstoptheworld=1 runs 1-3 as one stopped-world phase (debugging).
//
// Invariants and why the barrier is enough (the hybrid barrier of Go's
// proposal 17503, shade(*slot) and shade(new) on every pointer store):
//   - Snapshot: every object reachable when mark began is marked by the
//     end. An object can only become unreachable from the heap or a
//     global by a store over its last reference, which shades it
//     (deletion half). Stacks are scanned once each, with the thread
//     held; a thread can only lose a reference on its stack, which was
//     in the snapshot only if the stack was not scanned yet — then it
//     either still holds it when scanned, or stored it somewhere first:
//     into the heap or a global, which shades it (insertion half), or
//     into a new thread's start argument, which is scanned with that
//     thread's stack.
//   - New objects are black, so nothing allocated during mark is lost;
//     an object reached both ways is scanned at most once (mark bits
//     are set with an atomic or).
//   - No black object points to a white one at termination: every store
//     into a black object shaded its new value.
// Consequently no stack is rescanned and termination needs only the
// flush, not a rescan.
//
// Pacing (GOGC): after a cycle that found `marked` live bytes and
// `roots` bytes of roots, the goal is marked + (marked + roots) *
// GOGC/100, at least 4 MiB; a memory limit (GOMEMLIMIT) lowers it to what
// the limit leaves for the heap. The next cycle starts when heap.live is
// as far below the goal as it grew during the last mark (plus 10%),
// within 70% .. 95% of the way from marked to the goal, so marking (at
// 25% of the CPUs, plus assists) ends near the goal. The thread whose
// allocation crosses the trigger starts the cycle, as Go's gcStart runs
// on the goroutine that crossed it; others that cross it meanwhile wait
// until the cycle marks. Assists: each byte a thread allocates while
// marking costs it ratio bytes of scan work, ratio = the scan work still
// expected / the bytes left to the goal, computed at each assist (the
// work done is summed after every chunk of mark work); fast-path
// allocations are charged per CPU, 4 KiB at a time, to the thread that
// completes the batch (mm/malloc.c). A thread pays with its own work,
// the workers' surplus (credit), or by waiting for credit. The CPU
// limiter turns assists off while GC has used more than 50% of all CPUs
// over the last 200 ms x CPUs of GC time.

#include "gc/gc_internal.h"
#include "kernel/cmdline.h"

int gc_barrier_on;
u32 gc_cycle;

// The smallest goal at GOGC=100, scaled by GOGC as Go's heapMinimum is:
// a small heap under GOGC=400 runs a quarter as many cycles, not as many.
#define GC_MIN_GOAL (4ul << 20)
#define TRIGGER_MIN_PERCENT 70	// of the runway from marked to the goal
#define TRIGGER_MAX_PERCENT 95
#define WORKER_CHUNK (16ul << 10)	// scan work between checks
#define UTILIZATION_PERCENT 25		// Go's gcBackgroundUtilization

static struct {
	struct spinlock lock;	// guards the fields up to `workers` and the wait queues
	struct waitq gc_wq;	// the gc thread waits for requests and for idle workers
	struct waitq done_wq;	// gc_collect callers and exclude(true) wait for cycles
	struct waitq start_wq;	// threads that crossed the trigger wait for marking to start
	struct waitq worker_wq;	// idle workers wait for work
	struct waitq sweep_wq;	// the sweeper waits for a cycle's end
	bool requested;		// the pacer asked for a cycle
	u32 forced_pending;	// gc_collect calls waiting for a cycle of their own
	u32 forced_started;	// forced cycles started (gc_collect waits past its ticket)
	bool running;		// a cycle is between steps 0 and 3 (`cur`)
	// The thread that crossed the trigger ran steps 0 and 1 of `cur`
	// itself; the gc thread takes it from step 2 on.
	bool started;
	u32 excluded;		// heap_test_collect in progress: no cycle may start
	bool sweep_requested;
	bool sweeper_busy;	// sweeping or scavenging after a cycle
	// Mark phase coordination.
	bool mark_on;		// workers should mark
	u32 mark_gen;		// moves when idle workers should look again
	// Workers that went idle since mark_gen last moved. Woken workers
	// still count in nidle until they run, so nidle alone may say "all
	// idle" right after a wake-up, with the work just handed out still
	// queued: mark termination waits for this instead.
	u32 nidle_fresh;
	u32 nidle;		// workers that found nothing to do
	unsigned workers;
	// Settings.
	int percent;
	bool checkmark;
	// Pacer and per-cycle accounting.
	u64 scan_expect;	// scan work this cycle is expected to take (bytes)
	i64 bg_credit;		// scan work the workers did that assists may take (atomic)
	u64 scan_done;		// every CPU's scan work this cycle, summed per chunk (atomic)
	struct waitq assist_wq;	// assists with debt and nothing to do wait for credit
	u32 assist_waiting;	// threads on assist_wq (gc.lock)
	u64 last_scan_work;
	u64 worker_ns, assist_ns, idle_ns;	// this cycle's CPU time (atomic adds)
	u64 cpu_ns;		// all cycles: STW x CPUs + workers + assists (atomic adds)
	u64 memlimit;		// GOMEMLIMIT, bytes; UINT64_MAX: none
	u64 last_marked, last_roots;	// the last cycle's, for the pacer
	u64 last_growth;	// heap.live growth during the last mark phase
	// The GC CPU limiter (a bucket of GC CPU time over 50%, Go's
	// gcCPULimiter), under lim_lock.
	struct spinlock lim_lock;
	u64 lim_bucket, lim_last_ns, lim_last_cpu;
	int lim_on;		// assists are off (read racily)
	bool lim_hold;		// on whatever the bucket says (gc_limiter_hold)
	u64 lim_engaged;	// times it turned on (lim_lock; read unlocked)
	u64 assists;		// assists the limiter let pay: work, credit or a wait (atomic)
	// Statistics (MemStats), written by the gc thread with the world stopped.
	u64 num_gc, num_forced, pause_total, last_gc, next_gc;
	u64 pause_ns[256], pause_end[256];
	// Measurements for benchmarks (gc.h): every single stop (STW 1, each
	// termination attempt, STW 2) in a ring, the largest heap at the end
	// of a mark, the last cycle's mark work. The gc thread writes them
	// (atomically where benchmarks read them meanwhile).
	u64 stops;		// stops logged so far
	u64 stop_ns[GC_STOP_LOG];
	u64 peak_heap;
	struct gc_cycle_stats last;
} gc = {
	.lock = SPINLOCK_INIT("gc"),
	.gc_wq = WAITQ_INIT(gc.gc_wq),
	.done_wq = WAITQ_INIT(gc.done_wq),
	.start_wq = WAITQ_INIT(gc.start_wq),
	.worker_wq = WAITQ_INIT(gc.worker_wq),
	.sweep_wq = WAITQ_INIT(gc.sweep_wq),
	.assist_wq = WAITQ_INIT(gc.assist_wq),
	.percent = 100,
	.memlimit = UINT64_MAX,
	.lim_lock = SPINLOCK_INIT("gc cpu limiter"),
};

#define LIMIT_HEADROOM_PERCENT 3	// of the memory limit, kept free

bool gc_limiter_step(u64 *bucket, u64 gc_ns, u64 dt_ns, unsigned ncpus)
{
	u64 cap = LIMITER_WINDOW_NS * ncpus;
	u64 drain = dt_ns * ncpus * LIMITER_PERCENT / 100;
	u64 b = *bucket + gc_ns;
	b = b > drain ? b - drain : 0;
	*bucket = MIN(b, cap);
	return *bucket >= cap;
}

// limiter_advance: feeds the GC CPU time since the last update to the
// bucket (gc_limiter_step). lim_lock held. The time is read under it:
// read before, a CPU that lost the race to one with a later clock would
// step the bucket by a negative (wrapped, huge) interval and empty it.
static void limiter_advance(void)
{
	u64 now = nanotime(), cpu = __atomic_load_n(&gc.cpu_ns, __ATOMIC_RELAXED);
	bool on = gc_limiter_step(&gc.lim_bucket, cpu - gc.lim_last_cpu, now - gc.lim_last_ns, plat_ncpus());
	on |= gc.lim_hold;
	__atomic_store_n(&gc.lim_last_ns, now, __ATOMIC_RELAXED);	// limiter_update reads it unlocked
	gc.lim_last_cpu = cpu;
	if (on && !gc.lim_on)	// (an atomic store: gc_limiter_engaged reads it unlocked)
		__atomic_store_n(&gc.lim_engaged, gc.lim_engaged + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&gc.lim_on, on, __ATOMIC_RELAXED);
}

// limiter_update: limiter_advance at most once a millisecond.
static void limiter_update(void)
{
	if (nanotime() - __atomic_load_n(&gc.lim_last_ns, __ATOMIC_RELAXED) < 1000000)
		return;
	bool f = spin_lock_irqsave(&gc.lim_lock);
	if (nanotime() - gc.lim_last_ns >= 1000000)	// nobody did it meanwhile
		limiter_advance();
	spin_unlock_irqrestore(&gc.lim_lock, f);
}

void gc_limiter_sync(struct gc_limiter_state *s)
{
	bool f = spin_lock_irqsave(&gc.lim_lock);
	limiter_advance();
	*s = (struct gc_limiter_state){
		.on = gc.lim_on, .engaged = gc.lim_engaged, .at_ns = gc.lim_last_ns, .gc_ns = gc.lim_last_cpu,
	};
	spin_unlock_irqrestore(&gc.lim_lock, f);
}

void gc_limiter_hold(bool on)
{
	bool f = spin_lock_irqsave(&gc.lim_lock);
	gc.lim_hold = on;
	limiter_advance();
	spin_unlock_irqrestore(&gc.lim_lock, f);
}

static void add_gc_cpu(u64 ns)
{
	__atomic_fetch_add(&gc.cpu_ns, ns, __ATOMIC_RELAXED);
}

// total_memory: what the memory limit counts: heap memory backed by
// frames, thread stacks and metadata (Go: Sys - HeapReleased). *other:
// the part that is not the heap.
static u64 total_memory(u64 *other)
{
	u64 stacks, meta;
	plat_memory_stats(&stacks, &meta);
	*other = stacks + meta;
	return heap_backed_bytes() + *other;
}

// pace: the heap goal (NextGC) and the trigger, from the last cycle's
// marked bytes and roots, GOGC and the memory limit. The goal under a
// limit is what the limit leaves for the heap, less 3% headroom; when
// that is below what is marked, the next cycle starts at once (the CPU
// limiter keeps that from taking the machine). gc.lock held or the
// world stopped.
static void pace(void)
{
	u64 marked = gc.last_marked, goal = UINT64_MAX, backed_limit = UINT64_MAX, trigger;
	if (gc.percent >= 0)
		goal = MAX(marked + (marked + gc.last_roots) * (u64)gc.percent / 100,
			   GC_MIN_GOAL * (u64)gc.percent / 100);
	if (gc.memlimit != UINT64_MAX) {
		u64 other, reserve = gc.memlimit / 100 * LIMIT_HEADROOM_PERCENT;
		total_memory(&other);
		u64 room = gc.memlimit > other + reserve ? gc.memlimit - other - reserve : 0;
		goal = MIN(goal, room);
		backed_limit = gc.memlimit > other ? gc.memlimit - other : 0;
	}
	if (goal == UINT64_MAX) {
		trigger = UINT64_MAX;
	} else if (goal <= marked) {
		trigger = marked;	// at once
	} else {
		// Start early enough that the heap, growing during mark as much
		// as it did last time (and 10% more), ends at the goal; within
		// 70% .. 95% of the runway (Go's trigger bounds, minTriggerRatio
		// 45/64). A lower bound of 30% fed on itself: a slow mark let the
		// mutators allocate more, all of it black, so more was marked and
		// the next runway was longer still (binary-trees' marked heap
		// climbed from 9 to 29 MB; 11 MB with the bound at 70%).
		u64 run = goal - marked, grow = gc.last_growth + gc.last_growth / 10;
		u64 at = grow < run ? run - grow : 0;
		at = MIN(MAX(at, run * TRIGGER_MIN_PERCENT / 100), run * TRIGGER_MAX_PERCENT / 100);
		trigger = marked + at;
	}
	// Atomic stores: allocating threads and the scavenger read them unlocked.
	__atomic_store_n(&heap.backed_limit, backed_limit, __ATOMIC_RELAXED);
	__atomic_store_n(&gc.next_gc, goal == UINT64_MAX ? 0 : goal, __ATOMIC_RELAXED);
	__atomic_store_n(&heap.trigger, trigger, __ATOMIC_RELAXED);
}

// ---- the mark phase: workers and their coordination

// wake_all: wakes every thread on q, one of gc's queues (under gc.lock,
// as their waiters check their conditions under it).
static void wake_all(struct waitq *q)
{
	bool f = spin_lock_irqsave(&gc.lock);
	waitq_wake_all(q);
	spin_unlock_irqrestore(&gc.lock, f);
}

// wake_assists: the workers made credit, or there is new work. The
// unlocked check may miss an assist just going to sleep; the next chunk
// or the end of mark wakes it.
static void wake_assists(void)
{
	if (__atomic_load_n(&gc.assist_waiting, __ATOMIC_RELAXED))
		wake_all(&gc.assist_wq);
}

// wake_workers_locked: idle workers look for work again. gc.lock held.
static void wake_workers_locked(void)
{
	gc.mark_gen++;
	gc.nidle_fresh = 0;
	waitq_wake_all(&gc.worker_wq);
}

void gc_work_available(void)
{
	if (__atomic_load_n(&gc_world_stopped, __ATOMIC_RELAXED))
		return;		// nobody could run: the restart wakes them
	if (__atomic_load_n(&gc.nidle, __ATOMIC_RELAXED)) {
		bool f = spin_lock_irqsave(&gc.lock);
		if (gc.nidle)
			wake_workers_locked();
		spin_unlock_irqrestore(&gc.lock, f);
	}
	wake_assists();	// they may mark it themselves
}

// Grey objects in a CPU's own buffer are invisible to the other CPUs'
// workers. A mutator's buffer fills only through its write barrier and
// its assists; when every worker has gone idle, what it holds goes to the
// global list at once. Otherwise the gc thread, seeing every worker idle,
// stops the world for mark termination, finds the objects in the flush
// and has to restart marking: 2 or 3 stops a cycle instead of one (the
// hosted binary-trees). gc.workers is set before any worker runs.
void gcw_handoff(struct gcw *w)
{
	if (gcw_holds_work(w) && __atomic_load_n(&gc.nidle, __ATOMIC_RELAXED) == gc.workers) {
		gcw_flush(w);
		gc_work_available();
	}
}

// mark_some: one chunk of mark work on this CPU: queued objects, else a
// root job. Returns the bytes of work done (0: nothing to do right now).
static u64 mark_some(u64 budget)
{
	preempt_disable();
	u64 did = gcw_drain(&gcws[this_cpu_id()], budget);
	preempt_enable();
	if (!did && mark_roots_some())
		did = 1;
	preempt_disable();
	gcw_handoff(&gcws[this_cpu_id()]);	// an assist's leftovers, a root job's finds
	preempt_enable();
	return did;
}

// worker_share: the fraction of its CPU (percent) worker `cpu` aims for
// while other threads want that CPU: 25% of all CPUs in total, whole
// CPUs first (dedicated workers), the rest split evenly (fractional).
static unsigned worker_share(unsigned cpu)
{
	unsigned n = plat_ncpus(), dedicated = n * UTILIZATION_PERCENT / 100;
	if (cpu < dedicated)
		return 100;
	return (n * UTILIZATION_PERCENT - dedicated * 100) / (n - dedicated);
}

static void sum_scan_work(void);	// assists, below

static void mark_worker(void *arg)
{
	unsigned cpu = (unsigned)(u64)arg;
	for (;;) {
		bool f = spin_lock_irqsave(&gc.lock);
		__atomic_store_n(&gc.nidle, gc.nidle + 1, __ATOMIC_RELAXED);	// read unlocked as a hint
		if (++gc.nidle_fresh == gc.workers)
			waitq_wake_all(&gc.gc_wq);	// perhaps done: the gc thread checks
		u32 gen = gc.mark_gen;
		while (gc.mark_gen == gen || !gc.mark_on)
			waitq_wait(&gc.worker_wq, &gc.lock);
		__atomic_store_n(&gc.nidle, gc.nidle - 1, __ATOMIC_RELAXED);
		spin_unlock_irqrestore(&gc.lock, f);

		u64 t0 = nanotime(), mine = 0;	// mine: time marking on a CPU others wanted
		while (__atomic_load_n(&gc.mark_on, __ATOMIC_ACQUIRE)) {
			u64 c0 = nanotime();
			bool idle = !sched_runnable(cpu);	// nobody else wanted this CPU
			u64 did = mark_some(WORKER_CHUNK);
			u64 d = nanotime() - c0;
			// Only after new work: a chunk that found nothing changes
			// neither the sum nor the credit. Waking the assists for
			// it, just before this worker went idle and perhaps let the
			// gc thread stop the world, made the stop wait for their
			// CPU to switch them in and out again (40-80 us under TCG,
			// stwtrace: the IPI taken at the end of gc_assist's locked
			// wait).
			if (did) {
				__atomic_fetch_add(&gc.bg_credit, (i64)did, __ATOMIC_RELAXED);
				sum_scan_work();
				wake_assists();
			}
			if (idle) {	// idle marking is free: not GC's share of the CPUs
				__atomic_fetch_add(&gc.idle_ns, d, __ATOMIC_RELAXED);
			} else {
				mine += d;
				__atomic_fetch_add(&gc.worker_ns, d, __ATOMIC_RELAXED);
				add_gc_cpu(d);
			}
			limiter_update();
			if (!did)
				break;
			// Over its share with other threads waiting for the CPU:
			// sleep until back at it (at least a tick). An otherwise
			// idle CPU marks on, and that time is no part of the
			// share: counted, it put a worker that had marked an idle
			// CPU for 12 ms to sleep for 33 ms as soon as a thread
			// wanted the CPU, with the cycle's work unfinished.
			u64 elapsed = nanotime() - t0, share = worker_share(cpu);
			if (sched_runnable(cpu) && mine * 100 > elapsed * share)
				thread_sleep(share ? MAX(mine * 100 / share - elapsed, 1000000ul) : 1000000ul);
			else
				thread_yield();
		}
	}
}

// ---- assists (called by mm/malloc.c through the heap's hooks)

// assist_ratio: scan work owed per allocated byte (x1024), as Go's
// assistWorkPerByte: the work still expected this cycle over the bytes
// left to the goal. Past the goal the worst case is expected (the whole
// heap may need scanning) against the hard goal, 10% further: an
// allocating thread then does, or waits for, nearly all remaining work.
// Computed at every assist from the heap's size now, as Go revises at
// each change of heapLive. A ratio revised only after chunks of mark
// work went stale whenever nobody marked: binary-trees' one mutator,
// its CPU's worker waiting to run, allocated past the goal at the ratio
// of the last chunk, near 0 with the work all but done.
static u64 assist_ratio(void)
{
	u64 done = __atomic_load_n(&gc.scan_done, __ATOMIC_RELAXED);
	// next_gc changes under gc.lock (a new limit or GOGC) while assists
	// read it without; scan_expect is set with the world stopped, before
	// any of them runs.
	u64 live = __atomic_load_n(&heap.live, __ATOMIC_RELAXED), goal = __atomic_load_n(&gc.next_gc, __ATOMIC_RELAXED);
	u64 expect = gc.scan_expect;
	if (live >= goal) {
		expect = MAX(expect, live);
		goal += goal / 10;
	}
	u64 rest = expect > done ? expect - done : expect / 16;
	u64 runway = MAX(goal > live ? goal - live : 0, 64ul << 10);
	return rest * 1024 / runway;
}

// sum_scan_work: gc.scan_done, after every chunk of mark work: summing
// every CPU's counter at each assist instead cost allocating threads 10%
// of their time in cache misses on the other CPUs' counters.
static void sum_scan_work(void)
{
	u64 done = 0;
	for (unsigned i = 0; i < plat_ncpus(); i++)
		done += __atomic_load_n(&gcws[i].scan_work, __ATOMIC_RELAXED);
	__atomic_store_n(&gc.scan_done, done, __ATOMIC_RELAXED);
}

// take_credit: pays debt from what the workers scanned beyond their own
// share; returns what is still owed.
static i64 take_credit(i64 debt)
{
	i64 c = __atomic_load_n(&gc.bg_credit, __ATOMIC_RELAXED);
	while (c > 0) {
		i64 take = MIN(c, debt);
		if (__atomic_compare_exchange_n(&gc.bg_credit, &c, c - take, true, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return debt - take;
	}
	return debt;
}

// gc_assist: every allocation while marking costs bytes * ratio of scan
// work. A thread pays with work of its own, with the workers' credit,
// or by waiting for the workers to make some (Go parks assists the same
// way): that is what keeps a fast allocator from outrunning marking.
// Unless the CPU limiter is on: then the heap grows instead.
static void gc_assist(u64 bytes)
{
	struct thread *t = thread_current();
	if (t->gc_assist_cycle != gc_cycle) {
		t->gc_assist_cycle = gc_cycle;
		t->gc_assist_debt = 0;
	}
	t->gc_assist_debt += (i64)(bytes * assist_ratio() / 1024);
	if (t->gc_assist_debt < (i64)(16 << 10))
		return;		// pay in chunks
	bool counted = false;
	while (t->gc_assist_debt > 0 && __atomic_load_n(&gc.mark_on, __ATOMIC_ACQUIRE)) {
		limiter_update();
		if (__atomic_load_n(&gc.lim_on, __ATOMIC_RELAXED))
			break;	// GC is over its CPU cap
		if (!counted)
			__atomic_fetch_add(&gc.assists, 1, __ATOMIC_RELAXED);
		counted = true;
		t->gc_assist_debt = take_credit(t->gc_assist_debt);
		if (t->gc_assist_debt <= 0)
			break;
		u64 c0 = nanotime();
		u64 did = mark_some(MIN((u64)t->gc_assist_debt, WORKER_CHUNK));
		u64 d = nanotime() - c0;
		__atomic_fetch_add(&gc.assist_ns, d, __ATOMIC_RELAXED);
		add_gc_cpu(d);
		if (did) {
			t->gc_assist_debt -= (i64)did;
			sum_scan_work();
			continue;
		}
		// Nothing grey here: wait for the workers' credit or the end of mark.
		bool f = spin_lock_irqsave(&gc.lock);
		if (gc.mark_on && __atomic_load_n(&gc.bg_credit, __ATOMIC_RELAXED) <= 0) {
			// Atomic stores: wake_assists reads it unlocked.
			__atomic_store_n(&gc.assist_waiting, gc.assist_waiting + 1, __ATOMIC_RELAXED);
			waitq_wait(&gc.assist_wq, &gc.lock);
			__atomic_store_n(&gc.assist_waiting, gc.assist_waiting - 1, __ATOMIC_RELAXED);
		}
		spin_unlock_irqrestore(&gc.lock, f);
	}
}


// ---- cycles

// The collector has the world stopped (stw_start to stw_finish): its
// marking then wakes nobody and keeps its work on this CPU (nothing else
// runs). Written only by the stopper with every other CPU stopped.
bool gc_world_stopped;

// stw_start: stops the world; *pause_start is when stopping began (not
// counting a wait for another stopper).
static void stw_start(u64 *pause_start)
{
	u64 took = stw_begin();
	*pause_start = nanotime() - took;
	__atomic_store_n(&gc_world_stopped, true, __ATOMIC_RELAXED);
}

// stw_finish: stw_end for stw_start; returns when the world was let go.
static u64 stw_finish(void)
{
	__atomic_store_n(&gc_world_stopped, false, __ATOMIC_RELAXED);
	return stw_end();
}

// add_pause: the stop from start to end goes into this cycle's pause and
// the log of stops. end is stw_end's: the moment the world ran again.
static u64 add_pause(u64 start, u64 end, u64 *pause)
{
	u64 d = end - start;
	*pause += d;
	__atomic_store_n(&gc.stop_ns[gc.stops % GC_STOP_LOG], d, __ATOMIC_RELAXED);
	__atomic_store_n(&gc.stops, gc.stops + 1, __ATOMIC_RELEASE);	// after the entry
	return d;
}

static void flush_all_gcws(void)
{
	for (unsigned i = 0; i < plat_ncpus(); i++)
		gcw_flush(&gcws[i]);
}

// drain_stopped: marks everything left, on this CPU, world stopped.
static void drain_stopped(struct gcw *w)
{
	while (mark_roots_some())
		;
	mark_stacks_stopped(w);
	while (gcw_drain(w, ~0ull))
		;
}

struct cycle {
	bool forced;
	u64 start_ns, heap0, heap1, marked, goal;
	u64 mark_start_ns;		// when the first stop ended: marking is on from here
	u64 stw1_ns, mark_ns, stw2_ns;	// wall
	u64 pause_ns;			// all stopped time
	u64 stacks, globals;
};

static void print_trace(const struct cycle *c);

// mark_begin: the workers are woken and assists may mark, from the end of
// the first stop, on the thread that ran it (and again after a mark
// termination attempt that found work). Waiting for the gc thread
// instead (it runs step 2 on) let mutators allocate black for as long as
// it took to get a CPU, milliseconds on a busy machine, with nothing to
// slow them down; an assist that finds nothing to mark waits for credit
// or the end of marking, as Go's do.
static void mark_begin(void)
{
	bool f = spin_lock_irqsave(&gc.lock);
	__atomic_store_n(&gc.mark_on, true, __ATOMIC_RELEASE);
	wake_workers_locked();
	spin_unlock_irqrestore(&gc.lock, f);
}

static void sweep_termination(struct cycle *c)
{
	while (heap_sweep_one())
		;
	c->heap0 = heap_live();
	u64 t;
	stw_start(&t);
	if (__atomic_load_n(&heap.unswept, __ATOMIC_RELAXED))
		panic("gc: %lu spans left unswept at the start of cycle %u", heap.unswept, gc_cycle + 1);
	gc_cycle++;
	c->goal = gc.next_gc;	// this cycle's, as Go's gctrace prints
	mark_prepare();
	for (unsigned i = 0; i < plat_ncpus(); i++) {
		struct mcache *mc = mcache_of(i);
		mc->tiny = mc->tinyoffset = 0;
		mc->black_bytes = mc->assist_bytes = 0;
		gcws[i].bytes_marked = gcws[i].scan_work = 0;
	}
	// Assists: the scan work expected is the last cycle's (or, the first
	// time, the whole heap); no credit yet.
	gc.scan_expect = MAX(gc.last_scan_work, gc.num_gc ? 64ul << 10 : c->heap0);
	gc.bg_credit = 0;
	gc.scan_done = 0;
	gc.worker_ns = gc.assist_ns = gc.idle_ns = 0;
	specials_cycle_start();
	heap.marking = 1;
	mcache_black_begin();	// what the caches hand out from here is black
	gc_barrier_on = 1;
	// (With gcstoptheworld the world stays stopped through mark termination.)
	c->mark_start_ns = kconfig.gcstoptheworld ? nanotime() : stw_finish();
	c->stw1_ns = add_pause(t, c->mark_start_ns, &c->pause_ns);
	if (!kconfig.gcstoptheworld)
		mark_begin();
	wake_all(&gc.start_wq);	// marking has begun: threads in gc_trigger go on
}

#define TERM_DRAIN_NS 20000
#define TERM_DRAIN_CHUNK 4096	// bytes between looks at the clock

// mark_termination_try: world stopped. True if marking is complete.
static bool mark_termination_try(void)
{
	flush_all_gcws();
	struct gcw *w = &gcws[this_cpu_id()];
	mark_stacks_stopped(w);
	if (kconfig.gcstoptheworld) {
		drain_stopped(w);
		return true;
	}
	// What is left now (objects reached from the stacks just scanned, a
	// few grey objects from the flush) is usually little: marking it here,
	// for at most TERM_DRAIN_NS, costs less than restarting the workers
	// and stopping again.
	u64 until = nanotime() + TERM_DRAIN_NS;
	while (gcw_drain(w, TERM_DRAIN_CHUNK) && nanotime() < until)
		;
	gcw_flush(w);
	return work_empty() && mark_root_jobs_done();	// (and every stack: mark_stacks_stopped above)
}

// concurrent_mark: step 2, on the gc thread. Its clock (gctrace's second
// number) starts when marking did, at the end of the first stop, which
// may have been on the thread that triggered the cycle: the time the gc
// thread then waits for a CPU is part of the phase (mutators allocate
// black meanwhile), as in Go's gctrace.
static void concurrent_mark(struct cycle *c, u64 *stw2_start)
{
	if (kconfig.gcstoptheworld) {
		*stw2_start = nanotime();
		mark_termination_try();
		c->mark_ns = 0;
		return;
	}
	for (;;) {	// (marking began at the end of the first stop: mark_begin)
		bool f = spin_lock_irqsave(&gc.lock);
		// Wait until every worker found nothing to do at some point
		// after the last wake-up, then check with the world stopped.
		while (gc.nidle_fresh != gc.workers)
			waitq_wait(&gc.gc_wq, &gc.lock);
		spin_unlock_irqrestore(&gc.lock, f);
		stw_start(stw2_start);
		if (mark_termination_try())
			break;
		add_pause(*stw2_start, stw_finish(), &c->pause_ns);
		mark_begin();	// again: the attempt found work
	}
	// The waiting assists are woken once the world runs again
	// (mark_termination).
	__atomic_store_n(&gc.mark_on, false, __ATOMIC_RELEASE);
	c->mark_ns = *stw2_start - c->mark_start_ns;
}

static void mark_termination(struct cycle *c, u64 stw2_start)
{
	mcache_black_flush();	// the new objects' mark bits, and their bytes
	heap.marking = 0;
	gc_barrier_on = 0;
	u64 marked = 0, scan = 0;
	for (unsigned i = 0; i < plat_ncpus(); i++) {
		marked += gcws[i].bytes_marked + mcache_of(i)->black_bytes;
		scan += gcws[i].scan_work;
	}
	c->heap1 = heap_live();
	for (u64 p = __atomic_load_n(&gc.peak_heap, __ATOMIC_RELAXED); p < c->heap1;)
		if (__atomic_compare_exchange_n(&gc.peak_heap, &p, c->heap1, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			break;	// (a benchmark may reset it meanwhile)
	mcache_detach_all();	// the spans go on their lists once the world runs
	mark_root_bytes(&c->stacks, &c->globals);
	if (gc.checkmark)
		checkmark_run();
	marked += specials_mark_termination();
	c->marked = marked;
	gc.last_scan_work = scan;
	__atomic_store_n(&heap.live, marked, __ATOMIC_RELAXED);
	heap_sweep_begin();
	gc.last_marked = marked;
	gc.last_roots = c->stacks + c->globals;
	gc.last_growth = c->heap1 > c->heap0 ? c->heap1 - c->heap0 : 0;
	pace();
	gc.requested = false;
	// Up to here: the statistics below are written with the world stopped
	// (read_memstats reads them so). Go ends this pause here too.
	c->stw2_ns = add_pause(stw2_start, nanotime(), &c->pause_ns);
	gc.last = (struct gc_cycle_stats){
		.marked = marked,
		.scan_work = scan,
		.mark_cpu_ns = gc.worker_ns + gc.assist_ns + gc.idle_ns + c->pause_ns * plat_ncpus(),
	};
	u64 end = nanotime();
	__atomic_store_n(&gc.num_gc, gc.num_gc + 1, __ATOMIC_RELAXED);	// gc_cycles reads it unlocked
	if (c->forced)
		gc.num_forced++;
	gc.pause_total += c->pause_ns;
	gc.pause_ns[(gc.num_gc + 255) % 256] = c->pause_ns;
	gc.pause_end[(gc.num_gc + 255) % 256] = end;
	gc.last_gc = end;
	add_gc_cpu(c->pause_ns * plat_ncpus());
	stw_finish();
	mcache_release_detached();	// before the cycle ends and the sweeper is woken
	// Wake-ups wait for the world to run: waking a thread takes run queue
	// locks and sends an IPI to a parked CPU, and under TCG one held a
	// stop for 1.7 ms. Every waiting assist, without wake_assists' racy
	// check: one that saw mark_on set is on the queue by now (no lost
	// wake-up). Then the finalizer thread, for the finalizers queued.
	wake_all(&gc.assist_wq);
	specials_wake_finalizers();
}

// The cycle in progress (gc.running): steps 0 and 1 by the thread that
// claimed it, the rest by the gc thread.
static struct cycle cur;

// start_cycle: steps 0 and 1 of a cycle the caller claimed (set
// gc.running); holds no lock and may wait.
static void start_cycle(bool forced)
{
	cur = (struct cycle){.forced = forced, .start_ns = nanotime()};
	sweep_termination(&cur);
}

// finish_cycle: steps 2 and 3, and the sweeper's wake-up. The gc thread.
static void finish_cycle(void)
{
	u64 stw2_start;
	concurrent_mark(&cur, &stw2_start);
	mark_termination(&cur, stw2_start);
	bool f = spin_lock_irqsave(&gc.lock);
	gc.sweep_requested = true;
	waitq_wake_all(&gc.sweep_wq);
	spin_unlock_irqrestore(&gc.lock, f);
	if (kconfig.gctrace)
		print_trace(&cur);
}

// The gc thread finishes cycles a triggering thread started, and runs
// whole the ones nobody started: forced ones, and those asked for by a
// thread that may not stop the world (see gc_trigger).
static void gc_thread(void *arg)
{
	(void)arg;
	for (;;) {
		bool f = spin_lock_irqsave(&gc.lock);
		while (!gc.started && !((gc.requested || gc.forced_pending) && !gc.running && !gc.excluded))
			waitq_wait(&gc.gc_wq, &gc.lock);
		bool ours = !gc.started, forced = false;
		gc.started = false;
		if (ours) {
			forced = gc.forced_pending > 0;
			if (forced) {
				gc.forced_pending--;
				gc.forced_started++;
			}
			gc.running = true;
		}
		spin_unlock_irqrestore(&gc.lock, f);
		if (ours)
			start_cycle(forced);
		finish_cycle();
		f = spin_lock_irqsave(&gc.lock);
		gc.running = false;
		waitq_wake_all(&gc.done_wq);
		spin_unlock_irqrestore(&gc.lock, f);
	}
}

// scavenge: gives idle heap memory back to the frame allocator until
// what stays backed is at most 10% over the heap goal (Go's retained
// memory goal), 1 MiB at a time with a yield between: a bounded rate.
// The empty spans the sweep gave back to CPUs (mcache_return) are idle
// memory too: when the page heap has no backed free pages left, they go
// to it, and from there to the frame allocator (heap_scavenge).
static void scavenge(void)
{
	for (;;) {
		u64 backed = heap_backed_bytes(), goal = __atomic_load_n(&gc.next_gc, __ATOMIC_RELAXED);
		u64 keep = goal + goal / 10, limit = __atomic_load_n(&gc.memlimit, __ATOMIC_RELAXED);
		if (limit != UINT64_MAX) {	// and 95% of the limit, whatever GOGC says
			u64 other, cap = limit / 100 * 95;
			total_memory(&other);
			keep = MIN(keep, cap > other ? cap - other : 0);
		}
		if (backed <= keep || __atomic_load_n(&gc.excluded, __ATOMIC_RELAXED))
			return;
		if (!heap_scavenge(MIN(backed - keep, 1ul << 20)))
			return;
		thread_yield();
	}
}

// The sweeper, which is also the scavenger: after each cycle it sweeps
// every span (yielding now and then), then returns idle memory.
static void sweeper_thread(void *arg)
{
	(void)arg;
	for (;;) {
		bool f = spin_lock_irqsave(&gc.lock);
		while (!gc.sweep_requested || gc.excluded)
			waitq_wait(&gc.sweep_wq, &gc.lock);
		gc.sweep_requested = false;
		gc.sweeper_busy = true;
		spin_unlock_irqrestore(&gc.lock, f);
		for (unsigned n = 1; heap_sweep_one(); n++)
			if (n % 32 == 0)
				thread_yield();
		scavenge();
		f = spin_lock_irqsave(&gc.lock);
		gc.sweeper_busy = false;
		waitq_wake_all(&gc.done_wq);
		spin_unlock_irqrestore(&gc.lock, f);
	}
}

void gc_collect(void)
{
	bool f = spin_lock_irqsave(&gc.lock);
	if (gc.excluded) {
		spin_unlock_irqrestore(&gc.lock, f);
		panic("gc_collect from thread %s on cpu %u while the collector is disabled", thread_current()->name,
		      this_cpu_id());
	}
	// Our cycle is the one started after all earlier forced ones.
	u32 ticket = gc.forced_started + gc.forced_pending + 1;
	gc.forced_pending++;
	waitq_wake_all(&gc.gc_wq);
	while (gc.forced_started < ticket || gc.running)
		waitq_wait(&gc.done_wq, &gc.lock);
	spin_unlock_irqrestore(&gc.lock, f);
	// Sweep what is left, then wait for spans the sweeper is still
	// sweeping: on return every span of this cycle is swept.
	while (heap_sweep_one())
		;
	while (__atomic_load_n(&heap.unswept, __ATOMIC_RELAXED))
		thread_yield();
}

// gc_trigger: heap.live crossed the trigger (the caller may wait). As
// Go's gcStart, the thread that crossed it starts the cycle itself:
// finishes the sweep, stops the world for sweep termination, and hands
// the cycle to the gc thread once marking is on. Stopping the world from
// here saves waking the gc thread first, which on a host often runs it
// on the core of a thread the stop must then wait for. Meanwhile nothing
// else holds an allocating thread back, and the heap would run past its
// goal. Threads that cross it while a start is on wait until the cycle
// marks; a cycle already marking is left to its assists. The collector's
// own threads, and gcstoptheworld (whose stopped world lasts to the end
// of mark, in one thread), leave the start to the gc thread and do not
// wait.
static void gc_trigger(void)
{
	bool self = !thread_current()->gc_no_roots;
	bool f = spin_lock_irqsave(&gc.lock);
	if (!gc.requested && !gc.running && !gc.excluded) {
		gc.requested = true;
		if (self && !kconfig.gcstoptheworld) {
			gc.running = true;	// ours to start
			spin_unlock_irqrestore(&gc.lock, f);
			start_cycle(false);
			f = spin_lock_irqsave(&gc.lock);
			gc.started = true;
			waitq_wake_all(&gc.gc_wq);
			spin_unlock_irqrestore(&gc.lock, f);
			return;
		}
		waitq_wake_all(&gc.gc_wq);
	}
	// Until marking is on (sweep_termination wakes us), or no cycle comes
	// (requested goes down at mark termination; exclusion wakes us too).
	if (self)
		while (gc.requested && !gc.excluded && !__atomic_load_n(&heap.marking, __ATOMIC_RELAXED))
			waitq_wait(&gc.start_wq, &gc.lock);
	spin_unlock_irqrestore(&gc.lock, f);
}

// gc_collect_for_oom: the heap's (and through it the frame allocator's)
// last resort. Not from the collector's own threads, which the cycle
// waits for, nor while the collector is disabled.
static bool gc_collect_for_oom(void)
{
	if (!plat_can_wait() || thread_current()->gc_no_roots || __atomic_load_n(&gc.excluded, __ATOMIC_RELAXED))
		return false;
	gc_collect();
	return true;
}

static void gc_exclude(bool on)
{
	bool f = spin_lock_irqsave(&gc.lock);
	if (on) {
		__atomic_store_n(&gc.excluded, gc.excluded + 1, __ATOMIC_RELAXED);	// read unlocked too
		waitq_wake_all(&gc.start_wq);
		while (gc.running || gc.sweeper_busy)
			waitq_wait(&gc.done_wq, &gc.lock);
	} else {
		__atomic_store_n(&gc.excluded, gc.excluded - 1, __ATOMIC_RELAXED);
		waitq_wake_all(&gc.gc_wq);
		waitq_wake_all(&gc.sweep_wq);
	}
	spin_unlock_irqrestore(&gc.lock, f);
}

void gc_wait_idle(void)
{
	bool f = spin_lock_irqsave(&gc.lock);
	while (gc.running || gc.sweeper_busy || (gc.sweep_requested && !gc.excluded))
		waitq_wait(&gc.done_wq, &gc.lock);
	spin_unlock_irqrestore(&gc.lock, f);
}

void gc_disable(void) { gc_exclude(true); }
void gc_enable(void) { gc_exclude(false); }

static void gc_stats(struct memstats *m)
{
	bool f = spin_lock_irqsave(&gc.lock);	// a cycle's numbers change together
	m->num_gc = gc.num_gc;
	m->num_forced_gc = gc.num_forced;
	m->pause_total_ns = gc.pause_total;
	m->last_gc = gc.last_gc;
	m->next_gc = gc.next_gc;
	memcpy(m->pause_ns, gc.pause_ns, sizeof(m->pause_ns));
	memcpy(m->pause_end, gc.pause_end, sizeof(m->pause_end));
	u64 now = nanotime();
	u64 cpu = __atomic_load_n(&gc.cpu_ns, __ATOMIC_RELAXED);	// workers add to it unlocked
	m->gc_cpu_fraction_ppm = now ? (u32)(cpu * 1000000 / (now * plat_ncpus())) : 0;
	m->enable_gc = true;
	m->debug_gc = kconfig.gcstoptheworld != 0;
	spin_unlock_irqrestore(&gc.lock, f);
}

int gc_set_percent(int percent)
{
	bool f = spin_lock_irqsave(&gc.lock);
	int old = gc.percent;
	gc.percent = percent < 0 ? -1 : percent;
	pace();
	spin_unlock_irqrestore(&gc.lock, f);
	return old;
}

u64 gc_set_memory_limit(u64 bytes)
{
	bool f = spin_lock_irqsave(&gc.lock);
	u64 old = gc.memlimit;
	__atomic_store_n(&gc.memlimit, bytes ? bytes : UINT64_MAX, __ATOMIC_RELAXED);	// scavenge reads it unlocked
	pace();
	spin_unlock_irqrestore(&gc.lock, f);
	return old;
}

u64 gc_cpu_time(void) { return __atomic_load_n(&gc.cpu_ns, __ATOMIC_RELAXED); }
u64 gc_limiter_engaged(void) { return __atomic_load_n(&gc.lim_engaged, __ATOMIC_RELAXED); }
u64 gc_assists(void) { return __atomic_load_n(&gc.assists, __ATOMIC_RELAXED); }

bool gc_set_clobberfree(bool on)
{
	return __atomic_exchange_n(&heap.clobberfree, on, __ATOMIC_RELAXED);
}

bool gc_set_checkmark(bool on)
{
	bool old = gc.checkmark;
	gc.checkmark = on;
	return old;
}

u32 gc_cycles(void) { return (u32)__atomic_load_n(&gc.num_gc, __ATOMIC_RELAXED); }

u64 gc_stops(void) { return __atomic_load_n(&gc.stops, __ATOMIC_ACQUIRE); }

u64 gc_stop_ns(u64 i)
{
	u64 d = __atomic_load_n(&gc.stop_ns[i % GC_STOP_LOG], __ATOMIC_RELAXED);
	// Logged, and after the read its slot was still not the next one to
	// be written: d is stop i's. (The fence keeps the count's load after
	// the entry's.)
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	u64 n = gc_stops();
	return i < n && n - i < GC_STOP_LOG ? d : UINT64_MAX;
}

u64 gc_peak_heap(bool reset)
{
	return reset ? __atomic_exchange_n(&gc.peak_heap, 0, __ATOMIC_RELAXED)
		     : __atomic_load_n(&gc.peak_heap, __ATOMIC_RELAXED);
}

void gc_last_cycle(struct gc_cycle_stats *s)
{
	// Written with the world stopped, which cannot happen while this
	// CPU holds a lock with interrupts off.
	bool f = spin_lock_irqsave(&gc.lock);
	*s = gc.last;
	spin_unlock_irqrestore(&gc.lock, f);
}

// ---- gctrace (CONVENTIONS.md: Go's format exactly)

// fmt_ms: milliseconds as Go prints them: whole ms from 10 up, else two
// significant digits with at most three decimals.
static char *fmt_ms(char *buf, size_t size, u64 ns)
{
	if (ns < 1000) {
		ksnprintf(buf, size, "0");	// under a microsecond, as Go prints it
	} else if (ns >= 9995000) {
		ksnprintf(buf, size, "%lu", (ns + 500000) / 1000000);
	} else if (ns >= 995000) {
		u64 t = (ns + 50000) / 100000;	// tenths
		ksnprintf(buf, size, "%lu.%lu", t / 10, t % 10);
	} else if (ns >= 99500) {
		ksnprintf(buf, size, "0.%02lu", (ns + 5000) / 10000);
	} else {
		ksnprintf(buf, size, "0.%03lu", (ns + 500) / 1000);
	}
	return buf;
}

static void print_trace(const struct cycle *c)
{
	unsigned p = plat_ncpus();
	char a[16], b[16], d[16], e[16], g[16], h[16], i[16], j[16];
	u64 since = c->start_ns;
	struct memstats m;
	gc_stats(&m);
	u64 pct = m.gc_cpu_fraction_ppm / 10000;
	kprintf("gc %lu @%lu.%03lus %lu%%: %s+%s+%s ms clock, %s+%s/%s/%s+%s ms cpu, %lu->%lu->%lu MB, %lu MB goal, "
		"%lu MB stacks, %lu MB globals, %u P%s\n",
		m.num_gc, since / 1000000000, since / 1000000 % 1000, pct, fmt_ms(a, 16, c->stw1_ns),
		fmt_ms(b, 16, c->mark_ns), fmt_ms(d, 16, c->stw2_ns), fmt_ms(e, 16, c->stw1_ns * p),
		fmt_ms(g, 16, gc.assist_ns), fmt_ms(h, 16, gc.worker_ns), fmt_ms(i, 16, gc.idle_ns),
		fmt_ms(j, 16, c->stw2_ns * p), c->heap0 >> 20, c->heap1 >> 20, c->marked >> 20, c->goal >> 20,
		c->stacks >> 20, c->globals >> 20, p, c->forced ? " (forced)" : "");
}

// ---- start-up

static const struct heap_collector collector = {
	.assist = gc_assist,
	.trigger = gc_trigger,
	.collect = gc_collect_for_oom,
	.exclude = gc_exclude,
	.stats = gc_stats,
};

void gc_init(void)
{
	specials_init();
	gc.percent = kconfig.gcpercent;
	gc.memlimit = kconfig.memlimit;
	gc.lim_last_ns = nanotime();
	gc.checkmark = kconfig.gccheckmark;
	gc_set_clobberfree(kconfig.clobberfree);
	gc.workers = plat_ncpus();
	// The collector's own threads hold no roots (only addresses of
	// objects already marked): their stacks are not scanned, which also
	// keeps stale copies there from retaining garbage. The gc thread is
	// urgent (it runs as soon as it is woken, not when its CPU's thread
	// has used up its slice): a cycle started by an allocating thread
	// waits for it to wake the mark workers and to end the cycle, and
	// meanwhile every allocation is black. Waiting for a slice (4 ms in
	// the kernel, 2 ms on the hosted port) let the heap grow by megabytes
	// with nothing live (churn 64 B on 2 threads). Urgent mark workers as
	// well were tried: no clear gain over this, and they are woken far
	// more often. (Atomic store: the thread may be running already.)
	for (unsigned i = 0; i < plat_ncpus(); i++) {
		char name[THREAD_NAME_MAX];
		ksnprintf(name, sizeof(name), "gc worker %u", i);
		struct thread *t = thread_create_detached(name, mark_worker, (void *)(u64)i, (int)i);
		if (!t)
			panic("gc_init: cannot create the mark worker of cpu %u", i);
		t->gc_no_roots = true;
	}
	struct thread *g = thread_create_detached("gc", gc_thread, NULL, THREAD_ANY_CPU);
	struct thread *sw = thread_create_detached("sweeper", sweeper_thread, NULL, THREAD_ANY_CPU);
	if (!g || !sw)
		panic("gc_init: cannot create the collector's threads");
	g->gc_no_roots = sw->gc_no_roots = true;
	__atomic_store_n(&g->urgent, true, __ATOMIC_RELAXED);
	heap_set_collector(&collector);
	gc_set_percent(gc.percent);	// paces with the memory limit too
	pr_info("gc: concurrent mark-sweep, GOGC=%d, %u mark workers, checkmark %s%s%s", gc.percent, gc.workers,
		gc.checkmark ? "on" : "off", kconfig.gcstoptheworld ? ", stop-the-world mode" : "",
		kconfig.clobberfree ? ", clobberfree" : "");
}
