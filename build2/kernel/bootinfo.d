build2/kernel/bootinfo.o: kernel/bootinfo.c kernel/bootinfo.h \
 kernel/cmdline.h kernel/types.h kernel/layout.h kernel/panic.h \
 kernel/printf.h kernel/string.h
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/types.h:
kernel/layout.h:
kernel/panic.h:
kernel/printf.h:
kernel/string.h:
