build2/mm/frame.o: mm/frame.c kernel/console.h kernel/types.h \
 kernel/cpu.h kernel/panic.h kernel/percpu.h kernel/list.h \
 kernel/spinlock.h mm/mm.h kernel/bootinfo.h kernel/cmdline.h \
 kernel/layout.h kernel/thread.h kernel/trap.h kernel/printf.h \
 kernel/string.h kernel/x86.h
kernel/console.h:
kernel/types.h:
kernel/cpu.h:
kernel/panic.h:
kernel/percpu.h:
kernel/list.h:
kernel/spinlock.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
kernel/thread.h:
kernel/trap.h:
kernel/printf.h:
kernel/string.h:
kernel/x86.h:
