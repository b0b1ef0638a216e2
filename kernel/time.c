// TSC-based time since boot. The TSC rate is measured against PIT channel 2
// (an exact 1.193182 MHz reference) over several short windows; the
// shortest window sets the rate. Conversion uses a 32.32 fixed-point multiplier so
// nanotime() is one multiply and a shift, no division.

#include "kernel/time.h"
#include "drivers/pit.h"
#include "kernel/printf.h"
#include "kernel/x86.h"

static u64 tsc_boot;		// TSC at time zero
static u64 tsc_hz;
static u64 ns_mult;		// ns per tick, scaled by 2^32

#define CAL_TICKS 11932		// 10 ms of PIT periods
#define CAL_RUNS 5

void time_init_early(void)
{
	tsc_boot = rdtsc();
}

u64 tsc_to_ns(u64 ticks)
{
	return (u64)(((unsigned __int128)ticks * ns_mult) >> 32);
}

u64 nanotime(void)
{
	if (!ns_mult)
		return 0;
	return tsc_to_ns(rdtsc() - tsc_boot);
}

u64 tsc_frequency(void)
{
	return tsc_hz;
}

void tsc_calibrate(void)
{
	// A window's TSC count starts before the PIT gate opens and ends after
	// the PIT expires (drivers/pit.c), so a host descheduling this vCPU can
	// only stretch it: the shortest window is the truest. (The median was
	// wrong by 20% when three of five windows were stretched on a busy
	// host, and nanotime then ran 15% slow for the whole boot.)
	u64 lo = UINT64_MAX, hi = 0;
	for (int i = 0; i < CAL_RUNS; i++) {
		u64 a, b;
		pit_wait_ticks(CAL_TICKS, &a, &b);
		lo = MIN(lo, b - a);
		hi = MAX(hi, b - a);
	}
	tsc_hz = lo * PIT_HZ / CAL_TICKS;
	ns_mult = (1000000000ull << 32) / tsc_hz;
	pr_info("tsc: %lu.%03lu MHz (shortest of %d PIT windows of %d us: %lu..%lu ticks)",
		tsc_hz / 1000000, tsc_hz / 1000 % 1000, CAL_RUNS, (int)(CAL_TICKS * 1000000ull / PIT_HZ), lo,
		hi);
}

void time_measure_pit(u16 ticks, u64 *pit_ns, u64 *tsc_ns)
{
	u64 a, b;
	pit_wait_ticks(ticks, &a, &b);
	*pit_ns = (u64)ticks * 1000000000ull / PIT_HZ;
	*tsc_ns = tsc_to_ns(b - a);
}

void udelay(u64 us)
{
	u64 t0 = nanotime();
	while (nanotime() - t0 < us * 1000)
		cpu_relax();
}
