/* cmd_ckpt.c: `vaec ckpt info FILE|DIR` (keys, shapes, dtypes, parameter count; a folder's kind and the model
 * config it implies) and `vaec ckpt export` (cli/cmd_ckpt_export.c). */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"
#include "core/safetensors.h"     // defines: st_open, st_entry
#include "train/model_folder.h"   // defines: model_folder_open, config_model_text

static long long entry_numel(const st_entry *e) {
    long long n = 1;
    for (int d = 0; d < e->ndim; d++) n *= e->shape[d];
    return n;
}

static int file_info(const char *path) {
    st_file *f = st_open(path);
    if (!f) {
        fprintf(stderr, "vaec: error: %s\n", vaec_last_error());
        return 1;
    }
    long long total = 0;
    printf("%s: %d tensors\n", path, f->n_entries);
    for (int i = 0; i < f->n_entries; i++) {
        const st_entry *e = &f->entries[i];
        char shape[160] = "(";
        size_t k = 1;
        for (int d = 0; d < e->ndim; d++)   /* st_open bounds the product; k stays inside shape (8 dims of 19 digits) */
            if (k < sizeof shape)
                k += (size_t)snprintf(shape + k, sizeof shape - k, d ? ",%lld" : "%lld", (long long)e->shape[d]);
        if (k < sizeof shape) snprintf(shape + k, sizeof shape - k, ")");
        total += entry_numel(e);
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

/* a folder: what it is, the model config its config.json implies, and the parameter count of its weights */
static int folder_info(const char *dir) {
    model_folder f;
    if (model_folder_open(&f, dir, false) != 0) {
        fprintf(stderr, "vaec: error: %s\n", vaec_last_error());
        model_folder_free(&f);
        return 1;
    }
    printf("%s: %s\n", dir, folder_kind_name(f.kind));
    if (f.kind == FOLDER_VAEC)
        printf("  step %lld, EMA weights: %s\n", (long long)f.step, f.has_ema ? "yes (--ema)" : "no");
    st_file *w = st_open(f.weights);
    if (!w) {
        fprintf(stderr, "vaec: error: %s\n", vaec_last_error());
        model_folder_free(&f);
        return 1;
    }
    long long params = 0, spatial = 0, temporal = 0;
    for (int i = 0; i < w->n_entries; i++) {
        const st_entry *e = &w->entries[i];
        if (!strcmp(e->name, "scale") || !strcmp(e->name, "shift")) continue;   /* buffers, not parameters */
        params += entry_numel(e);
        if (!strncmp(e->name, "spatial_vae.", 12)) spatial += entry_numel(e);
        if (!strncmp(e->name, "temporal_vae.", 13)) temporal += entry_numel(e);
    }
    printf("  weights: %s (%d tensors, %s)\n", f.weights, w->n_entries, w->n_entries ? w->entries[0].dtype : "-");
    st_close(w);
    if (f.has_config) {
        char text[4096];
        config_model_text(&f.model, text, sizeof text);
        printf("  config: %s\n", f.config_json);
        if (f.spatial_unknown[0]) printf("  note: %s\n", f.spatial_unknown);
        if (f.ignored[0]) printf("  ignored config.json fields: %s\n", f.ignored);
        printf("model config it implies (usable as a vaec config file):\n%s", text);
    } else {
        printf("  no config.json (written by an older vaec): pass --config to use it\n");
    }
    if (spatial || temporal)
        printf("parameters: %lld (%.2fM): spatial %lld (%.2fM), temporal %lld (%.2fM)\n", params, (double)params / 1e6,
               spatial, (double)spatial / 1e6, temporal, (double)temporal / 1e6);
    else printf("parameters: %lld (%.2fM)\n", params, (double)params / 1e6);
    model_folder_free(&f);
    return 0;
}

static void usage(void) {
    printf("usage: vaec ckpt info FILE|DIR\n"
           "       vaec ckpt export SRC --to diffusers|opensora --out DIR [--ema] [--dtype fp32|fp16|bf16] [--force]\n"
           "                        [--config CONFIG] [--set section.key=value ...]\n\n"
           "  info FILE  every tensor's key, dtype and shape, the metadata, and the total parameter count; a\n"
           "             file vaec wrote is checked against its checksums (exit 1 if corrupt)\n"
           "  info DIR   what the folder is (diffusers AutoencoderKL, Open-Sora pipeline, vaec ckpt-N), the model\n"
           "             config its config.json implies, and the parameter count\n"
           "  export     writes SRC (any checkpoint vaec reads) as a folder its home tool loads:\n"
           "             diffusers  the spatial VAE: AutoencoderKL.from_pretrained(DIR)\n"
           "             opensora   the pipeline: VideoAutoencoderPipeline.from_pretrained(DIR)\n"
           "             --ema takes a vaec checkpoint's EMA weights; --dtype the stored type (default fp32);\n"
           "             an existing DIR is refused unless --force; the folder appears whole or not at all.\n"
           "             --config is needed when SRC is a bare safetensors file. See docs/commands.md.\n");
}

int cmd_ckpt(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) { usage(); return 0; }
    if (argc >= 2 && !strcmp(argv[1], "export")) return cmd_ckpt_export(argc - 1, argv + 1);
    if (argc == 3 && !strcmp(argv[1], "info")) return path_is_dir(argv[2]) ? folder_info(argv[2]) : file_info(argv[2]);
    fprintf(stderr, "vaec: error: usage: vaec ckpt info FILE|DIR, or vaec ckpt export SRC --to diffusers|opensora --out DIR "
            "(see vaec ckpt --help)\n");
    return 2;
}
