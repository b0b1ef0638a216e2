// The hosted port's own interface, for the programs built on it (heap
// tests, the fuzzer, benchmarks): setting up the simulated machine and
// taking CPU slots. The heap never sees these names; it sees only
// mm/platform.h (tests/hosted/include/mm/platform.h here).
#pragma once

#include "mm/platform.h"

// hosted_init: a machine of ncpus CPU slots (1..MAX_CPUS); reserves the
// heap range and sets up stop-the-world. Once, before heap_init.
void hosted_init(unsigned ncpus);

// hosted_cpu_enter: the calling pthread (not one thread_create made)
// registers as a thread pinned to CPU `cpu` and takes that slot (it may
// then use the heap), waiting while another thread holds it; until
// hosted_cpu_exit, which unregisters it (its stack is no longer a root).
// It leaves preemptible.
void hosted_cpu_enter(unsigned cpu);
void hosted_cpu_exit(void);
// hosted_cpu: the calling thread's slot, or -1.
int hosted_cpu(void);

// hosted_set_frame_limit: plat_heap_commit fails once more than `bytes`
// of heap memory would be committed (the hosted stand-in for running out
// of frames); 0 lifts the limit.
void hosted_set_frame_limit(u64 bytes);
// hosted_page_stats: 4 KiB pages held now, by tag: FT_HEAP committed heap
// pages, FT_META metadata pages (plat_meta_alloc).
void hosted_page_stats(u64 by_tag[FT_NTAGS]);

// hosted_panic_hook: if set (per thread), panic() calls it with the
// message before printing anything; a hook that returns lets the panic go
// on. Tests use it to catch a panic they provoke (it longjmps out).
extern __thread void (*hosted_panic_hook)(const char *msg);
// hosted_preempt_reset: sets the calling thread's preemption count (and
// its slot's region mark to match), for code that recovers from a caught
// panic or a test that left preemption disabled.
void hosted_preempt_reset(int count);

struct hosted_stw_stats {
	u64 count;		// completed stw_begin calls
	u64 max_ns, total_ns;
};
void hosted_stw_stats(struct hosted_stw_stats *s);

// hosted_gc_start: the kernel's options from cmdline, then the heap and
// the collector (tests/hosted/gc_start.c, linked into the programs with
// the collector). The caller holds a CPU slot.
void hosted_gc_start(const char *cmdline);

// hosted_print_bench_header: the lines `go test -bench` starts with
// (goos, goarch, pkg, cpu), for the hosted benchmark programs.
void hosted_print_bench_header(void);
