// Kernel entry from boot.S: bring up each subsystem in order, then run the
// self-tests or the benchmarks if the command line asks for them, else idle.

#include "drivers/acpi.h"
#include "drivers/ioapic.h"
#include "drivers/lapic.h"
#include "drivers/pic.h"
#include "drivers/uart.h"
#include "kernel/bootinfo.h"
#include "kernel/cmdline.h"
#include "gc/gc.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/smp.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "mm/heap.h"
#include "mm/mm.h"
#include "tests/kernel/kbench.h"
#include "tests/kernel/ktest.h"

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

// interrupts_init: the boot CPU's LAPIC and the IOAPICs from the MADT (or
// the architectural defaults when it is missing), the 8259s masked.
static void interrupts_init(void)
{
	pic_disable();
	lapic_init(madt.lapic_addr);
	lapic_init_cpu();
	for (u32 i = 0; i < madt.nioapics; i++)
		ioapic_add(madt.ioapics[i].id, madt.ioapics[i].addr, madt.ioapics[i].gsi_base);
	if (ioapic_count() == 0)
		ioapic_add(0, IOAPIC_DEFAULT_PHYS, 0);
	for (u32 i = 0; i < madt.noverrides; i++)
		ioapic_override(madt.overrides[i].bus_irq, madt.overrides[i].gsi, madt.overrides[i].flags);
	smp_init_ipis();
}

static void uarts_init(void)
{
	uart_init(&uart_com2);			// COM2: machine-readable data stream
	irq_register(uart_com1.irq, com1_irq);
	irq_register(uart_com2.irq, com2_irq);
	u32 bsp = lapic_id();
	ioapic_route_isa(uart_com1.irq, IRQ_BASE + uart_com1.irq, bsp);
	ioapic_route_isa(uart_com2.irq, IRQ_BASE + uart_com2.irq, bsp);
	uart_enable_rx_irq(&uart_com1);		// console input for the shell
}

void kmain(u32 magic, u64 info_pa)
{
	percpu_init_boot();			// GS -> the boot CPU's struct cpu
	time_init_early();			// TSC at boot is time zero
	console_init();				// COM1, polled output
	gdt_init_boot();			// kernel GDT, TSS with a double-fault stack
	idt_init();				// every exception reports and backtraces
	kprintf("\nTricolor kernel booting\n");
	tsc_calibrate();			// nanotime() from here on
	bootinfo_init(magic, info_pa);		// Multiboot2 or PVH -> struct bootinfo
	cmdline_init(bootinfo.cmdline);		// options into kconfig
	bootinfo_log(&bootinfo);		// loader, command line, memory map, RSDP
	cpu_identify();				// vendor, model, features
	mm_init(&bootinfo);			// page tables, direct map, frame allocator
	sched_init();				// kmain becomes thread "main"; CPU 0's idle thread
	acpi_init(&bootinfo);			// MADT: CPUs, IOAPICs, IRQ overrides
	interrupts_init();			// LAPIC, IOAPIC, IPI vectors; PICs masked
	lapic_timer_calibrate();		// against the TSC
	lapic_timer_start(SCHED_HZ);		// the tick: preemption, sleeps, test timeouts
	uarts_init();				// COM2, receive interrupts
	sti();
	smp_init();				// start the other CPUs
	heap_init();				// the garbage-collected heap, a cache per CPU
	frame_set_reclaimer(heap_reclaim);	// stacks may take the heap's idle frames and garbage
	gc_init();				// the collector's threads: a mark worker per CPU, gc, sweeper

	if (kconfig.test)
		ktest_run(kconfig.test_glob);	// does not return
	if (kconfig.bench)
		kbench_run(kconfig.bench_glob);	// does not return

	sched_print();				// CPUs and threads, until the shell exists
	pr_info("boot complete; no shell yet, idling (Ctrl-A X leaves QEMU)");
	for (;;)
		thread_sleep(1000000000ull);
}
