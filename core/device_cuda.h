/* device_cuda.h: the C interface of the CUDA runtime glue in device_cuda.cu (built only with CUDA). */
#ifndef VAEC_DEVICE_CUDA_H
#define VAEC_DEVICE_CUDA_H
#include <stddef.h>

int cuda_device_count(void);           /* 0 when no driver or GPU; never fails */
void *cuda_malloc(size_t bytes);
void cuda_free(void *p);
/* kind: 0 host->device, 1 device->host, 2 device->device */
void cuda_memcpy(void *dst, const void *src, size_t bytes, int kind);
void cuda_memset0(void *p, size_t bytes);

#endif
