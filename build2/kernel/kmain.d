build2/kernel/kmain.o: kernel/kmain.c drivers/acpi.h kernel/bootinfo.h \
 kernel/cmdline.h kernel/types.h drivers/ioapic.h drivers/lapic.h \
 drivers/pic.h drivers/uart.h kernel/spinlock.h gc/gc.h mm/platform.h \
 kernel/cpu.h kernel/panic.h kernel/percpu.h kernel/list.h mm/mm.h \
 kernel/layout.h kernel/printf.h kernel/smp.h kernel/string.h \
 kernel/thread.h kernel/trap.h kernel/time.h kernel/x86.h \
 kernel/console.h mm/heap.h tests/kernel/kbench.h tests/kernel/ktest.h \
 kernel/setjmp.h
drivers/acpi.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/types.h:
drivers/ioapic.h:
drivers/lapic.h:
drivers/pic.h:
drivers/uart.h:
kernel/spinlock.h:
gc/gc.h:
mm/platform.h:
kernel/cpu.h:
kernel/panic.h:
kernel/percpu.h:
kernel/list.h:
mm/mm.h:
kernel/layout.h:
kernel/printf.h:
kernel/smp.h:
kernel/string.h:
kernel/thread.h:
kernel/trap.h:
kernel/time.h:
kernel/x86.h:
kernel/console.h:
mm/heap.h:
tests/kernel/kbench.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
