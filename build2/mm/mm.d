build2/mm/mm.o: mm/mm.c drivers/qemu_exit.h kernel/types.h \
 kernel/printf.h mm/mm.h kernel/bootinfo.h kernel/cmdline.h \
 kernel/layout.h
drivers/qemu_exit.h:
kernel/types.h:
kernel/printf.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
