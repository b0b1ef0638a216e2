build2/drivers/qemu_exit.o: drivers/qemu_exit.c drivers/qemu_exit.h \
 kernel/types.h kernel/x86.h
drivers/qemu_exit.h:
kernel/types.h:
kernel/x86.h:
