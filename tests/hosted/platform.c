// The hosted implementation of the heap's platform interface: CPU slots
// held by pthreads, stop-the-world by handshake, spinlocks on __atomic
// builtins, mmap for metadata pages and the heap range. See
// tests/hosted/include/mm/platform.h for what is real and what is
// simulated.

#define _GNU_SOURCE
#include <execinfo.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tests/hosted/hosted.h"

unsigned hosted_ncpus;
int hosted_stw_flag;
u64 hosted_heap_base;
__thread struct hosted_cpu *hosted_self;
__thread int hosted_preempt;
__thread void (*hosted_panic_hook)(const char *msg);

static struct hosted_cpu cpus[MAX_CPUS];
static u64 clock_base;

static struct {
	u64 count, max_ns, total_ns;	// written by the stopping thread only
} stw_stats;

// Pages held, by tag (atomic), and the commit limit in bytes (0: none).
static u64 pages_by_tag[FT_NTAGS];
static u64 heap_committed, frame_limit;

// ---- output

int kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return vsnprintf(buf, size, fmt, ap);
}

void hosted_log(const char *level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	// "# " keeps the line a comment if someone merges it into test output.
	if (strcmp(level, "info") == 0)
		fprintf(stderr, "# %s\n", msg);
	else
		fprintf(stderr, "# %s: %s\n", level, msg);
}

// Present when a sanitizer runtime is linked in: its symbolized stacks.
extern void __sanitizer_print_stack_trace(void) __attribute__((weak));

void panic(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (hosted_panic_hook)
		hosted_panic_hook(msg);	// a test catching it does not return
	fprintf(stderr, "panic: %s (cpu %d, preempt count %d)\n", msg, hosted_cpu(), hosted_preempt);
	if (__sanitizer_print_stack_trace) {
		__sanitizer_print_stack_trace();
	} else {
		void *pcs[32];
		backtrace_symbols_fd(pcs, backtrace(pcs, 32), 2);
	}
	abort();
}

void hosted_no_cpu(const char *what)
{
	panic("%s: this thread holds no CPU slot (hosted_cpu_enter first)", what);
}

void hosted_preempt_reset(int count)
{
	hosted_preempt = count;
	if (hosted_self)
		__atomic_store_n(&hosted_self->in_region, count > 0, __ATOMIC_RELEASE);
}

void hosted_preempt_underflow(void)
{
	hosted_preempt_reset(0);
	panic("preempt_enable without preempt_disable on cpu %u", this_cpu_id());
}

// ---- setup and CPU slots

static long membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0, 0);
}

u64 nanotime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec - clock_base;
}

void hosted_init(unsigned ncpus)
{
	if (hosted_ncpus)
		panic("hosted_init called twice");
	if (ncpus < 1 || ncpus > MAX_CPUS)
		panic("hosted_init: %u CPUs, not in 1..%d", ncpus, MAX_CPUS);
	clock_base = nanotime();
	// The whole range, never backed until committed: no memory and no
	// commit charge (MAP_NORESERVE) for the addresses alone. Heap pages
	// (8 KiB; large objects start on one) need an aligned base, and the
	// kernel's range is aligned to far more than its 32 MiB arenas: align
	// to an arena here too, reserving one more and trimming the ends.
	const u64 align = 32ul << 20;
	void *r = mmap(NULL, PLAT_HEAP_SIZE + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		       0);
	if (r == MAP_FAILED)
		panic("hosted_init: cannot reserve %lu GiB of address space for the heap", PLAT_HEAP_SIZE >> 30);
	u64 start = (u64)r, end = start + PLAT_HEAP_SIZE + align;
	hosted_heap_base = ALIGN_UP(start, align);
	if (hosted_heap_base > start)
		munmap(r, hosted_heap_base - start);
	if (end > hosted_heap_base + PLAT_HEAP_SIZE)
		munmap((void *)(hosted_heap_base + PLAT_HEAP_SIZE), end - (hosted_heap_base + PLAT_HEAP_SIZE));
	if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0) {
		hosted_stw_flag = HOSTED_STW_FENCE;
		pr_warn("hosted: no membarrier(2): preempt_disable fences (slower)");
	}
	for (unsigned i = 0; i < ncpus; i++)
		cpus[i].id = i;
	hosted_ncpus = ncpus;
}

int hosted_cpu(void)
{
	return hosted_self ? (int)hosted_self->id : -1;
}

void hosted_cpu_enter(unsigned cpu)
{
	if (cpu >= hosted_ncpus)
		panic("hosted_cpu_enter(%u): only %u CPUs", cpu, hosted_ncpus);
	if (hosted_self)
		panic("hosted_cpu_enter(%u): this thread already holds cpu %u", cpu, hosted_self->id);
	struct hosted_cpu *c = &cpus[cpu];
	// Acquire: see everything the slot's previous holder wrote (its mcache).
	for (unsigned spins = 0;; spins++) {
		int zero = 0;
		if (__atomic_compare_exchange_n(&c->owned, &zero, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		if (spins % 64 == 63)
			sched_yield();
		else
			__builtin_ia32_pause();
	}
	hosted_self = c;
}

void hosted_cpu_exit(void)
{
	struct hosted_cpu *c = hosted_self;
	if (!c)
		hosted_no_cpu("hosted_cpu_exit");
	if (hosted_preempt)
		panic("hosted_cpu_exit on cpu %u with preemption disabled (count %d)", c->id, hosted_preempt);
	hosted_self = NULL;
	__atomic_store_n(&c->owned, 0, __ATOMIC_RELEASE);	// our writes to the next holder
}

// ---- stop-the-world

static void relax(unsigned *spins)
{
	// More threads than host cores is normal here: let the one we wait
	// for run.
	if (++*spins % 64 == 0)
		sched_yield();
	else
		__builtin_ia32_pause();
}

void hosted_stw_wait(void)
{
	struct hosted_cpu *c = hosted_self;
	for (;;) {
		// Our in_region store before the flag's load (the fence mode
		// relies on it; with membarrier it is merely redundant).
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!(__atomic_load_n(&hosted_stw_flag, __ATOMIC_ACQUIRE) & HOSTED_STW_ON))
			return;
		// Out of the region while we wait, so the stopper can go on.
		__atomic_store_n(&c->in_region, 0, __ATOMIC_RELEASE);
		unsigned spins = 0;
		while (__atomic_load_n(&hosted_stw_flag, __ATOMIC_ACQUIRE) & HOSTED_STW_ON)
			relax(&spins);
		__atomic_store_n(&c->in_region, 1, __ATOMIC_RELAXED);
	}
}

u64 stw_begin(void)
{
	if (!hosted_self)
		hosted_no_cpu("stw_begin");
	if (hosted_preempt)
		panic("stw_begin on cpu %u with preemption disabled (count %d)", hosted_self->id, hosted_preempt);
	u64 t0 = nanotime();
	int mode;
	for (;;) {
		preempt_disable();	// waits while another stop-the-world is on
		mode = __atomic_load_n(&hosted_stw_flag, __ATOMIC_RELAXED) & ~HOSTED_STW_ON;
		int expect = mode;
		if (__atomic_compare_exchange_n(&hosted_stw_flag, &expect, mode | HOSTED_STW_ON, false,
						__ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			break;
		preempt_enable();	// lost the race to another stopper: let it finish
		unsigned spins = 0;
		while (__atomic_load_n(&hosted_stw_flag, __ATOMIC_ACQUIRE) & HOSTED_STW_ON)
			relax(&spins);
	}
	// The other half of preempt_disable's Dekker: every thread now running
	// executes a full barrier, so each either sees the flag or has its
	// in_region store visible to the loads below.
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(mode & HOSTED_STW_FENCE) && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0)
		panic("stw_begin: membarrier failed after registering");
	for (unsigned i = 0; i < hosted_ncpus; i++) {
		if (&cpus[i] == hosted_self)
			continue;
		unsigned spins = 0;
		// Acquire: the region's writes happen before the stopped world.
		while (__atomic_load_n(&cpus[i].in_region, __ATOMIC_ACQUIRE))
			relax(&spins);
	}
	u64 ns = nanotime() - t0;
	stw_stats.count++;
	stw_stats.total_ns += ns;
	stw_stats.max_ns = MAX(stw_stats.max_ns, ns);
	return ns;
}

void stw_end(void)
{
	if (!(__atomic_load_n(&hosted_stw_flag, __ATOMIC_RELAXED) & HOSTED_STW_ON))
		panic("stw_end on cpu %u without stw_begin", this_cpu_id());
	// Release: the stopped world's writes before anyone's next region.
	__atomic_fetch_and(&hosted_stw_flag, ~HOSTED_STW_ON, __ATOMIC_RELEASE);
	preempt_enable();
}

void hosted_set_stw_fences(bool on)
{
	for (unsigned i = 0; i < hosted_ncpus; i++)
		if (&cpus[i] != hosted_self && __atomic_load_n(&cpus[i].owned, __ATOMIC_ACQUIRE))
			panic("hosted_set_stw_fences: cpu %u is held by another thread", i);
	if (!on && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0)
		panic("hosted_set_stw_fences(false): this system has no membarrier(2)");
	__atomic_store_n(&hosted_stw_flag, on ? HOSTED_STW_FENCE : 0, __ATOMIC_SEQ_CST);
}

bool hosted_stw_fences(void)
{
	return __atomic_load_n(&hosted_stw_flag, __ATOMIC_RELAXED) & HOSTED_STW_FENCE;
}

void hosted_stw_stats(struct hosted_stw_stats *s)
{
	s->count = stw_stats.count;
	s->max_ns = stw_stats.max_ns;
	s->total_ns = stw_stats.total_ns;
}

// ---- spinlocks

void spin_init(struct spinlock *l, const char *name)
{
	*l = (struct spinlock)SPINLOCK_INIT(name);
}

static void __attribute__((noinline)) spin_wait(struct spinlock *l)
{
	int me = (int)this_cpu_id();
	// Lock holders keep their slot (they cannot leave it preempt-disabled),
	// so our own number as owner means we hold it already.
	if (__atomic_load_n(&l->owner_cpu, __ATOMIC_RELAXED) == me)
		panic("spinlock %s: cpu %d takes it again (recursion)", l->name, me);
	u64 start = 0;
	unsigned spins = 0;
	do {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
			relax(&spins);
			if (spins % 65536 == 0) {
				u64 now = nanotime();
				if (!start)
					start = now;
				else if (now - start > 10000000000ull)
					panic("spinlock %s: lockup: cpu %d waited 10 s; held by cpu %d", l->name, me,
					      __atomic_load_n(&l->owner_cpu, __ATOMIC_RELAXED));
			}
		}
	} while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE));
}

