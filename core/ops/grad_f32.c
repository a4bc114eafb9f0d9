/* grad_f32.c: see grad_f32.h. */
#include "core/ops/grad_f32.h"
#ifdef VAEC_HAVE_CUDA
#include "core/ops/linalg_cuda.h"   // defines: bf16_to_f32_cuda
#endif

tensor *grad_f32(tensor *gy) {
    if (gy->dtype == DTYPE_F32) {
        tensor_retain(gy);
        return gy;
    }
    CHECK(gy->dtype == DTYPE_BF16, "gradient of dtype %s: expected float32 or bf16", dtype_name(gy->dtype));
    switch (gy->device) {
        case DEVICE_CPU: return tensor_to_dtype(gy, DTYPE_F32);
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: {
            tensor *g = tensor_new(gy->ndim, gy->shape, DTYPE_F32, DEVICE_CUDA);
            bf16_to_f32_cuda(gy->data, tensor_f32(g), gy->numel);
            return g;
        }
#endif
        default: DEVICE_UNSUPPORTED("grad_f32", gy->device);
    }
}

tensor *grad_new_like(const tensor *t, bool zero) {
    tensor *g = tensor_new(t->ndim, t->shape, DTYPE_F32, t->device);
    if (zero) device_memset0(g->device, g->data, (size_t)g->numel * sizeof(float));
    return g;
}
