#ifndef NYMBUS_CSODIUM_SHIM_H
#define NYMBUS_CSODIUM_SHIM_H
#include <sodium.h>
#endif
