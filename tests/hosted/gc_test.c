// The collector's tests in the hosted build: the kernel's
// (tests/kernel/test_gc.c, built here unchanged through
// tests/hosted/kcompat/) over the same gc/ and mm/ sources, on pthreads
// (tests/hosted/platform.c), run by tests/hosted/runner.c under
// AddressSanitizer + UBSan (build/hosted/asan/gc_test) and
// ThreadSanitizer (build/hosted/tsan/gc_test).
//
//	gc_test [-cpus N] [-run GLOB] [-cmdline 'gccheckmark=1 gctrace=1 ...']

#include "gc/gc.h"
#include "tests/hosted/runner.h"

void hosted_program_init(void)
{
	hosted_gc_start(hosted_cmdline);
}

void hosted_program_quiesce(void)
{
	gc_wait_idle();	// the sweeper and scavenger hold spans while at work
}
