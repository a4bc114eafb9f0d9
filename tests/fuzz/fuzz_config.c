/* fuzz_config.c: the INI config parser, `--set` overrides and every typed getter.
 * Input: INI text; after the first line that is exactly "--set", each further line is one override. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "core/check.h"                // defines: vaec_last_error, xmalloc
#include "tests/fuzz/fuzz_targets.h"   // defines: fuzz_write_file, fuzz_rejected
#include "train/config.h"              // defines: config_load, config_set, config_get_*

static const char SET_MARK[] = "\n--set\n";

int fuzz_config(const uint8_t *data, size_t n) {
    const uint8_t *mark = NULL;
    for (size_t i = 0; i + sizeof SET_MARK - 1 <= n && !mark; i++)
        if (!memcmp(data + i, SET_MARK, sizeof SET_MARK - 1)) mark = data + i;
    size_t ini_n = mark ? (size_t)(mark - data) + 1 : n;
    const char *path = fuzz_tmp_path("config.ini");
    if (fuzz_write_file(path, data, ini_n) != 0) return fuzz_rejected(path);
    config c;
    if (config_load(&c, path) != 0) {
        config_free(&c);
        return fuzz_rejected(path);
    }
    if (mark) {   /* the overrides, one a line, as `vaec train --set` passes them */
        const uint8_t *s = mark + sizeof SET_MARK - 1, *end = data + n;
        while (s < end) {
            const uint8_t *nl = memchr(s, '\n', (size_t)(end - s));
            size_t len = (size_t)((nl ? nl : end) - s);
            char *line = xmalloc(len + 1);
            memcpy(line, s, len);
            line[len] = 0;
            if (config_set(&c, line) != 0 && !strstr(vaec_last_error(), "--set")) {
                free(line);
                config_free(&c);
                return fuzz_rejected("--set");
            }
            free(line);
            s += len + 1;
        }
    }
    /* every typed getter on every key that is set: each parses or names the key and value at fault (a key
     * fails most getters: a number is no boolean; that is not a refusal of the file) */
    for (int i = 0; i < c.n; i++) {
        const char *sec = c.entries[i].section, *key = c.entries[i].key;
        int iv; double dv; bool bv; int il[8]; float fl[8];
        const int idef[1] = {1};
        const float fdef[1] = {1.0f};
        (void)config_str(&c, sec, key, NULL);
        int rc[5] = {config_get_int(&c, sec, key, 0, &iv), config_get_float(&c, sec, key, 0, &dv),
                     config_get_bool(&c, sec, key, false, &bv), config_get_ints(&c, sec, key, il, 8, idef, 1) < 0 ? -1 : 0,
                     config_get_floats(&c, sec, key, fl, 8, fdef, 1) < 0 ? -1 : 0};
        for (int k = 0; k < 5; k++)
            if (rc[k] != 0 && !strstr(vaec_last_error(), key)) { config_free(&c); return fuzz_rejected(key); }
    }
    config_free(&c);
    return FUZZ_LOADED;
}

/* seeds: a training config as the tests write them, with and without overrides */
int fuzz_seeds_config(const char *dir) {
    static const char tiny[] =
        "# a tiny pipeline\n[model]\nkind = pipeline\n[spatial]\nblock_out_channels = 16,16\nlayers_per_block = 1\n"
        "scaling_factor = 0.18215\n[temporal]\nfilters = 4\ntemporal_downsample = 0,1,1\n[pipeline]\n"
        "shift = -0.10,0.34,0.27,0.98\nfreeze_vae_2d = true\n[train]\nlr = 1e-3\nbetas = 0.9,0.999\nsteps = 6\n"
        "mixed_strategy = mixed_video_image\nuse_z_rec_loss = yes\n[data]\npath = data/demo.h5\n";
    static const char sets[] = "\n--set\ntrain.steps=10\ntrain.lr=2e-4\npipeline.freeze_vae_2d=off\nspatial.block_out_channels=8,8\n";
    char both[sizeof tiny + sizeof sets];
    snprintf(both, sizeof both, "%s%s", tiny, sets + 1);
    if (fuzz_seed_file(dir, "tiny.ini", (const uint8_t *)tiny, sizeof tiny - 1) != 0) return -1;
    return fuzz_seed_file(dir, "tiny_set.ini", (const uint8_t *)both, strlen(both));
}
