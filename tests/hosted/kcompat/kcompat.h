// The kernel names that kernel test files (tests/kernel/test_heap.c) use
// beyond the heap's platform interface, for the hosted build: threads
// pinned to CPUs, frame statistics (cpu_relax is in the platform header).
// The headers in kernel/ and
// tests/kernel/ next to this file shadow the kernel's (-I tests/hosted/
// kcompat comes first) and all lead here, so those test files compile
// unchanged. Implemented in tests/hosted/heap_test.c.
#pragma once

#include "tests/hosted/hosted.h"

#define ncpus_online hosted_ncpus

// thread_create: a pthread that holds CPU slot `cpu` (-1: slot 0) while it
// runs fn(arg). thread_join waits for it and frees it; the caller gives
// its own slot up while it waits (a kernel thread blocks the same way), so
// a thread made for the caller's CPU can run.
struct thread;
struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int cpu);
void thread_join(struct thread *t);

// Pages held by tag, as the kernel's frame statistics count frames. Free
// pages: the host's memory is not counted; as many as the heap range has
// (tests that set a limit with hosted_set_frame_limit know it).
struct frame_stats {
	u64 by_tag[FT_NTAGS];
	u64 free, pcp;
};
static inline void frame_stats(struct frame_stats *s)
{
	hosted_page_stats(s->by_tag);
	s->free = PLAT_HEAP_SIZE / PAGE_SIZE;
	s->pcp = 0;
}
