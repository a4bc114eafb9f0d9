/* h5video.c: the HDF5 clip layout of h5video.h, on the HDF5 C API.
 * HDF5 prints its own error stack by default; vaec turns that off and turns the innermost HDF5 message
 * into part of a vaec error that names the file and the clip. */
#include "data/h5video.h"
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/check.h"   // defines: vaec_set_error, xmalloc
#include "data/h5util.h"  // defines: h5_quiet, h5_detail, h5_check_storage, h5_read_str_attr

#define CHUNK_MAX_BYTES (64ll << 20)   /* one chunk per clip up to this: a clip window is one chunked read */

/* ================================ reading ================================ */

struct h5video {
    char *path;
    hid_t file, clips;
    int n;
    int64_t (*shape)[3];   /* T,H,W per clip; T = -1 until the clip is first looked at */
};

h5video *h5video_open(const char *path) {
    h5_quiet();
    struct stat st;
    if (stat(path, &st) != 0) {
        vaec_set_error("%s: cannot open dataset: %s", path, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        vaec_set_error("%s: not a regular file", path);
        return NULL;
    }
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0) {
        vaec_set_error("%s: not an HDF5 file (%s)", path, is == 0 ? "no HDF5 signature" : h5_detail());
        H5Eclear2(H5E_DEFAULT);
        return NULL;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);   /* closing the file closes whatever is still open in it */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (f < 0) vaec_set_error("%s: cannot open as HDF5, truncated or corrupt? (%s)", path, h5_detail());
    H5Pclose(fapl);   /* after the message: every HDF5 call clears the error stack */
    if (f < 0) return NULL;
    char fmt[64];
    if (h5_read_str_attr(f, "vaec_format", fmt, sizeof fmt) == 0 && strcmp(fmt, H5VIDEO_FORMAT) != 0) {
        vaec_set_error("%s: vaec_format is '%s', this build reads '%s'", path, fmt, H5VIDEO_FORMAT);
        H5Fclose(f);
        return NULL;
    }
    H5O_info_t oi;
    if (H5Lexists(f, "clips", H5P_DEFAULT) <= 0 || H5Oget_info_by_name(f, "clips", &oi, H5P_DEFAULT) < 0 ||
        oi.type != H5O_TYPE_GROUP) {
        H5Eclear2(H5E_DEFAULT);
        vaec_set_error("%s: no /clips group: not a vaec video dataset (make one with `vaec data make`)", path);
        H5Fclose(f);
        return NULL;
    }
    hid_t g = H5Gopen2(f, "clips", H5P_DEFAULT);
    H5G_info_t gi;
    if (g < 0 || H5Gget_info(g, &gi) < 0) {
        vaec_set_error("%s: cannot read the /clips group (%s)", path, h5_detail());
        if (g >= 0) H5Gclose(g);
        H5Fclose(f);
        return NULL;
    }
    if (gi.nlinks > 100000000) {
        vaec_set_error("%s: /clips has %llu entries, more than vaec handles", path, (unsigned long long)gi.nlinks);
        H5Gclose(g);
        H5Fclose(f);
        return NULL;
    }
    h5video *v = xcalloc(1, sizeof *v);
    v->path = strdup(path);
    v->file = f;
    v->clips = g;
    v->n = (int)gi.nlinks;
    v->shape = xmalloc(sizeof *v->shape * (size_t)(v->n ? v->n : 1));
    for (int i = 0; i < v->n; i++) v->shape[i][0] = -1;
    return v;
}

void h5video_close(h5video *v) {
    if (!v) return;
    H5Gclose(v->clips);
    H5Fclose(v->file);
    free(v->shape);
    free(v->path);
    free(v);
}

int h5video_num_clips(const h5video *v) { return v->n; }

