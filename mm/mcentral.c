// Central span lists (Go's mcentral), one per span class: spans with free
// objects and full ones, handed to and taken back from the per-CPU caches
// under the class's lock, which the allocation fast path never takes.
// Also span setup for small objects and the sweep of one span. See
// mm/malloc.c for the overview.

#include "mm/malloc_internal.h"

void mcentral_init(struct mcentral *c, u8 spanclass)
{
	spin_init(&c->lock, "mcentral");
	c->spanclass = spanclass;
	for (int i = 0; i < 2; i++) {
		list_init(&c->partial[i]);
		list_init(&c->full[i]);
	}
}

// The swept sets are indexed by sweepgen/2 % 2: adding 2 to the heap's
// sweepgen turns every swept span into an unswept one at no cost.
static struct list *partial_swept(struct mcentral *c) { return &c->partial[heap.sweepgen / 2 % 2]; }
static struct list *full_swept(struct mcentral *c) { return &c->full[heap.sweepgen / 2 % 2]; }
static struct list *partial_unswept(struct mcentral *c) { return &c->partial[heap.sweepgen / 2 % 2 ^ 1]; }
static struct list *full_unswept(struct mcentral *c) { return &c->full[heap.sweepgen / 2 % 2 ^ 1]; }

// take_unswept: a span of c that needs sweeping, now the caller's; NULL if
// none. c's lock held. The unswept sets are only ever taken from under the
// lock, so each span is swept once per cycle.
static struct mspan *take_unswept(struct mcentral *c)
{
	struct list *l = !list_empty(partial_unswept(c)) ? partial_unswept(c) : full_unswept(c);
	if (list_empty(l))
		return NULL;
	struct mspan *s = list_entry(l->next, struct mspan, link);
	list_remove(&s->link);
	__atomic_store_n(&c->unswept, c->unswept - 1, __ATOMIC_RELAXED);
	// "Being swept" (sweepgen - 1) before span_sweep touches a bitmap:
	// lookups wait (mm/malloc.c find_object). The fence orders this store
	// before the sweep's writes.
	__atomic_store_n(&s->sweepgen, heap.sweepgen - 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return s;
}

void span_refill_cache(struct mspan *s, u32 from)
{
	// Inverted: a 1 bit is a free object; none past nelems, nor below
	// freeindex (allocated).
	u64 free = ~s->allocbits[from / 64];
	if (s->nelems - from < 64)
		free &= (1ull << (s->nelems - from)) - 1;
	if (s->freeindex > from)
		free &= ~0ull << (s->freeindex - from);
	// Counted as allocated now (span_nalloc); atomic for its readers.
	__atomic_store_n(&s->alloccount, s->alloccount + popcount64(free), __ATOMIC_RELAXED);
	__atomic_store_n(&s->alloccache, free, __ATOMIC_RELAXED);
	s->cachebase = from;
}

static void cache_from_freeindex(struct mspan *s)
{
	u32 word = s->freeindex & ~63u;
	if (s->freeindex >= s->nelems) {	// full: no word to load
		__atomic_store_n(&s->alloccache, 0, __ATOMIC_RELAXED);
		s->cachebase = word;
		return;
	}
	span_refill_cache(s, word);
}

// init_small: class fields and bitmaps of a fresh span of class sc.
static bool init_small(struct mspan *s, u8 sc)
{
	unsigned cls = spanclass_size(sc);
	s->spanclass = sc;
	s->elemsize = class_to_size[cls];
	s->nelems = class_to_nobjs[cls];
	s->divmagic = class_to_divmagic[cls];
	s->freeindex = 0;
	s->alloccount = 0;
	s->sweepgen = heap.sweepgen;
	s->cachedgen = heap.sweepgen - 1;	// not taken by a cache yet: never matches (mcache_return)
	s->bitwords = (s->nelems + 63) / 64;
	return span_bits_alloc(s, !spanclass_noscan(sc) && s->elemsize <= HEAP_BITS_MAX_SIZE);
}

// A class grows by up to GROW_BATCH_BYTES of spans at once, under one
// hold of the heap lock (mheap_alloc_n): the refill that grows keeps
// one, the rest are its CPU's spares for the next refills of the class,
// which then take neither the page heap's lock nor the class's, and find
// the span and its bitmaps in their own cache. Spans of 64 KiB or more
// come one at a time. The spares go onto the class's swept set when the cache is
// flushed (every mark termination); those a refill has not taken by the
// next sweep have nothing live and go back to the page heap.
#define GROW_BATCH_BYTES (64ul << 10)
#define GROW_BATCH_MAX (GROW_BATCH_BYTES >> HEAP_PAGE_SHIFT)

// zero_span: a dirty span with nothing allocated is zeroed whole: one
// memset of at most 80 KiB beats a short store loop per object, and the
// objects are handed out from it next, in order, while its lines are
// still in the cache.
static void zero_span(struct mspan *s)
{
	if (s->needzero && s->alloccount == 0) {
		memset((void *)s->base, 0, s->npages << HEAP_PAGE_SHIFT);
		s->needzero = false;
	}
}

// grow: a new span for c's caller, and the batch's extras chained on
// *spare (counted in nspans; the caller counted the one it gets). While
// the class still has spans to sweep (the refill gave up sweeping them
// after SWEEP_ON_DEMAND_MAX), it grows by one: spares would be taken
// before those spans are swept, and the heap would grow ahead of what
// the sweep is about to free.
static struct mspan *grow(struct mcentral *c, struct mspan **spare, const char **why)
{
	u64 npages = class_to_npages[spanclass_size(c->spanclass)];
	u64 batch = __atomic_load_n(&c->unswept, __ATOMIC_RELAXED) ? 1 : MAX(GROW_BATCH_BYTES / (npages << HEAP_PAGE_SHIFT), 1);
	struct mspan *got[GROW_BATCH_MAX];
	// Spans the sweep gave back to CPUs (mcache_return) are memory the
	// heap has backed: when the page heap has too few backed free pages
	// for this batch, as many as it lacks go back to it first, so that
	// keeping them never makes the heap back more.
	if (mcache_returned_any()) {
		u64 have = mheap_backed_free_pages();
		if (have < npages * batch)
			mcache_drain_returned(npages * batch - have);
	}
	u64 n = mheap_alloc_n(npages, batch, got, why);
	u64 ready = 0;
	for (u64 i = 0; i < n; i++) {
		if (!init_small(got[i], c->spanclass)) {
			mheap_free(got[i]);	// (it has no bitmaps)
			continue;
		}
		span_publish(got[i]);
		got[ready++] = got[i];
	}
	if (ready == 0) {
		if (n)
			*why = "out of memory for span bitmaps";
		return NULL;
	}
	if (ready > 1) {
		spin_lock(&c->lock);
		c->nspans += ready - 1;
		spin_unlock(&c->lock);
		for (u64 i = ready - 1; i >= 1; i--) {
			got[i]->cache_next = *spare;
			*spare = got[i];
		}
	}
	zero_span(got[0]);
	return got[0];
}

// Sweep on demand runs with preemption disabled (the caller holds its
// CPU's cache), so a stop of the world waits for it: it sweeps at most
// this many spans, and stops early when a stop or the scheduler wants the
// CPU. The background sweeper does the rest; the refill grows the heap
// by one span instead (Go's cacheSpan has a budget of 100 spans). Under
// TCG a run of full spans swept in one refill held stops for 1-2 ms.
#define SWEEP_ON_DEMAND_MAX 16

static bool sweep(struct mspan *s, bool keep);

// put_cached: s, given back by a cache, onto c's swept sets, or its
// unswept ones if stale. c's lock held.
static void put_cached(struct mcentral *c, struct mspan *s, bool stale)
{
	span_unreturn(s);
	bool partial = s->alloccount < s->nelems;
	if (stale)
		list_push_back(partial ? partial_unswept(c) : full_unswept(c), &s->link);
	else
		list_push_back(partial ? partial_swept(c) : full_swept(c), &s->link);
}

// prefetch_spares: next, the spare the refill after this one takes, and
// the one after it. Spares were swept since this CPU last used them,
// mostly by another CPU (the sweeper, an allocating thread sweeping on
// demand): their structs and bitmaps are in that CPU's cache. Taken cold,
// the loads of cache_next and of the alloc-bit word cost two transfers a
// refill: 16.7 ns an object of two threads' 1024 B allocation against
// 2.7 with one (perf). So each refill prefetches the bit word of the
// next spare, whose struct the previous refill prefetched, and the
// struct of the one after. Both belong to this CPU's cache: no race.
static void prefetch_spares(struct mspan *next)
{
	if (!next)
		return;
	if (next->allocbits)
		__builtin_prefetch(&next->allocbits[next->freeindex / 64]);
	struct mspan *after = next->cache_next;
	for (u64 line = 0; after && line < sizeof(*after); line += 64)	// its 3 lines
		__builtin_prefetch((char *)after + line);
}

// mcentral_cache_span: a swept span with free objects; failing that, the
// class's unswept spans are swept one by one until one has some, which
// it keeps (Go's sweep on demand, bounded as above); failing that, a new
// one, grown with a batch of others (grow).
struct mspan *mcentral_cache_span(struct mcentral *c, struct mspan **spare, const char **why)
{
	struct mspan *s = *spare;
	if (s) {
		*spare = s->cache_next;
		prefetch_spares(*spare);
		zero_span(s);
		cache_from_freeindex(s);
		return s;
	}
	for (int swept = 0;; swept++) {
		spin_lock(&c->lock);
		if (!list_empty(partial_swept(c))) {
			s = list_entry(partial_swept(c)->next, struct mspan, link);
			list_remove(&s->link);
			spin_unlock(&c->lock);
			zero_span(s);	// a flushed spare
			break;
		}
		struct mspan *u = swept < SWEEP_ON_DEMAND_MAX && (swept == 0 || !plat_preempt_requested())
					  ? take_unswept(c)
					  : NULL;
		if (!u)
			c->nspans++;	// the span grow makes next, counted now we hold the lock
		spin_unlock(&c->lock);
		if (!u) {
			s = grow(c, spare, why);	// without the class lock: the page heap has its own
			if (!s) {
				spin_lock(&c->lock);
				c->nspans--;
				spin_unlock(&c->lock);
				return NULL;
			}
			break;
		}
		if (sweep(u, true)) {	// (else onto the full set)
			s = u;
			break;
		}
	}
	cache_from_freeindex(s);
	return s;
}

struct mspan *mcentral_uncache_chain(struct mcentral *c, struct mspan *s, bool stale)
{
	spin_lock(&c->lock);
	for (; s && s->spanclass == c->spanclass; s = s->cache_next)
		put_cached(c, s, stale);	// (on s->link: the chain stays intact)
	spin_unlock(&c->lock);
	return s;
}

static u32 popcount_bits(const u64 *w, u32 nbits)
{
	u32 n = 0;
	for (u32 i = 0; i < nbits / 64; i++)
		n += popcount64(w[i]);
	if (nbits % 64)
		n += popcount64(w[nbits / 64] & ((1ull << (nbits % 64)) - 1));
	return n;
}

void mcentral_add_large(struct mspan *s)
{
	struct mcentral *c = &heap.central[s->spanclass];
	spin_lock(&c->lock);
	c->nspans++;
	list_push_back(full_swept(c), &s->link);
	spin_unlock(&c->lock);
}

void heap_sweep_begin(void)
{
	u64 n = 0;
	for (unsigned sc = 0; sc < NUM_SPAN_CLASSES; sc++) {
		struct mcentral *c = &heap.central[sc];
		__atomic_store_n(&c->unswept, c->nspans, __ATOMIC_RELAXED);
		n += c->nspans;
	}
	heap.sweepgen += 2;
	__atomic_store_n(&heap.unswept, n, __ATOMIC_RELAXED);
}

bool heap_sweep_one(void)
{
	static unsigned cursor;	// where the last search ended (a hint, racy)
	if (__atomic_load_n(&heap.unswept, __ATOMIC_RELAXED) == 0)
		return false;
	unsigned start = __atomic_load_n(&cursor, __ATOMIC_RELAXED);
	// A stop-the-world never finds a span half swept (or taken and not
	// yet swept): the world's stopped code counts on every span being on
	// a list or in a cache.
	preempt_disable();
	for (unsigned i = 0; i < NUM_SPAN_CLASSES; i++) {
		unsigned sc = (start + i) % NUM_SPAN_CLASSES;
		struct mcentral *c = &heap.central[sc];
		if (!__atomic_load_n(&c->unswept, __ATOMIC_RELAXED))
			continue;	// exact once zero: nothing is added until the next cycle
		spin_lock(&c->lock);
		struct mspan *s = take_unswept(c);
		spin_unlock(&c->lock);
		if (s) {
			__atomic_store_n(&cursor, sc, __ATOMIC_RELAXED);
			span_sweep(s);
			preempt_enable();
			return true;
		}
	}
	preempt_enable();
	return false;
}

// put_swept: s, just swept, goes onto its class's swept set, or, when
// nothing in it lives, back to the CPU whose cache last took it
// (mcache_return) or to the page heap. With keep (sweep on demand)
// a span with a free object goes to the caller's cache instead, even
// one with nothing live (Go's preserve): giving it back and taking
// another from the page heap at once cost the page heap's lock, a merge,
// a split and fresh span metadata per refill. True if the caller has it.
static bool put_swept(struct mcentral *c, struct mspan *s, u32 live, bool keep)
{
	bool take = keep && live < s->nelems;
	if (!take && live == 0) {
		if (!mcache_return(s))
			mcentral_free(c, s);
	} else if (!take) {	// (a kept span is on no list: the class lock is not needed)
		spin_lock(&c->lock);
		list_push_back(live < s->nelems ? partial_swept(c) : full_swept(c), &s->link);
		spin_unlock(&c->lock);
	}
	__atomic_fetch_sub(&heap.unswept, 1, __ATOMIC_RELAXED);
	return take;
}

void mcentral_free(struct mcentral *c, struct mspan *s)
{
	spin_lock(&c->lock);
	c->nspans--;
	spin_unlock(&c->lock);
	mheap_free(s);
}

static void clobber(u64 p, u64 bytes)
{
	for (u64 *w = (u64 *)p; w < (u64 *)(p + bytes); w++)
		*w = GC_CLOBBER_WORD;
}

// clobber_freed: fills the objects this sweep frees (allocated, not
// marked). Before the mark bits become the allocation bits.
static void clobber_freed(struct mspan *s)
{
	for (u32 i = 0; i < s->nelems; i++)
		if (span_allocated(s, i) && !(s->markbits[i / 64] >> (i % 64) & 1))
			clobber(s->base + (u64)i * s->elemsize, s->elemsize);
}

static bool sweep(struct mspan *s, bool keep)
{
	unsigned cls = spanclass_size(s->spanclass);
	struct mcentral *c = &heap.central[s->spanclass];
	s->blackfrom = 0;	// (its black objects' bits are marks by now)
	if (cls == 0) {		// a large object: marked or freed
		bool live = s->markbits[0] & 1;
		if (!live && __atomic_load_n(&heap.clobberfree, __ATOMIC_RELAXED))
			clobber(s->base, s->npages << HEAP_PAGE_SHIFT);
		s->markbits[0] = 0;
		__atomic_store_n(&s->sweepgen, heap.sweepgen, __ATOMIC_RELEASE);	// swept
		if (!live) {
			__atomic_fetch_add(&heap.large_frees, 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&heap.large_bytes_freed, s->elemsize, __ATOMIC_RELAXED);
		}
		return put_swept(c, s, live, false);
	}
	u32 live = popcount_bits(s->markbits, s->nelems);
	u32 freed = s->alloccount - live;
	if (freed && __atomic_load_n(&heap.clobberfree, __ATOMIC_RELAXED))
		clobber_freed(s);
	// The marks become the allocation bits; the old allocation bits,
	// cleared, are the next cycle's marks.
	// Atomic stores: lookups (find_object) read these racily and retry
	// when the sweepgen says a sweep overlapped them.
	u64 *old = s->allocbits;
	__atomic_store_n(&s->allocbits, s->markbits, __ATOMIC_RELAXED);
	s->markbits = old;
	for (u32 i = 0; i < s->bitwords; i++)
		__atomic_store_n(&old[i], 0, __ATOMIC_RELAXED);
	if (s->freedbits)
		memset(s->freedbits, 0, s->bitwords * 8);
	// freeindex starts past the leading run of survivors: below it no
	// lookup (mark_word, find_object) needs the allocation bits, one
	// cache miss fewer per pointer into a full span.
	u32 first = 0, i = 0;
	for (; i < s->bitwords && s->allocbits[i] == ~0ull; i++)
		first += 64;
	if (i < s->bitwords)
		first += (u32)__builtin_ctzll(~s->allocbits[i]);
	__atomic_store_n(&s->freeindex, MIN(first, s->nelems), __ATOMIC_RELAXED);
	s->alloccount = live;
	__atomic_store_n(&s->sweepgen, heap.sweepgen, __ATOMIC_RELEASE);	// swept: lookups may read again
	if (freed)
		s->needzero = true;
	__atomic_fetch_add(&heap.small_frees[cls], freed, __ATOMIC_RELAXED);
	// A kept span is zeroed object by object as it is handed out
	// (needzero), even an empty one: zeroing it whole here, as grow does,
	// made the refill a region long enough to add 20-50 us to the largest
	// stops of binary-trees (depth 18, 2 slots).
	return put_swept(c, s, live, keep);
}

void span_sweep(struct mspan *s)
{
	sweep(s, false);
}
