/* cast.c: op_cast, tensor_cast, tensor_cast_ (see cast.h). */
#include "core/ops/cast.h"
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/cpu/bf16_convert.h"   // defines: bf16_round_array, bf16_widen_array
#include "core/ops/grad_f32.h"   // defines: grad_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/linalg_cuda.h"   // defines: f32_to_bf16_cuda, bf16_to_f32_cuda
#endif

static void check_pair(const tensor *t, dtype_t dtype) {
    CHECK((t->dtype == DTYPE_F32 && dtype == DTYPE_BF16) || (t->dtype == DTYPE_BF16 && dtype == DTYPE_F32) ||
              t->dtype == dtype,
          "cast: %s to %s is not supported (float32 <-> bf16)", dtype_name(t->dtype), dtype_name(dtype));
}

/* dst = src converted; the pair is float32 <-> bf16 */
static void convert(const tensor *src, tensor *dst) {
    const bool to_bf16 = dst->dtype == DTYPE_BF16;
    switch (src->device) {
        case DEVICE_CPU:
            if (to_bf16) bf16_round_array(src->data, dst->data, src->numel);
            else bf16_widen_array(src->data, dst->data, src->numel);
            break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            if (to_bf16) f32_to_bf16_cuda(src->data, dst->data, src->numel);
            else bf16_to_f32_cuda(src->data, dst->data, src->numel);
            break;
#endif
        default: DEVICE_UNSUPPORTED("cast", src->device);
    }
}

tensor *tensor_cast(const tensor *t, dtype_t dtype) {
    check_pair(t, dtype);
    tensor *c = tensor_new(t->ndim, t->shape, dtype, t->device);
    if (t->dtype == dtype) tensor_copy_(c, t);
    else convert(t, c);
    return c;
}

void tensor_cast_(tensor *t, dtype_t dtype) {
    if (t->dtype == dtype) return;
    CHECK(t->block->refcount == 1, "tensor_cast_: '%s' shares its storage with a view; cast the base tensor",
          t->name ? t->name : "tensor");
    tensor *c = tensor_cast(t, dtype);
    mem_block_retain(c->block);   /* t takes c's storage */
    mem_block_release(t->block);
    t->block = c->block;
    t->data = c->data;
    t->dtype = dtype;
    tensor_release(c);
    tensor_release(t->grad);
    t->grad = NULL;
}

/* the gradient of either dtype's tensor is float32: handed on as it came. A float32 gradient is the tensor
   itself, taken from the output (nothing reads it after its producer has run, run_tape_backward), so a
   conv's input gradient reaches the op before the cast without a copy; kept and copied when retain_grad. */
static void cast_backward(ag_node *n) {
    tensor *out = n->out, *gy = out->grad;
    if (gy->dtype == DTYPE_F32 && !out->retain_grad) {
        out->grad = NULL;
        ag_grad_add_owned(n->inputs[0], gy);
        return;
    }
    tensor *g = grad_f32(gy);
    tensor *gx = g == gy ? tensor_clone(g) : g;
    if (g == gy) tensor_release(g);
    ag_grad_add_owned(n->inputs[0], gx);
}

tensor *op_cast(tensor *x, dtype_t dtype) {
    check_pair(x, dtype);
    if (x->dtype == dtype) {
        tensor_retain(x);
        return tensor_autorelease(x);
    }
    tensor *y = tensor_new(x->ndim, x->shape, dtype, x->device);
    convert(x, y);
    ag_node *n = ag_record("cast", cast_backward, y, 1, (tensor *[]){x});
    if (n) ag_input_data_unused(n, 0);   /* the gradient passes through: x's values may go (half of autocast's saving) */
    return tensor_autorelease(y);
}
