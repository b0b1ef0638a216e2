// Identity of the running CPU and CPUID feature detection.
#pragma once

#include "kernel/types.h"

// this_cpu_id: the running CPU's dense number (0 = boot CPU), from the
// per-CPU area (kernel/percpu.h). Stable only while the thread cannot
// migrate (preemption or interrupts off); otherwise a hint for messages.
static inline unsigned this_cpu_id(void)
{
	unsigned id;
	__asm__ volatile("movl %%gs:24, %0" : "=r"(id));	// PERCPU_OFF_ID
	return id;
}

struct cpuinfo {
	char vendor[13];
	char brand[49];
	u32 family, model, stepping;
	bool nx, huge_1g, x2apic, invariant_tsc, apic, tsc_deadline;
	bool hypervisor;	// CPUID.1:ECX[31]: running as a guest (QEMU sets it, TCG too)
};
extern struct cpuinfo boot_cpu;

// cpu_identify: fills boot_cpu from CPUID and logs it.
void cpu_identify(void);
