// The kernel names that kernel test files (tests/kernel/test_heap.c,
// test_gc.c) use beyond the platform interface (which has threads, time
// and cpu_relax), for the hosted build: frame statistics, the booted
// configuration. The headers in kernel/ and
// tests/kernel/ next to this file shadow the kernel's (-I tests/hosted/
// kcompat comes first) and all lead here, so those test files compile
// unchanged.
#pragma once

#include "tests/hosted/hosted.h"

#define ncpus_online hosted_ncpus

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

// The booted configuration (kernel/cmdline.h), parsed by kernel/cmdline.c
// from the programs' -cmdline; its log levels; strlcpy, which this libc
// lacks, and the kernel's kbasename.
#include "kernel/cmdline.h"
enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };
extern int log_level_max;
static inline size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size) {
		size_t k = n < size - 1 ? n : size - 1;
		memcpy(dst, src, k);
		dst[k] = 0;
	}
	return n;
}
static inline const char *kbasename(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}
