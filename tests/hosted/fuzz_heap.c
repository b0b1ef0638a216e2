// libFuzzer target for the heap: the input's bytes are a program of heap
// operations (allocations of every kind and size, CPU switches, test-only
// frees and collections, scavenging, limits, lookups, MemStats) run on one
// thread over 4 CPU slots. After every step the heap's invariants hold
// (heap_check) and a shadow of the live objects agrees with the heap: new
// objects are zeroed and overlap no live one, live objects keep the bytes
// stamped into them, lookups find exactly the live objects, and MemStats
// count them. Each input ends by freeing and collecting everything, after
// which no span may be left in use. A failed check aborts (a crash for
// libFuzzer); `make fuzz` runs it, `make test` runs it briefly.

#include <stdio.h>
#include <stdlib.h>

#include "mm/malloc_internal.h"
#include "tests/hosted/hosted.h"

#define NCPUS 4
#define MAX_LIVE 512
#define MAX_LIVE_BYTES (4ul << 20)
#define MAX_OBJECT (MAX_SMALL_SIZE + 1 + 0x3fff * 8)	// pick_size's largest

struct ptr8 {
	void *p;
};
GC_TYPE(ptr8_type, struct ptr8, p);
struct node {
	u64 key;
	struct node *left, *right;
	u64 pad;
};
GC_TYPE(node_type, struct node, left, right);
struct cross {			// node's size, other pointers: shares its spans
	void *a;
	u64 b, c;
	void *d;
};
GC_TYPE(cross_type, struct cross, a, d);
struct plain {
	u64 a, b, c;
};
GC_TYPE_NOPTRS(plain_type, struct plain);
struct wide {			// 600 B: pointer bits in the span, many words
	u64 w[70];
	void *a, *b, *c;
	u64 z[2];
};
GC_TYPE(wide_type, struct wide, a, b, c);
struct blob {			// 808 B: over 512, so a type header
	u64 words[100];
	void *p;
};
GC_TYPE(blob_type, struct blob, p);
static const struct gc_type *const types[] = {&ptr8_type, &node_type, &cross_type, &plain_type, &wide_type,
					       &blob_type};

struct obj {
	u8 *p;
	u64 size;		// bytes asked for (at least 1 is stamped)
	u64 key;		// its slot's base as gc_object_base says (tiny: the block)
	u8 stamp;
	bool freed;		// heap_test_free'd, reclaimed at the next collection
	const struct gc_type *type;	// NULL: noscan; gc_type_scan_all: untyped
	u64 count;		// elements of type
};

static struct {
	struct obj live[MAX_LIVE];
	int n;
	u64 bytes;
	bool limited;		// a heap or frame limit is set: failures are allowed
	u8 next_stamp;
	u32 check_cursor;	// rotating full-content checks
	u64 step;
} sh;

// ---- input

struct input {
	const u8 *d;
	size_t n, i;
};

static u64 take(struct input *in, int bytes)
{
	u64 v = 0;
	for (int b = 0; b < bytes; b++)
		v = v << 8 | (in->i < in->n ? in->d[in->i++] : 0);
	return v;
}

// ---- checks

#define CHECK(cond, ...)                                                                     \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "fuzz_heap: step %lu: ", sh.step);                   \
			fprintf(stderr, __VA_ARGS__);                                        \
			fprintf(stderr, "\n");                                               \
			abort();                                                             \
		}                                                                            \
	} while (0)

// Object contents: byte i of an object with stamp s is (s + 7i) | 1 (never
// 0, so a zeroed object stands out; position-dependent, so a shifted copy
// does too). pattern[] holds (7j) | 1, and since 7 * 183 = 1 (mod 256) the
// object's bytes are pattern[183s .. 183s + size): one memcmp checks them.
static u8 pattern[MAX_OBJECT + 256];
static const u8 zeroes[64 << 10];

static const u8 *stamp_of(const struct obj *o)
{
	return pattern + (u8)(o->stamp * 183);
}

static bool all_zero(const u8 *p, u64 n)
{
	for (u64 i = 0; i < n; i += sizeof(zeroes))
		if (memcmp(p + i, zeroes, MIN(n - i, sizeof(zeroes))))
			return false;
	return true;
}

static void check_contents(const struct obj *o, bool full)
{
	u64 n = o->size;
	const u8 *want = stamp_of(o);
	if (!full) {		// the first and last bytes
		CHECK(o->p[0] == want[0] && o->p[n - 1] == want[n - 1], "object %p (%lu B) lost its stamp",
		      (void *)o->p, n);
		return;
	}
	if (memcmp(o->p, want, n) == 0)
		return;
	for (u64 i = 0; i < n; i++)
		CHECK(o->p[i] == want[i], "object %p (%lu B) byte %lu is %#x, stamped %#x", (void *)o->p, n, i,
		      o->p[i], want[i]);
}

static bool key_live(u64 key)
{
	for (int i = 0; i < sh.n; i++)
		if (sh.live[i].key == key)
			return true;
	return false;
}

static int by_key(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;
	return x < y ? -1 : x > y;
}

static u64 live_slots(void)
{
	static u64 keys[MAX_LIVE];
	for (int i = 0; i < sh.n; i++)
		keys[i] = sh.live[i].key;
	qsort(keys, (size_t)sh.n, sizeof(keys[0]), by_key);
	u64 n = 0;
	for (int i = 0; i < sh.n; i++)
		n += i == 0 || keys[i] != keys[i - 1];
	return n;
}

static void check_memstats(void)
{
	static struct memstats m;
	read_memstats(&m);
	CHECK(m.heap_objects == m.mallocs - m.frees, "HeapObjects %lu != Mallocs %lu - Frees %lu", m.heap_objects,
	      m.mallocs, m.frees);
	// Only this program allocates: every slot it holds is one heap object.
	CHECK(m.heap_objects == live_slots(), "HeapObjects %lu, but %lu slots are live", m.heap_objects,
	      live_slots());
	CHECK(m.heap_sys == m.heap_idle + m.heap_inuse, "HeapSys %lu != HeapIdle %lu + HeapInuse %lu", m.heap_sys,
	      m.heap_idle, m.heap_inuse);
	CHECK(m.heap_released <= m.heap_idle, "HeapReleased %lu > HeapIdle %lu", m.heap_released, m.heap_idle);
	CHECK(m.heap_inuse >= m.heap_alloc, "HeapInuse %lu < HeapAlloc %lu", m.heap_inuse, m.heap_alloc);
	CHECK(m.total_alloc >= m.heap_alloc, "TotalAlloc %lu < HeapAlloc %lu", m.total_alloc, m.heap_alloc);
}

// check_ptr_bits: in a span of scan objects up to HEAP_BITS_MAX_SIZE, the
// marker reads o's pointer words as its type's (span_ptr_word: the span's
// one type, or bits per object since the span's types mixed).
static void check_ptr_bits(const struct obj *o)
{
	const struct gc_type *t = o->type;
	struct mspan *s = span_of(o->key);
	if (!t || spanclass_noscan(s->spanclass) || spanclass_size(s->spanclass) == 0 ||
	    s->elemsize > HEAP_BITS_MAX_SIZE)
		return;
	for (u64 w = 0; w < s->elemsize / 8; w++) {
		bool want = t->nptrs == GC_SCAN_ALL;
		if (!want && w * 8 < t->size * o->count)
			for (u32 i = 0; i < t->nptrs; i++)
				want |= t->ptr_words[i] == w * 8 % t->size / 8;
		CHECK(span_ptr_word(s, o->key, w) == want, "object %p (%lu x %s) word %lu: pointer bit %d (span type %p)",
		      (void *)o->p, o->count, t->name, w, !want, (const void *)s->objtype);
	}
}

static void check_step(void)
{
	char why[200];
	CHECK(heap_check(why, sizeof(why)), "heap_check: %s", why);
	CHECK(preempt_count() == 0, "preemption count %d between operations", preempt_count());
	for (int i = 0; i < sh.n; i++)
		check_contents(&sh.live[i], false);
	for (int k = 0; k < 4 && sh.n; k++) {
		const struct obj *o = &sh.live[sh.check_cursor++ % (u32)sh.n];
		check_contents(o, true);
		check_ptr_bits(o);
	}
}

// ---- operations

