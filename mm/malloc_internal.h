// The heap's private structures, shared by mm/malloc.c (per-CPU caches and
// the allocation paths), mm/mheap.c (page heap), mm/mcentral.c (central
// lists), mm/mstats.c (statistics) and, later, gc/. See mm/malloc.c for
// the overview.
#pragma once

#include "kernel/list.h"
#include "mm/heap.h"
#include "mm/platform.h"
#include "mm/sizeclasses.h"

_Static_assert(MEMSTATS_NCLASSES == NUM_SIZE_CLASSES, "BySize has one entry per size class");

// Arenas: the heap range is cut into 32 MiB arenas; each has a table from
// its 4096 heap pages to their spans, made when the heap first grows into
// it, so a span lookup is two loads.
#define ARENA_SHIFT 25
#define ARENA_SIZE (1ul << ARENA_SHIFT)
#define ARENA_PAGES (ARENA_SIZE >> HEAP_PAGE_SHIFT)
#define NUM_ARENAS (PLAT_HEAP_SIZE >> ARENA_SHIFT)
#define HEAP_GROW_PAGES 512	// the heap grows its address range 4 MiB at a time
// The range's first page is never used: PLAT_HEAP_BASE is a constant the
// heap's own arithmetic leaves in registers and stack slots, and a stale
// copy of it would keep whatever object sat at that address alive
// forever (conservative stack scanning; seen from the boot stack). Objects
// start one page in, at an address no code computes.
#define HEAP_FIRST (PLAT_HEAP_BASE + HEAP_PAGE_SIZE)

// A span class is a size class and a noscan bit: class << 1 | noscan.
#define NUM_SPAN_CLASSES (NUM_SIZE_CLASSES * 2)
static inline u8 make_spanclass(unsigned sizeclass, bool noscan) { return (u8)(sizeclass << 1 | noscan); }
static inline unsigned spanclass_size(u8 sc) { return sc >> 1; }
static inline bool spanclass_noscan(u8 sc) { return sc & 1; }

// The type header of scan objects above HEAP_BITS_MAX_SIZE (mm/heap.h).
#define MALLOC_HEADER 8

enum span_state {
	SPAN_DEAD,	// a struct not describing memory (on the span fixalloc's free list)
	SPAN_FREE,	// free pages in the page heap
	SPAN_INUSE,	// objects: small (size class) or one large object
	SPAN_BUSY,	// free pages taken out of the page heap, to scavenge or to zero
	SPAN_NSTATES,
};
const char *span_state_name(enum span_state s);

// The fields a marker reads for every pointer it follows (state, class,
// base, sizes, mark and allocation bits) and those scan_object reads come
// first, in one cache line: marking chases pointers into random spans,
// and each struct is a miss. The struct is cache-line aligned (so is each
// fixalloc slot: 192 bytes from a page's start).
struct mspan {
	u64 base;		// first byte
	// A scan span of objects up to HEAP_BITS_MAX_SIZE: NULL until it hands
	// out its first object, then the type of which every object it has
	// handed out holds one element, or SPAN_MIXED once they differ (a
	// second type, an array, an untyped object): heapbits then hold each
	// object's pointer bits. Only the caching CPU changes it (release,
	// after the bits; markers load-acquire it). Unused in other spans.
	const struct gc_type *objtype;
	u8 state;		// enum span_state
	u8 spanclass;
	bool needzero;		// its memory may be dirty: zero what is handed out
	// Its class fields and bitmaps are set up (store-release by
	// span_publish; readers that may race allocation, like the collector's
	// mark, load-acquire it and skip unpublished spans: no object of them
	// has been handed out yet).
	bool published;
	u32 elemsize;		// object size (the whole span for a large object)
	u32 nelems;
	u32 divmagic;		// object index of offset o: (o * divmagic) >> 32
	// Allocation state, owned by the caching CPU while cached. Objects
	// below freeindex are all allocated; at and above it, allocbits says.
	u32 freeindex;
	// Black allocation, while the collector marks: 0 until the span is
	// first allocated from in this cycle, then 1 + its freeindex at that
	// moment (set by the caching CPU, or by the first stop for a span
	// cached then). The slots from there up to freeindex that the last
	// sweep left free are this cycle's new objects, black: markers treat
	// them as marked (span_old), and their mark bits are set a word at a
	// time when the span leaves its cache or at mark termination
	// (mcache_black_flush). 0 again at the sweep.
	u32 blackfrom;
	u64 *markbits;		// the collector's marks; become allocbits at sweep
	u64 *allocbits;		// one bit per object (1: allocated at the last sweep)
	u64 *heapbits;		// scan spans with elemsize <= 512: pointer bits per word (see objtype)
	// -- second cache line
	u64 npages;		// heap pages (HEAP_PAGE_SIZE)
	// alloccache: the free objects of the word of allocbits holding
	// freeindex, from freeindex on: bit i is object cachebase + i, set
	// when it is free (inverted allocbits, bits below freeindex and past
	// nelems clear). The next free object is a count-trailing-zeros, and
	// taking it clears the lowest set bit; neither needs freeindex, so
	// successive allocations do not wait on each other's stores of it.
	u64 alloccache;
	u32 cachebase;		// a multiple of 64
	u32 alloccount;		// allocated objects, and those of alloccache (span_nalloc)
	u32 bitwords;		// words in each of allocbits/markbits/freedbits
	u32 sweepgen;		// heap.sweepgen when last swept
	u64 *freedbits;		// test-only frees since the last test collection (NULL until heap_test_free)
	u64 *checkbits;		// gccheckmark's marks (bitwords words), made when first needed
	const struct gc_type *largetype;	// a large scan object's type
	struct list link;	// heap free list, mcentral set, or alone; by the owner's lock
	struct list all_link;	// heap.inuse: every in-use span (heap lock)
	struct mspan *cache_next;	// on a per-CPU chain (mcache spare/full/returned): the next
	// The CPU whose cache last took it as its current span, and
	// heap.sweepgen then (mcache_refill): a sweep that finds it empty
	// gives it back to that CPU if it was taken since the sweep before
	// (mcache_return).
	u32 cachedgen;
	u16 cachecpu;
	// Given back empty (mcache_return) and not used since: idle memory
	// in MemStats (span_unreturn clears it when that ends).
	bool returned;
} __attribute__((aligned(64)));
_Static_assert(__builtin_offsetof(struct mspan, heapbits) < 64 && __builtin_offsetof(struct mspan, objtype) < 64,
	       "the marker's fields share a cache line");

// SPAN_MIXED: the objtype of a span whose objects' types differ.
#define SPAN_MIXED ((const struct gc_type *)1)
_Static_assert(sizeof(struct mspan) % 64 == 0, "fixalloc slots stay cache-line aligned");

struct mcentral {
	struct spinlock lock;	// guards the lists, nspans and the lowering of unswept
	u8 spanclass;
	// Spans with free objects / without, split by sweep state as Go's
	// partial/full sets: index sweepgen/2 % 2 holds the swept ones.
	struct list partial[2], full[2];
	u64 nspans;
	// Spans still to sweep this cycle: set with the world stopped
	// (heap_sweep_begin), lowered under the lock. heap_sweep_one reads
	// it without the lock to pass over swept classes.
	u64 unswept;
} __attribute__((aligned(64)));	// a line or two of its own: other classes' refills do not move it

#define USED_WORDS ((NUM_SPAN_CLASSES + 63) / 64)	// a bit per span class

// One per CPU in use, and one spare per CPU (mcache_detach_all). Only its
// CPU touches the one in use, with preemption disabled; the spare, only
// the collector's thread or the stopped world.
struct mcache {
	struct mspan *alloc[NUM_SPAN_CLASSES];	// current span per class (never NULL)
	// Spans this CPU's refills grew beyond the one they needed (spare, per
	// class) and spans it gave back full (full, any class), chained by
	// cache_next: a refill takes a spare and leaves the full span without
	// the class lock. At mark termination the whole cache is swapped for
	// an empty spare (mcache_detach_all) and its spans go on their
	// classes' lists once the world runs, before the cycle ends; so every
	// span is on a list or in a cache, current or detached, and on a list
	// by the next sweep termination, as the sweep needs. The full chain
	// also goes when it reaches MCACHE_FULL_MAX.
	struct mspan *spare[NUM_SPAN_CLASSES];
	// Span classes refilled since the last flush or detach (a bit each):
	// the only ones with a current span, spares or counts, so those are
	// all a flush or a detach visits.
	u64 used[USED_WORDS];
	struct mspan *full;
	// Empty spans the sweep gave back to this CPU (mcache_return), per
	// class, chained by cache_next: their memory was this CPU's last,
	// so it is still in this CPU's caches, where another CPU's refill
	// would have to fetch every line from. Any sweeping CPU pushes one;
	// this CPU's refill takes a class's whole chain; a drain pops as
	// many as it frees. returned_classes: a bit per class with some.
	// The lock guards both; it is taken in preempt-disabled code only,
	// never with another lock held, and nothing is taken under it.
	// Readers may look at either without it for a hint (atomic).
	struct spinlock returned_lock;
	struct mspan *returned[NUM_SPAN_CLASSES];
	u64 returned_classes[USED_WORDS];
	u32 nfull;		// spans on full, at most MCACHE_FULL_MAX
	u64 tiny;		// current 16-byte tiny block, 0 if none
	u64 tinyoffset;
	u64 tiny_allocs;	// allocations served from tiny blocks
	u64 black_bytes;	// allocated while marking (counted when their bits are set); the collector resets it
	u64 assist_bytes;	// fast-path bytes not yet assisted for (mallocgc); reset likewise
	// Objects counted as allocated when a span is cached (all its free
	// objects); the unused ones are taken back when it is uncached.
	i64 small_alloc_count[NUM_SIZE_CLASSES];
	// live_pending: bytes this cache added to heap.live (negative: took
	// back) and has not applied yet. Applied LIVE_BATCH at a time, so
	// refills on different CPUs do not each move heap.live's line; the
	// owner writes it, heap_live reads it (atomic).
	i64 live_pending;
	bool trigger_due;	// an apply found heap.live at or past heap.trigger
};

// What the heap needs from its collector (gc/gc.c registers them with
// heap_set_collector; a build without a collector, like the hosted heap
// tests, has none). Each is called preemptible, with no heap lock held.
struct heap_collector {
	// assist: the calling thread allocated `bytes` while marking is on:
	// it does proportional mark work (Go's assists).
	void (*assist)(u64 bytes);
	// trigger: heap.live reached heap.trigger: start a cycle (may return
	// at once and let it run in the background).
	void (*trigger)(void);
	// collect: out of memory: run a full collection and sweep; false if
	// none could run (collector off or this thread cannot wait).
	bool (*collect)(void);
	// exclude: heap_test_collect sweeps by itself: no cycle may run
	// between exclude(true) and exclude(false).
	void (*exclude)(bool on);
	// stats: fills the collector's MemStats fields (NumGC, PauseNs, ...).
	void (*stats)(struct memstats *m);
};

struct mheap {
	struct spinlock lock;	// guards cursor through large_bytes_alloc, span states and the span table
	u64 cursor;		// end of the address range handed to arenas so far
	u64 limit;		// most bytes the range may grow to (tests shrink it)
	struct heap_arena *arenas[NUM_ARENAS];
	u64 *backed[NUM_ARENAS];	// per arena, 1 bit per page: memory behind it
	struct list free[128];	// free spans of n pages, n < 128
	u64 free_nonempty[2];	// bit n: free[n] has a span (find_free's search)
	struct list free_large;	// free spans of 128 pages or more
	struct list inuse;	// every in-use span
	// Byte counts (heap lock): in spans, free and backed, free and released.
	u64 pages_inuse, pages_free, pages_released, pages_sys;
	u64 large_allocs, large_bytes_alloc;
	// Counted by sweeps with atomic adds, read with the world stopped
	// (sweeps run preempt-disabled, so none is half done then).
	u64 large_frees, large_bytes_freed;
	u64 small_frees[NUM_SIZE_CLASSES];
	u64 tiny_allocs;	// flushed from the mcaches
	i64 small_alloc_count[NUM_SIZE_CLASSES];	// flushed from the mcaches
	// Span classes 0 and 1 (size class 0) hold the large object spans, on
	// their full lists, so they are swept through the same sets.
	struct mcentral central[NUM_SPAN_CLASSES];

	// From here to `live`: read by every allocation or refill, written
	// only with the world stopped or when a setting changes, so each CPU
	// keeps the line cached. The counters every refill or sweep writes
	// follow, a line each.
	u32 sweepgen __attribute__((aligned(64)));	// +2 per collection, world stopped
	// Collector state the allocation paths read (gc/ writes them).
	const struct heap_collector *gc;
	// marking: the collector is marking. Allocation then marks each new
	// object (allocate black) and calls gc->assist (mm/malloc.c).
	// Written with the world stopped; read inside preempt-disabled regions.
	int marking;
	// clobberfree: sweeping fills every freed object with GC_CLOBBER_WORD
	// (clobberfree=1; gc_init and gc_set_clobberfree set it), so a use
	// after free reads a pattern instead of plausible data. Atomic.
	bool clobberfree;
	u64 trigger;		// live at which gc->trigger is called (UINT64_MAX: never)
	// backed_limit: most bytes of the heap range to keep backed (the
	// collector's memory limit); past it, allocation returns idle pages
	// to the frame allocator at once (Go scavenges synchronously too).
	u64 backed_limit;
	// live: bytes of objects allocated, as Go's heapLive: the free slots
	// of spans in per-CPU caches count as allocated; reset to the marked
	// bytes when a collection ends. Atomic.
	u64 live __attribute__((aligned(64)));
	u64 unswept __attribute__((aligned(64)));	// spans still to sweep since sweepgen last moved (atomic)
};
extern struct mheap heap;

struct heap_arena {
	struct mspan *spans[ARENA_PAGES];	// the span of each page; NULL: never in a span
};

extern struct mspan emptyspan;	// mcache placeholder: no free object, ever

// ---- page heap (mm/mheap.c)
void mheap_init(void);
// mheap_alloc_n: up to n in-use spans of npages backed pages each into
// out[], each zeroed when its needzero comes back false; how many (at
// least one), or 0 with *why set when the range or memory runs out.
// Caller fills in the class fields. mheap_alloc_n(n = 1) is mheap_take, which
// leaves the span BUSY (off the free lists, on no list, skipped by every
// lookup and stop-the-world walk: the caller's alone, to zero without
// the lock or a region), then mheap_use, which puts it in use, under one
// hold of the heap lock.
u64 mheap_alloc_n(u64 npages, u64 n, struct mspan **out, const char **why);
// mheap_backed_free_pages: free pages of the page heap with memory behind
// them (takes the heap lock).
u64 mheap_backed_free_pages(void);
struct mspan *mheap_take(u64 npages, const char **why);
void mheap_use(struct mspan *s);
void mheap_free(struct mspan *s);
// Span lookup: the span containing p, or NULL (any state).
static inline struct mspan *span_of(u64 p)
{
	u64 off = p - PLAT_HEAP_BASE;
	if (off >= PLAT_HEAP_SIZE)
		return NULL;
	struct heap_arena *a = __atomic_load_n(&heap.arenas[off >> ARENA_SHIFT], __ATOMIC_ACQUIRE);
	if (!a)
		return NULL;
	return __atomic_load_n(&a->spans[(off >> HEAP_PAGE_SHIFT) & (ARENA_PAGES - 1)], __ATOMIC_ACQUIRE);
}
// mheap_scavenge: returns up to `bytes` of free backed pages' memory to
// the frame allocator; how many bytes it released. Interrupts on.
u64 mheap_scavenge(u64 bytes);
// heap_scavenge: mheap_scavenge, and when the free pages fall short, the
// empty spans given back to CPUs (mcache_return) go to the page heap and
// are released too: all idle memory. Preemptible.
u64 heap_scavenge(u64 bytes);
// heap_backed_bytes: bytes of the heap range backed by frames (in use or
// free and not yet released); a racy snapshot, no lock taken.
u64 heap_backed_bytes(void);
// mheap_meta_stats: span structs in use / taken, and collector metadata
// (bitmaps, arena tables) taken, in bytes.
void mheap_meta_stats(u64 *mspan_inuse, u64 *mspan_sys, u64 *gc_sys);
u64 *bits_alloc(u32 words);
void bits_free(u64 *p, u32 words);
// span_bits_alloc: s's allocbits, markbits and (if heapbits) pointer
// bits, all zero, as one block for s->bitwords; false if out of memory.
// mheap_free frees them (and the freed bits heap_test_free may add).
bool span_bits_alloc(struct mspan *s, bool heapbits);
struct mspan *span_struct_alloc(void);
void span_struct_free(struct mspan *s);

// span_publish: the span's class fields and bitmaps are complete (see
// mspan.published). span_usable: load-acquire of that.
static inline void span_publish(struct mspan *s) { __atomic_store_n(&s->published, true, __ATOMIC_RELEASE); }
static inline bool span_usable(const struct mspan *s) { return __atomic_load_n(&s->published, __ATOMIC_ACQUIRE); }

// popcount64: set bits of x (the kernel is built without the popcnt
// instruction): sums of bits in pairs, nibbles, bytes, then the bytes
// added up by one multiply. A loop per set bit cost up to 64 steps for
// each word of a fresh span's free objects (span_refill_cache).
static inline u32 popcount64(u64 x)
{
	x -= (x >> 1) & 0x5555555555555555ull;
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (u32)((x * 0x0101010101010101ull) >> 56);
}

// span_nalloc: objects s has handed out. While s is a CPU's current span
// its alloccount also holds the free objects of its alloccache word
// (counted when the word was loaded, so that taking one is no count);
// once it leaves the cache the word is empty (mcache_detach). Exact with
// the world stopped or for the owner; a snapshot otherwise.
static inline u32 span_nalloc(const struct mspan *s)
{
	return __atomic_load_n(&s->alloccount, __ATOMIC_RELAXED) - popcount64(__atomic_load_n(&s->alloccache, __ATOMIC_RELAXED));
}

// span_mark: sets the mark bit of object idx; true if it was not set.
// Atomic: CPUs mark objects of the same span at once.
static inline bool span_mark(struct mspan *s, u64 idx)
{
	u64 bit = 1ull << (idx % 64), *w = &s->markbits[idx / 64];
	if (__atomic_load_n(w, __ATOMIC_RELAXED) & bit)
		return false;
	return !(__atomic_fetch_or(w, bit, __ATOMIC_RELAXED) & bit);
}

// span_handed_out_below: object idx of s is below lim, or was allocated
// at the last sweep (its allocbits bit): the test span_allocated and
// span_old make, each with its own lim.
static inline bool span_handed_out_below(const struct mspan *s, u64 idx, u32 lim)
{
	return idx < lim || (__atomic_load_n(&s->allocbits[idx / 64], __ATOMIC_RELAXED) >> (idx % 64) & 1);
}

// span_allocated: object idx of s is handed out. Below freeindex every
// object is; at and above it, allocbits says. Against the owning CPU's
// allocations a snapshot: a stale freeindex only misses objects allocated
// since, which are black while the collector marks.
static inline bool span_allocated(const struct mspan *s, u64 idx)
{
	return span_handed_out_below(s, idx, __atomic_load_n(&s->freeindex, __ATOMIC_RELAXED));
}

// span_old: object idx of s was handed out before the collector began
// marking (or may have been): not one of this cycle's new objects, which
// are black (mspan.blackfrom). For markers: a stale blackfrom (0) or
// freeindex only counts new objects as old, which marks and scans them
// for nothing; the boundary itself never moves while the span is in use
// this cycle, and the last sweep's allocbits stay put until the next.
static inline bool span_old(const struct mspan *s, u64 idx)
{
	u32 lim = __atomic_load_n(&s->freeindex, __ATOMIC_RELAXED);
	u32 b = __atomic_load_n(&s->blackfrom, __ATOMIC_RELAXED);
	if (b && b - 1 < lim)
		lim = b - 1;
	return span_handed_out_below(s, idx, lim);
}

// span_heapbit: bit i of s's heapbits (word i of the span is a pointer,
// in a SPAN_MIXED span). Atomic: the owning CPU may be setting a
// neighbouring object's bits.
static inline bool span_heapbit(const struct mspan *s, u64 i)
{
	return __atomic_load_n(&s->heapbits[i / 64], __ATOMIC_RELAXED) >> (i % 64) & 1;
}

// span_ptr_word: word w of the object at obj (of a scan span of objects
// up to HEAP_BITS_MAX_SIZE) is a pointer, as the marker reads it.
static inline bool span_ptr_word(const struct mspan *s, u64 obj, u64 w)
{
	const struct gc_type *t = __atomic_load_n(&s->objtype, __ATOMIC_ACQUIRE);
	if (t != SPAN_MIXED)
		return t && (t->ptrmask >> w & 1);
	return span_heapbit(s, (obj - s->base) / 8 + w);
}

// span_elem_bytes: the bytes of one object of s (a large object: its
// whole span, which elemsize caps at 4 GiB).
static inline u64 span_elem_bytes(const struct mspan *s)
{
	return spanclass_size(s->spanclass) ? s->elemsize : s->npages << HEAP_PAGE_SHIFT;
}

// span_object_index: the index of the object holding address a of span s
// (a small-object span; large spans have one object, index 0).
static inline u64 span_object_index(const struct mspan *s, u64 a)
{
	return spanclass_size(s->spanclass) == 0 ? 0 : ((a - s->base) * s->divmagic) >> 32;
}

// heap_set_collector: registers the collector's hooks (gc_init).
void heap_set_collector(const struct heap_collector *gc);

// ---- central lists (mm/mcentral.c)
void mcentral_init(struct mcentral *c, u8 spanclass);
// mcentral_cache_span: a span of the class with a free object, owned by
// the calling CPU's cache from now on; NULL with *why when none can be had.
// The first of the chain *spare if there is one; spans grown with the one
// returned are chained there.
struct mspan *mcentral_cache_span(struct mcentral *c, struct mspan **spare, const char **why);
// mcentral_uncache_chain: s, given back by a cache, and the spans after
// it on its cache_next chain while they are of c's class, onto c's lists
// under one hold of the lock (a flush with the world stopped under TCG
// spent 30 us taking it once per span); the first span of the chain not
// put there, or NULL. Onto the swept sets, or with stale (cached before
// sweepgen last moved, so still to sweep) the unswept ones.
struct mspan *mcentral_uncache_chain(struct mcentral *c, struct mspan *s, bool stale);
// mcentral_free: s, of c's class and on none of its lists, leaves the
// class for the page heap.
void mcentral_free(struct mcentral *c, struct mspan *s);
void span_refill_cache(struct mspan *s, u32 from);
// mcentral_add_large: a new large object span joins its class's swept set.
void mcentral_add_large(struct mspan *s);
// heap_sweep_one: sweeps one span not yet swept since sweepgen last moved
// (taking it off its mcentral's unswept set); false when none is left.
// Preemptible or not; no heap lock held.
bool heap_sweep_one(void);
// heap_sweep_begin: sweepgen += 2, so every span needs sweeping. The world
// is stopped and the per-CPU caches are flushed.
void heap_sweep_begin(void);
// span_sweep: turns markbits into allocbits (objects not marked are
// freed), counts the frees, and puts the span on its class's swept set or
// back to the page heap. The caller took s off its unswept set.
void span_sweep(struct mspan *s);

// ---- per-CPU caches (mm/malloc.c)
struct mcache *mcache_of(unsigned cpu);
// heap_live: heap.live with what the per-CPU caches have not applied yet
// (exact with the world stopped; racy, within LIVE_BATCH per CPU, else).
u64 heap_live(void);
// mcache_flush: uncaches every span of this CPU's cache and moves its
// counters into the heap's. World stopped or preemption disabled.
void mcache_flush(struct mcache *c);
void mcache_flush_all(void);	// world stopped
// Mark termination's flush, in two steps (see mm/malloc.c):
// mcache_detach_all swaps every CPU's cache for its empty spare with the
// world stopped; mcache_release_detached, once the world runs and
// sweepgen has moved on, puts the old caches' spans on their classes'
// unswept sets and their counts into the heap's. The collector's
// thread, before its cycle ends.
void mcache_detach_all(void);
void mcache_release_detached(void);
// mcache_return: s, just swept and empty, onto the returned spans of the
// CPU that last took it, if that was since the previous sweep; false if
// not (the caller frees it). Preemption disabled.
bool mcache_return(struct mspan *s);
// mcache_returned_any: some CPU may hold returned spans.
// mcache_drain_returned: returned spans back to the page heap, the
// calling CPU's first, until at least `pages` pages went back or none
// are left (a refill about to back new pages); the pages freed.
// Preemption disabled.
bool mcache_returned_any(void);
u64 mcache_drain_returned(u64 pages);
// span_unreturn: s, if given back, is no longer idle (taken into use,
// onto a list, or freed). mcache_returned_pages: the pages of the spans
// given back and still idle (MemStats counts them in HeapIdle, as Go
// counts spans with no object).
void span_unreturn(struct mspan *s);
u64 mcache_returned_pages(void);
// Black allocation (struct mspan's blackfrom), world stopped:
// mcache_black_begin when marking starts, for every CPU's current spans;
// mcache_black_flush at mark termination sets the mark bits of what they
// allocated since (before the marked bytes are counted).
void mcache_black_begin(void);
void mcache_black_flush(void);
// mcache_unused: the free objects of class cls in the spans the caches
// hold or have detached, all counted as allocated (world stopped).
u64 mcache_unused(u8 cls);
// mcache_detached_of: cpu's detached cache (empty once released).
struct mcache *mcache_detached_of(unsigned cpu);

// heap_objects_in_spans (tests): in one stop of the world, m as
// read_memstats fills it (but for the collector's fields) and the objects
// the in-use spans hold: their allocation counts, one per large span.
// With the statistics right it is m->heap_objects.
u64 heap_objects_in_spans(struct memstats *m);

// ---- test-only reclamation (mm/heap_test.c), for allocator tests without the collector
// heap_test_free: marks the object at p to be reclaimed by the next
// heap_test_collect, which stops the world and sweeps every span with
// "marked" = allocated and not freed. A drop that races a collection
// lands in it or in the next one: callers drop, then collect.
void heap_test_free(void *p);
void heap_test_collect(void);
// heap_set_limit: caps the heap's address range (bytes, rounded up to the
// growth unit); 0 restores the default. Tests of exhaustion use it.
void heap_set_limit(u64 bytes);
bool heap_check(char *why, size_t size);
