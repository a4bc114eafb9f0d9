/* resize.c: short-side bilinear resize + centre crop (see resize.h). */
#include "data/resize.h"
#include <stddef.h>

void resize_crop_square(const uint8_t *src, int w, int h, int stride, int S, uint8_t *out) {
    /* resized size: short side S; the crop takes the middle SxS of it */
    double scale = (double)S / (w < h ? w : h);
    int rw = w < h ? S : (int)(w * scale + 0.5), rh = w < h ? (int)(h * scale + 0.5) : S;
    int ox = (rw - S) / 2, oy = (rh - S) / 2;
    double sx = (double)w / rw, sy = (double)h / rh;
    for (int y = 0; y < S; y++) {
        double fy = (y + oy + 0.5) * sy - 0.5;   /* pixel centres, as torch's align_corners=False */
        if (fy < 0) fy = 0;
        if (fy > h - 1) fy = h - 1;
        int y0 = (int)fy, y1 = y0 + 1 < h ? y0 + 1 : y0;
        double ay = fy - y0;
        const uint8_t *r0 = src + (size_t)y0 * stride, *r1 = src + (size_t)y1 * stride;
        for (int x = 0; x < S; x++) {
            double fx = (x + ox + 0.5) * sx - 0.5;
            if (fx < 0) fx = 0;
            if (fx > w - 1) fx = w - 1;
            int x0 = (int)fx, x1 = x0 + 1 < w ? x0 + 1 : x0;
            double ax = fx - x0;
            for (int c = 0; c < 3; c++) {
                double a = r0[x0 * 3 + c], b = r0[x1 * 3 + c], cc = r1[x0 * 3 + c], d = r1[x1 * 3 + c];
                double v = (a * (1 - ax) + b * ax) * (1 - ay) + (cc * (1 - ax) + d * ax) * ay;
                out[((size_t)y * S + x) * 3 + c] = (uint8_t)(v + 0.5);
            }
        }
    }
}
