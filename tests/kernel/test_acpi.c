// ACPI: MADT parsing and table lookup on synthetic tables (good ones, and
// every way firmware data can be wrong), then the tables of the machine we
// booted on.

#include "drivers/acpi.h"
#include "kernel/bootinfo.h"
#include "kernel/layout.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "mm/mm.h"
#include "tests/kernel/ktest.h"

static void put16(u8 *p, u16 v) { memcpy(p, &v, 2); }
static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void put64(u8 *p, u64 v) { memcpy(p, &v, 8); }
static u32 get32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }

static u8 sum8(const u8 *p, u32 n)
{
	u8 s = 0;
	for (u32 i = 0; i < n; i++)
		s += p[i];
	return s;
}

// ---- table builders

// sdt_begin: a 36-byte system description table header with signature sig.
static void sdt_begin(u8 *t, const char *sig)
{
	memset(t, 0, 36);
	memcpy(t, sig, 4);
	t[8] = 1;			// revision
	memcpy(t + 10, "TRICLR", 6);	// OEM id
	memcpy(t + 16, "KTEST   ", 8);	// OEM table id
}

// sdt_finish: sets the length field and makes the bytes sum to zero.
static void sdt_finish(u8 *t, u32 len)
{
	put32(t + 4, len);
	t[9] = 0;
	t[9] = (u8)-sum8(t, len);
}

// The MADT under construction: big enough for 310 x2APIC entries.
static u8 mt[8192] __attribute__((aligned(8)));
static u32 mt_len;
static struct madt_info mi;
static char err[160];

#define LAPIC_DEFAULT 0xfee00000u
#define PCAT 1u
#define EN 1u		// processor flags: enabled
#define OC 2u		// processor flags: online-capable

static void madt_begin(u32 lapic, u32 flags)
{
	memset(mt, 0, sizeof(mt));
	sdt_begin(mt, "APIC");
	put32(mt + 36, lapic);
	put32(mt + 40, flags);
	mt_len = 44;
}

static u8 *madt_entry(u8 type, u8 len)
{
	u8 *e = mt + mt_len;
	e[0] = type;
	e[1] = len;
	mt_len += len;
	return e;
}

static void add_lapic(u8 uid, u8 id, u32 flags)
{
	u8 *e = madt_entry(0, 8);
	e[2] = uid;
	e[3] = id;
	put32(e + 4, flags);
}

static void add_x2apic(u32 id, u32 uid, u32 flags)
{
	u8 *e = madt_entry(9, 16);
	put32(e + 4, id);
	put32(e + 8, flags);
	put32(e + 12, uid);
}

static void add_ioapic(u8 id, u32 addr, u32 gsi_base)
{
	u8 *e = madt_entry(1, 12);
	e[2] = id;
	put32(e + 4, addr);
	put32(e + 8, gsi_base);
}

static void add_override(u8 bus, u8 irq, u32 gsi, u16 flags)
{
	u8 *e = madt_entry(2, 10);
	e[2] = bus;
	e[3] = irq;
	put32(e + 4, gsi);
	put16(e + 8, flags);
}

static void add_lapic_override(u64 addr)
{
	put64(madt_entry(5, 12) + 4, addr);
}

static void add_nmi(u8 uid, u16 flags, u8 lint)	// type 4: parsed over, not used
{
	u8 *e = madt_entry(4, 6);
	e[2] = uid;
	put16(e + 3, flags);
	e[5] = lint;
}

static void madt_finish(void)
{
	sdt_finish(mt, mt_len);
}

static int parse(void)
{
	err[0] = 0;
	return madt_parse(mt, mt_len, &mi, err, sizeof(err));
}

static bool all_zero(const void *p, size_t n)
{
	const u8 *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

// A failed parse: -1, the reason contains `want`, and nothing is left behind.
#define EXPECT_PARSE_FAILS(t, want)                                                                  \
	do {                                                                                          \
		int r_ = parse();                                                                     \
		KT_EXPECT(t, r_ == -1, "madt_parse returned %d, want -1 (%s)", r_, want);             \
		KT_EXPECT(t, strstr(err, want) != NULL, "reason \"%s\" does not mention \"%s\"", err, \
			  want);                                                                      \
		KT_EXPECT(t, all_zero(&mi, sizeof(mi)), "madt_info not zeroed after a failure");      \
	} while (0)

static bool has_warning(const struct madt_info *m, const char *s)
{
	for (u32 i = 0; i < m->warnings && i < MADT_MAX_WARNINGS; i++)
		if (strstr(m->warning[i], s))
			return true;
	return false;
}

// ---- MADT

KTEST(acpi, checksum)
{
	u8 b[5] = {1, 2, 3, 4, (u8)-10};
	KT_EXPECT(t, acpi_checksum_ok(b, 5), "1+2+3+4-10 should sum to 0");
	KT_EXPECT(t, !acpi_checksum_ok(b, 4), "1+2+3+4 does not sum to 0");
	KT_EXPECT(t, acpi_checksum_ok(b, 0), "no bytes sum to 0");
	u8 wrap[3] = {0x80, 0x80, 0};	// 256 mod 256
	KT_EXPECT(t, acpi_checksum_ok(wrap, 3), "the sum is taken mod 256");
}

KTEST(acpi, madt_good)
{
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0, EN);
	add_lapic(1, 1, EN);
	add_ioapic(2, 0xfec00000, 0);
	add_override(0, 0, 2, 0);
	add_override(0, 9, 9, 0xd);	// active high, level (the SCI)
	add_nmi(0xff, 0, 1);
	add_x2apic(0x100, 2, EN);
	add_x2apic(0x101, 3, EN);
	u8 *x2nmi = madt_entry(0xa, 12);	// local x2APIC NMI: skipped
	put32(x2nmi + 4, 0xffffffff);
	madt_finish();

	KT_ASSERT(t, parse() == 0, "madt_parse failed: %s", err);
	KT_EXPECT_EQ(t, mi.lapic_addr, LAPIC_DEFAULT);
	KT_EXPECT(t, mi.pcat_compat, "PCAT_COMPAT flag lost");
	KT_EXPECT_EQ(t, mi.ncpus, 4);
	KT_EXPECT_EQ(t, mi.cpus_seen, 4);
	KT_EXPECT_EQ(t, mi.cpus_disabled, 0);
	KT_EXPECT_EQ(t, mi.cpus_bad_id, 0);
	static const struct madt_cpu want[] = {
		{0, 0, false, true}, {1, 1, false, true}, {0x100, 2, true, true}, {0x101, 3, true, true}};
	for (u32 i = 0; i < 4; i++)
		KT_EXPECT(t, mi.cpus[i].apic_id == want[i].apic_id && mi.cpus[i].uid == want[i].uid &&
				     mi.cpus[i].x2apic == want[i].x2apic && mi.cpus[i].enabled,
			  "cpu %u: got id %#x uid %u x2apic %d enabled %d, want id %#x uid %u x2apic %d", i,
			  mi.cpus[i].apic_id, mi.cpus[i].uid, mi.cpus[i].x2apic, mi.cpus[i].enabled,
			  want[i].apic_id, want[i].uid, want[i].x2apic);
	KT_EXPECT_EQ(t, mi.nioapics, 1);
	KT_EXPECT_EQ(t, mi.ioapics[0].id, 2);
	KT_EXPECT_EQ(t, mi.ioapics[0].addr, 0xfec00000);
	KT_EXPECT_EQ(t, mi.ioapics[0].gsi_base, 0);
	KT_EXPECT_EQ(t, mi.noverrides, 2);
	KT_EXPECT(t, mi.overrides[0].bus_irq == 0 && mi.overrides[0].gsi == 2 && mi.overrides[0].flags == 0,
		  "override 0: IRQ %u -> GSI %u flags %#x", mi.overrides[0].bus_irq, mi.overrides[0].gsi,
		  mi.overrides[0].flags);
	KT_EXPECT(t, mi.overrides[1].bus_irq == 9 && mi.overrides[1].gsi == 9 && mi.overrides[1].flags == 0xd,
		  "override 1: IRQ %u -> GSI %u flags %#x", mi.overrides[1].bus_irq, mi.overrides[1].gsi,
		  mi.overrides[1].flags);
	KT_EXPECT_EQ(t, MADT_POLARITY(mi.overrides[1].flags), 1);
	KT_EXPECT_EQ(t, MADT_TRIGGER(mi.overrides[1].flags), 3);
	KT_EXPECT_EQ(t, mi.warnings, 0);

	// No entries but the CPUs is fine too; PCAT_COMPAT clear.
	madt_begin(LAPIC_DEFAULT, 0);
	add_lapic(0, 0, EN);
	madt_finish();
	KT_ASSERT(t, parse() == 0, "madt_parse failed: %s", err);
	KT_EXPECT(t, !mi.pcat_compat, "PCAT_COMPAT set from flags 0");
	KT_EXPECT_EQ(t, mi.nioapics, 0);
}

KTEST(acpi, madt_bad_checksum)
{
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0, EN);
	add_ioapic(0, 0xfec00000, 0);
	madt_finish();
	KT_ASSERT(t, parse() == 0, "madt_parse failed: %s", err);
	mt[mt_len - 1] ^= 0x40;		// one bit of the IOAPIC entry
	EXPECT_PARSE_FAILS(t, "checksum");
}

KTEST(acpi, madt_no_usable_cpus)
{
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0, 0);
	add_lapic(1, 1, 0);
	add_x2apic(0x200, 2, 0);
	add_ioapic(0, 0xfec00000, 0);
	madt_finish();
	EXPECT_PARSE_FAILS(t, "no usable CPU");
	KT_EXPECT(t, strstr(err, "3 disabled") != NULL, "reason \"%s\" does not count the disabled CPUs", err);

	// Entries whose only fault is their APIC id do not count as CPUs.
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0xff, EN);
	add_x2apic(0xffffffff, 1, EN);
	madt_finish();
	EXPECT_PARSE_FAILS(t, "no usable CPU");
	KT_EXPECT(t, strstr(err, "2 with an invalid") != NULL, "reason \"%s\"", err);

	// And a table with no entries at all.
	madt_begin(LAPIC_DEFAULT, PCAT);
	madt_finish();
	EXPECT_PARSE_FAILS(t, "no usable CPU");
}

KTEST(acpi, madt_disabled_vs_online_capable)
{
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0, EN);
	add_lapic(1, 1, OC);		// hot-pluggable: recorded, not enabled
	add_lapic(2, 2, 0);		// neither: counted as disabled
	add_lapic(3, 3, EN | OC);	// enabled wins
	add_x2apic(0x300, 4, OC);
	add_x2apic(0x301, 5, 0);
	add_lapic(6, 6, 0xfffffffc);	// only reserved bits set: disabled
	madt_finish();
	KT_ASSERT(t, parse() == 0, "madt_parse failed: %s", err);
	KT_EXPECT_EQ(t, mi.ncpus, 4);
	KT_EXPECT_EQ(t, mi.cpus_seen, 4);
	KT_EXPECT_EQ(t, mi.cpus_disabled, 3);
	static const u32 ids[] = {0, 1, 3, 0x300};
	static const bool enabled[] = {true, false, true, false};
	for (u32 i = 0; i < 4; i++)
		KT_EXPECT(t, mi.cpus[i].apic_id == ids[i] && mi.cpus[i].enabled == enabled[i],
			  "cpu %u: id %#x enabled %d, want id %#x enabled %d", i, mi.cpus[i].apic_id,
			  mi.cpus[i].enabled, ids[i], enabled[i]);

	// Online-capable CPUs alone make a usable table.
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0, OC);
	madt_finish();
	KT_EXPECT(t, parse() == 0, "one online-capable CPU refused: %s", err);
	KT_EXPECT_EQ(t, mi.ncpus, 1);
}

