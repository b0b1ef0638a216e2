build2/tests/kernel/test_acpi.o: tests/kernel/test_acpi.c drivers/acpi.h \
 kernel/bootinfo.h kernel/cmdline.h kernel/types.h kernel/layout.h \
 kernel/printf.h kernel/string.h kernel/trap.h kernel/x86.h mm/mm.h \
 tests/kernel/ktest.h kernel/setjmp.h
drivers/acpi.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/types.h:
kernel/layout.h:
kernel/printf.h:
kernel/string.h:
kernel/trap.h:
kernel/x86.h:
mm/mm.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
