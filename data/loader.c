/* loader.c: seeded, sharded, prefetching batches from an HDF5 video dataset (see loader.h). */
#include "data/loader.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/rng.h"         // defines: philox4x32_10
#include "data/h5video.h"     // defines: h5video_open, h5video_read

struct loader {
    loader_config cfg;
    h5video *file;
    int *clips, n_clips, skipped;      /* eligible clip indices */
    int64_t *T, *H, *W;                /* shapes of the eligible clips */
    int *order;                        /* this epoch's permutation */
    int64_t epoch, index, order_epoch; /* position: next global batch */
    /* prefetch: one worker fills `ready` for position (r_epoch, r_index) */
    pthread_t worker;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    tensor *ready;
    int64_t r_epoch, r_index;
    bool want, stop, failed;
    char error[512];
    double waited;
};

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int64_t global_batch(const loader *l) { return (int64_t)l->cfg.batch_size * l->cfg.world; }
static int64_t batches_per_epoch(const loader *l) { return l->n_clips / global_batch(l); }

/* Fisher-Yates from a Philox stream keyed by (seed, epoch): the same order on every rank */
static void shuffle(loader *l, int64_t epoch) {
    for (int i = 0; i < l->n_clips; i++) l->order[i] = i;
    rng_state r = {l->cfg.seed ^ 0x9e3779b97f4a7c15ull, (uint64_t)epoch << 32};
    for (int i = l->n_clips - 1; i > 0; i--) {
        int j = (int)(rng_next_u32(&r) % (uint32_t)(i + 1));
        int t = l->order[i];
        l->order[i] = l->order[j];
        l->order[j] = t;
    }
    l->order_epoch = epoch;
}

/* reads the batch at (epoch, index) into a new tensor; runs on the worker thread (the only HDF5 user) */
static tensor *read_batch(loader *l, int64_t epoch, int64_t index) {
    if (l->order_epoch != epoch) shuffle(l, epoch);
    const loader_config *c = &l->cfg;
    int64_t s = c->size, span = (int64_t)(c->num_frames - 1) * c->frame_interval + 1;
    tensor *out = tensor_empty(SHAPE(c->batch_size, c->num_frames, s, s, 3));
    float *o = tensor_f32(out);
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (int b = 0; b < c->batch_size; b++) {
        int64_t slot = index * global_batch(l) + (int64_t)c->rank * c->batch_size + b;
        int e = l->order[slot], clip = l->clips[e];
        int64_t T = l->T[e], H = l->H[e], W = l->W[e];
        rng_state r = {c->seed + (uint64_t)epoch * 1000003ull, (uint64_t)clip * 4};
        int64_t t0 = (int64_t)(rng_next_u32(&r) % (uint32_t)(T - span + 1));
        size_t need = (size_t)(span * H * W * 3);
        if (need > cap) { free(buf); buf = xmalloc(need); cap = need; }
        if (h5video_read(l->file, clip, t0, span, buf) != 0) {
            snprintf(l->error, sizeof l->error, "%s", vaec_last_error());
            free(buf);
            tensor_release(out);
            return NULL;
        }
        int64_t y0 = (H - s) / 2, x0 = (W - s) / 2;   /* centre crop */
        for (int t = 0; t < c->num_frames; t++) {
            const uint8_t *f = buf + (int64_t)t * c->frame_interval * H * W * 3;
            float *dst = o + (((int64_t)b * c->num_frames + t) * s * s) * 3;
            for (int64_t y = 0; y < s; y++)
                for (int64_t x = 0; x < s * 3; x++)
                    dst[y * s * 3 + x] = (float)f[((y0 + y) * W + x0) * 3 + x] * (2.0f / 255.0f) - 1.0f;
        }
    }
    free(buf);
    return out;
}

static void *worker_main(void *arg) {
    loader *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->want && !l->stop) pthread_cond_wait(&l->cv, &l->mu);
        if (l->stop) break;
        int64_t e = l->r_epoch, i = l->r_index;
        pthread_mutex_unlock(&l->mu);
        tensor *t = read_batch(l, e, i);
        pthread_mutex_lock(&l->mu);
        l->ready = t;
        l->failed = t == NULL;
        l->want = false;
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* asks the worker for the batch at the current position (lock held) */
static void request(loader *l) {
    l->r_epoch = l->epoch;
    l->r_index = l->index;
    l->want = true;
    pthread_cond_broadcast(&l->cv);
}

