// Symbol lookup over the table tools/mksyms.py generates: addresses sorted
// ascending, each with an offset into one blob of NUL-terminated names.

#include "kernel/ksyms.h"
#include "kernel/printf.h"
#include "kernel/string.h"

extern const u64 ksyms_count;
extern const u64 ksyms_addr[];
extern const u32 ksyms_name_off[];
extern const char ksyms_names[];
extern const char _text[], _etext[];

u64 ksym_count(void)
{
	return ksyms_count;
}

const char *ksym_lookup(u64 addr, u64 *offset)
{
	if (addr < (u64)_text || addr >= (u64)_etext || ksyms_count == 0 || addr < ksyms_addr[0])
		return NULL;
	// Binary search for the last symbol at or below addr.
	u64 lo = 0, hi = ksyms_count;
	while (hi - lo > 1) {
		u64 mid = lo + (hi - lo) / 2;
		if (ksyms_addr[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (offset)
		*offset = addr - ksyms_addr[lo];
	return &ksyms_names[ksyms_name_off[lo]];
}

u64 ksym_address(const char *name)
{
	for (u64 i = 0; i < ksyms_count; i++)
		if (strcmp(&ksyms_names[ksyms_name_off[i]], name) == 0)
			return ksyms_addr[i];
	return 0;
}

int ksym_format(char *buf, size_t size, u64 addr)
{
	u64 off;
	const char *name = ksym_lookup(addr, &off);
	if (!name)
		return ksnprintf(buf, size, "?");
	return ksnprintf(buf, size, "%s+0x%lx", name, off);
}
