build2/tests/kernel/kbench.o: tests/kernel/kbench.c tests/kernel/kbench.h \
 kernel/types.h kernel/cmdline.h kernel/glob.h kernel/percpu.h \
 kernel/list.h kernel/spinlock.h mm/mm.h kernel/bootinfo.h \
 kernel/layout.h kernel/printf.h kernel/string.h kernel/time.h
tests/kernel/kbench.h:
kernel/types.h:
kernel/cmdline.h:
kernel/glob.h:
kernel/percpu.h:
kernel/list.h:
kernel/spinlock.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/layout.h:
kernel/printf.h:
kernel/string.h:
kernel/time.h:
