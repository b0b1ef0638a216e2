// Intel 8254 programmable interval timer: channel 2 (gated through port
// 0x61) times calibration intervals for the TSC. The periodic tick is the
// LAPIC timer's (drivers/lapic.h).
#pragma once

#include "kernel/types.h"

#define PIT_HZ 1193182u

// pit_wait_ticks: busy-waits until channel 2 counts down `ticks` PIT
// periods (at most 65535) and returns the TSC values read just before the
// gate opened and just after the output went high.
void pit_wait_ticks(u16 ticks, u64 *tsc_start, u64 *tsc_end);
