/* train_resume.h: the resume check of the `vaec train` tests (plain, and with a discriminator): a run of
 * tests/data/train_tiny.ini on a fresh synthetic dataset, 6 steps straight (DIR/full), against 4 steps then
 * `--resume auto` to 6 (DIR/part), every step's metrics line the same and the named checkpoint files equal.
 *
 *   test_train_full_and_resumed(dir, "--set train.ema_decay=0.9", NULL, out, sizeof out);
 *   test_train_same_checkpoint_files(dir, 6, (const char *[]){"model", "ema"}, 2);
 *
 * Failures are recorded with EXPECT, naming the run and its output; the callers go on to their own checks
 * of DIR/full and DIR/part. */
#ifndef VAEC_TEST_TRAIN_RESUME_H
#define VAEC_TEST_TRAIN_RESUME_H
#include <stddef.h>

/* dir/d.h5 (8 synthetic clips, 16x16, 6 frames), then the three runs with `sets` appended to each; the full
   run's output must contain full_marker (NULL: anything) and is left in out. Returns 0 when every run ran. */
int test_train_full_and_resumed(const char *dir, const char *sets, const char *full_marker, char *out, size_t n);
/* dir/full and dir/part's ckpt-<step>/<file>.safetensors hold the same tensors, bit for bit, for each file */
void test_train_same_checkpoint_files(const char *dir, int step, const char *const *files, int nfiles);

#endif
