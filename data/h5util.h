/* h5util.h: the few HDF5 helpers every vaec HDF5 file uses (data/h5video.c, data/h5latents.c): HDF5's own
 * error printing off, its innermost message for vaec errors, and scalar attributes h5py reads back as int,
 * float and str, written and read; and the storage check every dataset passes before it is read. */
#ifndef VAEC_DATA_H5UTIL_H
#define VAEC_DATA_H5UTIL_H
#include <hdf5.h>
#include <stddef.h>

void h5_quiet(void);                 /* no HDF5 error stack on stderr: failures come back as vaec errors */
const char *h5_detail(void);         /* the innermost message on HDF5's error stack (clears it) */
/* a scalar attribute of file type ftype from memory type mtype; 0 or -1 */
int h5_write_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *val);
int h5_write_str_attr(hid_t obj, const char *name, const char *val);   /* variable-length UTF-8: h5py's str */
/* a string attribute into buf; 0, or -1 if absent, not a string, or a variable-length UTF-8 string (h5py's
   and vaec's own). Those are left unread on purpose: converting one walks HDF5's global heap, which a corrupt
   file sends into an endless loop (fuzz_h5video), and HDF5 converts no UTF-8 to the ASCII asked for here. */
int h5_read_str_attr(hid_t obj, const char *name, char *buf, size_t n);
/* a scalar attribute converted to memory type mtype; 0, or -1 if absent or not convertible */
int h5_read_attr(hid_t obj, const char *name, hid_t mtype, void *val);
/* HDF5 1.10 trusts the storage layout it reads and copies the dataspace's worth of bytes out of what a
 * compact or contiguous dataset stores, or a chunk: a corrupt file whose stored size or chunk shape does not
 * match the dataset's shape, or whose unfiltered chunk is stored short, overflows HDF5's buffers (found by
 * fuzz_h5video). HDF5 never writes such files (H5Dcreate refuses them), so vaec refuses them before reading.
 * d: a dataset of `rank` dims and elements of elem_size bytes; what: "clip 3: /clips/000003" for messages.
 * 0, or -1 + an error naming path and what. */
int h5_check_storage(const char *path, const char *what, hid_t d, int rank, const hsize_t *dims, size_t elem_size);

#endif
