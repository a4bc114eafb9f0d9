/* broadcast.c: broadcasting plans and the gradient reduction back to an input's shape. */
#include "core/ops/broadcast.h"
#include <string.h>
#ifdef VAEC_HAVE_CUDA
#include "core/ops/broadcast_cuda.h"   // defines: sum_to_shape_desc, sum_to_shape_cuda
#endif

void bcast_plan_init(bcast_plan *p, const tensor *a, const tensor *b, const char *op) {
    memset(p, 0, sizeof *p);
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    p->ndim = nd;
    p->numel = 1;
    int64_t stra = 1, strb = 1;
    for (int d = nd - 1; d >= 0; d--) {
        int da = d - (nd - a->ndim), db = d - (nd - b->ndim);
        int64_t na = da >= 0 ? a->shape[da] : 1, nb = db >= 0 ? b->shape[db] : 1;
        if (na != nb && na != 1 && nb != 1) {
            char sa[96], sb[96];
            tensor_shape_str(a, sa, sizeof sa);
            tensor_shape_str(b, sb, sizeof sb);
            FATAL("%s: shapes %s and %s cannot be broadcast (dim %d: %lld vs %lld)", op, sa, sb, d,
                  (long long)na, (long long)nb);
        }
        int64_t n = na > nb ? na : nb;
        if (na == 0 || nb == 0) n = 0;
        p->shape[d] = n;
        p->sa[d] = na == 1 ? 0 : stra;
        p->sb[d] = nb == 1 ? 0 : strb;
        stra *= na;
        strb *= nb;
        p->numel *= n;
    }
    p->same = tensor_same_shape(a, b);
}

int64_t bcast_offset(const bcast_plan *p, int64_t i, int which) {
    const int64_t *s = which ? p->sb : p->sa;
    int64_t off = 0;
    for (int d = p->ndim - 1; d >= 0 && i > 0; d--) {
        int64_t n = p->shape[d];
        off += (i % n) * s[d];
        i /= n;
    }
    return off;
}

tensor *sum_to_shape(const tensor *g, int ndim, const int64_t *shape) {
    tensor likev = {.ndim = ndim, .numel = 1};
    for (int d = 0; d < ndim; d++) { likev.shape[d] = shape[d]; likev.numel *= shape[d]; }
    const tensor *like = &likev;
    tensor *out = tensor_new(ndim, shape, DTYPE_F32, g->device);
    if (g->numel == like->numel) {   /* no broadcast dims (only leading 1s): a plain copy */
        tensor_copy_(out, g);
        return out;
    }
    /* result element i of g maps to element of `like` through zero strides; accumulate per output
       element in double. Parallel over output elements: each gathers its own inputs (deterministic). */
    bcast_plan p;
    bcast_plan_init(&p, g, like, "sum_to_shape");
    int nd = p.ndim;
    int64_t gstride[TENSOR_MAX_DIMS], ostride[TENSOR_MAX_DIMS];
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; d--) { gstride[d] = s; s *= p.shape[d]; }
    /* dims of `like` aligned to g's dims */
    int64_t oshape[TENSOR_MAX_DIMS];
    s = 1;
    for (int d = nd - 1; d >= 0; d--) {
        int dl = d - (nd - like->ndim);
        oshape[d] = dl >= 0 ? like->shape[dl] : 1;
        ostride[d] = s;
        s *= oshape[d];
    }
    const float *gd = tensor_f32(g);
    float *od = tensor_f32(out);
    int64_t nout = like->numel;
#ifdef VAEC_HAVE_CUDA
    if (g->device == DEVICE_CUDA) {
        sum_to_shape_desc desc = {.nd = nd, .nout = nout, .count = 1};
        for (int d = 0; d < nd; d++) {
            desc.gshape[d] = p.shape[d];
            desc.gstride[d] = gstride[d];
            desc.ostride[d] = ostride[d];
            desc.oshape[d] = oshape[d];
            if (oshape[d] == 1 && p.shape[d] != 1) { desc.red[desc.nred++] = d; desc.count *= p.shape[d]; }
        }
        sum_to_shape_cuda(&desc, gd, od);
        return out;
    }
#endif
#pragma omp parallel for if (nout > 64) schedule(static)
    for (int64_t o = 0; o < nout; o++) {
        /* fixed coordinates of o; iterate over the reduced dims */
        int64_t base = 0, rem = o;
        int red[TENSOR_MAX_DIMS], nred = 0;
        for (int d = 0; d < nd; d++) {
            int64_t c = rem / ostride[d];
            rem %= ostride[d];
            if (oshape[d] == 1 && p.shape[d] != 1) red[nred++] = d;
            else base += c * gstride[d];
        }
        int64_t count = 1;
        for (int r = 0; r < nred; r++) count *= p.shape[red[r]];
        double acc = 0;
        for (int64_t k = 0; k < count; k++) {
            int64_t off = base, kk = k;
            for (int r = nred - 1; r >= 0; r--) {
                int d = red[r];
                off += (kk % p.shape[d]) * gstride[d];
                kk /= p.shape[d];
            }
            acc += gd[off];
        }
        od[o] = (float)acc;
    }
    return out;
}
