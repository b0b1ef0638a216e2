// The collector's public interface: cycles, the write barrier, roots and
// settings. See gc/gc.c for the design.
//
// Rules for C code that keeps heap pointers (mm/heap.h allocates):
//   - a pointer stored into a heap object, a GC_ROOT global or a
//     registered root range goes through GC_STORE (or gc_copy_ptrs for
//     runs of pointers); stores into locals need nothing;
//   - a pointer kept anywhere else outside the heap (a driver's table, a
//     thread descriptor) keeps nothing alive: register the range
//     (gc_add_roots) or keep the pointer in a GC_ROOT;
//   - stacks and registers of every kernel thread are roots, scanned
//     conservatively: any word pointing into an allocated object keeps it.
#pragma once

#include "kernel/types.h"
#include "mm/platform.h"

// GC_ROOT(decl): a global variable that is a root, in the .gcroots
// section, every word of which the collector scans as a possible pointer:
//
//	GC_ROOT(struct node *tree);
//	GC_ROOT(void *slots[16]);
#define GC_ROOT(decl) decl __attribute__((section(".gcroots"), aligned(8)))

// gc_add_roots: [p, p + bytes) is scanned as roots (conservatively, every
// aligned word) until gc_remove_roots(p). False if the table (64 ranges)
// is full. Stores into the range must use GC_STORE.
bool gc_add_roots(void *p, size_t bytes);
void gc_remove_roots(void *p);

// ---- the write barrier (Go's hybrid barrier, gc/barrier.c)

// gc_barrier_on: 1 while the collector marks. Written with the world
// stopped, so a store's check and the store itself, both inside one
// preempt-disabled region, see one value.
extern int gc_barrier_on;
// gc_barrier_shade: shades the old and the new value of a slot.
void gc_barrier_shade(void *old, void *val);

static inline void gc_write_ptr(void **slot, void *val)
{
	preempt_disable();
	if (__builtin_expect(__atomic_load_n(&gc_barrier_on, __ATOMIC_RELAXED), 0))
		gc_barrier_shade(__atomic_load_n(slot, __ATOMIC_RELAXED), val);
	// One 8-byte store: a marker reading the slot sees old or new.
	__atomic_store_n(slot, val, __ATOMIC_RELAXED);
	preempt_enable();
}

// GC_STORE(lvalue, value): `lvalue = value` for a pointer field of a heap
// object or a root, with the write barrier. The value must have the
// field's type.
#define GC_STORE(lv, val)                                                  \
	do {                                                                \
		__typeof__(lv) gc_store_v_ = (val);                         \
		_Static_assert(sizeof(lv) == 8, "GC_STORE on a non-pointer"); \
		gc_write_ptr((void **)&(lv), (void *)gc_store_v_);           \
	} while (0)

// gc_copy_ptrs: memmove of n pointers with the barrier on every slot.
void gc_copy_ptrs(void **dst, void *const *src, size_t n);

// ---- finalizers, weak references, pools (gc/special.c)

// gc_set_finalizer: once obj (the start of a heap object) is found
// unreachable, fn(obj, arg) runs on the finalizer thread, exactly once;
// obj stays allocated until then (and goes at the next cycle unless fn
// keeps it). arg is a root while the finalizer is set. False if obj is
// not the start of a heap object, already has a finalizer, or no memory.
bool gc_set_finalizer(void *obj, void (*fn)(void *obj, void *arg), void *arg);
bool gc_clear_finalizer(void *obj);	// false if none was set
u64 gc_finalizers_run(void);		// finalizers run so far

// Weak references: gc_weak_get returns the object, or NULL once it was
// found unreachable (cleared before its finalizer, if any, is queued).
struct gc_weak;
struct gc_weak *gc_weak_new(void *obj);	// NULL: not in a heap object, or no memory
void *gc_weak_get(struct gc_weak *w);
void gc_weak_free(struct gc_weak *w);

