// cuda_libs.cu: the backend's cuBLAS and cuDNN handles (see cuda_libs.cuh).
#include "core/cuda_libs.cuh"   // defines: vaec_cublas, vaec_cudnn, CUBLAS_CHECK, CUDNN_CHECK

static cublasHandle_t cublas_handle;
static cudnnHandle_t cudnn_handle;

cublasHandle_t vaec_cublas(void) {
    if (!cublas_handle) {
        CUBLAS_CHECK(cublasCreate(&cublas_handle), "cublas init");
        CUBLAS_CHECK(cublasSetStream(cublas_handle, vaec_stream()), "cublas init");
        // DEFAULT_MATH keeps sgemm in full fp32 (TF32 needs CUBLAS_TF32_TENSOR_OP_MATH), which the
        // CPU-vs-CUDA checks at 1e-5 rely on; bf16 GEMMs pick their compute type per call.
        CUBLAS_CHECK(cublasSetMathMode(cublas_handle, CUBLAS_DEFAULT_MATH), "cublas init");
    }
    return cublas_handle;
}

cudnnHandle_t vaec_cudnn(void) {
    if (!cudnn_handle) {
        CUDNN_CHECK(cudnnCreate(&cudnn_handle), "cudnn init");
        CUDNN_CHECK(cudnnSetStream(cudnn_handle, vaec_stream()), "cudnn init");
    }
    return cudnn_handle;
}
