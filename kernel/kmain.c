// Kernel entry from boot.S: bring up each subsystem in order, then run the
// self-tests or the benchmarks if the command line asks for them, else idle.

#include "drivers/pic.h"
#include "drivers/pit.h"
#include "drivers/uart.h"
#include "kernel/bootinfo.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/printf.h"
#include "kernel/time.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "mm/mm.h"
#include "tests/kernel/kbench.h"
#include "tests/kernel/ktest.h"

#define TICK_HZ 100

volatile u64 ticks;	// timer interrupts since boot; written by the tick IRQ only

static void timer_irq(struct trapframe *tf)
{
	ticks++;
	ktest_tick(tf->rip, tf->rbp);
}

static void com1_irq(struct trapframe *tf)
{
	(void)tf;
	uart_irq(&uart_com1);
}

static void com2_irq(struct trapframe *tf)
{
	(void)tf;
	uart_irq(&uart_com2);
}

void kmain(u32 magic, u64 info_pa)
{
	time_init_early();			// TSC at boot is time zero
	console_init();				// COM1, polled output
	gdt_init();				// kernel GDT, TSS with a double-fault stack
	idt_init();				// every exception reports and backtraces
	kprintf("\nTricolor kernel booting\n");
	tsc_calibrate();			// nanotime() from here on
	bootinfo_init(magic, info_pa);		// Multiboot2 or PVH -> struct bootinfo
	cmdline_init(bootinfo.cmdline);		// options into kconfig
	bootinfo_log(&bootinfo);		// loader, command line, memory map, RSDP
	cpu_identify();				// vendor, model, features
	mm_init(&bootinfo);			// page tables, direct map, frame allocator
	uart_init(&uart_com2);			// COM2: machine-readable data stream
	pic_init();				// legacy PIC, vectors 32..47, all masked
	irq_register(0, timer_irq);		// PIT tick: test timeouts
	irq_register(uart_com1.irq, com1_irq);
	irq_register(uart_com2.irq, com2_irq);
	pit_start_tick(TICK_HZ);
	pic_unmask(0);
	uart_enable_rx_irq(&uart_com1);		// console input for the shell
	sti();

	if (kconfig.test)
		ktest_run(kconfig.test_glob);	// does not return
	if (kconfig.bench)
		kbench_run(kconfig.bench_glob);	// does not return

	pr_info("boot complete; no shell yet, idling (Ctrl-A X leaves QEMU)");
	for (;;)
		hlt();
}
