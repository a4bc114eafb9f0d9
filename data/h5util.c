/* h5util.c: HDF5 error text and attributes (see h5util.h). */
#include "data/h5util.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "core/check.h"   // defines: xmalloc, vaec_set_error

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

/* "(a,b,c)" of n values into buf */
static const char *dims_str(char *buf, size_t n, int rank, const hsize_t *d) {
    size_t at = (size_t)snprintf(buf, n, "(");
    for (int k = 0; k < rank && at < n; k++) at += (size_t)snprintf(buf + at, n - at, k ? ",%llu" : "%llu", (unsigned long long)d[k]);
    if (at < n) snprintf(buf + at, n - at, ")");
    return buf;
}

int h5_check_storage(const char *path, const char *what, hid_t d, int rank, const hsize_t *dims, size_t elem_size) {
    hsize_t need = elem_size, chunk[H5S_MAX_RANK] = {0};
    for (int k = 0; k < rank; k++) need *= dims[k];
    hid_t dcpl = H5Dget_create_plist(d);
    H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    int chunk_rank = layout == H5D_CHUNKED ? H5Pget_chunk(dcpl, rank, chunk) : 0;
    int nfilters = layout == H5D_CHUNKED ? H5Pget_nfilters(dcpl) : 0;
    if (dcpl >= 0) H5Pclose(dcpl);
    char a[160], b[160];
    if (layout == H5D_LAYOUT_ERROR)
        return vaec_set_error("%s: %s: cannot read the storage layout (%s)", path, what, h5_detail());
    struct stat sb;
    uint64_t file_size = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : UINT64_MAX;
    if (layout == H5D_CHUNKED) {
        bool fits = chunk_rank == rank;
        for (int k = 0; fits && k < rank; k++) fits = chunk[k] >= 1 && chunk[k] <= dims[k];
        if (!fits)
            return vaec_set_error("%s: %s has chunks of %s (rank %d), which do not fit its shape %s: corrupt file", path,
                                  what, dims_str(a, sizeof a, rank, chunk), chunk_rank, dims_str(b, sizeof b, rank, dims));
        /* each stored chunk: exactly its bytes unfiltered, at most its bytes plus what deflate can add filtered
         * (HDF5 allocates what the index says, then copies a chunk's worth); and inside the file as it is now
         * (HDF5 reads past the end of a file truncated under it as zeros) */
        hsize_t chunk_bytes = elem_size, nchunks = 0;
        for (int k = 0; k < rank; k++) chunk_bytes *= chunk[k];
        hsize_t most = chunk_bytes + chunk_bytes / 16 + 4096;
        hid_t space = H5Dget_space(d);
        herr_t rc = H5Dget_num_chunks(d, space, &nchunks);
        int bad = 0;
        for (hsize_t i = 0; rc >= 0 && !bad && i < nchunks; i++) {
            hsize_t off[H5S_MAX_RANK], size = 0;
            unsigned mask;
            haddr_t addr;
            rc = H5Dget_chunk_info(d, space, i, off, &mask, &addr, &size);
            if (rc < 0) break;
            if (nfilters == 0 && size != chunk_bytes)
                bad = vaec_set_error("%s: %s has an unfiltered chunk stored in %llu bytes, not its %llu: corrupt file", path,
                                     what, (unsigned long long)size, (unsigned long long)chunk_bytes);
            else if (size > most)
                bad = vaec_set_error("%s: %s has a chunk stored in %llu bytes, more than its %llu: corrupt file", path, what,
                                     (unsigned long long)size, (unsigned long long)chunk_bytes);
            else if (addr == HADDR_UNDEF || addr > file_size || size > file_size - addr)
                bad = vaec_set_error("%s: %s has data at bytes [%llu, %llu), past the end of the file (%llu bytes): the file "
                                     "is truncated", path, what, (unsigned long long)addr, (unsigned long long)(addr + size),
                                     (unsigned long long)file_size);
        }
        if (space >= 0) H5Sclose(space);
        if (bad) return -1;
        if (rc < 0) return vaec_set_error("%s: %s: cannot read the chunk index, corrupt file? (%s)", path, what, h5_detail());
        return 0;
    }
    hsize_t stored = H5Dget_storage_size(d);
    if ((layout == H5D_COMPACT && stored != need) || (layout == H5D_CONTIGUOUS && stored != 0 && stored != need))
        return vaec_set_error("%s: %s stores %llu bytes for a shape that needs %llu: corrupt file", path, what,
                              (unsigned long long)stored, (unsigned long long)need);
    haddr_t addr = layout == H5D_CONTIGUOUS && stored ? H5Dget_offset(d) : HADDR_UNDEF;
    if (addr != HADDR_UNDEF && addr + stored > file_size)
        return vaec_set_error("%s: %s has data at bytes [%llu, %llu), past the end of the file (%llu bytes): the file is "
                              "truncated", path, what, (unsigned long long)addr, (unsigned long long)(addr + stored),
                              (unsigned long long)file_size);
    H5Eclear2(H5E_DEFAULT);
    return 0;
}
