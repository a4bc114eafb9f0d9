/* dnnl_util.h: what every oneDNN-backed CPU kernel shares: the engine and stream, the error check, memory
 * descriptors for vaec's channels-last tensors, and scratch memory from vaec's allocator.
 *
 *   dnnl_engine_t e = dnnl_cpu_engine();                 // created once, on first use
 *   DNNL_CHECK(dnnl_primitive_execute(p, dnnl_cpu_stream(), n, args), "conv forward");
 *   mem_block *s = dnnl_scratch(pd);                     // the primitive's scratchpad (MEM_WORKSPACE)
 *
 * oneDNN picks its kernels at run time from the CPU it runs on (AVX2, AVX-512, AVX512-BF16, AMX), so one
 * vaec binary is fast on each. VAEC_CPU_BACKEND=own switches every oneDNN path off for a run (the own
 * kernels then run, as before oneDNN), and cpu_backend_set() does the same from a test. */
#ifndef VAEC_CPU_DNNL_UTIL_H
#define VAEC_CPU_DNNL_UTIL_H
#include <stdbool.h>
#include <stdint.h>
#include <oneapi/dnnl/dnnl.h>   // defines: dnnl_* (oneDNN's C API)
#include "core/check.h"         // defines: CHECK_HINT
#include "core/mem.h"           // defines: mem_block

#define DNNL_CHECK(call, what)                                                                             \
    do {                                                                                                   \
        dnnl_status_t st_ = (call);                                                                        \
        CHECK_HINT(st_ == dnnl_success, "run with ONEDNN_VERBOSE=1 to see what oneDNN was asked for",      \
                   "oneDNN: %s failed: %s (%s)", what, dnnl_status_name(st_), #call);                      \
    } while (0)

const char *dnnl_status_name(dnnl_status_t st);
dnnl_engine_t dnnl_cpu_engine(void);
dnnl_stream_t dnnl_cpu_stream(void);   /* the calling thread's own stream */

/* which CPU kernels run: the library's (oneDNN) or vaec's own (im2col/Winograd + OpenBLAS) */
typedef enum { CPU_BACKEND_AUTO, CPU_BACKEND_DNNL, CPU_BACKEND_OWN } cpu_backend;
void cpu_backend_set(cpu_backend b);   /* AUTO restores VAEC_CPU_BACKEND (default: dnnl) */
bool cpu_backend_use_dnnl(void);
/* whether oneDNN's convolutions beat vaec's own kernels on this CPU: where it has AVX-512 (measured in
 * docs/performance.md; on AVX2 alone vaec's Winograd and im2col kernels are faster than oneDNN 2.6's) */
bool dnnl_conv_preferred(void);
/* the ISA oneDNN dispatches to on this CPU ("avx512_core_bf16", "avx2", ...), for logs and bench rows */
const char *dnnl_isa_name(void);

/* descriptor (dt: dnnl_f32 or dnnl_bf16) of a channels-last activation: 2-D (N,H,W,C) or 3-D (N,D,H,W,C)
 * as oneDNN's nhwc/ndhwc */
void dnnl_md_activation(dnnl_memory_desc_t *md, dnnl_data_type_t dt, int spatial, int64_t n, int64_t c, int64_t d,
                        int64_t h, int64_t w);
/* descriptor of vaec's conv weight (Cout, [kt,] kh, kw, Cin): oneDNN's ohwi / odhwi */
void dnnl_md_conv_weight(dnnl_memory_desc_t *md, dnnl_data_type_t dt, int spatial, int64_t o, int64_t i, int64_t kd,
                         int64_t kh, int64_t kw);
void dnnl_md_vector(dnnl_memory_desc_t *md, dnnl_data_type_t dt, int64_t n);
/* a batch of (rows x cols) matrices, each stored row-major with leading dimension ld (or as the transpose
 * of that), batch_stride elements apart (ignored for one matrix) */
void dnnl_md_matrix(dnnl_memory_desc_t *md, dnnl_data_type_t dt, int64_t batch, int64_t rows, int64_t cols, int64_t ld,
                    int64_t batch_stride, bool transposed);

/* a primitive attribute asking for a user scratchpad, so its scratch goes through vaec's allocator */
dnnl_primitive_attr_t dnnl_attr_user_scratchpad(void);
/* the scratchpad the primitive needs, from the allocator (NULL when it needs none) */
mem_block *dnnl_scratch(const_dnnl_primitive_desc_t pd);
/* a memory object over ptr (no copy); free with dnnl_memory_destroy */
dnnl_memory_t dnnl_mem(const dnnl_memory_desc_t *md, void *ptr);
/* executes p with n (arg, pointer, descriptor) triples plus the scratchpad, and waits */
typedef struct { int arg; const dnnl_memory_desc_t *md; const void *ptr; } dnnl_arg;
void dnnl_run(dnnl_primitive_t p, const_dnnl_primitive_desc_t pd, int n, const dnnl_arg *args, const char *what);

#endif
