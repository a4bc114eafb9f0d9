/* image_file.c: PNG (libpng's simplified API) and JPEG (libjpeg-turbo) frames to RGB (see image_file.h). */
#include "data/image_file.h"
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/check.h"   // defines: vaec_set_error, xmalloc
#ifdef VAEC_HAVE_JPEG
#include <jpeglib.h>
#endif

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && !strcasecmp(s + n - k, suffix);
}

bool image_is_frame_name(const char *name) {
    return ends_with(name, ".png") || ends_with(name, ".jpg") || ends_with(name, ".jpeg");
}

/* The largest frame vaec decodes: 16K a side and 2^27 pixels (384 MiB of RGB; 8K video is 33M pixels). A few
 * corrupt header bytes can claim 60000 x 60000 (10.8 GB, found by fuzz_image); refused before allocating. */
#define IMAGE_MAX_SIDE 16384
#define IMAGE_MAX_PIXELS (1ll << 27)

static int check_size(const char *path, const char *kind, long long w, long long h) {
    if (w >= 1 && h >= 1 && w <= IMAGE_MAX_SIDE && h <= IMAGE_MAX_SIDE && w * h <= IMAGE_MAX_PIXELS) return 0;
    return vaec_set_error("%s: the %s header says %lld x %lld pixels, more than vaec reads (at most %d a side, %lld "
                          "pixels): corrupt file?", path, kind, w, h, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
}

static uint8_t *load_png(const char *path, int *w, int *h) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) {
        vaec_set_error("%s: not a readable PNG (%s)", path, img.message);
        png_image_free(&img);
        return NULL;
    }
    if (check_size(path, "PNG", img.width, img.height) != 0) {
        png_image_free(&img);
        return NULL;
    }
    img.format = PNG_FORMAT_RGB;   /* grey, palette and 16-bit are converted; alpha is composited on black */
    uint8_t *px = xmalloc(PNG_IMAGE_SIZE(img));
    png_color black = {0, 0, 0};
    if (!png_image_finish_read(&img, &black, px, 0, NULL)) {
        vaec_set_error("%s: corrupt PNG (%s)", path, img.message);
        png_image_free(&img);
        free(px);
        return NULL;
    }
    *w = (int)img.width, *h = (int)img.height;
    return px;
}

#ifdef VAEC_HAVE_JPEG
bool image_jpeg_available(void) { return true; }

/* libjpeg reports errors through a callback that must not return: jump back to load_jpeg */
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf env;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;
static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_err *e = (jpeg_err *)cinfo->err;
    e->base.format_message(cinfo, e->msg);
    longjmp(e->env, 1);
}
static void jpeg_quiet(j_common_ptr cinfo, int level) { (void)cinfo, (void)level; }   /* warnings: corrupt data is an error below */

static uint8_t *load_jpeg(const char *path, int *w, int *h) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        vaec_set_error("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct jpeg_decompress_struct cinfo;
    jpeg_err err;
    uint8_t *volatile px = NULL;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = jpeg_on_error;
    err.base.emit_message = jpeg_quiet;
    if (setjmp(err.env)) {
        vaec_set_error("%s: corrupt JPEG (%s)", path, err.msg);
        jpeg_destroy_decompress(&cinfo);
        fclose(f);
        free(px);
        return NULL;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    if (check_size(path, "JPEG", cinfo.image_width, cinfo.image_height) != 0) {
        jpeg_destroy_decompress(&cinfo);
        fclose(f);
        return NULL;
    }
    cinfo.out_color_space = JCS_RGB;   /* grey, YCbCr and CMYK all come out as RGB */
    jpeg_start_decompress(&cinfo);
    int W = (int)cinfo.output_width, H = (int)cinfo.output_height;
    px = xmalloc((size_t)W * H * 3);
    /* a truncated file decodes to grey rows with a warning: refuse it rather than train on it, and stop at
     * the first warning rather than decode the rest of a frame that is refused anyway */
    while (cinfo.output_scanline < cinfo.output_height && !err.base.num_warnings) {
        JSAMPROW row = px + (size_t)cinfo.output_scanline * W * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    long warnings = err.base.num_warnings;
    if (warnings) jpeg_abort_decompress(&cinfo);
    else jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    fclose(f);
    if (warnings) {
        vaec_set_error("%s: corrupt or truncated JPEG (%ld decoder warnings)", path, warnings);
        free(px);
        return NULL;
    }
    *w = W, *h = H;
    return px;
}
#else
bool image_jpeg_available(void) { return false; }
static uint8_t *load_jpeg(const char *path, int *w, int *h) {
    (void)w, (void)h;
    vaec_set_error("%s: JPEG frames need libjpeg, which this build lacks (run scripts/install-deps.sh, rebuild)", path);
    return NULL;
}
#endif

uint8_t *image_load_rgb(const char *path, int *w, int *h) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        vaec_set_error("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    uint8_t magic[8] = {0};
    size_t n = fread(magic, 1, sizeof magic, f);
    fclose(f);
    if (n >= 8 && !png_sig_cmp(magic, 0, 8)) return load_png(path, w, h);
    if (n >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) return load_jpeg(path, w, h);
    vaec_set_error("%s: neither a PNG nor a JPEG (%zu bytes read, no PNG or JPEG signature)", path, n);
    return NULL;
}
