build2/kernel/sched.o: kernel/sched.c kernel/thread.h kernel/list.h \
 kernel/types.h kernel/spinlock.h kernel/trap.h mm/mm.h kernel/bootinfo.h \
 kernel/cmdline.h kernel/layout.h drivers/lapic.h kernel/cpu.h \
 kernel/panic.h kernel/percpu.h kernel/printf.h kernel/smp.h \
 kernel/string.h kernel/time.h kernel/x86.h mm/fixalloc.h mm/platform.h \
 tests/kernel/ktest.h kernel/setjmp.h
kernel/thread.h:
kernel/list.h:
kernel/types.h:
kernel/spinlock.h:
kernel/trap.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
drivers/lapic.h:
kernel/cpu.h:
kernel/panic.h:
kernel/percpu.h:
kernel/printf.h:
kernel/smp.h:
kernel/string.h:
kernel/time.h:
kernel/x86.h:
mm/fixalloc.h:
mm/platform.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
