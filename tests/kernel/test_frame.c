// The buddy frame allocator and its per-CPU caches: every order, zeroing,
// exhaustion, split/merge shape, random sequences under the invariant
// checker, contract violations, cache refill and drain.

#include "kernel/cmdline.h"
#include "kernel/layout.h"
#include "kernel/percpu.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "mm/mm.h"
#include "tests/kernel/ktest.h"

static void expect_invariants(struct kt *t)
{
	char why[160];
	KT_ASSERT(t, frame_check(why, sizeof(why)), "invariant broken: %s", why);
}

// Free frames seen by an allocator user: buddy lists plus caches.
static u64 available(void)
{
	struct frame_stats s;
	frame_stats(&s);
	return s.free + s.pcp;
}

KTEST(frame, alloc_free_every_order)
{
	u64 before = available();
	for (unsigned k = 0; k <= MAX_ORDER; k++) {
		u8 *p = frame_alloc(k, FT_TEST);
		KT_ASSERT(t, p != NULL, "order %u: out of memory", k);
		u64 pa = virt_to_phys(p);
		KT_EXPECT(t, (pa & ((PAGE_SIZE << k) - 1)) == 0, "order %u block at %#lx misaligned", k, pa);
		KT_EXPECT(t, (u64)p >= DIRECT_MAP, "order %u: %p not in the direct map", k, p);
		p[0] = 1;
		p[(PAGE_SIZE << k) - 1] = 2;	// the whole block is usable
		expect_invariants(t);
		frame_free(p, k);
	}
	KT_EXPECT_EQ(t, available(), before);
	KT_EXPECT(t, frame_alloc(MAX_ORDER + 1, FT_TEST) == NULL, "order %d accepted", MAX_ORDER + 1);
	expect_invariants(t);
}

KTEST(frame, zeroed_allocation_is_zero)
{
	for (unsigned k = 0; k <= 3; k += 3) {
		u8 *p = frame_alloc(k, FT_TEST);
		KT_ASSERT(t, p, "out of memory");
		memset(p, 0xa5, PAGE_SIZE << k);
		frame_free(p, k);	// the dirty block is the next one handed out
		u64 *z = frame_alloc_zeroed(k, FT_TEST);
		KT_ASSERT(t, z, "out of memory");
		for (size_t i = 0; i < (PAGE_SIZE << k) / 8; i++)
			KT_ASSERT(t, z[i] == 0, "order %u word %zu is %#lx", k, i, z[i]);
		frame_free(z, k);
	}
}

KTEST(frame, exhaustion_restores_counts)
{
	pcp_drain();
	struct frame_stats before, after;
	frame_stats(&before);
	// Allocate every frame, chaining them through their first word.
	void *list = NULL;
	u64 n = 0;
	for (void **p; (p = frame_alloc(0, FT_TEST)) != NULL; n++) {
		*p = list;
		list = p;
	}
	struct frame_stats empty;
	frame_stats(&empty);
	KT_EXPECT_EQ(t, n, before.free);
	KT_EXPECT_EQ(t, empty.free, 0);
	KT_EXPECT(t, frame_alloc(3, FT_TEST) == NULL, "an order-3 block while memory is exhausted");
	KT_EXPECT(t, frame_alloc_buddy(0, FT_TEST) == NULL, "a buddy frame while memory is exhausted");
	while (list) {
		void *next = *(void **)list;
		frame_free(list, 0);
		list = next;
	}
	pcp_drain();
	frame_stats(&after);
	KT_EXPECT_EQ(t, after.free, before.free);
	for (unsigned k = 0; k <= MAX_ORDER; k++)
		KT_EXPECT(t, after.blocks[k] == before.blocks[k], "order %u: %lu blocks, were %lu", k,
			  after.blocks[k], before.blocks[k]);
	expect_invariants(t);
}

