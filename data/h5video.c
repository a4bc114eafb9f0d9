/* h5video.c: HDF5 video dataset reader and atomic writer (see h5video.h). */
#include "data/h5video.h"
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/check.h"   // defines: vaec_set_error, xmalloc

struct h5video {
    char *path;
    hid_t file, clips;
    int n;
};

static void quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }   /* vaec reports errors itself */

static void clip_name(int i, char *buf, size_t n) { snprintf(buf, n, "%06d", i); }

h5video *h5video_open(const char *path) {
    quiet();
    if (access(path, R_OK) != 0) { vaec_set_error("cannot open dataset '%s': no such readable file", path); return NULL; }
    if (H5Fis_hdf5(path) <= 0) { vaec_set_error("'%s' is not an HDF5 file (or it is truncated)", path); return NULL; }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) { vaec_set_error("'%s': HDF5 cannot open it (corrupt or truncated?)", path); return NULL; }
    hid_t g = H5Gopen2(f, "/clips", H5P_DEFAULT);
    if (g < 0) {
        H5Fclose(f);
        vaec_set_error("'%s' has no /clips group: not a vaec video dataset (make one with `vaec data make`)", path);
        return NULL;
    }
    H5G_info_t info;
    if (H5Gget_info(g, &info) < 0) { H5Gclose(g); H5Fclose(f); vaec_set_error("'%s': cannot list /clips", path); return NULL; }
    h5video *v = xcalloc(1, sizeof *v);
    v->path = strdup(path);
    v->file = f;
    v->clips = g;
    v->n = (int)info.nlinks;
    return v;
}

void h5video_close(h5video *v) {
    if (!v) return;
    H5Gclose(v->clips);
    H5Fclose(v->file);
    free(v->path);
    free(v);
}

int h5video_num_clips(const h5video *v) { return v->n; }

/* opens clip i and checks it is uint8 (T,H,W,3) */
static hid_t open_clip(const h5video *v, int clip, hsize_t dims[4]) {
    char name[16];
    if (clip < 0 || clip >= v->n) { vaec_set_error("'%s': clip %d out of range (%d clips)", v->path, clip, v->n); return -1; }
    clip_name(clip, name, sizeof name);
    hid_t d = H5Dopen2(v->clips, name, H5P_DEFAULT);
    if (d < 0) { vaec_set_error("'%s': clip %d (/clips/%s) is missing or unreadable", v->path, clip, name); return -1; }
    hid_t sp = H5Dget_space(d), ty = H5Dget_type(d);
    int rank = H5Sget_simple_extent_ndims(sp);
    bool ok = rank == 4 && H5Tget_class(ty) == H5T_INTEGER && H5Tget_size(ty) == 1 && H5Tget_sign(ty) == H5T_SGN_NONE;
    if (ok) H5Sget_simple_extent_dims(sp, dims, NULL);
    ok = ok && dims[3] == 3 && dims[0] > 0;
    H5Tclose(ty);
    H5Sclose(sp);
    if (!ok) {
        H5Dclose(d);
        vaec_set_error("'%s': clip %d (/clips/%s) is not uint8 (T,H,W,3) frames", v->path, clip, name);
        return -1;
    }
    return d;
}

int h5video_clip_shape(const h5video *v, int clip, int64_t *T, int64_t *H, int64_t *W) {
    hsize_t dims[4];
    hid_t d = open_clip(v, clip, dims);
    if (d < 0) return -1;
    H5Dclose(d);
    *T = (int64_t)dims[0], *H = (int64_t)dims[1], *W = (int64_t)dims[2];
    return 0;
}

