/* cmd_ckpt_export.c: `vaec ckpt export SRC --to diffusers|opensora --out DIR [--ema] [--dtype T] [--force]
 * [--config CONFIG] [--set k=v]`: a checkpoint written as the folder diffusers or Open-Sora loads. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/commands.h"
#include "train/model_export.h"   // defines: model_export
#include "train/model_folder.h"   // defines: model_open

int cmd_ckpt_export(int argc, char **argv) {
    const char *src = NULL, *to = NULL, *out = NULL, *config_path = NULL, *dtype_s = "fp32", *sets[32];
    int n_sets = 0;
    bool ema = false, force = false;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--ema")) { ema = true; continue; }
        if (!strcmp(o, "--force")) { force = true; continue; }
        if (o[0] != '-') {
            if (src) { fprintf(stderr, "vaec: error: two sources given ('%s' and '%s')\n", src, o); return 2; }
            src = o;
            continue;
        }
        if (!v) { fprintf(stderr, "vaec: error: option %s needs a value (see vaec ckpt --help)\n", o); return 2; }
        if (!strcmp(o, "--to")) to = v;
        else if (!strcmp(o, "--out")) out = v;
        else if (!strcmp(o, "--config")) config_path = v;
        else if (!strcmp(o, "--dtype")) dtype_s = v;
        else if (!strcmp(o, "--set") && n_sets < 32) sets[n_sets++] = v;
        else { fprintf(stderr, "vaec: error: unknown option '%s' for vaec ckpt export (see vaec ckpt --help)\n", o); return 2; }
        i++;
    }
    const char *missing = !src ? "SRC" : !to ? "--to diffusers|opensora" : !out ? "--out DIR" : NULL;
    if (missing) { fprintf(stderr, "vaec: error: vaec ckpt export needs %s (see vaec ckpt --help)\n", missing); return 2; }
    export_target target;
    if (!strcmp(to, "diffusers")) target = EXPORT_DIFFUSERS;
    else if (!strcmp(to, "opensora")) target = EXPORT_OPENSORA;
    else { fprintf(stderr, "vaec: error: --to '%s' (expected diffusers or opensora)\n", to); return 2; }
    dtype_t dtype;
    if (!strcmp(dtype_s, "fp32")) dtype = DTYPE_F32;
    else if (!strcmp(dtype_s, "fp16")) dtype = DTYPE_F16;
    else if (!strcmp(dtype_s, "bf16")) dtype = DTYPE_BF16;
    else { fprintf(stderr, "vaec: error: --dtype '%s' (expected fp32, fp16 or bf16)\n", dtype_s); return 2; }
    struct stat sb;
    if (!force && stat(out, &sb) == 0) {   /* before loading anything: a refused export costs nothing */
        fprintf(stderr, "vaec: error: '%s' already exists: pass --force to replace it (it is replaced only once the new "
                "folder is complete)\n", out);
        return 1;
    }
    config cfg;
    vaec_model m;
    if (model_open(&m, &cfg, src, config_path, sets, n_sets, ema) != 0) FATAL("%s", vaec_last_error());
    if (model_export(&m, target, out, dtype, force) != 0) FATAL("%s", vaec_last_error());
    printf("%s: %s%s folder (%s), from %s%s\n", out, m.kind == MODEL_PIPELINE && target == EXPORT_DIFFUSERS ?
           "the spatial VAE as a " : "", target == EXPORT_DIFFUSERS ? "diffusers AutoencoderKL" : "Open-Sora pipeline",
           dtype_s, src, ema ? " (EMA weights)" : "");
    printf("load it with %s\n", target == EXPORT_DIFFUSERS ? "AutoencoderKL.from_pretrained(DIR)"
                                                           : "VideoAutoencoderPipeline.from_pretrained(DIR)");
    model_free(&m);
    config_free(&cfg);
    return 0;
}
