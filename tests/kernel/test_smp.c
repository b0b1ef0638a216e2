// SMP: every CPU QEMU was given is online, per-CPU data is distinct,
// spinlocks exclude under contention from all CPUs, cross-CPU calls land on
// their target, TLB shootdowns reach other CPUs, and stop-the-world really
// stops everyone.

#include "drivers/acpi.h"
#include "drivers/lapic.h"
#include "kernel/cpu.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/smp.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "mm/mm.h"
#include "tests/kernel/ktest.h"

#define MSR_GS_BASE 0xc0000101
#define WAIT_NS 20000000000ull		// generous: only a broken kernel waits this long

// wait_for: yields until *flag >= want or WAIT_NS pass; true if it got there.
static bool wait_for(volatile int *flag, int want)
{
	u64 deadline = nanotime() + WAIT_NS;
	while (*flag < want) {
		if (nanotime() > deadline)
			return false;
		thread_sleep(100000);
	}
	return true;
}

// One pinned thread per online CPU running fn(&args[cpu]); returns after
// all have finished. False if a thread could not be created.
static bool run_on_each_cpu(void (*fn)(void *), void *args, size_t argsize)
{
	struct thread *th[MAX_CPUS];
	unsigned n;
	for (n = 0; n < ncpus_online; n++) {
		th[n] = thread_create("test/each-cpu", fn, (char *)args + n * argsize, (int)n);
		if (!th[n])
			break;
	}
	for (unsigned i = 0; i < n; i++)
		thread_join(th[i]);
	return n == ncpus_online;
}

KTEST(smp, all_cpus_online)
{
	u32 want = 0;
	for (u32 i = 0; i < madt.ncpus; i++)
		want += madt.cpus[i].enabled;
	if (want == 0)
		want = 1;	// no usable MADT: the boot CPU alone
	if (want > MAX_CPUS)
		want = MAX_CPUS;
	KT_EXPECT_EQ(t, ncpus_online, want);
	for (unsigned i = 0; i < ncpus_online; i++) {
		struct cpu *c = &cpus[i];
		KT_EXPECT(t, c->online, "cpu %u is not marked online", i);
		KT_EXPECT_EQ(t, c->id, i);
		KT_EXPECT(t, c->idle && c->idle->is_idle, "cpu %u has no idle thread", i);
		for (unsigned j = 0; j < i; j++)
			KT_EXPECT(t, cpus[j].apic_id != c->apic_id, "cpus %u and %u share apic id %u", j, i,
				  c->apic_id);
	}
	for (unsigned i = ncpus_online; i < MAX_CPUS; i++)
		KT_EXPECT(t, !cpus[i].online, "cpu %u is online beyond the count %u", i, ncpus_online);
}

struct percpu_seen {
	struct cpu *self;
	unsigned id;
	u64 gs_base;
	u32 apic;
	struct thread *current;
	struct thread *expected;
};

static void record_percpu(void *arg)
{
	struct percpu_seen *s = arg;
	preempt_disable();	// pinned anyway; keeps the reads from one CPU
	s->self = this_cpu();
	s->id = this_cpu_id();
	s->gs_base = rdmsr(MSR_GS_BASE);
	s->apic = lapic_id();
	s->current = current_thread();
	preempt_enable();
}

KTEST(smp, percpu_data_is_distinct)
{
	static struct percpu_seen seen[MAX_CPUS];
	memset(seen, 0, sizeof(seen));
	KT_ASSERT(t, run_on_each_cpu(record_percpu, seen, sizeof(seen[0])), "thread_create failed");
	for (unsigned i = 0; i < ncpus_online; i++) {
		KT_EXPECT(t, seen[i].self == &cpus[i], "cpu %u: this_cpu() %p, want %p", i, seen[i].self,
			  &cpus[i]);
		KT_EXPECT_EQ(t, seen[i].id, i);
		KT_EXPECT_EQ(t, seen[i].gs_base, (u64)&cpus[i]);
		KT_EXPECT_EQ(t, seen[i].apic, cpus[i].apic_id);
		KT_EXPECT(t, seen[i].current != NULL && seen[i].current != current_thread(),
			  "cpu %u: current thread %p", i, seen[i].current);
		for (unsigned j = 0; j < i; j++)
			KT_EXPECT(t, seen[j].current != seen[i].current, "cpus %u and %u ran the same thread", j,
				  i);
	}
}

#define CONTENTION_ROUNDS 3000

static struct {
	struct spinlock lock;
	u64 counter;		// guarded by lock; deliberately not atomic
	int inside;		// threads inside the critical section; must stay 0 or 1
	int violations;
	int wrong_owner;
} contended = {.lock = SPINLOCK_INIT("test contended")};

static void contend(void *arg)
{
	(void)arg;
	for (int i = 0; i < CONTENTION_ROUNDS; i++) {
		bool f = spin_lock_irqsave(&contended.lock);
		if (++contended.inside != 1)
			contended.violations++;
		if (contended.lock.owner_cpu != (int)this_cpu_id())
			contended.wrong_owner++;
		contended.counter = contended.counter + 1;
		contended.inside--;
		spin_unlock_irqrestore(&contended.lock, f);
	}
}

KTEST_TIMEOUT(smp, spinlock_excludes_all_cpus, 60000)
{
	contended.counter = 0;
	contended.inside = contended.violations = contended.wrong_owner = 0;
	KT_ASSERT(t, run_on_each_cpu(contend, NULL, 0), "thread_create failed");
	KT_EXPECT_EQ(t, contended.counter, (u64)ncpus_online * CONTENTION_ROUNDS);
	KT_EXPECT_EQ(t, contended.violations, 0);
	KT_EXPECT_EQ(t, contended.wrong_owner, 0);
	KT_EXPECT_EQ(t, contended.lock.owner_cpu, -1);
}

KTEST(smp, spinlock_recursion_panics)
{
	static struct spinlock l = SPINLOCK_INIT("test recursion");
	bool f = spin_lock_irqsave(&l);
	if (KT_PANIC_TRY(t)) {
		bool g = spin_lock_irqsave(&l);
		kt_panic_disarm(t);
		spin_unlock_irqrestore(&l, g);
		spin_unlock_irqrestore(&l, f);
		KT_ASSERT(t, false, "taking a held lock again did not panic");
	}
	spin_unlock_irqrestore(&l, f);
	KT_EXPECT(t, strstr(t->panic_msg, "spinlock recursion") && strstr(t->panic_msg, "test recursion"),
		  "panic: %s", t->panic_msg);
	KT_EXPECT_EQ(t, preempt_count(), 0);
}

KTEST(smp, spinlock_lockup_panics_with_owner)
{
	// A lock that looks held by cpu 5 at a known site and is never released.
	static struct spinlock l = SPINLOCK_INIT("test stuck");
	static char site[1];
	l.next = 1;
	l.serving = 0;
	l.owner_cpu = 5;
	l.owner_pc = site;
	u64 saved = spin_lockup_ns;
	spin_lockup_ns = 50000000;	// 50 ms
	if (KT_PANIC_TRY(t)) {
		bool f = spin_lock_irqsave(&l);
		kt_panic_disarm(t);
		spin_unlock_irqrestore(&l, f);
		KT_ASSERT(t, false, "waiting for a stuck lock did not panic");
	}
	spin_lockup_ns = saved;
	l = (struct spinlock)SPINLOCK_INIT("test stuck");
	char want[64];
	ksnprintf(want, sizeof(want), "held by cpu 5 taken at %p", (void *)site);
	KT_EXPECT(t, strstr(t->panic_msg, "spinlock lockup") && strstr(t->panic_msg, "test stuck") &&
			     strstr(t->panic_msg, want),
		  "panic: %s", t->panic_msg);
	KT_EXPECT_EQ(t, preempt_count(), 0);
	KT_EXPECT(t, irqs_enabled(), "interrupts left off");
}

struct call_seen {
	unsigned cpu;
	bool irqs_on;
	int calls;
};

static void record_call(void *arg)
{
	struct call_seen *s = arg;
	s->cpu = this_cpu_id();
	s->irqs_on = irqs_enabled();
	s->calls++;
}

KTEST(smp, call_runs_on_target_cpu)
{
	for (unsigned i = 0; i < ncpus_online; i++) {
		struct call_seen s = {.cpu = ~0u};
		smp_call(i, record_call, &s);
		KT_EXPECT_EQ(t, s.cpu, i);
		KT_EXPECT_EQ(t, s.calls, 1);
		KT_EXPECT(t, !s.irqs_on, "call on cpu %u ran with interrupts on", i);
	}
}

// ---- TLB shootdown

#define SHOOT_VA (KVA_BASE + 0x5000000)

static struct {
	volatile int phase;	// the test thread moves it on
	volatile int ack;	// the probe answers
	u64 seen[2];
	bool faulted;
	struct kt_fault fault;
} shoot;

static void shoot_probe(void *arg)
{
	(void)arg;
	shoot.seen[0] = *(volatile u64 *)SHOOT_VA;	// now in this CPU's TLB
	shoot.ack = 1;
	while (shoot.phase < 1)
		cpu_relax();
	shoot.seen[1] = *(volatile u64 *)SHOOT_VA;	// remapped: must see the new frame
	shoot.ack = 2;
	while (shoot.phase < 2)
		cpu_relax();
	if (KT_FAULT_CATCH(&shoot.fault)) {
		(void)*(volatile u64 *)SHOOT_VA;	// unmapped: must fault
		kt_fault_disarm_on(&shoot.fault);
	} else {
		shoot.faulted = true;
	}
	shoot.ack = 3;
}

KTEST(smp, tlb_shootdown_reaches_other_cpu)
{
	if (ncpus_online < 2)
		kt_skip(t, "needs 2 CPUs");
	u64 *a = frame_alloc_zeroed(0, FT_TEST), *b = frame_alloc_zeroed(0, FT_TEST);
	KT_ASSERT(t, a && b, "out of frames");
	*a = 0xaaaa;
	*b = 0xbbbb;
	memset(&shoot, 0, sizeof(shoot));
	KT_ASSERT(t, vm_map(SHOOT_VA, virt_to_phys(a), PAGE_SIZE, VM_READ) == 0, "vm_map failed");
	struct thread *p = thread_create("test/tlb-probe", shoot_probe, NULL, (int)ncpus_online - 1);
	KT_ASSERT(t, p, "thread_create failed");
	bool ok = wait_for(&shoot.ack, 1);
	vm_unmap(SHOOT_VA, PAGE_SIZE);
	if (vm_map(SHOOT_VA, virt_to_phys(b), PAGE_SIZE, VM_READ) < 0)
		ok = false;
	shoot.phase = 1;
	ok = ok && wait_for(&shoot.ack, 2);
	vm_unmap(SHOOT_VA, PAGE_SIZE);
	shoot.phase = 2;
	ok = ok && wait_for(&shoot.ack, 3);
	KT_ASSERT(t, ok, "the probe thread on cpu %u did not answer (ack %d)", ncpus_online - 1, shoot.ack);
	thread_join(p);
	frame_free(a, 0);
	frame_free(b, 0);
	KT_EXPECT_EQ(t, shoot.seen[0], 0xaaaa);
	KT_EXPECT(t, shoot.seen[1] == 0xbbbb, "after remapping, cpu %u still read %#lx through a stale TLB entry",
		  ncpus_online - 1, shoot.seen[1]);
	KT_EXPECT(t, shoot.faulted, "cpu %u read the page after it was unmapped", ncpus_online - 1);
	KT_EXPECT_EQ(t, shoot.fault.vector, T_PAGE_FAULT);
	KT_EXPECT_EQ(t, shoot.fault.cr2, SHOOT_VA);
}

// ---- stop the world

// Rounds, each freezing every other CPU: up to 1000, and no more CPU
// freezes in all than 2000, since on an oversubscribed host a round waits
// until every vCPU thread has been scheduled (about 30 ms on -smp 8 with 2
// host cores, where 1000 rounds took 33 s of make test).
#define STW_ROUNDS_MAX 1000
#define STW_FREEZES 2000

static struct {
	volatile int stop;
	struct {
		volatile u64 n;
	} __attribute__((aligned(64))) count[MAX_CPUS];
} spin;

// Three kinds of loop, so every way a CPU can be running is stopped:
// preemptible, inside preemption-disabled regions, inside
// interrupts-disabled regions.
static void spin_count(void *arg)
{
	unsigned cpu = (unsigned)(u64)arg;
	volatile u64 *n = &spin.count[cpu].n;
	while (!spin.stop) {
		switch (cpu % 3) {
		case 0:
			(*n)++;
			break;
		case 1:
			preempt_disable();
			for (int i = 0; i < 50; i++)
				(*n)++;
			preempt_enable();
			break;
		default: {
			bool f = irq_save();
			for (int i = 0; i < 50; i++)
				(*n)++;
			irq_restore(f);
			break;
		}
		}
	}
}

KTEST_TIMEOUT(smp, stop_the_world_freezes_every_cpu, 240000)
{
	struct thread *th[MAX_CPUS];
	u64 start[MAX_CPUS], frozen[MAX_CPUS];
	unsigned n = 0;
	spin.stop = 0;
	for (unsigned c = 1; c < ncpus_online; c++, n++) {
		spin.count[c].n = 0;
		th[n] = thread_create("test/stw-spin", spin_count, (void *)(u64)c, (int)c);
		if (!th[n])
			break;
	}
	bool created = n == ncpus_online - 1;
	for (unsigned c = 1; c <= n; c++) {	// every spinner has started
		u64 deadline = nanotime() + WAIT_NS;
		while (spin.count[c].n == 0 && nanotime() < deadline)
			thread_sleep(100000);
		start[c] = spin.count[c].n;
	}
	struct stw_stats before, after;
	stw_get_stats(&before);
	int moved = 0, first_round = -1;
	unsigned first_cpu = 0;
	int rounds = (int)MIN(STW_ROUNDS_MAX, STW_FREEZES / MAX(n, 1u));
	for (int r = 0; r < rounds && created; r++) {
		stw_begin();
		for (unsigned c = 1; c <= n; c++)
			frozen[c] = spin.count[c].n;
		for (int i = 0; i < 500; i++)	// long enough for a running CPU to count
			cpu_relax();
		for (unsigned c = 1; c <= n; c++)
			if (spin.count[c].n != frozen[c]) {
				if (moved++ == 0)
					first_round = r, first_cpu = c;
			}
		stw_end();
	}
	stw_get_stats(&after);
	spin.stop = 1;
	for (unsigned i = 0; i < n; i++)
		thread_join(th[i]);
	KT_ASSERT(t, created, "thread_create failed");
	KT_EXPECT(t, moved == 0, "%d counters moved while the world was stopped (first: cpu %u in round %d)",
		  moved, first_cpu, first_round);
	KT_EXPECT_EQ(t, after.count - before.count, (u64)rounds);
	for (unsigned c = 1; c <= n; c++)
		KT_EXPECT(t, spin.count[c].n > start[c], "cpu %u's counter never moved between stops", c);
	if (!t->quiet)
		kprintf("    # smp.stop_the_world: %d rounds on %u CPUs, stw_begin max %lu us, mean %lu us\n",
			rounds, ncpus_online, after.max_ns / 1000,
			(after.total_ns - before.total_ns) / rounds / 1000);
}
