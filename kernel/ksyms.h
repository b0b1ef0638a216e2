// The kernel's own function symbols, embedded at build time by
// tools/mksyms.py (a second link pass), for symbolized backtraces.
#pragma once

#include "kernel/types.h"

// ksym_lookup: name of the function containing addr and addr's offset in
// it, or NULL when addr is not in kernel text.
const char *ksym_lookup(u64 addr, u64 *offset);
// ksym_address: address of the named function, or 0.
u64 ksym_address(const char *name);
u64 ksym_count(void);
// ksym_format: "name+0xoff" (or "?" outside kernel text) into buf.
int ksym_format(char *buf, size_t size, u64 addr);
