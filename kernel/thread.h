// Kernel threads and the scheduler's public interface.
//
// A thread has a name, an entry function and argument, a guarded stack
// from the frame allocator, and optionally a CPU it is pinned to. The
// scheduler (kernel/sched.c) keeps a run queue per CPU, preempts on the
// LAPIC timer tick when a thread's slice is over, and lets idle CPUs steal
// runnable threads from busy ones. Threads block on wait queues (a
// condition-variable style queue used with a spinlock) or sleep for a
// time. Every thread is joinable unless created detached; join frees it.
//
// For the collector: while a thread is switched out, everything it could
// hold in registers is on its stack between thread->rsp and stack.top
// (callee-saved registers pushed by the switch, the rest spilled by the C
// calling convention or saved in a trap frame). thread_for_each walks them.
#pragma once

#include "kernel/list.h"
#include "kernel/spinlock.h"
#include "kernel/trap.h"
#include "kernel/types.h"
#include "mm/mm.h"

enum thread_state {
	TS_RUNNABLE,		// on a run queue
	TS_RUNNING,		// on a CPU
	TS_BLOCKED,		// on a wait queue or sleeping
	TS_ZOMBIE,		// exited, not yet joined
	TS_NSTATES,
};
const char *thread_state_name(enum thread_state s);

#define THREAD_NAME_MAX 24
#define THREAD_ANY_CPU (-1)
#define THREAD_STACK_PAGES 4	// 16 KiB

// A wait queue: threads blocked until someone wakes them. The caller's
// spinlock guards it and the condition it stands for (Mesa semantics:
// after waking, re-check the condition).
struct waitq {
	struct list waiters;
};
#define WAITQ_INIT(name) { LIST_INIT((name).waiters) }
void waitq_init(struct waitq *wq);
// waitq_wait: lk is held (spin_lock_irqsave) and no other lock; the
// calling thread is queued, lk released, and the thread blocks until
// woken; lk is held again on return. Not from interrupt handlers.
void waitq_wait(struct waitq *wq, struct spinlock *lk);
// Wake one / all waiters; lk held. Returns how many were woken.
int waitq_wake_one(struct waitq *wq);
int waitq_wake_all(struct waitq *wq);

struct thread {
	u64 rsp;			// saved stack pointer while switched out
	struct kstack stack;
	char name[THREAD_NAME_MAX];
	u32 tid;
	int state;			// enum thread_state; changed with atomics (sched.c)
	// 1 from when a CPU picks the thread until its switch away from it is
	// complete: another CPU must not run it before that (its registers
	// are still being saved). Also 1 while the collector holds the
	// switched-out thread to scan its stack (thread_try_hold).
	int on_cpu;
	int cpu;			// CPU it runs on, is queued on, or last ran on
	int pinned;			// THREAD_ANY_CPU or the only CPU it may run on
	bool detached;			// freed at exit instead of by thread_join
	bool is_idle;
	void *fault_catch;		// a test's armed fault catch (tests/kernel/ktest.h), or NULL
	const char *alloc_error;	// why its last heap allocation failed (mm/heap.h)
	u32 gc_scangen;			// the collector's cycle that scanned its stack (atomic)
	i64 gc_assist_debt;		// bytes of scan work it owes the collector (its own)
	u32 gc_assist_cycle;		// the cycle gc_assist_debt is for
	bool gc_no_roots;		// a collector thread: its stack holds no roots
	// Woken, it goes to the front of its CPU's queue and that CPU's thread
	// is asked to reschedule at its next preemption point instead of at
	// the end of its slice: the collector's gc thread, which a cycle
	// waits for while every allocation is black (gc/gc.c, gc_init).
	bool urgent;
	void (*fn)(void *);
	void *arg;

	struct list rq_link;		// run queue (guarded by that queue's lock)
	struct list wq_link;		// wait queue (guarded by the waiter's lock)
	struct list sleep_link;		// its CPU's sleepers (that CPU, irqs off)
	struct list all_link;		// all threads (thread_list_lock)
	u64 wake_at_ns;			// sleep deadline

	u64 cpu_ns;			// CPU time used, updated at each switch
	u64 run_start_ns;		// when it last got a CPU
	u64 switches_in;		// times it was switched to

	// Joining: the exit is announced under join_lock.
	struct spinlock join_lock;
	struct waitq joiners;
	bool exited;
};

// thread_create: a runnable thread running fn(arg), pinned to cpu or
// THREAD_ANY_CPU (first queued on the creating CPU). NULL when out of
// memory or the CPU is not online. From threads with interrupts on and no
// lock held (freeing exited stacks may shoot down TLBs); never from
// interrupt handlers. thread_join has the same rule.
struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int cpu);
struct thread *thread_create_detached(const char *name, void (*fn)(void *), void *arg, int cpu);
// thread_create_stack: the same with a stack of `pages` pages (1..15).
struct thread *thread_create_stack(const char *name, void (*fn)(void *), void *arg, int cpu,
				   unsigned pages, bool detached);
// thread_exit: ends the calling thread (returning from fn does the same).
void __noreturn thread_exit(void);
// thread_join: waits for t to exit and frees it. Each joinable thread must
// be joined exactly once.
void thread_join(struct thread *t);
void thread_yield(void);
// thread_sleep: blocks for at least ns nanoseconds (timer-tick granular).
void thread_sleep(u64 ns);
struct thread *thread_current(void);
// current_thread_name: for reports; works before the scheduler exists.
const char *current_thread_name(void);

// thread_stack_bounds: for the collector and debuggers. For a thread
// that is not running, [*lo, *hi) covers its live stack; for the calling
// thread *lo is the current stack pointer.
void thread_stack_bounds(struct thread *t, u64 *lo, u64 *hi);
// thread_for_each: calls fn on every thread (not exited) under the
// thread-list lock: fn must not block or create threads.
void thread_for_each(void (*fn)(struct thread *t, void *arg), void *arg);
u32 thread_count(void);
// sched_runnable: threads queued on cpu's run queue (a racy hint).
u32 sched_runnable(unsigned cpu);
// thread_try_hold: for the collector's stack scans. Succeeds only if t is
// switched out, and then no CPU runs t until thread_unhold (a CPU that
// picks it waits: hold it briefly, with preemption disabled). The caller
// gets t from thread_for_each, under whose lock t cannot be freed; while
// held, t is not freed either. Acquire/release: the scan sees everything t
// wrote before it switched out.
bool thread_try_hold(struct thread *t);
void thread_unhold(struct thread *t);

// thread_describe: one line for t (id, name, state, CPU, pinning, CPU
// time, switches), as sched_print shows it; returns ksnprintf's length.
int thread_describe(struct thread *t, char *buf, size_t size);
// sched_print: per-CPU state and the thread list (name, state, CPU, CPU
// time) on the console.
void sched_print(void);

// Boot: sched_init makes kmain's context the first thread on CPU 0;
// sched_init_cpu gives each CPU its idle thread (the AP's boot context
// becomes it). sched_tick runs from each CPU's timer interrupt.
void sched_init(void);
void __noreturn sched_start_ap(void);
void sched_create_idle(unsigned cpu);
void sched_tick(const struct trapframe *tf);
// sched_irq_exit: at the end of every interrupt; switches threads if the
// tick or an IPI asked for it and the interrupted code was preemptible.
void sched_irq_exit(const struct trapframe *tf);
// schedule: interrupts off, no lock held; see kernel/sched.c.
void schedule(void);
// The tick: 250 per second on every CPU (Linux's common default), one
// tick a time slice. Sleeps end on a tick, so a sleep takes up to 4 ms
// more than asked. Under TCG every tick is work for QEMU's main loop
// thread, which takes a host core from a vCPU: at 1000 Hz (1 ms ticks,
// 4-tick slices) a stop of the world waited longer for descheduled vCPUs
// (BinaryTrees/depth=18 -smp 2, p99 pause median over 9 runs 263 us; 189
// at 250 Hz over 13; docs/decisions.md).
#define SCHED_HZ 250
#define SCHED_SLICE_TICKS 1
