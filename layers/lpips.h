/* lpips.h: the LPIPS perceptual distance (VGG16 variant, "vgg_lpips"), as Open-Sora 1.2's VAELoss uses it.
 *
 *   d(x, x_hat) = sum over 5 VGG16 taps k (relu1_2, relu2_2, relu3_3, relu4_3, relu5_3) of
 *                 mean over H,W of  lin_k( (u(f_k(x)) - u(f_k(x_hat)))^2 )
 *   f_k    VGG16 features of the scaled input (x - shift) / scale, shift = (-0.030, -0.088, -0.188),
 *          scale = (0.458, 0.448, 0.450): images in [-1, 1] mapped to ImageNet statistics
 *   u(f)   f / (sqrt(sum_c f^2) + 1e-10): unit length over channels at every position
 *   lin_k  1x1 conv C_k -> 1, no bias (the learned channel weights); dropout is off (eval mode)
 *
 * Parameters carry upstream's keys (net.slice1.0.weight ... net.slice5.28.bias, lin0.model.1.weight ...
 * lin4.model.1.weight), so a file written by scripts/convert_lpips.py loads as is. All of them are frozen:
 * requires_grad false, no gradient is computed for them and no optimizer sees them. The distance is
 * differentiable with respect to both images.
 *
 *   lpips_net n;
 *   lpips_init(&n);
 *   if (lpips_load(&n, "weights/lpips_vgg16.safetensors") != 0) FATAL("%s", vaec_last_error());
 *   tensor *d = lpips_forward(&n, x, x_hat);   // (N,H,W,3) each -> (N,1,1,1)
 *   lpips_free(&n);
 */
#ifndef VAEC_LAYERS_LPIPS_H
#define VAEC_LAYERS_LPIPS_H
#include "layers/basic.h"    // defines: conv2d_layer
#include "layers/params.h"   // defines: param_list

#define LPIPS_N_CONVS 13
#define LPIPS_N_TAPS 5

typedef struct {
    conv2d_layer conv[LPIPS_N_CONVS];   /* VGG16's 3x3 convs (features 0 ... 28) */
    tensor *lin[LPIPS_N_TAPS];          /* (1,1,1,C_k): the 1x1 "lin" convs, channels-last */
    tensor *shift, *scale;              /* (3): the ScalingLayer constants (not parameters) */
    param_list params;                  /* every parameter, under upstream's keys, frozen */
    int chunk_images;                   /* images per checkpointed segment under autograd (default 4) */
} lpips_net;

/* builds the network with zero weights (every distance 0): load real ones (or fill them, in tests) before use */
void lpips_init(lpips_net *n);
/* loads every parameter from a safetensors file; returns -1 with vaec_last_error() naming the file */
int lpips_load(lpips_net *n, const char *path);
void lpips_free(lpips_net *n);
/* every parameter and constant moved to device, in place (the images must live there too) */
void lpips_to_device(lpips_net *n, device_t device);

/* x, x_hat: (N,H,W,3) in [-1, 1], H and W at least 16 (four 2x2 poolings) -> (N,1,1,1).
 * While gradients are recorded, the images go through in checkpointed chunks of chunk_images, so only
 * one chunk's VGG activations are alive at a time (each chunk's forward runs again in backward). */
tensor *lpips_forward(const lpips_net *n, tensor *x, tensor *x_hat);

#endif
