build2/kernel/string.o: kernel/string.c kernel/string.h kernel/types.h
kernel/string.h:
kernel/types.h:
