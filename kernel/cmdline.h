// Kernel command line: space-separated `name` or `name=value` options with
// GODEBUG-style names (CONVENTIONS.md). Unknown or malformed options are
// reported as warnings and ignored; parsing never fails the boot.
#pragma once

#include "kernel/types.h"

#define CMDLINE_MAX 1024	// longest command line kept (bootinfo.h)
#define CMDLINE_OPT_MAX 256	// longest single option
#define CMDLINE_GLOB_MAX 128

enum testinject {
	INJECT_NONE,
	INJECT_FAIL,		// the matching tests fail after running
	INJECT_PANIC,		// ... panic instead of running
	INJECT_PAGEFAULT,	// ... touch an unmapped address
	INJECT_HANG,		// ... spin with interrupts on (per-test timeout)
	INJECT_TRIPLE,		// ... triple-fault the machine
};
const char *testinject_name(enum testinject m);

struct kconfig {
	int gctrace;			// gctrace=N: 0 off, 1 one line per cycle
	bool gccheckmark;		// gccheckmark=1
	int gcstoptheworld;		// gcstoptheworld=0|1|2
	int stwtrace_us;		// stwtrace=US: explain stops that waited longer (0: off)
	bool clobberfree;		// clobberfree=1
	int gcpercent;			// gcpercent=N|off (GOGC); -1 = off
	u64 memlimit;			// memlimit=BYTES[KiB|MiB|GiB|TiB]; UINT64_MAX = none
	int loglevel;			// loglevel=0..3 (error .. debug)
	bool test;			// test or test=GLOB
	char test_glob[CMDLINE_GLOB_MAX];
	bool bench;			// bench or bench=GLOB
	char bench_glob[CMDLINE_GLOB_MAX];
	int benchtime_ms;		// benchtime=MS: target time of each benchmark
	enum testinject inject;		// testinject=MODE:GLOB (harness self-checks)
	char inject_glob[CMDLINE_GLOB_MAX];
	u32 testtimeout_ms;		// testtimeout=MS: per-test timeout
};

extern struct kconfig kconfig;	// the booted configuration

#define CMDLINE_DIAG_KEEP 8
struct cmdline_diag {
	int warnings;
	int options;		// options recognized and applied
	char msg[CMDLINE_DIAG_KEEP][160];	// the first warnings, for printing
};

void kconfig_defaults(struct kconfig *cfg);
// cmdline_parse applies the options in s to cfg. Every rejected option
// leaves cfg unchanged for that option and adds a warning to d.
void cmdline_parse(const char *s, struct kconfig *cfg, struct cmdline_diag *d);
// cmdline_init: parse the boot command line into kconfig, log warnings.
void cmdline_init(const char *s);