static void remember(u8 *p, u64 size, bool tiny_ok)
{
	CHECK(sh.n < MAX_LIVE && size <= MAX_OBJECT, "shadow full or object too big (%lu B)", size);
	if (size == 0)
		size = 1;	// a minimal object: one byte is ours
	u64 key = (u64)gc_object_base(p);
	CHECK(key, "new object %p (%lu B) not found by gc_object_base", (void *)p, size);
	CHECK(key == (u64)p || (tiny_ok && key == ((u64)p & ~15ul)), "gc_object_base(%p) = %#lx", (void *)p, key);
	CHECK((u64)gc_object_base(p + size - 1) == key, "gc_object_base(end of %p, %lu B) = %p", (void *)p, size,
	      gc_object_base(p + size - 1));
	if (key == (u64)p)
		CHECK(gc_object_size(p) >= size, "gc_object_size(%p) = %zu < %lu", (void *)p, gc_object_size(p), size);
	CHECK((u64)p - PLAT_HEAP_BASE < PLAT_HEAP_SIZE, "object %p outside the heap range", (void *)p);
	if (size >= 8 && !tiny_ok)
		CHECK((u64)p % 8 == 0, "object %p (%lu B) not 8-byte aligned", (void *)p, size);
	if (!all_zero(p, size))
		for (u64 i = 0; i < size; i++)
			CHECK(p[i] == 0, "new object %p (%lu B) byte %lu is %#x, not zero", (void *)p, size, i, p[i]);
	for (int i = 0; i < sh.n; i++) {
		const struct obj *o = &sh.live[i];
		CHECK((u64)p + size <= (u64)o->p || (u64)o->p + o->size <= (u64)p,
		      "new object %p (%lu B) overlaps live %p (%lu B)", (void *)p, size, (void *)o->p, o->size);
	}
	struct obj *o = &sh.live[sh.n++];
	*o = (struct obj){.p = p, .size = size, .key = key, .stamp = sh.next_stamp++};
	memcpy(p, stamp_of(o), size);
	sh.bytes += size;
}

static u64 pick_size(struct input *in)
{
	u64 v = take(in, 2);
	switch (v >> 14) {
	case 0:
		return v % 16;		// tiny (noscan) or the smallest classes
	case 1:
		return v % 1024;
	case 2:
		return v % MAX_SMALL_SIZE + 1;
	default:
		return MAX_SMALL_SIZE + 1 + (v & 0x3fff) * 8;	// large, up to 160 KiB
	}
}

static void allocated(u8 *p, u64 size, bool tiny_ok, const struct gc_type *t, u64 n)
{
	if (p) {
		remember(p, size, tiny_ok);
		sh.live[sh.n - 1].type = t && t->nptrs ? t : NULL;
		sh.live[sh.n - 1].count = n;
		check_ptr_bits(&sh.live[sh.n - 1]);
		return;
	}
	CHECK(sh.limited, "allocation of %lu B failed with no limit set: %s", size, gc_alloc_error());
	const char *e = gc_alloc_error();
	CHECK(strstr(e, "limit") || strstr(e, "out of memory"), "allocation failed for an odd reason: %s", e);
}

static bool room(u64 size)
{
	return sh.n < MAX_LIVE && sh.bytes + size <= MAX_LIVE_BYTES;
}

static void op_alloc(struct input *in, int kind)
{
	if (kind == 2) {	// typed: one or an array
		const struct gc_type *t = types[take(in, 1) % ARRAY_SIZE(types)];
		u64 n = take(in, 1);
		n = n < 192 ? 1 : n - 190;	// mostly single objects; arrays up to 65
		if (!room(t->size * n))
			return;
		allocated(n == 1 ? gc_alloc(t) : gc_alloc_array(t, n), t->size * n, false, t, n);
		return;
	}
	u64 size = pick_size(in);
	if (!room(size))
		return;
	if (kind == 0)
		allocated(gc_alloc_noscan(size), size, size < 16, NULL, 0);
	else
		allocated(gc_alloc_scan(size), size, false, &gc_type_scan_all, 1);
}

static void op_free(struct input *in)
{
	if (!sh.n)
		return;
	struct obj *o = &sh.live[take(in, 2) % (u32)sh.n];
	if (o->freed)
		return;
	// Any pointer into the object names it; tiny objects drop their block.
	heap_test_free(o->p + take(in, 2) % o->size);
	for (int i = 0; i < sh.n; i++)
		if (sh.live[i].key == o->key)
			sh.live[i].freed = true;
}

static bool key_freed(u64 key)
{
	for (int i = 0; i < sh.n; i++)
		if (sh.live[i].key == key && sh.live[i].freed)
			return true;
	return false;
}

static void op_collect(void)
{
	heap_test_collect();
	// A freed slot goes with everything in it: a tiny block takes the
	// objects put into it after the free, too.
	static struct obj gone[MAX_LIVE];
	static bool dead[MAX_LIVE];
	int kept = 0, ngone = 0;
	for (int i = 0; i < sh.n; i++)
		dead[i] = key_freed(sh.live[i].key);
	for (int i = 0; i < sh.n; i++) {
		if (dead[i]) {
			gone[ngone++] = sh.live[i];
			continue;
		}
		check_contents(&sh.live[i], true);
		sh.live[kept++] = sh.live[i];
	}
	sh.n = kept;
	for (int i = 0; i < ngone; i++) {
		sh.bytes -= gone[i].size;
		CHECK(gc_object_base(gone[i].p) == NULL, "reclaimed object %p (%lu B) still found at %p",
		      (void *)gone[i].p, gone[i].size, gc_object_base(gone[i].p));
	}
}

static void op_lookup(struct input *in)
{
	u64 off = take(in, 4);
	if (sh.n && off % 2) {
		const struct obj *o = &sh.live[off / 2 % (u32)sh.n];
		u64 at = (off >> 8) % o->size;
		CHECK((u64)gc_object_base(o->p + at) == o->key, "gc_object_base(%p + %lu) = %p, want %#lx",
		      (void *)o->p, at, gc_object_base(o->p + at), o->key);
		return;
	}
	// Any address in the grown range: an object's base only if one is live.
	u64 a = PLAT_HEAP_BASE + ((off << 3) % (heap.cursor - PLAT_HEAP_BASE + 1));
	void *b = gc_object_base((void *)a);
	CHECK(!b || key_live((u64)b), "gc_object_base(%#lx) = %p, which is no live object", a, b);
}

static void op_scavenge(struct input *in)
{
	u64 ask = take(in, 1) << 16, rel0 = heap.pages_released;
	u64 got = mheap_scavenge(ask ? ask : ~0ull);
	CHECK((heap.pages_released - rel0) << HEAP_PAGE_SHIFT == got, "scavenged %lu B, released pages say %lu",
	      got, (heap.pages_released - rel0) << HEAP_PAGE_SHIFT);
	for (int i = 0; i < sh.n; i++)	// an in-use page released would fault here
		check_contents(&sh.live[i], true);
}

static void op_limit(struct input *in)
{
	u64 v = take(in, 1);
	if (v < 64) {		// lift both
		heap_set_limit(0);
		hosted_set_frame_limit(0);
		sh.limited = false;
	} else if (v < 160) {	// the range may grow by 0..3 growth units
		heap_set_limit(heap.cursor - PLAT_HEAP_BASE + (v % 4) * (HEAP_GROW_PAGES << HEAP_PAGE_SHIFT));
		sh.limited = true;
	} else {		// frames for 0..95 more heap pages
		u64 by_tag[FT_NTAGS];
		hosted_page_stats(by_tag);
		hosted_set_frame_limit(by_tag[FT_HEAP] * PAGE_SIZE + (v - 160) * HEAP_PAGE_SIZE + 1);
		sh.limited = true;
	}
}

static void op_cpu(struct input *in)
{
	hosted_cpu_exit();
	hosted_cpu_enter((unsigned)(take(in, 1) % NCPUS));
}

// ---- libFuzzer entry points

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (u64 j = 0; j < sizeof(pattern); j++)
		pattern[j] = (u8)(j * 7) | 1;
	hosted_init(NCPUS);
	heap_init();
	hosted_cpu_enter(0);
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct input in = {data, size, 0};
	while (in.i < in.n) {
		sh.step++;
		u64 op = take(&in, 1);
		switch (op % 16) {
		case 0: case 1: case 2: case 3:
			op_alloc(&in, 0);	// noscan, tiny included
			break;
		case 4: case 5:
			op_alloc(&in, 1);	// untyped scan
			break;
		case 6: case 7:
			op_alloc(&in, 2);	// typed
			break;
		case 8: case 9:
			op_free(&in);
			break;
		case 10:
			op_collect();
			break;
		case 11:
			op_cpu(&in);
			break;
		case 12:
			op_lookup(&in);
			break;
		case 13:
			op_scavenge(&in);
			break;
		case 14:
			op_limit(&in);
			break;
		case 15:
			check_memstats();
			break;
		}
		check_step();
	}
	// Everything goes: afterwards no span may be in use.
	for (int i = 0; i < sh.n; i++)
		check_contents(&sh.live[i], true);
	check_memstats();
	for (int i = 0; i < sh.n; i++)
		if (!sh.live[i].freed)
			heap_test_free(sh.live[i].p);
	heap_set_limit(0);
	hosted_set_frame_limit(0);
	heap_test_collect();
	// The collection gave the spans it found empty back to the CPUs
	// that took them (mcache_return); the drain frees them.
	preempt_disable();
	mcache_drain_returned(~0ull);
	preempt_enable();
	sh.n = 0;
	sh.bytes = 0;
	sh.limited = false;
	check_step();
	CHECK(heap.pages_inuse == 0, "%lu heap pages still in use with no object live", heap.pages_inuse);
	check_memstats();
	hosted_cpu_exit();
	hosted_cpu_enter(0);
	return 0;
}
