// Legacy 8259 interrupt controllers, remapped to vectors 32..47. They carry
// the PIT tick and the UART IRQs until the SMP issue moves to the IOAPIC.
#pragma once

#include "kernel/types.h"

#define IRQ_BASE 32

void pic_init(void);			// remap, everything masked
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
void pic_eoi(unsigned irq);
// pic_spurious: true if an interrupt on IRQ 7 or 15 was spurious (and so
// must not be acknowledged as a real one).
bool pic_spurious(unsigned irq);
