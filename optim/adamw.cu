// adamw.cu: the AdamW/Adam update on the GPU, one thread per element; every multiply, add, divide and
// square root is rounded separately (the __f*_rn intrinsics), as the CPU loop in adamw.c computes it.
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "optim/optim_cuda.h"
}

static __global__ void adamw_kernel(float *w, float *m, float *v, const float *g, int64_t n, float lr, float b1,
                                    float b2, float eps, float wd, bool l2, float bc1, float bc2) {
    CUDA_FOR(k, n) {
        float wk = w[k], gk = g[k];
        if (l2) gk = __fadd_rn(gk, __fmul_rn(wd, wk));
        else wk = __fsub_rn(wk, __fmul_rn(__fmul_rn(lr, wd), wk));
        const float mk = __fadd_rn(__fmul_rn(b1, m[k]), __fmul_rn(__fsub_rn(1.0f, b1), gk));
        const float vk = __fadd_rn(__fmul_rn(b2, v[k]), __fmul_rn(__fmul_rn(__fsub_rn(1.0f, b2), gk), gk));
        m[k] = mk;
        v[k] = vk;
        const float step = __fdiv_rn(__fmul_rn(lr, __fdiv_rn(mk, bc1)), __fadd_rn(__fsqrt_rn(__fdiv_rn(vk, bc2)), eps));
        w[k] = __fsub_rn(wk, step);
    }
}

extern "C" void adamw_update_cuda(float *w, float *m, float *v, const float *g, int64_t n, float lr, float beta1,
                                  float beta2, float eps, float weight_decay, bool l2_coupled, float bc1, float bc2) {
    if (n == 0) return;
    adamw_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(w, m, v, g, n, lr, beta1, beta2, eps, weight_decay,
                                                                  l2_coupled, bc1, bc2);
    CUDA_CHECK_LAUNCH("adamw_step");
}
