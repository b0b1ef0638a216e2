build2/tests/kernel/kbench_boot.o: tests/kernel/kbench_boot.c \
 drivers/qemu_exit.h kernel/types.h kernel/cpu.h kernel/printf.h \
 kernel/string.h kernel/x86.h tests/kernel/kbench.h
drivers/qemu_exit.h:
kernel/types.h:
kernel/cpu.h:
kernel/printf.h:
kernel/string.h:
kernel/x86.h:
tests/kernel/kbench.h:
