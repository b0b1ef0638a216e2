// Spinlocks: ticket locks (FIFO, so no CPU starves under contention) that
// disable interrupts and preemption while held and record their owner
// (CPU and acquire site) for debugging. Taking a lock the CPU already
// holds panics (recursion is a deadlock), and so does waiting for one
// longer than spin_lockup_ns (a lost unlock or a lock-order deadlock),
// naming the lock, its owner and where the owner took it.
//
// A spinlock never sleeps and its holder must not block, yield or wait
// for another CPU's interrupts (IPIs). A lock that an interrupt handler
// takes must always be taken with interrupts off (irqsave / irqs_off);
// one that no handler takes may use spin_lock, which leaves them on. Where locks nest, the lock order is
// written beside the locks (mm/vm.c, kernel/sched.c).
//
// Under a hypervisor (spin_unfair, set at boot from CPUID before other
// CPUs start) a lock is taken only when it is free, with the same two
// counters: whichever running CPU comes first gets it. With FIFO tickets
// a lock is handed to the next waiter even when the host has that virtual
// CPU descheduled, and every CPU behind it waits for the host to run it
// again; on this project's machines (QEMU's TCG, 8 virtual CPUs on 2
// cores) that made a contended lock hand-off cost milliseconds. Linux
// falls back to a test-and-set lock in guests for the same reason
// (virt_spin_lock). Fairness is then the host's; lockup detection stays.
#pragma once

#include "kernel/types.h"

extern bool spin_unfair;

struct spinlock {
	// next: the ticket the next locker takes; serving: the ticket that
	// holds the lock. Both only change through atomic operations.
	u32 next;
	u32 serving;
	const char *name;
	int owner_cpu;		// -1 when free; debug only
	void *owner_pc;		// acquire site; debug only
};

#define SPINLOCK_INIT(n) { .next = 0, .serving = 0, .name = (n), .owner_cpu = -1, .owner_pc = NULL }
// How long a CPU waits for a lock before it panics with a lockup report:
// 10 s by default; tests shorten it.
extern u64 spin_lockup_ns;

void spin_init(struct spinlock *l, const char *name);
// spin_lock_irqsave disables interrupts and preemption, takes the lock and
// returns the previous interrupt state for spin_unlock_irqrestore.
bool spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, bool irqs_were_on);
// spin_trylock_irqsave: like spin_lock_irqsave but gives up after about
// `spins` attempts and returns false with interrupts restored.
bool spin_trylock_irqsave(struct spinlock *l, unsigned long spins, bool *irqs_were_on);
// spin_lock/spin_unlock: for locks no interrupt handler ever takes (the
// frame allocator, page tables, the heap): interrupts stay on, only
// preemption is disabled, which is enough because nothing else on this
// CPU can want the lock meanwhile. Under the emulator this saves the
// costly pushf/cli/sti. Panics if called from an interrupt handler.
void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
// spin_lock_irqs_off/spin_unlock_irqs_off: for code that already runs
// with interrupts off (the scheduler, interrupt handlers); they leave the
// interrupt flag alone.
void spin_lock_irqs_off(struct spinlock *l);
void spin_unlock_irqs_off(struct spinlock *l);
bool spin_held_by_me(const struct spinlock *l);
