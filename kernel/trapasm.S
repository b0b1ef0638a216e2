// Interrupt entry stubs: 256 of them, 16 bytes apart starting at
// trap_stubs, each pushing a dummy error code where the CPU pushes none and
// the vector number, then the common path saves the general registers into
// a struct trapframe (trap.h) and calls trap(tf).

	.text
	.balign 16
	.globl trap_stubs
trap_stubs:
	.set vecnum, 0
	.rept 256
	.balign 16
	// Vectors where the CPU pushes an error code itself.
	.if (vecnum == 8) || (vecnum >= 10 && vecnum <= 14) || (vecnum == 17) || (vecnum == 21) || (vecnum == 29) || (vecnum == 30)
	.else
	pushq $0
	.endif
	pushq $vecnum
	jmp alltraps
	.set vecnum, vecnum + 1
	.endr

alltraps:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	// Link the frame into the rbp chain so backtraces pass through traps:
	// a fake frame {saved rbp, rip of the interrupted code}.
	mov %rsp, %rdi
	pushq 16*8+8(%rsp)		// interrupted rip (tf->rip)
	pushq 8*8+8(%rsp)		// interrupted rbp (tf->rbp), one push later
	mov %rsp, %rbp
	call trap
	add $16, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp			// vector and error code
	iretq
