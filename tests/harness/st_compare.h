/* st_compare.h: bit-for-bit comparison of two safetensors files, for the tests that check a resumed or
 * interrupted run against the uninterrupted one.
 *
 *   test_tensors_differing(a, b, first, n)   -> how many tensors of file a differ from (or are missing in) file b,
 *                                               bit for bit; -1 when a file cannot be opened. `first` names the
 *                                               first that differs (or the error). */
#ifndef VAEC_TESTS_ST_COMPARE_H
#define VAEC_TESTS_ST_COMPARE_H
#include <stddef.h>

int test_tensors_differing(const char *a, const char *b, char *first, size_t n);

#endif
