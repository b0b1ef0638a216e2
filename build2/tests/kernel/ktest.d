build2/tests/kernel/ktest.o: tests/kernel/ktest.c tests/kernel/ktest.h \
 kernel/setjmp.h kernel/types.h kernel/string.h gc/gc.h mm/platform.h \
 kernel/cpu.h kernel/panic.h kernel/percpu.h kernel/list.h \
 kernel/spinlock.h mm/mm.h kernel/bootinfo.h kernel/cmdline.h \
 kernel/layout.h kernel/printf.h kernel/smp.h kernel/thread.h \
 kernel/trap.h kernel/time.h kernel/x86.h drivers/qemu_exit.h \
 kernel/console.h kernel/glob.h
tests/kernel/ktest.h:
kernel/setjmp.h:
kernel/types.h:
kernel/string.h:
gc/gc.h:
mm/platform.h:
kernel/cpu.h:
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
kernel/thread.h:
kernel/trap.h:
kernel/time.h:
kernel/x86.h:
drivers/qemu_exit.h:
kernel/console.h:
kernel/glob.h:
