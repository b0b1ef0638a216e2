// 16550 UART: polled transmit, interrupt-driven receive into a ring.

#include "drivers/uart.h"
#include "drivers/ioapic.h"
#include "kernel/x86.h"

enum {
	RBR = 0, THR = 0, DLL = 0,	// with DLAB: divisor latch
	IER = 1, DLM = 1,
	FCR = 2, IIR = 2,
	LCR = 3, MCR = 4, LSR = 5, SCR = 7,
};
#define LSR_DR 0x01		// data ready
#define LSR_THRE 0x20		// transmit holding register empty
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT2 0x08		// gates the IRQ line on a PC
#define MCR_LOOP 0x10
#define IER_RDA 0x01		// received data available interrupt

struct uart uart_com1 = {.name = "COM1", .port = 0x3f8, .irq = 4, .lock = SPINLOCK_INIT("uart com1")};
struct uart uart_com2 = {.name = "COM2", .port = 0x2f8, .irq = 3, .lock = SPINLOCK_INIT("uart com2")};

void uart_init(struct uart *u)
{
	outb(u->port + SCR, 0x5a);
	u->present = inb(u->port + SCR) == 0x5a;
	if (!u->present)
		return;
	outb(u->port + IER, 0);
	outb(u->port + LCR, 0x80);		// DLAB
	outb(u->port + DLL, 1);			// 115200 baud
	outb(u->port + DLM, 0);
	outb(u->port + LCR, 0x03);		// 8N1
	outb(u->port + FCR, 0xc7);		// FIFOs on, cleared, 14-byte threshold
	outb(u->port + MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
}

void uart_putc(struct uart *u, char c)
{
	if (!u->present)
		return;
	for (int i = 0; i < 100000 && !(inb(u->port + LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(u->port + THR, (u8)c);
}

void uart_write(struct uart *u, const void *buf, size_t n)
{
	const char *p = buf;
	for (size_t i = 0; i < n; i++)
		uart_putc(u, p[i]);
}

int uart_getc(struct uart *u)
{
	int c = -1;
	bool f = spin_lock_irqsave(&u->lock);
	if (u->rx_head != u->rx_tail)
		c = u->rx[u->rx_tail++ % UART_RX_RING];
	spin_unlock_irqrestore(&u->lock, f);
	return c;
}

void uart_irq(struct uart *u)
{
	bool f = spin_lock_irqsave(&u->lock);
	while (inb(u->port + LSR) & LSR_DR) {
		u8 c = inb(u->port + RBR);
		if (u->rx_head - u->rx_tail < UART_RX_RING)
			u->rx[u->rx_head++ % UART_RX_RING] = c;
		else
			u->rx_dropped++;
	}
	spin_unlock_irqrestore(&u->lock, f);
}

void uart_enable_rx_irq(struct uart *u)
{
	if (!u->present)
		return;
	ioapic_unmask_isa(u->irq);
	outb(u->port + IER, IER_RDA);
}

void uart_set_loopback(struct uart *u, bool on)
{
	u8 m = inb(u->port + MCR);
	outb(u->port + MCR, on ? (m | MCR_LOOP) : (m & ~MCR_LOOP));
}
