/* device_cuda.h: the C interface of the CUDA runtime glue in device_cuda.cu (built only with CUDA).
 *
 * All device work runs on one compute stream owned by the backend (vaec_stream() in core/cuda_util.cuh
 * for .cu files). Copies to the host synchronise it, so host code that reads a result never sees a
 * half-written buffer; host-to-device and device-to-device copies and memsets are queued on it. */
#ifndef VAEC_DEVICE_CUDA_H
#define VAEC_DEVICE_CUDA_H
#include <stddef.h>

int cuda_device_count(void);           /* 0 when no driver or GPU; never fails */
/* cudaSetDevice(index); fatal when the compute stream already lives on another GPU */
void cuda_select_device(int index);
void *cuda_malloc(size_t bytes);       /* fatal on failure */
void *cuda_try_malloc(size_t bytes);   /* NULL when the GPU is out of memory (the caller may retry) */
void cuda_free(void *p);
/* kind: 0 host->device, 1 device->host, 2 device->device */
void cuda_memcpy(void *dst, const void *src, size_t bytes, int kind);
void cuda_memset0(void *p, size_t bytes);
void cuda_synchronize(void);           /* wait for everything queued on the compute stream */
size_t cuda_mem_free_bytes(void);      /* cudaMemGetInfo's free bytes on the current GPU */

#endif
