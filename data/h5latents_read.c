/* h5latents_read.c: reading the video-latents-v1 layout of h5latents.h back (`vaec decode --input X.h5`). */
#include <hdf5.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/check.h"        // defines: vaec_set_error, xcalloc
#include "data/h5latents.h"
#include "data/h5util.h"       // defines: h5_quiet, h5_detail, h5_check_storage, h5_read_str_attr, h5_read_attr

struct h5latents_reader {
    char *path;
    hid_t file, group;
    const char *group_name;   /* "latents" or "mean" */
    int n;
    char source[512];         /* the last clip_info's source attribute */
};

void h5latents_close(h5latents_reader *r) {
    if (!r) return;
    if (r->group > 0) H5Gclose(r->group);
    if (r->file > 0) H5Fclose(r->file);
    H5Eclear2(H5E_DEFAULT);
    free(r->path);
    free(r);
}

h5latents_reader *h5latents_open(const char *path) {
    h5_quiet();
    h5latents_reader *r = xcalloc(1, sizeof *r);
    r->path = strdup(path);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    r->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    char fmt[64] = "";
    /* vaec_format is a variable-length string, left unread (h5util.h): it must be there, and a fixed-length
       one must say video-latents-v1; the groups then tell latents from a video dataset (/clips) */
    bool has_format = r->file >= 0 && H5Aexists(r->file, "vaec_format") > 0;
    bool fixed_other = has_format && h5_read_str_attr(r->file, "vaec_format", fmt, sizeof fmt) == 0 &&
                       strcmp(fmt, H5LATENTS_FORMAT) != 0;
    bool has_group = r->file >= 0 && (H5Lexists(r->file, "latents", H5P_DEFAULT) > 0 || H5Lexists(r->file, "mean", H5P_DEFAULT) > 0);
    H5Eclear2(H5E_DEFAULT);
    if (r->file < 0) {
        vaec_set_error("'%s': cannot open as HDF5, truncated or corrupt? (%s)", path, h5_detail());
    } else if (!has_format || fixed_other || !has_group) {
        vaec_set_error("'%s' holds no latents: not a %s file (%s; latents come from `vaec data encode` or `vaec encode "
                       "--output X.h5`)", path, H5LATENTS_FORMAT, !has_format ? "no vaec_format attribute"
                       : fixed_other ? "another vaec_format" : "no /latents or /mean group");
    } else {
        r->group_name = H5Lexists(r->file, "latents", H5P_DEFAULT) > 0 ? "latents" : "mean";
        r->group = H5Gopen2(r->file, r->group_name, H5P_DEFAULT);
        int64_t n = -1;
        H5G_info_t gi;
        if (r->group < 0 || H5Gget_info(r->group, &gi) < 0) {
            vaec_set_error("'%s': /%s cannot be opened (%s)", path, r->group_name, h5_detail());
        } else if (h5_read_attr(r->file, "num_clips", H5T_NATIVE_INT64, &n) != 0 || n < 0 || n > (int64_t)gi.nlinks) {
            vaec_set_error("'%s': the num_clips attribute (%lld) does not match /%s's %llu datasets", path, (long long)n,
                           r->group_name, (unsigned long long)gi.nlinks);
        } else {
            r->n = (int)n;
            return r;
        }
    }
    h5latents_close(r);
    return NULL;
}

int h5latents_num_clips(const h5latents_reader *r) { return r->n; }
const char *h5latents_group(const h5latents_reader *r) { return r->group_name; }

static hid_t open_clip(h5latents_reader *r, int i, int64_t shape[4]) {
    char name[32];
    snprintf(name, sizeof name, "%06d", i);
    hid_t d = H5Dopen2(r->group, name, H5P_DEFAULT);
    if (d < 0) {
        vaec_set_error("'%s': clip %d: no dataset /%s/%s (%s)", r->path, i, r->group_name, name, h5_detail());
        return -1;
    }
    hid_t s = H5Dget_space(d), t = H5Dget_type(d);
    hsize_t dims[4] = {0};
    bool ok = H5Sget_simple_extent_ndims(s) == 4 && H5Tget_class(t) == H5T_FLOAT;
    size_t elem = ok ? H5Tget_size(t) : 0;
    if (ok) H5Sget_simple_extent_dims(s, dims, NULL);
    H5Sclose(s);
    H5Tclose(t);
    for (int k = 0; k < 4; k++) shape[k] = (int64_t)dims[k];
    ok = ok && dims[0] > 0 && dims[1] > 0 && dims[2] > 0 && dims[3] > 0 && dims[0] < (1u << 20) && dims[1] < (1u << 31) &&
         dims[2] < (1u << 20) && dims[3] < (1u << 20) && dims[0] * dims[1] * dims[2] * dims[3] < ((hsize_t)1 << 40);
    if (!ok) {
        H5Dclose(d);
        vaec_set_error("'%s': /%s/%s is not a non-empty 4-D float dataset (C,T,h,w) of a size latents have", r->path,
                       r->group_name, name);
        return -1;
    }
    char what[64];
    snprintf(what, sizeof what, "/%s/%s", r->group_name, name);
    if (h5_check_storage(r->path, what, d, 4, dims, elem) != 0) {
        H5Dclose(d);
        return -1;
    }
    return d;
}

int h5latents_clip_info(h5latents_reader *r, int i, int64_t shape[4], h5latents_clip *clip) {
    memset(clip, 0, sizeof *clip);
    hid_t d = open_clip(r, i, shape);
    if (d < 0) return -1;
    r->source[0] = 0;
    h5_read_str_attr(d, "source", r->source, sizeof r->source);
    clip->source = r->source;
    if (h5_read_attr(d, "num_frames", H5T_NATIVE_INT64, &clip->num_frames) != 0) clip->num_frames = 0;
    if (h5_read_attr(d, "fps", H5T_NATIVE_DOUBLE, &clip->fps) != 0) clip->fps = 0;
    if (h5_read_attr(d, "height", H5T_NATIVE_INT64, &clip->height) != 0 ||
        h5_read_attr(d, "width", H5T_NATIVE_INT64, &clip->width) != 0)
        clip->height = clip->width = 0;
    H5Dclose(d);
    return 0;
}

int h5latents_read(h5latents_reader *r, int i, float *out) {
    int64_t shape[4];
    hid_t d = open_clip(r, i, shape);
    if (d < 0) return -1;
    int rc = H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0 ? -1 : 0;
    if (rc < 0) vaec_set_error("'%s': clip %d: reading /%s/%06d failed, truncated? (%s)", r->path, i, r->group_name, i,
                               h5_detail());
    H5Dclose(d);
    return rc;
}
