build2/tests/kernel/test_sizeclass.o: tests/kernel/test_sizeclass.c \
 mm/sizeclasses.h kernel/types.h tests/kernel/ktest.h kernel/setjmp.h \
 kernel/string.h
mm/sizeclasses.h:
kernel/types.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
kernel/string.h:
