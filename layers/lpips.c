/* lpips.c: VGG16 LPIPS (see lpips.h). */
#include "layers/lpips.h"
#include "autograd/autograd.h"   // defines: ag_checkpoint, ag_grad_enabled
#include "core/ops.h"            // defines: op_conv2d, op_relu, op_max_pool2d, op_mean, ...

/* torchvision's vgg16().features up to relu5_3, by feature index: conv i takes cin -> cout; a 2x2 max
   pool runs before the first conv of slices 2-5; the relu after the last conv of a slice is a tap */
static const struct { int slice, index, cin, cout; bool pool_before, tap; } vgg16_convs[LPIPS_N_CONVS] = {
    {1, 0, 3, 64, false, false},    {1, 2, 64, 64, false, true},
    {2, 5, 64, 128, true, false},   {2, 7, 128, 128, false, true},
    {3, 10, 128, 256, true, false}, {3, 12, 256, 256, false, false}, {3, 14, 256, 256, false, true},
    {4, 17, 256, 512, true, false}, {4, 19, 512, 512, false, false}, {4, 21, 512, 512, false, true},
    {5, 24, 512, 512, true, false}, {5, 26, 512, 512, false, false}, {5, 28, 512, 512, false, true},
};
static const int tap_channels[LPIPS_N_TAPS] = {64, 128, 256, 512, 512};

static tensor *constant3(float a, float b, float c) {
    tensor *t = tensor_empty(SHAPE(3));
    float *p = tensor_f32(t);
    p[0] = a, p[1] = b, p[2] = c;
    return t;
}

/* a zero-filled parameter registered under prefix.name (layout as in PyTorch: conv weights permute) */
static tensor *zero_param(lpips_net *n, const char *prefix, const char *name, int ndim, const int64_t *shape,
                          param_layout layout) {
    mem_tag prev = mem_set_tag(MEM_PARAMS);
    tensor *t = tensor_zeros(ndim, shape);
    mem_set_tag(prev);
    return params_add(&n->params, prefix, name, t, layout);
}

/* A frozen metric is only meaningful with loaded weights, so the parameters start at zero (every distance
   is 0) instead of a random init that would cost 14.7M draws for nothing. */
void lpips_init(lpips_net *n) {
    *n = (lpips_net){.chunk_images = 4};
    char prefix[64];
    for (int i = 0; i < LPIPS_N_CONVS; i++) {
        conv2d_layer *c = &n->conv[i];
        snprintf(prefix, sizeof prefix, "net.slice%d.%d", vgg16_convs[i].slice, vgg16_convs[i].index);
        c->w = zero_param(n, prefix, "weight", SHAPE(vgg16_convs[i].cout, 3, 3, vgg16_convs[i].cin), PARAM_CONV);
        c->b = zero_param(n, prefix, "bias", SHAPE(vgg16_convs[i].cout), PARAM_PLAIN);
        c->args = (conv2d_args){{1, 1}, {1, 1, 1, 1}};
    }
    for (int k = 0; k < LPIPS_N_TAPS; k++) {
        snprintf(prefix, sizeof prefix, "lin%d.model.1", k);   /* .model = (Dropout, Conv2d): the conv is item 1 */
        n->lin[k] = zero_param(n, prefix, "weight", SHAPE(1, 1, 1, tap_channels[k]), PARAM_CONV);
    }
    params_set_requires_grad(&n->params, false);
    n->shift = constant3(-0.030f, -0.088f, -0.188f);
    n->scale = constant3(0.458f, 0.448f, 0.450f);
}

int lpips_load(lpips_net *n, const char *path) {
    /* scaling_layer.shift/scale are buffers with fixed values: a file may carry them, vaec has them built in */
    params_load_opts opts = {.allow_extra = true};
    int rc = params_load(&n->params, path, "", &opts);
    params_set_requires_grad(&n->params, false);
    return rc;
}

void lpips_to_device(lpips_net *n, device_t device) {
    params_to_device(&n->params, device);
    tensor_move_(n->shift, device);
    tensor_move_(n->scale, device);
}

void lpips_free(lpips_net *n) {
    params_free(&n->params);
    tensor_release(n->shift);
    tensor_release(n->scale);
}

/* f / (||f||_channels + eps) */
static tensor *unit_channels(tensor *f) {
    tensor *norm = op_sqrt(op_sum(op_square(f), 1, (int[]){-1}, true));
    return op_div(f, op_add_scalar(norm, 1e-10f));
}

/* x and x_hat stacked along the batch (2N images): one VGG pass over both. One scope per slice, so
   without recording a slice's activations die when the next slice has its input. */
static tensor *lpips_segment(void *ctx, tensor **in) {
    const lpips_net *n = ctx;
    const int64_t N = in[0]->shape[0];
    const conv2d_args one = {{1, 1}, {0, 0, 0, 0}};
    tensor *h = op_div(op_sub(op_concat(2, in, 0), n->shift), n->scale), *total = NULL;
    for (int i = 0, k = 0; k < LPIPS_N_TAPS; k++) {
        tensor_scope_begin();
        for (;; i++) {
            if (vgg16_convs[i].pool_before) h = op_max_pool2d(h);
            h = op_relu(conv2d_layer_forward(&n->conv[i], h));
            if (vgg16_convs[i].tap) break;
        }
        i++;
        tensor *d = op_square(op_sub(unit_channels(op_slice(h, 0, 0, N)), unit_channels(op_slice(h, 0, N, 2 * N))));
        tensor *r = op_mean(op_conv2d(d, n->lin[k], NULL, &one), 2, (int[]){1, 2}, true);   /* (N,1,1,1) */
        tensor *sum = total ? op_add(total, r) : r;
        tensor_retain(sum);                       /* survives the scope with h... */
        h = tensor_scope_end(h);
        total = tensor_autorelease(sum);          /* ...and belongs to the enclosing one */
    }
    return total;
}

tensor *lpips_forward(const lpips_net *n, tensor *x, tensor *x_hat) {
    char a[96], b[96];
    tensor_shape_str(x, a, sizeof a);
    tensor_shape_str(x_hat, b, sizeof b);
    CHECK(tensor_same_shape(x, x_hat) && x->ndim == 4 && x->shape[3] == 3 && x->shape[1] >= 16 && x->shape[2] >= 16,
          "LPIPS: images %s and %s must be one (N,H,W,3) shape with H, W >= 16", a, b);
    const int64_t N = x->shape[0], chunk = n->chunk_images > 0 ? n->chunk_images : N;
    const bool record = ag_grad_enabled() && (x->requires_grad || x_hat->requires_grad);
    const int n_chunks = (int)((N + chunk - 1) / chunk);
    tensor_scope_begin();
    tensor **parts = malloc((size_t)n_chunks * sizeof *parts);
    CHECK(parts, "out of host memory");
    for (int c = 0; c < n_chunks; c++) {
        int64_t s = c * chunk, e = s + chunk < N ? s + chunk : N;
        tensor *in[2] = {n_chunks == 1 ? x : op_slice(x, 0, s, e), n_chunks == 1 ? x_hat : op_slice(x_hat, 0, s, e)};
        parts[c] = record ? ag_checkpoint(lpips_segment, (void *)n, 2, in) : lpips_segment((void *)n, in);
    }
    tensor *out = n_chunks == 1 ? parts[0] : op_concat(n_chunks, parts, 0);
    free(parts);
    return tensor_scope_end(out);
}
