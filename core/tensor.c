/* tensor.c: tensor creation, lifetime, autorelease scopes and small helpers (see tensor.h). */
#include "core/tensor.h"
#include "core/bf16.h"           // defines: bf16_from_f32, bf16_to_f32
#include <math.h>
#include <string.h>
#ifdef VAEC_HAVE_CUDA
#include "core/tensor_cuda.h"    // defines: tensor_add_cuda, tensor_fill_cuda
#endif

size_t dtype_size(dtype_t d) { return d == DTYPE_F32 ? 4 : 2; }
const char *dtype_name(dtype_t d) { return d == DTYPE_F32 ? "F32" : d == DTYPE_BF16 ? "BF16" : "F16"; }

/* a tensor's storage; past the allocator's limit ([train] max_memory) the message names the tensor */
static mem_block *tensor_alloc(int ndim, const int64_t *shape, dtype_t dtype, device_t device) {
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) numel *= shape[i];
    size_t bytes = (size_t)numel * dtype_size(dtype);
    mem_block *b = mem_try_alloc(bytes, device);
    if (!b) {
        char dims[160] = "(", use[512];
        size_t k = 1;
        for (int i = 0; i < ndim && k < sizeof dims; i++)
            k += (size_t)snprintf(dims + k, sizeof dims - k, i ? ",%lld" : "%lld", (long long)shape[i]);
        if (k < sizeof dims) snprintf(dims + k, sizeof dims - k, ")");
        mem_usage_str(device, use, sizeof use);
        CHECK_HINT(0, "use a smaller batch, clip or resolution, or raise [train] max_memory; the checkpoints written so far "
                      "are intact: continue with --resume auto",
                   "out of memory: a %s %s tensor (%zu bytes, tag %s) would pass the %s limit of %.1f MiB "
                   "([train] max_memory); %s", dims, dtype_name(dtype), bytes,
                   mem_tag_name(mem_get_tag()), device_name(device), (double)mem_get_limit(device) / 1048576.0, use);
    }
    return b;
}

tensor *tensor_new(int ndim, const int64_t *shape, dtype_t dtype, device_t device) {
    CHECK(ndim >= 0 && ndim <= TENSOR_MAX_DIMS, "tensor with %d dims (at most %d)", ndim, TENSOR_MAX_DIMS);
    tensor *t = xcalloc(1, sizeof *t);
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < ndim; i++) {
        CHECK(shape[i] >= 0, "tensor dim %d is negative (%lld)", i, (long long)shape[i]);
        t->shape[i] = shape[i];
        t->numel *= shape[i];
    }
    t->dtype = dtype;
    t->device = device;
    t->block = tensor_alloc(t->ndim, t->shape, dtype, device);
    t->data = t->block->ptr;
    t->refcount = 1;
    return t;
}

tensor *tensor_empty(int ndim, const int64_t *shape) { return tensor_new(ndim, shape, DTYPE_F32, DEVICE_CPU); }

tensor *tensor_zeros(int ndim, const int64_t *shape) {
    tensor *t = tensor_empty(ndim, shape);
    memset(t->data, 0, (size_t)t->numel * 4);
    return t;
}

tensor *tensor_full(int ndim, const int64_t *shape, float value) {
    tensor *t = tensor_empty(ndim, shape);
    tensor_fill(t, value);
    return t;
}

tensor *tensor_from_data(int ndim, const int64_t *shape, const float *data) {
    tensor *t = tensor_empty(ndim, shape);
    memcpy(t->data, data, (size_t)t->numel * 4);
    return t;
}

tensor *tensor_empty_like(const tensor *t) { return tensor_new(t->ndim, t->shape, t->dtype, t->device); }

tensor *tensor_zeros_like(const tensor *t) {
    tensor *z = tensor_empty_like(t);
    device_memset0(z->device, z->data, (size_t)z->numel * dtype_size(z->dtype));
    return z;
}

tensor *tensor_clone(const tensor *t) {
    tensor *c = tensor_empty_like(t);
    device_memcpy(c->data, c->device, t->data, t->device, (size_t)t->numel * dtype_size(t->dtype));
    return c;
}

tensor *tensor_view(const tensor *t, int ndim, const int64_t *shape) {
    tensor *v = xcalloc(1, sizeof *v);
    v->ndim = ndim;
    v->numel = 1;
    for (int i = 0; i < ndim; i++) { v->shape[i] = shape[i]; v->numel *= shape[i]; }
    char a[96];
    tensor_shape_str(t, a, sizeof a);
    CHECK(v->numel == t->numel, "cannot view a tensor of shape %s (%lld elements) with %lld elements", a,
          (long long)t->numel, (long long)v->numel);
    v->dtype = t->dtype;
    v->device = t->device;
    v->block = t->block;
    mem_block_retain(v->block);
    v->data = t->data;
    v->refcount = 1;
    return v;
}

tensor *tensor_to(const tensor *t, device_t device) {
    tensor *c = tensor_new(t->ndim, t->shape, t->dtype, device);
    device_memcpy(c->data, device, t->data, t->device, (size_t)t->numel * dtype_size(t->dtype));
    return c;
}

void tensor_move_(tensor *t, device_t device) {
    if (t->device == device) return;
    CHECK(t->block->refcount == 1, "tensor_move_: '%s' shares its storage with a view; move the base tensor",
          t->name ? t->name : "tensor");
    mem_block *b = tensor_alloc(t->ndim, t->shape, t->dtype, device);
    device_memcpy(b->ptr, device, t->data, t->device, (size_t)t->numel * dtype_size(t->dtype));
    mem_block_release(t->block);
    t->block = b;
    t->data = b->ptr;
    t->device = device;
    tensor_release(t->grad);
    t->grad = NULL;
}

double tensor_item(const tensor *t) {
    CHECK(t->numel >= 1 && t->dtype == DTYPE_F32, "tensor_item: needs a float32 tensor with an element");
    float v;
    device_memcpy(&v, DEVICE_CPU, t->data, t->device, sizeof v);
    return (double)v;
}

/* bf16: core/bf16.h (round to nearest even); f16: IEEE half with subnormals */
static float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0) {
        float f = ldexpf((float)man, -24);
        return sign ? -f : f;
    } else if (exp == 31) u = sign | 0x7f800000u | (man << 13);
    else u = sign | ((exp + 112) << 23) | (man << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint16_t f32_to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    float a = fabsf(f);
    if (isnan(f)) return sign | 0x7e00;
    if (a >= 65520.0f) return sign | 0x7c00;
    if (a < 6.103515625e-05f) return sign | (uint16_t)lrintf(a * 16777216.0f);  /* subnormal */
    int e;
    float m = frexpf(a, &e);                 /* a = m * 2^e, m in [0.5,1) */
    long mant = lrintf((m * 2.0f - 1.0f) * 1024.0f);
    int ex = e - 1 + 15;
    if (mant == 1024) { mant = 0; ex++; }
    return sign | (uint16_t)(ex << 10) | (uint16_t)mant;
}

tensor *tensor_to_dtype(const tensor *t, dtype_t dtype) {
    CHECK(t->device == DEVICE_CPU, "tensor_to_dtype runs on CPU tensors");
    if (t->dtype == dtype) return tensor_clone(t);
    tensor *c = tensor_new(t->ndim, t->shape, dtype, DEVICE_CPU);
    if (t->dtype == DTYPE_F32) {
        const float *s = t->data;
        uint16_t *d = c->data;
        for (int64_t i = 0; i < t->numel; i++) d[i] = dtype == DTYPE_BF16 ? bf16_from_f32(s[i]) : f32_to_f16(s[i]);
    } else if (dtype == DTYPE_F32) {
        const uint16_t *s = t->data;
        float *d = c->data;
        for (int64_t i = 0; i < t->numel; i++) d[i] = t->dtype == DTYPE_BF16 ? bf16_to_f32(s[i]) : f16_to_f32(s[i]);
    } else {
        tensor *mid = tensor_to_dtype(t, DTYPE_F32);
        tensor_release(c);
        c = tensor_to_dtype(mid, dtype);
        tensor_release(mid);
    }
    return c;
}

void tensor_retain(tensor *t) { if (t) t->refcount++; }

static void (*grad_fn_release)(struct ag_node *node, tensor *t);
void tensor_set_grad_fn_release(void (*detach)(struct ag_node *node, tensor *t)) { grad_fn_release = detach; }

void tensor_release(tensor *t) {
    if (!t) return;
    CHECK(t->refcount > 0, "tensor released more often than retained");
    if (--t->refcount > 0) {
        /* only autograd nodes that need no values hold it now (a cast's input): nothing can read it again */
        if (t->refcount == t->data_unused_refs && t->block) {
            mem_block_release(t->block);
            t->block = NULL;
            t->data = NULL;
        }
        return;
    }
    if (t->grad_fn) grad_fn_release(t->grad_fn, t);   /* set: only autograd sets grad_fn */
    tensor_release(t->grad);
    mem_block_release(t->block);
    free(t->name);
    free(t);
}

void tensor_set_name(tensor *t, const char *name) {
    free(t->name);
    t->name = name ? strdup(name) : NULL;
}

/* ---- autorelease scopes: a stack of tensor lists, one per open scope (per thread) ---- */
typedef struct { tensor **items; int n, cap; } tensor_list;
#define MAX_SCOPES 256
static _Thread_local tensor_list scopes[MAX_SCOPES];
static _Thread_local int scope_depth;

int tensor_scope_depth(void) { return scope_depth; }

static void list_push(tensor_list *l, tensor *t) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->items = xrealloc(l->items, (size_t)l->cap * sizeof *l->items);
    }
    l->items[l->n++] = t;
}

tensor *tensor_autorelease(tensor *t) {
    if (t && scope_depth > 0) list_push(&scopes[scope_depth - 1], t);
    return t;
}

void tensor_scope_begin(void) {
    CHECK(scope_depth < MAX_SCOPES, "tensor scopes nested deeper than %d", MAX_SCOPES);
    scopes[scope_depth++].n = 0;
}

tensor *tensor_scope_end(tensor *keep) {
    CHECK(scope_depth > 0, "tensor_scope_end without tensor_scope_begin");
    tensor_list *l = &scopes[scope_depth - 1];
    if (keep) tensor_retain(keep);
    for (int i = 0; i < l->n; i++) tensor_release(l->items[i]);
    l->n = 0;
    if (l->cap > 4096) { free(l->items); l->items = NULL; l->cap = 0; }
    scope_depth--;
    if (scope_depth == 0 && l->items) { free(l->items); l->items = NULL; l->cap = 0; }
    return tensor_autorelease(keep);  /* the enclosing scope (or the caller) owns it now */
}

const float *tensor_f32_read(const tensor *t) {
    CHECK(t->dtype == DTYPE_F32, "expected a float32 tensor, got %s", dtype_name(t->dtype));
    return (const float *)t->data;
}

void tensor_mark_written(const tensor *t) {
    if (t->block) mem_block_mark_written(t->block);
}

float *tensor_f32(const tensor *t) {
    CHECK(t->dtype == DTYPE_F32, "expected a float32 tensor, got %s", dtype_name(t->dtype));
    tensor_mark_written(t);
    return (float *)t->data;
}

bool tensor_same_shape(const tensor *a, const tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++) if (a->shape[i] != b->shape[i]) return false;
    return true;
}

void tensor_shape_str(const tensor *t, char *buf, size_t n) {
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "(");
    for (int i = 0; i < t->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ",%lld" : "%lld", (long long)t->shape[i]);
    if (k < n) snprintf(buf + k, n - k, ")");
}

void tensor_fill(tensor *t, float value) {
    float *d = tensor_f32(t);
#ifdef VAEC_HAVE_CUDA
    if (t->device == DEVICE_CUDA) { tensor_fill_cuda(d, value, t->numel); return; }
#endif
    for (int64_t i = 0; i < t->numel; i++) d[i] = value;
}

void tensor_copy_(tensor *dst, const tensor *src) {
    CHECK(dst->numel == src->numel && dst->dtype == src->dtype, "tensor_copy_: %lld vs %lld elements",
          (long long)dst->numel, (long long)src->numel);
    tensor_mark_written(dst);
    device_memcpy(dst->data, dst->device, src->data, src->device, (size_t)src->numel * dtype_size(src->dtype));
}

void tensor_add_(tensor *dst, const tensor *src) {
    char a[96], b[96];
    tensor_shape_str(dst, a, sizeof a);
    tensor_shape_str(src, b, sizeof b);
    CHECK(dst->numel == src->numel, "tensor_add_: shapes %s and %s differ", a, b);
    CHECK_SAME_DEVICE("tensor_add_", dst, src);
    float *d = tensor_f32(dst);
    const float *s = tensor_f32(src);
    int64_t n = dst->numel;
#ifdef VAEC_HAVE_CUDA
    if (dst->device == DEVICE_CUDA) { tensor_add_cuda(d, s, n); return; }
#endif
#pragma omp parallel for if (n > 65536) schedule(static)
    for (int64_t i = 0; i < n; i++) d[i] += s[i];
}

int64_t tensor_dim(const tensor *t, int d) {
    if (d < 0) d += t->ndim;
    CHECK(d >= 0 && d < t->ndim, "dim %d out of range for a %d-dim tensor", d, t->ndim);
    return t->shape[d];
}
