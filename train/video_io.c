/* video_io.c: layout conversion and safetensors video files (see video_io.h). */
#include "train/video_io.h"
#include <string.h>
#include "core/ops/shape.h"      // defines: permute_channels_last
#include "core/safetensors.h"    // defines: st_open, st_writer

tensor *channels_last_from_torch(const tensor *t) { return permute_channels_last(t); }
tensor *channels_first_to_torch(const tensor *t) { return permute_channels_first(t); }

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
