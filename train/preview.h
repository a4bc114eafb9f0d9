/* preview.h: reconstruction previews: one PNG with the input frames on the top row and the reconstructed
 * frames under them, so a user sees what the model does at a glance. x and x_rec are (B,T,H,W,3) in [-1, 1];
 * the first clip is drawn, at most max_frames frames. Written to a temporary name and renamed.
 * Small frames are scaled up so a person can see them: by the largest whole factor k that keeps the longer
 * side at most PREVIEW_MIN_SIDE pixels (nearest neighbour, each pixel a k x k square; 32x32 frames show at
 * 128x128, frames of 128 or more are drawn as they are). */
#ifndef VAEC_TRAIN_PREVIEW_H
#define VAEC_TRAIN_PREVIEW_H
#include "core/tensor.h"   // defines: tensor

#define PREVIEW_MIN_SIDE 128
int64_t preview_scale(int64_t H, int64_t W);   /* k above */
int preview_write_png(const char *path, const tensor *x, const tensor *x_rec, int max_frames);   /* 0 or -1 + error */

#endif
