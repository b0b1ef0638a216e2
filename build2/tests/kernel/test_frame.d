build2/tests/kernel/test_frame.o: tests/kernel/test_frame.c \
 kernel/cmdline.h kernel/types.h kernel/layout.h kernel/percpu.h \
 kernel/list.h kernel/spinlock.h mm/mm.h kernel/bootinfo.h \
 kernel/string.h kernel/x86.h tests/kernel/ktest.h kernel/setjmp.h
kernel/cmdline.h:
kernel/types.h:
kernel/layout.h:
kernel/percpu.h:
kernel/list.h:
kernel/spinlock.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/string.h:
kernel/x86.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
