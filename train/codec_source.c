/* codec_source.c: input clips by file type, read a window at a time (see codec_source.h). */
#include "train/codec_source.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "core/ops/shape.h"     // defines: permute_cpu
#include "core/safetensors.h"   // defines: st_open, st_load
#include "data/h5latents.h"    // defines: h5latents_open, h5latents_read
#include "data/h5video.h"       // defines: h5video_open, h5video_read
#include "data/image_file.h"    // defines: image_load_rgb, image_is_frame_name
#include "data/resize.h"        // defines: resize_crop_square
#include "data/video_decode.h"  // defines: video_open, video_next
#include "train/video_io.h"     // defines: channels_last_from_torch

typedef enum { SRC_VIDEO, SRC_FRAMES, SRC_HDF5, SRC_SAFETENSORS, SRC_H5LATENTS } source_type;

struct codec_source {
    source_type type;
    char *path;
    codec_source_options opt;
    int n_clips, first_clip;
    /* the clip begun */
    int clip;
    int64_t pos;
    codec_clip info, told;   /* the clip as read internally (video_w/h: the decoded size); as told the caller */
    bool begun;               /* begin done and nothing read since: begin again is a no-op */
    video_reader *video;
    char **names;              /* frames folder: file names, sorted */
    int n_names;
    h5video *h5;
    h5latents_reader *h5z;
    tensor *all;               /* safetensors: (B,T,H,W,C); HDF5 latents: the clip begun, (1,T,h,w,C) */
    double st_fps;
    int64_t st_frames, st_h, st_w;
    uint8_t *frame, *resized;  /* scratch for one 8-bit frame */
    size_t frame_cap;
};

static bool has_ext(const char *path, const char *const *exts) {
    const char *dot = strrchr(path, '.');
    if (!dot) return false;
    for (int i = 0; exts[i]; i++) if (!strcasecmp(dot + 1, exts[i])) return true;
    return false;
}

static bool starts_with_hdf5_signature(const char *path) {
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char buf[8];
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    bool yes = fread(buf, 1, 8, f) == 8 && !memcmp(buf, sig, 8);
    fclose(f);
    return yes;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int open_frames_folder(codec_source *s) {
    DIR *d = opendir(s->path);
    if (!d) return vaec_set_error("'%s': cannot list the folder", s->path);
    struct dirent *e;
    int cap = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !image_is_frame_name(e->d_name)) continue;
        if (s->n_names == cap) s->names = xrealloc(s->names, (size_t)(cap = cap ? 2 * cap : 64) * sizeof(char *));
        s->names[s->n_names++] = strdup(e->d_name);
    }
    closedir(d);
    if (s->n_names == 0) return vaec_set_error("'%s': the folder holds no .png, .jpg or .jpeg frames", s->path);
    qsort(s->names, (size_t)s->n_names, sizeof(char *), cmp_str);
    s->n_clips = 1;
    return 0;
}

static double meta_double(const st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++) if (!strcmp(f->meta_keys[i], key)) return atof(f->meta_values[i]);
    return 0;
}

static int open_safetensors(codec_source *s) {
    const char *name = s->opt.latents ? "z" : "x";
    st_file *f = st_open(s->path);
    if (!f) return -1;
    s->st_fps = meta_double(f, "vaec.fps");
    s->st_frames = (int64_t)meta_double(f, "vaec.frames");
    s->st_h = (int64_t)meta_double(f, "vaec.height");
    s->st_w = (int64_t)meta_double(f, "vaec.width");
    st_close(f);
    s->all = video_load(s->path, name);
    if (!s->all) return -1;
    s->n_clips = (int)s->all->shape[0];
    return 0;
}

codec_source *codec_source_open(const char *path, const codec_source_options *opt) {
    static const char *const st_ext[] = {"safetensors", NULL}, *const h5_ext[] = {"h5", "hdf5", "hdf", NULL};
    codec_source *s = xcalloc(1, sizeof *s);
    s->path = strdup(path);
    s->opt = *opt;
    s->clip = -1;
    struct stat sb;
    int rc;
    if (stat(path, &sb) != 0) {
        vaec_set_error("'%s': no such file or folder", path);
        rc = -1;
    } else if (S_ISDIR(sb.st_mode)) {
        s->type = SRC_FRAMES;
        rc = open_frames_folder(s);
    } else if (has_ext(path, st_ext)) {
        s->type = SRC_SAFETENSORS;
        rc = open_safetensors(s);
    } else if ((has_ext(path, h5_ext) || starts_with_hdf5_signature(path)) && opt->latents) {
        s->type = SRC_H5LATENTS;   /* `vaec data encode` / `vaec encode --output X.h5` */
        s->h5z = h5latents_open(path);
        rc = s->h5z ? 0 : -1;
        if (s->h5z) s->n_clips = h5latents_num_clips(s->h5z);
    } else if (has_ext(path, h5_ext) || starts_with_hdf5_signature(path)) {
        s->type = SRC_HDF5;
        s->h5 = h5video_open(path);
        rc = s->h5 ? 0 : -1;
        if (s->h5) s->n_clips = h5video_num_clips(s->h5);
    } else {
        s->type = SRC_VIDEO;
        s->video = video_open(path);
        if (!s->video) {
            char why[512];
            snprintf(why, sizeof why, "%s", vaec_last_error());
            vaec_set_error("'%s' is not a file vaec reads here (a video FFmpeg decodes, a folder of PNG/JPEG frames, "
                           "an HDF5 dataset or a .safetensors file): %s", path, why);
            rc = -1;
        } else {
            s->n_clips = 1;
            rc = 0;
        }
    }
    if (rc == 0 && s->opt.latents && (s->type == SRC_VIDEO || s->type == SRC_FRAMES)) {
        vaec_set_error("'%s': decode reads latents from a .safetensors file (tensor 'z') or an HDF5 latents file, not "
                       "from a %s", path, codec_source_kind(s));
        rc = -1;
    }
    if (rc == 0 && s->opt.size > 0 && (s->type == SRC_SAFETENSORS || s->type == SRC_H5LATENTS)) {
        vaec_set_error("'%s': --size resizes 8-bit frames (videos, frame folders, HDF5); this file holds float tensors",
                       path);
        rc = -1;
    }
    if (rc == 0 && s->opt.clip >= 0) {
        if (s->opt.clip >= s->n_clips) {
            vaec_set_error("'%s': --clip %d, but the %s has %d clip%s (0..%d)", path, s->opt.clip, codec_source_kind(s),
                           s->n_clips, s->n_clips == 1 ? "" : "s", s->n_clips - 1);
            rc = -1;
        } else {
            s->first_clip = s->opt.clip;
            s->n_clips = 1;
        }
    }
    if (rc == 0 && s->n_clips == 0) rc = vaec_set_error("'%s': the %s holds no clips", path, codec_source_kind(s));
    if (rc != 0) {
        codec_source_close(s);
        return NULL;
    }
    return s;
}

int codec_source_num_clips(const codec_source *s) { return s->n_clips; }

const char *codec_source_kind(const codec_source *s) {
    static const char *const names[] = {"video", "frames folder", "HDF5 dataset", "safetensors file", "HDF5 latents file"};
    return names[s->type];
}

static void frame_size_after_resize(const codec_source *s, int w, int h, int64_t *ow, int64_t *oh) {
    *ow = s->opt.size > 0 ? s->opt.size : w;
    *oh = s->opt.size > 0 ? s->opt.size : h;
}

/* HDF5 latents: clip idx, (C,T,h,w) in the file, into s->all as (1,T,h,w,C) */
static int begin_h5latents(codec_source *s, int idx, codec_clip *c) {
    int64_t shape[4];
    h5latents_clip meta;
    if (h5latents_clip_info(s->h5z, idx, shape, &meta) != 0) return -1;
    const int64_t C = shape[0], thw = shape[1] * shape[2] * shape[3];
    float *chw = xmalloc((size_t)(C * thw) * sizeof(float));
    if (h5latents_read(s->h5z, idx, chw) != 0) {
        free(chw);
        return -1;
    }
    if (s->all) tensor_release(s->all);
    s->all = tensor_empty(SHAPE(1, shape[1], shape[2], shape[3], C));
    permute_cpu(chw, (const int64_t[]){C, thw}, 2, (const int[]){1, 0}, tensor_f32(s->all));   /* (C,THW) -> (THW,C) */
    free(chw);
    snprintf(c->name, sizeof c->name, "%s[/%s/%06d]", s->path, h5latents_group(s->h5z), idx);
    c->frames = shape[1], c->h = shape[2], c->w = shape[3], c->c = C;
    c->fps = meta.fps;
    c->video_frames = meta.num_frames, c->video_h = meta.height, c->video_w = meta.width;
    s->info = *c;
    return 0;
}

static int begin_clip(codec_source *s, int clip, codec_clip *c) {
    memset(c, 0, sizeof *c);
    int idx = s->first_clip + clip;
    s->clip = idx;
    s->pos = 0;
    c->c = 3;
    c->frames = -1;
    snprintf(c->name, sizeof c->name, "%s", s->path);
    if (s->type == SRC_VIDEO) {
        if (clip > 0) return vaec_set_error("'%s': a video is one clip", s->path);
        /* the size comes with the first frame: peek at it, and hand it out on the first read */
        c->fps = video_fps(s->video);
        c->frames = -1;   /* a container's frame count is a guess: read to the end */
        const uint8_t *rgb;
        int w, h, rb;
        int rc = video_next(s->video, &rgb, &w, &h, &rb);
        if (rc < 0) return -1;
        if (rc == 0) return vaec_set_error("'%s': the video has no frames", s->path);
        size_t need = (size_t)w * h * 3;
        if (need > s->frame_cap) s->frame = xrealloc(s->frame, s->frame_cap = need);
        for (int y = 0; y < h; y++) memcpy(s->frame + (size_t)y * w * 3, rgb + (size_t)y * rb, (size_t)w * 3);
        s->pos = -1;   /* one frame waiting in s->frame */
        frame_size_after_resize(s, w, h, &c->w, &c->h);
        s->info = *c;
        s->info.video_w = w, s->info.video_h = h;   /* the decoded size, to check later frames */
        return 0;
    }
    if (s->type == SRC_FRAMES) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", s->path, s->names[0]);
        int w, h;
        uint8_t *img = image_load_rgb(p, &w, &h);
        if (!img) return -1;
        free(img);
        frame_size_after_resize(s, w, h, &c->w, &c->h);
        c->frames = s->n_names;
        c->fps = 24;
        s->info = *c;
        s->info.video_w = w, s->info.video_h = h;
        return 0;
    }
    if (s->type == SRC_HDF5) {
        int64_t T, H, W;
        if (h5video_clip_shape(s->h5, idx, &T, &H, &W) != 0) return -1;
        snprintf(c->name, sizeof c->name, "%s[clip %d]", s->path, idx);
        frame_size_after_resize(s, (int)W, (int)H, &c->w, &c->h);
        c->frames = T;
        c->fps = h5video_clip_fps(s->h5, idx);
        if (c->fps <= 0) c->fps = 24;
        s->info = *c;
        s->info.video_w = W, s->info.video_h = H;
        return 0;
    }
    if (s->type == SRC_H5LATENTS) return begin_h5latents(s, idx, c);
    snprintf(c->name, sizeof c->name, "%s[%lld]", s->path, (long long)idx);
    c->frames = s->all->shape[1], c->h = s->all->shape[2], c->w = s->all->shape[3], c->c = s->all->shape[4];
    c->fps = s->st_fps;
    c->video_frames = s->st_frames, c->video_h = s->st_h, c->video_w = s->st_w;
    s->info = *c;
    return 0;
}

int codec_source_begin(codec_source *s, int clip, codec_clip *c) {
    if (s->begun && s->clip == s->first_clip + clip) { *c = s->told; return 0; }
    if (begin_clip(s, clip, c) != 0) return -1;
    s->told = *c;
    s->begun = true;
    return 0;
}

/* one 8-bit frame (h, w, 3 packed) into a float frame of the output size, resized when asked */
static void frame_to_float(codec_source *s, const uint8_t *rgb, int w, int h, float *out) {
    const uint8_t *src = rgb;
    if (s->opt.size > 0) {
        size_t need = (size_t)s->opt.size * s->opt.size * 3;
        s->resized = xrealloc(s->resized, need);
        resize_crop_square(rgb, w, h, w * 3, s->opt.size, s->resized);
        src = s->resized;
    }
    int64_t n = s->info.w * s->info.h * 3;
    for (int64_t i = 0; i < n; i++) out[i] = (float)src[i] / 127.5f - 1.0f;
}

tensor *codec_source_read(codec_source *s, int64_t n) {
    codec_clip *c = &s->info;
    s->begun = false;
    if (s->type == SRC_SAFETENSORS || s->type == SRC_H5LATENTS) {
        int64_t in_all = s->type == SRC_H5LATENTS ? 0 : s->clip;   /* HDF5 latents: only the clip begun is loaded */
        int64_t t0 = s->pos, t1 = t0 + n < c->frames ? t0 + n : c->frames;
        tensor *out = tensor_empty(SHAPE(1, t1 - t0, c->h, c->w, c->c));
        size_t frame = (size_t)(c->h * c->w * c->c);
        memcpy(tensor_f32(out), tensor_f32(s->all) + ((size_t)in_all * c->frames + t0) * frame,
               (size_t)(t1 - t0) * frame * sizeof(float));
        s->pos = t1;
        return out;
    }
    int64_t vw = c->video_w, vh = c->video_h, frame = c->h * c->w * 3;
    if (s->type == SRC_HDF5 || s->type == SRC_FRAMES) {
        int64_t t0 = s->pos, t1 = t0 + n < c->frames ? t0 + n : c->frames;
        tensor *out = tensor_empty(SHAPE(1, t1 - t0, c->h, c->w, 3));
        size_t need = (size_t)(vw * vh * 3), window = s->type == SRC_HDF5 ? (size_t)(t1 - t0) : 1;
        if (need * window > s->frame_cap) s->frame = xrealloc(s->frame, s->frame_cap = need * window);
        /* HDF5: the window in one read (one chunk holds the clip) */
        if (s->type == SRC_HDF5 && t1 > t0 && h5video_read(s->h5, s->clip, t0, t1 - t0, s->frame) != 0) {
            tensor_release(out);
            return NULL;
        }
        for (int64_t t = t0; t < t1; t++) {
            const uint8_t *rgb = s->frame + (s->type == SRC_HDF5 ? (size_t)(t - t0) * need : 0);
            if (s->type == SRC_FRAMES) {
                char p[4096];
                snprintf(p, sizeof p, "%s/%s", s->path, s->names[t]);
                int w, h;
                uint8_t *img = image_load_rgb(p, &w, &h);
                if (!img) { tensor_release(out); return NULL; }
                if (w != vw || h != vh) {
                    free(img);
                    tensor_release(out);
                    vaec_set_error("'%s': frame %s is %dx%d, the first frame %lldx%lld: every frame must be one size",
                                   s->path, s->names[t], w, h, (long long)vw, (long long)vh);
                    return NULL;
                }
                memcpy(s->frame, img, need);
                free(img);
            }
            frame_to_float(s, rgb, (int)vw, (int)vh, tensor_f32(out) + (t - t0) * frame);
        }
        s->pos = t1;
        return out;
    }
    /* a video: decode until n frames or the end */
    float *buf = xmalloc((size_t)(n * frame) * sizeof(float));
    int64_t got = 0;
    if (s->pos == -1 && n > 0) {   /* the frame peeked at by begin */
        frame_to_float(s, s->frame, (int)vw, (int)vh, buf);
        got = 1;
        s->pos = 1;
    }
    while (got < n) {
        const uint8_t *rgb;
        int w, h, rb;
        int rc = video_next(s->video, &rgb, &w, &h, &rb);
        if (rc < 0) { free(buf); return NULL; }
        if (rc == 0) break;
        if (w != vw || h != vh) {
            free(buf);
            vaec_set_error("'%s': frame %lld is %dx%d, the first %lldx%lld: vaec reads videos of one frame size", s->path,
                           (long long)s->pos, w, h, (long long)vw, (long long)vh);
            return NULL;
        }
        for (int y = 0; y < h; y++) memcpy(s->frame + (size_t)y * w * 3, rgb + (size_t)y * rb, (size_t)w * 3);
        frame_to_float(s, s->frame, w, h, buf + got * frame);
        got++;
        s->pos++;
    }
    tensor *out = tensor_from_data(SHAPE(1, got, c->h, c->w, 3), buf);
    free(buf);
    return out;
}

void codec_source_close(codec_source *s) {
    if (!s) return;
    video_close(s->video);
    for (int i = 0; i < s->n_names; i++) free(s->names[i]);
    free(s->names);
    if (s->h5) h5video_close(s->h5);
    if (s->h5z) h5latents_close(s->h5z);
    if (s->all) tensor_release(s->all);
    free(s->frame);
    free(s->resized);
    free(s->path);
    free(s);
}
