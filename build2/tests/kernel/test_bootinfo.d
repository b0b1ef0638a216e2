build2/tests/kernel/test_bootinfo.o: tests/kernel/test_bootinfo.c \
 kernel/bootinfo.h kernel/cmdline.h kernel/types.h kernel/layout.h \
 kernel/string.h tests/kernel/ktest.h kernel/setjmp.h
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/types.h:
kernel/layout.h:
kernel/string.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
