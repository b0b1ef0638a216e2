// Timekeeping: the TSC, calibrated against the PIT, gives nanotime().
#pragma once

#include "kernel/types.h"

void time_init_early(void);	// records the boot TSC value (time zero)
void tsc_calibrate(void);	// needs the PIT; logs the frequency
u64 nanotime(void);		// ns since boot; 0 until calibrated
u64 tsc_frequency(void);	// Hz; 0 until calibrated
u64 tsc_to_ns(u64 ticks);
void udelay(u64 us);		// busy-waits at least us microseconds

// time_measure_pit: busy-waits `ticks` PIT periods on channel 2 and
// returns the interval as measured by the PIT (exact) and by nanotime().
void time_measure_pit(u16 ticks, u64 *pit_ns, u64 *tsc_ns);
