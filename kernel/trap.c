// Exception and interrupt dispatch. Exceptions are reported (vector, error
// code decoded, RIP and symbol, CR2, RSP, registers, CPU, backtrace) and
// are fatal unless trap_catch_hook claims them; IRQs go to the handler
// registered for their line.

#include "kernel/trap.h"
#include "drivers/lapic.h"
#include "drivers/pic.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/ksyms.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/thread.h"
#include "kernel/x86.h"
#include "mm/mm.h"

struct idt_entry {
	u16 off_lo;
	u16 sel;
	u8 ist;
	u8 type;
	u16 off_mid;
	u32 off_hi;
	u32 reserved;
} __packed;

static struct idt_entry idt[256];
extern const char trap_stubs[];		// 256 stubs, 16 bytes each (trapasm.S)

// Handlers by vector (32..255); set during boot, read by every CPU.
static irq_handler_t handlers[256];
void (*trap_catch_hook)(struct trapframe *tf, u64 cr2);

static const char *const exception_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range exceeded",
	"invalid opcode", "device not available", "double fault", "coprocessor segment overrun",
	"invalid TSS", "segment not present", "stack-segment fault", "general protection fault",
	"page fault", "reserved (15)", "x87 floating-point error", "alignment check",
	"machine check", "SIMD floating-point error", "virtualization exception",
	"control protection exception", "reserved (22)", "reserved (23)", "reserved (24)",
	"reserved (25)", "reserved (26)", "reserved (27)", "hypervisor injection",
	"VMM communication", "security exception", "reserved (31)",
};

const char *trap_name(u64 vector)
{
	if (vector < 32)
		return exception_names[vector];
	if (vector >= IRQ_BASE && vector < IRQ_BASE + 16)
		return "ISA IRQ";
	switch (vector) {
	case VEC_TIMER: return "timer";
	case VEC_IPI_RESCHED: return "reschedule IPI";
	case VEC_IPI_TLB: return "TLB shootdown IPI";
	case VEC_IPI_STW: return "stop-the-world IPI";
	case VEC_IPI_CALL: return "call IPI";
	case VEC_SPURIOUS: return "spurious";
	}
	return "interrupt";
}

static void load_idt(void *base, u16 limit)
{
	struct {
		u16 limit;
		u64 base;
	} __packed idtr = {limit, (u64)base};
	__asm__ volatile("lidt %0" ::"m"(idtr));
}

void idt_init(void)
{
	for (int i = 0; i < 256; i++) {
		u64 a = (u64)(trap_stubs + 16 * i);
		idt[i] = (struct idt_entry){
			.off_lo = a & 0xffff,
			.sel = 0x08,
			.ist = i == T_DOUBLE_FAULT ? 1 : 0,
			.type = 0x8e,	// present, DPL 0, 64-bit interrupt gate (IF cleared)
			.off_mid = (a >> 16) & 0xffff,
			.off_hi = a >> 32,
		};
	}
	idt_load();
}

void idt_load(void)
{
	load_idt(idt, sizeof(idt) - 1);
}

void intr_register(unsigned vector, irq_handler_t h)
{
	if (vector < 32 || vector > 255 || vector == VEC_SPURIOUS)
		panic("intr_register: vector %u is not an interrupt vector", vector);
	handlers[vector] = h;
}

void irq_register(unsigned irq, irq_handler_t h)
{
	intr_register(IRQ_BASE + irq, h);
}

static bool canonical(u64 a)
{
	return (u64)((i64)(a << 16) >> 16) == a;
}