bool spin_lock_irqsave(struct spinlock *l)
{
	preempt_disable();
	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		spin_wait(l);
	__atomic_store_n(&l->owner_cpu, (int)this_cpu_id(), __ATOMIC_RELAXED);
	return false;
}

void spin_unlock_irqrestore(struct spinlock *l, bool irqs_were_on)
{
	(void)irqs_were_on;
	__atomic_store_n(&l->owner_cpu, -1, __ATOMIC_RELAXED);
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	preempt_enable();
}

// ---- memory

void *plat_meta_alloc(unsigned order, enum frame_tag tag)
{
	void *p = mmap(NULL, PAGE_SIZE << order, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	__atomic_fetch_add(&pages_by_tag[tag < FT_NTAGS ? tag : FT_NONE], 1ull << order, __ATOMIC_RELAXED);
	return p;		// fresh anonymous memory reads as zero
}

void plat_meta_free(void *p, unsigned order)
{
	if (munmap(p, PAGE_SIZE << order) != 0)
		panic("plat_meta_free(%p, order %u): munmap failed", p, order);
	// The heap frees only FT_META blocks (arena tables).
	__atomic_fetch_sub(&pages_by_tag[FT_META], 1ull << order, __ATOMIC_RELAXED);
}

static void check_heap_range(const char *what, u64 va, u64 len)
{
	if (va % PAGE_SIZE || len % PAGE_SIZE || va < hosted_heap_base ||
	    va + len > hosted_heap_base + PLAT_HEAP_SIZE || va + len < va)
		panic("%s(%#lx, %#lx): not page-aligned inside the heap range %#lx+%#lx", what, va, len,
		      hosted_heap_base, PLAT_HEAP_SIZE);
}

bool plat_heap_commit(u64 va, u64 len)
{
	check_heap_range("plat_heap_commit", va, len);
	u64 now = __atomic_add_fetch(&heap_committed, len, __ATOMIC_RELAXED);
	u64 limit = __atomic_load_n(&frame_limit, __ATOMIC_RELAXED);
	// Never-touched and MADV_DONTNEED pages of a private anonymous mapping
	// read as zero: what the heap expects of committed memory.
	if ((limit && now > limit) || mprotect((void *)va, len, PROT_READ | PROT_WRITE) != 0) {
		__atomic_sub_fetch(&heap_committed, len, __ATOMIC_RELAXED);
		return false;
	}
	__atomic_fetch_add(&pages_by_tag[FT_HEAP], len / PAGE_SIZE, __ATOMIC_RELAXED);
	return true;
}

void plat_heap_release(u64 va, u64 len)
{
	check_heap_range("plat_heap_release", va, len);
	if (madvise((void *)va, len, MADV_DONTNEED) != 0 || mprotect((void *)va, len, PROT_NONE) != 0)
		panic("plat_heap_release(%#lx, %#lx): madvise/mprotect failed", va, len);
	__atomic_sub_fetch(&heap_committed, len, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&pages_by_tag[FT_HEAP], len / PAGE_SIZE, __ATOMIC_RELAXED);
}

void hosted_set_frame_limit(u64 bytes)
{
	__atomic_store_n(&frame_limit, bytes, __ATOMIC_RELAXED);
}

void hosted_page_stats(u64 by_tag[FT_NTAGS])
{
	for (int i = 0; i < FT_NTAGS; i++)
		by_tag[i] = __atomic_load_n(&pages_by_tag[i], __ATOMIC_RELAXED);
}

const char **plat_thread_error(void)
{
	static __thread const char *error;
	return &error;
}

void plat_memory_stats(u64 *stack_bytes, u64 *meta_bytes)
{
	*stack_bytes = 0;	// thread stacks belong to libc here
	*meta_bytes = __atomic_load_n(&pages_by_tag[FT_META], __ATOMIC_RELAXED) * PAGE_SIZE;
}
