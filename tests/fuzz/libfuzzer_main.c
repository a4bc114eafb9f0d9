/* libfuzzer_main.c: the libFuzzer entry point of one target, chosen at compile time with
 * -DFUZZ_TARGET_FN=fuzz_<name> (CMakeLists.txt, VAEC_FUZZ). Built only with clang -fsanitize=fuzzer. */
#include <stdlib.h>
#include "tests/fuzz/fuzz_targets.h"   // defines: fuzz_safetensors, ...

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    FUZZ_TARGET_FN(data, n);
    return 0;
}
