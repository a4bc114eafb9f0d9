/* tensor.h: vaec's N-dimensional tensor.
 *
 * A tensor is a contiguous row-major array of up to TENSOR_MAX_DIMS dims, on one device, with a dtype.
 * Compute is float32; bf16 also runs the products of mixed precision (core/autocast.h); f16 is a storage dtype.
 * Tensors that only reshape share their storage block (core/mem.h); every other op writes a new tensor.
 *
 * Layout: activations are CHANNELS-LAST everywhere in vaec, images (N,H,W,C) and video (B,T,H,W,C).
 * It is cuDNN's fast path, makes im2col rows contiguous runs of C, and gives attention its (N,HW,C)
 * view for free. Conv weights are stored (Cout, kt, kh, kw, Cin). PyTorch's NCTHW / OIDHW appear only
 * at checkpoint load and save (train/), and in the golden-file generator.
 *
 * Ownership: a tensor starts with refcount 1, owned by its creator. Differentiable ops return tensors
 * through tensor_autorelease(): inside a tensor_scope_begin()/tensor_scope_end(keep) pair they belong
 * to the scope and die at its end unless kept, so layer code reads like the PyTorch module it mirrors:
 *
 *   tensor_scope_begin();
 *   tensor *h = op_conv3d(op_silu(op_group_norm(x, g, b, 32, 1e-5f)), w, NULL, &args);
 *   return tensor_scope_end(h);    // h survives (handed to the enclosing scope, or to the caller)
 *
 * Outside any scope, the caller owns what an op returns and calls tensor_release().
 */
#ifndef VAEC_TENSOR_H
#define VAEC_TENSOR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/check.h"    // defines: CHECK, FATAL
#include "core/device.h"   // defines: device_t
#include "core/mem.h"      // defines: mem_block, mem_tag

#define TENSOR_MAX_DIMS 8

typedef enum { DTYPE_F32 = 0, DTYPE_BF16, DTYPE_F16 } dtype_t;

struct ag_node;

typedef struct tensor {
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    int64_t numel;
    dtype_t dtype;
    device_t device;
    mem_block *block;          /* storage, shared by views */
    void *data;                /* == block->ptr */
    int refcount;
    bool requires_grad;
    bool retain_grad;          /* keep .grad of a non-leaf after backward (tests, --dump-grads) */
    struct tensor *grad;       /* accumulated gradient, same shape, f32 */
    struct ag_node *grad_fn;   /* the node that produced it; NULL for leaves */
    char *name;                /* optional, for messages and checkpoints */
    int data_unused_refs;      /* references held by autograd nodes that never read the values (a cast's input,
                                  ag_input_data_unused): once only those remain, the storage goes back early */
} tensor;

/* Build shapes inline: tensor_zeros(SHAPE(2, 3, 4)) passes (3, (int64_t[]){2,3,4}). */
#define SHAPE(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__}

size_t dtype_size(dtype_t d);
const char *dtype_name(dtype_t d);

/* creation: CPU float32 unless said otherwise; caller owns the result (refcount 1) */
tensor *tensor_new(int ndim, const int64_t *shape, dtype_t dtype, device_t device);
tensor *tensor_empty(int ndim, const int64_t *shape);                 /* uninitialised */
tensor *tensor_zeros(int ndim, const int64_t *shape);
tensor *tensor_full(int ndim, const int64_t *shape, float value);
tensor *tensor_from_data(int ndim, const int64_t *shape, const float *data);
tensor *tensor_empty_like(const tensor *t);
tensor *tensor_zeros_like(const tensor *t);
tensor *tensor_clone(const tensor *t);                                 /* deep copy, no grad */
tensor *tensor_view(const tensor *t, int ndim, const int64_t *shape);  /* shares storage, no grad */
tensor *tensor_to(const tensor *t, device_t device);                   /* copy to a device */
/* moves t's storage to a device in place (a model's parameters: layers keep pointers to the tensors);
 * any gradient is dropped; the memory tag of the new storage is the current one */
void tensor_move_(tensor *t, device_t device);
double tensor_item(const tensor *t);   /* element 0 as a double, copied to the host from any device */
tensor *tensor_to_dtype(const tensor *t, dtype_t dtype);               /* f32 <-> bf16/f16 (CPU) */

void tensor_retain(tensor *t);
void tensor_release(tensor *t);
/* how a freed tensor detaches from the autograd node that produced it: autograd registers this when it
   records its first node (core sits below autograd and calls up only through this pointer) */
void tensor_set_grad_fn_release(void (*detach)(struct ag_node *node, tensor *t));
void tensor_set_name(tensor *t, const char *name);

/* autorelease scopes (see top of file) */
tensor *tensor_autorelease(tensor *t);
void tensor_scope_begin(void);
tensor *tensor_scope_end(tensor *keep);     /* keep may be NULL */
int tensor_scope_depth(void);

/* the float32 data of a tensor, checked. It counts as a write (tensor_mark_written): whoever may write
 * through it gets a pointer after the storage's version changed, so copies derived from the old bytes
 * (oneDNN's reordered conv weights, core/cpu/weight_cache.h) are not used again. */
float *tensor_f32(const tensor *t);
/* the same for reading only: the version stays (kernels reading weights, so cached copies stay valid) */
const float *tensor_f32_read(const tensor *t);
/* code that keeps a data pointer and writes through it later (finite differences in tests) says so after each
 * write; tensor_f32, tensor_copy_, tensor_fill, checkpoint loads and the optimizers do it themselves */
void tensor_mark_written(const tensor *t);

bool tensor_same_shape(const tensor *a, const tensor *b);
void tensor_shape_str(const tensor *t, char *buf, size_t n);   /* "(2,3,4)" */
void tensor_fill(tensor *t, float value);
void tensor_copy_(tensor *dst, const tensor *src);              /* same numel, same device */
void tensor_add_(tensor *dst, const tensor *src);               /* dst += src, same shape */
int64_t tensor_dim(const tensor *t, int d);                     /* negative d counts from the end */

#define CHECK_SAME_DEVICE(op, a, b) \
    CHECK((a)->device == (b)->device, "%s: tensors on different devices (%s and %s)", (op), \
          device_name((a)->device), device_name((b)->device))

#endif
