/* test_preview.c: the reconstruction preview PNG: layout (input row above reconstruction row) and pixels. */
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
    EXPECT(img.width == 15 && img.height == 8, "preview is %ux%u, expected 15x8 (3 frames of 5 wide, 2 rows of 4)", img.width,
           img.height);
    EXPECT(buf[0] == 0 && buf[(4 * 15) * 3] == 255, "top row is the input (-1 -> 0), bottom the reconstruction (1 -> 255)");
    EXPECT(buf[((1 * 15) + 2 * 5 + 3) * 3 + 1] == 128, "pixel placement: %u", buf[((1 * 15) + 2 * 5 + 3) * 3 + 1]);
    free(buf);
    unlink(path);
    tensor *bad = tensor_zeros(SHAPE(1, 3, 4, 5, 2));
    EXPECT(preview_write_png(path, x, bad, 9) != 0 && strstr(vaec_last_error(), "(1,3,4,5,2)"), "shape mismatch");
    tensor_release(bad);
    tensor_release(x);
    tensor_release(xr);
}
