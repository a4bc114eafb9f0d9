/* test_cli_data_jpeg.c: `vaec data make --frames` with JPEG frames (colour and grey, mixed with PNG in
 * one clip), and a truncated JPEG refused with a message naming it. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/check.h"
#include "data/h5video.h"
#include "tests/harness/image_files.h"   // defines: test_write_solid_png
#include "tests/harness/test.h"
#ifdef VAEC_HAVE_JPEG
#include <jpeglib.h>

/* a w x h JPEG of one colour (grey when `grey`), quality 95 */
static void write_jpeg(const char *path, int w, int h, const uint8_t rgb[3], bool grey) {
    FILE *f = fopen(path, "wb");
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w, c.image_height = (JDIMENSION)h;
    c.input_components = grey ? 1 : 3;
    c.in_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    uint8_t *row = xmalloc((size_t)w * 3);
    for (int x = 0; x < w; x++) memcpy(row + (grey ? x : 3 * x), rgb, grey ? 1 : 3);
    while (c.next_scanline < c.image_height) jpeg_write_scanlines(&c, &row, 1);
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    fclose(f);
}
#endif

/* every pixel of frame t of clip k within tol of rgb */
static void expect_colour(h5video *v, int k, int t, const uint8_t rgb[3], int tol) {
    uint8_t px[16 * 16 * 3];
    EXPECT(h5video_read(v, k, t, 1, px) == 0, "clip %d frame %d: %s", k, t, vaec_last_error());
    int worst = 0;
    for (int i = 0; i < (int)sizeof px; i++) worst = abs((int)px[i] - rgb[i % 3]) > worst ? abs((int)px[i] - rgb[i % 3]) : worst;
    EXPECT(worst <= tol, "clip %d frame %d: %d %d %d, want %d %d %d (+-%d)", k, t, px[0], px[1], px[2], rgb[0], rgb[1],
           rgb[2], tol);
}

TEST(test_cli_data_make_jpeg_frames) {
#ifndef VAEC_HAVE_JPEG
    EXPECT(false, "this build has no libjpeg (JPEG frames): run scripts/install-deps.sh, then rebuild");
#else
    char dir[256], path[300], p[512], cmd[1500], out[8192];
    snprintf(dir, sizeof dir, "/tmp/vaec_jpeg_%d", (int)getpid());
    snprintf(path, sizeof path, "%s.h5", dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/a %s/b", dir, dir, dir);
    EXPECT(system(cmd) == 0, "mkdir");
    const uint8_t c0[3] = {200, 40, 90}, c1[3] = {30, 160, 220}, g[3] = {77, 77, 77}, png[3] = {5, 250, 128};
    snprintf(p, sizeof p, "%s/a/0001.jpg", dir);
    write_jpeg(p, 40, 24, c0, false);
    snprintf(p, sizeof p, "%s/a/0002.JPEG", dir);
    write_jpeg(p, 40, 24, c1, false);
    snprintf(p, sizeof p, "%s/a/0003.jpeg", dir);
    write_jpeg(p, 40, 24, g, true);
    snprintf(p, sizeof p, "%s/b/0001.png", dir);   /* PNG and JPEG in one clip */
    test_write_solid_png(p, 20, 30, png);
    snprintf(p, sizeof p, "%s/b/0002.jpg", dir);
    write_jpeg(p, 20, 30, c0, false);
    snprintf(cmd, sizeof cmd, "%s/vaec data make --frames %s --out %s --size 16", VAEC_BIN_DIR, dir, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "2 clips, 5 frames"), "make:\n%s", out);
    h5video *v = h5video_open(path);
    int64_t T = 0;
    EXPECT(v && h5video_clip_shape(v, 0, &T, NULL, NULL) == 0 && T == 3, "open: %s", vaec_last_error());
    if (v && T == 3) {
        expect_colour(v, 0, 0, c0, 3);   /* JPEG: flat colours within a few levels */
        expect_colour(v, 0, 1, c1, 3);
        expect_colour(v, 0, 2, g, 1);
        expect_colour(v, 1, 0, png, 0);   /* PNG: exact */
        expect_colour(v, 1, 1, c0, 3);
    }
    h5video_close(v);
    unlink(path);
    /* a JPEG cut short: exit 1 naming it and the clip, no file */
    snprintf(cmd, sizeof cmd, "head -c 300 %s/a/0001.jpg > %s/b/0003.jpg && %s/vaec data make --frames %s --out %s --size 16",
             dir, dir, VAEC_BIN_DIR, dir, path);
    EXPECT(test_run_command(cmd, out, sizeof out) == 1 && strstr(out, "0003.jpg") && strstr(out, "clip 1") &&
               strstr(out, "JPEG") && access(path, F_OK) != 0, "truncated JPEG:\n%s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, path);
    EXPECT(system(cmd) == 0, "cleanup");
#endif
}
