/* safetensors.h: read and write safetensors files (the checkpoint and golden-file format).
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
 * then the raw data. Reading checks the header against the file size and every tensor's byte count
 * against its shape; F32, F16, BF16 and F64 load as float32 (integers too, for small counters).
 * Writing goes to a temporary name in the same folder, is flushed and fsync'ed, then renamed over the
 * target, so a crash or a full disk never leaves a half-written checkpoint behind.
 *
 * Checksums: the writer stores a CRC-32C of every tensor's bytes in the metadata ("checksum.<name>" =
 * "crc32c:1a2b3c4d") and one of the other metadata pairs ("checksum.__metadata__"), plain strings, so PyTorch
 * and safetensors load the files as before. A file that has them is checked: st_open refuses a header whose
 * checksums do not cover exactly its tensors or whose metadata changed, st_read (and st_load) a tensor whose
 * bytes changed, st_verify every tensor; each error names the file and the tensor. Files without checksums
 * (written by PyTorch) load unchecked.
 *
 *   st_file *f = st_open("model.safetensors");          // NULL + vaec_last_error() on failure
 *   tensor *w = st_load(f, "encoder.conv_in.weight");   // NULL if absent
 *   st_close(f);
 *
 *   st_writer *w = st_writer_new();
 *   st_writer_add(w, "x", x, DTYPE_F32);                 // tensor retained until written
 *   st_writer_meta(w, "step", "100");
 *   if (st_writer_save(w, "out.safetensors") != 0) FATAL("%s", vaec_last_error());
 *   st_writer_free(w);
 */
#ifndef VAEC_SAFETENSORS_H
#define VAEC_SAFETENSORS_H
#include <stdbool.h>
#include <stdint.h>
#include "core/tensor.h"   // defines: tensor, dtype_t

typedef struct {
    char *name;
    char dtype[8];          /* as in the file: F32, F16, BF16, F64, I64, I32, U8, ... */
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    uint64_t begin, end;    /* byte offsets in the data section */
    bool has_crc;           /* the file stores a checksum of this tensor's bytes */
    uint32_t crc;           /* CRC-32C (core/crc32c.h) */
} st_entry;

typedef struct {
    char *path;
    FILE *fp;
    uint64_t data_start, file_size;
    st_entry *entries;
    int n_entries;
    char **meta_keys, **meta_values;
    int n_meta;
} st_file;

st_file *st_open(const char *path);
void st_close(st_file *f);
const st_entry *st_find(const st_file *f, const char *name);
/* 0 with *out the tensor (float32, CPU) or NULL if absent; -1 + vaec_last_error() if unreadable or corrupt */
int st_read(const st_file *f, const char *name, tensor **out);
int st_verify(const st_file *f);                               /* every tensor against its checksum: 0 or -1 */
tensor *st_load(const st_file *f, const char *name);          /* st_read; NULL if absent, fatal if unreadable */
tensor *st_load_checked(const st_file *f, const char *name);   /* fatal if absent or unreadable */
const char *st_meta(const st_file *f, const char *key);        /* NULL if absent */

typedef struct st_writer st_writer;
st_writer *st_writer_new(void);
void st_writer_add(st_writer *w, const char *name, tensor *t, dtype_t dtype);
void st_writer_meta(st_writer *w, const char *key, const char *value);
int st_writer_save(st_writer *w, const char *path);           /* 0 or -1 with vaec_last_error() */
void st_writer_free(st_writer *w);

#endif
