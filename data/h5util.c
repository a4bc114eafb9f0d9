/* h5util.c: HDF5 error text and attributes (see h5util.h). */
#include "data/h5util.h"
#include <stdio.h>
#include <stdlib.h>
#include "core/check.h"   // defines: xmalloc

void h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* ---- the innermost message on HDF5's error stack, e.g. "truncated file: eof = ..." ---- */
static herr_t keep_first(unsigned n, const H5E_error2_t *e, void *buf) {
    if (n == 0 && e->desc) snprintf((char *)buf, 256, "%s", e->desc);
    return 0;
}
const char *h5_detail(void) {
    static _Thread_local char buf[256];
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_first, buf);
    H5Eclear2(H5E_DEFAULT);
    if (!buf[0]) snprintf(buf, sizeof buf, "HDF5 error");
    return buf;
}

int h5_write_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *val) {
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a >= 0 ? H5Awrite(a, mtype, val) : -1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(s);
    return rc < 0 ? -1 : 0;
}

int h5_write_str_attr(hid_t obj, const char *name, const char *val) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int rc = h5_write_attr(obj, name, t, t, &val);
    H5Tclose(t);
    return rc;
}

int h5_read_str_attr(hid_t obj, const char *name, char *buf, size_t n) {
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = H5Aget_type(a);
    int rc = -1;
    if (a >= 0 && t >= 0 && H5Tget_class(t) == H5T_STRING) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_cset(mt, H5Tget_cset(t));   /* HDF5 converts no ASCII <-> UTF-8: read as written (h5py writes UTF-8) */
        if (H5Tis_variable_str(t) > 0) {
            char *s = NULL;
            H5Tset_size(mt, H5T_VARIABLE);
            if (H5Aread(a, mt, &s) >= 0 && s) {
                snprintf(buf, n, "%s", s);
                H5free_memory(s);
                rc = 0;
            }
        } else {
            size_t sz = H5Tget_size(t);
            char *s = xmalloc(sz + 1);
            H5Tset_size(mt, sz + 1);   /* one more byte: HDF5 null-terminates into the memory type */
            if (H5Aread(a, mt, s) >= 0) {
                s[sz] = 0;
                snprintf(buf, n, "%s", s);
                rc = 0;
            }
            free(s);
        }
        H5Tclose(mt);
    }
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}

int h5_read_attr(hid_t obj, const char *name, hid_t mtype, void *val) {
    if (H5Aexists(obj, name) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return -1;
    }
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    int rc = a >= 0 && H5Aread(a, mtype, val) >= 0 ? 0 : -1;
    if (a >= 0) H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}
