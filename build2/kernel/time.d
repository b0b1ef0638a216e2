build2/kernel/time.o: kernel/time.c kernel/time.h kernel/types.h \
 drivers/pit.h kernel/printf.h kernel/x86.h
kernel/time.h:
kernel/types.h:
drivers/pit.h:
kernel/printf.h:
kernel/x86.h:
