build2/tests/kernel/test_heap_irq.o: tests/kernel/test_heap_irq.c \
 kernel/percpu.h kernel/list.h kernel/types.h kernel/spinlock.h mm/mm.h \
 kernel/bootinfo.h kernel/cmdline.h kernel/layout.h kernel/x86.h \
 mm/heap.h tests/kernel/ktest.h kernel/setjmp.h kernel/string.h
kernel/percpu.h:
kernel/list.h:
kernel/types.h:
kernel/spinlock.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
kernel/x86.h:
mm/heap.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
kernel/string.h:
