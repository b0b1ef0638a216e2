// 8259A PIC pair: remap to IRQ_BASE, mask/unmask, end of interrupt.

#include "drivers/pic.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"

#define PIC1 0x20
#define PIC2 0xa0
#define PIC_EOI 0x20
#define OCW3_READ_ISR 0x0b

// Guards the two mask registers (read-modify-write from any CPU).
static struct spinlock pic_lock = SPINLOCK_INIT("pic");

void pic_init(void)
{
	outb(PIC1, 0x11);		// ICW1: init, expect ICW4
	outb(PIC2, 0x11);
	outb(PIC1 + 1, IRQ_BASE);	// ICW2: vector offsets
	outb(PIC2 + 1, IRQ_BASE + 8);
	outb(PIC1 + 1, 4);		// ICW3: slave on IRQ 2
	outb(PIC2 + 1, 2);
	outb(PIC1 + 1, 1);		// ICW4: 8086 mode
	outb(PIC2 + 1, 1);
	outb(PIC1 + 1, 0xfb);		// mask all but the cascade
	outb(PIC2 + 1, 0xff);
}

static void set_mask(unsigned irq, bool masked)
{
	u16 port = irq < 8 ? PIC1 + 1 : PIC2 + 1;
	u8 bit = 1u << (irq & 7);
	bool f = spin_lock_irqsave(&pic_lock);
	u8 m = inb(port);
	outb(port, masked ? (m | bit) : (m & ~bit));
	spin_unlock_irqrestore(&pic_lock, f);
}

void pic_unmask(unsigned irq) { set_mask(irq, false); }
void pic_mask(unsigned irq) { set_mask(irq, true); }

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2, PIC_EOI);
	outb(PIC1, PIC_EOI);
}

bool pic_spurious(unsigned irq)
{
	if (irq != 7 && irq != 15)
		return false;
	u16 port = irq == 7 ? PIC1 : PIC2;
	outb(port, OCW3_READ_ISR);
	if (inb(port) & 0x80)
		return false;
	if (irq == 15)
		outb(PIC1, PIC_EOI);	// the master did see the cascade
	return true;
}
