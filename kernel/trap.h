// Traps and interrupts: the IDT, the saved register frame, exception
// reports, and IRQ handler registration.
#pragma once

#include "kernel/types.h"

// Saved by trapasm.S in this order (lowest address first).
struct trapframe {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	// Pushed by the CPU.
	u64 rip, cs, rflags, rsp, ss;
};

#define T_DIVIDE 0
#define T_DEBUG 1
#define T_NMI 2
#define T_BREAKPOINT 3
#define T_INVALID_OPCODE 6
#define T_DOUBLE_FAULT 8
#define T_GP 13
#define T_PAGE_FAULT 14

// Page-fault error code bits.
#define PF_PRESENT 0x01		// protection violation (else not-present)
#define PF_WRITE 0x02
#define PF_USER 0x04
#define PF_RSVD 0x08
#define PF_FETCH 0x10

struct cpu;
void gdt_init_boot(void);	// boot CPU's GDT + TSS with a double-fault stack
void gdt_init_cpu(struct cpu *c, u64 df_stack_top);
void idt_init(void);		// all 256 vectors -> trap(); loads it on this CPU
void idt_load(void);		// loads the (shared) IDT on this CPU
void trap(struct trapframe *tf);
const char *trap_name(u64 vector);

// trap_describe: the first lines of an exception report (name, vector,
// error code with its meaning, RIP with symbol, CR2 for page faults, RSP,
// CPU) into buf. Returns the length it wanted, like ksnprintf.
int trap_describe(const struct trapframe *tf, u64 cr2, char *buf, size_t size);

// Interrupt handlers run with interrupts off and must not block, take a
// lock that is held with interrupts on, or allocate frames.
typedef void (*irq_handler_t)(struct trapframe *tf);
void irq_register(unsigned irq, irq_handler_t h);	// ISA IRQ (vector IRQ_BASE + irq)
void intr_register(unsigned vector, irq_handler_t h);	// any vector 32..254

// A hook that may claim an exception before it is treated as fatal (the
// test runner uses it to catch faults it provoked on purpose). It returns
// only if it does not claim the trap.
extern void (*trap_catch_hook)(struct trapframe *tf, u64 cr2);

// trap_load_null_idt: loads an empty IDT, so the next exception triple
// faults. Only for testing the harness's triple-fault report.
void __noreturn trap_triple_fault(void);
