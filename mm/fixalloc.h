// fixalloc: fixed-size objects for kernel metadata (threads now; spans,
// per-CPU caches and type descriptors later), carved from metadata pages
// (plat_meta_alloc: frames in the kernel) and kept on a free list. Never on
// the collected heap, never returned to the frame allocator (Go's
// mfixalloc works the same way). Part of the heap: it uses only the
// platform interface (mm/platform.h).
#pragma once

#include "kernel/types.h"
#include "mm/platform.h"	// spinlocks, frame tags, metadata pages

struct fixalloc {
	struct spinlock lock;		// guards everything below
	const char *name;
	u32 size;			// object size, a multiple of 16
	enum frame_tag tag;
	void *free;			// freed objects, linked through their first word
	char *chunk;			// unused tail of the last frame taken
	u32 chunk_left;
	u64 inuse;			// objects handed out and not freed
	u64 sys;			// bytes taken from the frame allocator
};

// fixalloc_init: objects of `size` bytes (<= PAGE_SIZE).
void fixalloc_init(struct fixalloc *f, const char *name, u32 size, enum frame_tag tag);
// fixalloc_alloc: a zeroed object, or NULL when no frame is left.
void *fixalloc_alloc(struct fixalloc *f);
void fixalloc_free(struct fixalloc *f, void *p);
