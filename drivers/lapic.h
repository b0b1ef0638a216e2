// Local APIC: this CPU's interrupt controller. xAPIC through its MMIO page,
// or x2APIC through MSRs when the CPU has it. Timer, end of interrupt,
// inter-processor interrupts.
#pragma once

#include "kernel/types.h"

// Vectors the kernel assigns (ISA IRQs use IRQ_BASE..IRQ_BASE+15).
#define VEC_TIMER 0xe0
#define VEC_IPI_RESCHED 0xf0	// run the scheduler
#define VEC_IPI_TLB 0xf1	// TLB shootdown
#define VEC_IPI_STW 0xf2	// stop the world: park
#define VEC_IPI_CALL 0xf3	// run a function on this CPU
#define VEC_SPURIOUS 0xff

// lapic_init: maps the boot CPU's LAPIC (address from the MADT, 0 for the
// architectural default) and enables x2APIC mode if the CPU has it.
void lapic_init(u64 phys);
// lapic_init_cpu: enables this CPU's LAPIC (spurious vector, TPR 0, LINTs
// masked). Every CPU calls it.
void lapic_init_cpu(void);
u32 lapic_id(void);
bool lapic_x2apic(void);
void lapic_eoi(void);

// IPIs. `apic` is a destination APIC id. Safe with interrupts on or off.
void lapic_send_ipi(u32 apic, u8 vector);
void lapic_send_ipi_all_but_self(u8 vector);
void lapic_send_init(u32 apic);
void lapic_send_sipi(u32 apic, u8 page);	// start at physical page*4096, real mode

// Timer. lapic_timer_calibrate measures the timer's rate against the TSC
// (boot CPU, once); lapic_timer_start runs it periodically on this CPU.
void lapic_timer_calibrate(void);
void lapic_timer_start(u32 hz);
u64 lapic_timer_hz(void);		// timer input clock after the divider
