// ACPI tables: find the RSDP, walk the XSDT or RSDT to a table by
// signature, and parse the MADT into the CPU and interrupt-controller list
// SMP bring-up uses.
//
// All of it is firmware data, so every read is bounded by a length that has
// been checked first: the RSDP by its fixed sizes, a table by its header's
// length field (checked against ACPI_TABLE_MAX and address overflow before
// anything is mapped), an MADT entry by its own length byte (checked against
// the table end and the type's minimum size). Each step either finishes
// or reports why; no loop advances by a firmware-supplied amount that can
// be zero. Layouts are from the ACPI specification (RSDP 5.2.5, system
// description table header 5.2.6, MADT 5.2.12).

#include "drivers/acpi.h"
#include "kernel/layout.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "mm/mm.h"

struct madt_info madt;

// RSDP: "RSD PTR ", checksum over bytes 0..19, OEM id, revision, RSDT
// address; revision >= 2 adds length, XSDT address and a checksum over 36.
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24

// Every system description table starts with this 36-byte header:
// signature[4], length u32, revision, checksum, OEM id[6], OEM table id[8],
// OEM revision, creator id, creator revision.
#define SDT_HDR_LEN 36
#define SDT_LENGTH 4

// MADT: the header, local APIC address u32, flags u32, then entries of
// {type u8, length u8, body}.
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_HDR_LEN 44
#define MADT_PCAT_COMPAT 1u

enum madt_type {
	MADT_LAPIC = 0,			// uid u8 @2, apic id u8 @3, flags u32 @4
	MADT_IOAPIC = 1,		// id u8 @2, address u32 @4, GSI base u32 @8
	MADT_OVERRIDE = 2,		// bus u8 @2, source u8 @3, GSI u32 @4, flags u16 @8
	MADT_LAPIC_ADDR_OVERRIDE = 5,	// address u64 @4
	MADT_X2APIC = 9,		// x2apic id u32 @4, flags u32 @8, uid u32 @12
};
#define MADT_CPU_ENABLED 1u
#define MADT_CPU_ONLINE_CAPABLE 2u

// Unaligned little-endian reads: firmware structures are packed.
static u16 rd16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }

static __printf(3, 4) void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

bool acpi_checksum_ok(const void *p, u64 len)
{
	const u8 *b = p;
	u8 sum = 0;
	for (u64 i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

// ---- MADT

static __printf(2, 3) void madt_warn(struct madt_info *m, const char *fmt, ...)
{
	if (m->warnings < MADT_MAX_WARNINGS) {
		va_list ap;
		va_start(ap, fmt);
		kvsnprintf(m->warning[m->warnings], sizeof(m->warning[0]), fmt, ap);
		va_end(ap);
	}
	m->warnings++;
}

// The smallest length each handled entry type can have; 2 (just the
// entry header) for types we skip.
static u8 madt_entry_min_len(u8 type)
{
	switch (type) {
	case MADT_LAPIC: return 8;
	case MADT_IOAPIC: return 12;
	case MADT_OVERRIDE: return 10;
	case MADT_LAPIC_ADDR_OVERRIDE: return 12;
	case MADT_X2APIC: return 16;
	default: return 2;
	}
}

static void madt_add_cpu(struct madt_info *m, u32 apic_id, u32 uid, u32 flags, bool x2apic)
{
	const char *kind = x2apic ? "x2APIC" : "local APIC";
	if (!(flags & (MADT_CPU_ENABLED | MADT_CPU_ONLINE_CAPABLE))) {
		m->cpus_disabled++;
		return;
	}
	if (apic_id == (x2apic ? 0xffffffffu : 0xffu)) {
		m->cpus_bad_id++;
		madt_warn(m, "%s entry (uid %u) has the invalid APIC id %#x; skipped", kind, uid, apic_id);
		return;
	}
	for (u32 i = 0; i < m->ncpus; i++) {
		if (m->cpus[i].apic_id == apic_id) {
			m->cpus_bad_id++;
			madt_warn(m, "%s entry (uid %u) repeats APIC id %u (uid %u); kept the first", kind, uid,
				  apic_id, m->cpus[i].uid);
			return;
		}
	}
	m->cpus_seen++;
	if (m->ncpus < MADT_MAX_CPUS) {
		m->cpus[m->ncpus++] = (struct madt_cpu){apic_id, uid, x2apic, flags & MADT_CPU_ENABLED};
		return;
	}
	if (m->cpus_seen == MADT_MAX_CPUS + 1)
		madt_warn(m, "more than %d usable processors; the rest are counted, not recorded",
			  MADT_MAX_CPUS);
}

int madt_parse(const void *table, u64 len, struct madt_info *out, char *err, size_t errlen)
{
	const u8 *t = table;
	memset(out, 0, sizeof(*out));
	if (len < MADT_HDR_LEN) {
		set_err(err, errlen, "MADT buffer of %lu bytes is smaller than the %d-byte header", len,
			MADT_HDR_LEN);
		return -1;
	}
	if (memcmp(t, "APIC", 4) != 0) {
		set_err(err, errlen, "MADT has signature \"%.4s\", not \"APIC\"", (const char *)t);
		return -1;
	}
	u32 tlen = rd32(t + SDT_LENGTH);
	if (tlen > len) {
		set_err(err, errlen, "MADT length field %u is larger than the %lu bytes available", tlen, len);
		return -1;
	}
	if (tlen < MADT_HDR_LEN) {
		set_err(err, errlen, "MADT length field %u is smaller than the %d-byte header", tlen,
			MADT_HDR_LEN);
		return -1;
	}
	if (!acpi_checksum_ok(t, tlen)) {
		set_err(err, errlen, "MADT checksum bad");
		return -1;
	}

	out->lapic_addr = rd32(t + MADT_LAPIC_ADDR);
	out->pcat_compat = rd32(t + MADT_FLAGS) & MADT_PCAT_COMPAT;
	bool lapic_overridden = false;

	// Each step adds the entry's length, checked to be >= 2 and inside
	// [off, tlen): the loop always advances and never reads past tlen.
	for (u32 off = MADT_HDR_LEN; off < tlen;) {
		if (tlen - off < 2) {
			set_err(err, errlen, "MADT malformed: %u stray byte at offset %u, too short for an entry",
				tlen - off, off);
			goto fail;
		}
		const u8 *e = t + off;
		u8 type = e[0], elen = e[1];
		if (elen < 2 || elen > tlen - off) {
			set_err(err, errlen,
				"MADT malformed: entry type %u at offset %u has length %u (%u bytes left in the table)",
				type, off, elen, tlen - off);
			goto fail;
		}
		if (elen < madt_entry_min_len(type)) {
			set_err(err, errlen, "MADT malformed: entry type %u at offset %u has length %u, needs %u",
				type, off, elen, madt_entry_min_len(type));
			goto fail;
		}
		switch (type) {
		case MADT_LAPIC:
			madt_add_cpu(out, e[3], e[2], rd32(e + 4), false);
			break;
		case MADT_X2APIC:
			madt_add_cpu(out, rd32(e + 4), rd32(e + 12), rd32(e + 8), true);
			break;
		case MADT_IOAPIC: {
			struct madt_ioapic io = {e[2], rd32(e + 4), rd32(e + 8)};
			if (io.addr == 0)
				madt_warn(out, "IOAPIC id %u has address 0; skipped", io.id);
			else if (out->nioapics < MADT_MAX_IOAPICS)
				out->ioapics[out->nioapics++] = io;
			else
				madt_warn(out, "more than %d IOAPICs; id %u at %#x skipped", MADT_MAX_IOAPICS, io.id,
					  io.addr);
			break;
		}
		case MADT_OVERRIDE: {
			struct madt_override o = {e[3], rd32(e + 4), rd16(e + 8)};
			if (e[2] != 0)
				madt_warn(out, "override for IRQ %u on bus %u (only ISA, bus 0, exists); skipped",
					  o.bus_irq, e[2]);
			else if (out->noverrides < MADT_MAX_OVERRIDES)
				out->overrides[out->noverrides++] = o;
			else
				madt_warn(out, "more than %d interrupt overrides; IRQ %u -> GSI %u skipped",
					  MADT_MAX_OVERRIDES, o.bus_irq, o.gsi);
			break;
		}
		case MADT_LAPIC_ADDR_OVERRIDE: {
			u64 a = rd64(e + 4);
			if (a == 0)
				madt_warn(out, "local APIC address override of 0; ignored");
			else if (lapic_overridden)
				madt_warn(out, "second local APIC address override (%#lx); kept %#lx", a,
					  out->lapic_addr);
			else
				out->lapic_addr = a;
			lapic_overridden |= a != 0;
			break;
		}
		default:
			break;	// NMI sources, GIC entries, ...: bounds-checked above, not used
		}
		off += elen;
	}

	if (out->lapic_addr == 0) {
		set_err(err, errlen, "MADT gives no local APIC address");
		goto fail;
	}
	if (out->ncpus == 0) {
		set_err(err, errlen, "MADT lists no usable CPU (%u disabled, %u with an invalid or repeated APIC id)",
			out->cpus_disabled, out->cpus_bad_id);
		goto fail;
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return -1;
}

// ---- finding a table

// sdt_load: maps the table at pa after checking its header: signature,
// length field in [SDT_HDR_LEN, ACPI_TABLE_MAX] without address overflow,
// then the checksum over that length. 0 with *table/*len, or -1 with the
// reason.
static int sdt_load(u64 pa, const char sig[4], acpi_map_fn map, void *ctx, const u8 **table, u32 *len,
		    char *err, size_t errlen)
{
	const u8 *h = map(pa, SDT_HDR_LEN, ctx);
	if (!h) {
		set_err(err, errlen, "%.4s table at %#lx is unreadable", sig, pa);
		return -1;
	}
	if (memcmp(h, sig, 4) != 0) {
		set_err(err, errlen, "%.4s table at %#lx has signature \"%.4s\"", sig, pa, (const char *)h);
		return -1;
	}
	u32 n = rd32(h + SDT_LENGTH);
	if (n < SDT_HDR_LEN || n > ACPI_TABLE_MAX || n > UINT64_MAX - pa) {
		set_err(err, errlen, "%.4s table at %#lx has impossible length %u", sig, pa, n);
		return -1;
	}
	const u8 *t = map(pa, n, ctx);
	if (!t) {
		set_err(err, errlen, "%.4s table at %#lx (%u bytes) is unreadable", sig, pa, n);
		return -1;
	}
	if (!acpi_checksum_ok(t, n)) {
		set_err(err, errlen, "%.4s table at %#lx: checksum bad", sig, pa);
		return -1;
	}
	*table = t;
	*len = n;
	return 0;
}

int acpi_find_table(const u8 *rsdp, u32 rsdp_len, const char sig[4], acpi_map_fn map, void *ctx,
		    const void **table, u64 *len, char *err, size_t errlen)
{
	*table = NULL;
	*len = 0;
	if (!rsdp || rsdp_len < RSDP_V1_LEN) {
		set_err(err, errlen, "RSDP copy of %u bytes is too short", rsdp_len);
		return -1;
	}
	if (memcmp(rsdp, "RSD PTR ", 8) != 0) {
		set_err(err, errlen, "RSDP has no \"RSD PTR \" signature");
		return -1;
	}
	if (!acpi_checksum_ok(rsdp, RSDP_V1_LEN)) {
		set_err(err, errlen, "RSDP checksum bad");
		return -1;
	}
	u64 rsdt = rd32(rsdp + RSDP_RSDT), xsdt = 0;
	if (rsdp[RSDP_REVISION] >= 2 && rsdp_len >= RSDP_V2_LEN) {
		u32 n = rd32(rsdp + RSDP_LENGTH);
		if (n < RSDP_V2_LEN) {
			set_err(err, errlen, "RSDP revision %u has length field %u, below %d", rsdp[RSDP_REVISION],
				n, RSDP_V2_LEN);
			return -1;
		}
		if (!acpi_checksum_ok(rsdp, RSDP_V2_LEN)) {
			set_err(err, errlen, "RSDP extended checksum bad");
			return -1;
		}
		xsdt = rd64(rsdp + RSDP_XSDT);
	}

	// The root: the XSDT if there is one and it is sound, else the RSDT.
	const u8 *root = NULL;
	u32 root_len = 0, esize = 8;
	char xerr[96] = "";
	if (xsdt && sdt_load(xsdt, "XSDT", map, ctx, &root, &root_len, xerr, sizeof(xerr)) < 0)
		root = NULL;
	if (!root) {
		if (!rsdt) {
			set_err(err, errlen, "%s%sRSDP gives no RSDT address", xerr, xerr[0] ? "; " : "");
			return -1;
		}
		char rerr[96];
		if (sdt_load(rsdt, "RSDT", map, ctx, &root, &root_len, rerr, sizeof(rerr)) < 0) {
			set_err(err, errlen, "%s%s%s", xerr, xerr[0] ? "; " : "", rerr);
			return -1;
		}
		esize = 4;
	}

	u32 nentries = (root_len - SDT_HDR_LEN) / esize;
	u32 nlook = MIN(nentries, (u32)ACPI_ROOT_MAX_ENTRIES);
	char bad[128] = "";
	for (u32 i = 0; i < nlook; i++) {
		const u8 *ep = root + SDT_HDR_LEN + (u64)i * esize;
		u64 pa = esize == 8 ? rd64(ep) : rd32(ep);
		if (pa == 0)
			continue;
		const u8 *h = map(pa, SDT_HDR_LEN, ctx);
		if (!h || memcmp(h, sig, 4) != 0)
			continue;	// unreadable entries are some other table's problem
		const u8 *t;
		u32 n;
		// A bad copy is skipped: a later entry may hold a good one.
		if (sdt_load(pa, sig, map, ctx, &t, &n, bad, sizeof(bad)) < 0)
			continue;
		*table = t;
		*len = n;
		return 0;
	}
	const char *root_name = esize == 8 ? "XSDT" : "RSDT";
	if (bad[0])
		set_err(err, errlen, "%s", bad);
	else if (nlook < nentries)
		set_err(err, errlen, "no %.4s table among the first %u of %u %s entries", sig, nlook, nentries,
			root_name);
	else
		set_err(err, errlen, "no %.4s table among %u %s entries", sig, nlook, root_name);
	return -1;
}

// ---- the kernel's side

// MAXPHYADDR: physical address bits. A page-table entry with an address
// beyond it has reserved bits set and faults on use, so no mapping of a
// firmware-supplied address may go there.
static unsigned phys_addr_bits(void)
{
	u32 a, b, c, d;
	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a < 0x80000008)
		return 36;
	cpuid(0x80000008, 0, &a, &b, &c, &d);
	return a & 0xff;
}

static bool in_direct_map(u64 pa, u64 len)
{
	u64 end = pa + len;
	if (end > KVA_BASE - DIRECT_MAP)
		return false;
	for (u64 p = ALIGN_DOWN(pa, PAGE_SIZE); p < end; p += PAGE_SIZE) {
		u64 flags;
		if (vm_translate((u64)phys_to_virt(p), &flags) != p || !(flags & PTE_P))
			return false;
	}
	return true;
}

const void *acpi_map_phys(u64 pa, u64 len, void *ctx)
{
	(void)ctx;
	if (len == 0 || len > UINT64_MAX - pa || pa + len > (1ull << phys_addr_bits()))
		return NULL;
	// Tables in ACPI-data RAM (and the first MiB) are in the direct map
	// already; those in "reserved" ranges (QEMU/SeaBIOS puts them there)
	// need a mapping of their own. Write-back either way: tables are RAM.
	if (in_direct_map(pa, len))
		return phys_to_virt(pa);
	return vm_map_phys(pa, len, VM_READ);
}

// rsdp_scan: the first valid RSDP on a 16-byte boundary in [start, end)
// of the first MiB, or 0.
static u64 rsdp_scan(u64 start, u64 end)
{
	for (u64 pa = start; pa + RSDP_V1_LEN <= end; pa += 16) {
		const u8 *p = phys_to_virt(pa);
		if (memcmp(p, "RSD PTR ", 8) != 0 || !acpi_checksum_ok(p, RSDP_V1_LEN))
			continue;
		if (p[RSDP_REVISION] >= 2 && (pa + RSDP_V2_LEN > end || !acpi_checksum_ok(p, RSDP_V2_LEN)))
			continue;
		return pa;
	}
	return 0;
}

u64 acpi_rsdp_search(void)
{
	u64 ebda = (u64)rd16(phys_to_virt(0x40e)) << 4;
	if (ebda && ebda + 1024 <= 0xa0000) {
		u64 pa = rsdp_scan(ebda, ebda + 1024);
		if (pa)
			return pa;
	}
	return rsdp_scan(0xe0000, 0x100000);
}

static const char *polarity_name(u16 flags)
{
	static const char *const names[] = {"bus polarity", "active high", "reserved polarity", "active low"};
	return names[MADT_POLARITY(flags)];
}

static const char *trigger_name(u16 flags)
{
	static const char *const names[] = {"bus trigger", "edge", "reserved trigger", "level"};
	return names[MADT_TRIGGER(flags)];
}

static void madt_log(const struct madt_info *m)
{
	for (u32 i = 0; i < m->ncpus; i++) {
		const struct madt_cpu *c = &m->cpus[i];
		pr_info("acpi:   CPU %u: APIC id %u, uid %u%s%s", i, c->apic_id, c->uid, c->x2apic ? ", x2APIC" : "",
			c->enabled ? "" : ", online-capable (not enabled)");
	}
	for (u32 i = 0; i < m->nioapics; i++)
		pr_info("acpi:   IOAPIC id %u at %#x, GSI base %u", m->ioapics[i].id, m->ioapics[i].addr,
			m->ioapics[i].gsi_base);
	for (u32 i = 0; i < m->noverrides; i++) {
		const struct madt_override *o = &m->overrides[i];
		pr_info("acpi:   override: ISA IRQ %u -> GSI %u, %s, %s", o->bus_irq, o->gsi,
			polarity_name(o->flags), trigger_name(o->flags));
	}
	for (u32 i = 0; i < m->warnings && i < MADT_MAX_WARNINGS; i++)
		pr_warn("acpi: MADT: %s", m->warning[i]);
	if (m->warnings > MADT_MAX_WARNINGS)
		pr_warn("acpi: MADT: %u more warnings", m->warnings - MADT_MAX_WARNINGS);
	char more[64] = "";
	if (m->cpus_seen > m->ncpus)
		ksnprintf(more, sizeof(more), " (%u more not recorded)", m->cpus_seen - m->ncpus);
	pr_info("acpi: MADT: %u CPU%s%s, %u IOAPIC%s, %u override%s, lapic %#lx%s", m->ncpus,
		m->ncpus == 1 ? "" : "s", more, m->nioapics, m->nioapics == 1 ? "" : "s", m->noverrides,
		m->noverrides == 1 ? "" : "s", m->lapic_addr, m->pcat_compat ? ", 8259 PICs present" : "");
}

bool acpi_init(const struct bootinfo *bi)
{
	u8 rsdp[RSDP_V2_LEN];
	u32 rsdp_len;
	char where[48], err[160];

	memset(&madt, 0, sizeof(madt));
	if (bi->rsdp_len) {
		rsdp_len = MIN(bi->rsdp_len, (u32)sizeof(rsdp));
		memcpy(rsdp, bi->rsdp, rsdp_len);
		strlcpy(where, "from the loader", sizeof(where));
	} else {
		u64 pa = acpi_rsdp_search();
		if (!pa) {
			pr_warn("acpi: no RSDP from the loader or in the BIOS areas; falling back to one CPU");
			return false;
		}
		const u8 *p = phys_to_virt(pa);
		rsdp_len = p[RSDP_REVISION] >= 2 ? RSDP_V2_LEN : RSDP_V1_LEN;
		memcpy(rsdp, p, rsdp_len);
		ksnprintf(where, sizeof(where), "at %#lx", pa);
	}
	pr_info("acpi: RSDP revision %u %s, OEM \"%.6s\"", rsdp[RSDP_REVISION], where, (const char *)rsdp + 9);

	const void *table;
	u64 len;
	if (acpi_find_table(rsdp, rsdp_len, "APIC", acpi_map_phys, NULL, &table, &len, err, sizeof(err)) < 0 ||
	    madt_parse(table, len, &madt, err, sizeof(err)) < 0) {
		pr_warn("acpi: %s; falling back to one CPU", err);
		return false;
	}
	madt_log(&madt);
	return true;
}
