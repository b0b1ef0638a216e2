build2/tests/kernel/test_ksyms.o: tests/kernel/test_ksyms.c \
 kernel/cmdline.h kernel/types.h kernel/ksyms.h kernel/panic.h \
 kernel/printf.h kernel/string.h tests/kernel/ktest.h kernel/setjmp.h
kernel/cmdline.h:
kernel/types.h:
kernel/ksyms.h:
kernel/panic.h:
kernel/printf.h:
kernel/string.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
