/* reparam_cuda.h: CUDA kernels of z = mean + exp(logvar/2) * eps (reparam.cu). eps is drawn on the host
 * by the same Philox stream as the CPU path and copied over (reparam.c), so samples are identical on
 * both devices. Built only with CUDA. */
#ifndef VAEC_OPS_REPARAM_CUDA_H
#define VAEC_OPS_REPARAM_CUDA_H
#include <stdint.h>

void reparam_forward_cuda(const float *mean, const float *logvar, const float *eps, float *z, int64_t n);
/* gmean or glogvar may be NULL */
void reparam_backward_cuda(const float *logvar, const float *eps, const float *gz, float *gmean, float *glogvar,
                           int64_t n);

#endif
