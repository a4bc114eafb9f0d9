/* fuzz_safetensors.c: the safetensors reader (header JSON, offsets, dtypes, shapes, checksums) on arbitrary bytes. */
#include <string.h>
#include "core/check.h"                // defines: vaec_last_error
#include "core/safetensors.h"          // defines: st_open, st_read, st_verify, st_writer
#include "tests/fuzz/fuzz_targets.h"   // defines: fuzz_write_file, fuzz_rejected

int fuzz_safetensors(const uint8_t *data, size_t n) {
    const char *path = fuzz_tmp_path("st.safetensors");
    if (fuzz_write_file(path, data, n) != 0) return fuzz_rejected(path);
    st_file *f = st_open(path);
    if (!f) return fuzz_rejected(path);
    /* every tensor the header declares loads, whatever its dtype, or fails its checksum naming the file */
    int rejected = st_verify(f) != 0;
    if (rejected) fuzz_rejected(path);
    for (int i = 0; i < f->n_entries; i++) {
        tensor *t;
        if (st_read(f, f->entries[i].name, &t) != 0) {
            rejected = 1;
            fuzz_rejected(path);
            continue;
        }
        if (t && t->numel > 0) {
            volatile float sink = tensor_f32(t)[t->numel - 1];   /* the last element is inside the buffer */
            (void)sink;
        }
        tensor_release(t);
    }
    for (int i = 0; i < f->n_meta; i++) (void)st_meta(f, f->meta_keys[i]);
    st_close(f);
    return rejected ? FUZZ_REJECTED : FUZZ_LOADED;
}

/* seeds: what vaec writes (F32 with metadata), plus the half-precision, integer and empty shapes it reads */
int fuzz_seeds_safetensors(const char *dir) {
    struct { const char *file; dtype_t dtype; int meta; } kinds[] = {
        {"f32_meta.safetensors", DTYPE_F32, 1}, {"bf16.safetensors", DTYPE_BF16, 0}, {"f16.safetensors", DTYPE_F16, 0}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        st_writer *w = st_writer_new();
        tensor *a = tensor_full(SHAPE(2, 3), 1.5f), *b = tensor_full(SHAPE(4), -2.0f), *s = tensor_full(SHAPE(0), 0);
        st_writer_add(w, "encoder.conv_in.weight", a, kinds[k].dtype);
        st_writer_add(w, "encoder.conv_in.bias", b, kinds[k].dtype);
        st_writer_add(w, "empty", s, kinds[k].dtype);
        if (kinds[k].meta) { st_writer_meta(w, "step", "100"); st_writer_meta(w, "format", "pt"); }
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, kinds[k].file);
        int rc = st_writer_save(w, path);
        st_writer_free(w);
        tensor_release(a), tensor_release(b), tensor_release(s);
        if (rc != 0) return -1;
    }
    return 0;
}
