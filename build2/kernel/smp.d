build2/kernel/smp.o: kernel/smp.c kernel/smp.h kernel/types.h \
 drivers/acpi.h kernel/bootinfo.h kernel/cmdline.h drivers/lapic.h \
 kernel/cpu.h kernel/panic.h kernel/percpu.h kernel/list.h \
 kernel/spinlock.h mm/mm.h kernel/layout.h kernel/printf.h \
 kernel/string.h kernel/thread.h kernel/trap.h kernel/time.h kernel/x86.h
kernel/smp.h:
kernel/types.h:
drivers/acpi.h:
kernel/bootinfo.h:
kernel/cmdline.h:
drivers/lapic.h:
kernel/cpu.h:
kernel/panic.h:
kernel/percpu.h:
kernel/list.h:
kernel/spinlock.h:
mm/mm.h:
kernel/layout.h:
kernel/printf.h:
kernel/string.h:
kernel/thread.h:
kernel/trap.h:
kernel/time.h:
kernel/x86.h:
