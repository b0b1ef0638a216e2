// Thread switch. struct thread *swtch(struct thread *prev, struct thread *next):
// pushes the callee-saved registers on prev's stack, stores the stack
// pointer in prev->rsp (offset 0), loads next->rsp, pops next's registers
// and returns on next's stack, handing back prev (the thread that
// switched to next) in rax. The caller-saved registers need no saving:
// swtch is an ordinary call for the compiler.

	.text
	.globl swtch
swtch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq (%rsi), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	movq %rdi, %rax
	ret
