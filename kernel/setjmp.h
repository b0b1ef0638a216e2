// Non-local jumps inside the kernel: the test runner uses them to abandon a
// test on a failed assertion or on a fault it provoked on purpose.
#pragma once

#include "kernel/types.h"

struct kjmp_buf {
	u64 rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

// kset_jmp returns 0 when called and v (never 0) when klong_jmp lands.
int kset_jmp(struct kjmp_buf *b) __attribute__((returns_twice));
void __noreturn klong_jmp(struct kjmp_buf *b, int v);

// call_on_stack: calls fn(arg) with the stack pointer at top (16-byte
// aligned), returning on the caller's stack.
void call_on_stack(void *top, void (*fn)(void *), void *arg);
