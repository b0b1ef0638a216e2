build2/kernel/gdt.o: kernel/gdt.c kernel/percpu.h kernel/list.h \
 kernel/types.h kernel/spinlock.h mm/mm.h kernel/bootinfo.h \
 kernel/cmdline.h kernel/layout.h kernel/string.h kernel/trap.h
kernel/percpu.h:
kernel/list.h:
kernel/types.h:
kernel/spinlock.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
kernel/string.h:
kernel/trap.h:
