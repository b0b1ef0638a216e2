// TSC calibration and nanotime().

#include "kernel/time.h"
#include "tests/kernel/ktest.h"

KTEST(time, calibrated)
{
	u64 hz = tsc_frequency();
	KT_EXPECT(t, hz >= 100000000ull && hz <= 100000000000ull, "TSC frequency %lu Hz is implausible", hz);
	KT_EXPECT(t, nanotime() > 0, "nanotime() is still 0");
}

KTEST(time, monotonic)
{
	u64 first = nanotime(), prev = first;
	for (int i = 0; i < 10000; i++) {
		u64 now = nanotime();
		KT_ASSERT(t, now >= prev, "nanotime went back from %lu to %lu", prev, now);
		prev = now;
	}
	KT_EXPECT(t, prev > first, "nanotime did not advance over 10000 reads");
}

KTEST(time, agrees_with_pit)
{
	// 50 ms windows timed by the PIT and by nanotime(). The best of three
	// is used: a window can be stretched if the host deschedules the vCPU
	// between the gate opening and the first TSC read, which is noise about
	// the host, not an error in the calibration.
	u64 best_err_ppm = UINT64_MAX, pit_ns = 0, tsc_ns = 0;
	for (int i = 0; i < 3 && best_err_ppm > 50000; i++) {
		u64 p, n;
		time_measure_pit(59659, &p, &n);
		u64 diff = n > p ? n - p : p - n;
		u64 ppm = diff * 1000000 / p;
		if (ppm < best_err_ppm) {
			best_err_ppm = ppm;
			pit_ns = p;
			tsc_ns = n;
		}
	}
	KT_EXPECT(t, best_err_ppm <= 50000, "PIT says %lu ns, nanotime says %lu ns (%lu ppm off, limit 5%%)",
		  pit_ns, tsc_ns, best_err_ppm);
}
