/* device.h: where a tensor lives, and the one switch each op uses to pick its kernel.
 *
 * Every op dispatches on the device of its inputs exactly once (see core/ops/README.md); a CUDA kernel
 * plugs in as one more case without touching layers. Devices are never mixed silently: tensor_to()
 * moves data explicitly, and an op given tensors on two devices stops with a message naming both.
 */
#ifndef VAEC_DEVICE_H
#define VAEC_DEVICE_H
#include <stddef.h>

typedef enum { DEVICE_CPU = 0, DEVICE_CUDA = 1 } device_t;

const char *device_name(device_t d);
int device_cuda_compiled(void);   /* 1 when this build has the CUDA backend */
int device_cuda_available(void);  /* 1 when CUDA is compiled in and a GPU is visible */
int device_cuda_visible(void);    /* the number of GPUs this process sees (0 without CUDA) */
/* makes GPU `index` this process's device; fatal once CUDA work has begun on another one (the stream and
 * the library handles are bound to the device current when they were made) */
void device_cuda_select(int index);

/* Raw device memory, used by the allocator (core/mem.c) and tensor_to(). */
void *device_malloc(device_t d, size_t bytes);
void *device_try_malloc(device_t d, size_t bytes);   /* NULL when a GPU is out of memory */
void device_free(device_t d, void *p, size_t bytes);   /* bytes as allocated */
void device_memcpy(void *dst, device_t dst_dev, const void *src, device_t src_dev, size_t bytes);
void device_memset0(device_t d, void *p, size_t bytes);
void device_synchronize(device_t d);   /* wait for queued GPU work (timings); no-op on the CPU */

#define DEVICE_UNSUPPORTED(op, dev) \
    FATAL("op %s has no kernel for device %s in this build", (op), device_name(dev))

#endif
