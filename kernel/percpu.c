// The per-CPU areas and the GS base that points at them. See
// kernel/percpu.h.

#include "kernel/percpu.h"
#include "kernel/x86.h"

#define MSR_GS_BASE 0xc0000101

struct cpu cpus[MAX_CPUS];
unsigned ncpus_online = 1;

_Static_assert(__builtin_offsetof(struct cpu, self) == 0, "%gs:0 is self");
_Static_assert(__builtin_offsetof(struct cpu, current) == PERCPU_OFF_CURRENT, "offset");
_Static_assert(__builtin_offsetof(struct cpu, preempt_count) == PERCPU_OFF_PREEMPT, "offset");
_Static_assert(__builtin_offsetof(struct cpu, pending) == PERCPU_OFF_PENDING, "offset");
_Static_assert(__builtin_offsetof(struct cpu, id) == PERCPU_OFF_ID, "offset");
_Static_assert(__builtin_offsetof(struct cpu, mcache) == PERCPU_OFF_MCACHE, "offset");

void percpu_set_gs(struct cpu *c)
{
	c->self = c;
	wrmsr(MSR_GS_BASE, (u64)c);
}

void percpu_init_boot(void)
{
	struct cpu *c = &cpus[0];
	c->id = 0;
	c->online = true;
	percpu_set_gs(c);
}
