// The 16550 driver: interrupt-driven receive, exercised through the UART's
// loopback mode on COM2 (bytes sent come back as received ones and never
// leave the machine), so no input from the host is needed.

#include "drivers/uart.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "tests/kernel/ktest.h"

KTEST(uart, ports_present)
{
	KT_EXPECT(t, uart_com1.present, "COM1 did not answer");
	KT_EXPECT(t, uart_com2.present, "COM2 did not answer");
}

KTEST(uart, receive_interrupt_loopback)
{
	struct uart *u = &uart_com2;
	static const char msg[] = "tricolor rx 0123456789";
	char got[sizeof(msg)] = {0};
	size_t n = 0;

	KT_ASSERT(t, u->present, "COM2 did not answer");
	while (uart_getc(u) >= 0)
		;	// drain anything buffered
	u64 dropped = u->rx_dropped;
	uart_enable_rx_irq(u);
	uart_set_loopback(u, true);
	// Only uart_irq() fills the ring, so every byte that arrives here came
	// through the receive interrupt.
	u64 deadline = nanotime() + 2000000000ull;
	for (size_t i = 0; i + 1 < sizeof(msg); i++) {
		uart_putc(u, msg[i]);
		while (n <= i && nanotime() < deadline) {
			int c = uart_getc(u);
			if (c >= 0)
				got[n++] = (char)c;
			else
				cpu_relax();
		}
	}
	uart_set_loopback(u, false);
	KT_EXPECT_EQ(t, n, sizeof(msg) - 1);
	KT_EXPECT_STREQ(t, got, msg);
	KT_EXPECT_EQ(t, u->rx_dropped, dropped);
}
