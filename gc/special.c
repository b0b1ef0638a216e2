// Finalizers, weak references and the per-CPU object pool (Go's
// mfinal.go, weak pointers and sync.Pool). See gc/gc.c for the overview.
//
// Finalizers. A record (object, function, argument) lives in a table
// that is a root for what the object references and for the argument,
// but not for the object itself: mark scans the object's contents and
// leaves the object white if nothing else reaches it. At mark
// termination, with the world stopped, each record whose object is still
// white moves to the ready queue and its object is marked (resurrected
// for one more cycle; its contents are marked already). The finalizer
// thread runs fn(obj, arg) once per record, then drops the record: the
// object goes at the next cycle unless the finalizer stored it somewhere.
//
// Weak references. A handle holds a pointer the collector does not
// follow. At mark termination, before finalizers are queued, a handle
// whose object is white is cleared. gc_weak_get shades what it returns
// while marking (the object may not be in the snapshot), inside one
// preempt-disabled region, so it never returns an object about to go.
//
// Pools. Per CPU, a small stack of objects and a victim stack. At the
// start of each cycle (world stopped) the victims are dropped and the
// stacks become the victims, so an unused object survives at most two
// cycles. Both stacks are roots. Taking an object out of a root while
// marking shades it (the deletion half of the barrier).

#include "gc/gc_internal.h"
#include "mm/fixalloc.h"

struct finalizer {
	struct list link;	// on specials.table or specials.ready
	u64 obj;
	void (*fn)(void *obj, void *arg);
	void *arg;
};

struct gc_weak {
	struct list link;	// on specials.weak
	void *obj;		// NULL once the object was found unreachable
};

#define POOL_CAP 30
struct pool_local {
	void *items[POOL_CAP];
	void *victim[POOL_CAP];
	u32 n, nv;
};

static struct {
	struct spinlock lock;	// guards the lists and the pool list
	struct list table;	// finalizers of objects not found unreachable yet
	struct list ready;	// finalizers to run
	struct list weak;	// every weak handle
	struct list pools;
	struct waitq ready_wq;	// the finalizer thread waits here
	struct fixalloc fin_alloc, weak_alloc;
	u64 queued, ran;	// finalizers queued / run so far
} sp = {
	.lock = SPINLOCK_INIT("gc specials"),
	.table = LIST_INIT(sp.table),
	.ready = LIST_INIT(sp.ready),
	.weak = LIST_INIT(sp.weak),
	.pools = LIST_INIT(sp.pools),
	.ready_wq = WAITQ_INIT(sp.ready_wq),
};

// shade: the deletion (or insertion) half of the barrier for a pointer
// moved out of (or into) one of these roots. Preemption disabled.
static void shade(void *p)
{
	if (p && __atomic_load_n(&gc_barrier_on, __ATOMIC_RELAXED)) {
		struct gcw *w = &gcws[this_cpu_id()];
		w->origin.what = "a finalizer, weak reference or pool";
		mark_word(w, (u64)p);
	}
}

// ---- finalizers

bool gc_set_finalizer(void *obj, void (*fn)(void *obj, void *arg), void *arg)
{
	if (!obj || gc_object_base(obj) != obj || !fn)
		return false;	// not the start of a heap object
	struct finalizer *f = fixalloc_alloc(&sp.fin_alloc);
	if (!f)
		return false;
	*f = (struct finalizer){.obj = (u64)obj, .fn = fn, .arg = arg};
	bool fl = spin_lock_irqsave(&sp.lock);
	list_for_each(e, &sp.table)
		if (list_entry(e, struct finalizer, link)->obj == (u64)obj) {
			spin_unlock_irqrestore(&sp.lock, fl);
			fixalloc_free(&sp.fin_alloc, f);
			return false;	// one finalizer per object, as in Go
		}
	shade(arg);	// into a root
	list_push_back(&sp.table, &f->link);
	spin_unlock_irqrestore(&sp.lock, fl);
	return true;
}

bool gc_clear_finalizer(void *obj)
{
	struct finalizer *found = NULL;
	bool fl = spin_lock_irqsave(&sp.lock);
	list_for_each(e, &sp.table) {
		struct finalizer *f = list_entry(e, struct finalizer, link);
		if (f->obj == (u64)obj) {
			list_remove(&f->link);
			shade(f->arg);	// out of a root
			found = f;
			break;
		}
	}
	spin_unlock_irqrestore(&sp.lock, fl);
	if (found)
		fixalloc_free(&sp.fin_alloc, found);
	return found != NULL;
}

// run_next: waits for a ready finalizer and runs it. Out of line, so the
// object's address lives only in this frame and below, which the caller
// then scrubs.
static __attribute__((noinline)) void run_next(void)
{
	bool fl = spin_lock_irqsave(&sp.lock);
	while (list_empty(&sp.ready))
		waitq_wait(&sp.ready_wq, &sp.lock);
	struct finalizer *f = list_entry(sp.ready.next, struct finalizer, link);
	list_remove(&f->link);
	shade((void *)f->obj);	// out of a root, onto this stack
	shade(f->arg);
	spin_unlock_irqrestore(&sp.lock, fl);
	f->fn((void *)f->obj, f->arg);
	// Release, with gc_finalizers_run's acquire: whoever sees the count
	// sees what the finalizer did.
	fl = spin_lock_irqsave(&sp.lock);
	__atomic_store_n(&sp.ran, sp.ran + 1, __ATOMIC_RELEASE);
	spin_unlock_irqrestore(&sp.lock, fl);
	fixalloc_free(&sp.fin_alloc, f);
}

// scrub_stack: zeroes the stack just below the caller's frame, where
// run_next and the finalizer ran. Conservative scanning cannot tell a
// dead slot from a live one, and the frames this thread next blocks in
// (wait queue, context switch) leave some slots unwritten: a stale copy
// of the object there kept it alive after its finalizer ran (Boehm clears
// stacks for the same reason, GC_clear_stack).
static __attribute__((noinline)) void scrub_stack(void)
{
	volatile u64 area[512];
	for (unsigned i = 0; i < ARRAY_SIZE(area); i++)
		area[i] = 0;
}

static void finalizer_thread(void *arg)
{
	(void)arg;
	for (;;) {
		run_next();
		scrub_stack();
	}
}

u64 gc_finalizers_run(void)
{
	return __atomic_load_n(&sp.ran, __ATOMIC_ACQUIRE);
}

// ---- weak references

struct gc_weak *gc_weak_new(void *obj)
{
	if (!obj || !gc_object_base(obj))
		return NULL;
	struct gc_weak *w = fixalloc_alloc(&sp.weak_alloc);
	if (!w)
		return NULL;
	w->obj = obj;
	bool fl = spin_lock_irqsave(&sp.lock);
	list_push_back(&sp.weak, &w->link);
	spin_unlock_irqrestore(&sp.lock, fl);
	return w;
}

void *gc_weak_get(struct gc_weak *w)
{
	preempt_disable();	// mark termination cannot split the load and the shade
	void *p = __atomic_load_n(&w->obj, __ATOMIC_RELAXED);
	shade(p);
	preempt_enable();
	return p;
}

void gc_weak_free(struct gc_weak *w)
{
	bool fl = spin_lock_irqsave(&sp.lock);
	list_remove(&w->link);
	spin_unlock_irqrestore(&sp.lock, fl);
	fixalloc_free(&sp.weak_alloc, w);
}

// ---- pools

bool gc_pool_init(struct gc_pool *p, const char *name)
{
	u64 bytes = (u64)plat_ncpus() * sizeof(struct pool_local);
	unsigned order = 0;
	while ((PAGE_SIZE << order) < bytes)
		order++;
	p->local = plat_meta_alloc(order, FT_META);
	if (!p->local)
		return false;
	p->order = order;
	p->name = name;
	bool fl = spin_lock_irqsave(&sp.lock);
	list_push_back(&sp.pools, &p->link);
	spin_unlock_irqrestore(&sp.lock, fl);
	return true;
}

void gc_pool_put(struct gc_pool *p, void *obj)
{
	preempt_disable();
	struct pool_local *l = &p->local[this_cpu_id()];
	if (obj && l->n < POOL_CAP) {
		shade(obj);	// into a root
		__atomic_store_n(&l->items[l->n], obj, __ATOMIC_RELAXED);
		l->n++;
	}
	preempt_enable();
}

void *gc_pool_get(struct gc_pool *p)
{
	void *x = NULL;
	preempt_disable();
	struct pool_local *l = &p->local[this_cpu_id()];
	if (l->n) {
		x = l->items[--l->n];
		__atomic_store_n(&l->items[l->n], NULL, __ATOMIC_RELAXED);
	} else if (l->nv) {
		x = l->victim[--l->nv];
		__atomic_store_n(&l->victim[l->nv], NULL, __ATOMIC_RELAXED);
	}
	shade(x);	// out of a root
	preempt_enable();
	return x;
}

// ---- the collector's side

void specials_cycle_start(void)
{
	list_for_each(e, &sp.pools) {
		struct gc_pool *p = list_entry(e, struct gc_pool, link);
		for (unsigned c = 0; c < plat_ncpus(); c++) {
			struct pool_local *l = &p->local[c];
			memcpy(l->victim, l->items, sizeof(l->items));
			memset(l->items, 0, sizeof(l->items));
			l->nv = l->n;
			l->n = 0;
		}
	}
}

void specials_scan_roots(struct gcw *w)
{
	bool fl = spin_lock_irqsave(&sp.lock);
	list_for_each(e, &sp.table) {
		struct finalizer *f = list_entry(e, struct finalizer, link);
		w->origin = (struct gc_origin){"a finalizer's object", f->obj, f->obj};
		scan_object_contents(w, f->obj);	// not the object itself
		w->origin = (struct gc_origin){"a finalizer's argument", (u64)&f->arg, 0};
		mark_word(w, (u64)f->arg);
	}
	w->origin = (struct gc_origin){"the finalizer queue", 0, 0};
	list_for_each(e, &sp.ready) {
		struct finalizer *f = list_entry(e, struct finalizer, link);
		mark_word(w, f->obj);
		mark_word(w, (u64)f->arg);
	}
	list_for_each(e, &sp.pools) {
		struct gc_pool *p = list_entry(e, struct gc_pool, link);
		w->origin.what = p->name;
		scan_range(w, (u64)p->local, (u64)(p->local + plat_ncpus()));
	}
	spin_unlock_irqrestore(&sp.lock, fl);
}

u64 specials_mark_termination(void)
{
	u64 resurrected = 0;
	bool fl = spin_lock_irqsave(&sp.lock);	// free: the world is stopped outside locked regions
	list_for_each(e, &sp.weak) {
		struct gc_weak *wk = list_entry(e, struct gc_weak, link);
		if (wk->obj && !gc_is_marked(wk->obj))
			wk->obj = NULL;
	}
	for (struct list *e = sp.table.next, *next; e != &sp.table; e = next) {
		next = e->next;
		struct finalizer *f = list_entry(e, struct finalizer, link);
		if (gc_is_marked((void *)f->obj))
			continue;
		struct mspan *s = span_of(f->obj);
		span_mark(s, span_object_index(s, f->obj));
		resurrected += span_elem_bytes(s);
		list_remove(&f->link);
		list_push_back(&sp.ready, &f->link);
		sp.queued++;
	}
	spin_unlock_irqrestore(&sp.lock, fl);
	return resurrected;
}

void specials_wake_finalizers(void)
{
	bool fl = spin_lock_irqsave(&sp.lock);
	if (!list_empty(&sp.ready))
		waitq_wake_all(&sp.ready_wq);
	spin_unlock_irqrestore(&sp.lock, fl);
}

void specials_init(void)
{
	fixalloc_init(&sp.fin_alloc, "finalizers", sizeof(struct finalizer), FT_META);
	fixalloc_init(&sp.weak_alloc, "weak handles", sizeof(struct gc_weak), FT_META);
	struct thread *t = thread_create_detached("finalizer", finalizer_thread, NULL, THREAD_ANY_CPU);
	if (!t)
		panic("gc_init: cannot create the finalizer thread");
}
