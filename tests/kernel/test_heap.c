// The size-class heap: every class and large sizes give distinct, zeroed,
// non-overlapping objects found again from interior pointers; the tiny
// allocator packs; scan/noscan selection and pointer bits follow the
// type; all CPUs allocate at once without handing an object out twice;
// refills reach the page heap, and spans grown in a batch fill one-page
// holes first; exhaustion fails cleanly; MemStats add up;
// metadata stays off the heap; scavenging gives frames back.

#include "kernel/percpu.h"
#include "kernel/printf.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "mm/malloc_internal.h"
#include "tests/kernel/ktest.h"

struct node {
	u64 key;
	struct node *left, *right;
	u64 pad;
};
GC_TYPE(node_type, struct node, left, right);

struct blob {
	u64 words[100];		// 800 B: over 512, so it carries a header
	void *p;
};
GC_TYPE(blob_type, struct blob, p);

struct plain {
	u64 a, b, c;
};
GC_TYPE_NOPTRS(plain_type, struct plain);

static bool in_heap(const void *p)
{
	return (u64)p - PLAT_HEAP_BASE < PLAT_HEAP_SIZE;
}

static bool all_bytes(const void *p, size_t n, u8 v)
{
	const u8 *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != v)
			return false;
	return true;
}

static bool all_zero(const void *p, size_t n) { return all_bytes(p, n, 0); }

static void check_heap(struct kt *t)
{
	char why[160];
	KT_EXPECT(t, heap_check(why, sizeof(why)), "heap invariants: %s", why);
}

#define PER_CLASS 40

KTEST_NOGC(heap, every_class_distinct_zeroed_found)
{
	static void *objs[PER_CLASS];
	for (unsigned cls = 1; cls < NUM_SIZE_CLASSES; cls++) {
		for (int noscan = 0; noscan < 2; noscan++) {
			u64 size = class_to_size[cls];
			if (size < 16 && noscan)
				size = 16;	// below 16 B noscan goes to the tiny allocator
			if (!noscan && size > HEAP_BITS_MAX_SIZE)
				size -= MALLOC_HEADER;	// what fits beside the header
			for (int i = 0; i < PER_CLASS; i++) {
				u8 *p = noscan ? gc_alloc_noscan(size) : gc_alloc_scan(size);
				KT_ASSERT(t, p, "class %u: %s", cls, gc_alloc_error());
				objs[i] = p;
				KT_ASSERT(t, in_heap(p), "object %p outside the heap", p);
				KT_EXPECT(t, all_zero(p, size), "class %u object %p not zeroed", cls, p);
				KT_EXPECT(t, gc_object_base(p) == p && gc_object_base(p + size - 1) == p &&
						     gc_object_base(p + size / 2) == p,
					  "class %u: lookups of %p gave %p / %p", cls, p, gc_object_base(p),
					  gc_object_base(p + size - 1));
				KT_EXPECT(t, gc_object_size(p) >= size, "class %u: size %lu < %lu", cls,
					  gc_object_size(p), size);
				memset(p, 0xa5, size);	// dirty it: the next round must see zeroes
			}
			for (int i = 0; i < PER_CLASS; i++)
				for (int j = 0; j < i; j++) {
					u64 a = (u64)objs[i], b = (u64)objs[j];
					KT_EXPECT(t, a + size <= b || b + size <= a, "class %u: %#lx and %#lx overlap", cls,
						  a, b);
				}
			for (int i = 0; i < PER_CLASS; i++)
				heap_test_free(objs[i]);
			heap_test_collect();	// small machines cannot hold every class at once
		}
		if (t->failures)
			break;
	}
	check_heap(t);
}

KTEST_NOGC(heap, freed_memory_comes_back_zeroed)
{
	static void *objs[200];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 200; i++) {
			u64 *p = gc_alloc(&node_type);
			KT_ASSERT(t, p, "%s", gc_alloc_error());
			KT_EXPECT(t, all_zero(p, sizeof(struct node)), "round %d: node %p is dirty", round, p);
			memset(p, 0xff, sizeof(struct node));
			objs[i] = p;
		}
		for (int i = 0; i < 200; i++)
			heap_test_free(objs[i]);
		heap_test_collect();
	}
	check_heap(t);
}

// A span left partly live by a collection hands its freed slots out
// again, zeroed one object at a time (inline for classes up to 256 B,
// by memset above): every class's reused objects read zero, the 8, 16
// and 24 B steps of the inline loop included.
KTEST_NOGC(heap, reused_slots_are_zeroed_in_every_class)
{
	static void *objs[64];
	for (unsigned cls = 1; cls < NUM_SIZE_CLASSES && class_to_size[cls] <= 1024; cls++) {
		u64 size = class_to_size[cls];
		// Scan for the 8 B class (pointer-free ones that small are tiny).
		void *(*alloc)(size_t) = size < TINY_SIZE ? gc_alloc_scan : gc_alloc_noscan;
		for (int i = 0; i < 64; i++) {
			objs[i] = alloc(size);
			KT_ASSERT(t, objs[i], "class %u: %s", cls, gc_alloc_error());
			memset(objs[i], 0xa5, size);
		}
		for (int i = 0; i < 64; i += 2)
			heap_test_free(objs[i]);
		heap_test_collect();
		for (int i = 0; i < 64; i += 2) {
			objs[i] = alloc(size);
			KT_ASSERT(t, objs[i], "class %u: %s", cls, gc_alloc_error());
			KT_EXPECT(t, all_zero(objs[i], size), "class %u (%lu B): reused object %p is dirty", cls, size,
				  objs[i]);
		}
		// The survivors between them kept every byte: zeroing stayed
		// inside each reused object.
		for (int i = 1; i < 64; i += 2)
			KT_EXPECT(t, all_bytes(objs[i], size, 0xa5), "class %u (%lu B): live object %p was overwritten",
				  cls, size, objs[i]);
		for (int i = 0; i < 64; i++)
			heap_test_free(objs[i]);
		heap_test_collect();
	}
	check_heap(t);
}

KTEST_NOGC(heap, large_objects)
{
	static const u64 sizes[] = {MAX_SMALL_SIZE + 1, 64 << 10, 1 << 20, (3 << 20) + 5};
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		u8 *p = gc_alloc_noscan(sizes[i]);
		KT_ASSERT(t, p, "%lu bytes: %s", sizes[i], gc_alloc_error());
		KT_EXPECT(t, ((u64)p & (HEAP_PAGE_SIZE - 1)) == 0, "large object %p not page-aligned", p);
		KT_EXPECT(t, all_zero(p, sizes[i]), "large object of %lu not zeroed", sizes[i]);
		KT_EXPECT(t, gc_object_base(p + sizes[i] - 1) == p, "interior lookup of a %lu-byte object",
			  sizes[i]);
		KT_EXPECT_EQ(t, gc_object_size(p), ALIGN_UP(sizes[i], (u64)HEAP_PAGE_SIZE));
		memset(p, 0x5a, sizes[i]);
		heap_test_free(p);
	}
	struct blob *b = gc_alloc_array(&blob_type, 50);	// 40 KiB of typed: large, typed
	KT_ASSERT(t, b, "%s", gc_alloc_error());
	KT_EXPECT(t, span_of((u64)b)->largetype == &blob_type, "large span's type %p",
		  span_of((u64)b)->largetype);
	heap_test_free(b);
	heap_test_collect();
	KT_EXPECT(t, gc_object_base(b) == NULL, "a collected large object is still found");
	check_heap(t);
}

// A large allocation zeroes dirty pages while its span is BUSY (off the
// free lists, in use by nobody): such a span must stay invisible to
// lookups and count as free pages, and what comes back is zeroed.
KTEST_NOGC(heap, large_spans_are_zeroed_while_busy)
{
	const u64 size = 1 << 20, npages = size >> HEAP_PAGE_SHIFT;
	u8 *p = gc_alloc_noscan(size);
	KT_ASSERT(t, p, "%s", gc_alloc_error());
	memset(p, 0xa5, size);
	heap_test_free(p);
	heap_test_collect();	// its pages go back to the page heap, dirty
	const char *why = NULL;
	struct mspan *s = mheap_take(npages, &why);
	KT_ASSERT(t, s, "mheap_take: %s", why);
	KT_EXPECT(t, s->state == SPAN_BUSY, "a taken span is %s", span_state_name((enum span_state)s->state));
	KT_EXPECT(t, gc_object_base((void *)s->base) == NULL, "a busy span's first page resolves to an object");
	check_heap(t);	// busy pages still count as free
	mheap_use(s);
	KT_EXPECT(t, s->state == SPAN_INUSE, "a used span is %s", span_state_name((enum span_state)s->state));
	mheap_free(s);
	for (int i = 0; i < 2; i++) {
		u8 *q = gc_alloc_noscan(size);
		KT_ASSERT(t, q, "%s", gc_alloc_error());
		KT_EXPECT(t, all_zero(q, size), "round %d: a reused large object is dirty", i);
		memset(q, 0x5a, size);
		heap_test_free(q);
		heap_test_collect();
	}
	check_heap(t);
}

KTEST_NOGC(heap, tiny_allocator_packs_and_aligns)
{
	u8 *a = gc_alloc_noscan(1), *b = gc_alloc_noscan(2), *c = gc_alloc_noscan(4), *d = gc_alloc_noscan(8);
	KT_ASSERT(t, a && b && c && d, "%s", gc_alloc_error());
	KT_EXPECT(t, ((u64)b & 1) == 0 && ((u64)c & 3) == 0 && ((u64)d & 7) == 0,
		  "alignment: 2 B at %p, 4 B at %p, 8 B at %p", b, c, d);
	// 1 + (pad to 2) 2 + 4 + 8 = 16: all in one block.
	u64 block = (u64)a & ~15ul;
	KT_EXPECT(t, (u64)b >> 4 == block >> 4 && (u64)c >> 4 == block >> 4 && (u64)d >> 4 == block >> 4,
		  "tiny objects %p %p %p %p not in one 16-byte block", a, b, c, d);
	KT_EXPECT(t, a < b && b < c && c < d, "tiny objects out of order: %p %p %p %p", a, b, c, d);
	u8 *e = gc_alloc_noscan(8);
	KT_EXPECT(t, e && (u64)e >> 4 != block >> 4, "a full block was reused: %p", e);
	KT_EXPECT(t, gc_object_base(b) == (void *)block, "tiny lookup gives the block: %p", gc_object_base(b));
	void *z1 = gc_alloc_noscan(0), *z2 = gc_alloc_noscan(0);
	KT_EXPECT(t, z1 && z2 && z1 != z2, "size 0: %p %p", z1, z2);
	preempt_disable();	// read this CPU's cache consistently
	struct mcache *mc = mcache_of(this_cpu_id());
	KT_EXPECT(t, mc->tiny_allocs > 0, "no tiny allocation counted");
	preempt_enable();
}

KTEST_NOGC(heap, scan_noscan_and_pointer_bits)
{
	struct node *n = gc_alloc(&node_type);
	struct plain *p = gc_alloc(&plain_type);
	u64 *raw = gc_alloc_noscan(24), *any = gc_alloc_scan(24);
	KT_ASSERT(t, n && p && raw && any, "%s", gc_alloc_error());
	struct mspan *sn = span_of((u64)n), *sp = span_of((u64)p), *sr = span_of((u64)raw), *sa = span_of((u64)any);
	KT_EXPECT(t, !spanclass_noscan(sn->spanclass), "typed object with pointers in a noscan span");
	KT_EXPECT(t, spanclass_noscan(sp->spanclass), "pointer-free type in a scan span");
	KT_EXPECT(t, spanclass_noscan(sr->spanclass), "gc_alloc_noscan in a scan span");
	KT_EXPECT(t, !spanclass_noscan(sa->spanclass), "gc_alloc_scan in a noscan span");
	// node: words 1 and 2 are pointers, 0 and 3 are not.
	for (u64 w = 0; w < 4; w++) {
		bool bit = span_ptr_word(sn, (u64)n, w);
		KT_EXPECT(t, bit == (w == 1 || w == 2), "node word %lu pointer bit %d", w, bit);
	}
	for (u64 w = 0; w < sa->elemsize / 8; w++)
		KT_EXPECT(t, span_ptr_word(sa, (u64)any, w), "untyped word %lu not a pointer", w);
	// An array of nodes repeats the pattern.
	struct node *arr = gc_alloc_array(&node_type, 3);
	KT_ASSERT(t, arr, "%s", gc_alloc_error());
	struct mspan *s3 = span_of((u64)arr);
	for (u64 w = 0; w < 12; w++) {
		bool bit = span_ptr_word(s3, (u64)arr, w);
		KT_EXPECT(t, bit == (w % 4 == 1 || w % 4 == 2), "node[%lu] word %lu bit %d", w / 4, w % 4, bit);
	}
	// Over 512 bytes: an 8-byte header with the type, before the object.
	struct blob *b = gc_alloc(&blob_type);
	KT_ASSERT(t, b, "%s", gc_alloc_error());
	KT_EXPECT(t, *(const struct gc_type **)((u8 *)b - MALLOC_HEADER) == &blob_type, "blob header %p",
		  *(const struct gc_type **)((u8 *)b - MALLOC_HEADER));
	KT_EXPECT(t, gc_object_base((u8 *)b + 700) == b, "blob interior lookup");
	KT_EXPECT(t, gc_object_size(b) >= sizeof(struct blob), "blob size %lu", gc_object_size(b));
	heap_test_free(n);
	heap_test_free(p);
	heap_test_free(raw);
	heap_test_free(any);
	heap_test_free(arr);
	heap_test_free((u8 *)b - MALLOC_HEADER);
	heap_test_collect();
}

struct tinyplain {
	u64 a;
};
GC_TYPE_NOPTRS(tinyplain_type, struct tinyplain);
struct words64 {
	void *first;
	u64 middle[62];
	void *last;
};
GC_TYPE(words64_type, struct words64, first, last);
struct words65 {
	void *first;
	u64 middle[63];
	void *last;
};
GC_TYPE(words65_type, struct words65, first, last);

// The span classes GC_TYPE records at compile time (gc_alloc's fast path
// takes objects from them without a size lookup) are the lookup's, and
// only for the types a span serves plainly.
KTEST_NOGC(heap, types_carry_their_span_class)
{
	KT_EXPECT_EQ(t, node_type.spanclass, make_spanclass(size_to_class(sizeof(struct node)), false));
	KT_EXPECT_EQ(t, plain_type.spanclass, make_spanclass(size_to_class(sizeof(struct plain)), true));
	KT_EXPECT_EQ(t, words64_type.spanclass, make_spanclass(size_to_class(512), false));
	KT_EXPECT_EQ(t, words65_type.spanclass, 0);		// over HEAP_BITS_MAX_SIZE: a header
	KT_EXPECT_EQ(t, blob_type.spanclass, 0);
	KT_EXPECT_EQ(t, tinyplain_type.spanclass, 0);		// the tiny allocator's
	KT_EXPECT_EQ(t, gc_type_scan_all.spanclass, 0);		// its arrays have any size
	const struct gc_type *types[] = {&node_type, &plain_type, &words64_type};
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		void *x = gc_alloc(types[i]);
		KT_ASSERT(t, x, "%s", gc_alloc_error());
		struct mspan *s = span_of((u64)x);
		KT_EXPECT(t, s->spanclass == types[i]->spanclass, "%s from span class %u, want %u", types[i]->name,
			  s->spanclass, types[i]->spanclass);
		KT_EXPECT(t, all_zero(x, types[i]->size), "%s not zeroed", types[i]->name);
		heap_test_free(x);
	}
	// The one-element pointer bits of the 64-word type fill a whole word
	// of heapbits, once its span keeps bits per object (an untyped
	// object of the same class makes it).
	struct words64 *w = gc_alloc(&words64_type);
	void *other = gc_alloc_scan(sizeof(struct words64));
	KT_ASSERT(t, w && other, "%s", gc_alloc_error());
	struct mspan *s = span_of((u64)w);
	KT_ASSERT(t, span_of((u64)other) == s, "the untyped object went to span %p, not %p", span_of((u64)other), s);
	KT_EXPECT(t, s->objtype == SPAN_MIXED, "span type %p after an untyped object", s->objtype);
	u64 w0 = ((u64)w - s->base) / 8;
	KT_EXPECT_EQ(t, w0 % 64, 0);
	KT_EXPECT_EQ(t, s->heapbits[w0 / 64], 1ull | 1ull << 63);
	heap_test_free(w);
	heap_test_free(other);
	heap_test_collect();
}

// Two types of 13 words (a size class, 112 bytes, no other test uses):
// pointers at words 1 and 2, and at 0 and 12.
struct odd13a {
	u64 key;
	void *l, *r;
	u64 pad[10];
};
GC_TYPE(odd13a_type, struct odd13a, l, r);
struct odd13b {
	void *first;
	u64 pad[11];
	void *last;
};
GC_TYPE(odd13b_type, struct odd13b, first, last);

// A span of one type keeps that type, not bits per object (struct mspan's
// objtype); the first object of another type gives every object its own
// bits, and each reads as its type.
KTEST_NOGC(heap, span_type_then_bits_per_object)
{
	_Static_assert(sizeof(struct odd13a) == 104 && sizeof(struct odd13b) == 104, "one size class");
	struct odd13a *a = gc_alloc(&odd13a_type), *b = gc_alloc(&odd13a_type);
	KT_ASSERT(t, a && b, "%s", gc_alloc_error());
	struct mspan *s = span_of((u64)a);
	KT_ASSERT(t, span_of((u64)b) == s, "two objects in spans %p and %p", s, span_of((u64)b));
	KT_EXPECT(t, s->objtype == &odd13a_type, "span type %p, want %p", s->objtype, &odd13a_type);
	struct odd13b *c = gc_alloc(&odd13b_type);
	KT_ASSERT(t, c, "%s", gc_alloc_error());
	KT_ASSERT(t, span_of((u64)c) == s, "the second type in span %p, not %p", span_of((u64)c), s);
	KT_EXPECT(t, s->objtype == SPAN_MIXED, "span type %p after a second type", s->objtype);
	struct odd13a *d = gc_alloc(&odd13a_type);
	KT_ASSERT(t, d && span_of((u64)d) == s, "%s", d ? "an object after the change in another span" : gc_alloc_error());
	const struct {
		void *obj;
		u64 ptrs;	// bit w: word w is a pointer
	} want[] = {{a, 0x6}, {b, 0x6}, {c, 0x1001}, {d, 0x6}};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		for (u64 w = 0; w < 14; w++)	// (word 13: the slot's unused tail)
			KT_EXPECT(t, span_ptr_word(s, (u64)want[i].obj, w) == (want[i].ptrs >> w & 1),
				  "object %zu word %lu pointer bit %d", i, w, span_ptr_word(s, (u64)want[i].obj, w));
	heap_test_free(a);
	heap_test_free(b);
	heap_test_free(c);
	heap_test_free(d);
	heap_test_collect();
}

KTEST_NOGC(heap, refills_reach_the_page_heap)
{
	u64 inuse0 = heap.pages_inuse, spans0 = heap.central[make_spanclass(size_to_class(4096), true)].nspans;
	static void *objs[600];
	for (int i = 0; i < 600; i++) {	// 600 x 4 KiB: many spans of one class
		objs[i] = gc_alloc_noscan(4096);
		KT_ASSERT(t, objs[i], "%s", gc_alloc_error());
	}
	u64 spans1 = heap.central[make_spanclass(size_to_class(4096), true)].nspans;
	KT_EXPECT(t, spans1 >= spans0 + 600 * 4096 / (class_to_npages[size_to_class(4096)] * HEAP_PAGE_SIZE),
		  "only %lu new spans for 600 objects", spans1 - spans0);
	KT_EXPECT(t, heap.pages_inuse >= inuse0 + (spans1 - spans0) * class_to_npages[size_to_class(4096)],
		  "page heap: %lu pages in use, was %lu", heap.pages_inuse, inuse0);
	for (int i = 0; i < 600; i++)
		heap_test_free(objs[i]);
	// The first collection gives the empty spans back to the CPU that
	// took them (mcache_return); nobody takes them again, so the second
	// frees them.
	heap_test_collect();
	heap_test_collect();
	KT_EXPECT_EQ(t, heap.central[make_spanclass(size_to_class(4096), true)].nspans, spans0);
	check_heap(t);
}

static bool on_chain(const struct mspan *chain, const struct mspan *s)
{
	for (; chain; chain = chain->cache_next)
		if (chain == s)
			return true;
	return false;
}

// A span the sweep finds empty goes back to the CPU whose cache last
// took it, once; a collection that finds it still unused frees it, and
// a drain (a refill about to back new pages) frees every CPU's at once.
KTEST_NOGC(heap, empty_spans_go_back_to_their_cpu_once)
{
	u8 sc = make_spanclass(size_to_class(1024), true);
	heap_test_collect();
	preempt_disable();
	mcache_drain_returned(~0ull);	// (earlier tests' leftovers)
	preempt_enable();
	u64 spans0 = heap.central[sc].nspans;
	u32 per_span = class_to_nobjs[size_to_class(1024)];
	static void *objs[3 * 64];
	KT_ASSERT(t, 3 * per_span <= ARRAY_SIZE(objs), "%u objects of 1 KiB per span", per_span);
	for (u32 i = 0; i < 3 * per_span; i++) {
		objs[i] = gc_alloc_noscan(1024);
		KT_ASSERT(t, objs[i], "%s", gc_alloc_error());
	}
	struct mspan *s = span_of((u64)objs[0]);
	unsigned cpu = s->cachecpu;
	KT_ASSERT(t, cpu < plat_ncpus(), "span %#lx taken by cpu %u", s->base, cpu);
	for (u32 i = 0; i < 3 * per_span; i++)
		heap_test_free(objs[i]);
	heap_test_collect();
	KT_EXPECT(t, s->state == SPAN_INUSE && on_chain(mcache_of(cpu)->returned[sc], s),
		  "span %#lx (%s) not given back to cpu %u", s->base, span_state_name((enum span_state)s->state), cpu);
	KT_EXPECT(t, mcache_returned_any(), "no CPU holds returned spans");
	KT_EXPECT(t, mcache_returned_pages() >= 3 * class_to_npages[size_to_class(1024)],
		  "%lu pages counted idle for 3 spans given back", mcache_returned_pages());
	heap_test_collect();	// nobody took it again
	KT_EXPECT(t, !on_chain(mcache_of(cpu)->returned[sc], s), "span %#lx given back to cpu %u twice", s->base,
		  cpu);
	KT_EXPECT_EQ(t, heap.central[sc].nspans, spans0);
	for (u32 i = 0; i < 3 * per_span; i++) {
		objs[i] = gc_alloc_noscan(1024);
		KT_ASSERT(t, objs[i], "%s", gc_alloc_error());
	}
	for (u32 i = 0; i < 3 * per_span; i++)
		heap_test_free(objs[i]);
	heap_test_collect();
	KT_EXPECT(t, mcache_returned_any() && heap.central[sc].nspans > spans0, "no spans given back");
	preempt_disable();
	mcache_drain_returned(~0ull);
	preempt_enable();
	KT_EXPECT(t, !mcache_returned_any() && mcache_returned_pages() == 0,
		  "returned spans (%lu pages) left after a drain", mcache_returned_pages());
	KT_EXPECT_EQ(t, heap.central[sc].nspans, spans0);
	check_heap(t);
}

// A class that grows takes several spans at once (mm/mcentral.c grow);
// each must come from the smallest free run that fits, as a single span
// would: one-page holes left between live spans are used before fresh
// or larger runs (cutting a batch from one contiguous run passed over
// them, and the scavenger then released them while fresh pages faulted
// in).
#define HOLES 96
#define SMALL_SPANS 16

static u64 one_page_free_runs(void)
{
	u64 n = 0;
	spin_lock(&heap.lock);
	list_for_each(e, &heap.free[1])
		n++;
	spin_unlock(&heap.lock);
	return n;
}

KTEST_NOGC(heap, grown_spans_fill_one_page_holes_first)
{
	unsigned big = size_to_class(8192), small = size_to_class(64);
	KT_ASSERT(t, class_to_npages[big] == 1 && class_to_nobjs[big] == 1 && class_to_npages[small] == 1,
		  "the classes of 8 KiB and 64 B no longer have one-page spans");
	heap_test_collect();
	static void *big_objs[2 * HOLES];
	for (int i = 0; i < 2 * HOLES; i++) {
		big_objs[i] = gc_alloc_noscan(8192);
		KT_ASSERT(t, big_objs[i], "%s", gc_alloc_error());
	}
	for (int i = 0; i < HOLES; i++)	// every other one: one-page holes between live spans
		heap_test_free(big_objs[2 * i + 1]);
	heap_test_collect();
	heap_test_collect();	// (the first gives them back to this CPU: mcache_return)
	u64 runs0 = one_page_free_runs(), sys0 = heap.pages_sys;
	// (The last may join a free run after it.)
	KT_ASSERT(t, runs0 >= HOLES - 1, "%lu one-page free runs after freeing %d one-page spans apart", runs0,
		  HOLES);
	// Two batches' worth of spans of 64-byte objects: each takes a hole.
	static void *objs[SMALL_SPANS * 128];
	u32 n = SMALL_SPANS * class_to_nobjs[small];
	KT_ASSERT(t, n <= sizeof(objs) / sizeof(objs[0]), "%u objects per span of 64 B", class_to_nobjs[small]);
	for (u32 i = 0; i < n; i++) {
		objs[i] = gc_alloc_noscan(64);
		KT_ASSERT(t, objs[i], "%s", gc_alloc_error());
	}
	u64 runs1 = one_page_free_runs();
	KT_EXPECT(t, runs1 + SMALL_SPANS <= runs0, "%d spans grown took %lu of %lu one-page free runs", SMALL_SPANS,
		  runs0 - runs1, runs0);
	KT_EXPECT_EQ(t, heap.pages_sys, sys0);
	for (u32 i = 0; i < n; i++)
		heap_test_free(objs[i]);
	for (int i = 0; i < HOLES; i++)
		heap_test_free(big_objs[2 * i]);
	heap_test_collect();
	check_heap(t);
}

// ---- all CPUs at once

#define PAR_OBJS 3000

struct stamp {
	u32 owner, index;
};

static struct {
	volatile int go;
	void **objs[MAX_CPUS];	// PAR_OBJS each, from the frame allocator
	int failed[MAX_CPUS];
} par;
#define PAR_ORDER 3		// 8 pages: room for PAR_OBJS pointers
_Static_assert(PAR_OBJS * sizeof(void *) <= PAGE_SIZE << PAR_ORDER, "batch array size");

static void par_alloc(void *arg)
{
	unsigned me = (unsigned)(u64)arg;
	while (!par.go)
		cpu_relax();
	for (u32 i = 0; i < PAR_OBJS; i++) {
		u64 size = 8 + (i * 37 + me * 11) % 600;	// mixed classes, tiny and small
		struct stamp *s = i % 3 ? gc_alloc_noscan(size) : gc_alloc_scan(size);
		if (!s) {
			par.failed[me]++;
			continue;
		}
		if (size >= sizeof(*s))
			*s = (struct stamp){me, i};
		par.objs[me][i] = s;
	}
}

KTEST_TIMEOUT_NOGC(heap, all_cpus_allocate_at_once, 120000)
{
	struct thread *th[MAX_CPUS];
	unsigned n = ncpus_online;
	memset(&par, 0, sizeof(par));
	for (unsigned c = 0; c < n; c++) {
		par.objs[c] = plat_meta_alloc(PAR_ORDER, FT_TEST);
		KT_ASSERT(t, par.objs[c], "no memory for cpu %u's array", c);
	}
	for (unsigned c = 0; c < n; c++) {
		th[c] = thread_create("test/heap-par", par_alloc, (void *)(u64)c, (int)c);
		KT_ASSERT(t, th[c], "thread_create failed");
	}
	par.go = 1;
	for (unsigned c = 0; c < n; c++)
		thread_join(th[c]);
	int bad = 0;
	for (unsigned c = 0; c < n; c++) {
		KT_EXPECT(t, par.failed[c] == 0, "cpu %u: %d allocations failed", c, par.failed[c]);
		for (u32 i = 0; i < PAR_OBJS; i++) {
			u64 size = 8 + (i * 37 + c * 11) % 600;
			struct stamp *s = par.objs[c][i];
			if (s && size >= sizeof(*s) && (s->owner != c || s->index != i) && bad++ < 3)
				KT_EXPECT(t, false, "object %p of cpu %u #%u holds stamp cpu %u #%u: handed out twice", s,
					  c, i, s->owner, s->index);
			if (s)
				heap_test_free(s);
		}
		plat_meta_free(par.objs[c], PAR_ORDER);
	}
	heap_test_collect();
	check_heap(t);
}

// ---- limits, statistics, metadata, scavenging

KTEST_NOGC(heap, the_range_grows_when_full)
{
	u64 sys0 = heap.pages_sys, free_bytes = (heap.pages_free + 1) << HEAP_PAGE_SHIFT;
	struct frame_stats fs;
	frame_stats(&fs);
	if ((fs.free + fs.pcp) * PAGE_SIZE < free_bytes + (8ul << 20))
		kt_skip(t, "%lu MiB of free heap range, more than free memory", free_bytes >> 20);
	void *p = gc_alloc_noscan(free_bytes);	// more than every free page together
	KT_ASSERT(t, p, "%s", gc_alloc_error());
	KT_EXPECT(t, heap.pages_sys > sys0, "the heap range did not grow (%lu pages)", heap.pages_sys);
	heap_test_free(p);
	heap_test_collect();
	check_heap(t);
}

KTEST_NOGC(heap, exhaustion_returns_null_and_recovers)
{
	// Room left: the free pages plus 16 MiB of growth; or the frames run
	// out first on a small machine. Either way the allocation fails cleanly.
	u64 room = (heap.pages_free << HEAP_PAGE_SHIFT) + (16 << 20);
	// A span of 64 B objects cached now has room afterwards.
	void *warm = gc_alloc_noscan(64);
	KT_ASSERT(t, warm, "%s", gc_alloc_error());
	heap_set_limit((heap.cursor - PLAT_HEAP_BASE) + (16 << 20));
	static void *objs[1024];
	u64 cap = room / (1 << 20) + 8;
	KT_ASSERT(t, cap <= ARRAY_SIZE(objs), "%lu MiB of free heap pages: test too small", room >> 20);
	u64 n = 0;
	void *p;
	while (n < cap && (p = gc_alloc_noscan(1 << 20)))
		objs[n++] = p;
	KT_EXPECT(t, n < cap, "%lu MiB allocated with %lu MiB of room", n, room >> 20);
	KT_EXPECT(t, strstr(gc_alloc_error(), "limit") || strstr(gc_alloc_error(), "out of memory"),
		  "reason: %s", gc_alloc_error());
	KT_EXPECT(t, gc_alloc_noscan(64) != NULL, "small objects from spans already there still work");
	for (u64 i = 0; i < n; i++)
		heap_test_free(objs[i]);
	heap_test_free(warm);
	heap_test_collect();
	heap_set_limit(0);
	p = gc_alloc_noscan(1 << 20);
	KT_EXPECT(t, p != NULL, "no recovery after the limit was lifted: %s", gc_alloc_error());
	if (p)
		heap_test_free(p);
	KT_EXPECT(t, gc_alloc_array(&node_type, (size_t)1 << 62) == NULL, "an overflowing array was allocated");
	KT_EXPECT(t, strstr(gc_alloc_error(), "overflow") != NULL, "reason: %s", gc_alloc_error());
	KT_EXPECT(t, gc_alloc_array(&node_type, PLAT_HEAP_SIZE / sizeof(struct node) + 1) == NULL,
		  "an array larger than the heap range was allocated");
	KT_EXPECT(t, strstr(gc_alloc_error(), "heap range") != NULL, "reason: %s", gc_alloc_error());
	KT_EXPECT(t, gc_alloc_noscan(PLAT_HEAP_SIZE + 1) == NULL, "an object larger than the heap range was allocated");
	KT_EXPECT(t, strstr(gc_alloc_error(), "heap range") != NULL, "reason: %s", gc_alloc_error());
	KT_EXPECT(t, gc_alloc_scan(~(size_t)0) == NULL, "an object of 2^64 - 1 bytes was allocated");
	KT_EXPECT(t, strstr(gc_alloc_error(), "heap range") != NULL, "reason: %s", gc_alloc_error());
	heap_test_collect();
	check_heap(t);
}

KTEST_NOGC(heap, memstats_add_up)
{
	static struct memstats a, b;
	read_memstats(&a);
	static void *objs[500];
	for (int i = 0; i < 500; i++) {
		objs[i] = i % 5 ? gc_alloc(&node_type) : gc_alloc_noscan(100 << 10);
		KT_ASSERT(t, objs[i], "%s", gc_alloc_error());
	}
	read_memstats(&b);
	const struct memstats *ms[2] = {&a, &b};
	for (int k = 0; k < 2; k++) {
		const struct memstats *m = ms[k];
		KT_EXPECT(t, m->heap_inuse >= m->heap_alloc, "HeapInuse %lu < HeapAlloc %lu", m->heap_inuse,
			  m->heap_alloc);
		KT_EXPECT_EQ(t, m->mallocs - m->frees, m->heap_objects);
		KT_EXPECT_EQ(t, m->heap_sys, m->heap_idle + m->heap_inuse);
		KT_EXPECT(t, m->heap_released <= m->heap_idle, "HeapReleased %lu > HeapIdle %lu", m->heap_released,
			  m->heap_idle);
		KT_EXPECT_EQ(t, m->sys, m->heap_sys + m->stack_sys + m->mspan_sys + m->mcache_sys + m->buck_hash_sys +
						m->gc_sys + m->other_sys);
		u64 by_size = 0;
		for (int c = 1; c < MEMSTATS_NCLASSES; c++)
			by_size += m->by_size[c].mallocs;
		KT_EXPECT(t, by_size <= m->mallocs, "BySize mallocs %lu > Mallocs %lu", by_size, m->mallocs);
	}
	KT_EXPECT(t, b.total_alloc >= a.total_alloc + 400 * sizeof(struct node) + 100 * (100 << 10),
		  "TotalAlloc grew by %lu", b.total_alloc - a.total_alloc);
	KT_EXPECT(t, b.mallocs >= a.mallocs + 500, "Mallocs grew by %lu", b.mallocs - a.mallocs);
	u64 cls = size_to_class(sizeof(struct node));
	KT_EXPECT(t, b.by_size[cls].mallocs >= a.by_size[cls].mallocs + 400, "BySize[%lu] grew by %lu", cls,
		  b.by_size[cls].mallocs - a.by_size[cls].mallocs);
	for (int i = 0; i < 500; i++)
		heap_test_free(objs[i]);
	heap_test_collect();
	struct memstats *c = &a;	// reuse: after the collection
	read_memstats(c);
	KT_EXPECT(t, c->frees >= b.frees + 500, "Frees grew by %lu", c->frees - b.frees);
	KT_EXPECT(t, c->total_alloc >= b.total_alloc, "TotalAlloc went down");
	KT_EXPECT(t, c->heap_alloc < b.heap_alloc, "HeapAlloc did not drop: %lu -> %lu", b.heap_alloc, c->heap_alloc);
	if (!t->quiet)
		memstats_print(c);
}

KTEST_NOGC(heap, metadata_never_on_the_heap)
{
	void *p = gc_alloc(&node_type), *q = gc_alloc_noscan(1 << 20);
	KT_ASSERT(t, p && q, "%s", gc_alloc_error());
	struct mspan *s = span_of((u64)p), *l = span_of((u64)q);
	KT_EXPECT(t, !in_heap(s) && !in_heap(l), "span structs %p %p in the heap", s, l);
	KT_EXPECT(t, !in_heap(s->allocbits) && !in_heap(s->markbits) && !in_heap(s->heapbits) &&
			     !in_heap(l->allocbits),
		  "bitmaps in the heap");
	for (unsigned c = 0; c < ncpus_online; c++)
		KT_EXPECT(t, !in_heap(mcache_of(c)), "cpu %u's mcache in the heap", c);
	KT_EXPECT(t, !in_heap(heap.arenas[((u64)p - PLAT_HEAP_BASE) >> ARENA_SHIFT]), "arena table in the heap");
	heap_test_free(p);
	heap_test_free(q);
	heap_test_collect();
}

KTEST_NOGC(heap, scavenger_returns_frames)
{
	void *big = gc_alloc_noscan(8 << 20);
	KT_ASSERT(t, big, "%s", gc_alloc_error());
	heap_test_free(big);
	heap_test_collect();
	struct frame_stats f0, f1;
	frame_stats(&f0);
	u64 rel0 = heap.pages_released;
	u64 got = mheap_scavenge(4 << 20);
	frame_stats(&f1);
	KT_EXPECT(t, got >= 4 << 20, "scavenged %lu bytes of 4 MiB asked", got);
	KT_EXPECT_EQ(t, (heap.pages_released - rel0) << HEAP_PAGE_SHIFT, got);
	KT_EXPECT_EQ(t, (f0.by_tag[FT_HEAP] - f1.by_tag[FT_HEAP]) * PAGE_SIZE, got);
	void *again = gc_alloc_noscan(8 << 20);	// re-backed on demand, zeroed
	KT_ASSERT(t, again, "%s", gc_alloc_error());
	KT_EXPECT(t, all_zero(again, 8 << 20), "re-backed memory not zeroed");
	heap_test_free(again);
	heap_test_collect();
	check_heap(t);
}

KTEST_NOGC(heap, test_free_twice_panics)
{
	void *p = gc_alloc_noscan(64);
	KT_ASSERT(t, p, "%s", gc_alloc_error());
	heap_test_free(p);
	if (KT_PANIC_TRY(t)) {
		heap_test_free(p);
		kt_panic_disarm(t);
		KT_ASSERT(t, false, "dropping an object twice did not panic");
	}
	KT_EXPECT(t, strstr(t->panic_msg, "dropped twice"), "panic: %s", t->panic_msg);
	heap_test_collect();
}
