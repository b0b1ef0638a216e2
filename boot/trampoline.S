// AP start-up trampoline. kernel/smp.c copies the bytes between
// trampoline_start and trampoline_end to physical 0x8000 and fills in the
// four quadwords at the end; a SIPI with vector 0x08 starts an AP here in
// real mode at 0x0800:0000. It goes to protected mode, then long mode on
// the trampoline's own page table (identity for this page, plus the
// kernel's upper half), and jumps to ap_entry(struct cpu *) on its stack.
// The code never runs where it is linked, so every address is computed
// for 0x8000 with REL().

#define TRAMPOLINE_PA 0x8000
#define REL(x) (TRAMPOLINE_PA + (x) - trampoline_start)

	.section .rodata
	.balign 16
	.globl trampoline_start, trampoline_end
	.globl trampoline_pml4, trampoline_stack, trampoline_cpu, trampoline_entry
trampoline_start:
	.code16
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl REL(tr_gdt_ptr)
	movl %cr0, %eax
	orl $1, %eax			// PE
	movl %eax, %cr0
	ljmpl $0x08, $REL(tr_pm32)

	.code32
tr_pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $(1 << 5), %eax		// PAE
	movl %eax, %cr4
	movl REL(trampoline_pml4), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		// EFER: long mode, and NX before any NX entry is used
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | (1 << 16)), %eax	// PG, WP
	movl %eax, %cr0
	ljmpl $0x18, $REL(tr_lm64)

	.code64
tr_lm64:
	movq REL(trampoline_stack), %rsp
	movq REL(trampoline_cpu), %rdi
	movq REL(trampoline_entry), %rax
	xorl %ebp, %ebp			// ends backtraces here
	pushq $0			// a return address slot: rsp as after a call
	jmpq *%rax

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	// 0x08: 32-bit code, flat
	.quad 0x00cf92000000ffff	// 0x10: data, flat
	.quad 0x00209a0000000000	// 0x18: 64-bit code
tr_gdt_ptr:
	.word tr_gdt_ptr - tr_gdt - 1
	.long REL(tr_gdt)

	.balign 8
trampoline_pml4:	.quad 0		// physical, below 4 GiB
trampoline_stack:	.quad 0		// the AP's idle thread stack top
trampoline_cpu:		.quad 0		// its struct cpu
trampoline_entry:	.quad 0		// ap_entry
trampoline_end:
