build2/kernel/glob.o: kernel/glob.c kernel/glob.h kernel/types.h
kernel/glob.h:
kernel/types.h:
