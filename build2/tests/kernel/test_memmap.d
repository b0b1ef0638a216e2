build2/tests/kernel/test_memmap.o: tests/kernel/test_memmap.c \
 kernel/string.h kernel/types.h mm/mm.h kernel/bootinfo.h \
 kernel/cmdline.h kernel/layout.h tests/kernel/ktest.h kernel/setjmp.h
kernel/string.h:
kernel/types.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
