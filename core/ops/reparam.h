/* reparam.h: the VAE reparameterization trick, z = mean + exp(logvar / 2) * eps, eps ~ N(0, 1).
 * eps is drawn from rng (Philox, core/rng.h: reproducible, thread-count independent) and saved for
 * backward: dz/dmean = 1, dz/dlogvar = 0.5 * exp(logvar / 2) * eps. The _eps form takes eps given
 * (tests, goldens); eps gets no gradient. mean, logvar and eps share one shape. */
#ifndef VAEC_OPS_REPARAM_H
#define VAEC_OPS_REPARAM_H
#include "core/rng.h"      // defines: rng_state
#include "core/tensor.h"   // defines: tensor

tensor *op_reparam_sample(tensor *mean, tensor *logvar, rng_state *rng);
tensor *op_reparam_sample_eps(tensor *mean, tensor *logvar, tensor *eps);
void reparam_forward_cpu(const float *mean, const float *logvar, const float *eps, float *z, int64_t n);
void reparam_backward_cpu(const float *logvar, const float *eps, const float *gz, float *gmean, float *glogvar,
                          int64_t n);

#endif
