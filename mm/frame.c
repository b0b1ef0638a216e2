// Physical frame allocator: a binary buddy allocator over all usable RAM
// with per-CPU caches of single frames.
//
// Overview of mm/ (the bottom of the memory manager):
//
//   boot memory map --memmap.c--> usable ranges --vm.c--> kernel page tables
//   (direct map of all RAM, W^X kernel image) --frame.c--> buddy allocator
//   --> everything else: page tables, guarded stacks (stack.c), and later
//   the page heap, spans and the collector's metadata.
//
// Frames. Every page frame between the lowest and highest usable address
// has a descriptor (struct frame, 12 bytes) in one array carved from the
// memory map at boot. Only the first frame of a block (its head) says
// anything: FREE (on the buddy list of its order), ALLOCATED (with the
// order it was allocated at and an owner tag) or PCP (a free frame held in
// a per-CPU cache). Frames inside a block are TAIL; frames that are not
// RAM, or were taken at boot, are RESERVED and never merge.
//
// Buddy lists. A free block of order k (2^k frames) starts at a pfn that is
// a multiple of 2^k. Its buddy is the block at pfn ^ 2^k. Freeing merges
// with the buddy while the buddy is a FREE head of the same order, one
// level at a time; allocating splits a larger block, putting the upper
// halves back on their lists. Lists are doubly linked through descriptor
// indices, so taking a buddy off its list is O(1), and split/merge is O(1)
// per level. zone.lock guards the lists, the counts and head states. It is
// innermost: callers may hold vm_lock (mm/vm.c) when they get here.
//
// Per-CPU caches. Single-frame alloc/free goes through this CPU's cache,
// which takes no lock: it is touched only by its own CPU, with preemption
// disabled (kernel/percpu.h), so the thread can neither move to another
// CPU nor be stopped by a stop-the-world halfway. Interrupt handlers never
// allocate or free frames (checked), so nothing else on this CPU touches
// the cache meanwhile; that is what lets the fast path leave interrupts
// on, which costs far less than cli/popf. An empty cache refills `batch` frames from the buddy lists under
// the lock; one above `high` drains `batch` back. Frames in a cache are
// PCP heads, so the buddy allocator never merges them.
//
// Contract checks: frame_free panics on a pointer outside RAM, unaligned to
// the order, not ALLOCATED (double free, or a frame inside a block), or
// freed with another order than allocated. The check happens before any
// state changes and with no lock held, so nothing is corrupted and a test
// can catch the panic.

#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/thread.h"
#include "kernel/printf.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "mm/mm.h"

enum frame_state { FS_RESERVED, FS_TAIL, FS_FREE, FS_ALLOCATED, FS_PCP };

#define NIL UINT32_MAX

struct frame {
	u32 next, prev;		// free list links (descriptor indices); pcp uses next
	u8 state;		// enum frame_state (heads only; see above)
	u8 order;
	u16 tag;		// enum frame_tag while ALLOCATED
};

static struct {
	// Guards free[], nfree, nblocks and every descriptor's state/order/links
	// except those of PCP frames, which belong to their CPU's cache. Taken
	// with spin_lock (interrupts stay on): interrupt handlers never
	// allocate frames, which frame_alloc checks.
	struct spinlock lock;
	struct frame *frames;	// descriptor i is pfn base_pfn + i
	u64 base_pfn, npfn;
	u32 free[MAX_ORDER + 1];	// list heads
	u64 nblocks[MAX_ORDER + 1];
	u64 nfree;		// frames on the lists
	u64 managed;		// frames ever handed to the allocator
	u64 reserved;
} zone = {.lock = SPINLOCK_INIT("frame zone")};

struct pcp {
	u32 head;		// singly linked through frame.next
	u32 count;
	u32 high, batch;
} __attribute__((aligned(64)));	// one cache line each: no false sharing

static struct pcp pcps[MAX_CPUS];

#define PCP_HIGH 64
#define PCP_BATCH 16

static const char *const tag_names[FT_NTAGS] = {"none", "pagetable", "stack", "heap", "meta", "test"};

const char *frame_tag_name(enum frame_tag t)
{
	return (unsigned)t < FT_NTAGS ? tag_names[t] : "?";
}

