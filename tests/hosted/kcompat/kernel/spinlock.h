// Hosted stand-in for the kernel header of this name: see ../kcompat.h.
#pragma once
#include "tests/hosted/kcompat/kcompat.h"
