/* resize.h: the one resize rule of every import (`vaec data make --frames` and `--videos`).
 *
 * resize_crop_square: the short side of a W x H RGB image is scaled to S (bilinear, pixel centres as
 * PyTorch's align_corners=False, no antialiasing) and the middle S x S square is kept. */
#ifndef VAEC_DATA_RESIZE_H
#define VAEC_DATA_RESIZE_H
#include <stdint.h>

/* src: (h, w, 3) uint8, rows `stride` bytes apart (3*w when packed); out: (S, S, 3) */
void resize_crop_square(const uint8_t *src, int w, int h, int stride, int S, uint8_t *out);

#endif