static inline struct frame *fd(u64 idx) { return &zone.frames[idx]; }
static inline u64 idx_of_pa(u64 pa) { return (pa >> PAGE_SHIFT) - zone.base_pfn; }
static inline void *va_of_idx(u64 idx) { return phys_to_virt((idx + zone.base_pfn) << PAGE_SHIFT); }

static void freelist_push(unsigned order, u32 i)
{
	struct frame *f = fd(i);
	f->state = FS_FREE;
	f->order = (u8)order;
	f->prev = NIL;
	f->next = zone.free[order];
	if (f->next != NIL)
		fd(f->next)->prev = i;
	zone.free[order] = i;
	zone.nblocks[order]++;
	zone.nfree += 1ul << order;
}

static void freelist_remove(unsigned order, u32 i)
{
	struct frame *f = fd(i);
	if (f->prev != NIL)
		fd(f->prev)->next = f->next;
	else
		zone.free[order] = f->next;
	if (f->next != NIL)
		fd(f->next)->prev = f->prev;
	f->state = FS_TAIL;
	zone.nblocks[order]--;
	zone.nfree -= 1ul << order;
}

// buddy_alloc_locked: a block of the given order, or NIL. zone.lock held.
static u32 buddy_alloc_locked(unsigned order)
{
	unsigned k = order;
	while (k <= MAX_ORDER && zone.free[k] == NIL)
		k++;
	if (k > MAX_ORDER)
		return NIL;
	u32 i = zone.free[k];
	freelist_remove(k, i);
	// Split: keep the lower half, return each upper half to its list.
	while (k > order) {
		k--;
		freelist_push(k, i + (1u << k));
	}
	return i;
}

// buddy_free_locked: puts the block at i back, merging with free buddies.
static void buddy_free_locked(u32 i, unsigned order)
{
	u64 pfn = zone.base_pfn + i;
	while (order < MAX_ORDER) {
		u64 bpfn = pfn ^ (1ul << order);
		if (bpfn < zone.base_pfn || bpfn >= zone.base_pfn + zone.npfn)
			break;
		struct frame *b = fd(bpfn - zone.base_pfn);
		if (b->state != FS_FREE || b->order != order)
			break;
		freelist_remove(order, (u32)(bpfn - zone.base_pfn));
		fd(pfn - zone.base_pfn)->state = FS_TAIL;	// no longer a head (maybe)
		pfn &= ~(1ul << order);
		order++;
	}
	freelist_push(order, (u32)(pfn - zone.base_pfn));
}

static void __noreturn free_violation(u64 pa, unsigned order, const char *what, unsigned have_order,
				      const char *state)
{
	panic("frame_free(%#lx, order %u) on cpu %u: %s (frame state %s, order %u)", pa, order,
	      this_cpu_id(), what, state, have_order);
}

static const char *state_name(u8 s)
{
	static const char *const names[] = {"reserved", "tail", "free", "allocated", "pcp"};
	return s < ARRAY_SIZE(names) ? names[s] : "?";
}

// check_free: panics unless p is an ALLOCATED head of this order. Reads the
// descriptor without the lock: a racing legitimate free of the same frame
// is itself a double free, which the state change then catches.
static u32 check_free(void *p, unsigned order)
{
	u64 va = (u64)p;
	if (order > MAX_ORDER)
		free_violation(va, order, "order out of range", 0, "-");
	if (va < DIRECT_MAP || va >= DIRECT_MAP + ((zone.base_pfn + zone.npfn) << PAGE_SHIFT))
		free_violation(va, order, "address is not in the direct map of RAM", 0, "-");
	u64 pa = va - DIRECT_MAP;
	if (pa & ((PAGE_SIZE << order) - 1))
		free_violation(pa, order, "address not aligned to the order", 0, "-");
	if ((pa >> PAGE_SHIFT) < zone.base_pfn)
		free_violation(pa, order, "address below managed RAM", 0, "-");
	u64 i = idx_of_pa(pa);
	struct frame *f = fd(i);
	u8 st = __atomic_load_n(&f->state, __ATOMIC_RELAXED);
	if (st != FS_ALLOCATED)
		free_violation(pa, order, "frame is not allocated (double free, or inside a block)",
			       f->order, state_name(st));
	if (f->order != order)
		free_violation(pa, order, "freed with a different order than allocated", f->order,
			       state_name(st));
	return (u32)i;
}

