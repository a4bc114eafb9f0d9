/* posterior.h: the diagonal Gaussian posterior of a VAE (DiagonalGaussianDistribution).
 * moments (..., 2L) channels-last -> mean = first L channels, logvar = last L, clamped to [-30, 20];
 * std = exp(logvar / 2); sample = mean + std * eps (reparameterization, differentiable);
 * mode = mean; kl = 0.5 * sum(mean^2 + var - 1 - logvar) over all but the batch dim -> (B);
 * nll(x) = 0.5 * sum(log(2 pi) + logvar + (x - mean)^2 / var) -> (B). All results come from ops, so
 * gradients flow through every one of them. */
#ifndef VAEC_LAYERS_POSTERIOR_H
#define VAEC_LAYERS_POSTERIOR_H
#include "core/rng.h"      // defines: rng_state
#include "core/tensor.h"   // defines: tensor

typedef struct { tensor *mean, *logvar; } diag_gaussian;   /* owned by the enclosing tensor scope */

diag_gaussian posterior_from_moments(tensor *moments);
tensor *posterior_sample(const diag_gaussian *p, rng_state *rng);
tensor *posterior_mode(const diag_gaussian *p);
tensor *posterior_kl(const diag_gaussian *p);
tensor *posterior_nll(const diag_gaussian *p, tensor *x);

#endif
