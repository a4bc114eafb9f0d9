// cuda_libs.cuh: the cuBLAS and cuDNN handles of the backend and their error checks (C++ side only).
//   CUBLAS_CHECK(call, op)   a cuBLAS call made for op; on failure prints op, call, status, file:line, a hint
//   CUDNN_CHECK(call, op)    the same for cuDNN (with cudnnGetErrorString's text)
//   vaec_cublas()            one handle on vaec_stream(), CUBLAS_DEFAULT_MATH: fp32 GEMMs never use TF32
//   vaec_cudnn()             one handle on vaec_stream(); each conv descriptor sets its own math type
// Both are created on first use, after the device is chosen, and live until the process exits.
#ifndef VAEC_CUDA_LIBS_CUH
#define VAEC_CUDA_LIBS_CUH
#include <cublas_v2.h>
#include <cudnn.h>
#include "core/cuda_util.cuh"   // defines: vaec_stream

#define CUBLAS_CHECK(call, op)                                                                     \
    do {                                                                                           \
        cublasStatus_t st_ = (call);                                                               \
        if (st_ != CUBLAS_STATUS_SUCCESS) {                                                        \
            fprintf(stderr, "vaec: error: cuBLAS call %s for op %s failed: status %d\n  at %s:%d\n" \
                    "  ---> HINT: out of GPU memory or sizes beyond int range; compare with "      \
                    "--set train.device=cpu\n",                                                    \
                    #call, (op), (int)st_, __FILE__, __LINE__);                                    \
            vaec_exit(1);                                                                            \
        }                                                                                          \
    } while (0)

#define CUDNN_CHECK(call, op)                                                                      \
    do {                                                                                           \
        cudnnStatus_t st_ = (call);                                                                \
        if (st_ != CUDNN_STATUS_SUCCESS) {                                                         \
            fprintf(stderr, "vaec: error: cuDNN call %s for op %s failed: %s\n  at %s:%d\n"        \
                    "  ---> HINT: check that libcudnn 9 matches the CUDA driver; compare with "    \
                    "--set train.device=cpu\n",                                                    \
                    #call, (op), cudnnGetErrorString(st_), __FILE__, __LINE__);                    \
            vaec_exit(1);                                                                            \
        }                                                                                          \
    } while (0)

cublasHandle_t vaec_cublas(void);
cudnnHandle_t vaec_cudnn(void);

#endif
