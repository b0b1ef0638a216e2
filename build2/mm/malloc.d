build2/mm/malloc.o: mm/malloc.c mm/malloc_internal.h kernel/list.h \
 kernel/types.h mm/heap.h mm/platform.h kernel/cpu.h kernel/panic.h \
 kernel/percpu.h kernel/spinlock.h mm/mm.h kernel/bootinfo.h \
 kernel/cmdline.h kernel/layout.h kernel/printf.h kernel/smp.h \
 kernel/string.h kernel/thread.h kernel/trap.h kernel/time.h kernel/x86.h \
 mm/sizeclasses.h
mm/malloc_internal.h:
kernel/list.h:
kernel/types.h:
mm/heap.h:
mm/platform.h:
kernel/cpu.h:
kernel/panic.h:
kernel/percpu.h:
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
mm/sizeclasses.h:
