build2/tests/kernel/test_sched.o: tests/kernel/test_sched.c kernel/cpu.h \
 kernel/types.h kernel/percpu.h kernel/list.h kernel/spinlock.h mm/mm.h \
 kernel/bootinfo.h kernel/cmdline.h kernel/layout.h kernel/printf.h \
 kernel/thread.h kernel/trap.h kernel/time.h kernel/x86.h \
 tests/kernel/ktest.h kernel/setjmp.h kernel/string.h
kernel/cpu.h:
kernel/types.h:
kernel/percpu.h:
kernel/list.h:
kernel/spinlock.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
kernel/printf.h:
kernel/thread.h:
kernel/trap.h:
kernel/time.h:
kernel/x86.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
kernel/string.h:
