// The kernel's GDT and TSS. The TSS exists for its interrupt stack table:
// a double fault (e.g. a kernel stack overflow) switches to a known-good
// stack so it can still be reported. The SMP issue makes these per-CPU.

#include "kernel/trap.h"
#include "kernel/string.h"

struct tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_TSS 0x18

static u64 gdt[5];
static struct tss tss;
static u8 df_stack[16384] __attribute__((aligned(16)));

void gdt_init(void)
{
	gdt[0] = 0;
	gdt[1] = 0x00209A0000000000;	// 64-bit code, present, DPL 0
	gdt[2] = 0x0000920000000000;	// data, present, writable
	memset(&tss, 0, sizeof(tss));
	tss.ist[0] = (u64)(df_stack + sizeof(df_stack));	// IST1
	tss.iomap_base = sizeof(tss);
	u64 base = (u64)&tss, limit = sizeof(tss) - 1;
	// 16-byte system descriptor: type 9 (available 64-bit TSS), present.
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;

	struct {
		u16 limit;
		u64 base;
	} __packed gdtr = {sizeof(gdt) - 1, (u64)gdt};
	__asm__ volatile("lgdt %0" ::"m"(gdtr));
	// Reload CS with a far return, then the data segments and the TSS.
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
