// Boot memory map -> usable frame ranges, from synthetic maps.

#include "kernel/string.h"
#include "mm/mm.h"
#include "tests/kernel/ktest.h"

static struct memmap m;

#define EXPECT_PRANGE(t, i, s, e)                                                                 \
	KT_EXPECT(t, m.n > (i) && m.r[i].start == (s) && m.r[i].end == (e),                         \
		  "range %d: got [%#lx, %#lx), want [%#lx, %#lx)", (i), m.r[i].start, m.r[i].end, (u64)(s), \
		  (u64)(e))

KTEST(memmap, removes_first_mib_and_reserved)
{
	static const struct mem_range map[] = {
		{0, 0x9fc00, MEM_USABLE},
		{0x9fc00, 0x400, MEM_RESERVED},
		{0x100000, 0x3f00000, MEM_USABLE},	// 1 MiB .. 64 MiB
	};
	static const struct phys_range res[] = {
		{0x100000, 0x14b123},		// a kernel image, unaligned end
		{0x200064, 0x2000c8},		// boot info inside a page
	};
	memmap_build(map, 3, res, 2, &m);
	KT_EXPECT_EQ(t, m.n, 2);
	EXPECT_PRANGE(t, 0, 0x14c000, 0x200000);
	EXPECT_PRANGE(t, 1, 0x201000, 0x4000000);
	KT_EXPECT_EQ(t, memmap_bytes(&m), (0x200000 - 0x14c000) + (0x4000000 - 0x201000));
}

KTEST(memmap, holes_unaligned_and_high_memory)
{
	static struct mem_range raw[] = {
		{0x180000000, 0x80000000, MEM_USABLE},	// 6..8 GiB, given first
		{0x100800, 0x10000, MEM_USABLE},		// unaligned: rounded inward
		{0x2000000, 0x1000000, MEM_USABLE},
		{0x2800000, 0x100000, MEM_RESERVED},	// overlaps: reserved wins
		{0x5000000, 0x0, MEM_USABLE},		// empty
	};
	struct mem_range norm[8];
	u32 dropped = 0;
	u32 n = mmap_normalize(raw, ARRAY_SIZE(raw), norm, 8, &dropped);
	memmap_build(norm, n, NULL, 0, &m);
	KT_EXPECT_EQ(t, m.n, 4);
	EXPECT_PRANGE(t, 0, 0x101000, 0x110000);
	EXPECT_PRANGE(t, 1, 0x2000000, 0x2800000);
	EXPECT_PRANGE(t, 2, 0x2900000, 0x3000000);
	EXPECT_PRANGE(t, 3, 0x180000000, 0x200000000);
}

KTEST(memmap, almost_no_usable_ram)
{
	static const struct mem_range map[] = {
		{0, 0xa0000, MEM_USABLE},		// all below 1 MiB
		{0x100000, 0x800, MEM_USABLE},		// less than a page
		{0x200000, 0x100000000, MEM_RESERVED},
	};
	memmap_build(map, 3, NULL, 0, &m);
	KT_EXPECT_EQ(t, m.n, 0);
	KT_EXPECT_EQ(t, memmap_bytes(&m), 0);
	KT_EXPECT_EQ(t, memmap_take(&m, PAGE_SIZE, UINT64_MAX), 0);
}

KTEST(memmap, take_from_the_top_below_a_limit)
{
	static const struct mem_range map[] = {
		{0x100000, 0x700000, MEM_USABLE},		// 1..8 MiB
		{0xf0000000, 0x20000000, MEM_USABLE},	// 3.75..4.25 GiB
	};
	memmap_build(map, 2, NULL, 0, &m);
	// Below 4 GiB: cut out of the middle of the crossing range, tail kept.
	KT_EXPECT_EQ(t, memmap_take(&m, 0x2000, 0x100000000), 0x100000000 - 0x2000);
	KT_EXPECT_EQ(t, m.n, 3);
	EXPECT_PRANGE(t, 1, 0xf0000000, 0xffffe000);
	EXPECT_PRANGE(t, 2, 0x100000000, 0x110000000);
	// No limit: from the top of the highest range.
	KT_EXPECT_EQ(t, memmap_take(&m, 0x1000, UINT64_MAX), 0x10ffff000);
	// Larger than any range: nothing taken.
	KT_EXPECT_EQ(t, memmap_take(&m, 0x40000000, UINT64_MAX), 0);
	KT_EXPECT_EQ(t, memmap_take(&m, 0x1000, 0x200000), 0x1ff000);
}
