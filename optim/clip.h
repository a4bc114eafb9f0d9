/* clip.h: gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_:
 * total = sqrt(sum over parameters of sum(g^2)) (accumulated in double); if max_norm / (total + 1e-6) < 1,
 * every gradient is scaled by that factor. Returns the total norm before clipping (NaN/Inf propagate,
 * so the caller can detect a bad step). Parameters without a gradient are skipped. */
#ifndef VAEC_OPTIM_CLIP_H
#define VAEC_OPTIM_CLIP_H
#include "core/tensor.h"   // defines: tensor

double grad_global_norm(tensor *const *params, int n);
double clip_grad_norm(tensor *const *params, int n, double max_norm);
/* the factor clip_grad_norm scales by for a total norm: max_norm / (total + 1e-6) where that is below 1, else 1
   (for adamw_step_scaled, which applies it inside the update instead of writing the gradients first) */
double clip_grad_coef(double total, double max_norm);

#endif
