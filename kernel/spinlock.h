// Spinlocks: ticket locks that record their owner for debugging. A CPU
// that takes a lock it already holds panics (recursion is a deadlock).
#pragma once

#include "kernel/types.h"

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

void spin_init(struct spinlock *l, const char *name);
// spin_lock_irqsave disables interrupts, takes the lock and returns the
// previous interrupt state for spin_unlock_irqrestore.
bool spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, bool irqs_were_on);
// spin_trylock_irqsave: like spin_lock_irqsave but gives up after about
// `spins` attempts and returns false with interrupts restored.
bool spin_trylock_irqsave(struct spinlock *l, unsigned long spins, bool *irqs_were_on);
bool spin_held_by_me(const struct spinlock *l);
