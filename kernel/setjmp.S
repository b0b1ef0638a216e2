// kset_jmp / klong_jmp: save and restore the callee-saved registers, the
// stack pointer and the return address (System V x86-64 ABI).

	.text
	.globl kset_jmp
kset_jmp:
	mov %rbx, 0(%rdi)
	mov %rbp, 8(%rdi)
	mov %r12, 16(%rdi)
	mov %r13, 24(%rdi)
	mov %r14, 32(%rdi)
	mov %r15, 40(%rdi)
	lea 8(%rsp), %rax		// the caller's rsp after we return
	mov %rax, 48(%rdi)
	mov (%rsp), %rax		// our return address
	mov %rax, 56(%rdi)
	xor %eax, %eax
	ret

	.globl klong_jmp
klong_jmp:
	mov %esi, %eax
	test %eax, %eax
	jnz 1f
	inc %eax			// kset_jmp must not appear to return 0
1:	mov 0(%rdi), %rbx
	mov 8(%rdi), %rbp
	mov 16(%rdi), %r12
	mov 24(%rdi), %r13
	mov 32(%rdi), %r14
	mov 40(%rdi), %r15
	mov 48(%rdi), %rsp
	jmp *56(%rdi)

// call_on_stack(top, fn, arg): calls fn(arg) with rsp = top, then returns
// on the caller's stack. Used to run code on a freshly made stack.
	.globl call_on_stack
call_on_stack:
	push %rbp
	mov %rsp, %rbp			// the caller's stack, callee-saved
	mov %rdi, %rsp
	mov %rsi, %rax
	mov %rdx, %rdi
	call *%rax
	mov %rbp, %rsp
	pop %rbp
	ret
