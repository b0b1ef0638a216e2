build2/kernel/panic.o: kernel/panic.c kernel/panic.h kernel/types.h \
 drivers/qemu_exit.h kernel/console.h kernel/cpu.h kernel/ksyms.h \
 kernel/layout.h kernel/printf.h kernel/thread.h kernel/list.h \
 kernel/spinlock.h kernel/trap.h mm/mm.h kernel/bootinfo.h \
 kernel/cmdline.h kernel/x86.h tests/kernel/ktest.h kernel/setjmp.h \
 kernel/string.h
kernel/panic.h:
kernel/types.h:
drivers/qemu_exit.h:
kernel/console.h:
kernel/cpu.h:
kernel/ksyms.h:
kernel/layout.h:
kernel/printf.h:
kernel/thread.h:
kernel/list.h:
kernel/spinlock.h:
kernel/trap.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/x86.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
kernel/string.h:
