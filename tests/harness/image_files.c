/* image_files.c: image files for the data tests (see image_files.h). */
#include "tests/harness/image_files.h"
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include "core/check.h"          // defines: xmalloc
#include "tests/harness/test.h"  // defines: EXPECT

void test_write_solid_png(const char *path, int w, int h, const uint8_t rgb[3]) {
    uint8_t *px = xmalloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++) memcpy(px + 3 * i, rgb, 3);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w, img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGB;
    EXPECT(png_image_write_to_file(&img, path, 0, px, 0, NULL), "write %s", path);
    free(px);
}
