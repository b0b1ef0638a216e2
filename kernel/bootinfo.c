// Boot information conversion: Multiboot2 info tags and PVH hvm_start_info
// into struct bootinfo, with a normalized memory map.
//
// Everything is read through a phys_read_fn with explicit bounds, so a
// malformed structure produces a warning, never a wild read; the tests feed
// synthetic blocks through the same path.

#include "kernel/bootinfo.h"
#include "kernel/layout.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/string.h"

struct bootinfo bootinfo;

// Multiboot2 information (the spec's structures).
struct mb2_info_header {
	u32 total_size, reserved;
};
struct mb2_tag {
	u32 type, size;
};
struct mb2_mmap_header {
	u32 type, size, entry_size, entry_version;
};
struct mb2_mmap_entry {
	u64 base, len;
	u32 type, reserved;
};
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER 2
#define MB2_TAG_MMAP 6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_INFO_MAX (1u << 20)	// larger is taken as corrupt

// PVH start info (Xen's public arch-x86/hvm/start_info.h layout).
struct hvm_start_info {
	u32 magic, version, flags, nr_modules;
	u64 modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	u32 memmap_entries, reserved;
};
struct hvm_memmap_entry {
	u64 addr, size;
	u32 type, reserved;
};

const char *mem_type_name(u32 type)
{
	switch (type) {
	case MEM_USABLE: return "usable";
	case MEM_RESERVED: return "reserved";
	case MEM_ACPI_RECLAIMABLE: return "ACPI data";
	case MEM_ACPI_NVS: return "ACPI NVS";
	case MEM_BAD: return "unusable";
	default: return "reserved (unknown type)";
	}
}

static __printf(2, 3) void bi_warn(struct bootinfo *bi, const char *fmt, ...)
{
	if (bi->warnings < (int)ARRAY_SIZE(bi->warning)) {
		va_list ap;
		va_start(ap, fmt);
		kvsnprintf(bi->warning[bi->warnings], sizeof(bi->warning[0]), fmt, ap);
		va_end(ap);
	}
	bi->warnings++;
}

bool boot_phys_read(void *ctx, u64 pa, void *dst, size_t len)
{
	(void)ctx;
	if (pa >= BOOT_DIRECT_MAP_SIZE || len > BOOT_DIRECT_MAP_SIZE - pa)
		return false;
	memcpy(dst, phys_to_virt(pa), len);
	return true;
}

// Which type wins where ranges overlap: anything beats usable RAM, and
// plain reserved (or an unknown type) beats everything.
static int type_rank(u32 type)
{
	switch (type) {
	case MEM_USABLE: return 0;
	case MEM_ACPI_RECLAIMABLE: return 1;
	case MEM_ACPI_NVS: return 2;
	case MEM_BAD: return 3;
	default: return 4;
	}
}

static void sort_u64(u64 *a, u32 n)
{
	for (u32 i = 1; i < n; i++)
		for (u32 j = i; j > 0 && a[j - 1] > a[j]; j--) {
			u64 t = a[j];
			a[j] = a[j - 1];
			a[j - 1] = t;
		}
}

u32 mmap_normalize(const struct mem_range *in, u32 n, struct mem_range *out, u32 max, u32 *dropped)
{
	// Cut the address space at every range boundary; each piece between two
	// cuts gets the winning type of the ranges covering it, then equal
	// neighbours merge. O(n^2) for n <= BOOT_MMAP_MAX is nothing at boot.
	u64 cuts[2 * BOOT_MMAP_MAX];
	u32 ncuts = 0, nout = 0;
	if (n > BOOT_MMAP_MAX) {
		*dropped += n - BOOT_MMAP_MAX;
		n = BOOT_MMAP_MAX;
	}
	for (u32 i = 0; i < n; i++) {
		if (in[i].len == 0) {
			(*dropped)++;
			continue;
		}
		u64 end = in[i].len > UINT64_MAX - in[i].base ? UINT64_MAX : in[i].base + in[i].len;
		cuts[ncuts++] = in[i].base;
		cuts[ncuts++] = end;
	}
	sort_u64(cuts, ncuts);
	for (u32 c = 0; c + 1 < ncuts; c++) {
		u64 lo = cuts[c], hi = cuts[c + 1];
		if (lo == hi)
			continue;
		int best = -1;
		u32 type = 0;
		for (u32 i = 0; i < n; i++) {
			if (in[i].len == 0)
				continue;
			u64 end = in[i].len > UINT64_MAX - in[i].base ? UINT64_MAX : in[i].base + in[i].len;
			if (in[i].base <= lo && end >= hi && type_rank(in[i].type) > best) {
				best = type_rank(in[i].type);
				type = in[i].type;
			}
		}
		if (best < 0)
			continue;	// a hole
		if (nout && out[nout - 1].type == type && out[nout - 1].base + out[nout - 1].len == lo) {
			out[nout - 1].len += hi - lo;
		} else if (nout < max) {
			out[nout++] = (struct mem_range){lo, hi - lo, type};
		} else {
			(*dropped)++;
		}
	}
	return nout;
}

static void set_cmdline(struct bootinfo *bi, phys_read_fn read, void *ctx, u64 pa, u64 maxlen)
{
	size_t i;
	for (i = 0; i < maxlen && i < CMDLINE_MAX - 1; i++) {
		char c;
		if (!read(ctx, pa + i, &c, 1)) {
			bi_warn(bi, "command line at %#lx runs into unreadable memory; cut at %zu bytes", pa, i);
			break;
		}
		if (!c)
			break;
		bi->cmdline[i] = c;
	}
	bi->cmdline[i] = 0;
	if (i == CMDLINE_MAX - 1 && i < maxlen) {
		char c = 0;
		if (read(ctx, pa + i, &c, 1) && c) {
			bi->cmdline_truncated = true;
			bi_warn(bi, "command line longer than %d bytes; truncated", CMDLINE_MAX - 1);
		}
	}
}

static void set_rsdp(struct bootinfo *bi, const u8 *p, u32 len)
{
	if (len < 20 || memcmp(p, "RSD PTR ", 8) != 0) {
		bi_warn(bi, "ACPI RSDP from the loader has no 'RSD PTR ' signature; ignored");
		return;
	}
	if (len > sizeof(bi->rsdp))
		len = sizeof(bi->rsdp);
	if (p[15] < 2 && len > 20)
		len = 20;	// a v1 RSDP is 20 bytes
	memcpy(bi->rsdp, p, len);
	bi->rsdp_len = len;
}

static void finish_mmap(struct bootinfo *bi, const struct mem_range *raw, u32 n)
{
	bi->mmap_raw = n;
	bi->nmmap = mmap_normalize(raw, n, bi->mmap, BOOT_MMAP_MAX, &bi->mmap_dropped);
	if (bi->nmmap == 0)
		bi_warn(bi, "the loader gave no memory map");
}

int bootinfo_from_multiboot2(u64 info_pa, phys_read_fn read, void *ctx, struct bootinfo *bi)
{
	static struct mem_range raw[BOOT_MMAP_MAX];
	u32 nraw = 0, overflow = 0;
	struct mb2_info_header h;

	memset(bi, 0, sizeof(*bi));
	bi->protocol = BOOT_MULTIBOOT2;
	strlcpy(bi->loader, "unknown (multiboot2)", sizeof(bi->loader));
	if (!read(ctx, info_pa, &h, sizeof(h)) || h.total_size < 16 || h.total_size > MB2_INFO_MAX) {
		bi_warn(bi, "multiboot2 info at %#lx unreadable or with impossible size", info_pa);
		return -1;
	}
	bi->info_phys = info_pa;
	bi->info_len = h.total_size;

	bool ended = false;
	for (u64 off = 8; off + 8 <= h.total_size; off = ALIGN_UP(off + 8, 8)) {
		struct mb2_tag t;
		if (!read(ctx, info_pa + off, &t, sizeof(t))) {
			bi_warn(bi, "multiboot2 tag at offset %lu unreadable", off);
			break;
		}
		if (t.type == MB2_TAG_END) {
			ended = true;
			break;
		}
		if (t.size < 8 || t.size > h.total_size - off) {
			bi_warn(bi, "multiboot2 tag type %u at offset %lu has bad size %u; stopped", t.type, off,
				t.size);
			break;
		}
		u64 body = info_pa + off + 8, blen = t.size - 8;
		switch (t.type) {
		case MB2_TAG_CMDLINE:
			set_cmdline(bi, read, ctx, body, blen);
			break;
		case MB2_TAG_LOADER: {
			size_t n = MIN(blen, sizeof(bi->loader) - 1);
			if (read(ctx, body, bi->loader, n))
				bi->loader[n] = 0;
			bi->loader[strnlen(bi->loader, n)] = 0;
			break;
		}
		case MB2_TAG_MMAP: {
			struct mb2_mmap_header m;
			if (t.size < sizeof(m) || !read(ctx, info_pa + off, &m, sizeof(m)) ||
			    m.entry_size < sizeof(struct mb2_mmap_entry) || m.entry_size % 8) {
				bi_warn(bi, "multiboot2 memory map tag malformed (entry size %u); ignored",
					t.size >= sizeof(m) ? m.entry_size : 0);
				break;
			}
			for (u64 e = sizeof(m); e + m.entry_size <= t.size; e += m.entry_size) {
				struct mb2_mmap_entry me;
				if (!read(ctx, info_pa + off + e, &me, sizeof(me)))
					break;
				if (nraw < BOOT_MMAP_MAX)
					raw[nraw++] = (struct mem_range){me.base, me.len, me.type};
				else
					overflow++;
			}
			break;
		}
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW: {
			u8 r[36];
			u32 n = (u32)MIN(blen, sizeof(r));
			// Prefer the v2 copy when the loader gives both.
			if ((t.type == MB2_TAG_ACPI_NEW || bi->rsdp_len == 0) && read(ctx, body, r, n))
				set_rsdp(bi, r, n);
			break;
		}
		default:
			break;	// tags we do not use (framebuffer, modules, ...)
		}
		off += t.size - 8;	// the loop adds the 8-byte header and aligns
	}
	if (!ended)
		bi_warn(bi, "multiboot2 info has no end tag within %u bytes", h.total_size);
	finish_mmap(bi, raw, nraw);
	bi->mmap_dropped += overflow;
	return 0;
}

int bootinfo_from_pvh(u64 si_pa, phys_read_fn read, void *ctx, struct bootinfo *bi)
{
	static struct mem_range raw[BOOT_MMAP_MAX];
	struct hvm_start_info si;

	memset(bi, 0, sizeof(*bi));
	bi->protocol = BOOT_PVH;
	if (!read(ctx, si_pa, &si, sizeof(si)) || si.magic != PVH_BOOT_MAGIC) {
		bi_warn(bi, "PVH start info at %#lx unreadable or with bad magic", si_pa);
		return -1;
	}
	ksnprintf(bi->loader, sizeof(bi->loader), "PVH (hvm_start_info v%u)", si.version);
	bi->info_phys = si_pa;
	bi->info_len = sizeof(si);
	if (si.cmdline_paddr)
		set_cmdline(bi, read, ctx, si.cmdline_paddr, CMDLINE_MAX);
	if (si.rsdp_paddr) {
		u8 r[36];
		if (read(ctx, si.rsdp_paddr, r, 20))
			set_rsdp(bi, r, r[15] >= 2 && read(ctx, si.rsdp_paddr, r, 36) ? 36 : 20);
		else
			bi_warn(bi, "ACPI RSDP at %#lx unreadable", si.rsdp_paddr);
	}
	u32 n = 0, overflow = 0;
	if (si.version >= 1 && si.memmap_paddr) {
		for (u32 i = 0; i < si.memmap_entries; i++) {
			struct hvm_memmap_entry e;
			if (!read(ctx, si.memmap_paddr + (u64)i * sizeof(e), &e, sizeof(e))) {
				bi_warn(bi, "PVH memory map entry %u unreadable; map cut short", i);
				break;
			}
			if (n < BOOT_MMAP_MAX)
				raw[n++] = (struct mem_range){e.addr, e.size, e.type};
			else
				overflow++;
		}
	}
	finish_mmap(bi, raw, n);
	bi->mmap_dropped += overflow;
	return 0;
}

u64 bootinfo_usable_bytes(const struct bootinfo *bi)
{
	u64 sum = 0;
	for (u32 i = 0; i < bi->nmmap; i++)
		if (bi->mmap[i].type == MEM_USABLE)
			sum += bi->mmap[i].len;
	return sum;
}

void bootinfo_init(u32 magic, u64 info_pa)
{
	int r;
	if (magic == MB2_BOOT_MAGIC)
		r = bootinfo_from_multiboot2(info_pa, boot_phys_read, NULL, &bootinfo);
	else if (magic == PVH_BOOT_MAGIC)
		r = bootinfo_from_pvh(info_pa, boot_phys_read, NULL, &bootinfo);
	else
		panic("boot: unknown boot protocol (magic %#x, info at %#lx): boot with GRUB multiboot2 "
		      "or qemu -kernel (PVH)", magic, info_pa);
	if (r < 0)
		panic("boot: %s", bootinfo.warning[0]);
}

static void print_size(char *buf, size_t n, u64 bytes)
{
	if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
		ksnprintf(buf, n, "%lu GiB", bytes >> 30);
	else if (bytes >= (1ull << 20))
		ksnprintf(buf, n, "%lu MiB", bytes >> 20);
	else
		ksnprintf(buf, n, "%lu KiB", bytes >> 10);
}

void bootinfo_log(const struct bootinfo *bi)
{
	char sz[32];
	if (bi->protocol == BOOT_PVH)
		pr_info("boot: booted via %s", bi->loader);
	else
		pr_info("boot: booted via multiboot2 by \"%s\"", bi->loader);
	pr_info("boot: command line \"%s\"%s", bi->cmdline, bi->cmdline_truncated ? " (truncated)" : "");
	pr_info("boot: memory map: %u ranges (%u from the loader, %u dropped)", bi->nmmap, bi->mmap_raw,
		bi->mmap_dropped);
	u32 usable = 0;
	for (u32 i = 0; i < bi->nmmap; i++) {
		const struct mem_range *m = &bi->mmap[i];
		print_size(sz, sizeof(sz), m->len);
		pr_info("boot:   [mem 0x%016lx-0x%016lx] %-10s %s", m->base, m->base + m->len - 1,
			mem_type_name(m->type), sz);
		usable += m->type == MEM_USABLE;
	}
	print_size(sz, sizeof(sz), bootinfo_usable_bytes(bi));
	pr_info("boot: usable RAM %s in %u ranges", sz, usable);
	if (bi->rsdp_len)
		pr_info("boot: ACPI RSDP v%u from the loader, OEM \"%.6s\"", bi->rsdp[15] >= 2 ? 2 : 1,
			(const char *)bi->rsdp + 9);
	else
		pr_info("boot: no ACPI RSDP from the loader");
	for (int i = 0; i < bi->warnings && i < (int)ARRAY_SIZE(bi->warning); i++)
		pr_warn("boot: %s", bi->warning[i]);
}
