build2/gc/barrier.o: gc/barrier.c gc/gc_internal.h gc/gc.h kernel/types.h \
 mm/platform.h kernel/cpu.h kernel/panic.h kernel/percpu.h kernel/list.h \
 kernel/spinlock.h mm/mm.h kernel/bootinfo.h kernel/cmdline.h \
 kernel/layout.h kernel/printf.h kernel/smp.h kernel/string.h \
 kernel/thread.h kernel/trap.h kernel/time.h kernel/x86.h \
 mm/malloc_internal.h mm/heap.h mm/sizeclasses.h
gc/gc_internal.h:
gc/gc.h:
kernel/types.h:
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
kernel/string.h:
kernel/thread.h:
kernel/trap.h:
kernel/time.h:
kernel/x86.h:
mm/malloc_internal.h:
mm/heap.h:
mm/sizeclasses.h:
