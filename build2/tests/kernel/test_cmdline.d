build2/tests/kernel/test_cmdline.o: tests/kernel/test_cmdline.c \
 kernel/cmdline.h kernel/types.h kernel/printf.h kernel/string.h \
 tests/kernel/ktest.h kernel/setjmp.h
kernel/cmdline.h:
kernel/types.h:
kernel/printf.h:
kernel/string.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
