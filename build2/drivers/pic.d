build2/drivers/pic.o: drivers/pic.c drivers/pic.h kernel/types.h \
 kernel/x86.h
drivers/pic.h:
kernel/types.h:
kernel/x86.h:
