build2/mm/stack.o: mm/stack.c kernel/panic.h kernel/types.h \
 kernel/spinlock.h kernel/string.h mm/mm.h kernel/bootinfo.h \
 kernel/cmdline.h kernel/layout.h
kernel/panic.h:
kernel/types.h:
kernel/spinlock.h:
kernel/string.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
