// Shell-style name matching for test and benchmark selection: '*' matches
// any run of characters (including '/' and '.'), '?' exactly one; every
// other character matches itself. The whole name must match.
#pragma once

#include "kernel/types.h"

bool glob_match(const char *pattern, const char *name);