loader *loader_open(const loader_config *c) {
    if (c->batch_size <= 0 || c->num_frames <= 0 || c->frame_interval <= 0 || c->size <= 0 || c->world <= 0 ||
        c->rank < 0 || c->rank >= c->world) {
        vaec_set_error("loader: bad settings (batch %d, frames %d, interval %d, size %d, rank %d of %d)", c->batch_size,
                       c->num_frames, c->frame_interval, c->size, c->rank, c->world);
        return NULL;
    }
    h5video *f = h5video_open(c->path);
    if (!f) return NULL;
    loader *l = xcalloc(1, sizeof *l);
    l->cfg = *c;
    l->file = f;
    int n = h5video_num_clips(f);
    l->clips = xcalloc((size_t)(n ? n : 1), sizeof(int));
    l->T = xcalloc((size_t)(n ? n : 1), sizeof(int64_t));
    l->H = xcalloc((size_t)(n ? n : 1), sizeof(int64_t));
    l->W = xcalloc((size_t)(n ? n : 1), sizeof(int64_t));
    int64_t span = (int64_t)(c->num_frames - 1) * c->frame_interval + 1;
    for (int i = 0; i < n; i++) {
        int64_t T, H, W;
        if (h5video_clip_shape(f, i, &T, &H, &W) != 0) { loader_close(l); return NULL; }
        if (T < span || H < c->size || W < c->size) {
            if (c->error_on_short) {
                vaec_set_error("'%s' clip %d is %lldx%lldx%lld, shorter or smaller than the %lld-frame %dx%d window the "
                               "config asks for", c->path, i, (long long)T, (long long)H, (long long)W, (long long)span,
                               c->size, c->size);
                loader_close(l);
                return NULL;
            }
            l->skipped++;
            continue;
        }
        l->clips[l->n_clips] = i;
        l->T[l->n_clips] = T, l->H[l->n_clips] = H, l->W[l->n_clips] = W;
        l->n_clips++;
    }
    if (l->n_clips < global_batch(l)) {
        vaec_set_error("'%s': %d usable clips (%d skipped as shorter than %lld frames or smaller than %dx%d) cannot fill "
                       "one global batch of %lld", c->path, l->n_clips, l->skipped, (long long)span, c->size, c->size,
                       (long long)global_batch(l));
        loader_close(l);
        return NULL;
    }
    l->order = xcalloc((size_t)l->n_clips, sizeof(int));
    l->order_epoch = -1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    pthread_create(&l->worker, NULL, worker_main, l);
    pthread_mutex_lock(&l->mu);
    request(l);
    pthread_mutex_unlock(&l->mu);
    return l;
}

tensor *loader_next(loader *l) {
    double t0 = now_s();
    pthread_mutex_lock(&l->mu);
    while (l->want) pthread_cond_wait(&l->cv, &l->mu);
    l->waited += now_s() - t0;
    tensor *t = l->ready;
    l->ready = NULL;
    if (l->failed) {
        vaec_set_error("%s", l->error);
        pthread_mutex_unlock(&l->mu);
        return NULL;
    }
    if (++l->index >= batches_per_epoch(l)) { l->index = 0; l->epoch++; }
    request(l);   /* the next batch is read while the caller trains on this one */
    pthread_mutex_unlock(&l->mu);
    return t;
}

void loader_position(const loader *l, int64_t pos[2]) {
    /* the position of the batch loader_next returns next */
    pthread_mutex_lock((pthread_mutex_t *)&l->mu);
    pos[0] = l->epoch;
    pos[1] = l->index;
    pthread_mutex_unlock((pthread_mutex_t *)&l->mu);
}

void loader_seek(loader *l, const int64_t pos[2]) {
    pthread_mutex_lock(&l->mu);
    while (l->want) pthread_cond_wait(&l->cv, &l->mu);
    tensor_release(l->ready);
    l->ready = NULL;
    l->epoch = pos[0];
    l->index = pos[1] % (batches_per_epoch(l) > 0 ? batches_per_epoch(l) : 1);
    request(l);
    pthread_mutex_unlock(&l->mu);
}

int loader_num_clips(const loader *l) { return l->n_clips; }
int loader_num_skipped(const loader *l) { return l->skipped; }
double loader_wait_seconds(const loader *l) { return l->waited; }

void loader_close(loader *l) {
    if (!l) return;
    if (l->order) {   /* the worker was started */
        pthread_mutex_lock(&l->mu);
        while (l->want) pthread_cond_wait(&l->cv, &l->mu);
        l->stop = true;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->worker, NULL);
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        tensor_release(l->ready);
    }
    h5video_close(l->file);
    free(l->clips);
    free(l->T);
    free(l->H);
    free(l->W);
    free(l->order);
    free(l);
}
