build2/tests/kernel/test_vm.o: tests/kernel/test_vm.c kernel/bootinfo.h \
 kernel/cmdline.h kernel/types.h kernel/layout.h kernel/printf.h \
 kernel/setjmp.h kernel/string.h kernel/trap.h mm/mm.h \
 tests/kernel/ktest.h
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/types.h:
kernel/layout.h:
kernel/printf.h:
kernel/setjmp.h:
kernel/string.h:
kernel/trap.h:
mm/mm.h:
tests/kernel/ktest.h:
