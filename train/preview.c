/* preview.c: input-over-reconstruction PNG strips (see preview.h). */
#include "train/preview.h"
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint8_t to_byte(float v) {
    float p = (v + 1.0f) * 127.5f + 0.5f;
    return (uint8_t)(p < 0 ? 0 : p > 255 ? 255 : p);
}

int64_t preview_scale(int64_t H, int64_t W) {
    int64_t longer = H > W ? H : W, k = PREVIEW_MIN_SIDE / (longer > 0 ? longer : 1);
    return k > 1 ? k : 1;
}

int preview_write_png(const char *path, const tensor *x, const tensor *x_rec, int max_frames) {
    char a[96], b[96];
    tensor_shape_str(x, a, sizeof a);
    tensor_shape_str(x_rec, b, sizeof b);
    if (x->ndim != 5 || !tensor_same_shape(x, x_rec) || x->shape[4] != 3)
        return vaec_set_error("preview: input %s and reconstruction %s must be one (B,T,H,W,3) shape", a, b);
    int64_t T = x->shape[1] < max_frames ? x->shape[1] : max_frames, H = x->shape[2], W = x->shape[3];
    int64_t k = preview_scale(H, W), width = T * W * k, height = 2 * H * k;
    uint8_t *img = xcalloc((size_t)(width * height * 3), 1);
    const float *src[2] = {tensor_f32(x), tensor_f32(x_rec)};
    for (int64_t py = 0; py < height; py++) {   /* nearest neighbour: pixel (y, x) fills a k x k square */
        int64_t row = py / (H * k), y = py % (H * k) / k;
        for (int64_t px = 0; px < width; px++) {
            int64_t t = px / (W * k), xx = px % (W * k) / k;
            for (int c = 0; c < 3; c++)
                img[(py * width + px) * 3 + c] = to_byte(src[row][((t * H + y) * W + xx) * 3 + c]);
        }
    }
    size_t n = strlen(path) + 32;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp.%d.png", path, (int)getpid());
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    pi.width = (png_uint_32)width;
    pi.height = (png_uint_32)height;
    pi.format = PNG_FORMAT_RGB;
    int ok = png_image_write_to_file(&pi, tmp, 0, img, 0, NULL) && rename(tmp, path) == 0;
    free(img);
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return vaec_set_error("cannot write preview '%s'%s%s", path, pi.message[0] ? ": " : "", pi.message);
    }
    free(tmp);
    return 0;
}
