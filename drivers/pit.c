// 8254 PIT: busy-wait intervals for TSC calibration.

#include "drivers/pit.h"
#include "kernel/x86.h"

#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_B 0x61		// bit 0: channel 2 gate, bit 1: speaker, bit 5: ch2 output

void pit_wait_ticks(u16 ticks, u64 *tsc_start, u64 *tsc_end)
{
	u8 b = inb(PORT_B);
	outb(PORT_B, (b & ~0x02) & ~0x01);	// gate low, speaker off
	outb(PIT_CMD, 0xb0);			// channel 2, lo/hi byte, mode 0
	outb(PIT_CH2, ticks & 0xff);
	outb(PIT_CH2, ticks >> 8);
	b = inb(PORT_B);
	*tsc_start = rdtsc();
	outb(PORT_B, b | 0x01);			// gate high: counting starts
	while (!(inb(PORT_B) & 0x20))
		cpu_relax();
	*tsc_end = rdtsc();
	outb(PORT_B, b & ~0x01);
}
