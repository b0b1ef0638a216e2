// The platform interface of the heap (mm/malloc.c, mheap.c, mcentral.c,
// mstats.c, fixalloc.c): everything those files use from the rest of the
// system, and nothing else. The kernel implements it here and in
// kernel/mm_platform.c; the hosted port (tests/hosted/, a later issue)
// implements the same names for Linux user space, so the same heap
// sources build there unchanged.
//
// What the heap may use:
//   types and helpers     kernel/types.h, memset/memcpy/strlen (string.h),
//                         ksnprintf, panic, pr_info/pr_warn, kprintf
//   CPUs                  this_cpu_id(), plat_ncpus(), preempt_disable/
//                         preempt_enable (a region the thread cannot leave
//                         its CPU from, and a stop-the-world does not split;
//                         preempt_enable_ret(p) ends one and returns p),
//                         this_cpu_mcache()/plat_set_cpu_mcache(): a word per
//                         CPU the heap keeps its cache's address in
//   locks                 struct spinlock, spin_lock/spin_unlock (no interrupt
//                         handler takes a heap lock), and the irqsave pair
//   time                  nanotime(); cpu_relax() in spin-waits
//   stop-the-world        stw_begin()/stw_end()
//   memory                plat_meta_alloc/plat_meta_free (zeroed 4 KiB pages
//                         for metadata), plat_heap_commit/plat_heap_release
//                         (back / drop pages of the heap's virtual range)
//   per-thread            plat_thread_error(): the calling thread's slot for
//                         the reason of its last failed allocation
//   statistics            plat_memory_stats()
//   lists                 kernel/list.h (header-only)
// and the collector (gc/) also:
//   threads               kernel/thread.h: thread_create, thread_sleep,
//                         thread_yield, thread_current, waitq_*, and for
//                         root scanning thread_for_each, thread_try_hold/
//                         thread_unhold, the saved rsp and stack bounds,
//                         sched_runnable (whether a CPU has other work),
//                         plat_preempt_requested()
#pragma once

#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/types.h"
#include "kernel/x86.h"
#include "mm/mm.h"

static inline unsigned plat_ncpus(void) { return ncpus_online; }
// plat_can_wait: the caller may wait for other CPUs (interrupts on,
// preemptible), as releasing memory needs.
static inline bool plat_can_wait(void) { return irqs_enabled() && preempt_count() == 0; }
// plat_in_interrupt: inside an interrupt handler, where the heap may not
// be used (its per-CPU caches are guarded by the preemption count only).
static inline bool plat_in_interrupt(void) { return this_cpu()->irq_depth != 0; }
// plat_preempt_requested: a stop of the world or the scheduler waits for
// this CPU, which is in a preempt-disabled region: long work there (the
// collector's mark loop) should stop at the next safe step and re-enable
// preemption. Set by this CPU's interrupts, hence the atomic load.
static inline bool plat_preempt_requested(void)
{
	return __atomic_load_n(&this_cpu()->pending, __ATOMIC_RELAXED) != 0;
}

// this_cpu_mcache: the running CPU's heap cache, one %gs-relative load
// (one fewer than mcaches[this_cpu_id()] on the allocation fast path).
// Preemption disabled. plat_set_cpu_mcache: sets CPU cpu's (heap_init).
static inline struct mcache *this_cpu_mcache(void)
{
	struct mcache *c;
	__asm__ volatile("movq %%gs:%c1, %0" : "=r"(c) : "i"(PERCPU_OFF_MCACHE));
	return c;
}
static inline void plat_set_cpu_mcache(unsigned cpu, struct mcache *c) { cpus[cpu].mcache = c; }

// The heap's virtual range: reserved, never mapped except by commit.
#define PLAT_HEAP_BASE HEAP_BASE
#define PLAT_HEAP_SIZE HEAP_SIZE

// plat_meta_alloc: 2^order zeroed, contiguous 4 KiB pages for allocator
// metadata (span structs, bitmaps, arena tables); NULL when out of memory.
// tag says what they are for in frame statistics.
void *plat_meta_alloc(unsigned order, enum frame_tag tag);
void plat_meta_free(void *p, unsigned order);

// plat_heap_commit: backs [va, va+len) (page-aligned, inside the heap
// range, currently unbacked) with zeroed memory. False, with nothing
// backed, when memory runs out. plat_heap_release: gives the memory
// behind [va, va+len) back; the range reads as unbacked again. Both need
// interrupts on (unmapping shoots down TLBs).
bool plat_heap_commit(u64 va, u64 len);
void plat_heap_release(u64 va, u64 len);

const char **plat_thread_error(void);

// plat_memory_stats: bytes of thread stacks, and of all metadata memory
// (plat_meta_alloc's and the rest of the system's bookkeeping).
void plat_memory_stats(u64 *stack_bytes, u64 *meta_bytes);
