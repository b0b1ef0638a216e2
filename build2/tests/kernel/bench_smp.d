build2/tests/kernel/bench_smp.o: tests/kernel/bench_smp.c kernel/cpu.h \
 kernel/types.h kernel/percpu.h kernel/list.h kernel/spinlock.h mm/mm.h \
 kernel/bootinfo.h kernel/cmdline.h kernel/layout.h kernel/printf.h \
 kernel/smp.h kernel/string.h kernel/thread.h kernel/trap.h kernel/x86.h \
 tests/kernel/kbench.h
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
kernel/smp.h:
kernel/string.h:
kernel/thread.h:
kernel/trap.h:
kernel/x86.h:
tests/kernel/kbench.h:
