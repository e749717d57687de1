#ifndef NYMBUS_BENCH_CSODIUM_SHIM_H
#define NYMBUS_BENCH_CSODIUM_SHIM_H
#include <sodium.h>
#endif
