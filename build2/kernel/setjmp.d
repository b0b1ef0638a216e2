build2/kernel/setjmp.o: kernel/setjmp.S
