// Frame allocator benchmarks: one alloc+free pair per iteration, through
// the per-CPU cache, straight through the buddy lists, and for a 2 MiB
// (order-9) block.

#include "mm/mm.h"
#include "tests/kernel/kbench.h"

static void alloc_free(struct kb *b)
{
	unsigned order = (unsigned)(b->arg & 0xff);
	bool buddy = b->arg >> 8;
	for (u64 i = 0; i < b->n; i++) {
		void *p = buddy ? frame_alloc_buddy(order, FT_TEST) : frame_alloc(order, FT_TEST);
		if (!p) {
			kb_fail(b, "out of memory at order %u", order);
			return;
		}
		if (buddy)
			frame_free_buddy(p, order);
		else
			frame_free(p, order);
	}
}

KBENCH_CASE(FrameAllocFree, "order0-pcp", alloc_free, 0);
KBENCH_CASE(FrameAllocFree, "order0-buddy", alloc_free, 1 << 8);
KBENCH_CASE(FrameAllocFree, "order9", alloc_free, 9);
