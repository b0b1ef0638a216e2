// The kernel's benchmark entry (`bench=GLOB` at boot): the header Go
// prints, the runs (tests/kernel/kbench.c, which the hosted build shares),
// and QEMU's exit with the verdict.

#include "drivers/qemu_exit.h"
#include "kernel/cpu.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "tests/kernel/kbench.h"

static void print_header(void)
{
	const char *brand = boot_cpu.brand;
	while (*brand == ' ')
		brand++;
	size_t len = strlen(brand);
	while (len > 0 && brand[len - 1] == ' ')
		len--;
	kprintf("goos: tricolor\ngoarch: amd64\npkg: tricolor/kernel\n");
	if (len)
		kprintf("cpu: %.*s\n", (int)len, brand);
}

void kbench_run(const char *glob)
{
	sti();
	int failed = kbench_run_all(glob, print_header);
	qemu_exit(failed ? QEMU_EXIT_FAILURE : QEMU_EXIT_SUCCESS);
}
