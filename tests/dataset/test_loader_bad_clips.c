/* test_loader_bad_clips.c: a dataset truncated under the running loader ([data] on_bad_clip): with skip (the
 * default) each unreadable clip is reported once (however often it comes up), counted and passed over, and every batch slot of a readable clip
 * is what the intact file gives, bit for bit, so the batch order of the good clips does not change; with stop
 * the loader fails naming the file and the clip. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "data/h5video.h"              // defines: h5video_create
#include "data/loader.h"               // defines: loader_open, loader_num_bad
#include "data/synthetic.h"            // defines: synthetic_clip
#include "tests/harness/test.h"        // defines: TEST, EXPECT

#define CLIPS 12
#define BATCHES 12   /* two epochs of 6 batches of 2 */
#define TRUNCATE_TO 0.6   /* of the file's bytes: the last clips' data goes, the metadata HDF5 has cached stays */

static void write_clips(const char *path) {
    h5video_writer *w = h5video_create(path, false);
    uint8_t f[2 * 8 * 8 * 3];
    rng_state r = rng_seed(5);
    for (int i = 0; i < CLIPS; i++) {
        synthetic_clip(&r, 2, 8, 8, f);
        f[0] = (uint8_t)(10 * i);   /* the clip's id in its first value */
        EXPECT(h5video_append(w, f, 2, 8, 8, "synthetic", 8) == 0, "append: %s", vaec_last_error());
    }
    EXPECT(h5video_finish(w) == 0, "finish: %s", vaec_last_error());
}

static int id_of(const tensor *x, int slot) {
    return (int)((tensor_f32(x)[slot * 2 * 8 * 8 * 3] + 1.0f) * 127.5f + 0.5f) / 10;
}

/* the copy cut to `keep` of its length, as a failing disk or an interrupted sync might leave it */
static void truncate_to(const char *path, double keep) {
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    EXPECT(truncate(path, (off_t)(keep * (double)n)) == 0, "truncate %s", path);
}

TEST(test_loader_skips_clips_that_become_unreadable_and_keeps_the_order) {
    char intact[128], damaged[128], cmd[300];
    snprintf(intact, sizeof intact, "/tmp/vaec_badclip_%d.h5", (int)getpid());
    snprintf(damaged, sizeof damaged, "/tmp/vaec_badclip_%d_damaged.h5", (int)getpid());
    write_clips(intact);
    snprintf(cmd, sizeof cmd, "cp %s %s", intact, damaged);
    EXPECT(system(cmd) == 0, "copy");
    loader_config ca = {intact, 2, 1, 8, 2, 7, 0, 1, true, 1}, cb = ca;
    cb.path = damaged;
    loader_config cs = cb;   /* on_bad_clip = stop, on the same file */
    cs.stop_on_bad_clip = true;
    loader *a = loader_open(&ca), *b = loader_open(&cb), *s = loader_open(&cs);
    EXPECT(a && b && s, "open: %s", vaec_last_error());
    if (!a || !b || !s) return;
    tensor *xa = loader_next(a), *xb = loader_next(b);   /* the run is under way ... */
    tensor_release(xa), tensor_release(xb);
    truncate_to(damaged, TRUNCATE_TO);                  /* ... when the file loses its second part */
    char warn_path[160];   /* the loader's warnings (stderr, from its worker threads) kept to be counted */
    snprintf(warn_path, sizeof warn_path, "/tmp/vaec_badclip_%d.warnings", (int)getpid());
    fflush(stderr);
    int saved_err = dup(2), warn_fd = open(warn_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(warn_fd, 2);
    int seen_a[CLIPS] = {0}, seen_b[CLIPS] = {0}, slots = 0, same = 0, differ = 0;
    bool slot_differs[BATCHES][2] = {{false}};
    int a_ids[BATCHES][2];
    for (int g = 1; g < BATCHES; g++) {
        xa = loader_next(a), xb = loader_next(b);
        EXPECT(xa && xb, "batch %d: %s", g, vaec_last_error());
        if (!xa || !xb) break;
        for (int k = 0; k < 2; k++) {
            size_t n = 2 * 8 * 8 * 3;
            bool eq = !memcmp(tensor_f32(xa) + k * n, tensor_f32(xb) + k * n, n * sizeof(float));
            a_ids[g][k] = id_of(xa, k);
            seen_a[id_of(xa, k)]++, seen_b[id_of(xb, k)]++;
            slot_differs[g][k] = !eq;
            slots++, same += eq, differ += !eq;
        }
        tensor_release(xa), tensor_release(xb);
    }
    fflush(stderr);
    dup2(saved_err, 2);
    close(saved_err), close(warn_fd);
    int bad = 0, warned_once = 0;
    for (int i = 0; i < CLIPS; i++) bad += seen_a[i] > 0 && seen_b[i] == 0;
    FILE *wf = fopen(warn_path, "r");
    char line[1024];
    int warnings[CLIPS] = {0};
    while (wf && fgets(line, sizeof line, wf)) {
        int clip;
        if (sscanf(line, "vaec: warning: skipping clip %d of", &clip) == 1 && clip >= 0 && clip < CLIPS) warnings[clip]++;
    }
    if (wf) fclose(wf);
    unlink(warn_path);
    for (int i = 0; i < CLIPS; i++) {   /* each lost clip warned about exactly once, though it came up again */
        bool lost = seen_a[i] > 0 && seen_b[i] == 0;
        EXPECT(warnings[i] == (lost ? 1 : 0), "clip %d (%s): %d warnings", i, lost ? "unreadable" : "readable", warnings[i]);
        warned_once += lost && warnings[i] == 1 && seen_a[i] > 1;
    }
    /* a slot differs only where the intact file's clip is one the damaged loader never gave out */
    for (int g = 1; g < BATCHES; g++)
        for (int k = 0; k < 2; k++)
            if (slot_differs[g][k])
                EXPECT(seen_b[a_ids[g][k]] == 0, "batch %d slot %d: readable clip %d changed place", g, k, a_ids[g][k]);
    EXPECT(bad > 0 && differ > 0, "the truncation made no clip unreadable (%d slots differ)", differ);
    EXPECT(loader_num_bad(b) == bad, "%d clips counted unreadable, %d never given out", loader_num_bad(b), bad);
    EXPECT(loader_num_bad(a) == 0, "the intact file has no bad clip");
    printf("  %d of %d batch slots after the truncation hold readable clips, bit-identical to the intact file's; %d "
           "slots of %d unreadable clips went to the next clips of the order; each warned about once (%d came up "
           "again)\n", same, slots, differ, bad, warned_once);
    loader_close(a);
    loader_close(b);
    /* on_bad_clip = stop: the first unreadable clip is an error naming the file and the clip */
    tensor *x = NULL;
    for (int g = 0; g < BATCHES && (x = loader_next(s)); g++) tensor_release(x);
    EXPECT(!x && strstr(vaec_last_error(), damaged) && strstr(vaec_last_error(), "clip ") &&
           strstr(vaec_last_error(), "truncated"), "stop: %s", x ? "every batch was read" : vaec_last_error());
    EXPECT(loader_num_bad(s) == 0, "stop counts nothing: it stops");
    tensor_release(x);
    loader_close(s);
    unlink(intact);
    unlink(damaged);
}