KTEST(acpi, madt_more_than_max_cpus)
{
	const u32 n = MADT_MAX_CPUS + 44;
	madt_begin(LAPIC_DEFAULT, PCAT);
	for (u32 i = 0; i < n; i++)
		add_x2apic(i, 1000 + i, EN);
	for (u32 i = 0; i < 10; i++)
		add_x2apic(0x10000 + i, 5000 + i, 0);
	add_ioapic(0, 0xfec00000, 0);	// entries after the overflow are still read
	KT_ASSERT(t, mt_len <= sizeof(mt), "test buffer too small: %u bytes", mt_len);
	madt_finish();
	KT_ASSERT(t, parse() == 0, "madt_parse failed: %s", err);
	KT_EXPECT_EQ(t, mi.ncpus, MADT_MAX_CPUS);
	KT_EXPECT_EQ(t, mi.cpus_seen, n);
	KT_EXPECT_EQ(t, mi.cpus_disabled, 10);
	KT_EXPECT_EQ(t, mi.nioapics, 1);
	KT_EXPECT_EQ(t, mi.cpus[0].apic_id, 0);
	KT_EXPECT_EQ(t, mi.cpus[MADT_MAX_CPUS - 1].apic_id, MADT_MAX_CPUS - 1);
	KT_EXPECT_EQ(t, mi.cpus[MADT_MAX_CPUS - 1].uid, 1000 + MADT_MAX_CPUS - 1);
	KT_EXPECT_EQ(t, mi.warnings, 1);
	KT_EXPECT(t, has_warning(&mi, "more than 256"), "warning \"%s\"", mi.warning[0]);

	// A duplicate beyond the limit of an id that was recorded is still caught.
	madt_begin(LAPIC_DEFAULT, PCAT);
	for (u32 i = 0; i < MADT_MAX_CPUS + 1; i++)
		add_x2apic(i, i, EN);
	add_x2apic(7, 9999, EN);
	madt_finish();
	KT_ASSERT(t, parse() == 0, "madt_parse failed: %s", err);
	KT_EXPECT_EQ(t, mi.cpus_seen, MADT_MAX_CPUS + 1);
	KT_EXPECT_EQ(t, mi.cpus_bad_id, 1);
}

KTEST(acpi, madt_malformed_entries)
{
	// An entry of length 0 would loop forever if trusted.
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0, EN);
	madt_entry(0x7f, 0);
	mt_len += 6;
	madt_finish();
	EXPECT_PARSE_FAILS(t, "has length 0");

	// Length 1: shorter than an entry header.
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0, EN);
	madt_entry(4, 1);
	mt_len += 5;
	madt_finish();
	EXPECT_PARSE_FAILS(t, "has length 1");

	// The last entry claims more bytes than the table has.
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0, EN);
	add_lapic(1, 1, EN);
	mt[mt_len - 8 + 1] = 200;
	madt_finish();
	EXPECT_PARSE_FAILS(t, "8 bytes left");

	// One stray byte after the last entry.
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0, EN);
	mt[mt_len++] = 0;
	madt_finish();
	EXPECT_PARSE_FAILS(t, "stray byte");

	// Known types shorter than their structure.
	static const struct { u8 type, len, need; } shorts[] = {{0, 6, 8}, {1, 8, 12}, {2, 8, 10}, {5, 8, 12},
								 {9, 12, 16}};
	for (u32 i = 0; i < ARRAY_SIZE(shorts); i++) {
		madt_begin(LAPIC_DEFAULT, PCAT);
		add_lapic(0, 0, EN);
		madt_entry(shorts[i].type, shorts[i].len);
		madt_finish();
		char want[32];
		ksnprintf(want, sizeof(want), "needs %u", shorts[i].need);
		EXPECT_PARSE_FAILS(t, want);
	}

	// Unknown types of any sane length are stepped over; known types may
	// be longer than today's structure (later spec revisions).
	madt_begin(LAPIC_DEFAULT, PCAT);
	madt_entry(0x7f, 2);
	madt_entry(0x80, 255);
	u8 *e = madt_entry(0, 12);
	e[2] = 5;
	e[3] = 6;
	put32(e + 4, EN);
	madt_finish();
	KT_ASSERT(t, parse() == 0, "madt_parse failed: %s", err);
	KT_EXPECT_EQ(t, mi.ncpus, 1);
	KT_EXPECT_EQ(t, mi.cpus[0].apic_id, 6);
}

KTEST(acpi, madt_bad_lengths)
{
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0, EN);
	madt_finish();
	u32 good_len = mt_len;

	// Length field larger than the buffer we were given.
	mt_len = good_len - 1;
	EXPECT_PARSE_FAILS(t, "larger than");
	mt_len = good_len;
	sdt_finish(mt, good_len);
	put32(mt + 4, 0xffffffff);
	EXPECT_PARSE_FAILS(t, "larger than");

	// Length field smaller than the MADT header.
	put32(mt + 4, 40);
	EXPECT_PARSE_FAILS(t, "smaller than");

	// A buffer too small to hold the header at all.
	sdt_finish(mt, good_len);
	err[0] = 0;
	KT_EXPECT_EQ(t, madt_parse(mt, 43, &mi, err, sizeof(err)), -1);
	KT_EXPECT(t, strstr(err, "smaller than") != NULL, "reason \"%s\"", err);

	// Another table's signature.
	memcpy(mt, "FACP", 4);
	sdt_finish(mt, good_len);
	EXPECT_PARSE_FAILS(t, "signature");

	// err may be absent or tiny; the result is the same.
	KT_EXPECT_EQ(t, madt_parse(mt, good_len, &mi, NULL, 0), -1);
	char tiny[4];
	KT_EXPECT_EQ(t, madt_parse(mt, good_len, &mi, tiny, sizeof(tiny)), -1);
	KT_EXPECT_EQ(t, strlen(tiny), 3);
}

KTEST(acpi, madt_duplicate_and_invalid_ids)
{
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(10, 0, EN);
	add_lapic(11, 1, EN);
	add_lapic(12, 1, EN);		// repeats id 1: the first (uid 11) stays
	add_x2apic(0, 13, EN);		// repeats id 0 across entry types
	add_lapic(14, 0xff, EN);	// not a usable id
	add_x2apic(0xffffffff, 15, EN);
	add_lapic(16, 2, EN);
	madt_finish();
	KT_ASSERT(t, parse() == 0, "madt_parse failed: %s", err);
	KT_EXPECT_EQ(t, mi.ncpus, 3);
	KT_EXPECT_EQ(t, mi.cpus_seen, 3);
	KT_EXPECT_EQ(t, mi.cpus_bad_id, 4);
	KT_EXPECT_EQ(t, mi.cpus[1].apic_id, 1);
	KT_EXPECT_EQ(t, mi.cpus[1].uid, 11);
	KT_EXPECT_EQ(t, mi.cpus[2].apic_id, 2);
	KT_EXPECT_EQ(t, mi.warnings, 4);
	KT_EXPECT(t, has_warning(&mi, "repeats APIC id 1 (uid 11)"), "warnings: \"%s\", \"%s\"", mi.warning[0],
		  mi.warning[1]);
	KT_EXPECT(t, has_warning(&mi, "invalid APIC id 0xff;"), "warnings: \"%s\" ... \"%s\"", mi.warning[0],
		  mi.warning[3]);
	KT_EXPECT(t, has_warning(&mi, "invalid APIC id 0xffffffff"), "warnings: \"%s\" ... \"%s\"",
		  mi.warning[0], mi.warning[3]);
	// A disabled entry repeating an id is just disabled, not a duplicate.
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0, EN);
	add_lapic(1, 0, 0);
	madt_finish();
	KT_ASSERT(t, parse() == 0, "madt_parse failed: %s", err);
	KT_EXPECT_EQ(t, mi.cpus_bad_id, 0);
	KT_EXPECT_EQ(t, mi.cpus_disabled, 1);
}

KTEST(acpi, madt_lapic_address_override)
{
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0, EN);
	add_lapic_override(0x1fee00000ull);
	madt_finish();
	KT_ASSERT(t, parse() == 0, "madt_parse failed: %s", err);
	KT_EXPECT_EQ(t, mi.lapic_addr, 0x1fee00000ull);
	KT_EXPECT_EQ(t, mi.warnings, 0);

	// A second override is warned about; the first stays. Zero is ignored.
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic_override(0);
	add_lapic_override(0xfed00000);
	add_lapic(0, 0, EN);
	add_lapic_override(0xfef00000);
	madt_finish();
	KT_ASSERT(t, parse() == 0, "madt_parse failed: %s", err);
	KT_EXPECT_EQ(t, mi.lapic_addr, 0xfed00000);
	KT_EXPECT_EQ(t, mi.warnings, 2);
	KT_EXPECT(t, has_warning(&mi, "override of 0"), "warning \"%s\"", mi.warning[0]);
	KT_EXPECT(t, has_warning(&mi, "second local APIC address override"), "warning \"%s\"", mi.warning[1]);

	// Header address 0: only an override can supply one.
	madt_begin(0, PCAT);
	add_lapic(0, 0, EN);
	madt_finish();
	EXPECT_PARSE_FAILS(t, "no local APIC address");
	madt_begin(0, PCAT);
	add_lapic(0, 0, EN);
	add_lapic_override(0xfee00000);
	madt_finish();
	KT_ASSERT(t, parse() == 0, "madt_parse failed: %s", err);
	KT_EXPECT_EQ(t, mi.lapic_addr, 0xfee00000);
}

KTEST(acpi, madt_array_limits)
{
	madt_begin(LAPIC_DEFAULT, PCAT);
	add_lapic(0, 0, EN);
	for (u32 i = 0; i < MADT_MAX_IOAPICS + 2; i++)
		add_ioapic(i, 0xfec00000 + i * 0x1000, i * 24);
	for (u32 i = 0; i < MADT_MAX_OVERRIDES + 3; i++)
		add_override(0, i, i + 100, 0);
	add_override(1, 5, 5, 0);	// not ISA
	add_ioapic(99, 0, 0);		// no address
	madt_finish();
	KT_ASSERT(t, parse() == 0, "madt_parse failed: %s", err);
	KT_EXPECT_EQ(t, mi.nioapics, MADT_MAX_IOAPICS);
	KT_EXPECT_EQ(t, mi.ioapics[MADT_MAX_IOAPICS - 1].addr, 0xfec00000 + (MADT_MAX_IOAPICS - 1) * 0x1000);
	KT_EXPECT_EQ(t, mi.noverrides, MADT_MAX_OVERRIDES);
	KT_EXPECT_EQ(t, mi.overrides[MADT_MAX_OVERRIDES - 1].gsi, MADT_MAX_OVERRIDES - 1 + 100);
	KT_EXPECT_EQ(t, mi.warnings, 2 + 3 + 1 + 1);	// all counted, the first 4 kept
	KT_EXPECT(t, has_warning(&mi, "more than 8 IOAPICs"), "warning \"%s\"", mi.warning[0]);
	KT_EXPECT(t, has_warning(&mi, "more than 24 interrupt overrides"), "warning \"%s\"", mi.warning[2]);
}

// A scratch page mapped at a fixed kernel address with nothing mapped after
// it: a table placed at its very end faults on any read past its length.
#define EDGE_VA (KVA_BASE + 0xac91000)

static u8 *edge_page(struct kt *t, void **frame)
{
	u64 flags;
	if (vm_translate(EDGE_VA + PAGE_SIZE, &flags) != 0 || flags)
		kt_skip(t, "the page after %#lx is mapped", (u64)EDGE_VA);
	*frame = frame_alloc_zeroed(0, FT_TEST);
	KT_ASSERT(t, *frame != NULL, "out of frames");
	KT_ASSERT(t, vm_map(EDGE_VA, virt_to_phys(*frame), PAGE_SIZE, VM_READ | VM_WRITE) == 0, "vm_map failed");
	return (u8 *)EDGE_VA;
}

static void edge_release(void *frame)
{
	vm_unmap(EDGE_VA, PAGE_SIZE);
	frame_free(frame, 0);
}

KTEST(acpi, madt_reads_stay_in_bounds)
{
	static int r;	// static: survives the jump back from a fault
	void *frame;
	u8 *page = edge_page(t, &frame);
	u8 *end = page + PAGE_SIZE;
	r = 0;
	if (KT_FAULT_TRY(t)) {
		// Only the header, ending at the page end: no entries, no CPUs.
		madt_begin(LAPIC_DEFAULT, PCAT);
		madt_finish();
		memcpy(end - mt_len, mt, mt_len);
		r += madt_parse(end - mt_len, mt_len, &mi, err, sizeof(err));
		// An entry that claims to run past the end: only its length byte
		// may be looked at, never the bytes it claims.
		madt_begin(LAPIC_DEFAULT, PCAT);
		add_lapic(0, 0, EN);
		madt_entry(9, 16);
		mt_len -= 14;
		madt_finish();
		memcpy(end - mt_len, mt, mt_len);
		r += madt_parse(end - mt_len, mt_len, &mi, err, sizeof(err));
		// A length field larger than the buffer: refused before reading.
		put32(end - mt_len + 4, mt_len + 64);
		r += madt_parse(end - mt_len, mt_len, &mi, err, sizeof(err));
		kt_fault_disarm(t);
	} else {
		edge_release(frame);
		KT_ASSERT(t, false, "madt_parse read past its buffer: %s", t->fault.report);
	}
	edge_release(frame);
	KT_EXPECT_EQ(t, r, -3);
}

// ---- table lookup over synthetic physical memory

#define FAKE_BASE 0x7fe0000ull
static u8 fake[16384] __attribute__((aligned(16)));
struct fake_phys {
	u64 base;
	u8 *buf;
	u64 size;
	u64 max_len;	// the largest request seen
	u32 calls;
};
static struct fake_phys fp;

static const void *fake_map(u64 pa, u64 len, void *ctx)
{
	struct fake_phys *f = ctx;
	f->calls++;
	f->max_len = MAX(f->max_len, len);
	if (pa < f->base || len > f->size || pa - f->base > f->size - len)
		return NULL;
	return f->buf + (pa - f->base);
}

static void fake_reset(void)
{
	memset(fake, 0, sizeof(fake));
	fp = (struct fake_phys){FAKE_BASE, fake, sizeof(fake), 0, 0};
}

// Places a finished table at fake offset off; returns its physical address.
static u64 place(u32 off, const u8 *table)
{
	memcpy(fake + off, table, get32(table + 4));
	return fp.base + off;
}

// A small non-MADT table with signature sig.
static u64 place_dummy(u32 off, const char *sig)
{
	u8 d[40];
	sdt_begin(d, sig);
	put32(d + 36, 0x12345678);
	sdt_finish(d, sizeof(d));
	return place(off, d);
}

// An RSDT (esize 4) or XSDT (esize 8) listing n tables, at fake offset off.
static u64 place_root(u32 off, u32 esize, const u64 *pa, u32 n)
{
	u8 r[36 + 8 * 16];
	sdt_begin(r, esize == 8 ? "XSDT" : "RSDT");
	for (u32 i = 0; i < n; i++) {
		if (esize == 8)
			put64(r + 36 + 8 * i, pa[i]);
		else
			put32(r + 36 + 4 * i, (u32)pa[i]);
	}
	sdt_finish(r, 36 + esize * n);
	return place(off, r);
}

static u8 rsdp[36];

static void make_rsdp(u8 rev, u64 rsdt, u64 xsdt)
{
	memset(rsdp, 0, sizeof(rsdp));
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "TRICLR", 6);
	rsdp[15] = rev;
	put32(rsdp + 16, (u32)rsdt);
	if (rev >= 2) {
		put32(rsdp + 20, 36);
		put64(rsdp + 24, xsdt);
	}
	rsdp[8] = (u8)-sum8(rsdp, 20);
	if (rev >= 2)
		rsdp[32] = (u8)-sum8(rsdp, 36);
}

static const void *found;
static u64 found_len;

static int find(u32 rsdp_len, const char *sig)
{
	err[0] = 0;
	return acpi_find_table(rsdp, rsdp_len, sig, fake_map, &fp, &found, &found_len, err, sizeof(err));
}

// A good MADT with ncpus CPUs (APIC ids 0..ncpus-1) into mt.
static void build_madt(u32 ncpus)
{
	madt_begin(LAPIC_DEFAULT, PCAT);
	for (u32 i = 0; i < ncpus; i++)
		add_lapic(i, i, EN);
	add_ioapic(0, 0xfec00000, 0);
	madt_finish();
}

// Two different MADTs in fake memory: 1 CPU at +0x800, 4 CPUs at +0x1000.
static u64 madt1_pa, madt4_pa;

static void place_two_madts(void)
{
	build_madt(1);
	madt1_pa = place(0x800, mt);
	build_madt(4);
	madt4_pa = place(0x1000, mt);
}

static u32 found_ncpus(struct kt *t)
{
	KT_ASSERT(t, madt_parse(found, found_len, &mi, err, sizeof(err)) == 0, "found MADT does not parse: %s",
		  err);
	return mi.ncpus;
}

KTEST(acpi, find_rsdp_v1_rsdt)
{
	fake_reset();
	place_two_madts();
	u64 facp = place_dummy(0x400, "FACP");
	u64 hpet = place_dummy(0x480, "HPET");
	u64 list[] = {facp, madt4_pa, hpet};
	u64 rsdt = place_root(0, 4, list, 3);
	make_rsdp(0, rsdt, 0);
	KT_ASSERT(t, find(20, "APIC") == 0, "APIC not found: %s", err);
	KT_EXPECT(t, found == fake + 0x1000, "found %p, want %p", found, fake + 0x1000);
	KT_EXPECT_EQ(t, found_len, get32(fake + 0x1000 + 4));
	KT_EXPECT_EQ(t, found_ncpus(t), 4);
	KT_ASSERT(t, find(20, "HPET") == 0, "HPET not found: %s", err);
	KT_EXPECT(t, found == fake + 0x480, "found %p, want %p", found, fake + 0x480);
	// A v1 RSDP given as 36 bytes reads the same.
	KT_EXPECT_EQ(t, find(36, "APIC"), 0);
	KT_EXPECT_EQ(t, found_len, get32(fake + 0x1000 + 4));
}

KTEST(acpi, find_rsdp_v2_prefers_xsdt)
{
	fake_reset();
	place_two_madts();
	u64 in_rsdt[] = {madt1_pa}, in_xsdt[] = {madt4_pa};
	u64 rsdt = place_root(0, 4, in_rsdt, 1);
	u64 xsdt = place_root(0x200, 8, in_xsdt, 1);
	make_rsdp(2, rsdt, xsdt);
	KT_ASSERT(t, find(36, "APIC") == 0, "APIC not found: %s", err);
	KT_EXPECT_EQ(t, found_ncpus(t), 4);	// the XSDT's

	// A revision-2 RSDP cut to 20 bytes by the loader: only the RSDT is known.
	KT_ASSERT(t, find(20, "APIC") == 0, "APIC not found via the RSDT: %s", err);
	KT_EXPECT_EQ(t, found_ncpus(t), 1);

	// XSDT address 0: the RSDT.
	make_rsdp(2, rsdt, 0);
	KT_ASSERT(t, find(36, "APIC") == 0, "APIC not found: %s", err);
	KT_EXPECT_EQ(t, found_ncpus(t), 1);

	// An XSDT that is itself bad (checksum): the RSDT.
	make_rsdp(2, rsdt, xsdt);
	fake[0x200 + 20] ^= 1;
	KT_ASSERT(t, find(36, "APIC") == 0, "no fallback to the RSDT: %s", err);
	KT_EXPECT_EQ(t, found_ncpus(t), 1);
	// ... and if the RSDT is bad too, both reasons are given.
	fake[20] ^= 1;
	KT_EXPECT_EQ(t, find(36, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "XSDT") && strstr(err, "RSDT") && strstr(err, "checksum"), "reason \"%s\"", err);
	fake[20] ^= 1;
	fake[0x200 + 20] ^= 1;

	// A sound XSDT without the table is the answer: no fallback.
	u64 none[] = {place_dummy(0x480, "FACP")};
	xsdt = place_root(0x200, 8, none, 1);
	make_rsdp(2, rsdt, xsdt);
	KT_EXPECT_EQ(t, find(36, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "no APIC table") && strstr(err, "XSDT"), "reason \"%s\"", err);

	// XSDT entries are 64-bit: tables above 4 GiB are reachable.
	fake_reset();
	fp.base = 0x100000000ull;
	place_two_madts();
	u64 hi[] = {madt4_pa};
	make_rsdp(2, 0, place_root(0x200, 8, hi, 1));
	KT_ASSERT(t, find(36, "APIC") == 0, "APIC above 4 GiB not found: %s", err);
	KT_EXPECT_EQ(t, found_ncpus(t), 4);
}

KTEST(acpi, find_bad_rsdp)
{
	fake_reset();
	place_two_madts();
	u64 list[] = {madt4_pa};
	u64 rsdt = place_root(0, 4, list, 1), xsdt = place_root(0x200, 8, list, 1);

	make_rsdp(0, rsdt, 0);
	rsdp[16] ^= 0x10;	// the RSDT address, covered by the checksum
	KT_EXPECT_EQ(t, find(20, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "RSDP checksum bad") != NULL, "reason \"%s\"", err);
	KT_EXPECT_EQ(t, fp.calls, 0);		// nothing was mapped

	make_rsdp(2, rsdt, xsdt);
	rsdp[24] ^= 0x10;	// the XSDT address: only the extended checksum covers it
	KT_EXPECT_EQ(t, find(36, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "RSDP extended checksum bad") != NULL, "reason \"%s\"", err);
	KT_EXPECT_EQ(t, fp.calls, 0);

	make_rsdp(2, rsdt, xsdt);
	memcpy(rsdp, "RSD PTX ", 8);
	KT_EXPECT_EQ(t, find(36, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "signature") != NULL, "reason \"%s\"", err);

	make_rsdp(0, rsdt, 0);
	KT_EXPECT_EQ(t, find(19, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "too short") != NULL, "reason \"%s\"", err);

	// Revision 2 with a length field below 36, checksums fixed up.
	make_rsdp(2, rsdt, xsdt);
	put32(rsdp + 20, 20);
	rsdp[32] = 0;
	rsdp[32] = (u8)-sum8(rsdp, 36);
	KT_EXPECT_EQ(t, find(36, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "length field 20") != NULL, "reason \"%s\"", err);

	// No root table address at all.
	make_rsdp(0, 0, 0);
	KT_EXPECT_EQ(t, find(20, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "no RSDT address") != NULL, "reason \"%s\"", err);
	KT_EXPECT(t, found == NULL && found_len == 0, "outputs set on failure");
}

KTEST(acpi, find_skips_bad_table)
{
	fake_reset();
	place_two_madts();
	fake[madt1_pa - FAKE_BASE + 50] ^= 0xff;	// the 1-CPU MADT's checksum breaks
	u64 list[] = {madt1_pa, madt4_pa};
	make_rsdp(0, place_root(0, 4, list, 2), 0);
	KT_ASSERT(t, find(20, "APIC") == 0, "good MADT after a bad one not found: %s", err);
	KT_EXPECT_EQ(t, found_ncpus(t), 4);

	// Only the bad one: the reason is its checksum.
	u64 only_bad[] = {madt1_pa};
	make_rsdp(0, place_root(0, 4, only_bad, 1), 0);
	KT_EXPECT_EQ(t, find(20, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "APIC table at 0x7fe0800: checksum bad") != NULL, "reason \"%s\"", err);
}

KTEST(acpi, find_not_found)
{
	fake_reset();
	place_two_madts();
	u64 list[] = {place_dummy(0x400, "FACP"), madt4_pa};
	make_rsdp(0, place_root(0, 4, list, 2), 0);
	KT_EXPECT_EQ(t, find(20, "SRAT"), -1);
	KT_EXPECT(t, strstr(err, "no SRAT table among 2 RSDT entries") != NULL, "reason \"%s\"", err);
	KT_EXPECT(t, found == NULL && found_len == 0, "outputs set on failure");
	// An empty RSDT.
	make_rsdp(0, place_root(0, 4, list, 0), 0);
	KT_EXPECT_EQ(t, find(20, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "among 0 RSDT entries") != NULL, "reason \"%s\"", err);

	// A root with more entries than are looked at: the MADT is the last.
	const u32 n = ACPI_ROOT_MAX_ENTRIES + 88;
	static u8 big[36 + 4 * (ACPI_ROOT_MAX_ENTRIES + 88)];
	sdt_begin(big, "RSDT");
	for (u32 i = 0; i < n; i++)
		put32(big + 36 + 4 * i, (u32)(FAKE_BASE + 0x400));
	put32(big + 36 + 4 * (n - 1), (u32)madt4_pa);
	sdt_finish(big, sizeof(big));
	make_rsdp(0, place(0x2000, big), 0);
	KT_EXPECT_EQ(t, find(20, "APIC"), -1);
	char want[64];
	ksnprintf(want, sizeof(want), "among the first %u of %u RSDT entries", ACPI_ROOT_MAX_ENTRIES, n);
	KT_EXPECT(t, strstr(err, want) != NULL, "reason \"%s\" lacks \"%s\"", err, want);
}

KTEST(acpi, find_bogus_pointers_and_lengths)
{
	fake_reset();
	place_two_madts();
	// An APIC table whose length field is absurd, entries that are 0 or
	// point outside memory, then the good one: only the good one is used,
	// and no request larger than the fake memory was ever made.
	u8 huge[36];
	sdt_begin(huge, "APIC");
	sdt_finish(huge, 36);
	put32(huge + 4, 0xfffffff0);
	memcpy(fake + 0x600, huge, 36);
	u64 list[] = {0, 0xdead0000, FAKE_BASE + sizeof(fake) - 10, FAKE_BASE + 0x600, madt4_pa};
	make_rsdp(0, place_root(0, 4, list, 5), 0);
	KT_ASSERT(t, find(20, "APIC") == 0, "good MADT not found: %s", err);
	KT_EXPECT_EQ(t, found_ncpus(t), 4);
	KT_EXPECT(t, fp.max_len <= sizeof(fake), "asked to map %lu bytes", fp.max_len);
	u64 bad_only[] = {FAKE_BASE + 0x600};
	make_rsdp(0, place_root(0, 4, bad_only, 1), 0);
	KT_EXPECT_EQ(t, find(20, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "impossible length") != NULL, "reason \"%s\"", err);

	// A table whose length fits the limit but runs off the end of memory.
	put32(fake + 0x600 + 4, sizeof(fake));
	KT_EXPECT_EQ(t, find(20, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "unreadable") != NULL, "reason \"%s\"", err);

	// The root table itself: length below its header, or absurd.
	u64 one[] = {madt4_pa};
	make_rsdp(0, place_root(0, 4, one, 1), 0);
	put32(fake + 4, 12);
	KT_EXPECT_EQ(t, find(20, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "RSDT table at 0x7fe0000 has impossible length 12") != NULL, "reason \"%s\"", err);
	put32(fake + 4, 0xffffffff);
	fp.max_len = 0;
	KT_EXPECT_EQ(t, find(20, "APIC"), -1);
	KT_EXPECT(t, fp.max_len <= 36, "mapped %lu bytes of an absurd root table", fp.max_len);
	// The RSDT pointer leads to something else.
	make_rsdp(0, madt4_pa, 0);
	KT_EXPECT_EQ(t, find(20, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "has signature \"APIC\"") != NULL, "reason \"%s\"", err);
	// ... or nowhere.
	make_rsdp(0, 0xdead0000, 0);
	KT_EXPECT_EQ(t, find(20, "APIC"), -1);
	KT_EXPECT(t, strstr(err, "unreadable") != NULL, "reason \"%s\"", err);
}

// ---- the machine we booted on

// QEMU's firmware configuration device: selector port 0x510, data 0x511.
// Key 0 reads "QEMU"; key 5 (FW_CFG_NB_CPUS) is the -smp CPU count, a
// second opinion that does not come from the ACPI tables.
static void fw_cfg_read(u16 key, void *buf, u32 n)
{
	__asm__ volatile("outw %0, %1" ::"a"(key), "Nd"((u16)0x510));
	for (u32 i = 0; i < n; i++)
		((u8 *)buf)[i] = inb(0x511);
}

static int qemu_cpu_count(void)
{
	char sig[4];
	u16 n;
	fw_cfg_read(0, sig, 4);
	if (memcmp(sig, "QEMU", 4) != 0)
		return -1;
	fw_cfg_read(5, &n, 2);
	return n;
}

static u32 boot_apic_id(void)
{
	u32 a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	return b >> 24;
}

KTEST(acpi, map_phys)
{
	KT_EXPECT(t, acpi_map_phys(0, 0, NULL) == NULL, "zero length mapped");
	KT_EXPECT(t, acpi_map_phys(0xfffffffffffff000ull, 0x2000, NULL) == NULL, "wrapping range mapped");
	// Beyond MAXPHYADDR the page-table entry would have reserved bits set.
	KT_EXPECT(t, acpi_map_phys(1ull << 52, 36, NULL) == NULL, "address beyond 52 bits mapped");
	// RAM in the direct map is used in place.
	static const char probe[] = "acpi_map_phys";
	u64 pa = virt_to_phys(probe);
	KT_EXPECT(t, acpi_map_phys(pa, sizeof(probe), NULL) == phys_to_virt(pa), "direct-map RAM not used in place");
	KT_EXPECT(t, acpi_map_phys(0xf0000, 16, NULL) == phys_to_virt(0xf0000), "first MiB not used in place");
}

KTEST(acpi, rsdp_search)
{
	u64 pa = acpi_rsdp_search();
	KT_ASSERT(t, pa != 0, "no RSDP in the EBDA or 0xE0000..0xFFFFF (SeaBIOS puts one there)");
	KT_EXPECT(t, pa % 16 == 0 && pa >= 0x80000 && pa < 0x100000, "RSDP at %#lx", pa);
	const u8 *p = phys_to_virt(pa);
	KT_EXPECT(t, memcmp(p, "RSD PTR ", 8) == 0 && acpi_checksum_ok(p, 20), "bad RSDP at %#lx", pa);
	if (bootinfo.rsdp_len)
		KT_EXPECT(t, memcmp(p, bootinfo.rsdp, 20) == 0, "RSDP at %#lx differs from the loader's copy", pa);
}

KTEST(acpi, find_on_this_machine)
{
	KT_ASSERT(t, bootinfo.rsdp_len != 0, "the loader gave no RSDP");
	static const char *const sigs[] = {"APIC", "FACP"};	// QEMU q35 has both
	for (u32 i = 0; i < ARRAY_SIZE(sigs); i++) {
		err[0] = 0;
		int r = acpi_find_table(bootinfo.rsdp, bootinfo.rsdp_len, sigs[i], acpi_map_phys, NULL, &found,
					&found_len, err, sizeof(err));
		KT_EXPECT(t, r == 0, "%s not found: %s", sigs[i], err);
		if (r < 0)
			continue;
		// SeaBIOS puts the tables in a reserved range: mapped for us, not
		// in the direct map. Either way the bytes are the table.
		u64 va = (u64)found;
		KT_EXPECT(t, (va >= IOMAP_BASE && va < KVA_END) || (va >= DIRECT_MAP && va < KVA_BASE),
			  "%s at %p, outside the direct map and the iomap range", sigs[i], found);
		KT_EXPECT(t, memcmp(found, sigs[i], 4) == 0 && acpi_checksum_ok(found, found_len),
			  "%s at %p: wrong signature or checksum", sigs[i], found);
	}
	KT_EXPECT_EQ(t, acpi_find_table(bootinfo.rsdp, bootinfo.rsdp_len, "NONE", acpi_map_phys, NULL, &found,
					&found_len, err, sizeof(err)),
		     -1);
}

static struct madt_info saved;
static struct bootinfo fake_bi;

KTEST(acpi, init_failure_falls_back)
{
	memcpy(&saved, &madt, sizeof(madt));
	memset(&fake_bi, 0, sizeof(fake_bi));
	make_rsdp(0, 0x1000, 0);
	rsdp[8] ^= 1;
	memcpy(fake_bi.rsdp, rsdp, 20);
	fake_bi.rsdp_len = 20;
	madt.ncpus = 7;		// whatever was there is cleared
	KT_EXPECT(t, !acpi_init(&fake_bi), "acpi_init accepted an RSDP with a bad checksum");
	KT_EXPECT_EQ(t, madt.ncpus, 0);
	KT_EXPECT_EQ(t, madt.nioapics, 0);
	memcpy(&madt, &saved, sizeof(madt));
}

static void check_machine_madt(struct kt *t)
{
	KT_ASSERT(t, madt.ncpus >= 1, "no CPUs recorded");
	u32 me = boot_apic_id();
	bool found_me = false;
	for (u32 i = 0; i < madt.ncpus; i++) {
		found_me |= madt.cpus[i].apic_id == me;
		for (u32 j = 0; j < i; j++)
			KT_EXPECT(t, madt.cpus[i].apic_id != madt.cpus[j].apic_id, "CPUs %u and %u share APIC id %u", j,
				  i, madt.cpus[i].apic_id);
	}
	KT_EXPECT(t, found_me, "the boot CPU's APIC id %u is not among the %u CPUs", me, madt.ncpus);
	KT_EXPECT_EQ(t, madt.lapic_addr, 0xfee00000);
	bool ioapic = false;
	for (u32 i = 0; i < madt.nioapics; i++)
		ioapic |= madt.ioapics[i].addr == 0xfec00000;
	KT_EXPECT(t, ioapic, "no IOAPIC at 0xfec00000 among %u", madt.nioapics);
	int qemu = qemu_cpu_count();
	if (qemu > 0)
		KT_EXPECT(t, madt.ncpus == (u32)qemu, "MADT has %u CPUs, QEMU's fw_cfg says %d", madt.ncpus, qemu);
	KT_EXPECT_EQ(t, madt.ncpus, madt.cpus_seen);
	KT_EXPECT_EQ(t, madt.warnings, 0);
}

KTEST(acpi, init_by_bios_search)
{
	memset(&fake_bi, 0, sizeof(fake_bi));	// no RSDP from the loader
	KT_ASSERT(t, acpi_init(&fake_bi), "acpi_init failed (see the warning above)");
	check_machine_madt(t);
	memcpy(&saved, &madt, sizeof(madt));
}

KTEST(acpi, init_this_machine)
{
	KT_ASSERT(t, bootinfo.rsdp_len != 0, "the loader gave no RSDP");
	KT_ASSERT(t, acpi_init(&bootinfo), "acpi_init failed (see the warning above)");
	check_machine_madt(t);
	// The loader's RSDP and the BIOS search lead to the same tables.
	KT_EXPECT_EQ(t, madt.ncpus, saved.ncpus);
	for (u32 i = 0; i < madt.ncpus && i < saved.ncpus; i++)
		KT_EXPECT_EQ(t, madt.cpus[i].apic_id, saved.cpus[i].apic_id);
}
