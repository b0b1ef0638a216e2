// Boot information conversion from synthetic Multiboot2 and PVH blocks
// (messy memory maps, malformed structures), map normalization, and the
// bootinfo this kernel actually booted with.

#include "kernel/bootinfo.h"
#include "kernel/layout.h"
#include "kernel/string.h"
#include "tests/kernel/ktest.h"

// Synthetic physical memory: a few buffers pretending to live at fixed
// physical addresses. Reads outside them fail, like unmapped memory.
struct fake_region {
	u64 pa;
	const void *buf;
	size_t len;
};
struct fake_mem {
	struct fake_region r[4];
	int n;
};

static bool fake_read(void *ctx, u64 pa, void *dst, size_t len)
{
	struct fake_mem *m = ctx;
	for (int i = 0; i < m->n; i++) {
		const struct fake_region *r = &m->r[i];
		if (pa >= r->pa && len <= r->len && pa - r->pa <= r->len - len) {
			memcpy(dst, (const u8 *)r->buf + (pa - r->pa), len);
			return true;
		}
	}
	return false;
}

// ---- Multiboot2 block builder
static u8 mb[4096] __attribute__((aligned(8)));
static u32 mb_len;

static void mb_begin(void)
{
	memset(mb, 0, sizeof(mb));
	mb_len = 8;
}

static void mb_tag(u32 type, const void *body, u32 len)
{
	u32 hdr[2] = {type, 8 + len};
	memcpy(mb + mb_len, hdr, 8);
	memcpy(mb + mb_len + 8, body, len);
	mb_len = ALIGN_UP(mb_len + 8 + len, 8);
}

static void mb_mmap(const struct mem_range *r, int n, u32 entry_size)
{
	u8 body[8 + 32 * 40];
	u32 v[2] = {entry_size, 0};	// entry_size, entry_version
	memcpy(body, v, 8);
	memset(body + 8, 0, sizeof(body) - 8);
	for (int i = 0; i < n; i++) {
		u8 *e = body + 8 + i * entry_size;
		memcpy(e, &r[i].base, 8);
		memcpy(e + 8, &r[i].len, 8);
		memcpy(e + 16, &r[i].type, 4);
	}
	mb_tag(6, body, 8 + n * entry_size);
}

static void mb_end(void)
{
	mb_tag(0, NULL, 0);
	u32 total = mb_len;
	memcpy(mb, &total, 4);
}

static int mb_convert(struct bootinfo *bi)
{
	struct fake_mem m = {.r = {{0x9000, mb, sizeof(mb)}}, .n = 1};
	return bootinfo_from_multiboot2(0x9000, fake_read, &m, bi);
}

static struct bootinfo bi;

static const u8 rsdp_v1[20] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ', 0, 'B', 'O', 'C', 'H', 'S', ' ', 0};

#define EXPECT_RANGE(t, bi, i, b, l, ty)                                                        \
	KT_EXPECT(t, (bi).nmmap > (i) && (bi).mmap[i].base == (b) && (bi).mmap[i].len == (l) &&   \
			     (bi).mmap[i].type == (ty),                                           \
		  "range %d: got [%#lx +%#lx type %u], want [%#lx +%#lx type %u]", (i),           \
		  (bi).mmap[i].base, (bi).mmap[i].len, (bi).mmap[i].type, (u64)(b), (u64)(l), (u32)(ty))

KTEST(bootinfo, multiboot2_basic)
{
	static const struct mem_range map[] = {
		{0, 0x9fc00, MEM_USABLE},
		{0x9fc00, 0x400, MEM_RESERVED},
		{0x100000, 0x1ff00000, MEM_USABLE},
	};
	mb_begin();
	mb_tag(1, "test gctrace=1", 15);
	mb_tag(2, "GRUB 2.06", 10);
	mb_mmap(map, 3, 24);
	mb_tag(14, rsdp_v1, sizeof(rsdp_v1));
	mb_end();
	KT_ASSERT(t, mb_convert(&bi) == 0, "conversion failed: %s", bi.warning[0]);
	KT_EXPECT_EQ(t, bi.protocol, BOOT_MULTIBOOT2);
	KT_EXPECT_STREQ(t, bi.cmdline, "test gctrace=1");
	KT_EXPECT_STREQ(t, bi.loader, "GRUB 2.06");
	KT_EXPECT_EQ(t, bi.nmmap, 3);
	EXPECT_RANGE(t, bi, 0, 0, 0x9fc00, MEM_USABLE);
	EXPECT_RANGE(t, bi, 1, 0x9fc00, 0x400, MEM_RESERVED);
	EXPECT_RANGE(t, bi, 2, 0x100000, 0x1ff00000, MEM_USABLE);
	KT_EXPECT_EQ(t, bi.rsdp_len, 20);
	KT_EXPECT(t, memcmp(bi.rsdp, "RSD PTR ", 8) == 0, "RSDP not copied");
	KT_EXPECT_EQ(t, bi.warnings, 0);
	KT_EXPECT_EQ(t, bi.info_phys, 0x9000);
	KT_EXPECT_EQ(t, bootinfo_usable_bytes(&bi), 0x9fc00 + 0x1ff00000);
}

// Unsorted, overlapping, zero-length and duplicate entries, plus one
// above 4 GiB; the result is the same for both boot protocols.
static const struct mem_range messy[] = {
	{0x100000, 0x7f00000, MEM_USABLE},	// 1 MiB .. 128 MiB
	{0, 0x9fc00, MEM_USABLE},
	{0x500000, 0, MEM_RESERVED},		// zero length: dropped
	{0x1000000, 0x100000, MEM_RESERVED},	// punches a hole in the usable range
	{0x100000000, 0x40000000, MEM_USABLE},	// 4 GiB .. 5 GiB
	{0x7000000, 0x2000000, MEM_ACPI_NVS},	// overlaps the end of the first range
	{0, 0x9fc00, MEM_USABLE},		// duplicate
	{0x13ff00000, 0x200000, MEM_USABLE},	// overlaps, same type: merges
};

static void expect_messy_normalized(struct kt *t, const struct bootinfo *b)
{
	KT_EXPECT_EQ(t, b->nmmap, 6);
	EXPECT_RANGE(t, *b, 0, 0, 0x9fc00, MEM_USABLE);
	EXPECT_RANGE(t, *b, 1, 0x100000, 0xf00000, MEM_USABLE);
	EXPECT_RANGE(t, *b, 2, 0x1000000, 0x100000, MEM_RESERVED);
	EXPECT_RANGE(t, *b, 3, 0x1100000, 0x5f00000, MEM_USABLE);
	EXPECT_RANGE(t, *b, 4, 0x7000000, 0x2000000, MEM_ACPI_NVS);
	EXPECT_RANGE(t, *b, 5, 0x100000000, 0x40100000, MEM_USABLE);
	KT_EXPECT_EQ(t, b->mmap_raw, ARRAY_SIZE(messy));
	KT_EXPECT_EQ(t, b->mmap_dropped, 1);
	// Sorted and disjoint, whatever the input looked like.
	for (u32 i = 1; i < b->nmmap; i++)
		KT_EXPECT(t, b->mmap[i - 1].base + b->mmap[i - 1].len <= b->mmap[i].base,
			  "ranges %u and %u overlap or are unsorted", i - 1, i);
}

KTEST(bootinfo, multiboot2_messy_map)
{
	mb_begin();
	mb_mmap(messy, ARRAY_SIZE(messy), 24);
	mb_end();
	KT_ASSERT(t, mb_convert(&bi) == 0, "conversion failed: %s", bi.warning[0]);
	expect_messy_normalized(t, &bi);
	// A larger entry_size (newer entry versions) is stepped over correctly.
	mb_begin();
	mb_mmap(messy, ARRAY_SIZE(messy), 32);
	mb_end();
	KT_ASSERT(t, mb_convert(&bi) == 0, "conversion failed: %s", bi.warning[0]);
	expect_messy_normalized(t, &bi);
}

KTEST(bootinfo, multiboot2_malformed)
{
	u32 bad_total[2] = {4, 0};
	struct fake_mem m = {.r = {{0x9000, bad_total, 8}}, .n = 1};
	KT_EXPECT_EQ(t, bootinfo_from_multiboot2(0x9000, fake_read, &m, &bi), -1);
	KT_EXPECT(t, bi.warnings == 1 && strstr(bi.warning[0], "impossible size"), "warning \"%s\"",
		  bi.warning[0]);
	bad_total[0] = 0x7fffffff;
	KT_EXPECT_EQ(t, bootinfo_from_multiboot2(0x9000, fake_read, &m, &bi), -1);
	// Nothing readable there at all.
	KT_EXPECT_EQ(t, bootinfo_from_multiboot2(0x123000, fake_read, &m, &bi), -1);

	// A tag too small to be a tag: earlier tags survive, parsing stops.
	mb_begin();
	mb_tag(1, "keep me", 8);
	u32 tiny[2] = {2, 4};
	memcpy(mb + mb_len, tiny, 8);
	mb_len += 8;
	mb_end();
	KT_ASSERT(t, mb_convert(&bi) == 0, "conversion failed");
	KT_EXPECT_STREQ(t, bi.cmdline, "keep me");
	KT_EXPECT(t, bi.warnings >= 1 && strstr(bi.warning[0], "bad size"), "warning \"%s\"", bi.warning[0]);

	// A tag claiming to run past the end of the block.
	mb_begin();
	u32 huge[2] = {1, 4000};
	memcpy(mb + mb_len, huge, 8);
	mb_len += 8;
	mb_end();
	KT_ASSERT(t, mb_convert(&bi) == 0, "conversion failed");
	KT_EXPECT(t, bi.warnings >= 1 && strstr(bi.warning[0], "bad size"), "warning \"%s\"", bi.warning[0]);

	// Memory-map entries too small to hold an entry are refused.
	static const struct mem_range one[] = {{0x100000, 0x100000, MEM_USABLE}};
	mb_begin();
	mb_mmap(one, 1, 16);
	mb_end();
	KT_ASSERT(t, mb_convert(&bi) == 0, "conversion failed");
	KT_EXPECT_EQ(t, bi.nmmap, 0);
	KT_EXPECT(t, bi.warnings >= 1 && strstr(bi.warning[0], "malformed"), "warning \"%s\"", bi.warning[0]);

	// No end tag: everything read is kept, with a warning.
	mb_begin();
	mb_tag(1, "x", 2);
	u32 total = mb_len;
	memcpy(mb, &total, 4);
	KT_ASSERT(t, mb_convert(&bi) == 0, "conversion failed");
	KT_EXPECT_STREQ(t, bi.cmdline, "x");
	KT_EXPECT(t, bi.warnings >= 1 && strstr(bi.warning[0], "no end tag"), "warning \"%s\"", bi.warning[0]);
}

KTEST(bootinfo, multiboot2_acpi)
{
	u8 v2[36];
	memcpy(v2, rsdp_v1, 20);
	v2[15] = 2;
	memset(v2 + 20, 0xab, 16);
	mb_begin();
	mb_tag(14, rsdp_v1, 20);
	mb_tag(15, v2, 36);
	mb_end();
	KT_ASSERT(t, mb_convert(&bi) == 0, "conversion failed");
	KT_EXPECT_EQ(t, bi.rsdp_len, 36);	// the v2 copy wins
	KT_EXPECT_EQ(t, bi.rsdp[15], 2);
	u8 junk[20] = "NOT A RSDP AT ALL!!";
	mb_begin();
	mb_tag(14, junk, 20);
	mb_end();
	KT_ASSERT(t, mb_convert(&bi) == 0, "conversion failed");
	KT_EXPECT_EQ(t, bi.rsdp_len, 0);
	KT_EXPECT(t, bi.warnings >= 1 && strstr(bi.warning[0], "RSD PTR"), "warning \"%s\"", bi.warning[0]);
}

// ---- PVH
struct pvh_start {
	u32 magic, version, flags, nr_modules;
	u64 modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	u32 memmap_entries, reserved;
};
struct pvh_entry {
	u64 addr, size;
	u32 type, reserved;
};

static struct pvh_start si;
static struct pvh_entry pmap[16];
static char pcmd[CMDLINE_MAX + 64];

static int pvh_convert(struct bootinfo *b, const struct mem_range *r, u32 n)
{
	memset(pmap, 0, sizeof(pmap));
	for (u32 i = 0; i < n; i++)
		pmap[i] = (struct pvh_entry){r[i].base, r[i].len, r[i].type, 0};
	si.magic = PVH_BOOT_MAGIC;
	si.version = 1;
	si.memmap_paddr = 0x20000;
	si.memmap_entries = n;
	si.cmdline_paddr = 0x30000;
	si.rsdp_paddr = 0x40000;
	struct fake_mem m = {
		.r = {{0x10000, &si, sizeof(si)}, {0x20000, pmap, sizeof(pmap)}, {0x30000, pcmd, sizeof(pcmd)},
		      {0x40000, rsdp_v1, sizeof(rsdp_v1)}},
		.n = 4,
	};
	return bootinfo_from_pvh(0x10000, fake_read, &m, b);
}

KTEST(bootinfo, pvh_basic)
{
	static const struct mem_range map[] = {
		{0, 0x9fc00, MEM_USABLE},
		{0x100000, 0x1ff00000, MEM_USABLE},
		{0xfffc0000, 0x40000, MEM_RESERVED},
	};
	strlcpy(pcmd, "test=frame.* gcpercent=off", sizeof(pcmd));
	KT_ASSERT(t, pvh_convert(&bi, map, 3) == 0, "conversion failed: %s", bi.warning[0]);
	KT_EXPECT_EQ(t, bi.protocol, BOOT_PVH);
	KT_EXPECT_STREQ(t, bi.cmdline, "test=frame.* gcpercent=off");
	KT_EXPECT_EQ(t, bi.nmmap, 3);
	EXPECT_RANGE(t, bi, 1, 0x100000, 0x1ff00000, MEM_USABLE);
	EXPECT_RANGE(t, bi, 2, 0xfffc0000, 0x40000, MEM_RESERVED);
	KT_EXPECT_EQ(t, bi.rsdp_len, 20);
	KT_EXPECT_EQ(t, bi.warnings, 0);
}

KTEST(bootinfo, pvh_messy_map)
{
	pcmd[0] = 0;
	KT_ASSERT(t, pvh_convert(&bi, messy, ARRAY_SIZE(messy)) == 0, "conversion failed");
	expect_messy_normalized(t, &bi);
}

KTEST(bootinfo, pvh_malformed)
{
	static const struct mem_range map[] = {{0x100000, 0x100000, MEM_USABLE}};
	pcmd[0] = 0;
	// The map claims more entries than are readable: cut short, warned.
	si.magic = PVH_BOOT_MAGIC;
	KT_ASSERT(t, pvh_convert(&bi, map, 1) == 0, "conversion failed");
	si.memmap_entries = 1000;
	struct fake_mem m = {.r = {{0x10000, &si, sizeof(si)}, {0x20000, pmap, sizeof(pmap)}}, .n = 2};
	si.cmdline_paddr = 0;
	si.rsdp_paddr = 0;
	KT_ASSERT(t, bootinfo_from_pvh(0x10000, fake_read, &m, &bi) == 0, "conversion failed");
	KT_EXPECT(t, bi.warnings >= 1 && strstr(bi.warning[0], "cut short"), "warning \"%s\"", bi.warning[0]);
	KT_EXPECT_EQ(t, bi.nmmap, 1);

	// Bad magic: refused.
	si.magic = 0x12345678;
	KT_EXPECT_EQ(t, bootinfo_from_pvh(0x10000, fake_read, &m, &bi), -1);

	// A command line longer than CMDLINE_MAX is truncated, with a warning.
	memset(pcmd, 'a', sizeof(pcmd) - 1);
	pcmd[sizeof(pcmd) - 1] = 0;
	KT_ASSERT(t, pvh_convert(&bi, map, 1) == 0, "conversion failed");
	KT_EXPECT_EQ(t, strlen(bi.cmdline), CMDLINE_MAX - 1);
	KT_EXPECT_EQ(t, bi.cmdline_truncated, true);
	KT_EXPECT(t, bi.warnings >= 1 && strstr(bi.warning[0], "truncated"), "warning \"%s\"", bi.warning[0]);
	pcmd[0] = 0;
}

KTEST(bootinfo, normalize_limits)
{
	static struct mem_range in[BOOT_MMAP_MAX + 10], out[BOOT_MMAP_MAX];
	u32 dropped = 0;
	// A range running past the top of the address space is clamped.
	in[0] = (struct mem_range){0xfffffffffff00000, 0x200000, MEM_RESERVED};
	u32 n = mmap_normalize(in, 1, out, BOOT_MMAP_MAX, &dropped);
	KT_EXPECT_EQ(t, n, 1);
	KT_EXPECT_EQ(t, out[0].base + out[0].len, UINT64_MAX);
	// More disjoint ranges than fit: the extra are counted as dropped.
	for (u32 i = 0; i < BOOT_MMAP_MAX + 10; i++)
		in[i] = (struct mem_range){(u64)i << 24, 1 << 20, i % 2 ? MEM_USABLE : MEM_RESERVED};
	dropped = 0;
	n = mmap_normalize(in, BOOT_MMAP_MAX + 10, out, 16, &dropped);
	KT_EXPECT_EQ(t, n, 16);
	KT_EXPECT_EQ(t, dropped, 10 + (BOOT_MMAP_MAX - 16));
	// Touching ranges of one type merge into one.
	in[0] = (struct mem_range){0x1000, 0x1000, MEM_USABLE};
	in[1] = (struct mem_range){0x2000, 0x1000, MEM_USABLE};
	in[2] = (struct mem_range){0x3000, 0x1000, MEM_USABLE};
	dropped = 0;
	n = mmap_normalize(in, 3, out, BOOT_MMAP_MAX, &dropped);
	KT_EXPECT_EQ(t, n, 1);
	KT_EXPECT_EQ(t, out[0].len, 0x3000);
	// A map with almost nothing usable still converts.
	in[0] = (struct mem_range){0, 0x100000000, MEM_RESERVED};
	in[1] = (struct mem_range){0x200000, 0x1000, MEM_USABLE};
	n = mmap_normalize(in, 2, out, BOOT_MMAP_MAX, &dropped);
	KT_EXPECT_EQ(t, n, 1);
	KT_EXPECT_EQ(t, out[0].type, MEM_RESERVED);
}

KTEST(bootinfo, booted_with_usable_memory)
{
	extern const char _kernel_end[];
	u64 kstart = KERNEL_PHYS, kend = (u64)_kernel_end - KERNEL_VMA;
	KT_EXPECT(t, bootinfo.nmmap > 0, "no memory map");
	KT_EXPECT(t, bootinfo_usable_bytes(&bootinfo) >= (16ull << 20), "only %lu bytes usable",
		  bootinfo_usable_bytes(&bootinfo));
	bool covered = false;
	for (u32 i = 0; i < bootinfo.nmmap; i++) {
		const struct mem_range *r = &bootinfo.mmap[i];
		if (r->type == MEM_USABLE && r->base <= kstart && r->base + r->len >= kend)
			covered = true;
	}
	KT_EXPECT(t, covered, "kernel image [%#lx, %#lx) is not inside one usable range", kstart, kend);
	KT_EXPECT(t, strstr(bootinfo.cmdline, "test") != NULL, "command line \"%s\"", bootinfo.cmdline);
	KT_EXPECT(t, bootinfo.loader[0] != 0, "no loader name");
}
