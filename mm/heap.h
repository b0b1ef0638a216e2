// The garbage-collected heap's public interface. See mm/malloc.c for the
// design. Every allocation returns zeroed memory or NULL (then
// gc_alloc_error() says why); there is no free: the collector (gc/)
// reclaims what is unreachable.
//
// Typed objects: describe a struct once, naming its pointer fields,
//
//	struct node { u64 key; struct node *left, *right; };
//	GC_TYPE(node_type, struct node, left, right);
//	struct node *n = gc_alloc(&node_type);
//
// and the collector scans exactly those words. Pointer fields must be
// 8-byte aligned (checked at compile time). A type without pointers
// (GC_TYPE_NOPTRS) goes to spans that are never scanned.
#pragma once

#include "kernel/types.h"
#include "mm/sizeclasses.h"

// Objects of scan spans up to this size have their pointer bitmap in the
// span (one bit per word); bigger ones carry their type in an 8-byte
// header at the start of the object (Go 1.22's allocation headers).
#define HEAP_BITS_MAX_SIZE 512
// Pointer-free allocations below this size share 16-byte blocks (the tiny
// allocator).
#define TINY_SIZE 16

struct gc_type {
	const char *name;
	u64 size;		// bytes of one element (sizeof)
	u32 nptrs;		// pointer fields; GC_SCAN_ALL: every word
	const u32 *ptr_words;	// word index (offset / 8) of each, ascending
	u64 ptrmask;		// bit i: word i is a pointer (types of <= 64 words)
	// The span class (size class << 1 | pointer-free) gc_alloc takes an
	// element from without looking its size up, when the type is one a
	// span serves plainly: pointer-free of TINY_SIZE to MAX_SMALL_SIZE
	// bytes, or with pointers and at most HEAP_BITS_MAX_SIZE (ptrmask
	// then covers every word). 0 for any other type. GC_TYPE and
	// GC_TYPE_NOPTRS compute it at compile time.
	u8 spanclass;
};
#define GC_SCAN_ALL 0xffffffffu
#define GC_SPANCLASS_PTRS_(size) ((size) <= HEAP_BITS_MAX_SIZE ? (u8)(SIZE_CLASS_OF(size) << 1) : 0)
#define GC_SPANCLASS_NOPTRS_(size) \
	((size) >= TINY_SIZE && (size) <= MAX_SMALL_SIZE ? (u8)(SIZE_CLASS_OF(size) << 1 | 1) : 0)

// The type of gc_alloc_scan objects: every word may be a pointer.
extern const struct gc_type gc_type_scan_all;

#define GC_PP_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, N, ...) N
#define GC_PP_NARG(...) GC_PP_NARG_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
#define GC_PP_CAT_(a, b) a##b
#define GC_PP_CAT(a, b) GC_PP_CAT_(a, b)
#define GC_EACH_1(m, T, f) m(T, f)
#define GC_EACH_2(m, T, f, ...) m(T, f) GC_EACH_1(m, T, __VA_ARGS__)
#define GC_EACH_3(m, T, f, ...) m(T, f) GC_EACH_2(m, T, __VA_ARGS__)
#define GC_EACH_4(m, T, f, ...) m(T, f) GC_EACH_3(m, T, __VA_ARGS__)
#define GC_EACH_5(m, T, f, ...) m(T, f) GC_EACH_4(m, T, __VA_ARGS__)
#define GC_EACH_6(m, T, f, ...) m(T, f) GC_EACH_5(m, T, __VA_ARGS__)
#define GC_EACH_7(m, T, f, ...) m(T, f) GC_EACH_6(m, T, __VA_ARGS__)
#define GC_EACH_8(m, T, f, ...) m(T, f) GC_EACH_7(m, T, __VA_ARGS__)
#define GC_EACH_9(m, T, f, ...) m(T, f) GC_EACH_8(m, T, __VA_ARGS__)
#define GC_EACH_10(m, T, f, ...) m(T, f) GC_EACH_9(m, T, __VA_ARGS__)
#define GC_EACH_11(m, T, f, ...) m(T, f) GC_EACH_10(m, T, __VA_ARGS__)
#define GC_EACH_12(m, T, f, ...) m(T, f) GC_EACH_11(m, T, __VA_ARGS__)
#define GC_EACH_13(m, T, f, ...) m(T, f) GC_EACH_12(m, T, __VA_ARGS__)
#define GC_EACH_14(m, T, f, ...) m(T, f) GC_EACH_13(m, T, __VA_ARGS__)
#define GC_EACH_15(m, T, f, ...) m(T, f) GC_EACH_14(m, T, __VA_ARGS__)
#define GC_EACH_16(m, T, f, ...) m(T, f) GC_EACH_15(m, T, __VA_ARGS__)
#define GC_EACH(m, T, ...) GC_PP_CAT(GC_EACH_, GC_PP_NARG(__VA_ARGS__))(m, T, __VA_ARGS__)

#define GC_WORD_OF_(T, f) (u32)(__builtin_offsetof(T, f) / 8),
#define GC_MASK_OF_(T, f) | (__builtin_offsetof(T, f) / 8 < 64 ? 1ull << (__builtin_offsetof(T, f) / 8 % 64) : 0)
#define GC_ALIGNED_(T, f) _Static_assert(__builtin_offsetof(T, f) % 8 == 0, \
					 "pointer field " #f " of " #T " is not 8-byte aligned");

// GC_TYPE(var, T, field...): defines `const struct gc_type var` for T with
// the named pointer fields (1 to 16; list them in declaration order).
#define GC_TYPE(var, T, ...)                                                       \
	GC_EACH(GC_ALIGNED_, T, __VA_ARGS__)                                       \
	static const u32 var##_ptr_words_[] = {GC_EACH(GC_WORD_OF_, T, __VA_ARGS__)}; \
	const struct gc_type var = {#T, sizeof(T), ARRAY_SIZE(var##_ptr_words_), var##_ptr_words_, \
				    0 GC_EACH(GC_MASK_OF_, T, __VA_ARGS__), GC_SPANCLASS_PTRS_(sizeof(T))}
#define GC_TYPE_NOPTRS(var, T) \
	const struct gc_type var = {#T, sizeof(T), 0, NULL, 0, GC_SPANCLASS_NOPTRS_(sizeof(T))}

// Allocation. Preemption is disabled inside; callable from any thread
// with interrupts on or off, never from interrupt handlers.
void *gc_alloc(const struct gc_type *t);
void *gc_alloc_array(const struct gc_type *t, size_t n);	// n elements of t
void *gc_alloc_noscan(size_t size);	// pointer-free bytes
void *gc_alloc_scan(size_t size);	// every word may be a pointer
// gc_alloc_error: why the calling thread's last allocation returned NULL.
const char *gc_alloc_error(void);

// heap_release_idle: every free heap page still backed by a frame gives
// the frame back, and so do the empty spans the sweep kept for the CPUs
// that used them; returns the bytes released. The caller may wait for
// other CPUs (TLB shootdowns).
u64 heap_release_idle(void);
// heap_reclaim: the frame allocator's reclaimer. Releases the idle pages;
// when they come to less than `want` bytes and a collector is there and
// can run, collects (the garbage's spans become idle pages) and releases
// again. Returns the bytes released. The caller may wait for a cycle.
u64 heap_reclaim(u64 want);

// With clobberfree=1 every word of a freed object reads this until the
// slot is allocated again (zeroed then, as always).
#define GC_CLOBBER_WORD 0xdeadbeefdeadbeefull

// gc_object_base: for any address inside an allocated heap object
// (interior pointers too), the address its allocation returned; NULL for
// addresses outside allocated objects. gc_object_size: that object's
// usable size (its size class's, at least what was asked), 0 if none.
void *gc_object_base(const void *p);
size_t gc_object_size(const void *p);

// Go's runtime.MemStats, same names (CONVENTIONS.md).
struct memstats_class {
	u32 size;
	u64 mallocs, frees;
};
#define MEMSTATS_NCLASSES 68
struct memstats {
	u64 alloc, total_alloc, sys, lookups, mallocs, frees;
	u64 heap_alloc, heap_sys, heap_idle, heap_inuse, heap_released, heap_objects;
	u64 stack_inuse, stack_sys, mspan_inuse, mspan_sys, mcache_inuse, mcache_sys;
	u64 buck_hash_sys, gc_sys, other_sys;
	u64 next_gc, last_gc, pause_total_ns, num_gc, num_forced_gc;
	// The last 256 cycles' stop-the-world time and end (ns since boot);
	// the latest is at [(num_gc + 255) % 256], as in Go.
	u64 pause_ns[256], pause_end[256];
	u32 gc_cpu_fraction_ppm;
	bool enable_gc, debug_gc;
	struct memstats_class by_size[MEMSTATS_NCLASSES];
};
// read_memstats: a consistent snapshot: stops the world briefly to flush
// every CPU's cache counters. Interrupts on, no lock held.
void read_memstats(struct memstats *m);
// memstats_print: "# Name = value" lines, as Go appends to a heap profile.
void memstats_print(const struct memstats *m);
// heap_print_classes: per span class (in the spirit of /proc/slabinfo):
// spans, objects in use and total, bytes.
void heap_print_classes(void);

void heap_init(void);	// after mm_init and sched_init
