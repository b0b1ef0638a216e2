build2/tests/kernel/test_time.o: tests/kernel/test_time.c kernel/time.h \
 kernel/types.h tests/kernel/ktest.h kernel/setjmp.h kernel/string.h
kernel/time.h:
kernel/types.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
kernel/string.h:
