// The heap's platform interface for Linux user space: the same names as
// mm/platform.h, which this file shadows in the hosted build (tests/hosted/
// Makefile puts -I tests/hosted/include before -I ., so "mm/platform.h"
// from mm/malloc.c and the other heap files resolves here). The heap
// sources are compiled unchanged; tests/hosted/platform.c implements what
// is not inline here. See docs/architecture.md, "The hosted port".
//
// What is real and what is simulated:
//   CPUs        a CPU is a slot (0 .. plat_ncpus()-1) that one thread at a
//               time holds, between hosted_cpu_enter and hosted_cpu_exit
//               (tests/hosted/hosted.h). this_cpu_id() is the slot of the
//               calling thread; per-CPU data is exclusive because the slot
//               is. Threads run on real host cores, in parallel.
//   preemption  a thread-local count. The outermost preempt_disable marks
//               the slot "in a region"; stop-the-world waits for those.
//   stop-the-   stw_begin raises a flag and waits until no other slot is in
//   world       a region; preempt_disable waits while the flag is up. A
//               thread outside a region is not stopped: it just cannot
//               enter one (it holds no lock and no per-CPU state then).
//   spinlocks   test-and-set locks with __atomic builtins; they disable
//               preemption while held, as the kernel's do.
//   memory      the heap range is one PROT_NONE, MAP_NORESERVE mapping;
//               commit makes pages read-write (they read as zero), release
//               drops them (MADV_DONTNEED) and makes them PROT_NONE again.
//               Metadata pages are their own anonymous mappings.
#pragma once

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

// One per CPU slot, on its own cache line: written by its owner thread,
// read by stop-the-world.
struct hosted_cpu {
	int in_region;		// 1 while the owner is in a preempt-disabled region
	int owned;		// 1 while a thread holds the slot
	unsigned id;
} __attribute__((aligned(64)));

extern unsigned hosted_ncpus;
// Stop-the-world state, read at every region entry: HOSTED_STW_ON while
// a stop-the-world is on; HOSTED_STW_FENCE always, on a system without
// membarrier(2) (every region entry then takes the slow path and fences).
extern int hosted_stw_flag;
#define HOSTED_STW_ON 1
#define HOSTED_STW_FENCE 2
// The calling thread's slot (NULL: none), and its preemption count.
// local-exec: the hosted programs are executables that define these, so
// each access is one %fs-relative instruction.
extern __thread struct hosted_cpu *hosted_self __attribute__((tls_model("local-exec")));
extern __thread int hosted_preempt __attribute__((tls_model("local-exec")));

void __noreturn hosted_no_cpu(const char *what);
void hosted_stw_wait(void);
void __noreturn hosted_preempt_underflow(void);

static inline unsigned plat_ncpus(void) { return hosted_ncpus; }
// cpu_relax: the pause in a spin-wait loop.
static inline void cpu_relax(void) { __builtin_ia32_pause(); }

// this_cpu_id: the calling thread's CPU slot. Only meaningful while it
// holds one (every heap entry point needs one).
static inline unsigned this_cpu_id(void)
{
	struct hosted_cpu *c = hosted_self;
	return c ? c->id : 0;
}

static inline int preempt_count(void) { return hosted_preempt; }

static inline void preempt_disable(void)
{
	if (hosted_preempt++ != 0)
		return;
	struct hosted_cpu *c = hosted_self;
	if (__builtin_expect(!c, 0))
		hosted_no_cpu("preempt_disable");
	// Dekker with stw_begin: we store in_region then load the flag; it
	// stores the flag then loads in_region. x86 may let our load pass our
	// store; stw_begin's membarrier(2) puts a full barrier on every running
	// thread between its store and its loads, so we need only stop the
	// compiler here (without membarrier, the slow path fences).
	__atomic_store_n(&c->in_region, 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	// Acquire: after a stop-the-world, see what it wrote.
	if (__builtin_expect(__atomic_load_n(&hosted_stw_flag, __ATOMIC_ACQUIRE) != 0, 0))
		hosted_stw_wait();	// fences; if the world stops, leaves, waits, enters again
}

static inline void preempt_enable(void)
{
	int n = --hosted_preempt;
	if (n > 0)
		return;
	if (__builtin_expect(n < 0, 0))
		hosted_preempt_underflow();
	// Release: a stop-the-world that sees 0 sees the region's writes.
	__atomic_store_n(&hosted_self->in_region, 0, __ATOMIC_RELEASE);
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
// stw_begin: returns once no other CPU slot is in a preempt-disabled
// region, and none can enter one until stw_end; the caller is then in a
// region itself. Returns how long that took (ns). The caller holds a CPU
// slot, is preemptible and holds no lock.
u64 stw_begin(void);
void stw_end(void);

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
