// Usable physical memory at boot: the loader's normalized memory map,
// page-aligned inward, minus the first MiB and the ranges the kernel
// already occupies (its image, the boot information). Boot-time structures
// (page tables, the frame descriptor array) are carved from it before the
// buddy allocator takes the rest. See mm/frame.c for the overview.

#include "mm/mm.h"

static void add(struct memmap *m, u64 start, u64 end)
{
	if (start >= end)
		return;
	if (m->n == MEMMAP_MAX) {
		m->dropped++;
		return;
	}
	m->r[m->n++] = (struct phys_range){start, end};
}

// Removes [s, e) from every range, splitting a range that contains it.
static void subtract(struct memmap *m, u64 s, u64 e)
{
	struct memmap out = {.n = 0, .dropped = m->dropped};
	for (u32 i = 0; i < m->n; i++) {
		struct phys_range r = m->r[i];
		if (e <= r.start || s >= r.end) {
			add(&out, r.start, r.end);
			continue;
		}
		add(&out, r.start, MIN(s, r.end));
		add(&out, MAX(e, r.start), r.end);
	}
	*m = out;
}

void memmap_build(const struct mem_range *map, u32 n, const struct phys_range *reserved, u32 nres,
		  struct memmap *out)
{
	out->n = 0;
	out->dropped = 0;
	for (u32 i = 0; i < n; i++) {
		if (map[i].type != MEM_USABLE)
			continue;
		u64 end = map[i].len > UINT64_MAX - map[i].base ? UINT64_MAX : map[i].base + map[i].len;
		u64 s = ALIGN_UP(map[i].base, PAGE_SIZE), e = ALIGN_DOWN(end, PAGE_SIZE);
		if (s < map[i].base)
			continue;	// rounding up wrapped past the top
		add(out, s, e);
	}
	subtract(out, 0, 1ul << 20);	// BIOS data, EBDA, the AP trampoline's future home
	for (u32 i = 0; i < nres; i++)
		subtract(out, ALIGN_DOWN(reserved[i].start, PAGE_SIZE), ALIGN_UP(reserved[i].end, PAGE_SIZE));
	// Input ranges were sorted and disjoint; splitting keeps them so.
}

u64 memmap_bytes(const struct memmap *m)
{
	u64 sum = 0;
	for (u32 i = 0; i < m->n; i++)
		sum += m->r[i].end - m->r[i].start;
	return sum;
}

u64 memmap_take(struct memmap *m, u64 size, u64 limit)
{
	for (u32 i = m->n; i-- > 0;) {
		struct phys_range *r = &m->r[i];
		u64 end = MIN(r->end, limit);
		if (end <= r->start || end - r->start < size)
			continue;
		u64 pa = end - size;
		if (end == r->end) {
			r->end = pa;
		} else {
			// Taken from the middle (the range crosses limit): keep the tail.
			u64 tail = r->end;
			r->end = pa;
			add(m, end, tail);
			// add() appended; restore order by bubbling the tail into place.
			for (u32 j = m->n - 1; j > 0 && m->r[j - 1].start > m->r[j].start; j--) {
				struct phys_range x = m->r[j];
				m->r[j] = m->r[j - 1];
				m->r[j - 1] = x;
			}
		}
		return pa;
	}
	return 0;
}
