build2/drivers/uart.o: drivers/uart.c drivers/uart.h kernel/spinlock.h \
 kernel/types.h drivers/ioapic.h kernel/x86.h
drivers/uart.h:
kernel/spinlock.h:
kernel/types.h:
drivers/ioapic.h:
kernel/x86.h:
