/* loader.c: seeded, sharded, prefetching batches from an HDF5 video dataset (see loader.h).
 *
 * Batches are numbered in one sequence g = epoch * batches_per_epoch + index. Batch g is prepared in
 * slot g % depth of a ring (depth = number of workers): loader_next takes the slot of the next batch
 * and queues g + depth in its place, and each worker takes the lowest queued g. What a batch holds is
 * a function of g alone, so the stream is the same whatever the number of workers or their timing.
 * HDF5 is not thread-safe: workers take turns for the file read (`io`), and convert to float in parallel.
 * From a CSV list of videos (`videos`), workers decode with FFmpeg in parallel (each call its own decoder):
 * every clip is S x S after the resize, and its frame count comes from the CSV's num_frames column or from a
 * probe of the file at open. */
#include "data/loader.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/rng.h"         // defines: rng_next_u32
#include "data/csv_list.h"    // defines: csv_list_read, path_is_csv
#include "data/h5video.h"     // defines: h5video_open, h5video_read
#include "data/video_frames.h"   // defines: video_frames_count, video_frames_read_window

enum { SLOT_QUEUED, SLOT_BUSY, SLOT_DONE };

typedef struct {
    int64_t g;
    int state;
    tensor *t;         /* the batch; NULL with `error` when its read failed */
    char error[512];
} slot;

typedef struct {
    struct loader *l;
    pthread_t thread;
    int *order;        /* this worker's copy of the permutation of epoch `order_epoch` */
    int64_t order_epoch;
} worker;

struct loader {
    loader_config cfg;
    h5video *file;                     /* an HDF5 dataset, or NULL when reading a CSV list of videos */
    csv_list videos;
    int undecodable;                   /* videos of the list skipped at open: cannot be decoded */
    pthread_mutex_t io;                /* one HDF5 call at a time */
    int *clips, n_clips, skipped;      /* eligible clip indices */
    int64_t *T, *H, *W;                /* shapes of the eligible clips */
    bool *bad;                         /* eligible clips found unreadable (under `io`), skipped from then on */
    int n_bad;
    int64_t next;                      /* the batch loader_next returns next */
    int n_workers;
    worker *workers;
    slot *slots;                       /* n_workers of them */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    double waited;
};

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int64_t global_batch(const loader *l) { return (int64_t)l->cfg.batch_size * l->cfg.world; }
static int64_t batches_per_epoch(const loader *l) { return l->n_clips / global_batch(l); }

/* Fisher-Yates from a Philox stream keyed by (seed, epoch): the same order on every rank and worker */
static void shuffle(const loader *l, worker *w, int64_t epoch) {
    for (int i = 0; i < l->n_clips; i++) w->order[i] = i;
    rng_state r = {l->cfg.seed ^ 0x9e3779b97f4a7c15ull, (uint64_t)epoch << 32};
    for (int i = l->n_clips - 1; i > 0; i--) {
        int j = (int)(rng_next_u32(&r) % (uint32_t)(i + 1));
        int t = w->order[i];
        w->order[i] = w->order[j];
        w->order[j] = t;
    }
    w->order_epoch = epoch;
}

/* uint8 -> [-1, 1]. Blocks of 16 with a fixed count: -O2 vectorizes those (3x faster than the plain loop) */
static void to_unit_range(const uint8_t *restrict src, float *restrict dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) dst[i + k] = (float)src[i + k] * (2.0f / 255.0f) - 1.0f;
    for (; i < n; i++) dst[i] = (float)src[i] * (2.0f / 255.0f) - 1.0f;
}

/* Reads the window of the clip at position `at` of the epoch's order into buf. A clip that cannot be read is,
 * with on_bad_clip = skip, reported once, marked and passed over for the next one in the order that reads: the
 * other clips keep their batches and places, and the batches their sizes. The eligible index read, or -1 with
 * the message in `error`. */
static int read_clip(loader *l, worker *w, int64_t epoch, int64_t at, uint8_t **buf, size_t *cap, char *error,
                     size_t error_len) {
    const loader_config *c = &l->cfg;
    int64_t span = (int64_t)(c->num_frames - 1) * c->frame_interval + 1;
    for (int k = 0; k < l->n_clips; k++) {
        int e = w->order[(at + k) % l->n_clips], clip = l->clips[e];
        int64_t T = l->T[e], H = l->H[e], W = l->W[e];
        rng_state r = {c->seed + (uint64_t)epoch * 1000003ull, (uint64_t)clip * 4};
        int64_t t0 = (int64_t)(rng_next_u32(&r) % (uint32_t)(T - span + 1));
        size_t need = (size_t)(span * H * W * 3);
        if (need > *cap) { free(*buf); *buf = xmalloc(need); *cap = need; }
        int rc = -1;
        if (!l->file) {   /* a video of the list: decoded outside the lock, in parallel; the window packed */
            pthread_mutex_lock(&l->io);
            bool known_bad = l->bad[e];
            pthread_mutex_unlock(&l->io);
            if (!known_bad)
                rc = video_frames_read_window(l->videos.paths[clip], t0, c->num_frames, c->frame_interval, c->size,
                                              *buf);
        }
        pthread_mutex_lock(&l->io);
        if (l->file) rc = l->bad[e] ? -1 : h5video_read(l->file, clip, t0, span, *buf);
        if (rc != 0 && !l->bad[e]) {   /* the message is per thread: kept before the lock is let go */
            snprintf(error, error_len, "%s", vaec_last_error());
            if (!c->stop_on_bad_clip) {
                l->bad[e] = true;
                l->n_bad++;
                fprintf(stderr, "vaec: warning: skipping clip %d of '%s' from now on (%d unreadable so far; [data] "
                        "on_bad_clip = stop makes it an error): %s\n", l->file ? clip : clip + 1, c->path, l->n_bad,
                        error);
            }
        }
        pthread_mutex_unlock(&l->io);
        if (rc == 0) return e;
        if (c->stop_on_bad_clip) return -1;
    }
    snprintf(error, error_len, "'%s': none of its %d clips can be read", c->path, l->n_clips);
    return -1;
}

/* reads batch g into a new tensor, or NULL with the message in `error` */
static tensor *read_batch(loader *l, worker *w, int64_t g, char *error, size_t error_len) {
    int64_t epoch = g / batches_per_epoch(l), index = g % batches_per_epoch(l);
    if (w->order_epoch != epoch) shuffle(l, w, epoch);
    const loader_config *c = &l->cfg;
    int64_t s = c->size;
    tensor *out = tensor_empty(SHAPE(c->batch_size, c->num_frames, s, s, 3));
    float *o = tensor_f32(out);
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (int b = 0; b < c->batch_size; b++) {
        int64_t at = index * global_batch(l) + (int64_t)c->rank * c->batch_size + b;
        int e = read_clip(l, w, epoch, at, &buf, &cap, error, error_len);
        if (e < 0) {
            free(buf);
            tensor_release(out);
            return NULL;
        }
        int64_t H = l->H[e], W = l->W[e], step = l->file ? c->frame_interval : 1;   /* video windows come packed */
        int64_t y0 = (H - s) / 2, x0 = (W - s) / 2;   /* centre crop */
        for (int t = 0; t < c->num_frames; t++) {
            const uint8_t *f = buf + (int64_t)t * step * H * W * 3;
            float *dst = o + (((int64_t)b * c->num_frames + t) * s * s) * 3;
            for (int64_t y = 0; y < s; y++) to_unit_range(f + ((y0 + y) * W + x0) * 3, dst + y * s * 3, s * 3);
        }
    }
    free(buf);
    return out;
}

