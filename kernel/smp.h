// Multiprocessor support: bringing up the other CPUs, inter-processor
// interrupts, TLB shootdown, cross-CPU calls and stop-the-world.
#pragma once

#include "kernel/types.h"

// smp_init: starts every CPU the MADT lists (up to MAX_CPUS), one at a
// time, and logs "cpu N online (apic id A)" for each and a summary.
// After it returns ncpus_online is fixed.
void smp_init(void);
// smp_init_ipis: registers the IPI handlers (boot CPU, before smp_init).
void smp_init_ipis(void);

// smp_call: runs fn(arg) on CPU `cpu` from its IPI handler (interrupts
// off there) and waits until it has returned. The caller must have
// interrupts on (two CPUs calling each other would otherwise deadlock)
// and may be preempted. On the calling CPU itself fn runs directly.
void smp_call(unsigned cpu, void (*fn)(void *), void *arg);

// tlb_shootdown: invalidates [va, va+len) (len 0: everything) on every
// other online CPU and returns once all have done it. The caller has
// interrupts on and has already flushed its own TLB.
void tlb_shootdown(u64 va, u64 len);

// Stop the world. stw_begin brings every other online CPU into a
// rendezvous with interrupts off and returns, with preemption disabled,
// once all are parked; it returns how long that took (ns). A CPU parks at
// its next preemptible point: at once if it was preemptible, else when it
// leaves its preemption-disabled region. stw_end releases them, waits
// until all have left the rendezvous, and returns the moment it released
// them (nanotime: what follows, down to its own preempt_enable switching
// threads, is no longer part of the stop). The caller must have
// interrupts on, hold no lock, and must not sleep between the two.
// Concurrent callers are serialized: the second one parks for the first.
u64 stw_begin(void);
u64 stw_end(void);
// stw_park: this CPU's side of the rendezvous (interrupts off).
void stw_park(void);
// A CPU in its idle loop (halted or not) runs nothing a stop must wait
// for, so a stop of the world neither waits for it nor wakes it: it
// counts as stopped between stw_idle_enter (false: a stop is on, and
// this CPU has parked for it instead) and stw_idle_exit, which parks if
// a stop is on. Both with interrupts off; stw_idle_exit before anything
// may schedule.
bool stw_idle_enter(void);
void stw_idle_exit(void);

struct stw_stats {
	u64 count;		// completed stw_begin calls
	u64 last_ns, max_ns, total_ns;
};
void stw_get_stats(struct stw_stats *s);