// A per-CPU object pool (Go's sync.Pool): gc_pool_get returns an object
// put earlier on this CPU, or NULL; the collector drops what stays
// unused through two cycles (a victim cache). Pools live forever.
struct gc_pool {
	struct list link;
	const char *name;
	struct pool_local *local;	// one per CPU, metadata pages
	unsigned order;
};
bool gc_pool_init(struct gc_pool *p, const char *name);	// false: no memory
void gc_pool_put(struct gc_pool *p, void *obj);	// dropped if this CPU's stack is full
void *gc_pool_get(struct gc_pool *p);

// ---- cycles and settings

// gc_init: after heap_init and the scheduler; starts the collector's
// threads (mark worker per CPU, the cycle thread, the sweeper) and
// applies gcpercent=, gctrace=, gccheckmark=, gcstoptheworld=.
void gc_init(void);
// gc_collect: runs a full cycle ("(forced)" in gctrace) and sweeps the
// whole heap before returning, like Go's runtime.GC. A call during a
// cycle waits for that one to end and then runs its own. From a thread,
// interrupts on, no lock held.
void gc_collect(void);
// gc_disable/gc_enable (nesting): no cycle starts in between, and the
// sweeper neither sweeps nor scavenges; a running cycle and the sweeper's
// current run are waited for. Allocation that runs out of memory then fails
// without collecting. gc_collect must not be called in between.
void gc_disable(void);
void gc_enable(void);
// gc_wait_idle: returns once no cycle runs and the sweeper has finished
// sweeping and scavenging (a pacer may start another cycle right after).
void gc_wait_idle(void);
// gc_set_percent: GOGC; -1 turns the pacer off (gc_collect still works).
// Returns the previous value.
int gc_set_percent(int percent);
// gc_set_memory_limit: GOMEMLIMIT: a soft cap on heap memory backed by
// frames plus stacks and metadata; 0 removes it. Returns the previous
// limit (UINT64_MAX: none). Under the limit the heap goal shrinks and the
// scavenger returns memory; GC CPU is capped at 50% (the limiter turns
// assists off), so a heap that does not fit grows instead of spiraling.
u64 gc_set_memory_limit(u64 bytes);
u64 gc_cpu_time(void);		// GC CPU time so far (ns, all CPUs)
u64 gc_limiter_engaged(void);	// times the CPU limiter turned on
u64 gc_assists(void);		// assists so far (not counting those the CPU limiter turned away)
// gc_set_checkmark: gccheckmark at run time (tests).
bool gc_set_checkmark(bool on);
// gc_set_clobberfree: clobberfree at run time: sweeps fill freed objects
// with GC_CLOBBER_WORD (mm/heap.h). Returns the previous setting.
bool gc_set_clobberfree(bool on);
// gc_cycles: completed cycles (NumGC).
u32 gc_cycles(void);

// ---- measurements (benchmarks)

// Every stop of the world the collector makes (STW 1, each mark
// termination attempt, STW 2; a gcstoptheworld=1 cycle is one) is logged:
// gc_stops() counts them, gc_stop_ns(i) is the i-th one's length (ns), or
// UINT64_MAX once the ring of the last GC_STOP_LOG has dropped it.
#define GC_STOP_LOG 4096
u64 gc_stops(void);
u64 gc_stop_ns(u64 i);
// gc_peak_heap: the largest heap.live at the end of a mark phase (where
// a cycle's heap peaks) since the last reset; reset: return it and start over.
u64 gc_peak_heap(bool reset);
// The last completed cycle's mark: bytes found live, bytes scanned, CPU
// time spent marking on all CPUs (workers, idle marking, assists, and
// the stopped time x CPUs).
struct gc_cycle_stats {
	u64 marked, scan_work, mark_cpu_ns;
};
void gc_last_cycle(struct gc_cycle_stats *s);

// For tests: the mark bit of the object holding p (false if p is in none).
bool gc_is_marked(const void *p);
