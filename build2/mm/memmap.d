build2/mm/memmap.o: mm/memmap.c mm/mm.h kernel/bootinfo.h \
 kernel/cmdline.h kernel/types.h kernel/layout.h
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/types.h:
kernel/layout.h:
