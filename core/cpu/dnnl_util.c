/* dnnl_util.c: the oneDNN engine, stream, descriptors and allocator-backed scratch (see dnnl_util.h). */
#include "core/cpu/dnnl_util.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static dnnl_engine_t engine;
static pthread_once_t once = PTHREAD_ONCE_INIT;
/* one stream a thread: oneDNN does not promise that a stream may be used by several threads at once, and the
   flipped conv weights are written by one reorder a kernel tap, the taps side by side (conv_dnnl.c). A thread
   that ends (not the pool's, which live as long as the process) takes its stream along (the key's destructor). */
static _Thread_local dnnl_stream_t stream;
static pthread_key_t stream_key;

static void destroy_stream(void *s) { dnnl_stream_destroy((dnnl_stream_t)s); }

static void create_engine(void) {
    DNNL_CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0), "creating the CPU engine");
    CHECK(pthread_key_create(&stream_key, destroy_stream) == 0, "oneDNN: no thread-specific key for the CPU streams");
}

dnnl_engine_t dnnl_cpu_engine(void) {
    pthread_once(&once, create_engine);
    return engine;
}

dnnl_stream_t dnnl_cpu_stream(void) {
    pthread_once(&once, create_engine);
    if (!stream) {
        DNNL_CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags), "creating the CPU stream");
        pthread_setspecific(stream_key, stream);
    }
    return stream;
}

const char *dnnl_status_name(dnnl_status_t st) {
    switch (st) {
        case dnnl_success: return "success";
        case dnnl_out_of_memory: return "out of memory";
        case dnnl_invalid_arguments: return "invalid arguments";
        case dnnl_unimplemented: return "no implementation for these shapes on this CPU";
        case dnnl_iterator_ends: return "iterator ends";
        case dnnl_runtime_error: return "runtime error";
        case dnnl_not_required: return "not required";
        default: return "unknown status";
    }
}

static cpu_backend forced = CPU_BACKEND_AUTO;

void cpu_backend_set(cpu_backend b) { forced = b; }

bool cpu_backend_use_dnnl(void) {
    static int env = -1;   /* VAEC_CPU_BACKEND, read once */
    if (env < 0) {
        const char *e = getenv("VAEC_CPU_BACKEND");
        CHECK_HINT(!e || !*e || !strcmp(e, "dnnl") || !strcmp(e, "own"), "use dnnl (the default) or own",
                   "VAEC_CPU_BACKEND=%s is not a CPU backend", e);
        env = e && !strcmp(e, "own") ? CPU_BACKEND_OWN : CPU_BACKEND_DNNL;
    }
    cpu_backend b = forced != CPU_BACKEND_AUTO ? forced : (cpu_backend)env;
    return b == CPU_BACKEND_DNNL;
}

bool dnnl_conv_preferred(void) {
    const unsigned isa = (unsigned)dnnl_get_effective_cpu_isa(), avx512 = (unsigned)dnnl_cpu_isa_avx512_core;
    return (isa & avx512) == avx512;   /* the ISA values are bit sets: avx2_vnni is above avx512_core but lacks it */
}

const char *dnnl_isa_name(void) {
    switch (dnnl_get_effective_cpu_isa()) {
        case dnnl_cpu_isa_sse41: return "sse41";
        case dnnl_cpu_isa_avx: return "avx";
        case dnnl_cpu_isa_avx2: return "avx2";
        case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
        case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
        case dnnl_cpu_isa_avx512_core: return "avx512_core";
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
        default: return "other";
    }
}

void dnnl_md_activation(dnnl_memory_desc_t *md, dnnl_data_type_t dt, int spatial, int64_t n, int64_t c, int64_t d,
                        int64_t h, int64_t w) {
    if (spatial == 2) {
        dnnl_dims_t dims = {n, c, h, w};
        DNNL_CHECK(dnnl_memory_desc_init_by_tag(md, 4, dims, dt, dnnl_nhwc), "nhwc descriptor");
    } else {
        dnnl_dims_t dims = {n, c, d, h, w};
        DNNL_CHECK(dnnl_memory_desc_init_by_tag(md, 5, dims, dt, dnnl_ndhwc), "ndhwc descriptor");
    }
}

void dnnl_md_conv_weight(dnnl_memory_desc_t *md, dnnl_data_type_t dt, int spatial, int64_t o, int64_t i, int64_t kd,
                         int64_t kh, int64_t kw) {
    if (spatial == 2) {
        dnnl_dims_t dims = {o, i, kh, kw};
        DNNL_CHECK(dnnl_memory_desc_init_by_tag(md, 4, dims, dt, dnnl_ohwi), "ohwi descriptor");
    } else {
        dnnl_dims_t dims = {o, i, kd, kh, kw};
        DNNL_CHECK(dnnl_memory_desc_init_by_tag(md, 5, dims, dt, dnnl_odhwi), "odhwi descriptor");
    }
}

void dnnl_md_vector(dnnl_memory_desc_t *md, dnnl_data_type_t dt, int64_t n) {
    dnnl_dims_t dims = {n};
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(md, 1, dims, dt, dnnl_x), "vector descriptor");
}

void dnnl_md_matrix(dnnl_memory_desc_t *md, dnnl_data_type_t dt, int64_t batch, int64_t rows, int64_t cols, int64_t ld,
                    int64_t batch_stride, bool transposed) {
    /* logical (rows x cols): element (r, c) at r*ld + c, or at c*ld + r when stored transposed */
    dnnl_dims_t dims = {batch, rows, cols};
    dnnl_dims_t strides = {batch > 1 ? batch_stride : (transposed ? cols : rows) * ld, transposed ? 1 : ld,
                           transposed ? ld : 1};
    DNNL_CHECK(dnnl_memory_desc_init_by_strides(md, 3, dims, dt, strides), "matrix descriptor");
}

dnnl_primitive_attr_t dnnl_attr_user_scratchpad(void) {
    dnnl_primitive_attr_t a;
    DNNL_CHECK(dnnl_primitive_attr_create(&a), "creating an attribute");
    DNNL_CHECK(dnnl_primitive_attr_set_scratchpad_mode(a, dnnl_scratchpad_mode_user), "user scratchpad");
    return a;
}

mem_block *dnnl_scratch(const_dnnl_primitive_desc_t pd) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t bytes = md ? dnnl_memory_desc_get_size(md) : 0;
    return bytes ? mem_alloc_tagged(bytes, DEVICE_CPU, MEM_WORKSPACE) : NULL;
}

dnnl_memory_t dnnl_mem(const dnnl_memory_desc_t *md, void *ptr) {
    dnnl_memory_t m;
    DNNL_CHECK(dnnl_memory_create(&m, md, dnnl_cpu_engine(), ptr), "wrapping a buffer");
    return m;
}

void dnnl_run(dnnl_primitive_t p, const_dnnl_primitive_desc_t pd, int n, const dnnl_arg *args, const char *what) {
    dnnl_exec_arg_t ex[16];
    CHECK(n < 15, "dnnl_run: %d arguments for %s", n, what);
    for (int i = 0; i < n; i++) ex[i] = (dnnl_exec_arg_t){args[i].arg, dnnl_mem(args[i].md, (void *)args[i].ptr)};
    mem_block *s = dnnl_scratch(pd);
    int m = n;
    if (s) {
        ex[m++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD,
                                    dnnl_mem(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0), s->ptr)};
    }
    DNNL_CHECK(dnnl_primitive_execute(p, dnnl_cpu_stream(), m, ex), what);
    DNNL_CHECK(dnnl_stream_wait(dnnl_cpu_stream()), what);
    for (int i = 0; i < m; i++) dnnl_memory_destroy(ex[i].memory);
    mem_block_release(s);
}
