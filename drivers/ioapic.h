// I/O APIC: routes device interrupt lines (GSIs) to CPU vectors. ISA IRQs
// are mapped to GSIs through the MADT's interrupt source overrides.
#pragma once

#include "kernel/types.h"

#define IOAPIC_DEFAULT_PHYS 0xfec00000u

// ioapic_add: registers an IOAPIC (from the MADT, or the default address
// when there is none) and masks all its inputs. Returns false if it cannot
// be mapped or the table is full.
bool ioapic_add(u32 id, u64 phys, u32 gsi_base);
// ioapic_override: ISA IRQ bus_irq is wired to gsi with MPS INTI flags.
void ioapic_override(u8 bus_irq, u32 gsi, u16 flags);
// ioapic_route_isa: delivers ISA IRQ irq as vector to the CPU with APIC id
// dest, masked until ioapic_unmask_isa. False if no IOAPIC has its GSI.
bool ioapic_route_isa(u8 irq, u8 vector, u32 dest);
void ioapic_unmask_isa(u8 irq);
void ioapic_mask_isa(u8 irq);
unsigned ioapic_count(void);
