// Marking: grey objects in per-CPU work buffers, scanning (precise for
// typed objects, word by word for untyped ones and roots), root jobs
// (globals, registered ranges, thread stacks). See gc/gc.c for the
// overview and the invariants.

#include "gc/gc_internal.h"

struct gcw gcws[MAX_CPUS];

// ---- work buffers: a global list of full ones and one of empty ones

static struct {
	struct spinlock lock;	// guards the lists and counts
	struct wbuf *full, *empty;
	u64 nfull;		// buffers on full (read racily as a hint)
	u64 pages;		// buffers ever made (for the out-of-memory report)
} work = {.lock = SPINLOCK_INIT("gc work")};

static struct wbuf *wbuf_get_empty(void)
{
	spin_lock(&work.lock);
	struct wbuf *b = work.empty;
	if (b)
		work.empty = b->next;
	spin_unlock(&work.lock);
	if (!b) {
		b = plat_meta_alloc(0, FT_META);
		if (!b)
			panic("gc: out of memory for a mark work buffer on cpu %u (%lu buffers so far)",
			      this_cpu_id(), work.pages);
		__atomic_fetch_add(&work.pages, 1, __ATOMIC_RELAXED);
	}
	b->n = 0;
	b->next = NULL;
	return b;
}

static void wbuf_put_full(struct wbuf *b)
{
	spin_lock(&work.lock);
	b->next = work.full;
	work.full = b;
	__atomic_store_n(&work.nfull, work.nfull + 1, __ATOMIC_RELAXED);
	spin_unlock(&work.lock);
}

// wbuf_swap: gives back an empty buffer and takes a full one (NULL: none;
// then b stays the caller's).
static struct wbuf *wbuf_swap(struct wbuf *b)
{
	if (!__atomic_load_n(&work.nfull, __ATOMIC_RELAXED))
		return NULL;
	spin_lock(&work.lock);
	struct wbuf *f = work.full;
	if (f) {
		work.full = f->next;
		__atomic_store_n(&work.nfull, work.nfull - 1, __ATOMIC_RELAXED);
		if (b) {
			b->next = work.empty;
			work.empty = b;
		}
	}
	spin_unlock(&work.lock);
	return f;
}

static void gcw_put(struct gcw *w, u64 obj)
{
	struct wbuf *b = w->cur;
	if (!b || b->n == WBUF_OBJS) {
		if (b) {
			wbuf_put_full(b);
			gc_work_available();
		}
		b = w->cur = wbuf_get_empty();
	}
	b->obj[b->n++] = obj;
}

static bool gcw_get(struct gcw *w, u64 *obj)
{
	struct wbuf *b = w->cur;
	if (!b || b->n == 0) {
		struct wbuf *f = wbuf_swap(b);
		if (!f)
			return false;
		b = w->cur = f;
	}
	*obj = b->obj[--b->n];
	return true;
}

// check_ring_empty: outside gcw_drain w's rings are empty (a pointer
// left there would never be marked, an object never scanned).
static void check_ring_empty(const struct gcw *w, const u64 *ring, u32 n, const char *what)
{
	for (u32 i = 0; i < n; i++)
		if (ring[i])
			panic("gcw_flush: gcw %ld's %s ring still holds %#lx (slot %u), cycle %u", w - gcws, what,
			      ring[i], i, gc_cycle);
}

void gcw_flush(struct gcw *w)
{
	check_ring_empty(w, w->ahead, MARK_AHEAD, "mark-ahead");
	check_ring_empty(w, w->scan_ring, SCAN_AHEAD, "scan-ahead");
	struct wbuf *b = w->cur;
	if (!b)
		return;
	w->cur = NULL;
	if (b->n) {
		wbuf_put_full(b);
		return;
	}
	spin_lock(&work.lock);
	b->next = work.empty;
	work.empty = b;
	spin_unlock(&work.lock);
}

bool gcw_holds_work(const struct gcw *w)
{
	return w->cur && w->cur->n;
}

bool work_empty(void)
{
	return __atomic_load_n(&work.nfull, __ATOMIC_RELAXED) == 0;
}

// ---- marking one object

static void __noreturn checkmark_missed(struct gcw *w, const struct mspan *s, u64 obj)
{
	const struct gc_origin *o = &w->origin;
	panic("gccheckmark: object %#lx (span %#lx, %s, elemsize %u) is reachable but concurrent mark "
	      "missed it: reached from %s, word at %#lx (object %#lx), cycle %u",
	      obj, s->base, spanclass_noscan(s->spanclass) ? "noscan" : "scan", s->elemsize, o->what, o->from,
	      o->obj, gc_cycle);
}

// add_scan_work: only w's CPU adds; assists read every CPU's sum.
static inline void add_scan_work(struct gcw *w, u64 n)
{
	__atomic_store_n(&w->scan_work, w->scan_work + n, __ATOMIC_RELAXED);
}

// mark_in_span: mark_word for a v whose span_of is s (not NULL).
static void mark_in_span(struct gcw *w, struct mspan *s, u64 v)
{
	if (__atomic_load_n(&s->state, __ATOMIC_RELAXED) != SPAN_INUSE || !span_usable(s))
		return;
	u64 idx = span_object_index(s, v);
	// Not an object of this cycle (black: nothing to mark or scan). A
	// checkmark pass, after mark termination set their bits, verifies
	// those too.
	if (idx >= s->nelems || !(w->check ? span_allocated(s, idx) : span_old(s, idx)))
		return;
	u64 obj = s->base + idx * s->elemsize;
	if (w->check) {
		u64 bit = 1ull << (idx % 64);
		if (s->checkbits[idx / 64] & bit)
			return;
		// A stack word may be a dead slot (padding, a stale spill) below
		// where the concurrent scan began, pointing at an object that was
		// garbage when mark began: conservative scanning cannot tell, so
		// unmarked objects seen only from stacks are neither failures
		// nor followed. Global roots, registered ranges and every edge
		// out of a marked object are verified.
		if (!(s->markbits[idx / 64] & bit)) {
			if (w->in_stack)
				return;
			checkmark_missed(w, s, obj);
		}
		s->checkbits[idx / 64] |= bit;
	} else {
		if (!span_mark(s, idx))
			return;
		w->bytes_marked += span_elem_bytes(s);
	}
	if (!spanclass_noscan(s->spanclass))
		gcw_put(w, obj);
}

void mark_word(struct gcw *w, u64 v)
{
	struct mspan *s = span_of(v);
	if (s)
		mark_in_span(w, s, v);
}

// ---- marking ahead
//
// Marking a pointer costs two cache misses in a row on a big heap: the
// span struct (to find the object's index and the bitmap), then the word
// of mark bits. A pointer found while scanning an object is therefore not
// marked at once: its span struct is prefetched and it joins a ring of
// MARK_AHEAD finds; half way round the ring, with the struct in the
// cache, its mark word is prefetched; when it leaves, it is marked. The
// misses of many pointers overlap instead of queueing one after another
// (Cher, Hosking and Vijaykumar's prefetch-on-grey, done at the pointer).
// Checkmark passes mark at once (they report each pointer's origin).

// prefetch_mark_word: the word of mark bits of v in s. Only a published
// span's fields are read (as in prefetch_heapbits), atomically since s may be
// changing state meanwhile: a prefetch of a stale word is harmless.
static inline void prefetch_mark_word(const struct mspan *s, u64 v)
{
	if (!span_usable(s))
		return;
	u8 sc = __atomic_load_n(&s->spanclass, __ATOMIC_RELAXED);
	u64 base = __atomic_load_n(&s->base, __ATOMIC_RELAXED);
	u64 idx = spanclass_size(sc) ? ((v - base) * __atomic_load_n(&s->divmagic, __ATOMIC_RELAXED)) >> 32 : 0;
	__builtin_prefetch(__atomic_load_n(&s->markbits, __ATOMIC_RELAXED) + idx / 64);
}

static inline void mark_ahead(struct gcw *w, u64 v)
{
	struct mspan *s = span_of(v);
	if (!s)
		return;		// not a heap address
	__builtin_prefetch(s);
	u32 i = w->ahead_next++ % MARK_AHEAD, half = (i + MARK_AHEAD / 2) % MARK_AHEAD;
	if (w->ahead[half])
		prefetch_mark_word(w->ahead_span[half], w->ahead[half]);
	u64 old = w->ahead[i];
	struct mspan *olds = w->ahead_span[i];
	w->ahead[i] = v;
	w->ahead_span[i] = s;
	if (old)
		mark_in_span(w, olds, old);
}

// mark_ahead_flush: marks every pointer still in the ring, oldest first.
static void mark_ahead_flush(struct gcw *w)
{
	for (u32 k = 0; k < MARK_AHEAD; k++) {
		u32 i = (w->ahead_next + k) % MARK_AHEAD;
		u64 v = w->ahead[i];
		if (v) {
			w->ahead[i] = 0;
			mark_in_span(w, w->ahead_span[i], v);
		}
	}
}

// scan_word: the word at a of object obj may be a pointer.
static inline void scan_word(struct gcw *w, u64 a, u64 obj)
{
	u64 v = __atomic_load_n((u64 *)a, __ATOMIC_RELAXED);
	if (__builtin_expect(w->check, 0)) {
		w->origin = (struct gc_origin){"object", a, obj};
		mark_word(w, v);
	} else {
		mark_ahead(w, v);
	}
}

// Conservative: every word of [lo, hi) is read, whatever it is (stack
// padding, a sanitizer's redzones in the hosted build: not checked).
__attribute__((no_sanitize("address"))) void scan_range(struct gcw *w, u64 lo, u64 hi)
{
	const char *what = w->origin.what;
	for (u64 a = ALIGN_UP(lo, 8); a + 8 <= hi; a += 8) {
		w->origin = (struct gc_origin){what, a, 0};
		mark_word(w, __atomic_load_n((u64 *)a, __ATOMIC_RELAXED));
	}
	add_scan_work(w, hi > lo ? hi - lo : 0);
}

// ---- scanning an object

// Large objects are scanned in pieces of this size (Go's oblets), each
// its own work item, so one object never holds a worker for long.
#define OBLET_BYTES (128ul << 10)

// scan_typed: [lo, hi) holds elements of t starting at base.
static void scan_typed(struct gcw *w, const struct gc_type *t, u64 base, u64 lo, u64 hi, u64 obj)
{
	if (t->nptrs == GC_SCAN_ALL) {
		for (u64 a = lo; a + 8 <= hi; a += 8)
			scan_word(w, a, obj);
		return;
	}
	u64 first = (lo - base) / t->size;
	for (u64 e = base + first * t->size; e + t->size <= hi; e += t->size)
		for (u32 i = 0; i < t->nptrs; i++) {
			u64 a = e + (u64)t->ptr_words[i] * 8;
			if (a >= lo && a < hi)
				scan_word(w, a, obj);
		}
}

