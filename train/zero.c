/* zero.c: ZeRO stages 0-2: sharded AdamW, exact clipping norm, weight all-gather, checkpoints (see zero.h). */
#include "train/zero.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "autograd/autograd.h"   // defines: ag_zero_grad
#include "core/check.h"          // defines: CHECK, vaec_set_error
#include "core/device.h"         // defines: device_memcpy, device_memset0
#include "core/mem.h"            // defines: mem_set_tag, MEM_OPTIMIZER
#include "core/safetensors.h"    // defines: st_open, st_read
#include "train/dist.h"          // defines: dist_rank, dist_world, dist_iallgather_f32, dist_gather_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/reduce_cuda.h"   // defines: sum_all_cuda
#include "optim/optim_cuda.h"       // defines: grad_scale_cuda
#endif
#ifdef VAEC_HAVE_NCCL
#include "train/dist_nccl.h"        // defines: dist_nccl_shared, nccl_comm_all_gather
#endif

/* the values of bucket b this rank updates: its part (stages 1, 2) or the whole padded bucket (stage 0) */
static int64_t owned_lo(const zero *z, int b) { return z->stage >= 1 ? z->plan.buckets[b].part * z->rank : 0; }
static int64_t owned_len(const zero *z, int b) {
    return z->stage >= 1 ? z->plan.buckets[b].part : z->plan.buckets[b].part * z->world;
}

static tensor *flat_zeros(int64_t n, device_t dev) {
    tensor *t = tensor_new(1, (int64_t[]){n > 0 ? n : 1}, DTYPE_F32, dev);
    device_memset0(dev, t->data, (size_t)t->numel * sizeof(float));
    return t;
}

zero *zero_new(tensor **params, int n, adamw_config cfg, int stage, size_t bucket_bytes, device_t dev, bool overlap,
               int in_flight) {
    zero *z = xcalloc(1, sizeof *z);
    z->stage = stage, z->rank = dist_rank(), z->world = dist_world(), z->dev = dev, z->overlap = overlap;
    adamw *defaults = adamw_new(NULL, 0, cfg);   /* torch's defaults for the fields left zero */
    z->opt = xcalloc(1, sizeof *z->opt);
    z->opt->cfg = defaults->cfg;
    adamw_free(defaults);
    z->opt->params = xcalloc((size_t)n + 1, sizeof(tensor *));
    z->opt->m = xcalloc((size_t)n + 1, sizeof(tensor *));
    z->opt->v = xcalloc((size_t)n + 1, sizeof(tensor *));
    int64_t *numel = xcalloc((size_t)n + 1, sizeof(int64_t));
    for (int i = 0; i < n; i++) {
        if (!params[i]->requires_grad) continue;
        CHECK(params[i]->dtype == DTYPE_F32 && params[i]->device == dev,
              "zero: trainable tensor %d is not float32 on the training device", i);
        tensor_retain(params[i]);
        numel[z->opt->n] = params[i]->numel;
        z->opt->params[z->opt->n++] = params[i];
    }
    zero_plan_build(&z->plan, numel, z->opt->n, z->world, bucket_bytes);
    free(numel);
    z->state_at = xcalloc((size_t)z->plan.n_buckets + 1, sizeof(int64_t));
    int64_t owned = 0;
    for (int b = 0; b < z->plan.n_buckets; b++) z->state_at[b] = owned, owned += owned_len(z, b);
    mem_tag prev = mem_set_tag(MEM_OPTIMIZER);
    z->m = flat_zeros(owned, dev);
    z->v = flat_zeros(owned, dev);
    mem_set_tag(MEM_GRADS);
    if (stage >= 2) z->grad = flat_zeros(z->plan.part_total, dev);
    mem_set_tag(prev);
    z->load_view = *z->opt;
    z->load_view.n = 0;
    z->sync = grad_sync_new(&z->plan, z->opt->params, stage, z->rank, dev, in_flight);
    return z;
}

void zero_free(zero *z) {
    if (!z) return;
    grad_sync_free(z->sync);
    adamw_free(z->opt);   /* releases the parameters; m, v are NULL */
    tensor_release(z->m), tensor_release(z->v), tensor_release(z->grad);
    zero_plan_free(&z->plan);
    free(z->state_at);
    free(z);
}

static double mb(size_t bytes) { return (double)bytes / 1048576.0; }

