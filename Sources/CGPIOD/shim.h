#ifndef FIELDPROOF_CGPIOD_SHIM_H
#define FIELDPROOF_CGPIOD_SHIM_H
// libgpiod v1 (Debian 12 and Raspberry Pi OS bookworm ship 1.6.x).
#include <gpiod.h>
#endif
