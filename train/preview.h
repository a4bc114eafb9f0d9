/* preview.h: reconstruction previews: one PNG with the input frames on the top row and the reconstructed
 * frames under them, so a user sees what the model does at a glance. x and x_rec are (B,T,H,W,3) in [-1, 1];
 * the first clip is drawn, at most max_frames frames. Written to a temporary name and renamed. */
#ifndef VAEC_TRAIN_PREVIEW_H
#define VAEC_TRAIN_PREVIEW_H
#include "core/tensor.h"   // defines: tensor

int preview_write_png(const char *path, const tensor *x, const tensor *x_rec, int max_frames);   /* 0 or -1 + error */

#endif
