// Test-only reclamation, for allocator tests and benchmarks that run
// without the collector (gc_disable) and for the hosted heap build, which
// has none yet: heap_test_free records objects to drop,
// heap_test_collect stops the world and runs the
// real sweep (mm/mcentral.c) with "marked" = allocated and not dropped.
// Tests and benchmarks use it to recycle memory between batches; it is no
// public free. See mm/malloc.c for the overview.

#include "mm/malloc_internal.h"

void heap_test_free(void *p)
{
	u64 a = (u64)p;
	struct mspan *s = span_of(a);
	if (!s || s->state != SPAN_INUSE || a < s->base)
		panic("heap_test_free(%p) on cpu %u: not in an in-use span (span %p)", p, this_cpu_id(), s);
	u64 idx = spanclass_size(s->spanclass) == 0 ? 0 : ((a - s->base) * s->divmagic) >> 32;
	if (idx >= s->nelems)
		panic("heap_test_free(%p): past the last object of span %#lx", p, s->base);
	// The span's freed bits are made by its first drop (they cost a bit
	// per object of every span otherwise); CPUs dropping at once race
	// to install theirs, and the losers free theirs. Acquire/release:
	// the bits are zero before anyone uses them.
	u64 *fb = __atomic_load_n(&s->freedbits, __ATOMIC_ACQUIRE);
	if (!fb) {
		u64 *mine = bits_alloc(s->bitwords);
		if (!mine)
			panic("heap_test_free(%p) on cpu %u: no memory for span %#lx's freed bits", p, this_cpu_id(),
			      s->base);
		if (__atomic_compare_exchange_n(&s->freedbits, &fb, mine, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			fb = mine;
		else
			bits_free(mine, s->bitwords);
	}
	// Atomic: CPUs may drop neighbouring objects at once.
	u64 old = __atomic_fetch_or(&fb[idx / 64], 1ull << (idx % 64), __ATOMIC_RELAXED);
	// Tiny allocations share 16-byte blocks: dropping one drops its block,
	// so a second object of the same block is no error.
	bool tiny = spanclass_noscan(s->spanclass) && s->elemsize == 16;
	if ((old >> (idx % 64) & 1) && !tiny)
		panic("heap_test_free(%p) on cpu %u: object %lu of span %#lx dropped twice", p, this_cpu_id(), idx,
		      s->base);
}

// mark_survivors: markbits = allocated and not dropped (world stopped);
// returns the bytes that stay.
static u64 mark_survivors(struct mspan *s)
{
	u64 n = 0;
	for (u32 w = 0; w < s->bitwords; w++) {
		u64 allocated = s->allocbits[w];
		// Every object below freeindex is allocated (mm/malloc.c).
		u32 lo = w * 64;
		if (s->freeindex >= lo + 64)
			allocated = ~0ull;
		else if (s->freeindex > lo)
			allocated |= (1ull << (s->freeindex - lo)) - 1;
		if (lo + 64 > s->nelems)
			allocated &= s->nelems - lo >= 64 ? ~0ull : (1ull << (s->nelems - lo)) - 1;
		s->markbits[w] = allocated & ~(s->freedbits ? s->freedbits[w] : 0);
		n += popcount64(s->markbits[w]) * s->elemsize;
	}
	return n;
}

void heap_test_collect(void)
{
	const struct heap_collector *gc = heap.gc;
	if (gc)
		gc->exclude(true);	// waits for a running cycle to end
	stw_begin();
	mcache_flush_all();
	// Spans left unswept by the last collection are swept first, with
	// the marks it left.
	while (heap_sweep_one())
		;
	u64 live = 0;
	list_for_each(e, &heap.inuse)
		live += mark_survivors(list_entry(e, struct mspan, all_link));
	heap_sweep_begin();
	while (heap_sweep_one())
		;
	__atomic_store_n(&heap.live, live, __ATOMIC_RELAXED);
	stw_end();
	if (gc)
		gc->exclude(false);
}
