// Console output on COM1, serialized by console_lockv.

#include "kernel/console.h"
#include "drivers/uart.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"

// Guards the COM1 transmitter so each kprintf call's output is contiguous.
static struct spinlock console_lockv = SPINLOCK_INIT("console");
// Set once by panic(); read without a lock (a stale false only means one
// more ordinary wait for the lock).
static volatile bool panic_mode;
// In panic mode console_lock may go on without the lock (its holder may be
// the CPU that crashed); this records that so console_unlock does not
// release a lock someone else holds. Only the panicking CPU writes it.
static bool lock_skipped;

void console_init(void)
{
	uart_init(&uart_com1);
}

bool console_lock(void)
{
	bool f;
	if (!panic_mode)
		return spin_lock_irqsave(&console_lockv);
	if (!spin_held_by_me(&console_lockv) && spin_trylock_irqsave(&console_lockv, 1000000, &f)) {
		lock_skipped = false;
		return f;
	}
	f = irq_save();
	lock_skipped = true;
	return f;
}

void console_unlock(bool irqs_were_on)
{
	if (panic_mode && lock_skipped) {
		irq_restore(irqs_were_on);
		return;
	}
	spin_unlock_irqrestore(&console_lockv, irqs_were_on);
}

void console_putc_locked(char c)
{
	if (c == '\n')
		uart_putc(&uart_com1, '\r');
	uart_putc(&uart_com1, c);
}

void console_write(const char *s, size_t n)
{
	bool f = console_lock();
	for (size_t i = 0; i < n; i++)
		console_putc_locked(s[i]);
	console_unlock(f);
}

void console_panic_mode(void)
{
	panic_mode = true;
}

int console_getc(void)
{
	return uart_getc(&uart_com1);
}
