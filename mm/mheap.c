// The page heap (Go's mheap): runs of 8 KiB heap pages for spans, carved
// from the reserved heap range and backed with memory only while in use.
// See mm/malloc.c for the overview.
//
// Free runs are spans in state FREE on heap.free[n] (n < 128 pages) or
// heap.free_large. Allocation takes the first run from the smallest
// non-empty list that fits (found from a bitmap of non-empty lists), else the
// best fit among the large runs, and splits it. Freeing merges with free
// neighbours, found through the span table, so free runs never touch.
// Every page points at its span in the table, free or in use; a split or
// a merge repoints only the smaller part's pages, so the cost of either
// is that of the span allocated or freed, not of the free run beside it.
// When nothing fits the range grows by at least 4 MiB of address space;
// memory comes later, page by page, when a span first uses a page
// (plat_heap_commit), and goes back to the frame allocator when the
// scavenger releases free pages (plat_heap_release): HeapReleased.
//
// Lock order: heap.lock, then the span/bits fixalloc locks, then the frame
// allocator's (through plat_meta_alloc and plat_heap_commit). mcentral
// locks are never held while calling in here.

#include "mm/fixalloc.h"
#include "mm/malloc_internal.h"

struct mheap heap;	// in .bss: 150 KiB of tables; the lock is set up by mheap_init

static struct fixalloc span_fixalloc;
// Bitmaps by size: buckets of 16, 32 and 64 B, then every multiple of
// 64 B up to 2 KiB. A span's block of bitmaps is a few hundred bytes
// (320 for a span of 16-byte objects) and the heap has one per 8 KiB
// page: power-of-two buckets wasted up to half of each block.
#define BITS_BUCKETS 34
#define BITS_MAX 2048u
static struct fixalloc bits_fixalloc[BITS_BUCKETS];

static u32 bits_bucket_size(int b) { return b < 3 ? 16u << b : (u32)(b - 1) * 64; }

static const char *const span_state_names[SPAN_NSTATES] = {"dead", "free", "in use", "busy"};

const char *span_state_name(enum span_state s)
{
	return (unsigned)s < SPAN_NSTATES ? span_state_names[s] : "?";
}

// ---- metadata

struct mspan *span_struct_alloc(void)
{
	return fixalloc_alloc(&span_fixalloc);
}

void span_struct_free(struct mspan *s)
{
	__atomic_store_n(&s->state, SPAN_DEAD, __ATOMIC_RELEASE);	// lookups read it unlocked
	fixalloc_free(&span_fixalloc, s);
}

static int bits_bucket(u32 words)
{
	u32 bytes = words * 8;
	if (bytes > BITS_MAX)
		return -1;
	return bytes <= 16 ? 0 : bytes <= 32 ? 1 : bytes <= 64 ? 2 : 2 + (int)((bytes - 1) / 64);
}

u64 *bits_alloc(u32 words)
{
	int b = bits_bucket(words);
	if (b < 0)
		panic("bits_alloc(%u words): more than %u bytes", words, BITS_MAX);
	return fixalloc_alloc(&bits_fixalloc[b]);
}

void bits_free(u64 *p, u32 words)
{
	if (p)
		fixalloc_free(&bits_fixalloc[bits_bucket(words)], p);
}

// A span's allocation and mark bits (bitwords words each) and its
// pointer bits (heapwords) are one block, in that order at first: one
// metadata allocation per span instead of four, so a refill that grows
// the class touches one free list and one lock. Sweep swaps allocbits and
// markbits, so the block starts at whichever of the two is lower.
static u32 span_heapwords(struct mspan *s, bool heapbits)
{
	return heapbits ? (u32)(s->npages * (HEAP_PAGE_SIZE / 64 / 8)) : 0;
}

// span_bits_words: the words of s's block of bitmaps.
static u32 span_bits_words(struct mspan *s, bool heapbits)
{
	return 2 * s->bitwords + span_heapwords(s, heapbits);
}

bool span_bits_alloc(struct mspan *s, bool heapbits)
{
	u32 n = s->bitwords, hw = span_heapwords(s, heapbits);
	u64 *b = bits_alloc(span_bits_words(s, heapbits));
	if (!b)
		return false;
	s->allocbits = b;
	s->markbits = b + n;
	s->heapbits = hw ? b + 2 * n : NULL;
	return true;
}

static u64 *span_bits_block(struct mspan *s)
{
	return MIN(s->allocbits, s->markbits);	// NULL if it has none
}

void mheap_meta_stats(u64 *mspan_inuse, u64 *mspan_sys, u64 *gc_sys)
{
	spin_lock(&heap.lock);
	u64 arenas = 0;
	for (u64 a = 0; a < NUM_ARENAS; a++)
		arenas += heap.arenas[a] != NULL;
	spin_unlock(&heap.lock);
	*mspan_inuse = span_fixalloc.inuse * span_fixalloc.size;
	*mspan_sys = span_fixalloc.sys;
	*gc_sys = arenas * sizeof(struct heap_arena);
	for (int b = 0; b < BITS_BUCKETS; b++)
		*gc_sys += bits_fixalloc[b].sys;
}

void mheap_init(void)
{
	spin_init(&heap.lock, "heap");
	fixalloc_init(&span_fixalloc, "mspan", sizeof(struct mspan), FT_META);
	for (int b = 0; b < BITS_BUCKETS; b++)
		fixalloc_init(&bits_fixalloc[b], "gc bits", bits_bucket_size(b), FT_META);
	_Static_assert(BITS_MAX == (BITS_BUCKETS - 1 - 1) * 64, "the last bucket holds BITS_MAX bytes");
	for (int i = 0; i < 128; i++)
		list_init(&heap.free[i]);
	list_init(&heap.free_large);
	list_init(&heap.inuse);
	heap.cursor = HEAP_FIRST;
	heap.limit = PLAT_HEAP_SIZE;
	heap.sweepgen = 2;
	heap.trigger = UINT64_MAX;
	heap.backed_limit = UINT64_MAX;
}

void heap_set_collector(const struct heap_collector *gc)
{
	heap.gc = gc;
}

// ---- the span table and the backed bits (heap lock)

static u64 page_index(u64 addr) { return (addr - PLAT_HEAP_BASE) >> HEAP_PAGE_SHIFT; }

// set_pages: n pages from page `first` on belong to s.
static void set_pages(u64 first, u64 n, struct mspan *s)
{
	for (u64 p = first; p < first + n; p++)
		// Release: a lockless span_of that sees the pointer sees the span.
		__atomic_store_n(&heap.arenas[p / ARENA_PAGES]->spans[p % ARENA_PAGES], s, __ATOMIC_RELEASE);
}

static void set_spans(struct mspan *s) { set_pages(page_index(s->base), s->npages, s); }

// Backed bits change under the heap lock; the scavenger reads those of
// its own busy span without it, so words are loaded and stored whole
// (atomically) around the other spans' bits sharing them.
static bool page_backed(u64 p)
{
	return __atomic_load_n(&heap.backed[p / ARENA_PAGES][(p % ARENA_PAGES) / 64], __ATOMIC_RELAXED) >> (p % 64) & 1;
}

static void set_backed(u64 p, bool on)
{
	u64 *w = &heap.backed[p / ARENA_PAGES][(p % ARENA_PAGES) / 64];
	__atomic_store_n(w, on ? *w | (1ull << (p % 64)) : *w & ~(1ull << (p % 64)), __ATOMIC_RELAXED);
}

// ---- free lists (heap lock)

static struct list *free_list(u64 npages)
{
	return npages < 128 ? &heap.free[npages] : &heap.free_large;
}

_Static_assert(ARENA_PAGES % 64 == 0, "a word of backed bits never straddles two arenas");

// first_page: the index in s of its first page that is backed by memory
// (backed) or not (!backed); s->npages: none. A word of bits at a time:
// a free run grown by the heap can be thousands of pages, looked at under
// the heap lock.
static u64 first_page(const struct mspan *s, bool backed)
{
	u64 first = page_index(s->base), end = first + s->npages;
	for (u64 p = first; p < end;) {
		u64 bit = p % 64, n = MIN(64 - bit, end - p);
		u64 mask = (n == 64 ? ~0ull : (1ull << n) - 1) << bit;
		u64 w = __atomic_load_n(&heap.backed[p / ARENA_PAGES][(p % ARENA_PAGES) / 64], __ATOMIC_RELAXED);
		if ((w = (backed ? w : ~w) & mask) != 0)
			return p - bit + (u64)__builtin_ctzll(w) - first;
		p += n;
	}
	return s->npages;
}

static bool any_backed(const struct mspan *s) { return first_page(s, true) < s->npages; }

// insert_free: s onto its free list. Each list keeps the spans with a
// backed page ahead of those with none (a listed span's backing never
// changes: commit and release work on spans taken off the lists), so
// allocation, which takes from the front, reuses backed memory before
// it faults in released pages, and the scavenger finds a backed span by
// looking at the first of each list. It used to walk every free span,
// page by page, under the heap lock: 40-80 us regions under TCG that
// stops of the world waited for.
static void insert_free_as(struct mspan *s, bool backed)
{
	__atomic_store_n(&s->state, SPAN_FREE, __ATOMIC_RELEASE);	// lookups read it unlocked
	if (s->npages < 128)
		heap.free_nonempty[s->npages / 64] |= 1ull << (s->npages % 64);
	if (backed)
		list_push_front(free_list(s->npages), &s->link);
	else
		list_push_back(free_list(s->npages), &s->link);
}

static void insert_free(struct mspan *s) { insert_free_as(s, any_backed(s)); }

// remove_free: s off its free list.
static void remove_free(struct mspan *s)
{
	list_remove(&s->link);
	if (s->npages < 128 && list_empty(&heap.free[s->npages]))
		heap.free_nonempty[s->npages / 64] &= ~(1ull << (s->npages % 64));
}

// join: the free spans a and b (on no list, b right after a) become one.
// The larger keeps its struct and only the smaller's pages are pointed at
// it, so a span freed next to a large free one costs its own pages (as
// union by size: a page changes hands O(log n) times, where relabelling
// the merged whole each time was quadratic in a sweep freeing neighbours
// one by one). Returns the joined span.
static struct mspan *join(struct mspan *a, struct mspan *b)
{
	struct mspan *keep = a->npages >= b->npages ? a : b, *gone = keep == a ? b : a;
	set_pages(page_index(gone->base), gone->npages, keep);
	keep->base = a->base;
	keep->npages = a->npages + b->npages;
	keep->needzero = a->needzero | b->needzero;
	span_struct_free(gone);
	return keep;
}

// merge_free: s (not on a list) joins its free neighbours and goes on its
// list. s itself may be freed: the result is the caller's no more.
static void merge_free(struct mspan *s)
{
	// Whether the joined span has a backed page, looking at a free
	// neighbour's bits (a released one may be large) only if s has none.
	bool backed = any_backed(s);
	if (s->base > HEAP_FIRST) {
		struct mspan *prev = span_of(s->base - 1);
		if (prev && prev->state == SPAN_FREE) {
			backed = backed || any_backed(prev);
			remove_free(prev);
			s = join(prev, s);
		}
	}
	u64 end = s->base + (s->npages << HEAP_PAGE_SHIFT);
	if (end < heap.cursor) {
		struct mspan *next = span_of(end);
		if (next && next->state == SPAN_FREE) {
			backed = backed || any_backed(next);
			remove_free(next);
			s = join(s, next);
		}
	}
	insert_free_as(s, backed);
}

// prev_nonempty: the longest run length below n (n <= 128) whose free
// list has a span; 0 if none.
static int prev_nonempty(int n)
{
	for (int k = (n - 1) / 64; n > 1 && k >= 0; k--) {
		u64 w = heap.free_nonempty[k];
		if (k == (n - 1) / 64)
			w &= (n - 1) % 64 == 63 ? ~0ull : (1ull << ((n - 1) % 64 + 1)) - 1;	// lists < n
		if (w)
			return k * 64 + 63 - __builtin_clzll(w);
	}
	return 0;
}

// find_free: the first span of the smallest non-empty list that fits
// (two words of free_nonempty: the 127 list heads were looked at one by
// one, a line each, whenever the small lists were empty, as they are
// after a sweep has merged the freed spans into large runs), else the
// best fit among the large runs.
static struct mspan *find_free(u64 npages)
{
	for (u64 k = npages / 64; npages < 128 && k < 2; k++) {
		u64 w = heap.free_nonempty[k] & (k == npages / 64 ? ~0ull << (npages % 64) : ~0ull);
		if (w) {
			u64 n = k * 64 + (u64)__builtin_ctzll(w);
			return list_entry(heap.free[n].next, struct mspan, link);
		}
	}
	struct mspan *best = NULL;
	list_for_each(e, &heap.free_large) {
		struct mspan *s = list_entry(e, struct mspan, link);
		if (s->npages >= npages &&
		    (!best || s->npages < best->npages || (s->npages == best->npages && s->base < best->base)))
			best = s;
	}
	return best;
}

// grow: extends the range by at least npages pages as one free span.
static bool grow(u64 npages, const char **why)
{
	u64 ask = ALIGN_UP(npages, (u64)HEAP_GROW_PAGES), bytes = ask << HEAP_PAGE_SHIFT;
	u64 used = heap.cursor - PLAT_HEAP_BASE;
	if (bytes > heap.limit || used > heap.limit - bytes) {
		*why = "heap address range exhausted (heap limit reached)";
		return false;
	}
	for (u64 a = page_index(heap.cursor) / ARENA_PAGES; a <= (page_index(heap.cursor + bytes) - 1) / ARENA_PAGES;
	     a++) {
		if (heap.arenas[a])
			continue;
		struct heap_arena *ar = plat_meta_alloc(3, FT_META);	// 32 KiB span table
		u64 *bk = ar ? bits_alloc(ARENA_PAGES / 64) : NULL;
		if (!bk) {
			if (ar)
				plat_meta_free(ar, 3);
			*why = "out of memory for heap metadata";
			return false;
		}
		_Static_assert(sizeof(struct heap_arena) == 8 * PAGE_SIZE, "arena table is an order-3 block");
		heap.backed[a] = bk;
		__atomic_store_n(&heap.arenas[a], ar, __ATOMIC_RELEASE);	// tables before the pointer
	}
	struct mspan *s = span_struct_alloc();
	if (!s) {
		*why = "out of memory for heap metadata";
		return false;
	}
	s->base = heap.cursor;
	s->npages = ask;
	s->needzero = false;	// never used: commit gives zeroed memory
	list_init(&s->link);
	list_init(&s->all_link);
	heap.cursor += bytes;
	// Atomic stores (under the lock): heap_backed_bytes reads without it.
	__atomic_store_n(&heap.pages_sys, heap.pages_sys + ask, __ATOMIC_RELAXED);
	heap.pages_free += ask;
	__atomic_store_n(&heap.pages_released, heap.pages_released + ask, __ATOMIC_RELAXED);
	set_spans(s);
	merge_free(s);
	return true;
}

// commit: backs every unbacked page of s. False (nothing new backed
// stays) when memory runs out.
static bool commit(struct mspan *s)
{
	u64 first = page_index(s->base), end = first + s->npages;
	for (u64 p = first; p < end;) {
		if (page_backed(p)) {
			p++;
			continue;
		}
		u64 q = p;
		while (q < end && !page_backed(q))
			q++;
		u64 va = PLAT_HEAP_BASE + (p << HEAP_PAGE_SHIFT);
		if (!plat_heap_commit(va, (q - p) << HEAP_PAGE_SHIFT))
			return false;	// earlier runs stay backed: they count as free backed pages
		for (u64 i = p; i < q; i++)
			set_backed(i, true);
		__atomic_store_n(&heap.pages_released, heap.pages_released - (q - p), __ATOMIC_RELAXED);
		p = q;
	}
	return true;
}

// split: cuts the free span s (on no list) after its first `head` pages
// into *lo and *hi, both free and on no list. The smaller part gets a new
// struct and only its pages are pointed at it: a span cut from a large
// free one costs its own pages, not the large one's. False (s unchanged)
// without metadata. Heap lock held.
static bool split(struct mspan *s, u64 head, struct mspan **lo, struct mspan **hi)
{
	struct mspan *t = span_struct_alloc();
	if (!t)
		return false;
	u64 tail = s->npages - head;
	t->needzero = s->needzero;
	list_init(&t->link);
	list_init(&t->all_link);
	// Before set_pages publishes t: lookups read the state unlocked.
	__atomic_store_n(&t->state, SPAN_FREE, __ATOMIC_RELAXED);
	if (head <= tail) {
		t->base = s->base;
		t->npages = head;
		s->base += head << HEAP_PAGE_SHIFT;
		s->npages = tail;
		*lo = t, *hi = s;
	} else {
		t->base = s->base + (head << HEAP_PAGE_SHIFT);
		t->npages = tail;
		s->npages = head;
		*lo = s, *hi = t;
	}
	set_spans(t);
	return true;
}

// take_locked: npages backed pages off the free lists (growing the range
// if none fit and may_grow), BUSY; NULL with *why set. With backed_only,
// only pages backed already (NULL if the run it would cut from starts
// with an unbacked one). Heap lock held.
static struct mspan *take_locked(u64 npages, bool may_grow, bool backed_only, const char **why)
{
	if (npages == 0 || npages > (PLAT_HEAP_SIZE >> HEAP_PAGE_SHIFT)) {
		*why = "allocation larger than the heap range";
		return NULL;
	}
	struct mspan *s = find_free(npages);
	if (!s && may_grow && grow(npages, why))
		s = find_free(npages);
	if (!s) {
		if (!may_grow)
			*why = "no free run that large";
		return NULL;
	}
	if (backed_only && first_page(s, false) < npages) {
		*why = "no backed free run that large";
		return NULL;
	}
	remove_free(s);
	if (s->npages > npages) {
		struct mspan *rest;
		if (!split(s, npages, &s, &rest)) {
			insert_free(s);
			*why = "out of memory for heap metadata";
			return NULL;
		}
		insert_free(rest);
	}
	if (!commit(s)) {
		merge_free(s);
		*why = "out of memory: no frames left to back heap pages";
		return NULL;
	}
	__atomic_store_n(&s->state, SPAN_BUSY, __ATOMIC_RELEASE);	// lookups read it unlocked
	return s;
}

// use_locked: the BUSY span s goes in use. Heap lock held.
static void use_locked(struct mspan *s)
{
	if (s->state != SPAN_BUSY)
		panic("mheap_use: span %p at %#lx (%lu pages) is %s, not busy", s, s->base, s->npages,
		      span_state_name((enum span_state)s->state));
	s->published = false;	// the caller sets the class fields up, then publishes
	s->largetype = s->objtype = NULL;
	s->allocbits = s->markbits = s->freedbits = s->heapbits = s->checkbits = NULL;
	s->blackfrom = 0;
	s->alloccache = 0;	// in no cache (span_nalloc)
	__atomic_store_n(&s->state, SPAN_INUSE, __ATOMIC_RELEASE);	// lookups read it unlocked
	heap.pages_free -= s->npages;
	heap.pages_inuse += s->npages;
	list_push_back(&heap.inuse, &s->all_link);
}

struct mspan *mheap_take(u64 npages, const char **why)
{
	spin_lock(&heap.lock);
	struct mspan *s = take_locked(npages, true, false, why);
	spin_unlock(&heap.lock);
	return s;
}

void mheap_use(struct mspan *s)
{
	spin_lock(&heap.lock);
	use_locked(s);
	spin_unlock(&heap.lock);
}

// mheap_alloc_n: take and use under one hold of the lock (every span a
// class grows comes this way). Each of the n spans is taken on its own,
// so the batch fills the smallest free runs first, as single spans would
// (cutting it from one contiguous run passed over the backed holes the
// sweep leaves, backed fresh pages, and left the holes to the scavenger:
// page faults and TLB shootdowns on every cycle of a small heap). Only
// the first may grow the range: the rest come from free runs or not at
// all.
u64 mheap_alloc_n(u64 npages, u64 n, struct mspan **out, const char **why)
{
	spin_lock(&heap.lock);
	u64 got = 0;
	for (; got < n; got++) {
		// Spans after the first only if backed already: the caller
		// (a refill) has preemption disabled, and backing a page (a
		// zeroed frame and a mapping per 4 KiB) is time a stop of the
		// world waits out; eight spans backed at once held stops for
		// ~100 us under TCG (stwtrace).
		struct mspan *s = take_locked(npages, got == 0, got > 0, why);
		if (!s)
			break;
		use_locked(s);
		out[got] = s;
	}
	spin_unlock(&heap.lock);
	return got;
}

void mheap_free(struct mspan *s)
{
	u64 *bits = span_bits_block(s);
	__atomic_store_n(&s->published, false, __ATOMIC_RELAXED);
	__atomic_store_n(&s->allocbits, NULL, __ATOMIC_RELAXED);	// lookups racing this see NULL or old bits
	bits_free(bits, span_bits_words(s, s->heapbits != NULL));
	bits_free(s->checkbits, s->bitwords);
	bits_free(s->freedbits, s->bitwords);
	s->allocbits = s->markbits = s->freedbits = s->heapbits = s->checkbits = NULL;
	spin_lock(&heap.lock);
	if (s->state != SPAN_INUSE)
		panic("mheap_free: span %p at %#lx (%lu pages) is %s, not in use", s, s->base, s->npages,
		      span_state_name((enum span_state)s->state));
	list_remove(&s->all_link);
	heap.pages_inuse -= s->npages;
	heap.pages_free += s->npages;
	s->needzero = true;
	merge_free(s);
	spin_unlock(&heap.lock);
}

// ---- scavenging

static u64 backed_pages(struct mspan *s)
{
	u64 n = 0, first = page_index(s->base);
	for (u64 p = first; p < first + s->npages; p++)
		n += page_backed(p);
	return n;
}

// take_backed_free: at most max_pages pages of a free span, from its
// first backed page, taken off the free lists (BUSY, so nobody merges
// with them); the rest of the span stays free and allocatable while they
// are released. When the whole span was taken, allocation meanwhile found
// nothing free and grew the heap instead. NULL if no free page is backed.
// Heap lock held.
static struct mspan *take_backed_free(u64 max_pages)
{
	// The lists from the large runs down, the empty ones passed over by
	// free_nonempty (looking at each of 128 heads made the scavenger's
	// locked region one that stops of the world waited out under TCG).
	for (int n = 128; n >= 1; n = prev_nonempty(n)) {
		struct list *l = free_list(n);
		if (!list_empty(l)) {
			struct mspan *s = list_entry(l->next, struct mspan, link);
			u64 skip = first_page(s, true);
			if (skip == s->npages)
				continue;	// (nor are those after it: insert_free)
			remove_free(s);
			struct mspan *lo, *hi;	// (no metadata for a split: take it whole)
			if (skip && split(s, skip, &lo, &hi)) {
				insert_free(lo);
				s = hi;
			}
			if (s->npages > max_pages && split(s, max_pages, &lo, &hi)) {
				insert_free(hi);
				s = lo;
			}
			__atomic_store_n(&s->state, SPAN_BUSY, __ATOMIC_RELEASE);
			return s;
		}
	}
	return NULL;
}

u64 mheap_scavenge(u64 bytes)
{
	u64 done = 0;
	while (done < bytes) {
		spin_lock(&heap.lock);
		struct mspan *s = take_backed_free(MAX((bytes - done) >> HEAP_PAGE_SHIFT, 1ul));
		spin_unlock(&heap.lock);
		if (!s)
			break;
		// The span is ours (BUSY): release its memory without the lock,
		// since unmapping waits for other CPUs' TLB flushes.
		u64 first = page_index(s->base), end = first + s->npages, released = 0;
		for (u64 p = first; p < end;) {
			if (!page_backed(p)) {
				p++;
				continue;
			}
			u64 q = p;
			while (q < end && page_backed(q))
				q++;
			plat_heap_release(PLAT_HEAP_BASE + (p << HEAP_PAGE_SHIFT), (q - p) << HEAP_PAGE_SHIFT);
			released += q - p;
			p = q;
		}
		spin_lock(&heap.lock);
		for (u64 p = first; p < end; p++)
			set_backed(p, false);
		__atomic_store_n(&heap.pages_released, heap.pages_released + released, __ATOMIC_RELAXED);
		s->needzero = false;	// every page is unbacked: commit zeroes
		merge_free(s);
		spin_unlock(&heap.lock);
		done += released << HEAP_PAGE_SHIFT;
	}
	return done;
}

u64 mheap_backed_free_pages(void)
{
	spin_lock(&heap.lock);
	u64 n = heap.pages_free - heap.pages_released;
	spin_unlock(&heap.lock);
	return n;
}

u64 heap_backed_bytes(void)
{
	// Without the heap lock: callers use it to decide whether to
	// scavenge, and mheap_scavenge does the real work under the lock.
	return (__atomic_load_n(&heap.pages_sys, __ATOMIC_RELAXED) -
		__atomic_load_n(&heap.pages_released, __ATOMIC_RELAXED))
	       << HEAP_PAGE_SHIFT;
}

void heap_set_limit(u64 bytes)
{
	spin_lock(&heap.lock);
	heap.limit = bytes ? ALIGN_UP(bytes, (u64)HEAP_GROW_PAGES << HEAP_PAGE_SHIFT) : PLAT_HEAP_SIZE;
	spin_unlock(&heap.lock);
}

// ---- invariants

static bool fail(char *why, size_t size, const char *fmt, ...) __printf(3, 4);
static bool fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(why, size, fmt, ap);
	va_end(ap);
	return false;
}

// heap_check: every page of the grown range belongs to exactly one span
// that the table points to, in-use spans are on the in-use list, free
// spans on the right free list and never next to another free span, and
// the page counts add up.
bool heap_check(char *why, size_t size)
{
	spin_lock(&heap.lock);
	bool ok = true;
	u64 inuse = 0, freep = 0, released = 0;
	struct mspan *prev = NULL;
	for (u64 a = HEAP_FIRST; ok && a < heap.cursor;) {
		struct mspan *s = span_of(a);
		if (!s || s->base != a || s->npages == 0) {
			ok = fail(why, size, "page %#lx: span %p does not start here", a, s);
			break;
		}
		for (u64 p = page_index(a); ok && p < page_index(a) + s->npages; p++)
			if (heap.arenas[p / ARENA_PAGES]->spans[p % ARENA_PAGES] != s)
				ok = fail(why, size, "span %#lx+%lu pages: page %lu points elsewhere", a, s->npages, p);
		if (s->state == SPAN_INUSE) {
			inuse += s->npages;
			if (backed_pages(s) != s->npages)
				ok = fail(why, size, "in-use span %#lx has unbacked pages", a);
		} else if (s->state == SPAN_FREE) {
			freep += s->npages;
			released += s->npages - backed_pages(s);
			if (prev && prev->state == SPAN_FREE)
				ok = fail(why, size, "free spans %#lx and %#lx touch", prev->base, a);
			bool listed = false;
			list_for_each(e, free_list(s->npages))
				listed |= e == &s->link;
			if (!listed)
				ok = fail(why, size, "free span %#lx (%lu pages) not on its list", a, s->npages);
		} else if (s->state == SPAN_BUSY) {
			// Taken off the free lists by a thread working on them
			// without the lock (the scavenger releasing them, a large
			// allocation zeroing them); still counted free.
			freep += s->npages;
			released += s->npages - backed_pages(s);
		} else {
			ok = fail(why, size, "span %#lx is %s inside the heap range", a,
				  span_state_name((enum span_state)s->state));
		}
		prev = s;
		a += s->npages << HEAP_PAGE_SHIFT;
	}
	for (int n = 1; ok && n < 128; n++)
		if (!(heap.free_nonempty[n / 64] >> (n % 64) & 1) != list_empty(&heap.free[n]))
			ok = fail(why, size, "free list %d is %sempty, its bit says otherwise", n,
				  list_empty(&heap.free[n]) ? "" : "not ");
	for (int n = 1; ok && n <= 128; n++) {	// insert_free's order: spans with a backed page first
		struct list *l = free_list(n);
		const struct mspan *unbacked = NULL;
		list_for_each(e, l) {
			const struct mspan *s = list_entry(e, struct mspan, link);
			if (!any_backed(s))
				unbacked = unbacked ? unbacked : s;
			else if (unbacked)
				ok = fail(why, size, "free list %d: span %#lx has backed pages, after %#lx with none", n,
					  s->base, unbacked->base);
		}
	}
	if (ok && (inuse != heap.pages_inuse || freep != heap.pages_free || released != heap.pages_released ||
		   inuse + freep != heap.pages_sys))
		ok = fail(why, size, "page counts: in use %lu (heap says %lu), free %lu (%lu), released %lu (%lu), "
				     "sys %lu", inuse, heap.pages_inuse, freep, heap.pages_free, released,
			  heap.pages_released, heap.pages_sys);
	spin_unlock(&heap.lock);
	return ok;
}
