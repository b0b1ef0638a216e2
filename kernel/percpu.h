// Per-CPU data, reached through the GS base: %gs:0 holds the CPU's own
// struct cpu address, so this_cpu() is one load and the hot fields
// (current thread, preemption count, pending work) are one instruction
// away. The kernel has no user mode, so GS is never swapped.
//
// Rule for every per-CPU access: the result of this_cpu() is only stable
// while the thread cannot move, i.e. with preemption or interrupts
// disabled. With both enabled the thread may resume on another CPU.
#pragma once

#include "kernel/list.h"
#include "kernel/spinlock.h"
#include "kernel/types.h"
#include "mm/mm.h"

struct mcache;
struct thread;

struct tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;

// Work an interrupt found but could not do because the CPU was in a
// preemption-disabled region; preempt_enable() does it on the way out.
#define PENDING_RESCHED 0x1u	// the scheduler wants to switch threads
#define PENDING_STW 0x2u	// a stop-the-world is waiting for this CPU

struct runqueue {
	struct spinlock lock;	// guards threads and nr
	struct list threads;	// RUNNABLE threads waiting for this CPU, FIFO
	u32 nr;			// length of threads; read without the lock as a hint
	u32 nr_unpinned;	// of those, threads another CPU may steal; a hint too
};

struct cpu {
	struct cpu *self;		// %gs:0
	struct thread *current;		// %gs:8: the running thread
	// %gs:16: preemption-disabled nesting of the running thread. It is
	// per-CPU for one-instruction access, and it is the running thread's
	// count in effect: a thread never switches out with it non-zero
	// (schedule() panics on that), so it never needs saving.
	int preempt_count;
	// %gs:20: PENDING_*: set by this CPU's interrupts, and PENDING_STW
	// also by a CPU stopping the world (so every change is atomic).
	u32 pending;
	unsigned id;			// %gs:24: 0 = the boot CPU, dense
	u32 apic_id;
	struct mcache *mcache;		// %gs:32: the heap's cache of this CPU (mm/malloc.c)
	bool online;
	int irq_depth;			// > 0 inside an interrupt handler (not exceptions)
	int stw_idle;			// in the idle loop (halted or not): stopped, for a stop of the world (atomic)

	struct thread *idle;		// runs when the run queue is empty; halts
	struct runqueue rq;
	// Sleeping threads of this CPU sorted by wake time; touched only by
	// this CPU with interrupts off, so it needs no lock.
	struct list sleepers;
	u64 ticks;			// timer interrupts on this CPU
	u64 slice_end;			// tick at which the current thread's slice ends
	u64 switches;			// context switches on this CPU
	u64 idle_ns;			// time spent in the idle thread

	u64 gdt[5];			// null, code, data, TSS (2 slots)
	struct tss tss;
	struct kstack df_stack;		// IST1: double faults (stack overflows)
} __attribute__((aligned(64)));

extern struct cpu cpus[MAX_CPUS];
extern unsigned ncpus_online;		// CPUs 0..ncpus_online-1 are up; fixed after smp_init

#define PERCPU_OFF_CURRENT 8
#define PERCPU_OFF_PREEMPT 16
#define PERCPU_OFF_PENDING 20
#define PERCPU_OFF_ID 24
#define PERCPU_OFF_MCACHE 32

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

static inline struct thread *current_thread(void)
{
	struct thread *t;
	__asm__ volatile("movq %%gs:%c1, %0" : "=r"(t) : "i"(PERCPU_OFF_CURRENT));
	return t;
}

static inline int preempt_count(void)
{
	int n;
	__asm__ volatile("movl %%gs:%c1, %0" : "=r"(n) : "i"(PERCPU_OFF_PREEMPT));
	return n;
}

// pending_of/pending_set/pending_clear: this CPU's pending bits (atomic:
// a CPU stopping the world sets PENDING_STW here from outside).
static inline u32 pending_of(struct cpu *c) { return __atomic_load_n(&c->pending, __ATOMIC_RELAXED); }
static inline void pending_set(struct cpu *c, u32 bits) { __atomic_fetch_or(&c->pending, bits, __ATOMIC_RELAXED); }
static inline void pending_clear(struct cpu *c, u32 bits) { __atomic_fetch_and(&c->pending, ~bits, __ATOMIC_RELAXED); }

// preempt_disable/preempt_enable: while the count is non-zero the running
// thread is neither preempted nor stopped by stop-the-world, but
// interrupts still arrive. Interrupt handlers must not touch what such a
// region guards (e.g. they never allocate frames). Nest freely.
static inline void preempt_disable(void)
{
	// One instruction on this CPU's count: an interrupt sees it either
	// before or after, never half done. "memory" keeps the region's
	// accesses after it.
	__asm__ volatile("incl %%gs:%c0" ::"i"(PERCPU_OFF_PREEMPT) : "memory");
}

void preempt_pending_work(void);	// kernel/sched.c
void *preempt_pending_work_ret(void *p);	// kernel/sched.c: the same, then returns p

// preempt_end: leaves one level of the region; true if that ended it and
// this CPU has pending work for preempt_pending_work.
static inline bool preempt_end(void)
{
	bool zero;
	__asm__ volatile("decl %%gs:%c1" : "=@ccz"(zero) : "i"(PERCPU_OFF_PREEMPT) : "memory");
	if (!zero)
		return false;
	u32 p;
	__asm__ volatile("movl %%gs:%c1, %0" : "=r"(p) : "i"(PERCPU_OFF_PENDING));
	return __builtin_expect(p != 0, 0);
}

static inline void preempt_enable(void)
{
	if (preempt_end())
		preempt_pending_work();
}

// preempt_enable_ret: preempt_enable, then returns p. A function ending
// in `return preempt_enable_ret(x);` calls out only in tail position, so
// its fast path (mallocgc) needs no callee-saved register to keep x in.
static inline void *preempt_enable_ret(void *p)
{
	return preempt_end() ? preempt_pending_work_ret(p) : p;
}

// percpu_init_boot: the boot CPU's struct cpu and GS base; the very first
// thing kmain does. percpu_init_ap does the same on an AP.
void percpu_init_boot(void);
void percpu_set_gs(struct cpu *c);
