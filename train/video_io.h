/* video_io.h: videos and latents in files, for `vaec encode/decode/reconstruct`.
 * Files hold PyTorch layout (B,C,T,H,W) float tensors named `x` (pixels, [-1,1]) or `z` (latents);
 * vaec works channels-last (B,T,H,W,C): the conversion happens here and nowhere else. */
#ifndef VAEC_TRAIN_VIDEO_IO_H
#define VAEC_TRAIN_VIDEO_IO_H
#include "core/tensor.h"   // defines: tensor

tensor *channels_last_from_torch(const tensor *t);    /* (B,C,...) -> (B,...,C) */
tensor *channels_first_to_torch(const tensor *t);     /* (B,...,C) -> (B,C,...) */

/* reads tensor `name` from a safetensors file: NULL with vaec_last_error() naming the file and key */
tensor *video_load(const char *path, const char *name);
int video_save(const char *path, const char *name, const tensor *t);   /* -1 with vaec_last_error() */

#endif
