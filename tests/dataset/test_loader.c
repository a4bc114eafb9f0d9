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

/* n batches from a loader with `workers` threads, seeking to `seek` (if given) first */
static tensor **read_batches(const char *path, int workers, int n, const int64_t *seek) {
    loader_config c = {path, 3, 1, 8, 2, 5, 0, 1, true, workers};
    loader *l = loader_open(&c);
    EXPECT(l != NULL && loader_num_workers(l) == workers, "loader with %d workers: %s", workers, vaec_last_error());
    if (!l) return NULL;
    if (seek) loader_seek(l, seek);
    tensor **b = xcalloc((size_t)n, sizeof *b);
    for (int i = 0; i < n; i++) b[i] = loader_next(l);
    loader_close(l);
    return b;
}

TEST(test_loader_batches_do_not_depend_on_workers) {
    char path[128];
    tmp(path, sizeof path, "workers");
    synthetic_file(path, 10, 6, 8);   /* 5 batches an epoch: 12 batches cross two epoch boundaries */
    tensor **one = read_batches(path, 1, 12, NULL);
    int workers[3] = {2, 3, 7};
    for (int k = 0; k < 3 && one; k++) {
        tensor **got = read_batches(path, workers[k], 12, NULL);
        for (int i = 0; got && i < 12; i++) {
            EXPECT(got[i] && memcmp(got[i]->data, one[i]->data, (size_t)got[i]->numel * 4) == 0,
                   "batch %d with %d workers differs from 1 worker", i, workers[k]);
            tensor_release(got[i]);
        }
        free(got);
    }
    /* a seek with several workers in flight lands on the same batches */
    int64_t pos[2] = {1, 3};   /* batch 8 */
    tensor **sought = read_batches(path, 3, 4, pos);
    for (int i = 0; sought && one && i < 4; i++) {
        EXPECT(memcmp(sought[i]->data, one[8 + i]->data, (size_t)sought[i]->numel * 4) == 0, "batch %d after seek", 8 + i);
        tensor_release(sought[i]);
    }
    free(sought);
    for (int i = 0; one && i < 12; i++) tensor_release(one[i]);
    free(one);
    loader_config bad = {path, 3, 1, 8, 2, 5, 0, 1, true, LOADER_MAX_WORKERS + 1};
    EXPECT(loader_open(&bad) == NULL && strstr(vaec_last_error(), "workers"), "too many workers: %s", vaec_last_error());
    unlink(path);
}

TEST(test_loader_frame_interval_takes_every_kth_frame) {
    char path[128];
    tmp(path, sizeof path, "interval");
    h5video_writer *w = h5video_create(path, false);
    uint8_t f[9 * 8 * 8 * 3];
    for (int t = 0; t < 9; t++) memset(f + t * 192, 20 * t, 192);   /* frame t is all 20*t */
    EXPECT(h5video_append(w, f, 9, 8, 8, "ramp", 8) == 0 && h5video_append(w, f, 4, 8, 8, "short", 8) == 0 &&
               h5video_finish(w) == 0, "%s", vaec_last_error());
    /* 3 frames 3 apart span 7 frames: the 4-frame clip is skipped */
    loader_config c = {path, 3, 3, 8, 1, 9, 0, 1, false, 1};
    loader *l = loader_open(&c);
    EXPECT(l && loader_num_clips(l) == 1 && loader_num_skipped(l) == 1, "loader: %s", vaec_last_error());
    for (int i = 0; l && i < 4; i++) {
        tensor *x = loader_next(l);
        const float *p = tensor_f32(x);
        int v[3];
        for (int t = 0; t < 3; t++) v[t] = (int)((p[t * 192 + 100] + 1.0f) * 127.5f + 0.5f);
        EXPECT(v[1] - v[0] == 60 && v[2] - v[1] == 60 && v[0] % 20 == 0 && v[2] <= 160,
               "batch %d: frames %d %d %d, want 20*t0 + 0, 60, 120", i, v[0], v[1], v[2]);
        tensor_release(x);
    }
    loader_close(l);
    unlink(path);
}
