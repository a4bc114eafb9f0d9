/* vae2d_tiling.h: the SDXL VAE on frames of any size, in overlapping tiles, as diffusers' AutoencoderKL
 * does after enable_tiling() (its _tiled_encode and tiled_decode).
 *
 *   encode: tiles of S x S pixels (S = tile_sample_size) start every 3S/4; each is encoded on its own
 *           (encoder + quant_conv) to moments of S/f x S/f (f: the down factor); a tile's first S/f/4 rows
 *           are blended linearly with the tile above (weight of the lower tile y/extent), then its first
 *           S/f/4 columns with the tile to its left, both already blended; each tile keeps its first
 *           3S/4/f rows and columns and the kept parts are joined.
 *   decode: the same on the latent with tiles of S/f starting every 3S/4/f, blending S/4 pixels and
 *           keeping 3S/4 of each decoded tile.
 * A frame no larger than one tile (H <= S and W <= S; h, w <= S/f on decode) is not tiled: the result is
 * the plain encode/decode, bit for bit. Rows of tiles are processed one after another and only the row
 * above is kept, so the peak is one tile's activations plus two rows of tile outputs plus the result.
 * Inference only: nothing is recorded for autograd. Tensors are channels-last (N,H,W,C). */
#ifndef VAEC_LAYERS_VAE2D_TILING_H
#define VAEC_LAYERS_VAE2D_TILING_H
#include <stdint.h>
#include "layers/autoencoder_kl.h"   // defines: autoencoder_kl

/* (N,H,W,in) -> moments (N,H/f,W/f,2*latent); tile_sample_size <= 0: no tiling */
tensor *autoencoder_kl_encode_tiled(const autoencoder_kl *m, tensor *x, int tile_sample_size);
/* (N,h,w,latent) -> (N,h*f,w*f,out); tile_sample_size <= 0: no tiling */
tensor *autoencoder_kl_decode_tiled(const autoencoder_kl *m, tensor *z, int tile_sample_size);

int autoencoder_kl_down_factor(const autoencoder_kl_config *c);   /* 2^(blocks - 1): 8 for SDXL */
/* a rough peak of one encode + decode call on n frames of h x w pixels (activations, bytes), for --tile auto */
int64_t autoencoder_kl_peak_bytes(const autoencoder_kl_config *c, int64_t n, int64_t h, int64_t w);
/* the largest tile size (a multiple of 8 f, at least 8 f) whose peak on n frames stays under budget bytes;
   0 when the whole frame fits (no tiling needed) */
int autoencoder_kl_auto_tile(const autoencoder_kl_config *c, int64_t n, int64_t h, int64_t w, int64_t budget);

#endif
