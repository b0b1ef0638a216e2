build2/drivers/lapic.o: drivers/lapic.c drivers/lapic.h kernel/types.h \
 kernel/cpu.h kernel/panic.h kernel/printf.h kernel/time.h kernel/x86.h \
 mm/mm.h kernel/bootinfo.h kernel/cmdline.h kernel/layout.h
drivers/lapic.h:
kernel/types.h:
kernel/cpu.h:
kernel/panic.h:
kernel/printf.h:
kernel/time.h:
kernel/x86.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
