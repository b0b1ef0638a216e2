build2/kernel/cmdline.o: kernel/cmdline.c kernel/cmdline.h kernel/types.h \
 kernel/printf.h kernel/string.h
kernel/cmdline.h:
kernel/types.h:
kernel/printf.h:
kernel/string.h:
