build2/kernel/ksyms.o: kernel/ksyms.c kernel/ksyms.h kernel/types.h \
 kernel/printf.h kernel/string.h
kernel/ksyms.h:
kernel/types.h:
kernel/printf.h:
kernel/string.h:
