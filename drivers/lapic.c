// Local APIC driver: register access in both modes, IPIs and the timer.

#include "drivers/lapic.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "mm/mm.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_DEFAULT_PHYS 0xfee00000ull

// Register offsets (xAPIC MMIO; x2APIC MSR = 0x800 + offset / 16).
#define REG_ID 0x20
#define REG_TPR 0x80
#define REG_EOI 0xb0
#define REG_SVR 0xf0
#define REG_ESR 0x280
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310
#define REG_LVT_TIMER 0x320
#define REG_LVT_LINT0 0x350
#define REG_LVT_LINT1 0x360
#define REG_LVT_ERROR 0x370
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR 0x390
#define REG_TIMER_DIV 0x3e0

#define SVR_ENABLE 0x100
#define LVT_MASKED 0x10000
#define LVT_PERIODIC 0x20000
#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_ASSERT 0x4000
#define ICR_PENDING 0x1000
#define ICR_ALL_BUT_SELF 0xc0000
#define TIMER_DIV_16 0x3

static volatile u32 *mmio;	// xAPIC registers; NULL in x2APIC mode
static bool x2;
static u64 timer_hz;

static u32 rd(u32 reg)
{
	return x2 ? (u32)rdmsr(0x800 + (reg >> 4)) : mmio[reg / 4];
}

static void wr(u32 reg, u32 v)
{
	if (x2)
		wrmsr(0x800 + (reg >> 4), v);
	else
		mmio[reg / 4] = v;
}

bool lapic_x2apic(void) { return x2; }

void lapic_init(u64 phys)
{
	x2 = boot_cpu.x2apic;
	if (!x2) {
		if (!phys)
			phys = APIC_DEFAULT_PHYS;
		mmio = vm_map_phys(phys, PAGE_SIZE, VM_READ | VM_WRITE | VM_NOCACHE);
		if (!mmio)
			panic("lapic: cannot map the local APIC at %#lx", phys);
	}
	pr_info("lapic: %s mode%s", x2 ? "x2APIC" : "xAPIC", x2 ? "" : " (MMIO)");
}

void lapic_init_cpu(void)
{
	u64 base = rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE;
	// x2APIC is entered from xAPIC mode by setting both enable bits.
	wrmsr(MSR_APIC_BASE, x2 ? base | APIC_BASE_X2APIC : base);
	wr(REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
	wr(REG_LVT_LINT0, LVT_MASKED);
	wr(REG_LVT_LINT1, LVT_MASKED);
	wr(REG_LVT_ERROR, LVT_MASKED);
	wr(REG_LVT_TIMER, LVT_MASKED);
	wr(REG_ESR, 0);
	wr(REG_ESR, 0);			// the ESR latches on write: clear twice
	wr(REG_TPR, 0);			// accept every priority
	wr(REG_EOI, 0);			// drop anything left in service
}

u32 lapic_id(void)
{
	u32 id = rd(REG_ID);
	return x2 ? id : id >> 24;
}

void lapic_eoi(void) { wr(REG_EOI, 0); }

static void send(u32 apic, u32 lo)
{
	// The ICR is two registers in xAPIC mode: an interrupt handler that
	// sent an IPI between our two writes would send ours to its target.
	bool f = irq_save();
	if (x2) {
		wrmsr(0x800 + (REG_ICR_LO >> 4), ((u64)apic << 32) | lo);
	} else {
		wr(REG_ICR_HI, apic << 24);
		wr(REG_ICR_LO, lo);
		while (rd(REG_ICR_LO) & ICR_PENDING)
			cpu_relax();
	}
	irq_restore(f);
}

void lapic_send_ipi(u32 apic, u8 vector) { send(apic, ICR_ASSERT | vector); }
void lapic_send_ipi_all_but_self(u8 vector) { send(0, ICR_ALL_BUT_SELF | ICR_ASSERT | vector); }
void lapic_send_init(u32 apic) { send(apic, ICR_ASSERT | ICR_INIT); }
void lapic_send_sipi(u32 apic, u8 page) { send(apic, ICR_STARTUP | page); }

u64 lapic_timer_hz(void) { return timer_hz; }

#define CAL_NS 10000000ull	// one calibration window: 10 ms
#define CAL_ROUNDS 3

void lapic_timer_calibrate(void)
{
	u64 rate[CAL_ROUNDS];
	wr(REG_TIMER_DIV, TIMER_DIV_16);
	for (int r = 0; r < CAL_ROUNDS; r++) {
		wr(REG_LVT_TIMER, LVT_MASKED);	// one-shot, no interrupt
		wr(REG_TIMER_INIT, 0xffffffff);
		u64 t0 = nanotime();
		while (nanotime() - t0 < CAL_NS)
			cpu_relax();
		u32 left = rd(REG_TIMER_CUR);
		u64 t1 = nanotime();
		rate[r] = (u64)(0xffffffffu - left) * 1000000000ull / (t1 - t0);
	}
	wr(REG_TIMER_INIT, 0);
	for (int i = 1; i < CAL_ROUNDS; i++)	// median of three
		for (int j = i; j > 0 && rate[j] < rate[j - 1]; j--) {
			u64 x = rate[j];
			rate[j] = rate[j - 1];
			rate[j - 1] = x;
		}
	timer_hz = rate[CAL_ROUNDS / 2];
	if (timer_hz < 1000)
		panic("lapic: timer runs at %lu Hz against the TSC; cannot tick", timer_hz);
	pr_info("lapic: timer %lu.%03lu MHz after divide-by-16 (median of %d TSC windows of %llu ms)",
		timer_hz / 1000000, timer_hz / 1000 % 1000, CAL_ROUNDS, CAL_NS / 1000000);
}

void lapic_timer_start(u32 hz)
{
	wr(REG_TIMER_DIV, TIMER_DIV_16);
	wr(REG_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
	wr(REG_TIMER_INIT, (u32)(timer_hz / hz));
}
