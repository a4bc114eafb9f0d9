/* test_preview.c: the reconstruction preview PNG: layout (input row above reconstruction row), pixels, and small
 * frames scaled up by nearest neighbour. */
#include <png.h>
#include <string.h>
#include <unistd.h>
#include "tests/harness/test.h"
#include "train/preview.h"

TEST(test_preview_png_rows_and_pixels) {
    tensor *x = tensor_full(SHAPE(1, 3, 4, 5, 3), -1.0f), *xr = tensor_full(SHAPE(1, 3, 4, 5, 3), 1.0f);
    tensor_f32(x)[((2 * 4 + 1) * 5 + 3) * 3 + 1] = 0.0f;   /* frame 2, y 1, x 3, green: mid grey */
    char path[128];
    snprintf(path, sizeof path, "/tmp/vaec_preview_%d.png", (int)getpid());
    EXPECT(preview_write_png(path, x, xr, 9) == 0, "write: %s", vaec_last_error());
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    EXPECT(png_image_begin_read_from_file(&img, path), "read back");
    img.format = PNG_FORMAT_RGB;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
    EXPECT(png_image_finish_read(&img, NULL, buf, 0, NULL), "decode");
    /* 4x5 frames are scaled by 128 / 5 = 25 (nearest neighbour): 3 frames of 125 wide, 2 rows of 100 */
    EXPECT(preview_scale(4, 5) == 25 && preview_scale(32, 32) == 4 && preview_scale(128, 100) == 1 &&
               preview_scale(200, 300) == 1, "scale factors %lld %lld %lld", (long long)preview_scale(4, 5),
           (long long)preview_scale(32, 32), (long long)preview_scale(128, 100));
    EXPECT(img.width == 375 && img.height == 200, "preview is %ux%u, expected 375x200 (3 frames of 5 wide, 2 rows of 4, "
           "times 25)", img.width, img.height);
    if (img.width == 375 && img.height == 200) {
        EXPECT(buf[0] == 0 && buf[(100 * 375) * 3] == 255, "top row is the input (-1 -> 0), bottom the reconstruction "
               "(1 -> 255)");
        /* frame 2, y 1, x 3 covers pixels y 25..49, x 2*125 + 75 .. + 99: all mid grey, its neighbours not */
        int grey = 0, inside = 0;
        for (int y = 0; y < 100; y++)
            for (int xx = 0; xx < 375; xx++) {
                bool in = y >= 25 && y < 50 && xx >= 325 && xx < 350;
                uint8_t g = buf[(y * 375 + xx) * 3 + 1];
                grey += g == 128, inside += in && g == 128;
            }
        EXPECT(grey == 625 && inside == 625, "the grey pixel must be one 25x25 square at (325, 25): %d grey, %d inside",
               grey, inside);
    }
    free(buf);
    unlink(path);
    tensor *bad = tensor_zeros(SHAPE(1, 3, 4, 5, 2));
    EXPECT(preview_write_png(path, x, bad, 9) != 0 && strstr(vaec_last_error(), "(1,3,4,5,2)"), "shape mismatch");
    tensor_release(bad);
    tensor_release(x);
    tensor_release(xr);
}
