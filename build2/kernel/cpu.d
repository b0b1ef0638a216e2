build2/kernel/cpu.o: kernel/cpu.c kernel/cpu.h kernel/types.h \
 kernel/printf.h kernel/spinlock.h kernel/string.h kernel/x86.h
kernel/cpu.h:
kernel/types.h:
kernel/printf.h:
kernel/spinlock.h:
kernel/string.h:
kernel/x86.h:
