// One description of what the boot loader handed over, whichever protocol
// booted us: Multiboot2 (GRUB) or PVH (qemu -kernel). Converted once, early,
// into struct bootinfo; nothing after that looks at the original format.
#pragma once

#include "kernel/cmdline.h"
#include "kernel/types.h"

#define MB2_BOOT_MAGIC 0x36d76289	// EAX at a Multiboot2 entry
#define PVH_BOOT_MAGIC 0x336ec578	// hvm_start_info.magic (boot.S passes it too)

#define BOOT_MMAP_MAX 128

// Memory types: the e820 numbering, which Multiboot2 and PVH both use.
enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIMABLE = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};
const char *mem_type_name(u32 type);

struct mem_range {
	u64 base, len;
	u32 type;
};

enum boot_protocol { BOOT_MULTIBOOT2, BOOT_PVH };

struct bootinfo {
	enum boot_protocol protocol;
	char loader[64];
	char cmdline[CMDLINE_MAX];
	bool cmdline_truncated;
	u8 rsdp[36];			// copy of the ACPI RSDP (v1: 20 bytes, v2: 36)
	u32 rsdp_len;			// 0: the loader gave none
	// Normalized memory map: sorted, no zero-length entries, no overlaps
	// (where entries overlapped, the more restrictive type won; see
	// bootinfo.c), adjacent ranges of one type merged.
	struct mem_range mmap[BOOT_MMAP_MAX];
	u32 nmmap;
	u32 mmap_raw;			// entries the loader gave
	u32 mmap_dropped;		// zero-length or past BOOT_MMAP_MAX
	u64 info_phys, info_len;	// where the loader's structures were
	int warnings;
	char warning[4][128];		// the first warnings, for the boot log
};

// Reads len bytes of physical memory at pa into dst; false if that memory
// cannot be read (outside what is mapped, or outside a synthetic block).
typedef bool (*phys_read_fn)(void *ctx, u64 pa, void *dst, size_t len);

// Converters. Return 0, or -1 with bi->warning[0] saying why when the
// structure is unusable (bad magic, impossible sizes). A malformed part
// (a truncated tag, an overlong command line) is skipped with a warning.
int bootinfo_from_multiboot2(u64 info_pa, phys_read_fn read, void *ctx, struct bootinfo *bi);
int bootinfo_from_pvh(u64 start_info_pa, phys_read_fn read, void *ctx, struct bootinfo *bi);

// mmap_normalize: turns n raw ranges into a normalized map (see struct
// bootinfo) of at most max ranges in out; returns the count and adds the
// ranges that did not fit or were empty to *dropped.
u32 mmap_normalize(const struct mem_range *in, u32 n, struct mem_range *out, u32 max, u32 *dropped);

// Physical memory readable during boot (the boot page tables' direct map).
bool boot_phys_read(void *ctx, u64 pa, void *dst, size_t len);

extern struct bootinfo bootinfo;
// bootinfo_init: converts what boot.S passed to kmain into `bootinfo`;
// panics only if no protocol is recognized at all.
void bootinfo_init(u32 magic, u64 info_pa);
void bootinfo_log(const struct bootinfo *bi);
u64 bootinfo_usable_bytes(const struct bootinfo *bi);
