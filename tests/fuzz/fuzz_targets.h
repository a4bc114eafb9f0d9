/* fuzz_targets.h: one entry point per parser vaec runs on files from elsewhere, shared by the libFuzzer
 * binaries (libfuzzer_main.c, `make fuzz`) and the replay test of the normal suite (test_fuzz_replay.c).
 *
 * Each target feeds its bytes to the parser the way a user's file would reach it (written to a temporary
 * file, then opened by path) and returns FUZZ_LOADED when the parser took the input, FUZZ_REJECTED when it
 * refused it with a message in vaec_last_error() naming the file (or key) at fault. A crash, a sanitizer
 * report, a leak, a hang or an exit() in a parser is the bug the fuzzer looks for.
 *
 *   fuzz_safetensors     st_open + st_load of every tensor + st_meta
 *   fuzz_config          an INI file, then `--set` lines, then every typed getter on every key set
 *   fuzz_h5video         h5video_open + h5video_clip_shape + h5video_read of every clip
 *   fuzz_image           image_load_rgb (PNG and JPEG frames)
 *   fuzz_checkpoint      ckpt_load of a folder whose model, optimizer or state file (first byte % 3) is the input
 *
 * fuzz_write_seeds(dir) writes each target's seed corpus, made by vaec's own writers (tests/fuzz/make_seeds.c). */
#ifndef VAEC_TESTS_FUZZ_TARGETS_H
#define VAEC_TESTS_FUZZ_TARGETS_H
#include <stddef.h>
#include <stdint.h>

enum { FUZZ_REJECTED = 0, FUZZ_LOADED = 1 };

typedef int (*fuzz_fn)(const uint8_t *data, size_t n);

typedef struct {
    const char *name;     /* folder under tests/fuzz/corpus/ and regressions/, binary fuzz_<name> */
    fuzz_fn run;
    int (*write_seeds)(const char *dir);   /* 0, or -1 with vaec_last_error() */
} fuzz_target;

int fuzz_safetensors(const uint8_t *data, size_t n);
int fuzz_config(const uint8_t *data, size_t n);
int fuzz_h5video(const uint8_t *data, size_t n);
int fuzz_image(const uint8_t *data, size_t n);
int fuzz_checkpoint(const uint8_t *data, size_t n);

int fuzz_seeds_safetensors(const char *dir);
int fuzz_seeds_config(const char *dir);
int fuzz_seeds_h5video(const char *dir);
int fuzz_seeds_image(const char *dir);
int fuzz_seeds_checkpoint(const char *dir);

extern const fuzz_target fuzz_targets[];   /* terminated by a {NULL} entry */

/* helpers for the targets (fuzz_util.c) */
const char *fuzz_tmp_path(const char *name);   /* $TMPDIR (or /tmp)/vaec_fuzz_<pid>/name; static storage */
void fuzz_cleanup(void);                       /* removes that folder (also at exit) */
int fuzz_write_file(const char *path, const uint8_t *data, size_t n);   /* 0 or -1 + error */
uint8_t *fuzz_read_file(const char *path, size_t *n);                    /* malloc'd; NULL + error */
int fuzz_seed_file(const char *dir, const char *name, const uint8_t *data, size_t n);   /* dir/name */
/* FUZZ_REJECTED, after checking that vaec_last_error() names `what` (a path or key): a refusal that does not
 * say which file is at fault is a bug too, so the process aborts with both printed */
int fuzz_rejected(const char *what);

#endif
