/* precision.h: what [train] precision = bf16 changes in the trainer besides the autocast region of each
 * step (train/step.c, core/autocast.h): frozen modules are held in bf16 alone.
 *
 *   if (t.bf16) precision_hold_frozen_bf16(&m.p.spatial.vae.params);   // stage 1: the frozen spatial VAE
 *
 * A frozen module's weights only ever feed bf16 products under autocast, so a float32 copy would be cast to
 * bf16 on every use and never updated: they are converted once and kept in bf16 (half the bytes). Only the
 * weights of convolutions and linear layers (rank >= 2) are held in bf16; the 1-D tensors (biases, group
 * norm scales) stay float32, as the norms compute in float32 and a bias is cast with its op. Trainable
 * parameters are never touched: they are the float32 master weights of AdamW. Checkpoints widen the bf16
 * weights back to float32 on save (layers/params.c), so files stay float32 either way.
 *
 * Inference (`vaec encode/decode/reconstruct --precision bf16`): precision_inference() holds every weight of
 * the model in bf16 (no gradients are taken) and switches autocast on for the rest of the command.
 */
#ifndef VAEC_TRAIN_PRECISION_H
#define VAEC_TRAIN_PRECISION_H
#include <stdint.h>
#include "core/device.h"          // defines: device_t
#include "layers/params.h"        // defines: param_list
#include "train/model_config.h"   // defines: vaec_model

/* every frozen (requires_grad false) parameter of rank >= 2 converted to bf16 in place; returns the bytes
 * this frees */
int64_t precision_hold_frozen_bf16(param_list *pl);
/* the log lines of a bf16 run (what runs in bf16, the bytes the frozen weights freed; on the CPU which bf16
 * kernels run and why: core/cpu/bf16_cpu.h, whose probe runs here); where none is oneDNN's (no AVX-512, or
 * they measured slower than the widened float32 kernels) a warning that bf16 saves memory there, not time */
void precision_report(int64_t frozen_bytes_saved, device_t dev);
/* --precision of encode/decode/reconstruct: "fp32" (or NULL) changes nothing; "bf16" converts the model's
 * conv and linear weights to bf16 and turns autocast on (results stay float32); anything else stops with
 * a message naming the value */
void precision_inference(vaec_model *m, const char *precision);

#endif
