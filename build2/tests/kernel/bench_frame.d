build2/tests/kernel/bench_frame.o: tests/kernel/bench_frame.c mm/mm.h \
 kernel/bootinfo.h kernel/cmdline.h kernel/types.h kernel/layout.h \
 tests/kernel/kbench.h
mm/mm.h:
kernel/bootinfo.h:
kernel/cmdline.h:
kernel/types.h:
kernel/layout.h:
tests/kernel/kbench.h:
