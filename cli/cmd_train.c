/* cmd_train.c: `vaec train CONFIG [--set section.key=value ...] [--steps N] [--out DIR] [--resume auto|DIR]
 * [--dump-grads FILE] [--plan-ranks N]` (interfaces.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "train/trainer.h"   // defines: train_main

static void usage(void) {
    printf("usage: vaec train CONFIG [--set section.key=value ...] [--steps N] [--out DIR] [--resume auto|DIR]\n"
           "                  [--dump-grads FILE]\n\n"
           "  trains the model of CONFIG (kind = pipeline) on [data] path; see docs/training.md.\n"
           "  --steps N, --out DIR   shorthands for --set train.steps=N, --set train.out_dir=DIR\n"
           "  --resume auto          continue from the newest complete checkpoint in the output folder\n"
           "  --resume DIR           continue from the checkpoint folder DIR\n"
           "  --dump-grads FILE      write the first step's gradients (upstream key names) and loss terms, then stop\n"
           "  --plan-ranks N         print the bytes a rank holds (weights, AdamW state, gradients, buckets) for\n"
           "                         zero_stage 0, 1 and 2 on N ranks, then stop (no data read, nothing trained)\n\n"
           "  data-parallel: mpirun -np N vaec train CONFIG ... (or srun): each rank trains its slice of the global\n"
           "  batch; [train] grad_accum_steps, dist_timeout_s, dist_bucket_mb; see docs/distributed.md.\n");
}

int cmd_train(int argc, char **argv) {
    static char steps_set[64], out_set[4200];
    train_args a = {0};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { usage(); return 0; }
        if (o[0] != '-') {
            if (a.config_path) { fprintf(stderr, "vaec: error: two configs given ('%s' and '%s')\n", a.config_path, o); return 2; }
            a.config_path = o;
            continue;
        }
        if (!v) { fprintf(stderr, "vaec: error: option %s needs a value (see vaec train --help)\n", o); return 2; }
        if (a.n_sets >= 62) { fprintf(stderr, "vaec: error: too many --set options\n"); return 2; }
        if (!strcmp(o, "--set")) a.sets[a.n_sets++] = v;
        else if (!strcmp(o, "--steps")) { snprintf(steps_set, sizeof steps_set, "train.steps=%s", v); a.sets[a.n_sets++] = steps_set; }
        else if (!strcmp(o, "--out")) { snprintf(out_set, sizeof out_set, "train.out_dir=%s", v); a.sets[a.n_sets++] = out_set; }
        else if (!strcmp(o, "--resume")) a.resume = v;
        else if (!strcmp(o, "--dump-grads")) a.dump_grads = v;
        else if (!strcmp(o, "--plan-ranks")) {
            char *end;
            long r = strtol(v, &end, 10);
            if (*end || r < 1 || r > 1 << 20) { fprintf(stderr, "vaec: error: --plan-ranks '%s': a number of ranks (1 or more)\n", v); return 2; }
            a.plan_ranks = (int)r;
        }
        else { fprintf(stderr, "vaec: error: unknown option '%s' for vaec train (see --help)\n", o); return 2; }
        i++;
    }
    if (!a.config_path) { fprintf(stderr, "vaec: error: vaec train needs a CONFIG file (see --help)\n"); return 2; }
    return train_main(&a);
}
