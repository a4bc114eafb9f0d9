/* h5latents.c: the latents layout of h5latents.h on the HDF5 C API. */
#include "data/h5latents.h"
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/check.h"    // defines: vaec_set_error, xmalloc
#include "data/h5util.h"   // defines: h5_quiet, h5_detail, h5_write_attr, h5_write_str_attr

struct h5latents_writer {
    char *path, *tmp;
    hid_t file, groups[2];   /* latents (or mean), logvar */
    bool moments;
    int64_t n_clips;
};

/* group creation without modification times (the default stores them: the bytes would differ run to run) */
static hid_t make_group(hid_t f, const char *name) {
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(gcpl, 0);
    hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return g;
}

static void writer_free(h5latents_writer *w) {
    free(w->path);
    free(w->tmp);
    free(w);
}

void h5latents_abort(h5latents_writer *w) {
    if (!w) return;
    for (int i = 0; i < 2; i++) if (w->groups[i] > 0) H5Gclose(w->groups[i]);
    if (w->file > 0) H5Fclose(w->file);
    H5Eclear2(H5E_DEFAULT);
    unlink(w->tmp);
    writer_free(w);
}

h5latents_writer *h5latents_create(const char *path, bool moments) {
    h5_quiet();
    h5latents_writer *w = xcalloc(1, sizeof *w);
    w->path = strdup(path);
    w->tmp = xmalloc(strlen(path) + 32);
    sprintf(w->tmp, "%s.tmp.%d", path, (int)getpid());
    w->moments = moments;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (w->file < 0) {
        vaec_set_error("%s: cannot create %s (is the folder there and writable?) (%s)", path, w->tmp, h5_detail());
        writer_free(w);
        return NULL;
    }
    w->groups[0] = make_group(w->file, moments ? "mean" : "latents");
    w->groups[1] = moments ? make_group(w->file, "logvar") : 0;
    if (w->groups[0] < 0 || w->groups[1] < 0) {
        vaec_set_error("%s: cannot create the groups (%s)", path, h5_detail());
        h5latents_abort(w);
        return NULL;
    }
    return w;
}

static int write_clip(hid_t g, const char *name, const float *data, const int64_t shape[4], const h5latents_clip *c) {
    hsize_t dims[4] = {(hsize_t)shape[0], (hsize_t)shape[1], (hsize_t)shape[2], (hsize_t)shape[3]};
    hid_t s = H5Screate_simple(4, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t d = H5Dcreate2(g, name, H5T_IEEE_F32LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int rc = d >= 0 ? 0 : -1;
    if (rc == 0) rc = H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 ? -1 : 0;
    if (rc == 0) rc = h5_write_str_attr(d, "source", c->source ? c->source : "");
    if (rc == 0) rc = h5_write_attr(d, "num_frames", H5T_STD_I64LE, H5T_NATIVE_INT64, &c->num_frames);
    if (rc == 0) rc = h5_write_attr(d, "fps", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &c->fps);
    if (rc == 0 && c->height > 0 && c->width > 0) {
        rc = h5_write_attr(d, "height", H5T_STD_I64LE, H5T_NATIVE_INT64, &c->height);
        if (rc == 0) rc = h5_write_attr(d, "width", H5T_STD_I64LE, H5T_NATIVE_INT64, &c->width);
    }
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(s);
    return rc;
}

int h5latents_append(h5latents_writer *w, const float *z, const float *logvar, const int64_t shape[4],
                     const h5latents_clip *clip) {
    char name[32];
    snprintf(name, sizeof name, "%06lld", (long long)w->n_clips);
    int rc = write_clip(w->groups[0], name, z, shape, clip);
    if (rc == 0 && w->moments) rc = write_clip(w->groups[1], name, logvar, shape, clip);
    if (rc < 0)
        return vaec_set_error("%s: clip %lld (%s): writing its latents failed, disk full? (%s)", w->path,
                              (long long)w->n_clips, clip->source ? clip->source : "", h5_detail());
    w->n_clips++;
    return 0;
}

int h5latents_finish(h5latents_writer *w, const char *const *keys, const char *const *values, int n) {
    int rc = h5_write_str_attr(w->file, "vaec_format", H5LATENTS_FORMAT);
    if (rc == 0) rc = h5_write_attr(w->file, "num_clips", H5T_STD_I64LE, H5T_NATIVE_INT64, &w->n_clips);
    for (int i = 0; i < n && rc == 0; i++) rc = h5_write_str_attr(w->file, keys[i], values[i]);
    if (rc < 0) vaec_set_error("%s: writing the root attributes failed (%s)", w->path, h5_detail());
    for (int i = 0; i < 2; i++) if (w->groups[i] > 0) H5Gclose(w->groups[i]);
    w->groups[0] = w->groups[1] = 0;
    if (H5Fclose(w->file) < 0 && rc == 0) rc = vaec_set_error("%s: closing %s failed, disk full? (%s)", w->path, w->tmp,
                                                              h5_detail());
    w->file = 0;
    if (rc == 0 && rename(w->tmp, w->path) != 0)
        rc = vaec_set_error("%s: cannot rename %s over it: %s", w->path, w->tmp, strerror(errno));
    if (rc < 0) unlink(w->tmp);
    writer_free(w);
    return rc;
}
