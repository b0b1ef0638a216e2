build2/kernel/mm_platform.o: kernel/mm_platform.c mm/platform.h \
 kernel/cpu.h kernel/types.h kernel/panic.h kernel/percpu.h kernel/list.h \
 kernel/spinlock.h mm/mm.h kernel/bootinfo.h kernel/cmdline.h \
 kernel/layout.h kernel/printf.h kernel/smp.h kernel/string.h \
 kernel/thread.h kernel/trap.h kernel/time.h kernel/x86.h
mm/platform.h:
kernel/cpu.h:
kernel/types.h:
kernel/panic.h:
kernel/percpu.h:
kernel/list.h:
kernel/spinlock.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
kernel/printf.h:
kernel/smp.h:
kernel/string.h:
kernel/thread.h:
kernel/trap.h:
kernel/time.h:
kernel/x86.h:
