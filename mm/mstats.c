// Heap statistics with Go's MemStats names, and a per-span-class table.
// See mm/malloc.c for the overview (how counts stay off the fast path).

#include "mm/fixalloc.h"
#include "mm/malloc_internal.h"

// class_mallocs: objects of class cls allocated so far (world stopped):
// the flushed counts plus every CPU's, minus what the spans they hold
// have not handed out yet.
static u64 class_mallocs(unsigned cls)
{
	i64 n = heap.small_alloc_count[cls];
	for (unsigned cpu = 0; cpu < plat_ncpus(); cpu++)
		n += mcache_of(cpu)->small_alloc_count[cls] + mcache_detached_of(cpu)->small_alloc_count[cls];
	return (u64)(n - (i64)mcache_unused((u8)cls));
}

// read_stopped: read_memstats' part with the world stopped (every CPU
// parked outside its allocation paths).
static void read_stopped(struct memstats *m)
{
	u64 tiny = heap.tiny_allocs;
	for (unsigned cpu = 0; cpu < plat_ncpus(); cpu++)
		tiny += mcache_of(cpu)->tiny_allocs + mcache_detached_of(cpu)->tiny_allocs;
	u64 small_bytes_alloc = 0, small_bytes_live = 0;
	for (unsigned cls = 1; cls < NUM_SIZE_CLASSES; cls++) {
		u64 mallocs = class_mallocs(cls), frees = heap.small_frees[cls];
		m->by_size[cls] = (struct memstats_class){class_to_size[cls], mallocs, frees};
		m->mallocs += mallocs;
		m->frees += frees;
		small_bytes_alloc += mallocs * class_to_size[cls];
		small_bytes_live += (mallocs - frees) * class_to_size[cls];
	}
	m->mallocs += heap.large_allocs + tiny;	// tiny allocations count as both, as in Go
	m->frees += heap.large_frees + tiny;
	m->total_alloc = small_bytes_alloc + heap.large_bytes_alloc;
	m->heap_alloc = small_bytes_live + heap.large_bytes_alloc - heap.large_bytes_freed;
	m->alloc = m->heap_alloc;
	m->heap_objects = m->mallocs - m->frees;
	u64 returned = mcache_returned_pages();	// in use as spans, but with no object: idle
	m->heap_inuse = (heap.pages_inuse - returned) << HEAP_PAGE_SHIFT;
	m->heap_idle = (heap.pages_free + returned) << HEAP_PAGE_SHIFT;
	m->heap_released = heap.pages_released << HEAP_PAGE_SHIFT;
	m->heap_sys = heap.pages_sys << HEAP_PAGE_SHIFT;
	// The fixallocs' counters change under their own locks, which only
	// code in preempt-disabled regions takes: read them while stopped.
	mheap_meta_stats(&m->mspan_inuse, &m->mspan_sys, &m->gc_sys);
}

u64 heap_objects_in_spans(struct memstats *m)
{
	memset(m, 0, sizeof(*m));
	stw_begin();
	read_stopped(m);
	u64 n = 0;
	spin_lock(&heap.lock);
	list_for_each(e, &heap.inuse) {
		struct mspan *s = list_entry(e, struct mspan, all_link);
		n += spanclass_size(s->spanclass) ? span_nalloc(s) : 1;
	}
	spin_unlock(&heap.lock);
	stw_end();
	return n;
}

void read_memstats(struct memstats *m)
{
	memset(m, 0, sizeof(*m));
	stw_begin();
	read_stopped(m);
	stw_end();

	u64 stack_bytes, meta_bytes;
	plat_memory_stats(&stack_bytes, &meta_bytes);
	m->stack_inuse = m->stack_sys = stack_bytes;
	m->mcache_inuse = m->mcache_sys = (u64)plat_ncpus() * 2 * PAGE_SIZE;	// two per CPU (mcache_detach_all)
	// Everything else the kernel keeps off the heap (thread descriptors,
	// page tables, ...): metadata frames not accounted above.
	u64 known = m->mspan_sys + m->mcache_sys + m->gc_sys;
	m->other_sys = meta_bytes > known ? meta_bytes - known : 0;
	m->sys = m->heap_sys + m->stack_sys + m->mspan_sys + m->mcache_sys + m->buck_hash_sys + m->gc_sys +
		 m->other_sys;
	if (heap.gc)
		heap.gc->stats(m);	// NumGC, pauses, NextGC, EnableGC, ...
}

void memstats_print(const struct memstats *m)
{
	kprintf("# runtime.MemStats\n");
	const struct {
		const char *name;
		u64 v;
	} f[] = {
		{"Alloc", m->alloc}, {"TotalAlloc", m->total_alloc}, {"Sys", m->sys},
		{"Lookups", m->lookups}, {"Mallocs", m->mallocs}, {"Frees", m->frees},
		{"HeapAlloc", m->heap_alloc}, {"HeapSys", m->heap_sys}, {"HeapIdle", m->heap_idle},
		{"HeapInuse", m->heap_inuse}, {"HeapReleased", m->heap_released},
		{"HeapObjects", m->heap_objects}, {"Stack", 0}, {"MSpan", 0}, {"MCache", 0},
		{"BuckHashSys", m->buck_hash_sys}, {"GCSys", m->gc_sys}, {"OtherSys", m->other_sys},
		{"NextGC", m->next_gc}, {"LastGC", m->last_gc}, {"PauseTotalNs", m->pause_total_ns},
		{"NumGC", m->num_gc}, {"NumForcedGC", m->num_forced_gc},
	};
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		// Go prints the in-use/sys pairs on one line each.
		if (!strcmp(f[i].name, "Stack"))
			kprintf("# Stack = %lu / %lu\n", m->stack_inuse, m->stack_sys);
		else if (!strcmp(f[i].name, "MSpan"))
			kprintf("# MSpan = %lu / %lu\n", m->mspan_inuse, m->mspan_sys);
		else if (!strcmp(f[i].name, "MCache"))
			kprintf("# MCache = %lu / %lu\n", m->mcache_inuse, m->mcache_sys);
		else
			kprintf("# %s = %lu\n", f[i].name, f[i].v);
	}
	kprintf("# GCCPUFraction = %u.%06u\n", m->gc_cpu_fraction_ppm / 1000000, m->gc_cpu_fraction_ppm % 1000000);
	kprintf("# EnableGC = %s\n# DebugGC = %s\n", m->enable_gc ? "true" : "false", m->debug_gc ? "true" : "false");
	kprintf("# BySize = [");
	for (unsigned cls = 1; cls < NUM_SIZE_CLASSES; cls++)
		kprintf("%s{%u %lu %lu}", cls > 1 ? " " : "", m->by_size[cls].size, m->by_size[cls].mallocs,
			m->by_size[cls].frees);
	kprintf("]\n");
}

void heap_print_classes(void)
{
	static struct {
		u64 spans, inuse, total, bytes;
	} cl[NUM_SPAN_CLASSES];
	memset(cl, 0, sizeof(cl));
	u64 large = 0, large_bytes = 0;
	spin_lock(&heap.lock);
	list_for_each(e, &heap.inuse) {
		struct mspan *s = list_entry(e, struct mspan, all_link);
		if (spanclass_size(s->spanclass) == 0) {
			large++;
			large_bytes += s->npages << HEAP_PAGE_SHIFT;
			continue;
		}
		cl[s->spanclass].spans++;
		cl[s->spanclass].inuse += span_nalloc(s);	// a snapshot
		cl[s->spanclass].total += s->nelems;
		cl[s->spanclass].bytes += s->npages << HEAP_PAGE_SHIFT;
	}
	spin_unlock(&heap.lock);
	kprintf("# heap classes: class size kind spans objs-in-use objs-total span-bytes\n");
	for (unsigned sc = 2; sc < NUM_SPAN_CLASSES; sc++)
		if (cl[sc].spans)
			kprintf("  %2u %5u %-6s %6lu %10lu %10lu %10lu\n", spanclass_size((u8)sc),
				class_to_size[spanclass_size((u8)sc)], spanclass_noscan((u8)sc) ? "noscan" : "scan",
				cl[sc].spans, cl[sc].inuse, cl[sc].total, cl[sc].bytes);
	kprintf("  large: %lu objects, %lu bytes\n", large, large_bytes);
}
