// Bringing the collector up in a hosted program (gc_test, gc_bench,
// tools/compare's wl-tricolor), in kmain's order: the kernel's options,
// the heap, the collector.

#include "gc/gc.h"
#include "mm/heap.h"
#include "tests/hosted/kcompat/kcompat.h"

int log_level_max = LOG_INFO;	// kernel/cmdline.c sets it from loglevel=

void hosted_gc_start(const char *cmdline)
{
	cmdline_init(cmdline);
	heap_init();
	gc_init();
}
