// The heap's platform interface for Linux user space: the same names as
// mm/platform.h, which this file shadows in the hosted build (tests/hosted/
// Makefile puts -I tests/hosted/include before -I ., so "mm/platform.h"
// from mm/malloc.c and the other heap files resolves here). The heap
// sources are compiled unchanged; tests/hosted/platform.c implements what
// is not inline here. See docs/architecture.md, "The hosted port".
//
// What is real and what is simulated:
//   CPUs        a CPU is a slot (0 .. plat_ncpus()-1) that one thread at a
//               time holds; heap code runs only on a held slot, so per-CPU
//               data is exclusive because the slot is. Threads (section
//               "threads" below) give their slot up when they block and
//               take one again after; threads run on real host cores, in
//               parallel.
//   preemption  a thread-local count. Requests for a slot's holder (stop,
//               hand over) wait for its outermost preempt_enable, or are
//               taken in a signal handler when it is outside a region. A
//               thread waiting for a slot asks a holder to hand over
//               after a 2 ms slice, or at once when an urgent thread
//               (thread.urgent, as in the kernel) was just woken.
//   stop-the-   stw_begin first waits (up to 0.5 ms, nothing stopped) until
//   world       every running holder has just ended a region (it is
//               allocating, so it parks at its next one), then raises a
//               flag, marks every slot, signals each holder that runs and
//               has not parked within 3 us, and waits until all are
//               parked (in the handler or at a region's end, registers on
//               their stacks) or free. Parked threads run again at
//               stw_end.
//   spinlocks   test-and-set locks with __atomic builtins; they disable
//               preemption while held, as the kernel's do.
//   memory      the heap range is one PROT_NONE, MAP_NORESERVE mapping;
//               commit makes pages read-write (they read as zero), release
//               drops them (MADV_DONTNEED) and makes them PROT_NONE again.
//               The benchmark build maps the range read-write once
//               instead (HOSTED_HEAP_GUARD=0). Metadata pages are their
//               own anonymous mappings.
#pragma once

#include "kernel/list.h"
#include "kernel/types.h"

#include <string.h>	// memset, memcpy, strcmp, strlen: libc's

// ---- constants the heap uses

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)
#define MAX_CPUS 64

// Who holds a page, as the kernel's frame statistics say (mm/mm.h).
enum frame_tag {
	FT_NONE,
	FT_PAGETABLE,
	FT_STACK,
	FT_HEAP,
	FT_META,
	FT_TEST,
	FT_NTAGS,
};

// ---- output and fatal errors (stdout / stderr)

int kprintf(const char *fmt, ...) __printf(1, 2);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
// Log lines go to stderr, so stdout carries only test or benchmark output.
void hosted_log(const char *level, const char *fmt, ...) __printf(2, 3);
#define pr_err(...) hosted_log("error", __VA_ARGS__)
#define pr_warn(...) hosted_log("warn", __VA_ARGS__)
#define pr_info(...) hosted_log("info", __VA_ARGS__)
// panic: prints the message, the CPU and a backtrace, then aborts (unless
// a test has armed hosted_panic_hook, tests/hosted/hosted.h).
void __noreturn panic(const char *fmt, ...) __printf(1, 2);

// ---- CPUs and preemption

struct mcache;

// One per CPU slot, on its own cache line. A slot is held by one thread
// at a time (owner); only its holder runs heap code on it, so per-CPU
// data is exclusive as in the kernel.
struct hosted_cpu {
	struct thread *owner;	// NULL when free; taken with a CAS (acquire)
	// 1 while the owner executes; 0 while it is parked (stopped for a
	// stop-the-world, its registers on its stack below t->rsp). A
	// stop-the-world waits until every other slot is free or parked.
	int running;
	// Requests for the owner, acted on at its next preemption point (the
	// outermost preempt_enable, a region entry, or the signal handler
	// when outside a region): HOSTED_WANT_STOP park for a stop-the-world,
	// HOSTED_WANT_SLOT hand the slot to a thread that has waited a slice.
	int pending;
	int parked;		// the owner is in park (a hint for fairness)
	int owner_tid;		// the owner's kernel thread id, for tgkill
	unsigned id;
	u32 waiters;		// threads waiting for this slot in particular (atomic)
	// Moves at every take of the slot, a futex word for a holder that
	// gave the slot up on request (yield_slot: seq-cst, with `yielder`).
	int takes;
	int yielder;		// such holders sleeping on `takes` (atomic)
	struct mcache *mcache;	// the heap's cache of this slot (plat_set_cpu_mcache)
	// Regions the owner has ended (outermost preempt_enable, counted just
	// before the end), a counter only the owner writes: a stopper that
	// sees it move knows the owner is allocating and will see a request
	// at once (stw_begin).
	u32 region_ends;
} __attribute__((aligned(64)));
#define HOSTED_WANT_STOP 1
#define HOSTED_WANT_SLOT 2

extern unsigned hosted_ncpus;
// 1 while a stop-the-world is on (atomic; a futex word).
extern int hosted_stw_flag;
// The calling thread's slot (NULL: none), and its preemption count.
// local-exec: the hosted programs are executables that define these, so
// each access is one %fs-relative instruction.
extern __thread struct hosted_cpu *hosted_self __attribute__((tls_model("local-exec")));
extern __thread int hosted_preempt __attribute__((tls_model("local-exec")));

void __noreturn hosted_no_cpu(const char *what);
void __noreturn hosted_preempt_underflow(void);
// hosted_preempt_point: the slot has a request (pending): park for the
// stop-the-world or hand the slot over, then come back holding one.
void hosted_preempt_point(void);
void *hosted_preempt_point_ret(void *p);	// the same, then returns p

static inline unsigned plat_ncpus(void) { return hosted_ncpus; }
// cpu_relax: the pause in a spin-wait loop.
static inline void cpu_relax(void) { __builtin_ia32_pause(); }

// this_cpu_id: the calling thread's CPU slot. Only meaningful while it
// holds one (every heap entry point needs one); an unpinned thread may
// change slots at any preemption point.
static inline unsigned this_cpu_id(void)
{
	struct hosted_cpu *c = hosted_self;
	return c ? c->id : 0;
}

// this_cpu_mcache: the heap cache of the calling thread's slot; inside a
// region, which holds a slot. plat_set_cpu_mcache: heap_init's setter.
static inline struct mcache *this_cpu_mcache(void) { return hosted_self->mcache; }
void plat_set_cpu_mcache(unsigned cpu, struct mcache *c);

static inline int preempt_count(void) { return hosted_preempt; }

// Regions: while the count is above 0 the thread keeps its slot and is
// never parked (the signal handler returns at once; a request waits for
// the outermost preempt_enable). A stop-the-world therefore waits for
// every region to end, as the kernel's waits for interrupts to come on.
// Neither side needs a fence: the count is the thread's own (a signal
// arrives between instructions), and a parked thread publishes with a
// release store of its slot's running flag. The outermost pair stores the
// constants 1 and 0 rather than adding: back-to-back regions (one per
// allocation) then do not chain load, add, store through memory, which
// costs a store-forwarding delay per step; the empty asm keeps the
// compiler from folding the constant back into an add.
// A request that comes while the count is 0 is acted on by its signal;
// one that comes inside waits for the region's end, so the start does not
// look (a region's start checked once, for no gain: the signal parks the
// thread before it gets there).
static inline void preempt_disable(void)
{
	int n = hosted_preempt;
	if (__builtin_expect(n != 0, 0)) {
		hosted_preempt = n + 1;
		return;
	}
	int one = 1;
	__asm__("" : "+r"(one));
	hosted_preempt = one;
	if (__builtin_expect(!hosted_self, 0))
		hosted_no_cpu("preempt_disable");
}

// preempt_end: leaves one level of the region; true if that ended it and
// the slot has a request for hosted_preempt_point.
static inline bool preempt_end(void)
{
	int n = hosted_preempt;
	if (__builtin_expect(n != 1, 0)) {
		if (n < 1)
			hosted_preempt_underflow();
		hosted_preempt = n - 1;
		return false;
	}
	// Counted while still in the region: once the count is 0 a signal may
	// move the thread to another slot (the fence keeps the compiler from
	// sinking the store below the count's), and a count for a slot it no
	// longer holds would race with the new owner's.
	struct hosted_cpu *c = hosted_self;
	__atomic_store_n(&c->region_ends, __atomic_load_n(&c->region_ends, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	int zero = 0;
	__asm__("" : "+r"(zero));
	hosted_preempt = zero;
	return __builtin_expect(__atomic_load_n(&hosted_self->pending, __ATOMIC_RELAXED) != 0, 0);
}

static inline void preempt_enable(void)
{
	if (preempt_end())
		hosted_preempt_point();
}

// preempt_enable_ret: preempt_enable, then returns p (see the kernel's,
// kernel/percpu.h).
static inline void *preempt_enable_ret(void *p)
{
	return preempt_end() ? hosted_preempt_point_ret(p) : p;
}

// plat_preempt_requested: a stop-the-world or a waiting thread wants this
// slot; long work in a region should stop at its next safe step.
static inline bool plat_preempt_requested(void)
{
	struct hosted_cpu *c = hosted_self;
	return c && __atomic_load_n(&c->pending, __ATOMIC_RELAXED) != 0;
}

// plat_can_wait: the caller may wait for other CPUs (preemptible).
static inline bool plat_can_wait(void) { return hosted_preempt == 0; }
// plat_in_interrupt: user-space threads have no interrupt handlers.
static inline bool plat_in_interrupt(void) { return false; }

// ---- spinlocks (tests/hosted/platform.c)

struct spinlock {
	u32 locked;		// 0 or 1; atomic
	int owner_cpu;		// -1 when free; for reports only
	const char *name;
};
#define SPINLOCK_INIT(n) { .locked = 0, .owner_cpu = -1, .name = (n) }
void spin_init(struct spinlock *l, const char *name);
// spin_lock_irqsave disables preemption and takes the lock; the result
// means nothing here (there are no interrupts) but goes back to unlock.
bool spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, bool irqs_were_on);
// spin_lock/spin_unlock: the kernel's variant for locks no interrupt
// handler takes; here the same as the irqsave pair.
static inline void spin_lock(struct spinlock *l) { (void)spin_lock_irqsave(l); }
static inline void spin_unlock(struct spinlock *l) { spin_unlock_irqrestore(l, false); }

// ---- time, stop-the-world

u64 nanotime(void);		// CLOCK_MONOTONIC, ns since hosted_init
// stw_begin: returns once every other CPU slot is free or its holder is
// parked: a holder outside a region is interrupted by a signal and parks
// in the handler; one inside a region parks at its end. No thread gets a
// slot or runs on one until stw_end; the caller is then in a region
// itself. Returns how long stopping took (ns; not the wait for threads
// parked by the last stop to run first). The caller holds a CPU slot, is
// preemptible and holds no lock. stw_end lets the world go and returns
// that moment (nanotime), as the kernel's does (kernel/smp.h).
u64 stw_begin(void);
u64 stw_end(void);

// ---- memory

// The heap range: reserved by hosted_init wherever mmap puts it, so its
// base is a variable; its size stays a constant (static tables use it).
extern u64 hosted_heap_base;
#define PLAT_HEAP_BASE hosted_heap_base
#define PLAT_HEAP_SIZE (64ul << 30)

void *plat_meta_alloc(unsigned order, enum frame_tag tag);
void plat_meta_free(void *p, unsigned order);
bool plat_heap_commit(u64 va, u64 len);
void plat_heap_release(u64 va, u64 len);

const char **plat_thread_error(void);
void plat_memory_stats(u64 *stack_bytes, u64 *meta_bytes);

// ---- threads (kernel/thread.h's interface, for the collector and tests)

// A thread is a pthread that runs heap code only while holding a CPU slot
// (hosted_cpu above). It gives the slot up whenever it blocks (wait queue,
// sleep, yield to a waiting thread, join) and takes one again after: its
// pinned slot, or any free one. A thread that waited for a slot longer
// than a slice asks the holder to hand it over (HOSTED_WANT_SLOT and a
// signal), as the kernel's timer tick preempts. While a thread holds no
// slot or is parked, everything it could hold in registers is on its
// stack above rsp (spilled by the platform function it stopped in, or in
// the signal frame), which is what the collector scans.
#define THREAD_NAME_MAX 24
#define THREAD_ANY_CPU (-1)

enum thread_state {
	TS_RUNNABLE,
	TS_RUNNING,
	TS_BLOCKED,
	TS_ZOMBIE,
};

struct kstack {
	u64 bottom, top;	// [bottom, top); both 0 until the thread starts
};

struct thread {
	u64 rsp;		// while off a slot or parked: its stack pointer
	struct kstack stack;
	char name[THREAD_NAME_MAX];
	u32 tid;		// ours, 1, 2, ...
	int state;		// enum thread_state (atomic)
	bool is_idle;		// always false: no idle threads here
	bool exited;		// fn returned (atomic)
	bool detached;
	int pinned;		// THREAD_ANY_CPU or its slot
	u32 gc_scangen;		// as in the kernel (kernel/thread.h)
	i64 gc_assist_debt;
	u32 gc_assist_cycle;
	bool gc_no_roots;
	bool urgent;		// as in the kernel: woken, it asks for a slot at once
	void (*fn)(void *);
	void *arg;
	// Hosted.
	// THREAD_ON while it may run (holds or is taking a slot), THREAD_OFF
	// while it is blocked with rsp saved, THREAD_HELD while the collector
	// holds it off (thread_try_hold). Atomic.
	int off;
	int os_tid;		// gettid()
	u64 pthread;		// pthread_t of a joinable thread
	int last_cpu;
	int wake;		// futex word: set by waitq wake-ups
	struct list wq_link;	// on a wait queue (the waiter's lock)
	struct list all_link;	// all threads (the thread-list lock)
};
#define THREAD_ON 0
#define THREAD_OFF 1
#define THREAD_HELD 2

// A wait queue, guarded by the caller's spinlock (Mesa semantics).
struct waitq {
	struct list waiters;
};
#define WAITQ_INIT(name) { LIST_INIT((name).waiters) }
void waitq_init(struct waitq *wq);
void waitq_wait(struct waitq *wq, struct spinlock *lk);
int waitq_wake_one(struct waitq *wq);
int waitq_wake_all(struct waitq *wq);

// thread_create: a pthread running fn(arg) on slot cpu or any
// (THREAD_ANY_CPU); NULL if cpu is not a slot or pthread_create fails.
// Joinable threads are freed by thread_join, detached ones at exit.
struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int cpu);
struct thread *thread_create_detached(const char *name, void (*fn)(void *), void *arg, int cpu);
void thread_join(struct thread *t);
void thread_yield(void);
void thread_sleep(u64 ns);
// thread_current: the calling thread, NULL for a pthread never registered
// (hosted_cpu_enter registers one).
struct thread *thread_current(void);
void thread_for_each(void (*fn)(struct thread *t, void *arg), void *arg);
// sched_runnable: threads waiting for slot cpu (a racy hint).
u32 sched_runnable(unsigned cpu);
bool thread_try_hold(struct thread *t);
void thread_unhold(struct thread *t);
