// The hosted implementation of the heap's platform interface: CPU slots
// held by pthreads, stop-the-world by handshake, spinlocks on __atomic
// builtins, mmap for metadata pages and the heap range. See
// tests/hosted/include/mm/platform.h for what is real and what is
// simulated.

#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
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
static __thread struct thread *self_thread;

static struct hosted_cpu cpus[MAX_CPUS];
static u64 clock_base;

// Preemption requests reach a running slot holder by this signal (Go's
// choice too: nothing else uses it).
#define PREEMPT_SIGNAL SIGURG
// A thread that has waited this long for a slot asks its holder for it.
#define SLICE_NS 2000000ull

#ifndef HOSTED_HEAP_GUARD
#define HOSTED_HEAP_GUARD 1	// (see plat_heap_commit)
#endif

static u32 any_waiters;		// threads waiting for any slot (atomic)
static int slot_seq;		// futex word: moves at every slot release

// The thread list, and each thread's ids and stack bounds.
static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list all_threads = LIST_INIT(all_threads);
static u32 next_tid;		// threads_lock

static struct {
	u64 count, max_ns, total_ns;	// written by the stopping thread only
} stw_stats;

// A stopper that has waited STW_SPIN_NS for a slot's holder to stop
// sleeps instead: Linux often runs the thread woken to stop the world on
// the very core of the holder it must wait for, and a spinning stopper
// keeps that holder off it (sched_yield does not reliably hand the core
// over). stw_sleeping says one sleeps on stw_seq; a holder that stops
// (park, slot_release, slot_run backing off) then bumps stw_seq and
// wakes it. Both seq-cst against the flag and running (Dekker, as in
// slot_run). 50 us: a holder on another core answers the signal well
// within it (7 us median here), and waking a sleeping stopper can cost
// more than that; 5 us gave a p99 pause of 37-47 us on binary-trees
// (depth 18, 2 slots), 50 us 31-41 us (5 runs each).
#define STW_SPIN_NS 50000
// A holder sees the request at its next region's end (every allocation
// ends one) and is signalled only if it has not stopped after
// STW_SIGNAL_NS: a holder that does not allocate (walking a tree, say)
// needs the signal, but tgkill of a thread running on another core took
// 15 us (median) on this VM, and the stopper waited for it to return
// even when the holder had parked on its own within a microsecond.
#define STW_SIGNAL_NS 3000
static int stw_sleeping, stw_seq;

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
}

void hosted_preempt_underflow(void)
{
	hosted_preempt_reset(0);
	panic("preempt_enable without preempt_disable on cpu %u", this_cpu_id());
}

// ---- setup

u64 nanotime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec - clock_base;
}

static void on_preempt_signal(int sig, siginfo_t *si, void *uc);

void plat_set_cpu_mcache(unsigned cpu, struct mcache *c)
{
	if (cpu >= hosted_ncpus)
		panic("plat_set_cpu_mcache: cpu %u of %u", cpu, hosted_ncpus);
	cpus[cpu].mcache = c;
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
	void *r = mmap(NULL, PLAT_HEAP_SIZE + align, HOSTED_HEAP_GUARD ? PROT_NONE : PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		panic("hosted_init: cannot reserve %lu GiB of address space for the heap", PLAT_HEAP_SIZE >> 30);
	u64 start = (u64)r, end = start + PLAT_HEAP_SIZE + align;
	hosted_heap_base = ALIGN_UP(start, align);
	if (hosted_heap_base > start)
		munmap(r, hosted_heap_base - start);
	if (end > hosted_heap_base + PLAT_HEAP_SIZE)
		munmap((void *)(hosted_heap_base + PLAT_HEAP_SIZE), end - (hosted_heap_base + PLAT_HEAP_SIZE));
	struct sigaction sa = {.sa_sigaction = on_preempt_signal, .sa_flags = SA_SIGINFO | SA_RESTART};
	sigemptyset(&sa.sa_mask);
	if (sigaction(PREEMPT_SIGNAL, &sa, NULL) != 0)
		panic("hosted_init: sigaction failed");
	for (unsigned i = 0; i < ncpus; i++)
		cpus[i].id = i;
	hosted_ncpus = ncpus;
}

int hosted_cpu(void)
{
	return hosted_self ? (int)hosted_self->id : -1;
}

// ---- futexes (sleeping only: every handover of data is an atomic)

static void futex_wait(int *word, int val, u64 timeout_ns)
{
	struct timespec ts = {(time_t)(timeout_ns / 1000000000ull), (long)(timeout_ns % 1000000000ull)};
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, timeout_ns ? &ts : NULL, NULL, 0);
}

static void futex_wake_all(int *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void relax(unsigned *spins)
{
	// More threads than host cores is normal here: let the one we wait
	// for run.
	if (++*spins % 64 == 0)
		sched_yield();
	else
		__builtin_ia32_pause();
}

static inline u64 stack_pointer(void)
{
	u64 sp;
	__asm__ volatile("movq %%rsp, %0" : "=r"(sp));
	return sp;
}

// ---- CPU slots

// stw_wait_over: until no stop-the-world is on. Acquire: see what the
// stopped world wrote.
static void stw_wait_over(void)
{
	int f;
	while ((f = __atomic_load_n(&hosted_stw_flag, __ATOMIC_ACQUIRE)) != 0)
		futex_wait(&hosted_stw_flag, f, 0);
}

// stw_stopped_one: the caller's slot has just stopped running (stored
// running = 0, seq-cst): wakes a stopper sleeping on it.
static void stw_stopped_one(void)
{
	if (__atomic_load_n(&stw_sleeping, __ATOMIC_SEQ_CST)) {
		__atomic_add_fetch(&stw_seq, 1, __ATOMIC_SEQ_CST);
		futex_wake_all(&stw_seq);
	}
}

// slot_run: the holder of c starts executing on it, after any stop of the
// world. Dekker with stw_begin, both sides sequentially consistent: we
// store running then load the flag, it stores the flag then loads
// running, so either it waits for us or we see the flag and stay parked.
static void slot_run(struct hosted_cpu *c)
{
	for (;;) {
		__atomic_store_n(&c->running, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&hosted_stw_flag, __ATOMIC_SEQ_CST))
			return;
		__atomic_store_n(&c->running, 0, __ATOMIC_SEQ_CST);
		stw_stopped_one();	// the stopper may have seen the 1
		stw_wait_over();
	}
}

static bool slot_try_take(struct thread *t, struct hosted_cpu *c)
{
	struct thread *none = NULL;
	// Acquire: everything the slot's last holder wrote (its mcache).
	if (__atomic_load_n(&c->owner, __ATOMIC_RELAXED) ||
	    !__atomic_compare_exchange_n(&c->owner, &none, t, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	__atomic_store_n(&c->owner_tid, t->os_tid, __ATOMIC_RELAXED);
	// After the owner: a yielder that sees takes move sees the owner.
	__atomic_add_fetch(&c->takes, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->yielder, __ATOMIC_SEQ_CST))
		futex_wake_all(&c->takes);
	return true;
}

static void signal_holder(struct hosted_cpu *c)
{
	int tid = __atomic_load_n(&c->owner_tid, __ATOMIC_RELAXED);
	if (tid)	// a holder that has just left ignores it (hosted_self is NULL)
		syscall(SYS_tgkill, getpid(), tid, PREEMPT_SIGNAL);
}

// slot_acquire: t takes its pinned slot or any free one, waiting while
// none is free; after a slice of waiting (at once if ask_now) it asks a
// holder to hand over, and again every slice. The caller's preemption
// count is raised (no signal acts meanwhile).
static void slot_acquire(struct thread *t, bool ask_now)
{
	unsigned n = hosted_ncpus, ask = 0;
	bool pinned = t->pinned != THREAD_ANY_CPU, counted = false;
	u32 *waiters = pinned ? &cpus[t->pinned].waiters : &any_waiters;
	struct hosted_cpu *got = NULL;
	u64 since = 0;
	for (;;) {
		int seq = __atomic_load_n(&slot_seq, __ATOMIC_SEQ_CST);
		if (pinned) {
			if (slot_try_take(t, &cpus[t->pinned]))
				got = &cpus[t->pinned];
		} else {
			for (unsigned i = 0; i < n && !got; i++)
				if (slot_try_take(t, &cpus[(t->last_cpu + i) % n]))
					got = &cpus[(t->last_cpu + i) % n];
		}
		if (got)
			break;
		u64 now = nanotime();
		if (!counted) {
			// Seq-cst, against slot_release's check of the waiter counts.
			__atomic_add_fetch(waiters, 1, __ATOMIC_SEQ_CST);
			counted = true;
			since = ask_now ? now - SLICE_NS : now;
		}
		if (now - since >= SLICE_NS) {
			struct hosted_cpu *v = pinned ? &cpus[t->pinned] : &cpus[ask++ % n];
			__atomic_fetch_or(&v->pending, HOSTED_WANT_SLOT, __ATOMIC_RELAXED);
			signal_holder(v);
			since = now;
		}
		futex_wait(&slot_seq, seq, SLICE_NS);
	}
	if (counted)
		__atomic_sub_fetch(waiters, 1, __ATOMIC_RELAXED);
	t->last_cpu = (int)got->id;
	hosted_self = got;
	slot_run(got);
}

// slot_release: the caller gives its slot up (its count is raised).
static void slot_release(void)
{
	struct hosted_cpu *c = hosted_self;
	hosted_self = NULL;
	__atomic_fetch_and(&c->pending, ~HOSTED_WANT_SLOT, __ATOMIC_RELAXED);
	__atomic_store_n(&c->owner_tid, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&c->running, 0, __ATOMIC_SEQ_CST);	// (release, and see stw_sleeping)
	stw_stopped_one();
	// Release: our writes (the mcache) to the next holder.
	__atomic_store_n(&c->owner, NULL, __ATOMIC_RELEASE);
	__atomic_add_fetch(&slot_seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&any_waiters, __ATOMIC_SEQ_CST) || __atomic_load_n(&c->waiters, __ATOMIC_SEQ_CST))
		futex_wake_all(&slot_seq);
}

// park: stopped for a stop-the-world, still holding c. Everything the
// thread holds in registers is on its stack above t->rsp: spilled here
// (callee-saved) or by its callers, or in the signal frame when parked
// from the handler.
static __attribute__((noinline)) void park(struct thread *t, struct hosted_cpu *c)
{
	__builtin_unwind_init();
	t->rsp = stack_pointer();
	__atomic_store_n(&c->parked, 1, __ATOMIC_RELAXED);
	// Release: the stopper sees our stack and per-CPU writes.
	__atomic_store_n(&c->running, 0, __ATOMIC_SEQ_CST);
	stw_stopped_one();
	stw_wait_over();
	slot_run(c);
	__atomic_store_n(&c->parked, 0, __ATOMIC_RELAXED);
}

// thread_resume: t may run again once the collector lets go of it.
static void thread_resume(struct thread *t)
{
	unsigned spins = 0;
	for (;;) {
		int off = THREAD_OFF;
		// Acquire: after thread_unhold.
		if (__atomic_compare_exchange_n(&t->off, &off, THREAD_ON, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		relax(&spins);
	}
}

enum block { BLOCK_WAKE, BLOCK_SLEEP, BLOCK_YIELD, BLOCK_JOIN, BLOCK_RELEASE };

static void release_range(u64 va, u64 len);

// yield_slot: the caller has just released c for the threads waiting:
// sleeps until one of them took it, none waits any more, or a slice
// passed. Taking a slot again at once (sched_yield returns at once when
// the waiter's pthread has yet to wake on another core) handed c back to
// the yielder slice after slice: the mark worker pinned to the slot of
// binary-trees' one mutator waited 25-280 ms to run, and the whole mark
// phase with it, while the mutator allocated black. Sleeping, not
// spinning: a spinning yielder kept the host core the waiter needed
// (binary-trees on 2 slots spent 0.5-0.9 s of its 2.4 spinning so, 150
// waits a run lasting the whole slice). Not inlined: the caller is off
// its slot, its stack above its saved rsp open to a collector's scan,
// and our locals must lie below that.
static __attribute__((noinline)) void yield_slot(struct hosted_cpu *c)
{
	u64 until = nanotime() + SLICE_NS;
	// Seq-cst: Dekker with slot_try_take's increment and load of it.
	__atomic_add_fetch(&c->yielder, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		int seq = __atomic_load_n(&c->takes, __ATOMIC_SEQ_CST);
		u64 now = nanotime();
		if (__atomic_load_n(&c->owner, __ATOMIC_RELAXED) || now >= until || !sched_runnable(c->id))
			break;
		futex_wait(&c->takes, seq, until - now);
	}
	__atomic_sub_fetch(&c->yielder, 1, __ATOMIC_RELAXED);
}

// thread_block: gives the slot up, blocks as `how` says, takes a slot
// again. The same spill as park: while off, t's stack above rsp holds
// everything it could hold in registers.
static __attribute__((noinline)) void thread_block(struct thread *t, enum block how, u64 arg)
{
	__builtin_unwind_init();
	int saved = hosted_preempt;
	hosted_preempt = 1;
	__atomic_store_n(&t->state, TS_BLOCKED, __ATOMIC_RELAXED);
	t->rsp = stack_pointer();
	// Release: a collector that holds t sees its stack.
	__atomic_store_n(&t->off, THREAD_OFF, __ATOMIC_RELEASE);
	struct hosted_cpu *c = hosted_self;
	slot_release();
	switch (how) {
	case BLOCK_WAKE:
		while (!__atomic_load_n(&t->wake, __ATOMIC_ACQUIRE))
			futex_wait(&t->wake, 0, 0);
		break;
	case BLOCK_SLEEP: {
		struct timespec ts = {(time_t)(arg / 1000000000ull), (long)(arg % 1000000000ull)};
		while (nanosleep(&ts, &ts) != 0)
			;
		break;
	}
	case BLOCK_YIELD:
		yield_slot(c);
		break;
	case BLOCK_JOIN:
		if (pthread_join((pthread_t)((struct thread *)arg)->pthread, NULL) != 0)
			panic("thread_join: pthread_join failed");
		break;
	case BLOCK_RELEASE: {
		const u64 *r = (const u64 *)arg;
		release_range(r[0], r[1]);
		break;
	}
	}
	thread_resume(t);
	// Woken (not yielding): an urgent thread asks for a slot at once, as
	// the kernel's wake-up of one prods its CPU (kernel/sched.c).
	slot_acquire(t, __atomic_load_n(&t->urgent, __ATOMIC_RELAXED) && (how == BLOCK_WAKE || how == BLOCK_SLEEP));
	__atomic_store_n(&t->state, TS_RUNNING, __ATOMIC_RELAXED);
	hosted_preempt = saved;
}

void hosted_preempt_point(void)
{
	struct thread *t = self_thread;
	int saved = hosted_preempt;
	hosted_preempt = 1;	// no signal acts on us meanwhile
	for (;;) {
		struct hosted_cpu *c = hosted_self;
		int p = __atomic_load_n(&c->pending, __ATOMIC_RELAXED);
		if (p & HOSTED_WANT_STOP) {
			// Returns at once if that stop is over. Only stw_end clears
			// the request, before it drops the flag park waited on, so
			// the next look at pending sees it gone, or set again by a
			// new stop that we must not miss (clearing it here once
			// lost one: the holder ran on while the stopper waited).
			park(t, c);
		} else if (p & HOSTED_WANT_SLOT) {
			__atomic_fetch_and(&c->pending, ~HOSTED_WANT_SLOT, __ATOMIC_RELAXED);
			if (sched_runnable(c->id))
				thread_block(t, BLOCK_YIELD, 0);
		} else {
			break;
		}
	}
	hosted_preempt = saved;
}

void *hosted_preempt_point_ret(void *p)
{
	hosted_preempt_point();
	return p;
}

// The preemption signal: a stop-the-world or a waiting thread wants this
// slot. Inside a region (or in the platform's own code, which raises the
// count) it does nothing: the region's end acts on the request.
static void on_preempt_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	int e = errno;
	struct hosted_cpu *c = hosted_self;
	if (c && hosted_preempt == 0 && __atomic_load_n(&c->pending, __ATOMIC_RELAXED))
		hosted_preempt_point();
	errno = e;
}

// ---- threads

// threads_lock is held only inside a region: a thread parked while it
// held the lock would stop the collector, which takes it with the world
// stopped to scan the stacks (thread_for_each). Under TSan a signal that
// arrives during pthread_mutex_lock is delivered after the lock is taken.
static void threads_lock_take(void)
{
	hosted_preempt++;
	pthread_mutex_lock(&threads_lock);
}

static void threads_lock_drop(void)
{
	pthread_mutex_unlock(&threads_lock);
	// The region's end acts on a request that came meanwhile, as
	// preempt_enable does.
	if (--hosted_preempt == 0 && hosted_self && __atomic_load_n(&hosted_self->pending, __ATOMIC_RELAXED))
		hosted_preempt_point();
}

static void thread_register(struct thread *t)
{
	threads_lock_take();
	t->tid = ++next_tid;
	list_push_back(&all_threads, &t->all_link);
	threads_lock_drop();
}

static void thread_unregister(struct thread *t)
{
	threads_lock_take();
	list_remove(&t->all_link);
	threads_lock_drop();
}

// thread_started: the calling pthread is t: its ids and stack bounds,
// under the list lock (scans read them under it). The scanned stack ends
// at `top` (0: the mapping's end, for the process's main thread): the top
// of a pthread's mapping holds its TLS and libc's thread descriptor,
// which are no roots of ours and change while the thread is off a slot.
static void thread_started(struct thread *t, u64 top)
{
	self_thread = t;
	pthread_attr_t a;
	void *lo;
	size_t size;
	if (pthread_getattr_np(pthread_self(), &a) != 0 || pthread_attr_getstack(&a, &lo, &size) != 0)
		panic("thread %s: cannot find its stack", t->name);
	pthread_attr_destroy(&a);
	threads_lock_take();
	t->os_tid = (int)syscall(SYS_gettid);
	t->stack = (struct kstack){(u64)lo, top ? top : (u64)lo + size};
	t->rsp = t->stack.top;	// nothing of it is a root yet
	threads_lock_drop();
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	hosted_preempt = 1;
	// Not while a collector holds us (to scan the start argument): it
	// reads the stack bounds thread_started sets.
	thread_resume(t);
	// Our frame (with its return address) and below: fn's frames.
	thread_started(t, (u64)__builtin_frame_address(0) + 16);
	slot_acquire(t, false);
	__atomic_store_n(&t->state, TS_RUNNING, __ATOMIC_RELAXED);
	hosted_preempt = 0;
	t->fn(t->arg);
	if (hosted_preempt)
		panic("thread %s returned with preemption disabled (count %d)", t->name, hosted_preempt);
	hosted_preempt = 1;
	__atomic_store_n(&t->exited, true, __ATOMIC_RELEASE);
	__atomic_store_n(&t->state, TS_ZOMBIE, __ATOMIC_RELAXED);
	thread_unregister(t);
	slot_release();
	self_thread = NULL;
	hosted_preempt = 0;
	if (t->detached)
		free(t);
	return NULL;
}

static struct thread *create(const char *name, void (*fn)(void *), void *arg, int cpu, bool detached)
{
	if (cpu != THREAD_ANY_CPU && (cpu < 0 || (unsigned)cpu >= hosted_ncpus))
		return NULL;
	struct thread *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->fn = fn;
	t->arg = arg;
	t->pinned = cpu;
	t->detached = detached;
	t->off = THREAD_OFF;	// not started: its start argument is its only root
	t->state = TS_RUNNABLE;
	t->last_cpu = cpu >= 0 ? cpu : hosted_cpu() >= 0 ? hosted_cpu() : 0;
	list_init(&t->wq_link);
	thread_register(t);	// before it runs: the collector scans arg from now on
	pthread_attr_t a;
	pthread_t th;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, detached ? PTHREAD_CREATE_DETACHED : PTHREAD_CREATE_JOINABLE);
	int err = pthread_create(&th, &a, thread_main, t);
	pthread_attr_destroy(&a);
	if (err != 0) {
		thread_unregister(t);
		free(t);
		return NULL;
	}
	if (!detached)
		t->pthread = (u64)th;	// for thread_join; the thread never reads it
	return t;
}

struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int cpu)
{
	return create(name, fn, arg, cpu, false);
}

struct thread *thread_create_detached(const char *name, void (*fn)(void *), void *arg, int cpu)
{
	return create(name, fn, arg, cpu, true);
}

static struct thread *current_or_panic(const char *what)
{
	struct thread *t = self_thread;
	if (!t || !hosted_self)
		hosted_no_cpu(what);
	return t;
}

void thread_join(struct thread *t)
{
	if (t->detached)
		panic("thread_join(%s): the thread is detached", t->name);
	thread_block(current_or_panic("thread_join"), BLOCK_JOIN, (u64)t);
	free(t);
}

void thread_yield(void)
{
	struct hosted_cpu *c = hosted_self;
	if (c && hosted_preempt == 0 && sched_runnable(c->id))
		thread_block(self_thread, BLOCK_YIELD, 0);
	else
		sched_yield();
}

void thread_sleep(u64 ns)
{
	thread_block(current_or_panic("thread_sleep"), BLOCK_SLEEP, ns);
}

struct thread *thread_current(void)
{
	return self_thread;
}

void thread_for_each(void (*fn)(struct thread *t, void *arg), void *arg)
{
	threads_lock_take();
	list_for_each(e, &all_threads)
		fn(list_entry(e, struct thread, all_link), arg);
	threads_lock_drop();
}

u32 sched_runnable(unsigned cpu)
{
	return __atomic_load_n(&cpus[cpu].waiters, __ATOMIC_RELAXED) + __atomic_load_n(&any_waiters, __ATOMIC_RELAXED);
}

bool thread_try_hold(struct thread *t)
{
	int off = THREAD_OFF;
	// Acquire: its stack as it left it (thread_block's release).
	return __atomic_compare_exchange_n(&t->off, &off, THREAD_HELD, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void thread_unhold(struct thread *t)
{
	__atomic_store_n(&t->off, THREAD_OFF, __ATOMIC_RELEASE);
}

void waitq_init(struct waitq *wq)
{
	list_init(&wq->waiters);
}

void waitq_wait(struct waitq *wq, struct spinlock *lk)
{
	struct thread *t = current_or_panic("waitq_wait");
	__atomic_store_n(&t->wake, 0, __ATOMIC_RELAXED);
	list_push_back(&wq->waiters, &t->wq_link);
	spin_unlock(lk);
	thread_block(t, BLOCK_WAKE, 0);
	spin_lock(lk);
}

// wake: under the waiter's lock, which it takes again before returning,
// so t is not freed before the futex wake is done.
static void wake(struct thread *t)
{
	list_remove(&t->wq_link);
	__atomic_store_n(&t->wake, 1, __ATOMIC_RELEASE);
	futex_wake_all(&t->wake);
}

int waitq_wake_one(struct waitq *wq)
{
	if (list_empty(&wq->waiters))
		return 0;
	wake(list_entry(wq->waiters.next, struct thread, wq_link));
	return 1;
}

int waitq_wake_all(struct waitq *wq)
{
	int n = 0;
	for (; !list_empty(&wq->waiters); n++)
		wake(list_entry(wq->waiters.next, struct thread, wq_link));
	return n;
}

// ---- threads that enter the machine themselves

// A pthread the platform did not create registers on its first
// hosted_cpu_enter; hosted_cpu_exit takes it off the list (a thread off
// the machine holds no roots); the struct is freed when the pthread ends.
static pthread_key_t entered_key;
static pthread_once_t entered_once = PTHREAD_ONCE_INIT;

static void entered_key_init(void)
{
	pthread_key_create(&entered_key, free);
}

// Not inlined: the frame pointer saved in our frame is the caller's
// (the hosted build keeps frame pointers).
__attribute__((noinline)) void hosted_cpu_enter(unsigned cpu)
{
	if (cpu >= hosted_ncpus)
		panic("hosted_cpu_enter(%u): only %u CPUs", cpu, hosted_ncpus);
	if (hosted_self)
		panic("hosted_cpu_enter(%u): this thread already holds cpu %u", cpu, hosted_self->id);
	struct thread *t = self_thread;
	if (!t) {
		pthread_once(&entered_once, entered_key_init);
		t = calloc(1, sizeof(*t));
		if (!t)
			panic("hosted_cpu_enter: out of memory");
		snprintf(t->name, sizeof(t->name), "hosted thread");
		list_init(&t->wq_link);
		pthread_setspecific(entered_key, t);
		// The main thread's whole stack; another pthread's from its
		// caller's frame down (its TLS is at the top of its stack).
		bool main_thread = syscall(SYS_gettid) == getpid();
		thread_started(t, main_thread ? 0 : *(u64 *)__builtin_frame_address(0) + 16);
	}
	hosted_preempt = 1;
	t->pinned = (int)cpu;
	t->off = THREAD_ON;
	t->exited = false;
	t->state = TS_RUNNING;
	__builtin_unwind_init();
	t->rsp = stack_pointer();
	thread_register(t);
	slot_acquire(t, false);
	hosted_preempt = 0;
}

void hosted_cpu_exit(void)
{
	struct hosted_cpu *c = hosted_self;
	if (!c)
		hosted_no_cpu("hosted_cpu_exit");
	if (hosted_preempt)
		panic("hosted_cpu_exit on cpu %u with preemption disabled (count %d)", c->id, hosted_preempt);
	struct thread *t = self_thread;
	if (t->fn)
		panic("hosted_cpu_exit from thread %s, which thread_create made", t->name);
	hosted_preempt = 1;
	thread_unregister(t);
	slot_release();
	hosted_preempt = 0;
}

// ---- stop-the-world

// stw_defer: before a stop, waits (up to STW_DEFER_NS) until the holder
// of every other running slot has ended a region within the last
// STW_ACTIVE_NS: it is allocating, and will park at its next region's
// end, within a microsecond, instead of needing the signal (20-40 us
// from tgkill to its handler on this VM: the slowest fifth of the stops,
// all of their 99th percentile, came from holders walking a tree).
// Nothing is stopped meanwhile; a holder that does not allocate within
// STW_DEFER_NS is signalled as before. binary-trees 18 on 2 slots, 5
// runs each: p99 pause 46-86 -> 10-34 us (docs/PERFORMANCE.md).
#define STW_DEFER_NS 500000
#define STW_ACTIVE_NS 2000
static void stw_defer(void)
{
	u64 t0 = nanotime(), seen[MAX_CPUS] = {0};
	u32 last[MAX_CPUS];
	unsigned spins = 0;
	for (unsigned i = 0; i < hosted_ncpus; i++)
		last[i] = __atomic_load_n(&cpus[i].region_ends, __ATOMIC_RELAXED);
	for (;;) {
		u64 now = nanotime();
		bool ready = true;
		for (unsigned i = 0; i < hosted_ncpus; i++) {
			struct hosted_cpu *c = &cpus[i];
			if (c == hosted_self || !__atomic_load_n(&c->running, __ATOMIC_RELAXED))
				continue;
			u32 e = __atomic_load_n(&c->region_ends, __ATOMIC_RELAXED);
			if (e != last[i]) {
				last[i] = e;
				seen[i] = now;
			}
			if (!seen[i] || now - seen[i] > STW_ACTIVE_NS)
				ready = false;
		}
		if (ready || now - t0 >= STW_DEFER_NS)
			return;
		relax(&spins);
	}
}

u64 stw_begin(void)
{
	struct thread *me = self_thread;
	if (!hosted_self || !me)
		hosted_no_cpu("stw_begin");
	if (hosted_preempt)
		panic("stw_begin on cpu %u with preemption disabled (count %d)", hosted_self->id, hosted_preempt);
	u64 wait0 = nanotime();
	hosted_preempt = 1;	// stw_end's preempt_enable ends it
	// Threads parked by the last stop run again first (for up to a ms):
	// in the kernel they go on the moment it ends, but here they need a
	// futex wake-up, and back-to-back stops would starve them.
	for (unsigned i = 0; i < hosted_ncpus; i++) {
		unsigned spins = 0;
		while (__atomic_load_n(&cpus[i].parked, __ATOMIC_RELAXED) && nanotime() - wait0 < 1000000)
			relax(&spins);
	}
	stw_defer();
	for (;;) {
		int zero = 0;
		if (__atomic_compare_exchange_n(&hosted_stw_flag, &zero, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			break;
		park(me, hosted_self);	// another stopper's world: we are part of it
	}
	u64 t0 = nanotime();	// our stop starts here, as the kernel's does
	for (unsigned i = 0; i < hosted_ncpus; i++)
		if (&cpus[i] != hosted_self)
			__atomic_fetch_or(&cpus[i].pending, HOSTED_WANT_STOP, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < hosted_ncpus; i++) {
		struct hosted_cpu *c = &cpus[i];
		if (c == hosted_self)
			continue;
		unsigned spins = 0;
		u64 signal_at = t0 + STW_SIGNAL_NS;
		// Acquire: the parked (or departed) holder's writes.
		while (__atomic_load_n(&c->running, __ATOMIC_SEQ_CST)) {
			u64 now = nanotime();
			if (now >= signal_at) {
				signal_holder(c);
				signal_at = now + 1000000;	// again each ms: a sanitizer may defer signals
			}
			if (now - t0 < STW_SPIN_NS) {
				relax(&spins);
				continue;
			}
			int seq = __atomic_load_n(&stw_seq, __ATOMIC_SEQ_CST);
			__atomic_store_n(&stw_sleeping, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&c->running, __ATOMIC_SEQ_CST))
				futex_wait(&stw_seq, seq, 1000000);	// (to signal again)
			__atomic_store_n(&stw_sleeping, 0, __ATOMIC_RELAXED);
		}
	}
	u64 ns = nanotime() - t0;
	stw_stats.count++;
	stw_stats.total_ns += ns;
	stw_stats.max_ns = MAX(stw_stats.max_ns, ns);
	return ns;
}

u64 stw_end(void)
{
	if (!__atomic_load_n(&hosted_stw_flag, __ATOMIC_RELAXED))
		panic("stw_end on cpu %u without stw_begin", this_cpu_id());
	for (unsigned i = 0; i < hosted_ncpus; i++)
		__atomic_fetch_and(&cpus[i].pending, ~HOSTED_WANT_STOP, __ATOMIC_RELAXED);
	// Release: the stopped world's writes before anyone runs again.
	__atomic_store_n(&hosted_stw_flag, 0, __ATOMIC_RELEASE);
	// The world runs again from here (kernel/smp.h): the wake-up may let
	// Linux run a woken thread in our place for a slice, and
	// preempt_enable may hand our slot to a waiting thread and wait for
	// one again; neither is part of the stop.
	u64 now = nanotime();
	futex_wake_all(&hosted_stw_flag);
	preempt_enable();
	return now;
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

// HOSTED_HEAP_GUARD (1 unless the build says 0): pages not committed are
// PROT_NONE, so a stray access to one faults, as in the kernel where they
// are not mapped. Each commit and release is then an mprotect, which
// takes the process's mmap lock for writing, against every page fault of
// the other threads: in binary-trees on 2 threads a quarter of the
// mutators' context switches were waits for that lock (`perf record -e
// sched:sched_switch`), with a core idle meanwhile. Go maps its arenas
// read-write once too. The benchmarks (-O2) build without the guard; the
// sanitizer builds that run the tests keep it.
bool plat_heap_commit(u64 va, u64 len)
{
	check_heap_range("plat_heap_commit", va, len);
	u64 now = __atomic_add_fetch(&heap_committed, len, __ATOMIC_RELAXED);
	u64 limit = __atomic_load_n(&frame_limit, __ATOMIC_RELAXED);
	// Never-touched and MADV_DONTNEED pages of a private anonymous mapping
	// read as zero: what the heap expects of committed memory.
	if ((limit && now > limit) ||
	    (HOSTED_HEAP_GUARD && mprotect((void *)va, len, PROT_READ | PROT_WRITE) != 0)) {
		__atomic_sub_fetch(&heap_committed, len, __ATOMIC_RELAXED);
		return false;
	}
	__atomic_fetch_add(&pages_by_tag[FT_HEAP], len / PAGE_SIZE, __ATOMIC_RELAXED);
	return true;
}

static void release_range(u64 va, u64 len)
{
	if (madvise((void *)va, len, MADV_DONTNEED) != 0 ||
	    (HOSTED_HEAP_GUARD && mprotect((void *)va, len, PROT_NONE) != 0))
		panic("plat_heap_release(%#lx, %#lx): madvise/mprotect failed", va, len);
}

// plat_heap_release: outside a region the calls are made off the slot,
// as a thread blocked in a system call (Go's entersyscall): a
// MADV_DONTNEED waits for the other cores' TLB flushes and took up to
// 2.3 ms here, and a stop of the world waited for the scavenger that
// long (churn 64 B on 2 threads). The range is the caller's alone (a
// BUSY span), so nothing else needs the slot held meanwhile.
void plat_heap_release(u64 va, u64 len)
{
	check_heap_range("plat_heap_release", va, len);
	struct thread *t = self_thread;
	if (t && hosted_self && hosted_preempt == 0) {
		u64 r[2] = {va, len};
		thread_block(t, BLOCK_RELEASE, (u64)r);
	} else {
		release_range(va, len);
	}
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

// ---- benchmark output

void hosted_print_bench_header(void)
{
	char cpu[128] = "unknown", line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			const char *v = strchr(line, ':') + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(cpu, sizeof(cpu), "%s", v);
			cpu[strcspn(cpu, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	printf("goos: linux\ngoarch: amd64\npkg: tricolor/hosted\ncpu: %s\n", cpu);
}
