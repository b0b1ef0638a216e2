build2/kernel/printf.o: kernel/printf.c kernel/printf.h kernel/types.h \
 kernel/console.h kernel/string.h kernel/time.h
kernel/printf.h:
kernel/types.h:
kernel/console.h:
kernel/string.h:
kernel/time.h:
