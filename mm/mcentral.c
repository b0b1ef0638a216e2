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

void span_refill_cache(struct mspan *s, u32 from)
{
	// Inverted: a 1 bit is a free object. Bits past nelems read as free
	// too; the allocation paths check the index against nelems.
	s->alloccache = ~s->allocbits[from / 64];
}

static void cache_from_freeindex(struct mspan *s)
{
	span_refill_cache(s, s->freeindex & ~63u);
	u32 shift = s->freeindex % 64;
	s->alloccache = shift ? s->alloccache >> shift : s->alloccache;
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
	s->bitwords = (s->nelems + 63) / 64;
	s->allocbits = bits_alloc(s->bitwords);
	s->markbits = bits_alloc(s->bitwords);
	s->freedbits = bits_alloc(s->bitwords);
	if (!spanclass_noscan(sc) && s->elemsize <= HEAP_BITS_MAX_SIZE)
		s->heapbits = bits_alloc((u32)(s->npages * (HEAP_PAGE_SIZE / 64 / 8)));
	return s->allocbits && s->markbits && s->freedbits && (spanclass_noscan(sc) || s->elemsize > HEAP_BITS_MAX_SIZE || s->heapbits);
}

static struct mspan *grow(struct mcentral *c, const char **why)
{
	unsigned cls = spanclass_size(c->spanclass);
	struct mspan *s = mheap_alloc(class_to_npages[cls], why);
	if (!s)
		return NULL;
	if (!init_small(s, c->spanclass)) {
		mheap_free(s);	// frees whichever bitmaps it got
		*why = "out of memory for span bitmaps";
		return NULL;
	}
	return s;
}

struct mspan *mcentral_cache_span(struct mcentral *c, const char **why)
{
	spin_lock(&c->lock);
	struct mspan *s = NULL;
	if (!list_empty(partial_swept(c))) {
		s = list_entry(partial_swept(c)->next, struct mspan, link);
		list_remove(&s->link);
	}
	if (s)
		s->incache = true;
	spin_unlock(&c->lock);
	if (!s) {
		s = grow(c, why);	// without the class lock: the page heap has its own
		if (!s)
			return NULL;
		spin_lock(&c->lock);
		c->nspans++;
		s->incache = true;
		spin_unlock(&c->lock);
	}
	cache_from_freeindex(s);
	return s;
}

void mcentral_uncache_span(struct mcentral *c, struct mspan *s)
{
	spin_lock(&c->lock);
	s->incache = false;
	list_push_back(s->alloccount < s->nelems ? partial_swept(c) : full_swept(c), &s->link);
	spin_unlock(&c->lock);
}

static u32 popcount_bits(const u64 *w, u32 nbits)
{
	u32 n = 0;
	for (u32 i = 0; i < nbits / 64; i++)
		for (u64 x = w[i]; x; x &= x - 1)
			n++;
	if (nbits % 64)
		for (u64 x = w[nbits / 64] & ((1ull << (nbits % 64)) - 1); x; x &= x - 1)
			n++;
	return n;
}

void span_sweep(struct mspan *s)
{
	unsigned cls = spanclass_size(s->spanclass);
	if (cls == 0) {		// a large object: marked or freed
		bool live = s->markbits[0] & 1;
		s->markbits[0] = 0;
		s->sweepgen = heap.sweepgen;
		if (!live) {
			spin_lock(&heap.lock);
			heap.large_frees++;
			heap.large_bytes_freed += s->elemsize;
			spin_unlock(&heap.lock);
			mheap_free(s);
		}
		return;
	}
	struct mcentral *c = &heap.central[s->spanclass];
	u32 live = popcount_bits(s->markbits, s->nelems);
	u32 freed = s->alloccount - live;
	// The marks become the allocation bits; the old allocation bits,
	// cleared, are the next cycle's marks.
	u64 *old = s->allocbits;
	s->allocbits = s->markbits;
	s->markbits = old;
	memset(s->markbits, 0, s->bitwords * 8);
	memset(s->freedbits, 0, s->bitwords * 8);
	s->freeindex = 0;
	s->alloccount = live;
	s->sweepgen = heap.sweepgen;
	if (freed)
		s->needzero = true;
	spin_lock(&c->lock);
	list_remove(&s->link);
	if (live == 0)
		c->nspans--;
	else
		list_push_back(live < s->nelems ? partial_swept(c) : full_swept(c), &s->link);
	spin_unlock(&c->lock);
	spin_lock(&heap.lock);
	heap.small_frees[cls] += freed;
	spin_unlock(&heap.lock);
	if (live == 0)
		mheap_free(s);
}
