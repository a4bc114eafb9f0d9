/* test_cli_data.c: `vaec data make` and `vaec data info` run as users run them: synthetic datasets,
 * PNG frame folders (resize + centre crop), and imports that fail leave no file behind. */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/check.h"
#include "data/h5video.h"
#include "tests/harness/image_files.h"   // defines: test_write_solid_png
#include "tests/harness/test.h"


TEST(test_cli_data_make_synthetic_and_info) {
    char path[256], cmd[1024], out[8192];
    snprintf(path, sizeof path, "/tmp/vaec_cli_data_%d.h5", (int)getpid());
    snprintf(cmd, sizeof cmd, "%s/vaec data make --synthetic 3 --out %s --size 32 --num-frames 5", VAEC_BIN_DIR, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "make failed:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s/vaec data info %s --verify", VAEC_BIN_DIR, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "clips: 3\n") && strstr(out, "frames: 15\n") &&
               strstr(out, "32x32") && strstr(out, "verify: ok"),
           "info:\n%s", out);
    /* the same seed gives the same file contents; --compress reads back the same */
    char path2[300];
    snprintf(path2, sizeof path2, "%s.gz.h5", path);
    snprintf(cmd, sizeof cmd, "%s/vaec data make --synthetic 3 --out %s --size 32 --num-frames 5 --compress", VAEC_BIN_DIR,
             path2);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "make --compress:\n%s", out);
    h5video *a = h5video_open(path), *b = h5video_open(path2);
    EXPECT(a && b, "open: %s", vaec_last_error());
    if (a && b) {
        uint8_t x[5 * 32 * 32 * 3], y[5 * 32 * 32 * 3];
        for (int k = 0; k < 3; k++) {
            EXPECT(h5video_read(a, k, 0, 5, x) == 0 && h5video_read(b, k, 0, 5, y) == 0, "%s", vaec_last_error());
            EXPECT(memcmp(x, y, sizeof x) == 0, "clip %d differs between runs", k);
        }
    }
    h5video_close(a);
    h5video_close(b);
    unlink(path);
    unlink(path2);
}

/* DIR/clip_a (3 frames 40x24), DIR/clip_b (2 frames 20x30), each frame one colour */
static void make_frame_dirs(const char *dir) {
    char p[512];
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/clip_a", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/clip_b", dir);
    mkdir(p, 0755);
    for (int t = 0; t < 3; t++) {
        uint8_t c[3] = {(uint8_t)(10 * t), 100, 200};
        snprintf(p, sizeof p, "%s/clip_a/%04d.png", dir, t);
        test_write_solid_png(p, 40, 24, c);
    }
    for (int t = 0; t < 2; t++) {
        uint8_t c[3] = {7, (uint8_t)(50 + t), 9};
        snprintf(p, sizeof p, "%s/clip_b/f%d.png", dir, t);
        test_write_solid_png(p, 20, 30, c);
    }
}

