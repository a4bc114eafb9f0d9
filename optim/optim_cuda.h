/* optim_cuda.h: the C interface of the optimizer kernels (adamw.cu, clip.cu, ema.cu) for parameters,
 * gradients and state on the GPU. Every kernel is one thread per element and rounds each operation the
 * way the CPU loop does (no fused multiply-add), so a CUDA run follows the CPU one step for step.
 * Built only with CUDA. */
#ifndef VAEC_OPTIM_CUDA_H
#define VAEC_OPTIM_CUDA_H
#include <stdbool.h>
#include <stdint.h>

/* one AdamW/Adam update of n elements; bc1, bc2 = 1 - beta^step (computed on the host, as on the CPU) */
void adamw_update_cuda(float *w, float *m, float *v, const float *g, int64_t n, float lr, float beta1, float beta2,
                       float eps, float weight_decay, bool l2_coupled, float bc1, float bc2);
/* d[k] = (float)(d[k] * coef) */
void grad_scale_cuda(float *d, int64_t n, double coef);
/* s = decay * s + (1 - decay) * p */
void ema_update_cuda(float *s, const float *p, int64_t n, float decay);

#endif
