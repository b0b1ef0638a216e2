// Legacy 8259 interrupt controllers. The kernel routes device interrupts
// through the IOAPIC (drivers/ioapic.h); the PICs are only remapped away
// from the exception vectors and masked, so a stray one cannot look like
// a CPU exception.
#pragma once

#include "kernel/types.h"

#define IRQ_BASE 32	// ISA IRQ n arrives on vector IRQ_BASE + n

void pic_disable(void);
