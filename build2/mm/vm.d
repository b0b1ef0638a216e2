build2/mm/vm.o: mm/vm.c kernel/cpu.h kernel/types.h kernel/panic.h \
 kernel/printf.h kernel/smp.h kernel/spinlock.h kernel/string.h \
 kernel/x86.h mm/mm.h kernel/bootinfo.h kernel/cmdline.h kernel/layout.h
kernel/cpu.h:
kernel/types.h:
kernel/panic.h:
kernel/printf.h:
kernel/smp.h:
kernel/spinlock.h:
kernel/string.h:
kernel/x86.h:
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/layout.h:
