build2/kernel/spinlock.o: kernel/spinlock.c kernel/spinlock.h \
 kernel/types.h kernel/cpu.h kernel/panic.h kernel/percpu.h kernel/list.h \
 mm/mm.h kernel/bootinfo.h kernel/cmdline.h kernel/layout.h kernel/time.h \
 kernel/x86.h
kernel/spinlock.h:
kernel/types.h:
kernel/cpu.h:
kernel/panic.h:
kernel/percpu.h:
kernel/list.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
kernel/time.h:
kernel/x86.h:
