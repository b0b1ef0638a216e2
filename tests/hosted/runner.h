// What a hosted test program (tests/hosted/runner.c) provides and gets.
#pragma once

#include "tests/hosted/kcompat/tests/kernel/ktest.h"

// hosted_program_init: sets up what the program's tests use (the heap,
// the collector); called on CPU 0 after hosted_init.
void hosted_program_init(void);
// hosted_program_quiesce: after each test, before the runner checks the
// heap's invariants: let background work (the collector) come to rest.
void hosted_program_quiesce(void);
// hosted_cmdline: the -cmdline argument ("" without one).
extern const char *hosted_cmdline;
