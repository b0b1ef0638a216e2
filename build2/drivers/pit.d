build2/drivers/pit.o: drivers/pit.c drivers/pit.h kernel/types.h \
 kernel/x86.h
drivers/pit.h:
kernel/types.h:
kernel/x86.h:
