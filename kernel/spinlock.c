// Ticket spinlocks with owner tracking, recursion and lockup detection.

#include "kernel/spinlock.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/time.h"
#include "kernel/x86.h"

u64 spin_lockup_ns = 10000000000ull;
bool spin_unfair;

void spin_init(struct spinlock *l, const char *name)
{
	*l = (struct spinlock)SPINLOCK_INIT(name);
}

bool spin_held_by_me(const struct spinlock *l)
{
	// owner_cpu is only written by the holder, so reading our own id back
	// is reliable; another CPU's id is just a hint.
	return __atomic_load_n(&l->owner_cpu, __ATOMIC_RELAXED) == (int)this_cpu_id() &&
	       __atomic_load_n(&l->serving, __ATOMIC_RELAXED) != __atomic_load_n(&l->next, __ATOMIC_RELAXED);
}

static void note_owner(struct spinlock *l, void *pc)
{
	l->owner_cpu = (int)this_cpu_id();
	l->owner_pc = pc;
}

static void __noinline lockup(struct spinlock *l, u32 ticket)
{
	panic("spinlock lockup: cpu %u waited %lu ms for lock %s (ticket %u, serving %u), held by cpu %d "
	      "taken at %p", this_cpu_id(), spin_lockup_ns / 1000000, l->name, ticket,
	      __atomic_load_n(&l->serving, __ATOMIC_RELAXED), l->owner_cpu, l->owner_pc);
}

// try_free: takes l if it is free (next == serving), as a ticket holder
// would; acquire orders the critical section after it.
static bool try_free(struct spinlock *l)
{
	u32 s = __atomic_load_n(&l->serving, __ATOMIC_RELAXED), want = s;
	return __atomic_load_n(&l->next, __ATOMIC_RELAXED) == s &&
	       __atomic_compare_exchange_n(&l->next, &want, s + 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

// acquire_unfair: spin_unfair's acquire (spinlock.h): wait until the lock
// is free, then race for it.
static void acquire_unfair(struct spinlock *l)
{
	if (try_free(l))
		return;
	u64 start = nanotime();
	for (unsigned n = 1; !try_free(l); n++) {
		cpu_relax();
		if ((n & 0xffff) == 0 && nanotime() - start > spin_lockup_ns)
			lockup(l, __atomic_load_n(&l->next, __ATOMIC_RELAXED));
	}
}

static void acquire(struct spinlock *l, void *pc)
{
	if (spin_held_by_me(l))
		panic("spinlock recursion: lock %s already held by cpu %d (taken at %p)", l->name,
		      l->owner_cpu, l->owner_pc);
	if (spin_unfair) {
		acquire_unfair(l);
		note_owner(l, pc);
		return;
	}
	// Relaxed is enough to take a ticket; the acquire load below orders
	// the critical section after the lock is ours.
	u32 t = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != t) {
		u64 start = nanotime();
		for (unsigned n = 1; __atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != t; n++) {
			cpu_relax();
			if ((n & 0xffff) == 0 && nanotime() - start > spin_lockup_ns)
				lockup(l, t);
		}
	}
	note_owner(l, pc);
}

static void release(struct spinlock *l)
{
	l->owner_cpu = -1;
	l->owner_pc = NULL;
	// Release: every store of the critical section is visible before the
	// next ticket holder sees its turn.
	__atomic_store_n(&l->serving, l->serving + 1, __ATOMIC_RELEASE);
}

bool spin_lock_irqsave(struct spinlock *l)
{
	bool f = irq_save();
	preempt_disable();
	acquire(l, __builtin_return_address(0));
	return f;
}

void spin_lock_irqs_off(struct spinlock *l)
{
	preempt_disable();
	acquire(l, __builtin_return_address(0));
}

void spin_lock(struct spinlock *l)
{
	preempt_disable();
	if (__builtin_expect(this_cpu()->irq_depth != 0, 0))
		panic("spin_lock(%s) from an interrupt handler on cpu %u: this lock is taken with "
		      "interrupts on elsewhere, so the interrupted code may hold it", l->name, this_cpu_id());
	acquire(l, __builtin_return_address(0));
}

bool spin_trylock_irqsave(struct spinlock *l, unsigned long spins, bool *irqs_were_on)
{
	bool f = irq_save();
	preempt_disable();
	for (; spins; spins--) {
		if (try_free(l)) {
			note_owner(l, __builtin_return_address(0));
			*irqs_were_on = f;
			return true;
		}
		cpu_relax();
	}
	irq_restore(f);
	preempt_enable();
	return false;
}

void spin_unlock_irqrestore(struct spinlock *l, bool irqs_were_on)
{
	release(l);
	irq_restore(irqs_were_on);
	preempt_enable();	// may switch threads now that interrupts are on
}

void spin_unlock(struct spinlock *l)
{
	release(l);
	preempt_enable();
}

void spin_unlock_irqs_off(struct spinlock *l)
{
	spin_unlock(l);	// the same: neither touches the interrupt flag
}
