/* checkpoint_disc.c: the discriminator's weights, optimizer and LeCam EMAs in a checkpoint (see
 * checkpoint_disc.h). */
#include "train/checkpoint_disc.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/safetensors.h"   // defines: st_writer, st_open

ckpt_extra ckpt_disc_extra(gan_trainer *g) { return (ckpt_extra){ckpt_disc_save, ckpt_disc_load, g}; }

/* the key of a trainable tensor of the discriminator */
static const char *key_of(const gan_trainer *g, const tensor *t) {
    for (int i = 0; i < g->disc.params.n; i++)
        if (g->disc.params.items[i].t == t) return g->disc.params.items[i].name;
    FATAL("checkpoint: the discriminator's optimizer tracks a tensor that is not one of its weights");
}

int ckpt_disc_save(void *gan, const char *dir) {
    gan_trainer *g = gan;
    char path[4400], key[600], buf[64];
    snprintf(path, sizeof path, "%s/discriminator.safetensors", dir);
    if (params_save(&g->disc.params, path, "", NULL) != 0) return -1;
    st_writer *w = st_writer_new();
    for (int i = 0; i < g->opt->n; i++) {
        snprintf(key, sizeof key, "exp_avg.%s", key_of(g, g->opt->params[i]));
        st_writer_add(w, key, g->opt->m[i], DTYPE_F32);
        snprintf(key, sizeof key, "exp_avg_sq.%s", key_of(g, g->opt->params[i]));
        st_writer_add(w, key, g->opt->v[i], DTYPE_F32);
    }
    snprintf(buf, sizeof buf, "%ld", g->opt->step);
    st_writer_meta(w, "adamw_step", buf);
    snprintf(buf, sizeof buf, "%.9g", (double)g->ema.real);   /* 9 digits: a float32 exactly */
    st_writer_meta(w, "lecam_ema_real", buf);
    snprintf(buf, sizeof buf, "%.9g", (double)g->ema.fake);
    st_writer_meta(w, "lecam_ema_fake", buf);
    snprintf(path, sizeof path, "%s/disc_optimizer.safetensors", dir);
    int rc = st_writer_save(w, path);
    st_writer_free(w);
    return rc;
}

int ckpt_disc_load(void *gan, const char *dir) {
    gan_trainer *g = gan;
    char path[4400], key[600];
    struct stat sb;
    snprintf(path, sizeof path, "%s/discriminator.safetensors", dir);
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "vaec: warning: %s/ has no discriminator.safetensors (a run without a discriminator): the "
                "discriminator starts as initialised\n", dir);
        return 0;
    }
    if (disc_load(&g->disc, path, "") != 0) return -1;
    snprintf(path, sizeof path, "%s/disc_optimizer.safetensors", dir);
    st_file *f = st_open(path);
    if (!f) return -1;
    const char *step = st_meta(f, "adamw_step"), *er = st_meta(f, "lecam_ema_real"), *ef = st_meta(f, "lecam_ema_fake");
    if (!step || !er || !ef) {
        st_close(f);
        return vaec_set_error("'%s' lacks adamw_step, lecam_ema_real or lecam_ema_fake: not a vaec discriminator "
                              "optimizer file", path);
    }
    g->opt->step = atol(step);
    g->ema.real = strtof(er, NULL), g->ema.fake = strtof(ef, NULL);
    for (int i = 0; i < g->opt->n; i++)
        for (int which = 0; which < 2; which++) {
            snprintf(key, sizeof key, "%s.%s", which ? "exp_avg_sq" : "exp_avg", key_of(g, g->opt->params[i]));
            tensor *t, *dst = which ? g->opt->v[i] : g->opt->m[i];
            if (st_read(f, key, &t) != 0) { st_close(f); return -1; }   /* a checksum failed: the message names it */
            if (!t || t->numel != dst->numel) {
                tensor_release(t);
                st_close(f);
                return vaec_set_error("'%s': '%s' is missing or has the wrong size (written with another [discriminator] "
                                      "config?)", path, key);
            }
            tensor_copy_(dst, t);
            tensor_release(t);
        }
    st_close(f);
    return 0;
}
