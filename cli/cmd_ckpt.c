/* cmd_ckpt.c: `vaec ckpt info FILE`: keys, shapes, dtypes and parameter count of a safetensors file. */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"
#include "core/safetensors.h"   // defines: st_open, st_entry

static int ckpt_info(const char *path) {
    st_file *f = st_open(path);
    if (!f) {
        fprintf(stderr, "vaec: error: %s\n", vaec_last_error());
        return 1;
    }
    long long total = 0;
    printf("%s: %d tensors\n", path, f->n_entries);
    for (int i = 0; i < f->n_entries; i++) {
        const st_entry *e = &f->entries[i];
        long long n = 1;
        char shape[160] = "(";
        size_t k = 1;
        for (int d = 0; d < e->ndim; d++) {   /* st_open bounds the product; k stays inside shape (8 dims of 19 digits) */
            n *= e->shape[d];
            if (k < sizeof shape)
                k += (size_t)snprintf(shape + k, sizeof shape - k, d ? ",%lld" : "%lld", (long long)e->shape[d]);
        }
        if (k < sizeof shape) snprintf(shape + k, sizeof shape - k, ")");
        total += n;
        printf("  %-64s %-5s %s\n", e->name, e->dtype, shape);
    }
    int n_crc = 0;
    for (int i = 0; i < f->n_meta; i++) {
        if (!strncmp(f->meta_keys[i], "checksum.", 9)) { n_crc++; continue; }   /* summarised below */
        printf("  metadata %s = %s\n", f->meta_keys[i], f->meta_values[i]);
    }
    printf("parameters: %lld (%.2fM)\n", total, (double)total / 1e6);
    int rc = 0;
    if (n_crc) {   /* every tensor read back against its checksum */
        rc = st_verify(f) == 0 ? 0 : 1;
        if (rc) fprintf(stderr, "vaec: error: %s\n", vaec_last_error());
        else printf("checksums: crc32c of %d tensors and the metadata: all verify\n", n_crc - 1);
    } else printf("checksums: none (not written by vaec)\n");
    st_close(f);
    return rc;
}

int cmd_ckpt(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: vaec ckpt info FILE\n  prints every tensor's key, dtype and shape, the metadata, and the "
               "total parameter count;\n  a file vaec wrote is checked against its checksums (exit 1 if corrupt)\n");
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "info")) return ckpt_info(argv[2]);
    fprintf(stderr, "vaec: error: usage: vaec ckpt info FILE\n");
    return 2;
}