/* opens /clips/<clip> and checks it is uint8 (T,H,W,3); the dataset id, or -1 + error */
static hid_t open_clip(const h5video *v, int clip, int64_t dims[4]) {
    if (clip < 0 || clip >= v->n) {
        vaec_set_error("%s: clip %d out of range (the file has %d clips)", v->path, clip, v->n);
        return -1;
    }
    char name[32];
    snprintf(name, sizeof name, "%06d", clip);
    if (H5Lexists(v->clips, name, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        vaec_set_error("%s: clip %d: no dataset /clips/%s (clips are numbered 000000.. without gaps)", v->path, clip, name);
        return -1;
    }
    hid_t d = H5Dopen2(v->clips, name, H5P_DEFAULT);
    if (d < 0) {
        vaec_set_error("%s: clip %d: /clips/%s is not a readable dataset (%s)", v->path, clip, name, h5_detail());
        return -1;
    }
    hid_t t = H5Dget_type(d), s = H5Dget_space(d);
    int ok = 0;
    if (t < 0 || s < 0) {
        vaec_set_error("%s: clip %d: cannot read the type or shape of /clips/%s (%s)", v->path, clip, name, h5_detail());
    } else if (H5Tget_class(t) != H5T_INTEGER || H5Tget_size(t) != 1 || H5Tget_sign(t) != H5T_SGN_NONE) {
        vaec_set_error("%s: clip %d: /clips/%s is not uint8 (class %d, %zu bytes): clips hold 8-bit RGB", v->path, clip,
                       name, (int)H5Tget_class(t), H5Tget_size(t));
    } else {
        int rank = H5Sget_simple_extent_ndims(s);
        hsize_t hd[4] = {0};
        if (rank != 4) {
            vaec_set_error("%s: clip %d: /clips/%s has rank %d, expected 4 (T,H,W,3)", v->path, clip, name, rank);
        } else if (H5Sget_simple_extent_dims(s, hd, NULL) < 0 || hd[3] != 3 || hd[0] < 1 || hd[1] < 1 || hd[2] < 1) {
            vaec_set_error("%s: clip %d: /clips/%s has shape (%llu,%llu,%llu,%llu), expected (T,H,W,3) with T,H,W >= 1",
                           v->path, clip, name, (unsigned long long)hd[0], (unsigned long long)hd[1],
                           (unsigned long long)hd[2], (unsigned long long)hd[3]);
        } else if (hd[0] > (1u << 31) || hd[1] > (1u << 31) || hd[2] > (1u << 31) ||
                   hd[0] * hd[1] > (1ull << 40) || hd[0] * hd[1] * hd[2] > (1ull << 60) / 3) {
            vaec_set_error("%s: clip %d: /clips/%s has shape (%llu,%llu,%llu,3), larger than any video: corrupt file?",
                           v->path, clip, name, (unsigned long long)hd[0], (unsigned long long)hd[1],
                           (unsigned long long)hd[2]);
        } else {
            char what[64];
            snprintf(what, sizeof what, "clip %d: /clips/%s", clip, name);
            if (h5_check_storage(v->path, what, d, 4, hd, 1) == 0) {
                for (int k = 0; k < 4; k++) dims[k] = (int64_t)hd[k];
                ok = 1;
            }
        }
    }
    if (t >= 0) H5Tclose(t);
    if (s >= 0) H5Sclose(s);
    if (!ok) {
        H5Dclose(d);
        H5Eclear2(H5E_DEFAULT);
        return -1;
    }
    return d;
}

int h5video_clip_shape(const h5video *v, int clip, int64_t *T, int64_t *H, int64_t *W) {
    if (clip >= 0 && clip < v->n && v->shape[clip][0] < 0) {
        int64_t dims[4];
        hid_t d = open_clip(v, clip, dims);
        if (d < 0) return -1;
        H5Dclose(d);
        memcpy(v->shape[clip], dims, sizeof v->shape[clip]);   /* a cache: the handle is logically const */
    } else if (clip < 0 || clip >= v->n) {
        vaec_set_error("%s: clip %d out of range (the file has %d clips)", v->path, clip, v->n);
        return -1;
    }
    if (T) *T = v->shape[clip][0];
    if (H) *H = v->shape[clip][1];
    if (W) *W = v->shape[clip][2];
    return 0;
}

double h5video_clip_fps(const h5video *v, int clip) {
    int64_t dims[4];
    hid_t d = open_clip(v, clip, dims);
    if (d < 0) return 0;
    double fps = 0;
    if (H5Aexists(d, "fps") > 0) {
        hid_t a = H5Aopen(d, "fps", H5P_DEFAULT);
        if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, &fps) < 0) fps = 0;
        if (a >= 0) H5Aclose(a);
    }
    H5Eclear2(H5E_DEFAULT);
    H5Dclose(d);
    return fps > 0 ? fps : 0;
}

int h5video_read(const h5video *v, int clip, int64_t t0, int64_t n, uint8_t *out) {
    int64_t dims[4];
    hid_t d = open_clip(v, clip, dims);
    if (d < 0) return -1;
    if (t0 < 0 || n < 0 || t0 + n > dims[0]) {
        vaec_set_error("%s: clip %d: frames [%lld, %lld) out of range (the clip has %lld frames)", v->path, clip,
                       (long long)t0, (long long)(t0 + n), (long long)dims[0]);
        H5Dclose(d);
        return -1;
    }
    if (n == 0) {
        H5Dclose(d);
        return 0;
    }
    hsize_t start[4] = {(hsize_t)t0, 0, 0, 0}, count[4] = {(hsize_t)n, (hsize_t)dims[1], (hsize_t)dims[2], 3};
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(4, count, NULL);
    herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    if (rc >= 0) rc = H5Dread(d, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, out);
    if (rc < 0)
        vaec_set_error("%s: clip %d: reading frames [%lld, %lld) of /clips/%06d failed, corrupt file? (%s)", v->path,
                       clip, (long long)t0, (long long)(t0 + n), clip, h5_detail());
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    return rc < 0 ? -1 : 0;
}

/* ================================ writing ================================ */

struct h5video_writer {
    char *path, *tmp;
    hid_t file, clips;
    bool compress;
    int64_t n_clips, n_frames;
};

h5video_writer *h5video_create(const char *path, bool compress) {
    h5_quiet();
    size_t len = strlen(path) + 32;
    char *tmp = xmalloc(len);
    snprintf(tmp, len, "%s.tmp.%d", path, (int)getpid());
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (f < 0) vaec_set_error("%s: cannot create %s (is the folder there and writable?) (%s)", path, tmp, h5_detail());
    H5Pclose(fapl);
    if (f < 0) {
        free(tmp);
        return NULL;
    }
    hid_t g = H5Gcreate2(f, "clips", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        vaec_set_error("%s: cannot create the /clips group (%s)", path, h5_detail());
        H5Fclose(f);
        unlink(tmp);
        free(tmp);
        return NULL;
    }
    h5video_writer *w = xcalloc(1, sizeof *w);
    w->path = strdup(path);
    w->tmp = tmp;
    w->file = f;
    w->clips = g;
    w->compress = compress;
    return w;
}

const char *h5video_tmp_path(const h5video_writer *w) { return w->tmp; }

int h5video_append(h5video_writer *w, const uint8_t *frames, int64_t T, int64_t H, int64_t W, const char *source,
                   double fps) {
    if (T < 1 || H < 1 || W < 1 || !frames) {
        vaec_set_error("%s: clip %lld: bad clip shape (%lld,%lld,%lld,3) or no frames", w->path, (long long)w->n_clips,
                       (long long)T, (long long)H, (long long)W);
        return -1;
    }
    char name[32];
    snprintf(name, sizeof name, "%06lld", (long long)w->n_clips);
    hsize_t dims[4] = {(hsize_t)T, (hsize_t)H, (hsize_t)W, 3};
    int64_t frame = H * W * 3, ct = CHUNK_MAX_BYTES / frame;   /* whole clip in one chunk when it fits */
    hsize_t chunk[4] = {(hsize_t)(ct < 1 ? 1 : ct > T ? T : ct), (hsize_t)H, (hsize_t)W, 3};
    hid_t s = H5Screate_simple(4, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 4, chunk);
    if (w->compress) H5Pset_deflate(dcpl, 1);
    hid_t d = H5Dcreate2(w->clips, name, H5T_STD_U8LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int rc = d >= 0 ? 0 : -1;
    if (rc == 0) rc = H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, frames) < 0 ? -1 : 0;
    if (rc == 0) rc = h5_write_str_attr(d, "source", source ? source : "");
    if (rc == 0) rc = h5_write_attr(d, "fps", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &fps);
    if (rc < 0)
        vaec_set_error("%s: clip %lld (%s): writing /clips/%s failed, disk full? (%s)", w->path, (long long)w->n_clips,
                       source ? source : "", name, h5_detail());
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(s);
    if (rc < 0) return -1;
    w->n_clips++;
    w->n_frames += T;
    return 0;
}

static void writer_free(h5video_writer *w) {
    free(w->path);
    free(w->tmp);
    free(w);
}

int h5video_finish(h5video_writer *w) {
    int rc = h5_write_str_attr(w->file, "vaec_format", H5VIDEO_FORMAT);
    if (rc == 0) rc = h5_write_attr(w->file, "num_clips", H5T_STD_I64LE, H5T_NATIVE_INT64, &w->n_clips);
    if (rc == 0) rc = h5_write_attr(w->file, "num_frames", H5T_STD_I64LE, H5T_NATIVE_INT64, &w->n_frames);
    if (rc < 0) vaec_set_error("%s: writing the root attributes failed (%s)", w->path, h5_detail());
    H5Gclose(w->clips);
    if (H5Fclose(w->file) < 0 && rc == 0) {
        vaec_set_error("%s: closing %s failed, disk full? (%s)", w->path, w->tmp, h5_detail());
        rc = -1;
    }
    if (rc == 0 && rename(w->tmp, w->path) != 0) {
        vaec_set_error("%s: cannot rename %s over it: %s", w->path, w->tmp, strerror(errno));
        rc = -1;
    }
    if (rc < 0) unlink(w->tmp);
    writer_free(w);
    return rc;
}

void h5video_abort(h5video_writer *w) {
    if (!w) return;
    H5Gclose(w->clips);
    H5Fclose(w->file);
    H5Eclear2(H5E_DEFAULT);
    unlink(w->tmp);
    writer_free(w);
}
