// I/O APIC driver: indirect register access, redirection table entries,
// ISA IRQ to GSI translation with polarity and trigger mode.

#include "drivers/ioapic.h"
#include "kernel/printf.h"
#include "kernel/spinlock.h"
#include "mm/mm.h"

#define MAX_IOAPICS 8
#define REG_VER 0x01
#define REG_REDTBL 0x10		// entry n: low word 0x10+2n, high 0x11+2n
#define RTE_MASKED (1u << 16)
#define RTE_LEVEL (1u << 15)
#define RTE_ACTIVE_LOW (1u << 13)

struct ioapic {
	volatile u32 *regs;	// IOREGSEL at [0], IOWIN at [4]
	u32 id, gsi_base, ninputs;
};

// Guards the IOREGSEL/IOWIN pairs (a select then a data access) and the
// tables below, which only change during boot.
static struct spinlock ioapic_lock = SPINLOCK_INIT("ioapic");
static struct ioapic ioapics[MAX_IOAPICS];
static unsigned nioapics;

// ISA IRQ -> GSI and flags; identity, edge, active high unless overridden.
static struct {
	u32 gsi;
	u16 flags;
} isa[16];
static bool isa_ready;

static u32 rd(struct ioapic *a, u32 reg)
{
	a->regs[0] = reg;
	return a->regs[4];
}

static void wr(struct ioapic *a, u32 reg, u32 v)
{
	a->regs[0] = reg;
	a->regs[4] = v;
}

static void isa_defaults(void)
{
	if (isa_ready)
		return;
	for (u32 i = 0; i < 16; i++)
		isa[i].gsi = i, isa[i].flags = 0;
	isa_ready = true;
}

unsigned ioapic_count(void) { return nioapics; }

bool ioapic_add(u32 id, u64 phys, u32 gsi_base)
{
	isa_defaults();
	if (nioapics == MAX_IOAPICS) {
		pr_warn("ioapic: more than %d IOAPICs; id %u at %#lx ignored", MAX_IOAPICS, id, phys);
		return false;
	}
	volatile u32 *regs = vm_map_phys(phys, 0x20, VM_READ | VM_WRITE | VM_NOCACHE);
	if (!regs) {
		pr_warn("ioapic: cannot map id %u at %#lx", id, phys);
		return false;
	}
	struct ioapic *a = &ioapics[nioapics];
	*a = (struct ioapic){regs, id, gsi_base, 0};
	bool f = spin_lock_irqsave(&ioapic_lock);
	a->ninputs = ((rd(a, REG_VER) >> 16) & 0xff) + 1;
	for (u32 i = 0; i < a->ninputs; i++) {
		wr(a, REG_REDTBL + 2 * i, RTE_MASKED);
		wr(a, REG_REDTBL + 2 * i + 1, 0);
	}
	nioapics++;
	spin_unlock_irqrestore(&ioapic_lock, f);
	pr_info("ioapic: id %u at %#lx, GSIs %u..%u", id, phys, gsi_base, gsi_base + a->ninputs - 1);
	return true;
}

void ioapic_override(u8 bus_irq, u32 gsi, u16 flags)
{
	isa_defaults();
	if (bus_irq < 16)
		isa[bus_irq].gsi = gsi, isa[bus_irq].flags = flags;
}

// find: the IOAPIC and input carrying ISA IRQ irq; NULL if none.
static struct ioapic *find(u8 irq, u32 *pin)
{
	if (irq >= 16)
		return NULL;
	isa_defaults();
	u32 gsi = isa[irq].gsi;
	for (unsigned i = 0; i < nioapics; i++) {
		struct ioapic *a = &ioapics[i];
		if (gsi >= a->gsi_base && gsi < a->gsi_base + a->ninputs) {
			*pin = gsi - a->gsi_base;
			return a;
		}
	}
	return NULL;
}

bool ioapic_route_isa(u8 irq, u8 vector, u32 dest)
{
	u32 pin;
	struct ioapic *a = find(irq, &pin);
	if (!a)
		return false;
	// MPS INTI flags: polarity bits 0-1 (3 = active low), trigger bits
	// 2-3 (3 = level); 0 means the ISA default, edge and active high.
	u16 fl = isa[irq].flags;
	u32 lo = vector | RTE_MASKED;
	if ((fl & 3) == 3)
		lo |= RTE_ACTIVE_LOW;
	if (((fl >> 2) & 3) == 3)
		lo |= RTE_LEVEL;
	bool f = spin_lock_irqsave(&ioapic_lock);
	wr(a, REG_REDTBL + 2 * pin + 1, dest << 24);	// physical destination mode
	wr(a, REG_REDTBL + 2 * pin, lo);
	spin_unlock_irqrestore(&ioapic_lock, f);
	return true;
}

static void set_mask(u8 irq, bool masked)
{
	u32 pin;
	struct ioapic *a = find(irq, &pin);
	if (!a)
		return;
	bool f = spin_lock_irqsave(&ioapic_lock);
	u32 lo = rd(a, REG_REDTBL + 2 * pin);
	wr(a, REG_REDTBL + 2 * pin, masked ? lo | RTE_MASKED : lo & ~RTE_MASKED);
	spin_unlock_irqrestore(&ioapic_lock, f);
}

void ioapic_unmask_isa(u8 irq) { set_mask(irq, false); }
void ioapic_mask_isa(u8 irq) { set_mask(irq, true); }