static void mark_allocated(u32 i, unsigned order, enum frame_tag tag)
{
	struct frame *f = fd(i);
	f->order = (u8)order;
	f->tag = (u16)tag;
	// Release pairs with the relaxed load in check_free only for reporting;
	// ownership itself passes through the lock or the per-CPU cache.
	__atomic_store_n(&f->state, FS_ALLOCATED, __ATOMIC_RELEASE);
}

void *frame_alloc_buddy(unsigned order, enum frame_tag tag)
{
	if (order > MAX_ORDER)
		return NULL;
	spin_lock(&zone.lock);
	u32 i = buddy_alloc_locked(order);
	if (i != NIL)
		mark_allocated(i, order, tag);
	spin_unlock(&zone.lock);
	return i == NIL ? NULL : va_of_idx(i);
}

void frame_free_buddy(void *p, unsigned order)
{
	u32 i = check_free(p, order);
	spin_lock(&zone.lock);
	if (fd(i)->state != FS_ALLOCATED) {	// lost a race with another free
		spin_unlock(&zone.lock);
		free_violation(virt_to_phys(p), order, "frame freed twice concurrently", fd(i)->order,
			       state_name(fd(i)->state));
	}
	fd(i)->state = FS_TAIL;
	buddy_free_locked(i, order);
	spin_unlock(&zone.lock);
}

// ---- per-CPU cache (preemption disabled, this CPU only)

static void __noinline pcp_refill(struct pcp *c)
{
	spin_lock(&zone.lock);
	for (u32 n = 0; n < c->batch; n++) {
		u32 i = buddy_alloc_locked(0);
		if (i == NIL)
			break;
		fd(i)->state = FS_PCP;
		fd(i)->next = c->head;
		c->head = i;
		c->count++;
	}
	spin_unlock(&zone.lock);
}

static void __noinline pcp_release(struct pcp *c, u32 n)
{
	spin_lock(&zone.lock);
	for (; n && c->head != NIL; n--) {
		u32 i = c->head;
		c->head = fd(i)->next;
		c->count--;
		fd(i)->state = FS_TAIL;
		buddy_free_locked(i, 0);
	}
	spin_unlock(&zone.lock);
}

// pcp_enter: this CPU's cache, with preemption disabled until pcp_exit.
static struct pcp *pcp_enter(const void *p)
{
	preempt_disable();
	struct cpu *c = this_cpu();
	if (__builtin_expect(c->irq_depth != 0, 0))
		panic("frame allocator called from an interrupt handler on cpu %u (frame %p, thread %s)", c->id,
		      p, current_thread_name());
	return &pcps[c->id];
}

static void pcp_exit(void)
{
	preempt_enable();
}

void *frame_alloc(unsigned order, enum frame_tag tag)
{
	if (order != 0)
		return frame_alloc_buddy(order, tag);
	struct pcp *c = pcp_enter(NULL);
	if (c->head == NIL)
		pcp_refill(c);
	u32 i = c->head;
	if (i != NIL) {
		c->head = fd(i)->next;
		c->count--;
		mark_allocated(i, 0, tag);
	}
	pcp_exit();
	return i == NIL ? NULL : va_of_idx(i);
}

void frame_free(void *p, unsigned order)
{
	if (order != 0) {
		frame_free_buddy(p, order);
		return;
	}
	u32 i = check_free(p, 0);
	struct pcp *c = pcp_enter(p);
	struct frame *f = fd(i);
	u8 want = FS_ALLOCATED;
	// The state change is atomic so that two CPUs freeing one frame at once
	// cannot both put it in their caches.
	if (!__atomic_compare_exchange_n(&f->state, &want, FS_PCP, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED)) {
		pcp_exit();
		free_violation(virt_to_phys(p), 0, "frame freed twice concurrently", f->order, state_name(want));
	}
	f->next = c->head;
	c->head = i;
	if (++c->count > c->high)
		pcp_release(c, c->batch);
	pcp_exit();
}

void pcp_drain(void)
{
	struct pcp *c = pcp_enter(NULL);
	pcp_release(c, c->count);
	pcp_exit();
}

static u64 (*reclaimer)(u64 want);	// set once at boot (frame_set_reclaimer)

void frame_set_reclaimer(u64 (*fn)(u64 want))
{
	reclaimer = fn;
}

// frames_free_here: frames this CPU can take now, the buddy lists' plus its
// own cache's. Both loads are hints, read without the lock: the count may
// change before the allocation, which alone decides.
static u64 frames_free_here(void)
{
	return __atomic_load_n(&zone.nfree, __ATOMIC_RELAXED) + frame_pcp_count(this_cpu_id());
}

void *frame_alloc_reclaim(unsigned order, enum frame_tag tag)
{
	u64 need = RECLAIM_RESERVE + (1ul << order);
	if (frames_free_here() < need && reclaimer && irqs_enabled() && preempt_count() == 0)
		reclaimer(need << PAGE_SHIFT);
	if (frames_free_here() < need)
		return NULL;
	return frame_alloc(order, tag);
}

void *frame_alloc_zeroed(unsigned order, enum frame_tag tag)
{
	void *p = frame_alloc(order, tag);
	if (p)
		memset(p, 0, PAGE_SIZE << order);
	return p;
}

u64 frame_pcp_count(unsigned cpu)
{
	return cpu < MAX_CPUS ? __atomic_load_n(&pcps[cpu].count, __ATOMIC_RELAXED) : 0;
}

// ---- setup

// frame_init: descriptors for [lowest, highest) usable pfn, carved from m
// itself; every remaining range of m goes on the buddy lists.
void frame_init(struct memmap *m)
{
	u64 lo = UINT64_MAX, hi = 0;
	for (u32 i = 0; i < m->n; i++) {
		if (m->r[i].start == m->r[i].end)
			continue;
		lo = MIN(lo, m->r[i].start >> PAGE_SHIFT);
		hi = MAX(hi, m->r[i].end >> PAGE_SHIFT);
	}
	if (lo >= hi)
		panic("mm: no usable memory left for the frame allocator");
	u64 bytes = ALIGN_UP((hi - lo) * sizeof(struct frame), PAGE_SIZE);
	u64 pa = memmap_take(m, bytes, UINT64_MAX);
	if (!pa)
		panic("mm: not enough memory: need %lu KiB for frame descriptors, no usable range that large",
		      bytes >> 10);
	if (hi - lo >= NIL)
		panic("mm: %lu frames exceed the allocator's 32-bit indices", hi - lo);
	zone.frames = phys_to_virt(pa);
	zone.base_pfn = lo;
	zone.npfn = hi - lo;
	for (u64 i = 0; i < zone.npfn; i++)
		zone.frames[i] = (struct frame){NIL, NIL, FS_RESERVED, 0, FT_NONE};
	for (unsigned k = 0; k <= MAX_ORDER; k++)
		zone.free[k] = NIL;
	for (unsigned c = 0; c < MAX_CPUS; c++)
		pcps[c] = (struct pcp){NIL, 0, PCP_HIGH, PCP_BATCH};

	// Hand over each range as the largest aligned blocks that fit. Blocks
	// are pushed directly: neighbours from the same range never need to
	// merge because each block is already as large as alignment allows.
	for (u32 r = 0; r < m->n; r++) {
		u64 s = m->r[r].start >> PAGE_SHIFT, e = m->r[r].end >> PAGE_SHIFT;
		while (s < e) {
			unsigned k = MAX_ORDER;
			while (k && ((s & ((1ul << k) - 1)) || s + (1ul << k) > e))
				k--;
			for (u64 j = 1; j < (1ul << k); j++)
				fd(s - lo + j)->state = FS_TAIL;
			// Use the merging path so blocks from adjacent ranges coalesce.
			buddy_free_locked((u32)(s - lo), k);
			zone.managed += 1ul << k;
			s += 1ul << k;
		}
	}
	zone.reserved = zone.npfn - zone.managed;
}

// ---- statistics and invariants

void frame_stats(struct frame_stats *s)
{
	memset(s, 0, sizeof(*s));
	spin_lock(&zone.lock);
	s->managed = zone.managed;
	s->free = zone.nfree;
	s->reserved = zone.reserved;
	for (unsigned k = 0; k <= MAX_ORDER; k++)
		s->blocks[k] = zone.nblocks[k];
	for (u64 i = 0; i < zone.npfn; i++)
		if (zone.frames[i].state == FS_ALLOCATED && zone.frames[i].tag < FT_NTAGS)
			s->by_tag[zone.frames[i].tag] += 1ul << zone.frames[i].order;
	spin_unlock(&zone.lock);
	for (unsigned c = 0; c < MAX_CPUS; c++)
		s->pcp += frame_pcp_count(c);
}

static __printf(3, 4) bool fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(why, size, fmt, ap);
	va_end(ap);
	return false;
}

bool frame_check(char *why, size_t size)
{
	bool ok = true;
	spin_lock(&zone.lock);
	u64 listed = 0;
	for (unsigned k = 0; k <= MAX_ORDER && ok; k++) {
		u64 n = 0;
		u32 prev = NIL;
		for (u32 i = zone.free[k]; i != NIL && ok; prev = i, i = fd(i)->next) {
			u64 pfn = zone.base_pfn + i;
			struct frame *f = fd(i);
			if (f->state != FS_FREE || f->order != k)
				ok = fail(why, size, "pfn %#lx on order-%u list is %s order %u", pfn, k,
					  state_name(f->state), f->order);
			else if (pfn & ((1ul << k) - 1))
				ok = fail(why, size, "pfn %#lx on order-%u list is misaligned", pfn, k);
			else if (f->prev != prev)
				ok = fail(why, size, "pfn %#lx has a broken back link", pfn);
			else if (i + (1ul << k) > zone.npfn)
				ok = fail(why, size, "order-%u block at pfn %#lx runs past the end", k, pfn);
			if (!ok)
				break;
			u64 b = pfn ^ (1ul << k);
			if (k < MAX_ORDER && b >= zone.base_pfn && b < zone.base_pfn + zone.npfn &&
			    fd(b - zone.base_pfn)->state == FS_FREE && fd(b - zone.base_pfn)->order == k)
				ok = fail(why, size, "buddies %#lx and %#lx are both free at order %u", pfn, b, k);
			n++;
			if (n > zone.npfn)
				ok = fail(why, size, "order-%u list loops", k);
		}
		if (ok && n != zone.nblocks[k])
			ok = fail(why, size, "order %u: %lu blocks listed, count says %lu", k, n, zone.nblocks[k]);
		listed += n << k;
	}
	if (ok && listed != zone.nfree)
		ok = fail(why, size, "%lu frames on lists, count says %lu", listed, zone.nfree);
	// Every managed frame is in exactly one block: free, cached or allocated.
	u64 covered = 0, pcp = 0;
	for (u64 i = 0; ok && i < zone.npfn; i++) {
		struct frame *f = fd(i);
		if (f->state == FS_FREE || f->state == FS_ALLOCATED)
			covered += 1ul << f->order;
		else if (f->state == FS_PCP)
			covered++, pcp++;
	}
	u64 pcp_counted = 0;
	for (unsigned c = 0; c < MAX_CPUS; c++)
		pcp_counted += pcps[c].count;
	if (ok && covered != zone.managed)
		ok = fail(why, size, "blocks cover %lu frames, %lu are managed", covered, zone.managed);
	if (ok && pcp != pcp_counted)
		ok = fail(why, size, "%lu frames marked cached, caches count %lu", pcp, pcp_counted);
	spin_unlock(&zone.lock);
	return ok;
}

void frame_print_buddyinfo(void)
{
	struct frame_stats s;
	frame_stats(&s);
	bool f = console_lock();
	kprintf_locked("Node 0, zone   Normal");
	for (unsigned k = 0; k <= MAX_ORDER; k++)
		kprintf_locked(" %6lu", s.blocks[k]);
	kprintf_locked("\n");
	console_unlock(f);
}

void frame_print_stats(void)
{
	struct frame_stats s;
	frame_stats(&s);
	pr_info("mm: frames: %lu managed (%lu MiB), %lu free, %lu in per-CPU caches, %lu reserved",
		s.managed, s.managed >> (20 - PAGE_SHIFT), s.free, s.pcp, s.reserved);
	for (unsigned t = 1; t < FT_NTAGS; t++)
		if (s.by_tag[t])
			pr_info("mm:   %-9s %lu frames", frame_tag_name(t), s.by_tag[t]);
}
