/* video_io.c: layout conversion and safetensors video files (see video_io.h). */
#include "train/video_io.h"
#include <string.h>
#include "core/ops/shape.h"      // defines: permute_cpu
#include "core/safetensors.h"    // defines: st_open, st_writer

static tensor *permuted(const tensor *t, bool to_last) {
    int nd = t->ndim, perm[TENSOR_MAX_DIMS];
    perm[0] = 0;
    if (to_last) { for (int d = 1; d < nd - 1; d++) perm[d] = d + 1; perm[nd - 1] = 1; }
    else { perm[1] = nd - 1; for (int d = 2; d < nd; d++) perm[d] = d - 1; }
    int64_t shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < nd; d++) shape[d] = t->shape[perm[d]];
    tensor *out = tensor_empty(nd, shape);
    permute_cpu(tensor_f32(t), t->shape, nd, perm, tensor_f32(out));
    return out;
}

tensor *channels_last_from_torch(const tensor *t) { return permuted(t, true); }
tensor *channels_first_to_torch(const tensor *t) { return permuted(t, false); }

tensor *video_load(const char *path, const char *name) {
    st_file *f = st_open(path);
    if (!f) return NULL;
    tensor *t = st_load(f, name);
    if (!t) {
        vaec_set_error("'%s' has no tensor named '%s' (expected %s as (B,C,T,H,W) float32)", path, name, name);
        st_close(f);
        return NULL;
    }
    st_close(f);
    if (t->ndim != 5) {
        char s[96];
        tensor_shape_str(t, s, sizeof s);
        vaec_set_error("'%s': tensor '%s' has shape %s, expected 5 dims (B,C,T,H,W)", path, name, s);
        tensor_release(t);
        return NULL;
    }
    tensor *cl = channels_last_from_torch(t);
    tensor_release(t);
    return cl;
}

int video_save(const char *path, const char *name, const tensor *t) {
    tensor *cf = channels_first_to_torch(t);
    st_writer *w = st_writer_new();
    st_writer_add(w, name, cf, DTYPE_F32);
    int rc = st_writer_save(w, path);
    st_writer_free(w);
    tensor_release(cf);
    return rc;
}
