/* test_cli_data_videos.c: `vaec data make --videos` on real encoded videos made at test time with the
 * ffmpeg command line (H.264 in mp4, VP8 in webm): frame counts, sizes, fps and source attributes, and
 * pixels against ffmpeg's own RGB decode (after the same resize + crop) and against the source colour;
 * undecodable, truncated and missing videos, an empty folder, --strict. Without the ffmpeg command
 * line these tests fail and say to run scripts/install-deps.sh: CI installs it. */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/check.h"
#include "data/h5video.h"
#include "data/resize.h"
#include "data/video_decode.h"
#include "tests/harness/test.h"
#include "tests/harness/video_files.h"   // defines: video_files_ffmpeg, video_files_need_ffmpeg

/* H.264 when this ffmpeg has libx264, else MPEG-4 part 2 (always built in) */
static const char *mp4_codec(void) {
    char out[65536];
    test_run_command("ffmpeg -hide_banner -encoders", out, sizeof out);
    return strstr(out, "libx264") ? "libx264 -pix_fmt yuv420p" : "mpeg4 -q:v 2";
}

static void make_dir(char *dir, size_t n, const char *stem) {
    snprintf(dir, n, "/tmp/vaec_vid_%d_%s", (int)getpid(), stem);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    EXPECT(system(cmd) == 0, "mkdir %s", dir);
}
static void remove_all(const char *dir) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s.h5 %s.h5.tmp.*", dir, dir, dir);
    EXPECT(system(cmd) == 0, "cleanup %s", dir);
}

static double attr_double(hid_t obj, const char *name) {
    double v = -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a >= 0) H5Aread(a, H5T_NATIVE_DOUBLE, &v), H5Aclose(a);
    return v;
}
static void attr_string(hid_t obj, const char *name, char *buf, size_t n) {
    buf[0] = 0;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);   /* as vaec writes it */
    char *s = NULL;
    if (a >= 0 && H5Aread(a, t, &s) >= 0 && s) snprintf(buf, n, "%s", s), H5free_memory(s);
    H5Tclose(t);
    if (a >= 0) H5Aclose(a);
}

/* clip `clip` of `h5` against ffmpeg's rgb24 decode of `video` (W x H, T frames) resized + cropped to S
 * by the same code: the decoders and the RGB conversion are FFmpeg's on both sides */
static void expect_matches_ffmpeg(const char *h5, int clip, const char *video, int T, int W, int H, int S) {
    char raw[512], args[1200];
    snprintf(raw, sizeof raw, "%s.rgb", video);
    snprintf(args, sizeof args, "-i %s -f rawvideo -pix_fmt rgb24 %s", video, raw);
    if (!video_files_ffmpeg(args)) return;
    size_t frame = (size_t)W * H * 3;
    uint8_t *ref = xmalloc(frame * T + 1), *want = xmalloc((size_t)S * S * 3), *got = xmalloc((size_t)T * S * S * 3);
    FILE *f = fopen(raw, "rb");
    size_t n = f ? fread(ref, 1, frame * T + 1, f) : 0;
    if (f) fclose(f);
    EXPECT(n == frame * T, "ffmpeg decoded %zu bytes of %s, want %d frames of %dx%d", n, video, T, W, H);
    h5video *v = h5video_open(h5);
    int64_t t, hh, ww;
    EXPECT(v && h5video_clip_shape(v, clip, &t, &hh, &ww) == 0 && t == T && hh == S && ww == S,
           "clip %d of %s: want (%d,%d,%d,3): %s", clip, h5, T, S, S, vaec_last_error());
    if (n == frame * T && v && t == T && hh == S && h5video_read(v, clip, 0, T, got) == 0) {
        double sum = 0;
        int worst = 0;
        for (int k = 0; k < T; k++) {
            resize_crop_square(ref + frame * k, W, H, W * 3, S, want);
            for (int i = 0; i < S * S * 3; i++) {
                int d = abs((int)want[i] - (int)got[(size_t)k * S * S * 3 + i]);
                sum += d;
                if (d > worst) worst = d;
            }
        }
        double mean = sum / ((double)T * S * S * 3);
        EXPECT(mean < 1.0 && worst <= 16, "%s: mean |vaec - ffmpeg| %.3f (< 1), max %d (<= 16)", video, mean, worst);
    }
    h5video_close(v);
    free(ref), free(want), free(got);
    unlink(raw);
}

TEST(test_cli_data_make_videos_matches_ffmpeg) {
    if (!video_files_need_ffmpeg()) return;
    char dir[256], path[300], args[1200], cmd[1500], out[8192];
    make_dir(dir, sizeof dir, "ok");
    snprintf(path, sizeof path, "%s.h5", dir);
    /* a: testsrc2 64x48, 9 frames at 8 fps (mp4); b: 40x30, 5 frames at 10 fps (webm, VP8);
     * c: one flat colour, to check the colour conversion against the source itself */
    snprintf(args, sizeof args, "-f lavfi -i testsrc2=size=64x48:rate=8 -frames:v 9 -c:v %s %s/a.mp4", mp4_codec(), dir);
    bool ok = video_files_ffmpeg(args);
    snprintf(args, sizeof args, "-f lavfi -i testsrc2=size=40x30:rate=10 -frames:v 5 -c:v libvpx -b:v 1M %s/b.webm", dir);
    ok &= video_files_ffmpeg(args);
    snprintf(args, sizeof args, "-f lavfi -i color=c=0x3080C0:size=32x32:rate=4 -frames:v 3 -c:v %s %s/c.mkv",
             mp4_codec(), dir);
    ok &= video_files_ffmpeg(args);
    if (!ok) { remove_all(dir); return; }
    snprintf(cmd, sizeof cmd, "%s/vaec data make --videos %s --out %s --size 24", VAEC_BIN_DIR, dir, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "3 clips, 17 frames, 24x24"), "make:\n%s", out);
    snprintf(args, sizeof args, "%s/a.mp4", dir);
    expect_matches_ffmpeg(path, 0, args, 9, 64, 48, 24);
    snprintf(args, sizeof args, "%s/b.webm", dir);
    expect_matches_ffmpeg(path, 1, args, 5, 40, 30, 24);
    /* the flat colour within codec tolerance of the source, fps and source attributes */
    h5video *v = h5video_open(path);
    uint8_t px[3 * 24 * 24 * 3];
    EXPECT(v && h5video_read(v, 2, 0, 3, px) == 0, "clip 2: %s", vaec_last_error());
    int worst = 0;
    for (int i = 0; i < (int)sizeof px; i++) {
        int want = (int[]){0x30, 0x80, 0xC0}[i % 3], d = abs((int)px[i] - want);
        if (d > worst) worst = d;
    }
    EXPECT(worst <= 4, "flat colour 30 80 C0 decoded %02x %02x %02x, max error %d (<= 4)", px[0], px[1], px[2], worst);
    h5video_close(v);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    const char *names[3] = {"a.mp4", "b.webm", "c.mkv"};
    double fps[3] = {8, 10, 4};
    for (int k = 0; k < 3; k++) {
        char ds[32], src[512];
        snprintf(ds, sizeof ds, "clips/%06d", k);
        hid_t d = H5Dopen2(f, ds, H5P_DEFAULT);
        attr_string(d, "source", src, sizeof src);
        double got = attr_double(d, "fps");
        EXPECT(strstr(src, names[k]) && got > fps[k] - 1e-6 && got < fps[k] + 1e-6, "clip %d: source '%s' fps %g, want %s at %g",
               k, src, got, names[k], fps[k]);
        H5Dclose(d);
    }
    H5Fclose(f);
    /* --num-frames keeps the first T frames of each video */
    snprintf(cmd, sizeof cmd, "(%s/vaec data make --videos %s --out %s --size 8 --num-frames 4 && %s/vaec data info %s)",
             VAEC_BIN_DIR, dir, path, VAEC_BIN_DIR, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "clips: 3\n") && strstr(out, "frames: 11\n") &&
               strstr(out, "8x8"), "--num-frames 4:\n%s", out);
    remove_all(dir);
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

TEST(test_cli_data_make_videos_bad_input) {
    if (!video_files_need_ffmpeg()) return;
    char dir[256], path[300], args[1200], cmd[1500], out[8192], file[512];
    make_dir(dir, sizeof dir, "bad");
    snprintf(path, sizeof path, "%s.h5", dir);
    /* an empty folder: exit 1, naming it, no file */
    snprintf(cmd, sizeof cmd, "%s/vaec data make --videos %s --out %s", VAEC_BIN_DIR, dir, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 1 && strstr(out, dir) && strstr(out, "no video files") &&
               !exists(path) && !test_tmp_left(path), "empty folder:\n%s", out);
    /* a missing folder */
    snprintf(cmd, sizeof cmd, "%s/vaec data make --videos %s/nope --out %s", VAEC_BIN_DIR, dir, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 1 && strstr(out, "nope") && !exists(path), "missing folder:\n%s", out);
    /* random bytes named .mp4, a webm cut in half, a good video, a text file */
    snprintf(file, sizeof file, "%s/a_random.mp4", dir);
    FILE *f = fopen(file, "wb");
    for (int i = 0; i < 4096; i++) fputc((i * 2654435761u) >> 13 & 255, f);
    fclose(f);
    snprintf(args, sizeof args, "-f lavfi -i testsrc2=size=32x24:rate=8 -frames:v 40 -c:v libvpx -b:v 1M %s/full.webm", dir);
    bool ok = video_files_ffmpeg(args);
    snprintf(args, sizeof args, "-f lavfi -i testsrc2=size=32x24:rate=8 -frames:v 6 -c:v %s %s/c_good.mp4", mp4_codec(), dir);
    ok &= video_files_ffmpeg(args);
    snprintf(cmd, sizeof cmd, "head -c $(( $(stat -c %%s %s/full.webm) / 2 )) %s/full.webm > %s/b_cut.webm && rm %s/full.webm "
             "&& echo notes > %s/readme.txt", dir, dir, dir, dir, dir);
    ok &= system(cmd) == 0;
    EXPECT(ok, "making the test videos failed");
    /* default: the bad ones are skipped with a warning naming each, and counted */
    snprintf(cmd, sizeof cmd, "%s/vaec data make --videos %s --out %s --size 16", VAEC_BIN_DIR, dir, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "warning: skipping") && strstr(out, "a_random.mp4") &&
               strstr(out, "b_cut.webm") && strstr(out, "truncated") && strstr(out, "skipped 2 undecodable videos") &&
               strstr(out, "ignored 1 file") && strstr(out, "1 clips, 6 frames"),
           "skip:\n%s", out);
    h5video *v = h5video_open(path);
    EXPECT(v && h5video_num_clips(v) == 1, "the good video only: %s", vaec_last_error());
    h5video_close(v);
    unlink(path);
    /* --strict: the first bad video is an error naming it; nothing written */
    snprintf(cmd, sizeof cmd, "%s/vaec data make --videos %s --out %s --size 16 --strict", VAEC_BIN_DIR, dir, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 1 && strstr(out, "error") && strstr(out, "a_random.mp4") &&
               strstr(out, "nothing written") && !exists(path) && !test_tmp_left(path),
           "--strict:\n%s", out);
    /* only undecodable videos: an error, no file */
    snprintf(cmd, sizeof cmd, "rm %s/c_good.mp4 && %s/vaec data make --videos %s --out %s --size 16", dir, VAEC_BIN_DIR,
             dir, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 1 && strstr(out, "none of its 2 video files") && !exists(path) &&
               !test_tmp_left(path), "all bad:\n%s", out);
    remove_all(dir);
}
