/* test_loader.c: the training loader: sharding (two ranks see every clip once per epoch, and their slices
 * form the one-rank global batch), seeded order, a resumable position, short clips. */
#include <string.h>
#include <unistd.h>
#include "data/h5video.h"
#include "data/loader.h"
#include "data/synthetic.h"
#include "tests/harness/test.h"

static void tmp(char *buf, size_t n, const char *stem) { snprintf(buf, n, "/tmp/vaec_loader_%d_%s.h5", (int)getpid(), stem); }

static void synthetic_file(const char *path, int n, int T, int S) {
    h5video_writer *w = h5video_create(path, false);
    uint8_t *f = malloc((size_t)T * S * S * 3);
    rng_state r = rng_seed(3);
    for (int i = 0; i < n; i++) {
        synthetic_clip(&r, T, S, S, f);
        f[0] = (uint8_t)i;   /* the clip's id in its first value */
        h5video_append(w, f, T, S, S, "synthetic", 8);
    }
    free(f);
    h5video_finish(w);
}

/* clip ids of one epoch as seen by rank r of w */
static int epoch_ids(const char *path, int rank, int world, int *ids, int64_t pos_out[2]) {
    loader_config c = {path, 2, 1, 8, 2, 7, rank, world, true};
    loader *l = loader_open(&c);
    EXPECT(l != NULL, "loader: %s", vaec_last_error());
    if (!l) return 0;
    int n = 0, per_epoch = 12 / (2 * world);
    for (int b = 0; b < per_epoch; b++) {
        tensor *x = loader_next(l);
        for (int k = 0; k < 2; k++) {
            /* the window may start later than frame 0: the id is in frame 0 only, so read it from the file */
            ids[n++] = (int)((tensor_f32(x)[k * 2 * 8 * 8 * 3] + 1.0f) * 127.5f + 0.5f);
        }
        tensor_release(x);
    }
    if (pos_out) loader_position(l, pos_out);
    loader_close(l);
    return n;
}

TEST(test_loader_two_ranks_see_every_clip_once_per_epoch) {
    char path[128];
    tmp(path, sizeof path, "shard");
    synthetic_file(path, 12, 2, 8);   /* 2 frames per clip: the window always starts at frame 0 */
    int a[12], b[12], one[12];
    int na = epoch_ids(path, 0, 2, a, NULL), nb = epoch_ids(path, 1, 2, b, NULL), n1 = epoch_ids(path, 0, 1, one, NULL);
    int seen[12] = {0};
    for (int i = 0; i < na; i++) seen[a[i]]++;
    for (int i = 0; i < nb; i++) seen[b[i]]++;
    for (int i = 0; i < 12; i++) EXPECT(seen[i] == 1, "clip %d seen %d times by the two ranks", i, seen[i]);
    EXPECT(n1 == 12, "one rank: %d clips", n1);
    /* the global batch of a step is the same whatever the world size: rank 0's and rank 1's slices */
    for (int s = 0; s < 3; s++)
        EXPECT(one[4 * s] == a[2 * s] && one[4 * s + 1] == a[2 * s + 1] && one[4 * s + 2] == b[2 * s] &&
                   one[4 * s + 3] == b[2 * s + 1], "step %d: the two ranks' batches are not the one-rank global batch", s);
    unlink(path);
}

TEST(test_loader_position_restores_the_stream) {
    char path[128];
    tmp(path, sizeof path, "pos");
    synthetic_file(path, 10, 6, 8);
    loader_config c = {path, 3, 1, 8, 2, 11, 0, 1, true};
    loader *l = loader_open(&c);
    for (int i = 0; i < 7; i++) tensor_release(loader_next(l));   /* into the second epoch */
    int64_t pos[2];
    loader_position(l, pos);
    tensor *want[3];
    for (int i = 0; i < 3; i++) want[i] = loader_next(l);
    loader_close(l);
    loader *m = loader_open(&c);
    loader_seek(m, pos);
    for (int i = 0; i < 3; i++) {
        tensor *got = loader_next(m);
        EXPECT(memcmp(got->data, want[i]->data, (size_t)got->numel * 4) == 0, "batch %d after seek differs", i);
        tensor_release(got);
        tensor_release(want[i]);
    }
    loader_close(m);
    /* clips shorter than the window: skipped with a count, or an error naming the clip */
    loader_config longer = {path, 7, 1, 8, 1, 11, 0, 1, true};
    EXPECT(loader_open(&longer) == NULL && strstr(vaec_last_error(), "clip 0"), "short clips: %s", vaec_last_error());
    unlink(path);
}