int h5video_read(const h5video *v, int clip, int64_t t0, int64_t n, uint8_t *out) {
    hsize_t dims[4];
    hid_t d = open_clip(v, clip, dims);
    if (d < 0) return -1;
    if (t0 < 0 || n <= 0 || (hsize_t)(t0 + n) > dims[0]) {
        H5Dclose(d);
        return vaec_set_error("'%s': clip %d has %llu frames, frames [%lld, %lld) requested", v->path, clip,
                              (unsigned long long)dims[0], (long long)t0, (long long)(t0 + n));
    }
    hid_t fs = H5Dget_space(d);
    hsize_t start[4] = {(hsize_t)t0, 0, 0, 0}, count[4] = {(hsize_t)n, dims[1], dims[2], 3};
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t ms = H5Screate_simple(4, count, NULL);
    herr_t rc = H5Dread(d, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, out);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    if (rc < 0) return vaec_set_error("'%s': reading clip %d failed (the file is corrupt or truncated)", v->path, clip);
    return 0;
}

struct h5video_writer {
    char *path, *tmp;
    hid_t file, clips;
    bool compress;
    int n;
    int64_t frames;
};

h5video_writer *h5video_create(const char *path, bool compress) {
    quiet();
    h5video_writer *w = xcalloc(1, sizeof *w);
    w->path = strdup(path);
    size_t n = strlen(path) + 32;
    w->tmp = xmalloc(n);
    snprintf(w->tmp, n, "%s.tmp.%d", path, (int)getpid());
    w->compress = compress;
    w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (w->file < 0) {
        vaec_set_error("cannot create '%s' (is the folder writable?)", w->tmp);
        free(w->tmp), free(w->path), free(w);
        return NULL;
    }
    w->clips = H5Gcreate2(w->file, "/clips", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    return w;
}

static void put_attr_string(hid_t obj, const char *name, const char *value) {
    hid_t ty = H5Tcopy(H5T_C_S1);
    H5Tset_size(ty, strlen(value) + 1);
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(obj, name, ty, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, ty, value);
    H5Aclose(a), H5Sclose(sp), H5Tclose(ty);
}

static void put_attr_num(hid_t obj, const char *name, hid_t type, const void *value) {
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, type, value);
    H5Aclose(a), H5Sclose(sp);
}

int h5video_append(h5video_writer *w, const uint8_t *frames, int64_t T, int64_t H, int64_t W, const char *source, double fps) {
    char name[16];
    clip_name(w->n, name, sizeof name);
    hsize_t dims[4] = {(hsize_t)T, (hsize_t)H, (hsize_t)W, 3}, chunk[4] = {(hsize_t)T, (hsize_t)H, (hsize_t)W, 3};
    while (chunk[0] > 1 && chunk[0] * chunk[1] * chunk[2] * 3 > (64u << 20)) chunk[0] = (chunk[0] + 1) / 2;   /* <= 64 MiB */
    hid_t sp = H5Screate_simple(4, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 4, chunk);
    if (w->compress) H5Pset_deflate(dcpl, 1);
    hid_t d = H5Dcreate2(w->clips, name, H5T_STD_U8LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t rc = d < 0 ? -1 : H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, frames);
    if (d >= 0) {
        put_attr_string(d, "source", source ? source : "");
        put_attr_num(d, "fps", H5T_NATIVE_DOUBLE, &fps);
        H5Dclose(d);
    }
    H5Pclose(dcpl);
    H5Sclose(sp);
    if (rc < 0) return vaec_set_error("writing clip %d of '%s' failed (disk full?)", w->n, w->tmp);
    w->n++;
    w->frames += T;
    return 0;
}

int h5video_finish(h5video_writer *w) {
    int64_t n = w->n;
    put_attr_string(w->file, "vaec_format", "video-clips-v1");
    put_attr_num(w->file, "num_clips", H5T_NATIVE_INT64, &n);
    put_attr_num(w->file, "num_frames", H5T_NATIVE_INT64, &w->frames);
    H5Gclose(w->clips);
    herr_t rc = H5Fclose(w->file);
    int ret = 0;
    if (rc < 0 || rename(w->tmp, w->path) != 0) {
        unlink(w->tmp);
        ret = vaec_set_error("finishing '%s' failed (disk full?): nothing was replaced", w->path);
    }
    free(w->tmp), free(w->path), free(w);
    return ret;
}

void h5video_abort(h5video_writer *w) {
    if (!w) return;
    H5Gclose(w->clips);
    H5Fclose(w->file);
    unlink(w->tmp);
    free(w->tmp), free(w->path), free(w);
}
