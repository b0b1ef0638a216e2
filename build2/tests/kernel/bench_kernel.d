build2/tests/kernel/bench_kernel.o: tests/kernel/bench_kernel.c \
 kernel/percpu.h kernel/list.h kernel/types.h kernel/spinlock.h mm/mm.h \
 kernel/bootinfo.h kernel/cmdline.h kernel/layout.h kernel/printf.h \
 kernel/string.h kernel/time.h kernel/x86.h tests/kernel/kbench.h
kernel/percpu.h:
kernel/list.h:
kernel/types.h:
kernel/spinlock.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
kernel/printf.h:
kernel/string.h:
kernel/time.h:
kernel/x86.h:
tests/kernel/kbench.h:
