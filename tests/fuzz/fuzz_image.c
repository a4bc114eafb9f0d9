/* fuzz_image.c: the PNG/JPEG frame decoder of `vaec data make --frames` (image_load_rgb). */
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include "core/check.h"                // defines: vaec_set_error
#include "data/image_file.h"           // defines: image_load_rgb
#include "tests/fuzz/fuzz_targets.h"   // defines: fuzz_write_file, fuzz_rejected
#ifdef VAEC_HAVE_JPEG
#include <jpeglib.h>
#endif

int fuzz_image(const uint8_t *data, size_t n) {
    const char *path = fuzz_tmp_path("frame.img");
    if (fuzz_write_file(path, data, n) != 0) return fuzz_rejected(path);
    int w = 0, h = 0;
    uint8_t *px = image_load_rgb(path, &w, &h);
    if (!px) return fuzz_rejected(path);
    if (w < 1 || h < 1) abort();                                  /* a decoded frame has pixels */
    volatile uint8_t last = px[(size_t)w * (size_t)h * 3 - 1];    /* ... and all of them are in the buffer */
    (void)last;
    free(px);
    return FUZZ_LOADED;
}

/* a w x h RGB PNG, grey+alpha PNG or palette PNG through libpng's writer (as vaec's tests write frames) */
static int seed_png(const char *dir, const char *name, int w, int h, png_uint_32 format) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w, img.height = (png_uint_32)h, img.format = format;
    uint8_t px[8 * 8 * 4], cmap[256 * 3];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 13);
    for (size_t i = 0; i < sizeof cmap; i++) cmap[i] = (uint8_t)(i * 5);
    if (format & PNG_FORMAT_FLAG_COLORMAP) {
        img.colormap_entries = 4;
        for (size_t i = 0; i < sizeof px; i++) px[i] &= 3;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!png_image_write_to_file(&img, path, 0, px, 0, (format & PNG_FORMAT_FLAG_COLORMAP) ? cmap : NULL))
        return vaec_set_error("%s: %s", path, img.message);
    return 0;
}

#ifdef VAEC_HAVE_JPEG
static int seed_jpeg(const char *dir, const char *name, int w, int h, int progressive) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return vaec_set_error("cannot create %s", path);
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = (JDIMENSION)w, ci.image_height = (JDIMENSION)h, ci.input_components = 3, ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 75, TRUE);
    if (progressive) jpeg_simple_progression(&ci);
    jpeg_start_compress(&ci, TRUE);
    uint8_t row[16 * 3];
    while (ci.next_scanline < ci.image_height) {
        for (int x = 0; x < w * 3; x++) row[x] = (uint8_t)(x * 9 + ci.next_scanline * 31);
        JSAMPROW r = row;
        jpeg_write_scanlines(&ci, &r, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    fclose(f);
    return 0;
}
#endif

int fuzz_seeds_image(const char *dir) {
    if (seed_png(dir, "rgb_4x3.png", 4, 3, PNG_FORMAT_RGB) || seed_png(dir, "grey_alpha_5x2.png", 5, 2, PNG_FORMAT_GA) ||
        seed_png(dir, "palette_3x3.png", 3, 3, PNG_FORMAT_RGB_COLORMAP) || seed_png(dir, "rgba16_2x2.png", 2, 2, PNG_FORMAT_LINEAR_RGB_ALPHA))
        return -1;
#ifdef VAEC_HAVE_JPEG
    if (seed_jpeg(dir, "baseline_16x8.jpg", 16, 8, 0) || seed_jpeg(dir, "progressive_8x8.jpg", 8, 8, 1)) return -1;
#endif
    return 0;
}
