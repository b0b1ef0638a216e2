// 8259A PIC pair: remapped to IRQ_BASE and fully masked.

#include "drivers/pic.h"
#include "kernel/x86.h"

#define PIC1 0x20
#define PIC2 0xa0

void pic_disable(void)
{
	outb(PIC1, 0x11);		// ICW1: init, expect ICW4
	outb(PIC2, 0x11);
	outb(PIC1 + 1, IRQ_BASE);	// ICW2: vector offsets
	outb(PIC2 + 1, IRQ_BASE + 8);
	outb(PIC1 + 1, 4);		// ICW3: slave on IRQ 2
	outb(PIC2 + 1, 2);
	outb(PIC1 + 1, 1);		// ICW4: 8086 mode
	outb(PIC2 + 1, 1);
	outb(PIC1 + 1, 0xff);		// mask everything
	outb(PIC2 + 1, 0xff);
}