void zero_print_memory(const zero_plan *p, int stage, int weight_bytes, int in_flight, const char *who) {
    zero_memory m = zero_memory_of(p, stage, weight_bytes, in_flight);
    printf("zero_stage %d on %d rank%s%s: %d buckets; memory per rank: weights %.1f MB, fp32 masters %.1f MB, AdamW state "
           "%.1f MB, gradients %.1f MB (backward peak %.1f MB), buckets %.1f MB\n", stage, p->world, p->world > 1 ? "s" : "",
           who, p->n_buckets, mb(m.weights), mb(m.masters), mb(m.optimizer), mb(m.grads), mb(m.grads_backward),
           mb(m.buckets));
}

void zero_before_backward(zero *z, float scale) {
    if (z->overlap) grad_sync_arm(z->sync, scale, z->grad ? tensor_f32(z->grad) : NULL);
}

void zero_reduce(zero *z, float scale) { grad_sync_finish(z->sync, scale, z->grad ? tensor_f32(z->grad) : NULL); }

/* the gradient values of a piece of bucket b, that part q starts at lo: the shard (stage 2) or the parameter's */
static float *grad_of(const zero *z, int b, int64_t lo, const zero_piece *pc) {
    if (z->stage >= 2) return tensor_f32(z->grad) + z->plan.part_at[b] + (pc->bucket_at - lo);
    return tensor_f32(z->opt->params[pc->param]->grad) + pc->param_at;
}

/* sum of squares of part q of bucket b, in bucket order, in double; NAN-propagating */
static double part_sumsq(const zero *z, int b, int q, zero_piece *pcs) {
    const int64_t part = z->plan.buckets[b].part, lo = part * q;
    const int k = zero_plan_pieces(&z->plan, b, lo, lo + part, pcs, z->plan.n_params + 1);
    const int *present = grad_sync_present(z->sync);
    double s = 0;
    for (int i = 0; i < k; i++) {
        if (!present[pcs[i].param]) continue;
        const float *g = grad_of(z, b, lo, &pcs[i]);
        if (z->dev != DEVICE_CPU) {
#ifdef VAEC_HAVE_CUDA
            mem_block *slot = mem_alloc_tagged(sizeof(double), DEVICE_CUDA, MEM_WORKSPACE);
            double host;
            sum_all_cuda(g, pcs[i].len, 1, 1.0, NULL, (double *)slot->ptr);   /* deterministic (reduce_cuda.h) */
            device_memcpy(&host, DEVICE_CPU, slot->ptr, DEVICE_CUDA, sizeof host);
            mem_block_release(slot);
            s += host;
            continue;
#endif
            DEVICE_UNSUPPORTED("zero clipping norm", z->dev);
        }
        for (int64_t j = 0; j < pcs[i].len; j++) s += (double)g[j] * g[j];
    }
    return s;
}

/* the global gradient norm, the same in every stage: one sum a (part, bucket), added bucket by bucket in part order */
static double global_norm(zero *z) {
    const int nb = z->plan.n_buckets, W = z->world;
    double *sums = xcalloc((size_t)(nb * W) + 1, sizeof(double));   /* [part q][bucket b] */
    const int q0 = z->stage >= 2 ? z->rank : 0, q1 = z->stage >= 2 ? z->rank + 1 : W;
#pragma omp parallel for schedule(dynamic) if (z->dev == DEVICE_CPU)
    for (int job = 0; job < nb * (q1 - q0); job++) {
        zero_piece *pcs = xmalloc((size_t)(z->plan.n_params + 1) * sizeof(zero_piece));
        const int b = job / (q1 - q0), q = q0 + job % (q1 - q0);
        sums[(size_t)q * nb + b] = part_sumsq(z, b, q, pcs);
        free(pcs);
    }
    if (z->stage >= 2) dist_allgather_f64(sums, nb, "the gradient norm all-gather");
    double total = 0;
    for (int b = 0; b < nb; b++)
        for (int q = 0; q < W; q++) total += sums[(size_t)q * nb + b];
    free(sums);
    return sqrt(total);
}

/* fn(z, b, lo, piece) for every piece of the values this rank owns, bucket by bucket */
typedef void (*piece_fn)(zero *z, int b, int64_t lo, const zero_piece *pc, void *ctx);
static void for_owned(zero *z, piece_fn fn, void *ctx) {
    zero_piece *pcs = xmalloc((size_t)(z->plan.n_params + 1) * sizeof(zero_piece));
    for (int b = 0; b < z->plan.n_buckets; b++) {
        const int64_t lo = owned_lo(z, b);
        const int k = zero_plan_pieces(&z->plan, b, lo, lo + owned_len(z, b), pcs, z->plan.n_params + 1);
        for (int i = 0; i < k; i++)
            if (grad_sync_present(z->sync)[pcs[i].param]) fn(z, b, lo, &pcs[i], ctx);
    }
    free(pcs);
}

static void clip_piece(zero *z, int b, int64_t lo, const zero_piece *pc, void *ctx) {
    const double coef = *(const double *)ctx;
    float *g = grad_of(z, b, lo, pc);
#ifdef VAEC_HAVE_CUDA
    if (z->dev == DEVICE_CUDA) { grad_scale_cuda(g, pc->len, coef); return; }
#endif
    for (int64_t k = 0; k < pc->len; k++) g[k] = (float)(g[k] * coef);   /* as clip_grad_norm */
}

static void update_piece(zero *z, int b, int64_t lo, const zero_piece *pc, void *ctx) {
    (void)ctx;
    const int64_t at = z->state_at[b] + (pc->bucket_at - lo);
    adamw_update_values(&z->opt->cfg, z->opt->step, tensor_f32(z->opt->params[pc->param]) + pc->param_at,
                        tensor_f32(z->m) + at, tensor_f32(z->v) + at, grad_of(z, b, lo, pc), pc->len, z->dev);
}

/* after the update (stages 1, 2): every rank's updated part of every bucket to every rank, bucket by bucket */
static void zero_gather_weights(zero *z) {
    mem_block *buf = mem_alloc_tagged((size_t)z->plan.largest_bucket * sizeof(float) + 4, z->dev, MEM_WORKSPACE);
    float *d = buf->ptr;
    device_memset0(z->dev, d, buf->requested);   /* the padding travels too */
    zero_piece *pcs = xmalloc((size_t)(z->plan.n_params + 1) * sizeof(zero_piece));
    for (int b = 0; b < z->plan.n_buckets; b++) {
        const int64_t part = z->plan.buckets[b].part, lo = part * z->rank;
        int k = zero_plan_pieces(&z->plan, b, lo, lo + part, pcs, z->plan.n_params + 1);
        for (int i = 0; i < k; i++)
            device_memcpy(d + pcs[i].bucket_at, z->dev, tensor_f32(z->opt->params[pcs[i].param]) + pcs[i].param_at, z->dev,
                          (size_t)pcs[i].len * sizeof(float));
#ifdef VAEC_HAVE_NCCL
        if (z->dev == DEVICE_CUDA) {
            char err[512];
            nccl_comm *c = dist_nccl_shared();
            if (nccl_comm_all_gather(c, d, part, err, sizeof err) != 0) dist_abort("%s", err);
            dist_nccl_wait(c, dist_timeout_seconds());
        } else
#endif
            dist_wait(dist_iallgather_f32(d, part, "the weight all-gather"), "the weight all-gather");
        k = zero_plan_pieces(&z->plan, b, 0, z->plan.buckets[b].values, pcs, z->plan.n_params + 1);
        for (int i = 0; i < k; i++)   /* our own part too: the same values */
            device_memcpy(tensor_f32(z->opt->params[pcs[i].param]) + pcs[i].param_at, z->dev, d + pcs[i].bucket_at, z->dev,
                              (size_t)pcs[i].len * sizeof(float));
    }
    free(pcs);
    mem_block_release(buf);
}

void zero_apply(zero *z, const step_config *c, step_result *r) {
    r->grad_norm = global_norm(z);
    if (c->grad_clip > 0) {
        double coef = c->grad_clip / (r->grad_norm + 1e-6);
        if (coef < 1.0) for_owned(z, clip_piece, &coef);
    }
    r->skipped = !isfinite(r->loss) || !isfinite(r->grad_norm);
    if (!r->skipped) {
        z->opt->step++;
        for_owned(z, update_piece, NULL);
        if (z->stage >= 1) zero_gather_weights(z);
    }
    ag_zero_grad(z->opt->params, z->opt->n);
}

/* ---- checkpoints ---- */

/* the state of bucket b this rank owns, as `part` (stage >= 1) or the whole padded bucket, on the CPU */
static float *state_on_host(const zero *z, const tensor *state, int b, float *host) {
    const float *src = tensor_f32((tensor *)state) + z->state_at[b];
    device_memcpy(host, DEVICE_CPU, src, z->dev, (size_t)owned_len(z, b) * sizeof(float));
    return host;
}