// scan_object: the grey object (or oblet) b, of span s.
static void scan_object(struct gcw *w, struct mspan *s, u64 b)
{
	if (spanclass_size(s->spanclass) == 0) {	// large: b is the object or one of its oblets
		u64 size = s->npages << HEAP_PAGE_SHIFT, end = s->base + size;
		if (b == s->base)
			for (u64 o = b + OBLET_BYTES; o < end; o += OBLET_BYTES)
				gcw_put(w, o);
		u64 hi = MIN(b + OBLET_BYTES, end);
		scan_typed(w, s->largetype, s->base, b, hi, s->base);
		add_scan_work(w, hi - b);
		return;
	}
	if (s->elemsize <= HEAP_BITS_MAX_SIZE) {
		// Acquire: a span gone SPAN_MIXED has every object's bits set
		// before. A type read before the change is still every object's
		// this cycle scans: objects allocated since are black.
		const struct gc_type *t = __atomic_load_n(&s->objtype, __ATOMIC_ACQUIRE);
		if (t != SPAN_MIXED) {
			// NULL: no object handed out yet but b, being set up by an
			// allocation that made it black (as above).
			for (u64 m = t ? t->ptrmask : 0; m; m &= m - 1)
				scan_word(w, b + (u64)__builtin_ctzll(m) * 8, b);
		} else {
			u64 w0 = (b - s->base) / 8, words = s->elemsize / 8;
			for (u64 i = 0; i < words; i++)
				if (span_heapbit(s, w0 + i))
					scan_word(w, b + i * 8, b);
		}
	} else {
		const struct gc_type *t = __atomic_load_n((const struct gc_type **)b, __ATOMIC_RELAXED);
		if (t)	// NULL: the slot is being set up by its allocation (allocated black)
			scan_typed(w, t, b + MALLOC_HEADER, b + MALLOC_HEADER, b + s->elemsize, b);
	}
	add_scan_work(w, s->elemsize);
}

void scan_object_contents(struct gcw *w, u64 obj)
{
	struct mspan *s = span_of(obj);
	if (s && !spanclass_noscan(s->spanclass))
		scan_object(w, s, obj);
	mark_ahead_flush(w);
}

// gcw_balance: nothing is on the global list and w holds a few grey
// objects: half of them (the oldest, nearest the roots, so the biggest
// subgraphs) go there for idle workers and assists. Without it a depth-
// first mark of a tree keeps all its work in one CPU's buffer, which
// never fills, and assists elsewhere wait for credit instead of marking
// (Go's gcWork.balance).
#define BALANCE_MIN 8
static void gcw_balance(struct gcw *w)
{
	struct wbuf *b = w->cur;
	if (!b || b->n < BALANCE_MIN || __atomic_load_n(&work.nfull, __ATOMIC_RELAXED) || plat_ncpus() == 1 ||
	    __atomic_load_n(&gc_world_stopped, __ATOMIC_RELAXED))
		return;
	struct wbuf *half = wbuf_get_empty();
	u64 k = b->n / 2;
	memcpy(half->obj, b->obj, k * sizeof(b->obj[0]));
	memmove(b->obj, b->obj + k, (b->n - k) * sizeof(b->obj[0]));
	half->n = k;
	b->n -= k;
	wbuf_put_full(half);
	gc_work_available();
}

// Scanning ahead. A marker spends most of its time waiting for cache
// misses: the objects it pops are scattered over the heap, and a pop
// usually takes what the last scan pushed, so a prefetch down the stack
// rarely reaches an object before it is scanned. Instead each popped
// object joins a ring of SCAN_AHEAD; its memory and span struct are
// prefetched then, its word of pointer bits half way round (the struct
// is in the cache by then), and it is scanned when it leaves.

// prefetch_heapbits: the word of pointer bits of b in s, if its span
// keeps bits per object (SPAN_MIXED; else its objects' type says). Only
// a published span's fields are read (an object of another could not be
// grey); a prefetch of a stale word is harmless.
static inline void prefetch_heapbits(const struct mspan *s, u64 b)
{
	if (span_usable(s) && __atomic_load_n(&s->objtype, __ATOMIC_RELAXED) == SPAN_MIXED) {
		const u64 *hb = __atomic_load_n(&s->heapbits, __ATOMIC_RELAXED);
		if (hb && s->elemsize <= HEAP_BITS_MAX_SIZE)
			__builtin_prefetch(&hb[(b - s->base) / 8 / 64]);
	}
}

// scan_ahead: b joins the ring; the object that leaves it (popped
// SCAN_AHEAD pops ago) with its span in *sp, or 0 while the ring fills.
static inline u64 scan_ahead(struct gcw *w, u64 b, struct mspan **sp)
{
	u32 i = w->scan_next++ % SCAN_AHEAD, half = (i + SCAN_AHEAD / 2) % SCAN_AHEAD;
	u64 out = w->scan_ring[i];
	*sp = w->scan_span[i];
	struct mspan *s = span_of(b);	// (a grey object's span stays in use until the sweep)
	w->scan_ring[i] = b;
	w->scan_span[i] = s;
	__builtin_prefetch((void *)b);
	__builtin_prefetch(s);
	if (w->scan_ring[half])
		prefetch_heapbits(w->scan_span[half], w->scan_ring[half]);
	return out;
}

// scan_ahead_take: the oldest object in the ring, taken out, with its
// span in *sp; 0 if none.
static u64 scan_ahead_take(struct gcw *w, struct mspan **sp)
{
	for (u32 k = 0; k < SCAN_AHEAD; k++) {
		u32 i = (w->scan_next + k) % SCAN_AHEAD;
		u64 b = w->scan_ring[i];
		if (b) {
			w->scan_ring[i] = 0;
			*sp = w->scan_span[i];
			return b;
		}
	}
	return 0;
}

u64 gcw_drain(struct gcw *w, u64 budget)
{
	u64 start = w->scan_work, b;
	struct mspan *s;
	for (;;) {
		if (w->scan_work - start >= budget)
			break;
		if (!gcw_get(w, &b)) {
			// The mark-ahead ring may hold pointers to objects still
			// to scan; the scan-ahead ring, objects.
			mark_ahead_flush(w);
			if (!gcw_get(w, &b)) {
				if (!(b = scan_ahead_take(w, &s)))
					break;
				goto scan;
			}
		}
		if (!(b = scan_ahead(w, b, &s)))
			continue;	// (at most SCAN_AHEAD pops while the ring fills)
scan:
		scan_object(w, s, b);
		gcw_balance(w);
		// A stop of the world (or the scheduler) is waiting for this
		// CPU: stop here, after at least one object so the caller
		// still sees progress, rather than at the end of the budget.
		if (plat_preempt_requested())
			break;
	}
	// The ring is empty outside: its objects are grey, in no buffer.
	while ((b = scan_ahead_take(w, &s)) != 0)
		scan_object(w, s, b);
	mark_ahead_flush(w);
	return w->scan_work - start;
}

// ---- roots

extern u64 __start_gcroots[], __stop_gcroots[];

#define MAX_ROOT_RANGES 64
static struct {
	struct spinlock lock;	// guards ranges
	struct {
		u64 lo, hi;
	} ranges[MAX_ROOT_RANGES];
	// Per cycle (reset with the world stopped by mark_prepare):
	int globals_claimed, ranges_claimed, specials_claimed;	// atomic 0 -> 1
	int globals_done, ranges_done, specials_done;
	u64 stack_bytes, global_bytes;		// scanned (atomic)
} roots = {.lock = SPINLOCK_INIT("gc roots")};

bool gc_add_roots(void *p, size_t bytes)
{
	bool ok = false;
	bool f = spin_lock_irqsave(&roots.lock);
	for (int i = 0; i < MAX_ROOT_RANGES && !ok; i++)
		if (!roots.ranges[i].hi) {
			roots.ranges[i].lo = (u64)p;
			roots.ranges[i].hi = (u64)p + bytes;
			ok = true;
		}
	spin_unlock_irqrestore(&roots.lock, f);
	return ok;
}

void gc_remove_roots(void *p)
{
	bool f = spin_lock_irqsave(&roots.lock);
	for (int i = 0; i < MAX_ROOT_RANGES; i++)
		if (roots.ranges[i].lo == (u64)p && roots.ranges[i].hi) {
			roots.ranges[i].lo = roots.ranges[i].hi = 0;
			break;
		}
	spin_unlock_irqrestore(&roots.lock, f);
}

static void scan_globals(struct gcw *w)
{
	w->origin.what = "a GC_ROOT global";
	scan_range(w, (u64)__start_gcroots, (u64)__stop_gcroots);
	__atomic_fetch_add(&roots.global_bytes, (u64)__stop_gcroots - (u64)__start_gcroots, __ATOMIC_RELAXED);
}

static void scan_ranges(struct gcw *w)
{
	w->origin.what = "a registered root range";
	bool f = spin_lock_irqsave(&roots.lock);
	for (int i = 0; i < MAX_ROOT_RANGES; i++)
		if (roots.ranges[i].hi) {
			scan_range(w, roots.ranges[i].lo, roots.ranges[i].hi);
			__atomic_fetch_add(&roots.global_bytes, roots.ranges[i].hi - roots.ranges[i].lo,
					   __ATOMIC_RELAXED);
		}
	spin_unlock_irqrestore(&roots.lock, f);
}

// scan_stack: t's stack from lo up, and its start argument (a new thread
// holds that before its stack does). t is held, stopped, or the caller.
static void scan_stack(struct gcw *w, struct thread *t, u64 lo)
{
	u64 hi = t->stack.top;
	if (lo < t->stack.bottom || lo > hi)
		panic("gc: thread %u (%s) has its stack pointer %#lx outside its stack [%#lx, %#lx) (cpu %u)",
		      t->tid, t->name, lo, t->stack.bottom, hi, this_cpu_id());
	w->origin.what = t->name;	// "stack of" is implied by a thread's name in reports
	w->in_stack = true;
	scan_range(w, lo, hi);
	w->in_stack = false;
	w->origin = (struct gc_origin){"a thread's start argument", (u64)&t->arg, 0};
	mark_word(w, (u64)t->arg);
	__atomic_fetch_add(&roots.stack_bytes, hi - lo, __ATOMIC_RELAXED);
}

// scan_self: the calling thread's own stack, with its callee-saved
// registers spilled into this frame first.
static __attribute__((noinline)) void scan_self(struct gcw *w)
{
	__builtin_unwind_init();
	u64 sp;
	__asm__ volatile("movq %%rsp, %0" : "=r"(sp));
	scan_stack(w, thread_current(), sp);
}

static bool no_roots(const struct thread *t)
{
	return t->is_idle || t->gc_no_roots || __atomic_load_n(&t->state, __ATOMIC_RELAXED) == TS_ZOMBIE ||
	       __atomic_load_n(&t->exited, __ATOMIC_RELAXED);
}

static bool needs_scan(const struct thread *t)
{
	return !no_roots(t) &&
	       __atomic_load_n(&t->gc_scangen, __ATOMIC_RELAXED) != gc_cycle;
}

#define HOLD_BATCH 16
struct hold_batch {
	struct thread *t[HOLD_BATCH];
	int n;
	bool self;		// the caller's own stack needs scanning
};

static void hold_some(struct thread *t, void *arg)
{
	struct hold_batch *h = arg;
	if (!needs_scan(t))
		return;
	if (t == thread_current())
		h->self = true;
	else if (h->n < HOLD_BATCH && thread_try_hold(t))
		h->t[h->n++] = t;	// else running (or the batch is full): a later pass
}

// scan_stacks_some: scans a batch of stacks of threads that are switched
// out (held meanwhile) and the caller's own; false if none was scanned.
// A stop of the world waiting for this CPU ends the batch early: the
// threads not scanned yet are let go for a later pass.
static bool scan_stacks_some(void)
{
	struct hold_batch h = {0};
	// Preemption is disabled from before the first hold to after the
	// last release: a CPU that picks a held thread waits for it with
	// interrupts off, and if this thread were switched out meanwhile, that
	// CPU (perhaps this one) would wait forever.
	preempt_disable();
	thread_for_each(hold_some, &h);
	struct gcw *w = &gcws[this_cpu_id()];
	for (int i = 0; i < h.n; i++) {
		if (i == 0 || !plat_preempt_requested()) {
			scan_stack(w, h.t[i], h.t[i]->rsp);
			__atomic_store_n(&h.t[i]->gc_scangen, gc_cycle, __ATOMIC_RELAXED);
		}
		thread_unhold(h.t[i]);
	}
	if (h.self) {
		scan_self(w);
		__atomic_store_n(&thread_current()->gc_scangen, gc_cycle, __ATOMIC_RELAXED);
	}
	preempt_enable();
	return h.n || h.self;
}

void mark_prepare(void)
{
	roots.globals_claimed = roots.ranges_claimed = roots.specials_claimed = 0;
	roots.globals_done = roots.ranges_done = roots.specials_done = 0;
	roots.stack_bytes = roots.global_bytes = 0;
}

// run_root_job: scans one root job if this caller claims it first.
static bool run_root_job(int *claimed, int *done, void (*scan)(struct gcw *w))
{
	int zero = 0;
	if (!__atomic_compare_exchange_n(claimed, &zero, 1, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return false;
	preempt_disable();
	scan(&gcws[this_cpu_id()]);
	preempt_enable();
	__atomic_store_n(done, 1, __ATOMIC_RELEASE);
	return true;
}

bool mark_roots_some(void)
{
	return run_root_job(&roots.globals_claimed, &roots.globals_done, scan_globals) ||
	       run_root_job(&roots.ranges_claimed, &roots.ranges_done, scan_ranges) ||
	       run_root_job(&roots.specials_claimed, &roots.specials_done, specials_scan_roots) || scan_stacks_some();
}

struct stopped_scan {
	struct gcw *w;
	u32 n;
	bool all;		// checkmark: every thread, scanned or not
};

static void scan_stopped(struct thread *t, void *arg)
{
	struct stopped_scan *ss = arg;
	if (no_roots(t) || t == thread_current())
		return;
	if (!ss->all && __atomic_load_n(&t->gc_scangen, __ATOMIC_RELAXED) == gc_cycle)
		return;
	// Switched out (rsp saved by the switch) or parked by stw_park,
	// which saved rsp too.
	scan_stack(ss->w, t, t->rsp);
	if (!ss->all)
		t->gc_scangen = gc_cycle;
	ss->n++;
}

u32 mark_stacks_stopped(struct gcw *w)
{
	struct stopped_scan ss = {w, 0, false};
	thread_for_each(scan_stopped, &ss);
	struct thread *me = thread_current();
	if (!no_roots(me) && me->gc_scangen != gc_cycle) {
		scan_self(w);
		me->gc_scangen = gc_cycle;
		ss.n++;
	}
	return ss.n;
}

bool mark_root_jobs_done(void)
{
	return __atomic_load_n(&roots.globals_done, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&roots.ranges_done, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&roots.specials_done, __ATOMIC_ACQUIRE);
}

void mark_root_bytes(u64 *stacks, u64 *globals)
{
	*stacks = roots.stack_bytes;
	*globals = roots.global_bytes;
}

void scan_all_roots(struct gcw *w)
{
	scan_globals(w);
	scan_ranges(w);
	specials_scan_roots(w);
	struct stopped_scan ss = {w, 0, true};
	thread_for_each(scan_stopped, &ss);
	if (!no_roots(thread_current()))
		scan_self(w);
}

bool gc_is_marked(const void *p)
{
	struct mspan *s = span_of((u64)p);
	if (!s || s->state != SPAN_INUSE || !span_usable(s))
		return false;
	u64 idx = span_object_index(s, (u64)p);
	return idx < s->nelems && (s->markbits[idx / 64] >> (idx % 64) & 1);
}
