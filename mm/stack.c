// Guarded kernel stacks: each stack lives in a fixed 64 KiB slot of the
// KSTACK range with its lowest page left unmapped, so running off the
// bottom faults instead of corrupting memory. The slot of a faulting
// address gives the stack's owner in O(1) for the fault report.

#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "mm/mm.h"

#define OWNER_MAX 32

// Guards used[] and owner[]; a slot's pages belong to whoever holds it.
static struct spinlock stack_lock = SPINLOCK_INIT("kstack slots");
static u64 used[KSTACK_SLOTS / 64];
static char owner[KSTACK_SLOTS][OWNER_MAX];

static u64 slot_base(int slot)
{
	return KSTACK_BASE + (u64)slot * KSTACK_SLOT_SIZE;
}

int stack_alloc(struct kstack *s, unsigned pages, const char *name)
{
	if (pages == 0 || pages > KSTACK_MAX_PAGES)
		panic("stack_alloc(%u pages) for %s: 1..%d pages", pages, name, KSTACK_MAX_PAGES);
	int slot = -1;
	bool irq = spin_lock_irqsave(&stack_lock);
	for (int w = 0; w < KSTACK_SLOTS / 64 && slot < 0; w++)
		if (~used[w]) {
			slot = w * 64 + __builtin_ctzll(~used[w]);
			used[w] |= 1ull << (slot % 64);
			strlcpy(owner[slot], name, OWNER_MAX);
		}
	spin_unlock_irqrestore(&stack_lock, irq);
	if (slot < 0)
		return -1;

	// The stack occupies the top `pages` pages of the slot; the page just
	// below it is the guard (never mapped).
	u64 top = slot_base(slot) + KSTACK_SLOT_SIZE, bottom = top - (u64)pages * PAGE_SIZE;
	u64 va;
	for (va = bottom; va < top; va += PAGE_SIZE) {
		void *f = frame_alloc_reclaim(0, FT_STACK);
		if (f)
			memset(f, 0, PAGE_SIZE);
		if (!f || vm_map(va, virt_to_phys(f), PAGE_SIZE, VM_READ | VM_WRITE) < 0) {
			if (f)
				frame_free(f, 0);
			break;
		}
	}
	*s = (struct kstack){bottom, top, slot};
	if (va < top) {
		s->top = va;	// free only what was mapped
		stack_free(s);
		return -1;
	}
	return 0;
}

void stack_free(struct kstack *s)
{
	for (u64 va = s->bottom; va < s->top; va += PAGE_SIZE) {
		u64 flags;
		u64 pa = vm_translate(va, &flags);
		vm_unmap(va, PAGE_SIZE);
		if (pa)
			frame_free(phys_to_virt(pa), 0);
	}
	bool irq = spin_lock_irqsave(&stack_lock);
	used[s->slot / 64] &= ~(1ull << (s->slot % 64));
	owner[s->slot][0] = 0;
	spin_unlock_irqrestore(&stack_lock, irq);
	s->bottom = s->top = 0;
}

const char *stack_guard_owner(u64 va)
{
	if (va < KSTACK_BASE || va >= KSTACK_BASE + (u64)KSTACK_SLOTS * KSTACK_SLOT_SIZE)
		return NULL;
	int slot = (int)((va - KSTACK_BASE) / KSTACK_SLOT_SIZE);
	// Read without the lock: this runs in fault reports, and a stale name
	// is better than a deadlock there.
	if (!(__atomic_load_n(&used[slot / 64], __ATOMIC_RELAXED) & (1ull << (slot % 64))))
		return NULL;
	// Anything unmapped in the slot below the stack counts as its guard.
	u64 flags;
	if (vm_translate(va & ~(PAGE_SIZE - 1), &flags))
		return NULL;
	return owner[slot];
}