adamw *zero_gather_optimizer(zero *z) {
    const bool root = z->rank == 0;
    adamw *full = NULL;
    if (root) {   /* on the CPU, as a one-rank run holds it: ckpt_save writes it unchanged */
        full = xcalloc(1, sizeof *full);
        full->cfg = z->opt->cfg, full->step = z->opt->step, full->n = z->opt->n;
        full->params = xcalloc((size_t)full->n + 1, sizeof(tensor *));
        full->m = xcalloc((size_t)full->n + 1, sizeof(tensor *));
        full->v = xcalloc((size_t)full->n + 1, sizeof(tensor *));
        mem_tag prev = mem_set_tag(MEM_WORKSPACE);
        for (int i = 0; i < full->n; i++) {
            tensor *p = z->opt->params[i];
            tensor_retain(p);
            full->params[i] = p;
            full->m[i] = tensor_zeros(p->ndim, p->shape);
            full->v[i] = tensor_zeros(p->ndim, p->shape);
        }
        mem_set_tag(prev);
    }
    const size_t cap = (size_t)z->plan.largest_bucket + 1;
    float *mine = xmalloc(cap * sizeof(float)), *all = root ? xmalloc(cap * sizeof(float)) : NULL;
    zero_piece *pcs = xmalloc((size_t)(z->plan.n_params + 1) * sizeof(zero_piece));
    for (int which = 0; which < 2; which++)
        for (int b = 0; b < z->plan.n_buckets; b++) {
            const tensor *state = which ? z->v : z->m;
            const float *bucket;
            if (z->stage == 0) {   /* every rank holds it all: rank 0 needs no message */
                if (!root) continue;
                bucket = state_on_host(z, state, b, all);
            } else {
                dist_gather_f32(state_on_host(z, state, b, mine), all, z->plan.buckets[b].part, 0, "the optimizer state gather");
                bucket = all;
            }
            if (!root) continue;
            int k = zero_plan_pieces(&z->plan, b, 0, z->plan.buckets[b].values, pcs, z->plan.n_params + 1);
            for (int i = 0; i < k; i++)
                memcpy(tensor_f32(which ? full->v[pcs[i].param] : full->m[pcs[i].param]) + pcs[i].param_at,
                       bucket + pcs[i].bucket_at, (size_t)pcs[i].len * sizeof(float));
        }
    free(pcs), free(mine), free(all);
    return full;
}

/* the key of an optimized tensor in the checkpoint's model files, as checkpoint.c names it */
static int key_of(const ckpt_parts *parts, const tensor *t, char *key, size_t n, const char *what) {
    for (int m = 0; m < parts->n_models; m++)
        for (int i = 0; i < parts->models[m]->n; i++)
            if (parts->models[m]->items[i].t == t) {
                snprintf(key, n, "%s.%s%s", what, parts->prefixes[m] ? parts->prefixes[m] : "", parts->models[m]->items[i].name);
                return 0;
            }
    return -1;
}

int zero_load_optimizer(zero *z, const char *dir, const ckpt_parts *parts) {
    char path[4400], key[800];
    snprintf(path, sizeof path, "%s/optimizer.safetensors", dir);
    st_file *f = st_open(path);
    if (!f) return -1;
    z->opt->step = z->load_view.step;
    zero_piece *pcs = xmalloc((size_t)(z->plan.n_params + 1) * sizeof(zero_piece));
    int rc = 0;
    /* parameter by parameter: the file's tensor once, its slices of this rank's buckets */
    for (int which = 0; which < 2 && rc == 0; which++)
        for (int i = 0; i < z->opt->n && rc == 0; i++) {
            tensor *t = NULL;
            if (key_of(parts, z->opt->params[i], key, sizeof key, which ? "exp_avg_sq" : "exp_avg") != 0) {
                rc = vaec_set_error("zero: optimized tensor %d belongs to no model of the checkpoint", i);
                break;
            }
            if (st_read(f, key, &t) != 0) { rc = -1; break; }   /* a failed checksum names the file and tensor */
            if (!t || t->numel != z->opt->params[i]->numel) {
                tensor_release(t);
                rc = vaec_set_error("'%s': optimizer state '%s' is missing or has the wrong size (was the checkpoint written "
                                    "with another config or another freeze_vae_2d?)", path, key);
                break;
            }
            const int b = z->plan.bucket_of[i];
            const int64_t lo = owned_lo(z, b);
            int k = zero_plan_pieces(&z->plan, b, lo, lo + owned_len(z, b), pcs, z->plan.n_params + 1);
            for (int j = 0; j < k; j++)
                if (pcs[j].param == i)
                    device_memcpy(tensor_f32(which ? z->v : z->m) + z->state_at[b] + (pcs[j].bucket_at - lo), z->dev,
                                  tensor_f32(t) + pcs[j].param_at, DEVICE_CPU, (size_t)pcs[j].len * sizeof(float));
            tensor_release(t);
        }
    free(pcs);
    st_close(f);
    return rc;
}
