/* pipeline.h: Open-Sora 1.2's VideoAutoencoderPipeline: the spatial VAE per frame, then the temporal VAE.
 *
 *   encode: x (B,T,H,W,3) -> x_z = spatial encode (sample, or mean when sample_posterior is off) * 0.18215
 *           -> x_z cut along T into micro_frame_size chunks, each encoded by the temporal VAE on its own
 *           -> posterior over ALL chunks (upstream returns only the last chunk's: see docs/pipeline.md)
 *           -> z = posterior sample (or mean); without cal_loss: z = (z - shift) / scale per channel.
 *   decode: without cal_loss: z = z * scale + shift; z cut into chunks of micro_z_frame_size latent frames,
 *           chunk i decoded with num_frames = min(micro_frame_size, remaining), remaining -= micro_frame_size
 *           -> x_z_rec -> spatial decode -> x.
 *   forward (cal_loss): (x_rec, x_z_rec, z, posterior, x_z), decoding z with num_frames = T of x_z.
 * freeze_vae_2d turns off the spatial parameters' requires_grad: nothing of it is recorded or kept. */
#ifndef VAEC_LAYERS_PIPELINE_H
#define VAEC_LAYERS_PIPELINE_H
#include "layers/vae2d.h"         // defines: vae2d
#include "layers/vae_temporal.h"  // defines: vae_temporal

typedef struct {
    vae2d spatial;
    vae_temporal temporal;
    int micro_frame_size;             /* 0: no chunking */
    float shift[8], scale[8];         /* per latent channel */
    bool freeze_vae_2d, cal_loss, sample_posterior;
} vae_pipeline;

typedef struct {
    tensor *z, *x_z;
    diag_gaussian posterior;
} pipeline_encoded;

typedef struct {
    tensor *x_rec, *x_z_rec, *z, *x_z;
    diag_gaussian posterior;
} pipeline_output;

/* spatial and temporal must already be initialised (and loaded); sets requires_grad per freeze_vae_2d */
void vae_pipeline_setup(vae_pipeline *p);
pipeline_encoded vae_pipeline_encode(const vae_pipeline *p, tensor *x, rng_state *rng);
tensor *vae_pipeline_decode(const vae_pipeline *p, tensor *z, int64_t num_frames, tensor **x_z_rec);
/* the temporal half of decode only: z -> x_z_rec (training stages that need no pixels stop here) */
tensor *vae_pipeline_decode_latent(const vae_pipeline *p, tensor *z, int64_t num_frames);
pipeline_output vae_pipeline_forward(const vae_pipeline *p, tensor *x, rng_state *rng);

/* (T,H,W) of the video -> (T,H,W) of z */
void vae_pipeline_latent_size(const vae_pipeline *p, const int64_t in[3], int64_t out[3]);
int64_t vae_pipeline_micro_z_frames(const vae_pipeline *p);
tensor *vae_pipeline_temporal_last_layer(const vae_pipeline *p);   /* decoder conv_out weight */

/* Open-Sora pipeline checkpoints: spatial_vae.module.* and temporal_vae.* in one file */
int vae_pipeline_load(vae_pipeline *p, const char *path);
int vae_pipeline_save(const vae_pipeline *p, const char *path);

#endif
