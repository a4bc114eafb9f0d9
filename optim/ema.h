/* ema.h: exponential moving average of weights: shadow = decay * shadow + (1 - decay) * param, after each
 * optimizer step; the shadow copies live under the optimizer memory tag. */
#ifndef VAEC_OPTIM_EMA_H
#define VAEC_OPTIM_EMA_H
#include "core/tensor.h"   // defines: tensor

typedef struct {
    int n;
    tensor **params, **shadow;
    float decay;
} ema;

ema *ema_new(tensor **params, int n, float decay);   /* shadows start as copies of the parameters */
void ema_update(ema *e);
/* exchanges the parameters' and the shadows' values (exact): how checkpoints write and read the EMA weights
 * through the model's own save/load (keys, layouts) */
void ema_swap(ema *e);
void ema_free(ema *e);

#endif
