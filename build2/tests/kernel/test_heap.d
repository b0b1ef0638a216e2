build2/tests/kernel/test_heap.o: tests/kernel/test_heap.c kernel/percpu.h \
 kernel/list.h kernel/types.h kernel/spinlock.h mm/mm.h kernel/bootinfo.h \
 kernel/cmdline.h kernel/layout.h kernel/printf.h kernel/thread.h \
 kernel/trap.h kernel/time.h kernel/x86.h mm/malloc_internal.h mm/heap.h \
 mm/platform.h kernel/cpu.h kernel/panic.h kernel/smp.h kernel/string.h \
 mm/sizeclasses.h tests/kernel/ktest.h kernel/setjmp.h
kernel/percpu.h:
kernel/list.h:
kernel/types.h:
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
mm/malloc_internal.h:
mm/heap.h:
mm/platform.h:
kernel/cpu.h:
kernel/panic.h:
kernel/smp.h:
kernel/string.h:
mm/sizeclasses.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
