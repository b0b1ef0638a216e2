// 16550 UART driver: COM1 is the console, COM2 the machine-readable data
// stream. Transmit is polled; receive is interrupt-driven into a ring.
#pragma once

#include "kernel/spinlock.h"
#include "kernel/types.h"

#define UART_RX_RING 256	// power of two

struct uart {
	const char *name;
	u16 port;
	u8 irq;			// legacy ISA IRQ line
	bool present;		// scratch register answered at init
	// Guards the receive ring: the IRQ handler produces, readers consume.
	struct spinlock lock;
	u8 rx[UART_RX_RING];
	u32 rx_head, rx_tail;	// free-running; head - tail bytes buffered
	u64 rx_dropped;		// bytes lost to a full ring
};

extern struct uart uart_com1, uart_com2;

void uart_init(struct uart *u);
void uart_putc(struct uart *u, char c);
void uart_write(struct uart *u, const void *buf, size_t n);
int uart_getc(struct uart *u);	// -1 when nothing is buffered
// uart_enable_rx_irq routes the UART's IRQ and turns on its
// received-data interrupt. Needs the interrupt controller (pic.h).
void uart_enable_rx_irq(struct uart *u);
void uart_irq(struct uart *u);	// called from the trap handler
// Loopback mode (MCR bit 4): transmitted bytes come back as received ones
// and never leave the machine. Used by the driver's self-test.
void uart_set_loopback(struct uart *u, bool on);
