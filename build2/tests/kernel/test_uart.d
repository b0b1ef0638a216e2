build2/tests/kernel/test_uart.o: tests/kernel/test_uart.c drivers/uart.h \
 kernel/spinlock.h kernel/types.h kernel/time.h kernel/x86.h \
 tests/kernel/ktest.h kernel/setjmp.h kernel/string.h
drivers/uart.h:
kernel/spinlock.h:
kernel/types.h:
kernel/time.h:
kernel/x86.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
kernel/string.h:
