// Kernel threads and the scheduler: per-CPU run queues, preemption on the
// timer tick, idle threads that halt, work stealing, wait queues, sleep.
//
// States (thread.h): RUNNABLE (on a run queue) -> RUNNING (on a CPU) ->
// RUNNABLE (preempted, yielded) or BLOCKED (wait queue, sleep) or ZOMBIE
// (exited). Only two transitions race: a thread going to sleep (RUNNING
// -> BLOCKED, by itself) and a waker (BLOCKED -> RUNNABLE). Both are
// compare-and-swaps on t->state, so a wakeup that lands before the
// sleeper has switched out is never lost: schedule() sees the thread
// RUNNABLE again and the waker has already queued it. Whoever dequeues a
// thread waits for its on_cpu flag to drop before running it, because
// the CPU it is leaving may still be saving its registers.
//
// Placement: a new thread is queued on its pinned CPU or the creating
// CPU; a woken thread on the CPU it last ran on. A CPU whose queue is
// empty steals one unpinned thread from another CPU's queue before going
// idle, and an idle CPU looks for work on every tick, so runnable threads
// spread over the CPUs.
//
// Lock order: a wait queue's lock (the caller's), then run queue locks;
// thread_list_lock and join locks are taken alone. Run queue locks are
// never nested: stealing uses a trylock while holding none.

#include "kernel/thread.h"
#include "drivers/lapic.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/smp.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "mm/fixalloc.h"
#include "tests/kernel/ktest.h"

static const char *const state_names[TS_NSTATES] = {"runnable", "running", "blocked", "zombie"};

const char *thread_state_name(enum thread_state s)
{
	return (unsigned)s < TS_NSTATES ? state_names[s] : "?";
}

// Every thread that is not yet freed, for introspection and the collector.
static struct spinlock thread_list_lock = SPINLOCK_INIT("thread list");
static struct list all_threads = LIST_INIT(all_threads);
static u32 nthreads;

// Detached threads that exited: freed by the next thread_create or join
// (their stacks cannot be unmapped from the scheduler, which runs with
// interrupts off, since unmapping needs a TLB shootdown).
static struct spinlock reap_lock = SPINLOCK_INIT("reap list");
static struct list reap_list = LIST_INIT(reap_list);

static struct fixalloc thread_alloc;
static u32 next_tid;
static struct thread main_thread;	// kmain's context; never freed

// swtch (kernel/switch.S): saves the callee-saved registers on prev's
// stack and prev->rsp, loads next's, and returns (on next's stack) the
// thread that switched to next.
struct thread *swtch(struct thread *prev, struct thread *next);
extern const char thread_trampoline[];

static bool cas_state(struct thread *t, int from, int to)
{
	// Acq_rel: the winner of a wake/sleep race sees the other's writes to
	// the thread (wait queue link, sleep deadline).
	return __atomic_compare_exchange_n(&t->state, &from, to, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

struct thread *thread_current(void) { return current_thread(); }

const char *current_thread_name(void)
{
	struct thread *t = current_thread();
	return t ? t->name : "boot";
}

// ---- run queues

static void rq_push(struct cpu *c, struct thread *t, bool front)
{
	spin_lock_irqs_off(&c->rq.lock);
	t->cpu = (int)c->id;
	if (front)
		list_push_front(&c->rq.threads, &t->rq_link);
	else
		list_push_back(&c->rq.threads, &t->rq_link);
	// Both counts are read without the lock as hints (idle checks).
	__atomic_store_n(&c->rq.nr, c->rq.nr + 1, __ATOMIC_RELAXED);
	if (t->pinned == THREAD_ANY_CPU)
		__atomic_store_n(&c->rq.nr_unpinned, c->rq.nr_unpinned + 1, __ATOMIC_RELAXED);
	spin_unlock_irqs_off(&c->rq.lock);
}

static struct thread *rq_pop(struct cpu *c, bool steal)
{
	struct thread *t = NULL;
	spin_lock_irqs_off(&c->rq.lock);
	list_for_each(e, &c->rq.threads) {
		struct thread *x = list_entry(e, struct thread, rq_link);
		if (!steal || x->pinned == THREAD_ANY_CPU) {
			t = x;
			break;
		}
	}
	if (t) {
		list_remove(&t->rq_link);
		__atomic_store_n(&c->rq.nr, c->rq.nr - 1, __ATOMIC_RELAXED);
		if (t->pinned == THREAD_ANY_CPU)
			__atomic_store_n(&c->rq.nr_unpinned, c->rq.nr_unpinned - 1, __ATOMIC_RELAXED);
	}
	spin_unlock_irqs_off(&c->rq.lock);
	return t;
}

// enqueue: t (woken, now RUNNABLE) goes on CPU `cpu`'s queue; that CPU
// is prodded if it is idle, or whatever it runs if t is urgent (then t
// is queued first). Interrupts off.
static void enqueue(struct thread *t, unsigned cpu)
{
	struct cpu *c = &cpus[cpu];
	bool urgent = __atomic_load_n(&t->urgent, __ATOMIC_RELAXED);
	rq_push(c, t, urgent);
	struct cpu *me = this_cpu();
	bool idle = __atomic_load_n(&c->current, __ATOMIC_RELAXED) == c->idle;
	if (!idle && !urgent)
		return;
	if (c == me) {
		pending_set(me, PENDING_RESCHED);
	} else {
		// The flag first: a busy CPU sees it at its next preempt_enable,
		// sooner than the IPI lands under TCG.
		if (urgent)
			pending_set(c, PENDING_RESCHED);
		lapic_send_ipi(c->apic_id, VEC_IPI_RESCHED);
	}
}

static bool thread_wake(struct thread *t)
{
	if (!cas_state(t, TS_BLOCKED, TS_RUNNABLE))
		return false;
	bool f = irq_save();
	enqueue(t, t->pinned != THREAD_ANY_CPU ? (unsigned)t->pinned : (unsigned)t->cpu);
	irq_restore(f);
	return true;
}

// stealable: some other CPU has a queued thread this CPU could take.
static bool stealable(struct cpu *me)
{
	for (unsigned i = 0; i < ncpus_online; i++)
		if (&cpus[i] != me && __atomic_load_n(&cpus[i].rq.nr_unpinned, __ATOMIC_RELAXED) > 0)
			return true;
	return false;
}

static struct thread *pick_next(struct cpu *c)
{
	struct thread *t = c->rq.nr ? rq_pop(c, false) : NULL;
	for (unsigned i = 1; !t && i < ncpus_online; i++) {
		struct cpu *v = &cpus[(c->id + i) % ncpus_online];
		if (__atomic_load_n(&v->rq.nr_unpinned, __ATOMIC_RELAXED))
			t = rq_pop(v, true);
	}
	return t ? t : c->idle;
}

// finish_switch: runs on the new thread's stack right after a switch.
static void finish_switch(struct thread *prev)
{
	// Release: everything this CPU did on prev's stack (the saved
	// registers) is visible before another CPU may run prev.
	__atomic_store_n(&prev->on_cpu, 0, __ATOMIC_RELEASE);
}

// schedule: picks the next thread for this CPU and switches to it. The
// caller has interrupts off and holds no lock (preemption count 0). A
// RUNNING caller stays runnable (yield/preemption); a BLOCKED or ZOMBIE
// one does not come back until woken (never, for a zombie).
void schedule(void)
{
	struct cpu *c = this_cpu();
	struct thread *prev = c->current;
	if (preempt_count() != 0)
		panic("schedule: thread %s on cpu %u with preemption disabled (count %d)", prev->name,
		      c->id, preempt_count());
	if (irqs_enabled())
		panic("schedule: thread %s on cpu %u with interrupts on", prev->name, c->id);
	if (pending_of(c) & PENDING_STW)
		stw_park();	// no lock held here: a safe point
	pending_clear(c, PENDING_RESCHED);

	if (!prev->is_idle && cas_state(prev, TS_RUNNING, TS_RUNNABLE))
		rq_push(c, prev, false);
	struct thread *next = pick_next(c);
	if (next == prev) {
		prev->state = TS_RUNNING;
		c->slice_end = c->ticks + SCHED_SLICE_TICKS;
		return;
	}
	// Take next's on_cpu flag, as the collector does to scan a stack: the
	// CPU it left may still be saving its registers, or the collector may
	// hold it. Acquire pairs with finish_switch's and thread_unhold's
	// releases.
	while (!thread_try_hold(next))
		cpu_relax();
	next->state = TS_RUNNING;
	next->cpu = (int)c->id;
	next->switches_in++;
	u64 now = nanotime();
	prev->cpu_ns += now - prev->run_start_ns;
	next->run_start_ns = now;
	c->current = next;
	c->switches++;
	c->slice_end = c->ticks + SCHED_SLICE_TICKS;
	finish_switch(swtch(prev, next));
}

void preempt_pending_work(void)
{
	if (!irqs_enabled())
		return;		// inside an interrupts-off region: its end or the next interrupt will do it
	cli();
	struct cpu *c = this_cpu();
	if (pending_of(c) & PENDING_STW)
		stw_park();
	if (pending_of(c) & PENDING_RESCHED)
		schedule();
	sti();
}

void *preempt_pending_work_ret(void *p)
{
	preempt_pending_work();
	return p;
}

void sched_irq_exit(const struct trapframe *tf)
{
	struct cpu *c = this_cpu();
	if (!pending_of(c) || preempt_count() != 0 || !(tf->rflags & RFLAGS_IF))
		return;
	stw_idle_exit();	// woken from the idle halt: no longer stopped, before it schedules
	if (pending_of(c) & PENDING_STW)
		stw_park();
	if (pending_of(c) & PENDING_RESCHED)
		schedule();	// returns when this thread runs again
}

// ---- the tick

void sched_tick(const struct trapframe *tf)
{
	struct cpu *c = this_cpu();
	c->ticks++;
	u64 now = nanotime();
	while (!list_empty(&c->sleepers)) {
		struct thread *t = list_entry(c->sleepers.next, struct thread, sleep_link);
		if (t->wake_at_ns > now)
			break;
		list_remove(&t->sleep_link);
		thread_wake(t);
	}
	if (c->current->is_idle) {
		if (c->rq.nr || stealable(c))
			pending_set(c, PENDING_RESCHED);
	} else if (c->ticks >= c->slice_end && c->rq.nr) {
		pending_set(c, PENDING_RESCHED);
	}
	ktest_tick(tf);
}

// ---- idle

static void __noreturn idle_loop(void)
{
	for (;;) {
		cli();
		struct cpu *c = this_cpu();
		// In this loop, halted or not, the CPU runs nothing a stop of
		// the world must wait for: it counts as stopped (stw_idle) until
		// it leaves to run a thread, and parks then if a stop is on. A
		// stop need not wait for its IPI, which under TCG has landed
		// 25-60 us after it was sent to a CPU just switched here from a
		// thread that blocked.
		if (!stw_idle_enter()) {
			sti();
			continue;	// it parked for one instead
		}
		// Woken by an interrupt that left nothing to run (a tick), it
		// halts again still counted as stopped. It used to leave and
		// re-enter the count each time: a stop that began in between
		// waited for the CPU to come round (40-90 us under TCG, its
		// host thread just woken by the tick; stwtrace showed these
		// waits in idle_loop). An interrupt whose exit ran a thread
		// (sched_irq_exit) has ended the count: round again.
		// sti takes effect after the next instruction, so no interrupt
		// can slip in between the check and the halt.
		while (!pending_of(c) && !c->rq.nr && !stealable(c) && __atomic_load_n(&c->stw_idle, __ATOMIC_RELAXED)) {
			__asm__ volatile("sti; hlt" ::: "memory");
			cli();
		}
		if (__atomic_load_n(&c->stw_idle, __ATOMIC_RELAXED)) {
			stw_idle_exit();	// (parks first if a stop is on)
			schedule();
		}
		sti();
	}
}

// ---- thread life cycle

// Called from thread_trampoline below (the compiler cannot see that).
__used void __noreturn thread_start_c(struct thread *prev);
void thread_start_c(struct thread *prev)
{
	finish_switch(prev);
	sti();
	struct thread *t = current_thread();
	t->fn(t->arg);
	thread_exit();
}

// The first code a new thread runs, reached by swtch's ret. swtch leaves
// the previous thread in rax.
__asm__(".text\n"
	".globl thread_trampoline\n"
	"thread_trampoline:\n\t"
	"movq %rax, %rdi\n\t"
	"xorl %ebp, %ebp\n\t"		// ends backtraces here
	"call thread_start_c\n\t"
	"ud2\n");

static void free_thread(struct thread *t)
{
	bool f = spin_lock_irqsave(&thread_list_lock);
	list_remove(&t->all_link);
	nthreads--;
	spin_unlock_irqrestore(&thread_list_lock, f);
	// Wait until its CPU is off its stack (it may still be switching away)
	// and no collector holds it: one can only take hold of a listed thread.
	while (__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE))
		cpu_relax();
	stack_free(&t->stack);
	fixalloc_free(&thread_alloc, t);
}

static void reap_detached(void)
{
	for (;;) {
		bool f = spin_lock_irqsave(&reap_lock);
		struct thread *t = NULL;
		if (!list_empty(&reap_list)) {
			t = list_entry(reap_list.next, struct thread, wq_link);
			list_remove(&t->wq_link);
		}
		spin_unlock_irqrestore(&reap_lock, f);
		if (!t)
			return;
		free_thread(t);
	}
}

static struct thread *new_thread(const char *name, void (*fn)(void *), void *arg, int cpu, unsigned pages,
				 bool detached)
{
	if (cpu != THREAD_ANY_CPU && (cpu < 0 || (unsigned)cpu >= ncpus_online)) {
		pr_warn("thread_create(%s): cpu %d is not online (%u CPUs)", name, cpu, ncpus_online);
		return NULL;
	}
	struct thread *t = fixalloc_alloc(&thread_alloc);
	if (!t)
		return NULL;
	if (stack_alloc(&t->stack, pages, name) < 0) {
		fixalloc_free(&thread_alloc, t);
		return NULL;
	}
	strlcpy(t->name, name, sizeof(t->name));
	t->tid = __atomic_add_fetch(&next_tid, 1, __ATOMIC_RELAXED);
	t->pinned = cpu;
	t->cpu = cpu != THREAD_ANY_CPU ? cpu : 0;
	t->detached = detached;
	t->fn = fn;
	t->arg = arg;
	t->state = TS_BLOCKED;		// made runnable by the caller
	list_init(&t->rq_link);
	list_init(&t->wq_link);
	list_init(&t->sleep_link);
	spin_init(&t->join_lock, "thread join");
	waitq_init(&t->joiners);

	// The first switch to t pops six callee-saved registers (zero) and
	// returns into thread_trampoline with rsp 16-byte aligned for its call.
	u64 *sp = (u64 *)t->stack.top;
	*--sp = 0;
	*--sp = 0;
	*--sp = (u64)thread_trampoline;
	for (int i = 0; i < 6; i++)
		*--sp = 0;
	t->rsp = (u64)sp;

	bool f = spin_lock_irqsave(&thread_list_lock);
	list_push_back(&all_threads, &t->all_link);
	nthreads++;
	spin_unlock_irqrestore(&thread_list_lock, f);
	return t;
}

struct thread *thread_create_stack(const char *name, void (*fn)(void *), void *arg, int cpu,
				   unsigned pages, bool detached)
{
	reap_detached();
	struct thread *t = new_thread(name, fn, arg, cpu, pages, detached);
	if (!t)
		return NULL;
	bool f = irq_save();
	t->cpu = cpu != THREAD_ANY_CPU ? cpu : (int)this_cpu_id();
	thread_wake(t);
	irq_restore(f);
	return t;
}

struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int cpu)
{
	return thread_create_stack(name, fn, arg, cpu, THREAD_STACK_PAGES, false);
}

struct thread *thread_create_detached(const char *name, void (*fn)(void *), void *arg, int cpu)
{
	return thread_create_stack(name, fn, arg, cpu, THREAD_STACK_PAGES, true);
}

void thread_exit(void)
{
	struct thread *t = current_thread();
	if (t == &main_thread || t->is_idle)
		panic("thread_exit: %s cannot exit", t->name);
	cli();
	spin_lock_irqs_off(&t->join_lock);
	t->exited = true;
	t->state = TS_ZOMBIE;
	waitq_wake_all(&t->joiners);
	spin_unlock_irqs_off(&t->join_lock);
	if (t->detached) {
		spin_lock_irqs_off(&reap_lock);
		list_push_back(&reap_list, &t->wq_link);
		spin_unlock_irqs_off(&reap_lock);
	}
	schedule();
	panic("thread_exit: zombie %s was scheduled again", t->name);
}

void thread_join(struct thread *t)
{
	if (t->detached || t == current_thread())
		panic("thread_join(%s): %s", t->name, t->detached ? "thread is detached" : "joining itself");
	bool f = spin_lock_irqsave(&t->join_lock);
	while (!t->exited)
		waitq_wait(&t->joiners, &t->join_lock);
	spin_unlock_irqrestore(&t->join_lock, f);
	free_thread(t);
	reap_detached();
}

void thread_yield(void)
{
	bool f = irq_save();
	schedule();
	irq_restore(f);
}

void thread_sleep(u64 ns)
{
	u64 deadline = nanotime() + ns;
	while (nanotime() < deadline) {
		bool f = irq_save();
		struct cpu *c = this_cpu();
		struct thread *t = c->current;
		t->wake_at_ns = deadline;
		// Sorted insert into this CPU's sleepers (interrupts off: only
		// this CPU's tick reads the list).
		struct list *pos = &c->sleepers;
		list_for_each(e, &c->sleepers)
			if (list_entry(e, struct thread, sleep_link)->wake_at_ns > deadline) {
				pos = e;
				break;
			}
		list_insert_between(&t->sleep_link, pos->prev, pos);
		t->state = TS_BLOCKED;
		schedule();
		irq_restore(f);
	}
}

// ---- wait queues

void waitq_init(struct waitq *wq) { list_init(&wq->waiters); }

void waitq_wait(struct waitq *wq, struct spinlock *lk)
{
	struct thread *t = current_thread();
	if (irqs_enabled() || !spin_held_by_me(lk))
		panic("waitq_wait: thread %s on cpu %u must hold %s with interrupts off", t->name,
		      this_cpu_id(), lk->name);
	list_push_back(&wq->waiters, &t->wq_link);
	t->state = TS_BLOCKED;
	spin_unlock_irqs_off(lk);	// interrupts stay off until we are switched out
	schedule();
	spin_lock_irqs_off(lk);
}

static int wake(struct waitq *wq, int max)
{
	int n = 0;
	while (n < max && !list_empty(&wq->waiters)) {
		struct thread *t = list_entry(wq->waiters.next, struct thread, wq_link);
		list_remove(&t->wq_link);
		if (thread_wake(t))
			n++;
	}
	return n;
}

int waitq_wake_one(struct waitq *wq) { return wake(wq, 1); }
int waitq_wake_all(struct waitq *wq) { return wake(wq, 1 << 30); }

// ---- boot

void sched_init(void)
{
	extern char boot_stack[], boot_stack_top[];
	fixalloc_init(&thread_alloc, "threads", sizeof(struct thread), FT_META);
	for (unsigned i = 0; i < MAX_CPUS; i++) {
		spin_init(&cpus[i].rq.lock, "run queue");
		list_init(&cpus[i].rq.threads);
		list_init(&cpus[i].sleepers);
	}
	struct thread *t = &main_thread;
	strlcpy(t->name, "main", sizeof(t->name));
	t->tid = __atomic_add_fetch(&next_tid, 1, __ATOMIC_RELAXED);
	// The boot stack has no guard page; kmain's thread keeps it.
	t->stack = (struct kstack){(u64)boot_stack, (u64)boot_stack_top, -1};
	t->pinned = 0;
	t->state = TS_RUNNING;
	t->on_cpu = 1;
	t->run_start_ns = nanotime();
	list_init(&t->rq_link);
	list_init(&t->wq_link);
	list_init(&t->sleep_link);
	spin_init(&t->join_lock, "thread join");
	waitq_init(&t->joiners);
	list_push_back(&all_threads, &t->all_link);
	nthreads++;
	cpus[0].current = t;
	sched_create_idle(0);
}

static void idle_entry(void *arg)
{
	(void)arg;
	idle_loop();
}

void sched_create_idle(unsigned cpu)
{
	char name[THREAD_NAME_MAX];
	ksnprintf(name, sizeof(name), "idle/%u", cpu);
	struct thread *t = new_thread(name, idle_entry, NULL, THREAD_ANY_CPU, THREAD_STACK_PAGES, false);
	if (!t)
		panic("sched: no memory for cpu %u's idle thread", cpu);
	t->is_idle = true;
	t->pinned = (int)cpu;
	t->cpu = (int)cpu;
	t->state = TS_RUNNING;	// never on a run queue; picked when nothing else is
	cpus[cpu].idle = t;
}

void sched_start_ap(void)
{
	// The AP's bring-up code ran on its idle thread's stack, so from here
	// on it simply is that thread.
	struct cpu *c = this_cpu();
	struct thread *t = c->idle;
	t->on_cpu = 1;
	t->run_start_ns = nanotime();
	c->current = t;
	idle_loop();
}

// ---- introspection

void thread_stack_bounds(struct thread *t, u64 *lo, u64 *hi)
{
	u64 sp;
	__asm__ volatile("movq %%rsp, %0" : "=r"(sp));
	*lo = t == current_thread() ? sp : t->rsp;
	*hi = t->stack.top;
}

void thread_for_each(void (*fn)(struct thread *t, void *arg), void *arg)
{
	bool f = spin_lock_irqsave(&thread_list_lock);
	list_for_each(e, &all_threads) {
		struct thread *t = list_entry(e, struct thread, all_link);
		if (!t->exited)
			fn(t, arg);
	}
	spin_unlock_irqrestore(&thread_list_lock, f);
}

bool thread_try_hold(struct thread *t)
{
	int zero = 0;	// (schedule takes the flag the same way)
	return __atomic_compare_exchange_n(&t->on_cpu, &zero, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void thread_unhold(struct thread *t)
{
	__atomic_store_n(&t->on_cpu, 0, __ATOMIC_RELEASE);
}

u32 sched_runnable(unsigned cpu) { return __atomic_load_n(&cpus[cpu].rq.nr, __ATOMIC_RELAXED); }

u32 thread_count(void) { return __atomic_load_n(&nthreads, __ATOMIC_RELAXED); }

int thread_describe(struct thread *t, char *buf, size_t size)
{
	u64 ns = t->cpu_ns;
	// Idle threads stay "running" in state (they are never queued); what
	// a CPU runs right now is its current thread. Racy: a snapshot.
	bool on_cpu = t->cpu >= 0 && __atomic_load_n(&cpus[t->cpu].current, __ATOMIC_RELAXED) == t;
	const char *state = t->is_idle && !on_cpu ? "idle" : thread_state_name((enum thread_state)t->state);
	if (on_cpu)
		ns += nanotime() - t->run_start_ns;
	char pin[8] = "-";
	if (t->pinned != THREAD_ANY_CPU)
		ksnprintf(pin, sizeof(pin), "%d", t->pinned);
	return ksnprintf(buf, size, "%5u %-24s %-9s cpu %-3d pin %-3s %5lu.%03lu ms %lu switches", t->tid,
			 t->name, state, t->cpu, pin, ns / 1000000,
			 ns / 1000 % 1000, t->switches_in);
}

static void print_thread(struct thread *t, void *arg)
{
	(void)arg;
	char line[128];
	thread_describe(t, line, sizeof(line));
	kprintf("  %s\n", line);
}

void sched_print(void)
{
	kprintf("cpus: %u online\n", ncpus_online);
	for (unsigned i = 0; i < ncpus_online; i++) {
		struct cpu *c = &cpus[i];
		struct thread *cur = __atomic_load_n(&c->current, __ATOMIC_RELAXED);
		kprintf("  cpu %-3u apic %-3u running %-24s queued %-4u ticks %-8lu switches %lu\n", i,
			c->apic_id, cur ? cur->name : "-", c->rq.nr, c->ticks, c->switches);
	}
	kprintf("threads: %u\n", thread_count());
	thread_for_each(print_thread, NULL);
}
