/* test_h5video.c: the HDF5 clip layout round trips exactly, reads a file written by h5py, and writes
 * files h5py reads; synthetic clips are deterministic. Error cases: test_h5video_errors.c. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/check.h"
#include "data/h5video.h"
#include "data/synthetic.h"
#include "tests/harness/test.h"

/* the pattern tests/golden/gen_h5.py writes */
static uint8_t pat(int k, int64_t t, int64_t y, int64_t x, int c) {
    return (uint8_t)((k * 17 + t * 31 + y * 7 + x * 3 + c * 101) % 256);
}
static uint8_t *make_pattern(int k, int64_t T, int64_t H, int64_t W) {
    uint8_t *p = xmalloc((size_t)(T * H * W * 3));
    for (int64_t t = 0; t < T; t++)
        for (int64_t y = 0; y < H; y++)
            for (int64_t x = 0; x < W; x++)
                for (int c = 0; c < 3; c++) p[(((t * H + y) * W + x) * 3) + c] = pat(k, t, y, x, c);
    return p;
}

static const int64_t SHAPES[][3] = {{3, 8, 10}, {4, 6, 5}, {1, 12, 7}, {9, 16, 16}};   /* clip 2: an image */
enum { NSHAPES = 4 };

static void write_patterns(const char *path, bool compress, int n) {
    h5video_writer *w = h5video_create(path, compress);
    EXPECT(w != NULL, "create: %s", vaec_last_error());
    if (!w) return;
    for (int k = 0; k < n; k++) {
        uint8_t *p = make_pattern(k, SHAPES[k][0], SHAPES[k][1], SHAPES[k][2]);
        char src[32];
        snprintf(src, sizeof src, "clip-%d", k);
        EXPECT(h5video_append(w, p, SHAPES[k][0], SHAPES[k][1], SHAPES[k][2], src, 24.0) == 0, "append %d: %s", k,
               vaec_last_error());
        free(p);
    }
    EXPECT(h5video_finish(w) == 0, "finish: %s", vaec_last_error());
}

/* every clip whole and a window of each, against the pattern */
static void check_patterns(const char *path, int n) {
    h5video *v = h5video_open(path);
    EXPECT(v != NULL, "open %s: %s", path, vaec_last_error());
    if (!v) return;
    EXPECT(h5video_num_clips(v) == n, "num_clips %d, want %d", h5video_num_clips(v), n);
    for (int k = 0; k < n && k < h5video_num_clips(v); k++) {
        int64_t T, H, W;
        EXPECT(h5video_clip_shape(v, k, &T, &H, &W) == 0, "shape %d: %s", k, vaec_last_error());
        EXPECT(T == SHAPES[k][0] && H == SHAPES[k][1] && W == SHAPES[k][2], "clip %d shape (%lld,%lld,%lld)", k,
               (long long)T, (long long)H, (long long)W);
        uint8_t *want = make_pattern(k, T, H, W), *got = xmalloc((size_t)(T * H * W * 3));
        memset(got, 0xee, (size_t)(T * H * W * 3));
        EXPECT(h5video_read(v, k, 0, T, got) == 0, "read %d: %s", k, vaec_last_error());
        EXPECT(memcmp(got, want, (size_t)(T * H * W * 3)) == 0, "clip %d differs", k);
        if (T >= 3) {   /* a window in the middle */
            memset(got, 0xee, (size_t)(T * H * W * 3));
            EXPECT(h5video_read(v, k, 1, T - 2, got) == 0, "window %d: %s", k, vaec_last_error());
            EXPECT(memcmp(got, want + H * W * 3, (size_t)((T - 2) * H * W * 3)) == 0, "clip %d window differs", k);
        }
        free(want);
        free(got);
    }
    h5video_close(v);
}

TEST(test_h5video_roundtrip_exact) {
    char path[256];
    for (int compress = 0; compress < 2; compress++) {
        snprintf(path, sizeof path, "/tmp/vaec_h5_%d_rt%d.h5", (int)getpid(), compress);
        write_patterns(path, compress, NSHAPES);
        check_patterns(path, NSHAPES);
        char tmp[300];
        snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
        EXPECT(access(tmp, F_OK) != 0, "the temporary file %s is left behind", tmp);
        unlink(path);
    }
}

TEST(test_h5video_empty_and_abort) {
    char path[256];
    snprintf(path, sizeof path, "/tmp/vaec_h5_%d_empty.h5", (int)getpid());
    h5video_writer *w = h5video_create(path, false);
    EXPECT(w && h5video_finish(w) == 0, "empty dataset: %s", vaec_last_error());
    h5video *v = h5video_open(path);
    EXPECT(v && h5video_num_clips(v) == 0, "empty dataset reads back with 0 clips: %s", vaec_last_error());
    h5video_close(v);
    /* an aborted writer leaves the old file alone and no temporary file */
    w = h5video_create(path, false);
    uint8_t px[3] = {1, 2, 3};
    EXPECT(w && h5video_append(w, px, 1, 1, 1, "x", 1.0) == 0, "append");
    const char *tmp = w ? h5video_tmp_path(w) : "";
    char tmpc[300];
    snprintf(tmpc, sizeof tmpc, "%s", tmp);
    EXPECT(access(tmpc, F_OK) == 0, "the writer writes %s", tmpc);
    h5video_abort(w);
    EXPECT(access(tmpc, F_OK) != 0, "abort leaves %s", tmpc);
    v = h5video_open(path);
    EXPECT(v && h5video_num_clips(v) == 0, "abort replaced the old file");
    h5video_close(v);
    unlink(path);
}

TEST(test_h5video_reads_h5py_golden) {
    char *path = test_path("tests/golden/h5py_clips.h5");
    check_patterns(path, 3);
    free(path);
}

static long long pattern_sum(int k) {
    long long s = 0;
    for (int64_t t = 0; t < SHAPES[k][0]; t++)
        for (int64_t y = 0; y < SHAPES[k][1]; y++)
            for (int64_t x = 0; x < SHAPES[k][2]; x++)
                for (int c = 0; c < 3; c++) s += pat(k, t, y, x, c);
    return s;
}

/* a file vaec writes, read by h5py: VAEC_PYTHON (default python3) with h5py, else skipped */
TEST(test_h5video_h5py_reads_vaec_file) {
    char path[256], args[2048], out[4096];
    snprintf(path, sizeof path, "/tmp/vaec_h5_%d_py.h5", (int)getpid());
    write_patterns(path, true, NSHAPES);
    int k = snprintf(args, sizeof args, "%s", path);
    for (int i = 0; i < NSHAPES; i++)
        k += snprintf(args + k, sizeof args - (size_t)k, " %lld,%lld,%lld,%lld", (long long)SHAPES[i][0],
                      (long long)SHAPES[i][1], (long long)SHAPES[i][2], pattern_sum(i));
    int code = test_run_python("check_h5_read.py", args, out, sizeof out);
    unlink(path);
    if (code == 77 || code == 127) TEST_SKIP("h5py round trip: no Python with h5py (set VAEC_PYTHON)");
    EXPECT(code == 0, "h5py could not read the vaec file as expected (exit %d):\n%s", code, out);
}

TEST(test_data_synthetic_clips_deterministic) {
    enum { T = 6, H = 24, W = 32 };
    uint8_t *a = xmalloc(T * H * W * 3), *b = xmalloc(T * H * W * 3), *c = xmalloc(T * H * W * 3);
    rng_state r1 = rng_seed(7), r2 = rng_seed(7), r3 = rng_seed(8);
    synthetic_clip(&r1, T, H, W, a);
    synthetic_clip(&r2, T, H, W, b);
    synthetic_clip(&r3, T, H, W, c);
    EXPECT(memcmp(a, b, T * H * W * 3) == 0, "same seed, different clips");
    EXPECT(memcmp(a, c, T * H * W * 3) != 0, "different seeds, same clip");
    EXPECT(r1.offset == r2.offset && r1.offset > 0, "the rng state advances the same way");
    /* next clip from the advanced state differs from the first */
    synthetic_clip(&r1, T, H, W, b);
    EXPECT(memcmp(a, b, T * H * W * 3) != 0, "consecutive clips are equal");
    /* something moves in most clips: count clips whose first and last frames differ */
    int moving = 0;
    rng_state r = rng_seed(1);
    for (int i = 0; i < 20; i++) {
        synthetic_clip(&r, T, H, W, a);
        moving += memcmp(a, a + (T - 1) * H * W * 3, H * W * 3) != 0;
        int bright = 0;   /* shapes are brighter than the dark background */
        for (int p = 0; p < T * H * W * 3; p++) bright += a[p] >= 80;
        EXPECT(bright > 0, "clip %d has no shape", i);
    }
    EXPECT(moving >= 18, "only %d of 20 clips move", moving);
    free(a), free(b), free(c);
}
