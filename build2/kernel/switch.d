build2/kernel/switch.o: kernel/switch.S
