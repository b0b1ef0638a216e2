// Fixed-size metadata allocator over frames. See mm/fixalloc.h.

#include "mm/fixalloc.h"

void fixalloc_init(struct fixalloc *f, const char *name, u32 size, enum frame_tag tag)
{
	if (size == 0 || size > PAGE_SIZE)
		panic("fixalloc %s: object size %u not in 1..%lu", name, size, PAGE_SIZE);
	*f = (struct fixalloc){.name = name, .size = (size + 15) & ~15u, .tag = tag};
	spin_init(&f->lock, name);
}

void *fixalloc_alloc(struct fixalloc *f)
{
	spin_lock(&f->lock);
	void *p = f->free;
	if (p) {
		f->free = *(void **)p;
	} else {
		if (f->chunk_left < f->size) {
			// The frame allocator is below us in the lock order.
			char *page = plat_meta_alloc(0, f->tag);
			if (!page) {
				spin_unlock(&f->lock);
				return NULL;
			}
			f->chunk = page;
			f->chunk_left = PAGE_SIZE;
			f->sys += PAGE_SIZE;
		}
		p = f->chunk;
		f->chunk += f->size;
		f->chunk_left -= f->size;
	}
	f->inuse++;
	spin_unlock(&f->lock);
	memset(p, 0, f->size);
	return p;
}

void fixalloc_free(struct fixalloc *f, void *p)
{
	spin_lock(&f->lock);
	if (f->inuse == 0)
		panic("fixalloc %s: free of %p with no object in use", f->name, p);
	*(void **)p = f->free;
	f->free = p;
	f->inuse--;
	spin_unlock(&f->lock);
}
