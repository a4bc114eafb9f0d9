/* device.c: device names, discovery and raw memory per device (see device.h). */
#include "core/device.h"
#include "core/check.h"
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#ifdef VAEC_HAVE_CUDA
#include "core/device_cuda.h"   // defines: cuda_malloc, cuda_memcpy, cuda_device_count
#endif

const char *device_name(device_t d) { return d == DEVICE_CPU ? "cpu" : d == DEVICE_CUDA ? "cuda" : "?"; }

int device_cuda_compiled(void) {
#ifdef VAEC_HAVE_CUDA
    return 1;
#else
    return 0;
#endif
}

int device_cuda_available(void) {
#ifdef VAEC_HAVE_CUDA
    static int cached = -1;
    if (cached < 0) cached = cuda_device_count() > 0;
    return cached;
#else
    return 0;
#endif
}

int device_cuda_visible(void) {
#ifdef VAEC_HAVE_CUDA
    return cuda_device_count();
#else
    return 0;
#endif
}

void device_cuda_select(int index) {
    CHECK_HINT(device_cuda_compiled(), "build with nvcc present", "GPU %d was asked for, but this build has no CUDA", index);
    int n = device_cuda_visible();
    CHECK_HINT(index >= 0 && index < n, "check nvidia-smi and CUDA_VISIBLE_DEVICES",
               "GPU %d was asked for, but this process sees %d", index, n);
#ifdef VAEC_HAVE_CUDA
    cuda_select_device(index);
#endif
}

static void require_cuda(void) {
    CHECK_HINT(device_cuda_available(), "build with nvcc present and run on a machine with a GPU",
               "a CUDA tensor was requested but %s", device_cuda_compiled() ? "no GPU is visible" : "this build has no CUDA");
}

/* Blocks of 1 MiB and more are mapped and unmapped whole. Through malloc, glibc's mmap threshold climbs
 * to 32 MiB after the first large free, and every block below it then stays in glibc's heap after free():
 * memory the caching allocator (mem.c) handed back would still count in the RSS. Only these blocks: a
 * process-wide threshold (mallopt) would also map and fault in the transient buffers libraries malloc on
 * every call (oneDNN's sgemm packing), which glibc's heap otherwise reuses. */
#define CPU_MAP_BYTES ((size_t)1 << 20)

void *device_malloc(device_t d, size_t bytes) {
    if (d == DEVICE_CPU) {
        if (bytes >= CPU_MAP_BYTES) {   /* page-aligned, so 64-byte aligned too */
            void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            CHECK_HINT(p != MAP_FAILED, "the machine is out of memory; use a smaller batch or clip",
                       "allocating %zu bytes of CPU memory failed", bytes);
            return p;
        }
        /* 64-byte alignment: whole cache lines, AVX-512 loads */
        size_t n = (bytes + 63) & ~(size_t)63;
        void *p = aligned_alloc(64, n ? n : 64);
        CHECK_HINT(p != NULL, "the machine is out of memory; use a smaller batch or clip",
                   "allocating %zu bytes of CPU memory failed", bytes);
        return p;
    }
    require_cuda();
#ifdef VAEC_HAVE_CUDA
    return cuda_malloc(bytes);
#else
    return NULL;
#endif
}

void *device_try_malloc(device_t d, size_t bytes) {
    if (d == DEVICE_CPU) return device_malloc(d, bytes);
    require_cuda();
#ifdef VAEC_HAVE_CUDA
    return cuda_try_malloc(bytes);
#else
    return NULL;
#endif
}

void device_synchronize(device_t d) {
    if (d == DEVICE_CPU) return;
    require_cuda();
#ifdef VAEC_HAVE_CUDA
    cuda_synchronize();
#endif
}

void device_free(device_t d, void *p, size_t bytes) {
    if (d == DEVICE_CPU) {
        if (p && bytes >= CPU_MAP_BYTES) munmap(p, bytes);
        else free(p);
        return;
    }
#ifdef VAEC_HAVE_CUDA
    cuda_free(p);
#endif
}

void device_memcpy(void *dst, device_t dst_dev, const void *src, device_t src_dev, size_t bytes) {
    if (dst_dev == DEVICE_CPU && src_dev == DEVICE_CPU) { memcpy(dst, src, bytes); return; }
    require_cuda();
#ifdef VAEC_HAVE_CUDA
    int kind = src_dev == DEVICE_CPU ? 0 : dst_dev == DEVICE_CPU ? 1 : 2;
    cuda_memcpy(dst, src, bytes, kind);
#endif
}

void device_memset0(device_t d, void *p, size_t bytes) {
    if (d == DEVICE_CPU) { memset(p, 0, bytes); return; }
    require_cuda();
#ifdef VAEC_HAVE_CUDA
    cuda_memset0(p, bytes);
#endif
}
