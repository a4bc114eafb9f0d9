/* test_h5video.c: the HDF5 video layout: exact round trips, atomic writes, clear errors on bad files;
 * the loader: sharding (two ranks see every clip once per epoch), seeded order, resumable position. */
#include <hdf5.h>
#include <string.h>
#include <unistd.h>
#include "data/h5video.h"
#include "data/loader.h"
#include "data/synthetic.h"
#include "tests/harness/test.h"

static void tmp(char *buf, size_t n, const char *stem) { snprintf(buf, n, "/tmp/vaec_h5_%d_%s.h5", (int)getpid(), stem); }

/* n clips of (T_i, 8+i, 10, 3), frame values a function of (clip, index) */
static void write_clips(const char *path, int n, bool compress) {
    h5video_writer *w = h5video_create(path, compress);
    EXPECT(w != NULL, "create: %s", vaec_last_error());
    for (int c = 0; c < n; c++) {
        int64_t T = c == 0 ? 1 : 3 + c, H = 8 + c, W = 10;
        uint8_t *f = malloc((size_t)(T * H * W * 3));
        for (int64_t i = 0; i < T * H * W * 3; i++) f[i] = (uint8_t)(i * 7 + c * 13);
        EXPECT(h5video_append(w, f, T, H, W, "test", 24.0) == 0, "append: %s", vaec_last_error());
        free(f);
    }
    EXPECT(h5video_finish(w) == 0, "finish: %s", vaec_last_error());
}

TEST(test_h5video_round_trip_exact) {
    for (int compress = 0; compress < 2; compress++) {
        char path[128];
        tmp(path, sizeof path, compress ? "rtc" : "rt");
        write_clips(path, 5, compress);
        h5video *v = h5video_open(path);
        EXPECT(v && h5video_num_clips(v) == 5, "open: %s", vaec_last_error());
        for (int c = 0; v && c < 5; c++) {
            int64_t T, H, W;
            EXPECT(h5video_clip_shape(v, c, &T, &H, &W) == 0 && T == (c == 0 ? 1 : 3 + c) && H == 8 + c && W == 10, "shape %d", c);
            uint8_t *f = malloc((size_t)(T * H * W * 3));
            EXPECT(h5video_read(v, c, 0, T, f) == 0, "read %d", c);
            int bad = 0;
            for (int64_t i = 0; i < T * H * W * 3; i++) bad += f[i] != (uint8_t)(i * 7 + c * 13);
            EXPECT(bad == 0, "clip %d: %d values differ", c, bad);
            if (T > 2) {   /* a window in the middle */
                EXPECT(h5video_read(v, c, 1, 2, f) == 0 && f[0] == (uint8_t)(H * W * 3 * 7 + c * 13), "window read");
            }
            free(f);
        }
        EXPECT(v && h5video_read(v, 1, 3, 5, (uint8_t[4096]){0}) != 0 && strstr(vaec_last_error(), "clip 1"), "out of range");
        h5video_close(v);
        unlink(path);
    }
}

TEST(test_h5video_bad_files_give_clear_errors) {
    char path[128];
    tmp(path, sizeof path, "bad");
    EXPECT(h5video_open("/nonexistent/x.h5") == NULL && strstr(vaec_last_error(), "/nonexistent/x.h5"), "missing file");
    FILE *f = fopen(path, "w");
    fputs("not hdf5 at all", f);
    fclose(f);
    EXPECT(h5video_open(path) == NULL && strstr(vaec_last_error(), "not an HDF5 file"), "not hdf5: %s", vaec_last_error());
    /* an HDF5 file without /clips, then a clip of the wrong dtype and rank */
    hid_t h = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(h);
    EXPECT(h5video_open(path) == NULL && strstr(vaec_last_error(), "no /clips group"), "no clips: %s", vaec_last_error());
    h = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(h, "/clips", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = {4, 4};
    hid_t sp = H5Screate_simple(2, dims, NULL), d = H5Dcreate2(g, "000000", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d), H5Sclose(sp), H5Gclose(g), H5Fclose(h);
    h5video *v = h5video_open(path);
    int64_t T, H, W;
    EXPECT(v && h5video_clip_shape(v, 0, &T, &H, &W) != 0 && strstr(vaec_last_error(), "clip 0") &&
               strstr(vaec_last_error(), "not uint8 (T,H,W,3)"), "wrong dtype: %s", vaec_last_error());
    h5video_close(v);
    /* a truncated file */
    write_clips(path, 3, false);
    EXPECT(truncate(path, 1000) == 0, "truncate");
    v = h5video_open(path);
    bool failed = v == NULL;
    if (v) {
        uint8_t buf[8192];
        failed = h5video_clip_shape(v, 2, &T, &H, &W) != 0 || h5video_read(v, 2, 0, 1, buf) != 0;
        h5video_close(v);
    }
    EXPECT(failed && strstr(vaec_last_error(), path), "a truncated file must fail with its name: %s", vaec_last_error());
    unlink(path);
}

TEST(test_h5video_aborted_write_leaves_nothing) {
    char path[128];
    tmp(path, sizeof path, "abort");
    unlink(path);
    h5video_writer *w = h5video_create(path, false);
    uint8_t f[2 * 4 * 4 * 3] = {0};
    h5video_append(w, f, 2, 4, 4, "x", 1);
    h5video_abort(w);
    EXPECT(access(path, F_OK) != 0, "an aborted dataset exists");
}

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
