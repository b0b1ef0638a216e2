build2/tests/kernel/test_kbench.o: tests/kernel/test_kbench.c \
 kernel/string.h kernel/types.h kernel/time.h kernel/x86.h \
 tests/kernel/kbench.h tests/kernel/ktest.h kernel/setjmp.h
kernel/string.h:
kernel/types.h:
kernel/time.h:
kernel/x86.h:
tests/kernel/kbench.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
