// panic(): report and stop. Output goes through the console in panic mode,
// which never blocks forever on a lock the crashed CPU may hold.

#include "kernel/panic.h"
#include "drivers/qemu_exit.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/ksyms.h"
#include "kernel/layout.h"
#include "kernel/printf.h"
#include "kernel/thread.h"
#include "kernel/x86.h"
#include "tests/kernel/ktest.h"

#define BACKTRACE_MAX 32

// CPUs currently inside panic; a second entry on the same CPU means the
// report itself crashed, so it is cut short.
static volatile int panicking;

void (*panic_catch_hook)(const char *msg);

int backtrace_capture(u64 rbp, u64 *pcs, int max)
{
	int n = 0;
	while (n < max && rbp && (rbp & 7) == 0 && rbp >= DIRECT_MAP && rbp <= UINT64_MAX - 16) {
		u64 *frame = (u64 *)rbp;
		u64 ret = frame[1];
		if (!ret)
			break;
		pcs[n++] = ret;
		// Stacks grow down, so callers' frames are at higher addresses.
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
	return n;
}

static void print_frame(int i, u64 pc)
{
	char sym[96];
	ksym_format(sym, sizeof(sym), pc);
	kprintf_locked("  #%d %p %s\n", i, (void *)pc, sym);
}

void backtrace_print_locked(u64 rip, u64 rbp)
{
	u64 pcs[BACKTRACE_MAX];
	int n = backtrace_capture(rbp, pcs, BACKTRACE_MAX);
	kprintf_locked("backtrace:\n");
	int i = 0;
	if (rip)
		print_frame(i++, rip);
	for (int j = 0; j < n; j++)
		print_frame(i++, pcs[j]);
}

static void __noreturn vpanic_at(u64 rip, u64 rbp, const char *fmt, va_list ap)
{
	cli();
	char msg[256];
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	if (panic_catch_hook)
		panic_catch_hook(msg);
	console_panic_mode();
	if (__atomic_fetch_add(&panicking, 1, __ATOMIC_RELAXED) > 0) {
		kprintf("panic while panicking: %s\n", msg);
		qemu_exit(QEMU_EXIT_FAILURE);
	}
	bool f = console_lock();
	kprintf_locked("panic: %s\n", msg);
	kprintf_locked("cpu %u, thread %s\n", this_cpu_id(), current_thread_name());
	backtrace_print_locked(rip, rbp);
	console_unlock(f);
	ktest_on_panic(msg);
	qemu_exit(QEMU_EXIT_FAILURE);
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vpanic_at(0, (u64)__builtin_frame_address(0), fmt, ap);
}

void panic_at(u64 rip, u64 rbp, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vpanic_at(rip, rbp, fmt, ap);
}