/* the queued slot with the lowest batch number, or NULL (lock held) */
static slot *next_queued(loader *l) {
    slot *best = NULL;
    for (int i = 0; i < l->n_workers; i++)
        if (l->slots[i].state == SLOT_QUEUED && (!best || l->slots[i].g < best->g)) best = &l->slots[i];
    return best;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    loader *l = w->l;
    char error[512];
    pthread_mutex_lock(&l->mu);
    for (;;) {
        slot *s = NULL;
        while (!l->stop && !(s = next_queued(l))) pthread_cond_wait(&l->cv, &l->mu);
        if (l->stop) break;
        s->state = SLOT_BUSY;
        int64_t g = s->g;
        pthread_mutex_unlock(&l->mu);
        error[0] = 0;
        tensor *t = read_batch(l, w, g, error, sizeof error);
        pthread_mutex_lock(&l->mu);
        s->t = t;
        snprintf(s->error, sizeof s->error, "%s", error);
        s->state = SLOT_DONE;
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* queues batches next .. next+depth-1, one a slot (lock held, no slot busy) */
static void queue_from(loader *l, int64_t next) {
    l->next = next;
    for (int k = 0; k < l->n_workers; k++) {
        slot *s = &l->slots[(next + k) % l->n_workers];
        tensor_release(s->t);
        s->t = NULL;
        s->g = next + k;
        s->state = SLOT_QUEUED;
    }
    pthread_cond_broadcast(&l->cv);
}

loader *loader_open(const loader_config *c) {
    if (c->batch_size <= 0 || c->num_frames <= 0 || c->frame_interval <= 0 || c->size <= 0 || c->world <= 0 ||
        c->rank < 0 || c->rank >= c->world || c->num_workers < 0 || c->num_workers > LOADER_MAX_WORKERS) {
        vaec_set_error("loader: bad settings (batch %d, frames %d, interval %d, size %d, rank %d of %d, %d workers: "
                       "0 to %d)", c->batch_size, c->num_frames, c->frame_interval, c->size, c->rank, c->world,
                       c->num_workers, LOADER_MAX_WORKERS);
        return NULL;
    }
    csv_list videos = {0};
    h5video *f = NULL;
    if (path_is_csv(c->path) ? csv_list_read(c->path, &videos) != 0 : !(f = h5video_open(c->path))) return NULL;
    loader *l = xcalloc(1, sizeof *l);
    l->cfg = *c;
    l->file = f;
    l->videos = videos;
    int n = f ? h5video_num_clips(f) : videos.n;
    l->clips = xcalloc((size_t)(n ? n : 1), sizeof(int));
    l->T = xcalloc((size_t)(n ? n : 1), sizeof(int64_t));
    l->H = xcalloc((size_t)(n ? n : 1), sizeof(int64_t));
    l->W = xcalloc((size_t)(n ? n : 1), sizeof(int64_t));
    l->bad = xcalloc((size_t)(n ? n : 1), sizeof(bool));
    int64_t span = (int64_t)(c->num_frames - 1) * c->frame_interval + 1;
    for (int i = 0; i < n; i++) {
        int64_t T, H = c->size, W = c->size;
        if (!f) {   /* a video of the list: one warning each for those that cannot be decoded or are too short */
            T = videos.num_frames[i];   /* the CSV's num_frames column, when it has one, spares the probe */
            if (T <= 0 && video_frames_count(videos.paths[i], &T) != 0) {
                fprintf(stderr, "vaec: warning: skipping video %d of '%s' (line %d): %s\n", i + 1, c->path,
                        videos.lines[i], vaec_last_error());
                l->undecodable++;
                continue;
            }
            if (T < span && !c->error_on_short)
                fprintf(stderr, "vaec: warning: skipping video %d of '%s' (line %d): %s has %lld frames, shorter than "
                        "the %lld-frame window (num_frames %d, frame_interval %d)\n", i + 1, c->path, videos.lines[i],
                        videos.paths[i], (long long)T, (long long)span, c->num_frames, c->frame_interval);
        } else if (h5video_clip_shape(f, i, &T, &H, &W) != 0) {
            loader_close(l);
            return NULL;
        }
        if (T < span || H < c->size || W < c->size) {
            if (c->error_on_short) {
                vaec_set_error("'%s' clip %d is %lldx%lldx%lld, shorter or smaller than the %lld-frame %dx%d window the "
                               "config asks for (num_frames %d, frame_interval %d)", c->path, i, (long long)T,
                               (long long)H, (long long)W, (long long)span, c->size, c->size, c->num_frames,
                               c->frame_interval);
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
        vaec_set_error("'%s': %d usable clips (%d skipped as shorter than %lld frames or smaller than %dx%d, %d videos "
                       "that cannot be decoded) cannot fill one global batch of %lld", c->path, l->n_clips, l->skipped,
                       (long long)span, c->size, c->size, l->undecodable, (long long)global_batch(l));
        loader_close(l);
        return NULL;
    }
    l->n_workers = c->num_workers > 0 ? c->num_workers : LOADER_DEFAULT_WORKERS;
    l->slots = xcalloc((size_t)l->n_workers, sizeof *l->slots);
    l->workers = xcalloc((size_t)l->n_workers, sizeof *l->workers);
    pthread_mutex_init(&l->io, NULL);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    pthread_mutex_lock(&l->mu);
    queue_from(l, 0);
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; i < l->n_workers; i++) {
        worker *w = &l->workers[i];
        w->l = l;
        w->order = xcalloc((size_t)l->n_clips, sizeof(int));
        w->order_epoch = -1;
        pthread_create(&w->thread, NULL, worker_main, w);
    }
    return l;
}

tensor *loader_next(loader *l) {
    double t0 = now_s();
    pthread_mutex_lock(&l->mu);
    slot *s = &l->slots[l->next % l->n_workers];
    while (s->state != SLOT_DONE) pthread_cond_wait(&l->cv, &l->mu);
    l->waited += now_s() - t0;
    tensor *t = s->t;
    if (!t) {   /* the slot stays failed: asking again gives the same error */
        vaec_set_error("%s", s->error);
        pthread_mutex_unlock(&l->mu);
        return NULL;
    }
    s->t = NULL;
    s->g = l->next + l->n_workers;   /* read while the caller trains on this one */
    s->state = SLOT_QUEUED;
    l->next++;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return t;
}

void loader_position(const loader *l, int64_t pos[2]) {
    /* the position of the batch loader_next returns next */
    pthread_mutex_lock((pthread_mutex_t *)&l->mu);
    pos[0] = l->next / batches_per_epoch(l);
    pos[1] = l->next % batches_per_epoch(l);
    pthread_mutex_unlock((pthread_mutex_t *)&l->mu);
}

/* waits until no worker is reading (lock held) */
static void wait_idle(loader *l) {
    for (;;) {
        bool busy = false;
        for (int i = 0; i < l->n_workers; i++) busy |= l->slots[i].state == SLOT_BUSY;
        if (!busy) return;
        pthread_cond_wait(&l->cv, &l->mu);
    }
}

void loader_seek(loader *l, const int64_t pos[2]) {
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->n_workers; i++)   /* nothing new starts while we wait */
        if (l->slots[i].state == SLOT_QUEUED) l->slots[i].state = SLOT_DONE;
    wait_idle(l);
    int64_t bpe = batches_per_epoch(l);
    queue_from(l, pos[0] * bpe + pos[1] % bpe);
    pthread_mutex_unlock(&l->mu);
}

int loader_num_clips(const loader *l) { return l->n_clips; }
int loader_num_skipped(const loader *l) { return l->skipped; }
int loader_num_undecodable(const loader *l) { return l->undecodable; }
int loader_num_bad(loader *l) {
    pthread_mutex_lock(&l->io);
    int n = l->n_bad;
    pthread_mutex_unlock(&l->io);
    return n;
}
int loader_num_workers(const loader *l) { return l->n_workers; }
double loader_wait_seconds(const loader *l) { return l->waited; }

void loader_close(loader *l) {
    if (!l) return;
    if (l->workers) {   /* the workers were started */
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        for (int i = 0; i < l->n_workers; i++) {
            pthread_join(l->workers[i].thread, NULL);
            free(l->workers[i].order);
        }
        for (int i = 0; i < l->n_workers; i++) tensor_release(l->slots[i].t);
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->io);
    }
    h5video_close(l->file);
    csv_list_free(&l->videos);
    free(l->clips);
    free(l->T);
    free(l->H);
    free(l->W);
    free(l->bad);
    free(l->slots);
    free(l->workers);
    free(l);
}
