// Fatal errors: panic() prints the message, the CPU and a symbolized
// backtrace, tells the test runner (if a test was running), and leaves
// QEMU with the failure status. assert() panics with the expression.
#pragma once

#include "kernel/types.h"

void __noreturn panic(const char *fmt, ...) __printf(1, 2);

#define assert(cond)                                                                        \
	do {                                                                                \
		if (!(cond))                                                                \
			panic("assertion failed: %s (%s:%d in %s)", #cond, __FILE__, __LINE__, \
			      __func__);                                                     \
	} while (0)

// panic_at: panic with the backtrace starting at a given frame (rip, rbp),
// for the trap handler. The caller has already printed its report.
void __noreturn panic_at(u64 rip, u64 rbp, const char *fmt, ...) __printf(3, 4);

// A hook that may claim a panic before anything is printed (the test
// runner uses it to check contract violations without ending the run). It
// returns only if it does not claim the panic.
extern void (*panic_catch_hook)(const char *msg);

// backtrace_capture: return addresses walking the frame-pointer chain from
// rbp, at most max of them. Stops at a NULL, misaligned, non-kernel or
// non-increasing frame pointer.
int backtrace_capture(u64 rbp, u64 *pcs, int max);
// backtrace_print: "  #N 0xADDR name+0xoff" lines, console lock held.
void backtrace_print_locked(u64 rip, u64 rbp);
