// ACPI table discovery (RSDP -> XSDT/RSDT -> a table by signature) and the
// MADT, which lists the CPUs, IOAPICs and ISA interrupt overrides that SMP
// bring-up needs. Everything read here is untrusted firmware data: bad
// input gives a reason or a warning, never a wild read. See drivers/acpi.c.
#pragma once

#include "kernel/bootinfo.h"
#include "kernel/types.h"

#define MADT_MAX_CPUS 256	// processor entries recorded; more are counted only
#define MADT_MAX_IOAPICS 8
#define MADT_MAX_OVERRIDES 24
#define MADT_MAX_WARNINGS 4	// warning texts kept; more are counted only
#define ACPI_TABLE_MAX (16u << 20)	// larger table length fields are taken as corrupt
#define ACPI_ROOT_MAX_ENTRIES 512	// XSDT/RSDT entries looked at; real firmware has dozens

// Only enabled or online-capable processors are recorded.
struct madt_cpu {
	u32 apic_id;
	u32 uid;		// ACPI processor UID
	bool x2apic;		// from a type-9 (x2APIC) entry
	bool enabled;		// flags bit 0; false: online-capable only (not running at boot,
				// may be hot-added later)
};
struct madt_ioapic {
	u32 id;
	u32 addr;
	u32 gsi_base;
};
// flags: MPS INTI polarity (bits 0-1) and trigger mode (bits 2-3);
// 0 in a field means "conforms to the bus" (ISA: active high, edge).
struct madt_override {
	u8 bus_irq;
	u32 gsi;
	u16 flags;
};
#define MADT_POLARITY(flags) ((flags) & 3)		// 0 bus, 1 high, 3 low
#define MADT_TRIGGER(flags) (((flags) >> 2) & 3)	// 0 bus, 1 edge, 3 level

struct madt_info {
	u64 lapic_addr;			// from the MADT header, replaced by a type-5 override when present
	bool pcat_compat;		// flags bit 0: legacy 8259s present
	u32 ncpus;			// entries in cpus[] (enabled or online-capable, de-duplicated by apic id)
	u32 cpus_seen;			// all usable processor entries, including those beyond MADT_MAX_CPUS
	u32 cpus_disabled;		// processor entries neither enabled nor online-capable
	u32 cpus_bad_id;		// usable-looking entries dropped: APIC id 0xFF (type 0) or
					// 0xFFFFFFFF (type 9), or a duplicate of a recorded id
	struct madt_cpu cpus[MADT_MAX_CPUS];
	u32 nioapics;
	struct madt_ioapic ioapics[MADT_MAX_IOAPICS];
	u32 noverrides;
	struct madt_override overrides[MADT_MAX_OVERRIDES];
	// Things skipped but not fatal (duplicate ids, full arrays, a second
	// type-5 entry...): the first MADT_MAX_WARNINGS texts, all counted.
	u32 warnings;
	char warning[MADT_MAX_WARNINGS][96];
};

// acpi_checksum_ok: the bytes of p[0..len) sum to 0 mod 256.
bool acpi_checksum_ok(const void *p, u64 len);

// madt_parse: parses a whole MADT (signature "APIC", header included) of len
// bytes. Returns 0, or -1 with a one-line reason in err (bad signature, length
// field larger than len or smaller than the header, bad checksum, malformed
// entry, no local APIC address, zero usable CPUs). On -1, *out is all zero.
// Pure: reads only [table, table+len), writes only *out and err.
int madt_parse(const void *table, u64 len, struct madt_info *out, char *err, size_t errlen);

// Table lookup through the RSDP. `map` returns a readable pointer to
// physical [pa, pa+len) or NULL; the kernel passes acpi_map_phys, tests pass
// one over a synthetic buffer. rsdp points at a copy of the RSDP (20 or 36
// bytes). Validates the RSDP checksum (and the extended checksum for
// revision >= 2; a revision >= 2 RSDP given in only 20 bytes is used as v1).
// Prefers the XSDT when revision >= 2 and its address is non-zero, and
// falls back to the RSDT only if the XSDT itself is unusable. Validates
// each table whose signature matches (length, checksum) and skips bad ones,
// with the reason in err if no good one is found. Returns 0 and sets
// *table/*len (the table's length field), or -1 with a reason.
typedef const void *(*acpi_map_fn)(u64 pa, u64 len, void *ctx);
int acpi_find_table(const u8 *rsdp, u32 rsdp_len, const char sig[4], acpi_map_fn map, void *ctx,
		    const void **table, u64 *len, char *err, size_t errlen);

// acpi_map_phys: the kernel's acpi_map_fn (ctx unused). The direct-map
// address when every page of the range is in the direct map, else a new
// read-only vm_map_phys mapping (permanent). NULL for a range beyond the
// CPU's physical address width or when mapping fails.
const void *acpi_map_phys(u64 pa, u64 len, void *ctx);

// acpi_rsdp_search: BIOS search for "RSD PTR " on 16-byte boundaries in the
// first KiB of the EBDA (segment at physical 0x40e) and in 0xE0000..0xFFFFF,
// via phys_to_virt (the first MiB is in the direct map; needs mm_init).
// Returns the physical address of the first RSDP with a valid checksum (and
// extended checksum for revision >= 2), or 0.
u64 acpi_rsdp_search(void);

// acpi_init: the kernel's entry; call once, after mm_init, before the APs
// run. RSDP from bi->rsdp/rsdp_len (the loader's copy), else
// acpi_rsdp_search(); finds and parses the MADT into `madt`, logging one
// line per CPU, IOAPIC and override and a summary. On any failure it warns
// with the reason and returns false; madt then describes zero CPUs and the
// SMP code uses only the boot CPU. Never panics.
bool acpi_init(const struct bootinfo *bi);
extern struct madt_info madt;
