build2/kernel/console.o: kernel/console.c kernel/console.h kernel/types.h \
 drivers/uart.h kernel/spinlock.h kernel/x86.h
kernel/console.h:
kernel/types.h:
drivers/uart.h:
kernel/spinlock.h:
kernel/x86.h:
