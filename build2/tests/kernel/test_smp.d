build2/tests/kernel/test_smp.o: tests/kernel/test_smp.c drivers/acpi.h \
 kernel/bootinfo.h kernel/cmdline.h kernel/types.h drivers/lapic.h \
 kernel/cpu.h kernel/percpu.h kernel/list.h kernel/spinlock.h mm/mm.h \
 kernel/layout.h kernel/printf.h kernel/smp.h kernel/thread.h \
 kernel/trap.h kernel/time.h kernel/x86.h tests/kernel/ktest.h \
 kernel/setjmp.h kernel/string.h
drivers/acpi.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/types.h:
drivers/lapic.h:
kernel/cpu.h:
kernel/percpu.h:
kernel/list.h:
kernel/spinlock.h:
mm/mm.h:
kernel/layout.h:
kernel/printf.h:
kernel/smp.h:
kernel/thread.h:
kernel/trap.h:
kernel/time.h:
kernel/x86.h:
tests/kernel/ktest.h:
kernel/setjmp.h:
kernel/string.h:
