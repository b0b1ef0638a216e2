// Identity of the running CPU. Until SMP bring-up (the SMP issue) only the
// bootstrap processor runs kernel code, so it is CPU 0; per-CPU data through
// GS replaces this then.
#pragma once

#include "kernel/types.h"

static inline unsigned this_cpu_id(void) { return 0; }

struct cpuinfo {
	char vendor[13];
	char brand[49];
	u32 family, model, stepping;
	bool nx, huge_1g, x2apic, invariant_tsc, apic;
};
extern struct cpuinfo boot_cpu;

// cpu_identify: fills boot_cpu from CPUID and logs it.
void cpu_identify(void);
