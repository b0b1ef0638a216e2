// The write barrier (see gc/gc.c for why shading both values is enough)
// and the checkmark pass.

#include "gc/gc_internal.h"

void gc_barrier_shade(void *old, void *val)
{
	// Preemption is disabled by the caller (gc_write_ptr): this CPU's
	// work buffer is ours.
	struct gcw *w = &gcws[this_cpu_id()];
	w->origin.what = "a write barrier";
	mark_word(w, (u64)old);
	mark_word(w, (u64)val);
	gcw_handoff(w);
}

void gc_copy_ptrs(void **dst, void *const *src, size_t n)
{
	// Slot by slot through the store barrier, so a long copy never holds
	// off a stop-the-world; backward when dst overlaps src's tail.
	bool backward = dst > src && (u64)dst < (u64)(src + n);
	for (size_t i = 0; i < n; i++) {
		size_t j = backward ? n - 1 - i : i;
		gc_write_ptr(&dst[j], __atomic_load_n(&src[j], __ATOMIC_RELAXED));
	}
}

// checkmark_run: with the world stopped after marking, marks everything
// reachable again with separate bits and panics (mark.c mark_word) at the
// first reachable object the concurrent mark left white.
void checkmark_run(void)
{
	list_for_each(e, &heap.inuse) {
		struct mspan *s = list_entry(e, struct mspan, all_link);
		if (!span_usable(s))
			continue;
		if (!s->checkbits)
			s->checkbits = bits_alloc(s->bitwords);
		if (!s->checkbits)
			panic("gccheckmark: out of memory for check bits of span %#lx", s->base);
		memset(s->checkbits, 0, s->bitwords * 8);
	}
	struct gcw w = {.check = true};
	scan_all_roots(&w);
	while (gcw_drain(&w, ~0ull))
		;
	gcw_flush(&w);
	if (!work_empty())
		panic("gccheckmark: work left after the check pass");
}
