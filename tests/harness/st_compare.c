/* st_compare.c: bit-for-bit comparison of safetensors files (see st_compare.h). */
#include "tests/harness/st_compare.h"
#include <stdio.h>
#include <string.h>
#include "core/safetensors.h"   // defines: st_open, st_load

int test_tensors_differing(const char *a, const char *b, char *first, size_t n) {
    st_file *fa = st_open(a), *fb = st_open(b);
    int differ = fa && fb ? 0 : -1;
    snprintf(first, n, "%s", differ < 0 ? vaec_last_error() : "none");
    for (int i = 0; fa && fb && i < fa->n_entries; i++) {
        tensor *x = st_load(fa, fa->entries[i].name), *y = st_find(fb, fa->entries[i].name) ? st_load(fb, fa->entries[i].name) : NULL;
        if (!y || y->numel != x->numel || memcmp(x->data, y->data, (size_t)x->numel * 4) != 0) {
            if (!differ++) snprintf(first, n, "%s", fa->entries[i].name);
        }
        tensor_release(x);
        tensor_release(y);
    }
    st_close(fa);
    st_close(fb);
    return differ;
}
