build2/tests/kernel/test_printf.o: tests/kernel/test_printf.c \
 kernel/printf.h kernel/types.h kernel/string.h tests/kernel/ktest.h \
 kernel/setjmp.h
kernel/printf.h:
kernel/types.h:
kernel/string.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
