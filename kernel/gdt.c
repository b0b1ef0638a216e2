// Each CPU's GDT and TSS (in its struct cpu). The TSS exists for its
// interrupt stack table: a double fault (e.g. a kernel stack overflow)
// switches to a known-good stack so it can still be reported.

#include "kernel/percpu.h"
#include "kernel/string.h"
#include "kernel/trap.h"

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_TSS 0x18

void gdt_init_cpu(struct cpu *c, u64 df_stack_top)
{
	u64 *gdt = c->gdt;
	struct tss *tss = &c->tss;
	gdt[0] = 0;
	gdt[1] = 0x00209A0000000000;	// 64-bit code, present, DPL 0
	gdt[2] = 0x0000920000000000;	// data, present, writable
	memset(tss, 0, sizeof(*tss));
	tss->ist[0] = df_stack_top;	// IST1
	tss->iomap_base = sizeof(*tss);
	u64 base = (u64)tss, limit = sizeof(*tss) - 1;
	// 16-byte system descriptor: type 9 (available 64-bit TSS), present.
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;

	struct {
		u16 limit;
		u64 base;
	} __packed gdtr = {sizeof(c->gdt) - 1, (u64)gdt};
	__asm__ volatile("lgdt %0" ::"m"(gdtr));
	// Reload CS with a far return, then the data segments and the TSS.
	// Loading GS with a selector would clear the GS base, so GS is left
	// alone (percpu_set_gs writes the base MSR after this).
	__asm__ volatile("pushq %0\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w1, %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 "ltr %w2"
			 :
			 : "i"(SEL_KCODE), "r"(SEL_KDATA), "r"(SEL_TSS)
			 : "rax", "memory");
}

// The boot CPU's double-fault stack: static, because gdt_init_boot runs
// before the memory manager.
static u8 boot_df_stack[16384] __attribute__((aligned(16)));

void gdt_init_boot(void)
{
	gdt_init_cpu(&cpus[0], (u64)(boot_df_stack + sizeof(boot_df_stack)));
}