KTEST(frame, split_and_merge_restore_shape)
{
	pcp_drain();
	struct frame_stats a, b;
	frame_stats(&a);
	void *p0 = frame_alloc_buddy(0, FT_TEST);	// splits a large block
	void *p1 = frame_alloc_buddy(1, FT_TEST);
	void *p5 = frame_alloc_buddy(5, FT_TEST);
	void *q0 = frame_alloc_buddy(0, FT_TEST);
	KT_ASSERT(t, p0 && p1 && p5 && q0, "out of memory");
	expect_invariants(t);
	// Free in a different order than allocated: merging must still
	// rebuild exactly the blocks there were.
	frame_free_buddy(p5, 5);
	frame_free_buddy(q0, 0);
	frame_free_buddy(p1, 1);
	frame_free_buddy(p0, 0);
	frame_stats(&b);
	for (unsigned k = 0; k <= MAX_ORDER; k++)
		KT_EXPECT(t, a.blocks[k] == b.blocks[k], "order %u: %lu blocks, were %lu", k, b.blocks[k],
			  a.blocks[k]);
	expect_invariants(t);
}

struct live {
	u64 *p;
	unsigned order;
};

KTEST(frame, random_sequences_keep_invariants)
{
	static struct live live[256];
	u32 nlive = 0;
	u64 seed = 0x9e3779b97f4a7c15ull, before = available();
	for (int batch = 0; batch < 40; batch++) {
		for (int op = 0; op < 64; op++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			u32 r = (u32)(seed >> 33);
			if (nlive < ARRAY_SIZE(live) && (nlive == 0 || r % 3 != 0)) {
				unsigned k = r % 7 < 4 ? 0 : (r >> 8) % 6;
				u64 *p = frame_alloc(k, FT_TEST);
				KT_ASSERT(t, p, "out of memory at order %u with %u live", k, nlive);
				// Stamp both ends: an overlapping allocation would
				// overwrite another block's stamps.
				p[0] = (u64)p;
				p[(PAGE_SIZE << k) / 8 - 1] = (u64)p ^ k;
				live[nlive++] = (struct live){p, k};
			} else {
				u32 i = (r >> 4) % nlive;
				struct live l = live[i];
				KT_ASSERT(t, l.p[0] == (u64)l.p && l.p[(PAGE_SIZE << l.order) / 8 - 1] == ((u64)l.p ^ l.order),
					  "block %p (order %u) was overwritten", l.p, l.order);
				frame_free(l.p, l.order);
				live[i] = live[--nlive];
			}
		}
		expect_invariants(t);
	}
	while (nlive) {
		nlive--;
		frame_free(live[nlive].p, live[nlive].order);
	}
	KT_EXPECT_EQ(t, available(), before);
	expect_invariants(t);
}

// Runs free(p, order) expecting a contract panic containing `want`.
static void expect_free_panics(struct kt *t, void *p, unsigned order, bool via_buddy, const char *want)
{
	if (KT_PANIC_TRY(t)) {
		if (via_buddy)
			frame_free_buddy(p, order);
		else
			frame_free(p, order);
		kt_panic_disarm(t);
		KT_ASSERT(t, false, "frame_free(%p, %u) did not panic (want \"%s\")", p, order, want);
	}
	KT_EXPECT(t, strstr(t->panic_msg, want) != NULL, "frame_free(%p, %u) panicked with \"%s\", want \"%s\"",
		  p, order, t->panic_msg, want);
}

KTEST(frame, contract_violations_are_caught)
{
	u64 before = available();
	u8 *p = frame_alloc(0, FT_TEST);
	KT_ASSERT(t, p, "out of memory");
	frame_free(p, 0);
	expect_free_panics(t, p, 0, false, "not allocated (double free");	// through the cache
	u8 *q = frame_alloc(2, FT_TEST);
	KT_ASSERT(t, q, "out of memory");
	expect_free_panics(t, q, 1, true, "different order");
	expect_free_panics(t, q + PAGE_SIZE, 1, true, "not aligned");
	expect_free_panics(t, q + PAGE_SIZE, 0, false, "not allocated");	// a page inside the block
	expect_free_panics(t, q + 8, 0, false, "not aligned");
	expect_free_panics(t, &kconfig, 0, false, "not in the direct map");
	expect_free_panics(t, (void *)(DIRECT_MAP + (1ull << 46)), 0, false, "not in the direct map");
	expect_free_panics(t, q, MAX_ORDER + 1, true, "order out of range");
	// The panics changed nothing: the block is still allocated and frees.
	expect_invariants(t);
	frame_free(q, 2);
	frame_free_buddy(frame_alloc_buddy(0, FT_TEST), 0);
	expect_free_panics(t, q, 2, true, "not allocated");	// double free, buddy path
	KT_EXPECT_EQ(t, available(), before);
	expect_invariants(t);
}

KTEST(frame, per_cpu_cache_refill_and_drain)
{
	pcp_drain();
	KT_EXPECT_EQ(t, frame_pcp_count(0), 0);
	u64 free0 = available();
	void *p = frame_alloc(0, FT_TEST);
	KT_ASSERT(t, p, "out of memory");
	// An empty cache refills one batch and hands out one frame of it.
	u64 batch = frame_pcp_count(0) + 1;
	KT_EXPECT(t, batch > 1, "the cache did not refill in a batch");
	frame_free(p, 0);
	KT_EXPECT_EQ(t, frame_pcp_count(0), batch);
	// Freeing past the high watermark drains a batch back to the lists.
	static void *many[256];
	u32 n = 0;
	for (; n < ARRAY_SIZE(many); n++)
		KT_ASSERT(t, (many[n] = frame_alloc(0, FT_TEST)) != NULL, "out of memory");
	for (u32 i = 0; i < n; i++) {
		frame_free(many[i], 0);
		KT_ASSERT(t, frame_pcp_count(0) <= 64, "cache holds %lu frames, above its high mark",
			  frame_pcp_count(0));
	}
	KT_EXPECT(t, frame_pcp_count(0) > 0, "cache empty after frees");
	KT_EXPECT_EQ(t, available(), free0);
	pcp_drain();
	KT_EXPECT_EQ(t, frame_pcp_count(0), 0);
	KT_EXPECT_EQ(t, available(), free0);
	expect_invariants(t);
}

KTEST(frame, interrupt_handlers_may_not_allocate)
{
	// As if inside an interrupt handler on this CPU: the per-CPU cache is
	// off limits there (it is guarded by the preemption count only).
	void *p = frame_alloc(0, FT_TEST);
	KT_ASSERT(t, p, "out of frames");
	u64 cached = frame_pcp_count(0);
	cli();
	this_cpu()->irq_depth++;
	if (KT_PANIC_TRY(t)) {
		frame_free(p, 0);
		kt_panic_disarm(t);
		this_cpu()->irq_depth--;
		sti();
		KT_ASSERT(t, false, "frame_free in interrupt context did not panic");
	}
	this_cpu()->irq_depth--;
	sti();
	KT_EXPECT(t, strstr(t->panic_msg, "interrupt handler") && strstr(t->panic_msg, "thread main"),
		  "panic: %s", t->panic_msg);
	KT_EXPECT_EQ(t, frame_pcp_count(0), cached);
	KT_EXPECT_EQ(t, preempt_count(), 0);
	frame_free(p, 0);	// still allocated: the check came first
}

KTEST(frame, stats_match_boot_memory)
{
	struct frame_stats s;
	frame_stats(&s);
	u64 usable = bootinfo_usable_bytes(&bootinfo) >> PAGE_SHIFT;
	// Everything usable is managed except the first MiB, the kernel image,
	// the boot info and the boot-time tables (descriptors, page tables).
	KT_EXPECT(t, s.managed <= usable, "%lu frames managed, only %lu usable", s.managed, usable);
	KT_EXPECT(t, s.managed + (usable / 64) + 1024 >= usable, "%lu frames managed of %lu usable", s.managed,
		  usable);
	KT_EXPECT(t, s.free + s.pcp <= s.managed, "more free than managed");
	KT_EXPECT(t, s.by_tag[FT_PAGETABLE] < s.managed, "page-table frames uncounted");
}
