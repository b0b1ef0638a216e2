// The collector's private structures, shared by gc/gc.c (cycles, pacer,
// statistics, workers), gc/mark.c (work buffers, scanning, roots),
// gc/barrier.c (write barrier, checkmark) and gc/special.c (finalizers,
// weak references, pools). See gc/gc.c for the overview.
#pragma once

#include "gc/gc.h"
#include "mm/malloc_internal.h"

// A work buffer: grey objects (addresses to scan), one page, from
// plat_meta_alloc (never from the heap).
#define WBUF_OBJS 510
struct wbuf {
	struct wbuf *next;	// on the global full or empty list
	u64 n;
	u64 obj[WBUF_OBJS];
};
_Static_assert(sizeof(struct wbuf) == PAGE_SIZE, "a work buffer is one page");

// Where a checkmark pass found a pointer, for its report.
struct gc_origin {
	const char *what;	// "global", "stack of thread x", "object", ...
	u64 from;		// the address holding the pointer
	u64 obj;		// for "object": the object scanned
};

// Pointers found in scanned objects wait this many more finds before
// they are marked (mark.c, mark_ahead); a power of two.
#define MARK_AHEAD 8
_Static_assert((MARK_AHEAD & (MARK_AHEAD - 1)) == 0, "the ring's index wraps modulo a power of two");

// Grey objects popped from the work buffer wait this many more pops
// before they are scanned (mark.c, scan_ahead), so the loads of their
// memory overlap; a power of two.
#define SCAN_AHEAD 8
_Static_assert((SCAN_AHEAD & (SCAN_AHEAD - 1)) == 0, "the ring's index wraps modulo a power of two");

// Per-CPU mark state, used with preemption disabled by whoever runs on
// that CPU (worker, assisting thread, write barrier).
struct gcw {
	struct wbuf *cur;	// NULL until the first grey object
	u64 bytes_marked;	// objects this CPU marked (not counting black allocation)
	u64 scan_work;		// bytes scanned
	bool check;		// a checkmark pass: check bits, verify marks
	bool in_stack;		// scanning a thread stack (conservative, may hold dead words)
	struct gc_origin origin;	// checkmark: where the current pointer came from
	// Found pointers not marked yet, a ring by find order (0: a free
	// slot), with their spans; empty outside gcw_drain and
	// scan_object_contents.
	u32 ahead_next;		// slot of the next find (mod MARK_AHEAD)
	u64 ahead[MARK_AHEAD];
	struct mspan *ahead_span[MARK_AHEAD];
	// Popped grey objects not scanned yet, a ring by pop order (0: a free
	// slot), with their spans; empty outside gcw_drain.
	u32 scan_next;		// slot of the next pop (mod SCAN_AHEAD)
	u64 scan_ring[SCAN_AHEAD];
	struct mspan *scan_span[SCAN_AHEAD];
} __attribute__((aligned(64)));

extern struct gcw gcws[MAX_CPUS];
extern bool gc_world_stopped;	// gc.c: the collector has the world stopped
extern u32 gc_cycle;		// the cycle being run or last run (1, 2, ...)

// ---- mark.c
// mark_word: a possible pointer v (conservatively: any value). If it
// points into an allocated heap object, marks it and queues it for
// scanning. Preemption disabled.
void mark_word(struct gcw *w, u64 v);
// scan_range: mark_word on every aligned word of [lo, hi).
void scan_range(struct gcw *w, u64 lo, u64 hi);
// gcw_drain: scans queued objects until about `budget` bytes are done,
// none is left here or globally, or this CPU is wanted for a stop or a
// switch (plat_preempt_requested; after one object at least); returns
// the bytes scanned. Preemption disabled.
u64 gcw_drain(struct gcw *w, u64 budget);
// gcw_flush: moves w's queued objects to the global list (world stopped,
// or w is this CPU's).
void gcw_flush(struct gcw *w);
bool work_empty(void);		// no queued object anywhere (world stopped)
bool gcw_holds_work(const struct gcw *w);	// w's own buffer has grey objects
void mark_prepare(void);	// new cycle: root jobs unclaimed (world stopped)
// mark_roots_some: claims and scans some root jobs (globals, ranges,
// thread stacks); false when none is left to claim right now.
bool mark_roots_some(void);
// mark_stacks_stopped: the world is stopped: scans every stack not yet
// scanned this cycle; returns how many it scanned.
u32 mark_stacks_stopped(struct gcw *w);
// mark_root_jobs_done: the globals, registered ranges and specials were
// scanned (a worker that claimed one may still be at it). The stacks are
// not asked about: termination, the only caller, has just scanned every
// one left (a walk of the thread list per attempt, 4 us under TCG).
bool mark_root_jobs_done(void);
// scan_object_contents: marks what the object at obj references (not the
// object itself; nothing for noscan objects).
void scan_object_contents(struct gcw *w, u64 obj);	// every root job done (world stopped)
void mark_root_bytes(u64 *stacks, u64 *globals);	// scanned this cycle
// scan_all_roots: every root, with the world stopped (checkmark).
void scan_all_roots(struct gcw *w);

// ---- gc.c
// The mark phase's progress, for the workers and assists.
// gc_limiter_step: the CPU limiter's bucket (Go's gcCPULimiter) after
// dt_ns of wall time in which GC used gc_ns of CPU time on ncpus CPUs:
// GC time goes in, LIMITER_PERCENT of all CPU time drains out, capped at
// LIMITER_WINDOW_NS per CPU; true (assists off) while it is full. Pure,
// for tests.
#define LIMITER_PERCENT 50		// GC may use at most this much of all CPUs
#define LIMITER_WINDOW_NS 200000000ul	// bucket capacity per CPU (Go: 1 s)
bool gc_limiter_step(u64 *bucket, u64 gc_ns, u64 dt_ns, unsigned ncpus);
// For tests: gc_limiter_sync brings the limiter up to date and reads it:
// on, the times it turned on, and the clock and GC CPU time (gc_cpu_time)
// it has been fed up to. gc_limiter_hold keeps it on whatever the bucket
// says (assists off), until released.
struct gc_limiter_state {
	bool on;
	u64 engaged, at_ns, gc_ns;
};
void gc_limiter_sync(struct gc_limiter_state *s);
void gc_limiter_hold(bool on);
void gc_work_available(void);	// new global work: wake idle workers and waiting assists
// gcw_handoff: when every worker has gone idle, this CPU's grey objects go
// to the global list and wake them (see gc.c). Preemption disabled.
void gcw_handoff(struct gcw *w);

// ---- special.c
void specials_init(void);
void specials_cycle_start(void);	// world stopped: pools' stacks become victims
void specials_scan_roots(struct gcw *w);	// a root job
// specials_mark_termination: world stopped, marking complete: clears weak
// handles of white objects, queues finalizers of white objects and marks
// those (returns their bytes). specials_wake_finalizers: after the world
// runs again, wakes the finalizer thread if any are queued.
u64 specials_mark_termination(void);
void specials_wake_finalizers(void);

// ---- barrier.c
void checkmark_run(void);	// world stopped, after mark, before sweep
