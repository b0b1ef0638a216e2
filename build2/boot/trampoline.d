build2/boot/trampoline.o: boot/trampoline.S
