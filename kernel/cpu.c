// CPU identification from CPUID: vendor, brand string, family/model and
// the features later subsystems rely on.

#include "kernel/cpu.h"
#include "kernel/printf.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/x86.h"

struct cpuinfo boot_cpu;

void cpu_identify(void)
{
	struct cpuinfo *c = &boot_cpu;
	u32 a, b, d, e, max, maxext;

	cpuid(0, 0, &max, &b, &d, &e);
	memcpy(c->vendor + 0, &b, 4);
	memcpy(c->vendor + 4, &e, 4);	// the vendor string is EBX, EDX, ECX
	memcpy(c->vendor + 8, &d, 4);
	c->vendor[12] = 0;

	u32 ecx1 = 0, edx1 = 0;
	if (max >= 1) {
		cpuid(1, 0, &a, &b, &ecx1, &edx1);
		c->stepping = a & 0xf;
		c->model = (a >> 4) & 0xf;
		c->family = (a >> 8) & 0xf;
		if (c->family == 0xf)
			c->family += (a >> 20) & 0xff;
		if (c->family >= 6)
			c->model |= ((a >> 16) & 0xf) << 4;
		c->apic = edx1 & (1u << 9);
		c->x2apic = ecx1 & (1u << 21);
		c->hypervisor = ecx1 & (1u << 31);
	}
	cpuid(0x80000000, 0, &maxext, &b, &d, &e);
	if (maxext >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &d, &e);
		c->nx = e & (1u << 20);
		c->huge_1g = e & (1u << 26);
	}
	if (maxext >= 0x80000004) {
		u32 *w = (u32 *)c->brand;
		for (u32 leaf = 0; leaf < 3; leaf++)
			cpuid(0x80000002 + leaf, 0, &w[leaf * 4], &w[leaf * 4 + 1], &w[leaf * 4 + 2],
			      &w[leaf * 4 + 3]);
		c->brand[48] = 0;
	}
	if (maxext >= 0x80000007) {
		cpuid(0x80000007, 0, &a, &b, &d, &e);
		c->invariant_tsc = e & (1u << 8);
	}
	const char *brand = c->brand;
	while (*brand == ' ')
		brand++;
	pr_info("cpu: %s \"%s\" family %u model %u stepping %u", c->vendor, brand, c->family, c->model,
		c->stepping);
	pr_info("cpu: features:%s%s%s%s%s%s", c->apic ? " apic" : "", c->x2apic ? " x2apic" : "",
		c->nx ? " nx" : "", c->huge_1g ? " pdpe1gb" : "", c->invariant_tsc ? " invariant-tsc" : "",
		c->hypervisor ? " hypervisor" : "");
	// A guest's virtual CPUs may be descheduled by the host at any moment:
	// a ticket lock then stalls every waiter behind one that is not
	// running, so locks go unfair (see kernel/spinlock.h).
	spin_unfair = c->hypervisor;
}
