#ifndef NYMBUS_CLIBFUZZER_H
#define NYMBUS_CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>
/* libFuzzer's entry point; linked only when building with -sanitize=fuzzer. No link line here. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif
