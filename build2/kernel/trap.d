build2/kernel/trap.o: kernel/trap.c kernel/trap.h kernel/types.h \
 drivers/lapic.h drivers/pic.h kernel/console.h kernel/cpu.h \
 kernel/ksyms.h kernel/panic.h kernel/percpu.h kernel/list.h \
 kernel/spinlock.h mm/mm.h kernel/bootinfo.h kernel/cmdline.h \
 kernel/layout.h kernel/printf.h kernel/thread.h kernel/x86.h
kernel/trap.h:
kernel/types.h:
drivers/lapic.h:
drivers/pic.h:
kernel/console.h:
kernel/cpu.h:
kernel/ksyms.h:
kernel/panic.h:
kernel/percpu.h:
kernel/list.h:
kernel/spinlock.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
kernel/printf.h:
kernel/thread.h:
kernel/x86.h:
