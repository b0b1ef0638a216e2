build2/drivers/ioapic.o: drivers/ioapic.c drivers/ioapic.h kernel/types.h \
 kernel/printf.h kernel/spinlock.h mm/mm.h kernel/bootinfo.h \
 kernel/cmdline.h kernel/layout.h
drivers/ioapic.h:
kernel/types.h:
kernel/printf.h:
kernel/spinlock.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