TEST(test_cli_data_make_frames) {
    char dir[256], path[300], cmd[1024], out[8192];
    snprintf(dir, sizeof dir, "/tmp/vaec_cli_frames_%d", (int)getpid());
    snprintf(path, sizeof path, "%s.h5", dir);
    make_frame_dirs(dir);
    snprintf(cmd, sizeof cmd, "%s/vaec data make --frames %s --out %s --size 16", VAEC_BIN_DIR, dir, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "make --frames:\n%s", out);
    h5video *v = h5video_open(path);
    EXPECT(v && h5video_num_clips(v) == 2, "open: %s", vaec_last_error());
    if (v && h5video_num_clips(v) == 2) {
        int64_t T, H, W;
        uint8_t px[3 * 16 * 16 * 3];
        EXPECT(h5video_clip_shape(v, 0, &T, &H, &W) == 0 && T == 3 && H == 16 && W == 16, "clip_a shape");
        EXPECT(h5video_read(v, 0, 0, 3, px) == 0, "%s", vaec_last_error());
        /* a flat colour survives bilinear resizing exactly */
        EXPECT(px[0] == 0 && px[1] == 100 && px[2] == 200 && px[2 * 768 + 767] == 200 && px[2 * 768 + 765] == 20,
               "clip_a pixels %d %d %d", px[0], px[1], px[2]);
        EXPECT(h5video_clip_shape(v, 1, &T, &H, &W) == 0 && T == 2 && H == 16 && W == 16, "clip_b shape");
        EXPECT(h5video_read(v, 1, 1, 1, px) == 0 && px[0] == 7 && px[1] == 51 && px[2] == 9, "clip_b pixels");
    }
    h5video_close(v);
    /* --num-frames keeps the first T frames of each clip */
    snprintf(cmd, sizeof cmd, "(%s/vaec data make --frames %s --out %s --size 8 --num-frames 2 && %s/vaec data info %s)",
             VAEC_BIN_DIR, dir, path, VAEC_BIN_DIR, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "frames: 4\n") && strstr(out, "8x8"), "--num-frames:\n%s", out);
    /* a clip with an unreadable PNG: non-zero exit naming it, no output file, the old file untouched */
    char bad[512];
    snprintf(bad, sizeof bad, "%s/clip_b/f9.png", dir);
    FILE *f = fopen(bad, "w");
    fprintf(f, "not a png\n");
    fclose(f);
    char newpath[320];
    snprintf(newpath, sizeof newpath, "%s.new.h5", dir);
    snprintf(cmd, sizeof cmd, "%s/vaec data make --frames %s --out %s --size 16", VAEC_BIN_DIR, dir, newpath);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "f9.png") && strstr(out, "clip 1"), "bad png:\n%s", out);
    EXPECT(access(newpath, F_OK) != 0 && !test_tmp_left(newpath), "a failed import left %s or its temporary file", newpath);
    snprintf(cmd, sizeof cmd, "%s/vaec data make --frames %s --out %s --size 16", VAEC_BIN_DIR, dir, path);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0, "bad png accepted:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s/vaec data info %s", VAEC_BIN_DIR, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "frames: 4\n") && !test_tmp_left(path),
           "a failed import damaged the existing %s:\n%s", path, out);
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, path);
    EXPECT(system(cmd) == 0, "cleanup");
}

TEST(test_cli_data_errors) {
    char cmd[1024], out[8192], path[256];
    snprintf(cmd, sizeof cmd, "%s/vaec data make --videos /tmp --frames /tmp --out /tmp/vaec_never.h5", VAEC_BIN_DIR);
    EXPECT(test_run_command(cmd, out, sizeof out) == 2 && strstr(out, "give one of") && access("/tmp/vaec_never.h5", F_OK) != 0,
           "two sources:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s/vaec data make --synthetic 2 --out /nonexistent/x.h5", VAEC_BIN_DIR);
    EXPECT(test_run_command(cmd, out, sizeof out) == 1 && strstr(out, "/nonexistent/x.h5"), "bad --out:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s/vaec data make --synthetic 2 --size 0 --out /tmp/vaec_never.h5", VAEC_BIN_DIR);
    EXPECT(test_run_command(cmd, out, sizeof out) == 2 && strstr(out, "--size"), "bad --size:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s/vaec data make --frames /nonexistent/dir --out /tmp/vaec_never.h5", VAEC_BIN_DIR);
    EXPECT(test_run_command(cmd, out, sizeof out) == 1 && strstr(out, "/nonexistent/dir") && access("/tmp/vaec_never.h5", F_OK) != 0,
           "missing --frames dir:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s/vaec data info /nonexistent/x.h5", VAEC_BIN_DIR);
    EXPECT(test_run_command(cmd, out, sizeof out) == 1 && strstr(out, "/nonexistent/x.h5"), "info missing:\n%s", out);
    /* --verify reports the first bad clip by index */
    snprintf(path, sizeof path, "/tmp/vaec_cli_data_bad_%d.h5", (int)getpid());
    snprintf(cmd, sizeof cmd, "%s/vaec data make --synthetic 3 --size 16 --num-frames 4 --compress --out %s", VAEC_BIN_DIR, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "make:\n%s", out);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, "clips/000001", H5P_DEFAULT);
    hsize_t coord[4] = {0}, size = 0;
    haddr_t addr = 0;
    unsigned mask;
    EXPECT(H5Dget_chunk_info_by_coord(d, coord, &mask, &addr, &size) >= 0, "chunk info");
    H5Dclose(d);
    H5Fclose(f);
    FILE *fp = fopen(path, "r+b");
    fseek(fp, (long)(addr + 2), SEEK_SET);
    for (hsize_t i = 2; i < size; i++) fputc(0xa5, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "%s/vaec data info %s --verify", VAEC_BIN_DIR, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 1 && strstr(out, "bad clip 1") && strstr(out, "clips: 3"), "verify:\n%s", out);
    unlink(path);
}
