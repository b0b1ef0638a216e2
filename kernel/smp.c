// Multiprocessor support: AP bring-up through a real-mode trampoline,
// IPIs (reschedule, TLB shootdown, cross-CPU call, stop-the-world).
//
// Bring-up: the boot CPU copies boot/trampoline.S to TRAMPOLINE_PA (below
// 1 MiB, where a SIPI can start a CPU) with a small page table of its own
// there: the first 2 MiB identity-mapped, so the trampoline keeps running
// when paging comes on, and the kernel's upper half. It then starts the
// APs one at a time with INIT-SIPI-SIPI, handing each its idle thread's
// stack and struct cpu. The AP switches to the kernel's page table, loads
// its own GDT/TSS, the IDT and GS, enables its LAPIC and timer, says it is
// online and becomes its idle thread.
//
// Waiting for other CPUs: any wait on another CPU's IPI handler (TLB
// shootdown, smp_call, stop-the-world) is done with interrupts on, so two
// CPUs waiting on each other both still answer. CPUs parked by a
// stop-the-world answer TLB shootdowns from their rendezvous loop.

#include "kernel/smp.h"
#include "drivers/acpi.h"
#include "drivers/lapic.h"
#include "kernel/bootinfo.h"
#include "kernel/cmdline.h"
#include "kernel/cpu.h"
#include "kernel/ksyms.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "mm/mm.h"

#define TRAMPOLINE_PA 0x8000ull		// code; SIPI vector 0x08
#define TRAMPOLINE_PML4 0x9000ull	// its page tables: PML4, PDPT, PD
#define TRAMPOLINE_PDPT 0xa000ull
#define TRAMPOLINE_PD 0xb000ull
#define TRAMPOLINE_END 0xc000ull
#define AP_START_TIMEOUT_NS 5000000000ull

extern const char trampoline_start[], trampoline_end[];
extern const char trampoline_pml4[], trampoline_stack[], trampoline_cpu[], trampoline_entry[];

// ---- busy flags: one owner at a time for a shared slot, waited for with
// interrupts on (the owner may be waiting for this CPU's IPI handler)

static bool flag_try(int *busy)
{
	int zero = 0;
	// Acquire: the slot's contents are read after the flag is ours.
	return __atomic_compare_exchange_n(busy, &zero, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void flag_take(int *busy)
{
	while (!flag_try(busy))
		cpu_relax();
}

static void flag_drop(int *busy)
{
	__atomic_store_n(busy, 0, __ATOMIC_RELEASE);	// the slot's writes, then free
}

// ---- cross-CPU calls

// One call slot per target CPU; a caller holds the slot's lock (a flag
// taken with cmpxchg, waited for with interrupts on) until its call is done.
static struct call_slot {
	int busy;
	void (*fn)(void *);
	void *arg;
	int done;
} __attribute__((aligned(64))) call_slots[MAX_CPUS];

static void call_ipi(struct trapframe *tf)
{
	(void)tf;
	struct call_slot *s = &call_slots[this_cpu_id()];
	// Acquire pairs with the caller's release of fn/arg (via the IPI).
	void (*fn)(void *) = __atomic_load_n(&s->fn, __ATOMIC_ACQUIRE);
	if (!fn)
		return;
	s->fn = NULL;
	fn(s->arg);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);	// fn's effects, then done
}

void smp_call(unsigned cpu, void (*fn)(void *), void *arg)
{
	if (cpu >= ncpus_online)
		panic("smp_call(cpu %u, %p): only %u CPUs online", cpu, fn, ncpus_online);
	preempt_disable();
	if (cpu == this_cpu_id()) {
		bool f = irq_save();
		fn(arg);
		irq_restore(f);
		preempt_enable();
		return;
	}
	if (!irqs_enabled())
		panic("smp_call(cpu %u, %p) from cpu %u with interrupts off", cpu, fn, this_cpu_id());
	struct call_slot *s = &call_slots[cpu];
	flag_take(&s->busy);
	s->arg = arg;
	s->done = 0;
	__atomic_store_n(&s->fn, fn, __ATOMIC_RELEASE);
	lapic_send_ipi(cpus[cpu].apic_id, VEC_IPI_CALL);
	while (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
		cpu_relax();
	flag_drop(&s->busy);
	preempt_enable();
}

// ---- TLB shootdown

static struct {
	int busy;		// one shootdown at a time; taken with cmpxchg
	u64 va, len;
	u64 pending;		// CPUs that have not flushed yet (bit per CPU)
} shootdown;

static void flush_range(u64 va, u64 len)
{
	if (len == 0 || len > 64 * PAGE_SIZE) {
		tlb_flush_all();
		return;
	}
	for (u64 a = va & ~(PAGE_SIZE - 1); a < va + len; a += PAGE_SIZE)
		tlb_flush_page(a);
}

// Flushes for a pending shootdown if this CPU is in it. Interrupts off.
static void shootdown_service(void)
{
	u64 bit = 1ull << this_cpu_id();
	// Acquire pairs with the release that published va/len.
	if (!(__atomic_load_n(&shootdown.pending, __ATOMIC_ACQUIRE) & bit))
		return;
	flush_range(shootdown.va, shootdown.len);
	__atomic_fetch_and(&shootdown.pending, ~bit, __ATOMIC_RELEASE);	// flush done, then clear
}

static void tlb_ipi(struct trapframe *tf)
{
	(void)tf;
	shootdown_service();
}

void tlb_shootdown(u64 va, u64 len)
{
	if (ncpus_online < 2)
		return;
	if (!irqs_enabled())
		panic("tlb_shootdown(%#lx, %#lx) on cpu %u with interrupts off: the other CPUs' "
		      "acknowledgements could never arrive", va, len, this_cpu_id());
	preempt_disable();
	flag_take(&shootdown.busy);	// interrupts on: the holder's IPI to us is answered
	shootdown.va = va;
	shootdown.len = len;
	u64 all = ncpus_online == 64 ? ~0ull : (1ull << ncpus_online) - 1;
	__atomic_store_n(&shootdown.pending, all & ~(1ull << this_cpu_id()), __ATOMIC_RELEASE);
	lapic_send_ipi_all_but_self(VEC_IPI_TLB);
	while (__atomic_load_n(&shootdown.pending, __ATOMIC_ACQUIRE))
		cpu_relax();
	flag_drop(&shootdown.busy);
	preempt_enable();
}

// ---- stop the world

static struct {
	int busy;		// held by the stopping CPU from stw_begin to stw_end
	u32 gen;		// odd while the world is stopped
	u32 parked;		// CPUs inside stw_park
	u64 t0;			// nanotime when the stop began (stwtrace), before gen goes odd
	struct stw_stats stats;	// written by the holder only
} stw;

// stwtrace=US: a stop that waited longer than that for the other CPUs
// says which CPU it waited for and where that CPU was: its stop IPI
// samples the interrupted code (the preempt-disabled region the CPU is
// in, as a backtrace), and its park says when it got out. Each CPU
// writes only its own probe; the stopper reads them once every CPU has
// parked (parking is a release, the count's load an acquire). Under TCG
// the IPI arrives 15-65 us late, so a region shorter than that may have
// ended first: then the sample shows what came after it.
#define STW_PROBE_PCS 6
struct stw_probe {
	u32 gen;		// the stop it is about
	u32 preempt;		// the interrupted code's preemption count
	u64 ipi_ns, park_ns;	// after stw.t0; 0: did not happen in this stop
	int npcs, npark;
	u64 pcs[STW_PROBE_PCS];	// the interrupted code, innermost first
	u64 park[STW_PROBE_PCS];	// where it parked (the end of its region)
};
static struct stw_probe stw_probes[MAX_CPUS];
static struct stw_probe stw_slow;	// the stopper's copy of the laggard's, printed by stw_end
static u64 stw_slow_ns;			// its stop's wait; 0: nothing to print
static u32 stw_slow_cpu;

static u64 stw_trace_ns(void) { return (u64)kconfig.stwtrace_us * 1000; }

// stw_probe_mark: this CPU got the IPI (tf set) or parked, during stop g.
static void stw_probe_mark(u32 g, const struct trapframe *tf)
{
	struct stw_probe *p = &stw_probes[this_cpu_id()];
	if (p->gen != g)
		*p = (struct stw_probe){.gen = g};
	u64 t = nanotime() - __atomic_load_n(&stw.t0, __ATOMIC_RELAXED);
	if (!tf) {
		p->park_ns = t;
		p->npark = backtrace_capture((u64)__builtin_frame_address(0), p->park, STW_PROBE_PCS);
		return;
	}
	p->ipi_ns = t;
	p->preempt = (u32)preempt_count();
	p->pcs[0] = tf->rip;
	p->npcs = 1 + backtrace_capture(tf->rbp, p->pcs + 1, STW_PROBE_PCS - 1);
}

// stw_trace_wait: after a wait of ns, keeps the laggard's probe for
// stw_end to print if the wait was over the threshold.
static void stw_trace_wait(u64 ns)
{
	u32 g = __atomic_load_n(&stw.gen, __ATOMIC_RELAXED);
	stw_slow_ns = 0;
	if (!stw_trace_ns() || ns <= stw_trace_ns())
		return;
	u64 latest = 0;
	for (unsigned i = 0; i < ncpus_online; i++) {
		const struct stw_probe *p = &stw_probes[i];
		if (i != this_cpu_id() && p->gen == g && p->park_ns >= latest) {
			latest = p->park_ns;
			stw_slow = *p;
			stw_slow_cpu = i;
			stw_slow_ns = ns;
		}
	}
}

// format_pcs: "f+0x1 < g+0x2 < ..." into buf.
static void format_pcs(char *buf, size_t size, const u64 *pcs, int n)
{
	char *w = buf, *end = buf + size;
	*w = 0;
	for (int i = 0; i < n && end - w > 48; i++) {
		w += ksnprintf(w, (size_t)(end - w), "%s", i ? " < " : "");
		w += ksym_format(w, (size_t)(end - w), pcs[i]);
	}
}

static void stw_trace_print(void)
{
	if (!stw_slow_ns)
		return;
	const struct stw_probe *p = &stw_slow;
	char ipi[STW_PROBE_PCS * 48], park[STW_PROBE_PCS * 48];
	format_pcs(ipi, sizeof(ipi), p->pcs, p->npcs);
	format_pcs(park, sizeof(park), p->park, p->npark);
	if (p->ipi_ns)
		kprintf("stwtrace: stop %lu waited %lu us for cpu %u: its IPI came at %lu us in %s (preempt "
			"count %u); parked at %lu us in %s\n", stw.stats.count, stw_slow_ns / 1000, stw_slow_cpu,
			p->ipi_ns / 1000, ipi, p->preempt, p->park_ns / 1000, park);
	else
		kprintf("stwtrace: stop %lu waited %lu us for cpu %u: parked at %lu us in %s, before its IPI "
			"came\n", stw.stats.count, stw_slow_ns / 1000, stw_slow_cpu, p->park_ns / 1000, park);
	stw_slow_ns = 0;
}

void stw_park(void)
{
	struct cpu *c = this_cpu();
	pending_clear(c, PENDING_STW);
	u32 g = __atomic_load_n(&stw.gen, __ATOMIC_ACQUIRE);
	if (!(g & 1))
		return;		// nothing to park for
	// For the collector, which scans stacks while the world is stopped:
	// the callee-saved registers go into this frame and the thread's
	// saved stack pointer covers them, as if it had switched out here.
	// (Reached from an interrupt, the trap frame below holds the rest.)
	__builtin_unwind_init();
	if (c->current) {
		u64 sp;
		__asm__ volatile("movq %%rsp, %0" : "=r"(sp));
		c->current->rsp = sp;
	}
	if (stw_trace_ns())
		stw_probe_mark(g, NULL);
	__atomic_fetch_add(&stw.parked, 1, __ATOMIC_ACQ_REL);
	// Acquire: the stopping CPU's writes during the stop are visible once
	// the generation moves on.
	while (__atomic_load_n(&stw.gen, __ATOMIC_ACQUIRE) == g) {
		shootdown_service();
		cpu_relax();
	}
	__atomic_fetch_sub(&stw.parked, 1, __ATOMIC_RELEASE);
}

// The idle side and the stopper each store, then load what the other
// stores, both sequentially consistent (a locked instruction on x86): so
// either the stopper sees the CPU's flag and counts it as stopped, or
// the CPU sees the odd generation and parks instead of halting (or, on
// waking, before it runs anything).
bool stw_idle_enter(void)
{
	__atomic_store_n(&this_cpu()->stw_idle, 1, __ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(&stw.gen, __ATOMIC_SEQ_CST) & 1))
		return true;
	stw_idle_exit();	// a stop is on: park for it instead
	return false;
}

void stw_idle_exit(void)
{
	struct cpu *c = this_cpu();
	if (!__atomic_load_n(&c->stw_idle, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&c->stw_idle, 0, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&stw.gen, __ATOMIC_SEQ_CST) & 1)
		stw_park();
}

// stw_stopped: CPUs parked or halted idle. parked is read first: a CPU
// goes from halted to parked (flag cleared, then parked raised), never
// back while the world is stopped, so it is never counted twice.
static u32 stw_stopped(void)
{
	u32 n = __atomic_load_n(&stw.parked, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < ncpus_online; i++)
		n += i != this_cpu_id() && __atomic_load_n(&cpus[i].stw_idle, __ATOMIC_SEQ_CST);
	return n;
}

static void stw_ipi(struct trapframe *tf)
{
	// (A CPU that went idle since the IPI was sent counts as stopped and
	// the stopper may be reading probes already: it records nothing.)
	u32 g = __atomic_load_n(&stw.gen, __ATOMIC_ACQUIRE);
	if (stw_trace_ns() && (g & 1) && !__atomic_load_n(&this_cpu()->stw_idle, __ATOMIC_RELAXED))
		stw_probe_mark(g, tf);
	// Parking happens on the way out of the interrupt (sched_irq_exit)
	// if the interrupted code is preemptible, else at its preempt_enable.
	pending_set(this_cpu(), PENDING_STW);
}

u64 stw_begin(void)
{
	if (!irqs_enabled() || preempt_count() != 0)
		panic("stw_begin on cpu %u with %s", this_cpu_id(),
		      irqs_enabled() ? "preemption disabled or a lock held" : "interrupts off");
	// Take the stop-the-world lock with interrupts off only for the
	// attempt: between attempts this CPU must stay parkable by a winner.
	// Park here when a winner has stopped the world: its IPI may have
	// come and gone while this CPU could not park, and the emulator
	// (TCG checks for interrupts only between translated blocks) may never
	// deliver one inside this loop's one-instruction window.
	for (;;) {
		cli();
		if (flag_try(&stw.busy))
			break;
		if (__atomic_load_n(&stw.gen, __ATOMIC_ACQUIRE) & 1)
			stw_park();
		sti();
		cpu_relax();
	}
	preempt_disable();
	sti();
	u64 t0 = nanotime();
	__atomic_store_n(&stw.t0, t0, __ATOMIC_RELAXED);	// (ordered before the odd gen by its seq-cst add)
	__atomic_add_fetch(&stw.gen, 1, __ATOMIC_SEQ_CST);	// odd: stopped
	if (ncpus_online > 1) {
		// Halted idle CPUs are not woken: on a host, waking a halted
		// virtual CPU waits for its thread to be scheduled (up to
		// milliseconds measured under TCG), and they run nothing anyway.
		// The others get PENDING_STW set directly, seen at their next
		// preempt_enable (every allocation makes one), and the IPI for a
		// CPU that makes none: under TCG the IPI took 15-65 us to arrive
		// at a busy CPU, most of a stop (-smp 2, BinaryTrees).
		for (unsigned i = 0; i < ncpus_online; i++)
			if (i != this_cpu_id() && !__atomic_load_n(&cpus[i].stw_idle, __ATOMIC_SEQ_CST)) {
				pending_set(&cpus[i], PENDING_STW);	// (after the odd generation: see stw_park)
				lapic_send_ipi(cpus[i].apic_id, VEC_IPI_STW);
			}
		while (stw_stopped() != ncpus_online - 1)
			cpu_relax();	// interrupts on: TLB shootdowns of CPUs not yet parked are answered
	}
	u64 ns = nanotime() - t0;
	stw_trace_wait(ns);
	stw.stats.count++;
	stw.stats.last_ns = ns;
	stw.stats.total_ns += ns;
	if (ns > stw.stats.max_ns)
		stw.stats.max_ns = ns;
	return ns;
}

u64 stw_end(void)
{
	__atomic_add_fetch(&stw.gen, 1, __ATOMIC_RELEASE);	// even: release them
	// The world runs again from here. Neither the wait below (a parked
	// CPU's host thread may be slow to notice) nor preempt_enable, which
	// may switch to another thread for as long as the scheduler likes, is
	// part of the stop.
	u64 now = nanotime();
	while (__atomic_load_n(&stw.parked, __ATOMIC_ACQUIRE) != 0)
		cpu_relax();
	stw_trace_print();	// (the world runs: not part of the stop)
	flag_drop(&stw.busy);
	preempt_enable();
	return now;
}

void stw_get_stats(struct stw_stats *s)
{
	*s = stw.stats;
}

// ---- IPIs and the timer

static void resched_ipi(struct trapframe *tf)
{
	(void)tf;
	pending_set(this_cpu(), PENDING_RESCHED);
}

static void timer_irq(struct trapframe *tf)
{
	sched_tick(tf);
}

void smp_init_ipis(void)
{
	intr_register(VEC_TIMER, timer_irq);
	intr_register(VEC_IPI_RESCHED, resched_ipi);
	intr_register(VEC_IPI_TLB, tlb_ipi);
	intr_register(VEC_IPI_STW, stw_ipi);
	intr_register(VEC_IPI_CALL, call_ipi);
}

// ---- AP bring-up

// The AP's first C code, on its idle thread's stack, with the trampoline's
// page table, no GS and interrupts off.
void __noreturn ap_entry(struct cpu *c)
{
	vm_load_kernel_page_table();
	gdt_init_cpu(c, c->df_stack.top);
	percpu_set_gs(c);
	idt_load();
	lapic_init_cpu();
	lapic_timer_start(SCHED_HZ);
	// Release: this CPU's setup is done before the boot CPU sees it online.
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	sched_start_ap();
}

static void trampoline_set(const char *field, u64 v)
{
	*(u64 *)((char *)phys_to_virt(TRAMPOLINE_PA) + (field - trampoline_start)) = v;
}

// trampoline_install: copies the trampoline and builds its page tables.
// False if the pages below 1 MiB it needs are not usable RAM.
static bool trampoline_install(void)
{
	u64 size = (u64)(trampoline_end - trampoline_start);
	if (size > TRAMPOLINE_PML4 - TRAMPOLINE_PA)
		panic("smp: trampoline is %lu bytes, more than its page", size);
	bool usable = false;
	for (u32 i = 0; i < bootinfo.nmmap; i++) {
		const struct mem_range *r = &bootinfo.mmap[i];
		if (r->type == MEM_USABLE && r->base <= TRAMPOLINE_PA && r->base + r->len >= TRAMPOLINE_END)
			usable = true;
	}
	if (!usable) {
		pr_warn("smp: physical %#llx..%#llx is not usable RAM; no room for the AP trampoline",
			TRAMPOLINE_PA, TRAMPOLINE_END);
		return false;
	}
	memcpy(phys_to_virt(TRAMPOLINE_PA), trampoline_start, size);
	u64 *pml4 = phys_to_virt(TRAMPOLINE_PML4), *pdpt = phys_to_virt(TRAMPOLINE_PDPT),
	    *pd = phys_to_virt(TRAMPOLINE_PD);
	memset(pml4, 0, PAGE_SIZE);
	memset(pdpt, 0, PAGE_SIZE);
	memset(pd, 0, PAGE_SIZE);
	pd[0] = 0 | PTE_P | PTE_W | PTE_PS;	// 0..2 MiB identity, for the trampoline itself
	pdpt[0] = TRAMPOLINE_PD | PTE_P | PTE_W;
	pml4[0] = TRAMPOLINE_PDPT | PTE_P | PTE_W;
	trampoline_set(trampoline_pml4, TRAMPOLINE_PML4);
	trampoline_set(trampoline_entry, (u64)ap_entry);
	return true;
}

static bool start_ap(struct cpu *c)
{
	// Refresh the kernel half: stacks made since the last AP may sit
	// under a new top-level entry.
	vm_copy_kernel_half(phys_to_virt(TRAMPOLINE_PML4));
	trampoline_set(trampoline_stack, c->idle->stack.top);
	trampoline_set(trampoline_cpu, (u64)c);
	lapic_send_init(c->apic_id);
	udelay(10000);		// INIT, then 10 ms, then up to two SIPIs (the MP spec's sequence)
	for (int sipi = 0; sipi < 2; sipi++) {
		lapic_send_sipi(c->apic_id, TRAMPOLINE_PA >> 12);
		u64 t0 = nanotime();
		u64 wait = sipi == 0 ? 1000000 : AP_START_TIMEOUT_NS;	// 1 ms, then the long wait
		while (nanotime() - t0 < wait)
			if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
				return true;
	}
	return false;
}

void smp_init(void)
{
	struct cpu *bsp = this_cpu();
	bsp->apic_id = lapic_id();
	u32 present = madt.ncpus;
	unsigned n = 1;
	if (present > 1 && trampoline_install()) {
		for (u32 i = 0; i < present; i++) {
			u32 apic = madt.cpus[i].apic_id;
			if (apic == bsp->apic_id)
				continue;
			if (!madt.cpus[i].enabled) {
				pr_info("smp: cpu with apic id %u is online-capable only (not present); left offline",
					apic);
				continue;
			}
			if (n == MAX_CPUS) {
				pr_warn("smp: cpu with apic id %u left offline: the kernel supports %d CPUs",
					apic, MAX_CPUS);
				continue;
			}
			struct cpu *c = &cpus[n];
			c->id = n;
			c->apic_id = apic;
			char name[24];
			ksnprintf(name, sizeof(name), "cpu%u double fault", n);
			if (stack_alloc(&c->df_stack, 4, name) < 0) {
				pr_warn("smp: no memory for cpu %u's stacks; it stays offline", n);
				break;
			}
			sched_create_idle(n);
			if (!start_ap(c)) {
				// It may still wake up later and run the trampoline with
				// this struct cpu, so nothing is reused: bring-up stops.
				pr_warn("smp: cpu with apic id %u did not start within %llu ms; it and the "
					"remaining CPUs stay offline", apic, AP_START_TIMEOUT_NS / 1000000);
				break;
			}
			pr_info("cpu %u online (apic id %u)", n, apic);
			n++;
		}
	}
	// Publish the count: CPUs 0..n-1 are online from here on.
	__atomic_store_n(&ncpus_online, n, __ATOMIC_RELEASE);
	pr_info("smp: %u CPU%s online (%u usable in the MADT%s), %s", n, n == 1 ? "" : "s", present,
		madt.cpus_seen > present ? ", more present" : "", lapic_x2apic() ? "x2APIC" : "xAPIC");
}
