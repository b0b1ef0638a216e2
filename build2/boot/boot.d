build2/boot/boot.o: boot/boot.S kernel/layout.h
kernel/layout.h:
