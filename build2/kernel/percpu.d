build2/kernel/percpu.o: kernel/percpu.c kernel/percpu.h kernel/list.h \
 kernel/types.h kernel/spinlock.h mm/mm.h kernel/bootinfo.h \
 kernel/cmdline.h kernel/layout.h kernel/x86.h
kernel/percpu.h:
kernel/list.h:
kernel/types.h:
kernel/spinlock.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
kernel/x86.h:
