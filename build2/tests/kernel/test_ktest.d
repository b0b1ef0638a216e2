build2/tests/kernel/test_ktest.o: tests/kernel/test_ktest.c kernel/glob.h \
 kernel/types.h kernel/layout.h kernel/setjmp.h kernel/string.h \
 kernel/trap.h kernel/x86.h tests/kernel/ktest.h
kernel/glob.h:
kernel/types.h:
kernel/layout.h:
kernel/setjmp.h:
kernel/string.h:
kernel/trap.h:
kernel/x86.h:
tests/kernel/ktest.h:
