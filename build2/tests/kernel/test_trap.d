build2/tests/kernel/test_trap.o: tests/kernel/test_trap.c kernel/layout.h \
 kernel/types.h kernel/cpu.h kernel/percpu.h kernel/list.h \
 kernel/spinlock.h mm/mm.h kernel/bootinfo.h kernel/cmdline.h \
 kernel/printf.h kernel/string.h kernel/time.h kernel/trap.h kernel/x86.h \
 tests/kernel/ktest.h kernel/setjmp.h
kernel/layout.h:
kernel/types.h:
kernel/cpu.h:
kernel/percpu.h:
kernel/list.h:
kernel/spinlock.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/printf.h:
kernel/string.h:
kernel/time.h:
kernel/trap.h:
kernel/x86.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
