// The kernel's side of the heap's platform interface (mm/platform.h):
// metadata pages and heap pages from the frame allocator, mapped into the
// heap range with the kernel page tables.

#include "mm/platform.h"
#include "kernel/thread.h"

void *plat_meta_alloc(unsigned order, enum frame_tag tag)
{
	return frame_alloc_zeroed(order, tag);
}

void plat_meta_free(void *p, unsigned order)
{
	frame_free(p, order);
}

// unmap_and_free: drops the pages of [va, va+len); `shared` says whether
// other CPUs may have used them (then their TLBs are shot down). A chunk
// of pages at a time: their frames are noted, the chunk is unmapped and
// shot down once, and only then are the frames freed (a frame must be
// unreachable through every CPU's TLB before it can be reused). One
// shootdown per page made the scavenger's release of 1 MiB 256 IPI round
// trips, each a region a stop of the world waited for (stwtrace).
#define UNMAP_CHUNK 64
static void unmap_and_free(u64 va, u64 len, bool shared)
{
	for (u64 lo = va; lo < va + len; lo += UNMAP_CHUNK * PAGE_SIZE) {
		u64 hi = MIN(lo + UNMAP_CHUNK * PAGE_SIZE, va + len), pa[UNMAP_CHUNK];
		unsigned n = 0;
		for (u64 a = lo; a < hi; a += PAGE_SIZE) {
			u64 flags;
			if ((pa[n] = vm_translate(a, &flags)) != 0)
				n++;
		}
		if (!n)
			continue;
		if (shared)
			vm_unmap(lo, hi - lo);	// (holes in the range are skipped)
		else
			vm_unmap_private(lo, hi - lo);
		for (unsigned i = 0; i < n; i++)
			frame_free(phys_to_virt(pa[i]), 0);
	}
}

bool plat_heap_commit(u64 va, u64 len)
{
	for (u64 a = va; a < va + len; a += PAGE_SIZE) {
		void *f = frame_alloc_zeroed(0, FT_HEAP);
		if (!f || vm_map(a, virt_to_phys(f), PAGE_SIZE, VM_READ | VM_WRITE) < 0) {
			if (f)
				frame_free(f, 0);
			// Only this CPU has seen these pages: no shootdown needed,
			// which matters because the heap lock is held here.
			unmap_and_free(va, a - va, false);
			return false;
		}
	}
	return true;
}

void plat_heap_release(u64 va, u64 len)
{
	unmap_and_free(va, len, true);
}

const char **plat_thread_error(void)
{
	return &current_thread()->alloc_error;
}

void plat_memory_stats(u64 *stack_bytes, u64 *meta_bytes)
{
	struct frame_stats s;
	frame_stats(&s);
	*stack_bytes = s.by_tag[FT_STACK] * PAGE_SIZE;
	*meta_bytes = (s.by_tag[FT_META] + s.by_tag[FT_PAGETABLE]) * PAGE_SIZE;
}
