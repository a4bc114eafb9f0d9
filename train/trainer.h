/* trainer.h: `vaec train`: the training loop of Open-Sora's VAE recipe.
 *
 * Per step: a batch from the loader -> mixing (video/image or random length, from the run's RNG) ->
 * train_step (losses as switched, clipping, AdamW; NaN/Inf steps skipped or, with nan_policy = stop,
 * fatal) -> a progress line and OUT_DIR/metrics.jsonl every log_every steps -> a checkpoint every
 * ckpt_every steps, at the end, and on SIGINT/SIGTERM (then exit 130). --resume continues from a
 * checkpoint: weights, optimizer, step, RNG and data position, so the losses continue exactly.
 * Data-parallel (train/dist.h, docs/distributed.md): each rank trains its slice of the global batch over
 * grad_accum_steps micro-steps; gradients and loss terms are averaged across ranks and micro-steps after
 * the last; rank 0 alone logs, evaluates and writes checkpoints. */
#ifndef VAEC_TRAIN_TRAINER_H
#define VAEC_TRAIN_TRAINER_H

typedef struct {
    const char *config_path;
    const char *sets[64];
    int n_sets;
    const char *resume;       /* NULL, "auto" or a checkpoint folder */
    const char *dump_grads;   /* NULL or a file: write the first step's gradients and loss terms, then stop */
    int plan_ranks;           /* > 0: print the per-rank memory of zero_stage 0, 1, 2 on that many ranks, then stop */
} train_args;

int train_main(const train_args *a);   /* process exit code */

#endif