int trap_describe(const struct trapframe *tf, u64 cr2, char *buf, size_t size)
{
	char sym[96];
	ksym_format(sym, sizeof(sym), tf->rip);
	int n = ksnprintf(buf, size, "%s (vector %lu) error 0x%lx on cpu %u thread %s\n  rip %p %s  rsp %p\n",
			  trap_name(tf->vector), tf->vector, tf->error, this_cpu_id(), current_thread_name(),
			  (void *)tf->rip,
			  sym, (void *)tf->rsp);
	size_t used = (size_t)n < size ? (size_t)n : size;
	if (tf->vector == T_PAGE_FAULT) {
		u64 e = tf->error;
		const char *kind = !canonical(cr2)		  ? "non-canonical address"
				   : (e & PF_RSVD)		  ? "reserved bit set in page table"
				   : (e & PF_FETCH) && (e & PF_PRESENT) ? "instruction fetch from NX page"
				   : (e & PF_WRITE) && (e & PF_PRESENT) ? "write to read-only page"
				   : (e & PF_PRESENT)		  ? "protection violation"
							  : "not-present page";
		n += ksnprintf(buf + used, size - used, "  cr2 %p: %s %s, %s mode\n", (void *)cr2,
			       (e & PF_FETCH) ? "fetch" : (e & PF_WRITE) ? "write" : "read", kind,
			       (e & PF_USER) ? "user" : "kernel");
	} else if (tf->vector == T_DOUBLE_FAULT) {
		// A fault while delivering a page fault: CR2 holds the address
		// of the push that failed when a stack ran into its guard.
		n += ksnprintf(buf + used, size - used, "  cr2 %p\n", (void *)cr2);
	}
	const char *owner = NULL;
	if (tf->vector == T_PAGE_FAULT || tf->vector == T_DOUBLE_FAULT)
		owner = stack_guard_owner(cr2);
	if (owner) {
		used = (size_t)n < size ? (size_t)n : size;
		n += ksnprintf(buf + used, size - used, "  stack overflow: %p is the guard page of %s's stack\n",
			       (void *)cr2, owner);
	}
	return n;
}

static void print_registers_locked(const struct trapframe *tf)
{
	kprintf_locked("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
	kprintf_locked("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", tf->rsi, tf->rdi, tf->rbp, tf->rsp);
	kprintf_locked("  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", tf->r8, tf->r9, tf->r10, tf->r11);
	kprintf_locked("  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", tf->r12, tf->r13, tf->r14, tf->r15);
	kprintf_locked("  rflags %016lx cs %04lx ss %04lx cr0 %08lx cr3 %08lx cr4 %08lx\n", tf->rflags,
		       tf->cs, tf->ss, read_cr0(), read_cr3(), read_cr4());
}

static void __noreturn fatal_exception(struct trapframe *tf, u64 cr2)
{
	char report[512];
	console_panic_mode();
	trap_describe(tf, cr2, report, sizeof(report));
	bool f = console_lock();
	kprintf_locked("trap: %s", report);
	print_registers_locked(tf);
	console_unlock(f);
	const char *owner = tf->vector == T_PAGE_FAULT || tf->vector == T_DOUBLE_FAULT
				    ? stack_guard_owner(cr2) : NULL;
	if (owner)
		panic_at(tf->rip, tf->rbp, "stack overflow in %s's stack at %p (rip %p)", owner, (void *)cr2,
			 (void *)tf->rip);
	if (tf->vector == T_PAGE_FAULT)
		panic_at(tf->rip, tf->rbp, "unhandled %s at %p (rip %p)", trap_name(tf->vector), (void *)cr2,
			 (void *)tf->rip);
	panic_at(tf->rip, tf->rbp, "unhandled %s (rip %p)", trap_name(tf->vector), (void *)tf->rip);
}

void trap(struct trapframe *tf)
{
	if (tf->vector < 32) {
		// Read CR2 first: a fault while reporting would overwrite it.
		u64 cr2 = tf->vector == T_PAGE_FAULT || tf->vector == T_DOUBLE_FAULT ? read_cr2() : 0;
		if (trap_catch_hook)
			trap_catch_hook(tf, cr2);
		fatal_exception(tf, cr2);
	}
	if (tf->vector == VEC_SPURIOUS)
		return;		// the LAPIC wants no EOI for it
	irq_handler_t h = handlers[tf->vector];
	struct cpu *c = this_cpu();
	c->irq_depth++;
	if (h)
		h(tf);
	else
		pr_warn("trap: unexpected interrupt vector %lu on cpu %u (rip %p)", tf->vector, this_cpu_id(),
			(void *)tf->rip);
	c->irq_depth--;
	lapic_eoi();
	sched_irq_exit(tf);	// may switch threads; returns when this one runs again
}

void trap_triple_fault(void)
{
	cli();
	load_idt(NULL, 0);
	// With no IDT, the breakpoint cannot be delivered (#GP), nor can that
	// (#DF), and the CPU shuts down: QEMU with -no-reboot exits status 0.
	__asm__ volatile("int3");
	for (;;)
		hlt();
}
