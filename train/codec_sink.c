/* codec_sink.c: output files by type, streamed and renamed into place (see codec_sink.h). */
#include "train/codec_sink.h"
#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/crc32c.h"        // defines: crc32c_update
#include "core/ops/shape.h"     // defines: permute_cpu
#include "data/h5latents.h"     // defines: h5latents_create, h5latents_append
#include "data/h5video.h"       // defines: h5video_create, h5video_append
#include "data/video_encode.h"  // defines: video_writer_open
#include "train/checkpoint.h"    // defines: remove_tree

typedef enum { SINK_VIDEO, SINK_PNG, SINK_HDF5, SINK_H5LATENTS, SINK_SAFETENSORS } sink_type;

struct codec_sink {
    sink_type type;
    char *path, *tmp;
    bool latents;
    int n_clips, clip;       /* clips announced; the clip being written (-1 before the first) */
    codec_clip info, first;  /* the clip being written; the first clip (safetensors: every clip's shape) */
    int64_t frames;          /* frames of the clip being written */
    char describe[128];
    video_writer *video;
    uint8_t *rgb;            /* one 8-bit frame (video, PNG), or the whole clip (HDF5) */
    size_t rgb_cap;
    h5video_writer *h5;
    h5latents_writer *h5z;   /* latents to .h5: the layout of `vaec data encode` */
    float *z;                /* h5z: the clip's latents so far, (T,h,w,C) as they come */
    size_t z_cap;
    FILE **spill;            /* safetensors: n_clips x C files of raw float32, channels-first */
};

static bool has_ext(const char *path, const char *ext) {
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    return dot && (!slash || dot > slash) && !strcasecmp(dot + 1, ext);
}

static bool no_extension(const char *path) {
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    return !dot || (slash && dot < slash) || dot == path;
}

/* the folder the output goes in must exist: checked before any work, named in the message */
static int check_parent(const char *path) {
    char *dir = strdup(path);
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') dir[--n] = 0;
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash) {
        *(slash == dir ? slash + 1 : slash) = 0;
        struct stat sb;
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            rc = vaec_set_error("output '%s': the folder '%s' does not exist (create it first)", path, dir);
    }
    free(dir);
    return rc;
}

static bool is_empty_dir(const char *path) {
    DIR *d = opendir(path);
    if (!d) return false;
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d))) if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) { empty = false; break; }
    closedir(d);
    return empty;
}

codec_sink *codec_sink_open(const char *path, bool latents, int n_clips) {
    if (check_parent(path) != 0) return NULL;
    codec_sink *k = xcalloc(1, sizeof *k);
    k->path = strdup(path);
    size_t n = strlen(k->path);
    while (n > 1 && k->path[n - 1] == '/') k->path[--n] = 0;
    k->latents = latents, k->n_clips = n_clips, k->clip = -1;
    k->tmp = xmalloc(n + 32);
    snprintf(k->tmp, n + 32, "%s.tmp.%d", k->path, (int)getpid());
    struct stat sb;
    bool is_dir = stat(k->path, &sb) == 0 && S_ISDIR(sb.st_mode);
    const char *err = NULL;
    if (has_ext(k->path, "safetensors")) {
        k->type = SINK_SAFETENSORS;
        snprintf(k->describe, sizeof k->describe, "safetensors");
    } else if (has_ext(k->path, "h5") || has_ext(k->path, "hdf5")) {
        k->type = latents ? SINK_H5LATENTS : SINK_HDF5;
    } else if (video_is_output_name(k->path)) {
        k->type = SINK_VIDEO;
        if (latents) err = "latents cannot be written as a video: name a .safetensors output";
        else if (n_clips > 1) err = "a video file holds one clip and the input has several: pick one with --clip N, "
                                    "or name a folder, a .h5 or a .safetensors output";
    } else if (is_dir || no_extension(path) || path[strlen(path) - 1] == '/') {
        k->type = SINK_PNG;
        snprintf(k->describe, sizeof k->describe, "PNG frames");
        if (latents) err = "latents cannot be written as PNG frames: name a .safetensors output";
        else if (is_dir && !is_empty_dir(k->path)) err = "the folder exists and is not empty: name a new folder";
    } else {
        err = "unknown output type: name a .mp4, .mkv or .webm video, a folder (PNG frames), a .h5 or a .safetensors file";
    }
    if (err) {
        vaec_set_error("output '%s': %s", path, err);
        codec_sink_abort(k);
        return NULL;
    }
    if (k->type == SINK_H5LATENTS) {
        snprintf(k->describe, sizeof k->describe, "HDF5 latents, %s", H5LATENTS_FORMAT);
        k->h5z = h5latents_create(k->path, false);
        if (!k->h5z) { codec_sink_abort(k); return NULL; }
    } else if (k->type == SINK_HDF5) {
        snprintf(k->describe, sizeof k->describe, "HDF5 clips");
        k->h5 = h5video_create(k->path, false);
        if (!k->h5) { codec_sink_abort(k); return NULL; }
    } else if (k->type == SINK_PNG && mkdir(k->tmp, 0777) != 0) {
        vaec_set_error("output '%s': cannot create the folder '%s' (%s)", path, k->tmp, strerror(errno));
        free(k->tmp);
        k->tmp = NULL;
        codec_sink_abort(k);
        return NULL;
    }
    return k;
}

int codec_sink_begin(codec_sink *k, const codec_clip *info) {
    k->clip++;
    k->info = *info;
    k->frames = 0;
    if (k->clip == 0) k->first = *info;
    if (k->type != SINK_SAFETENSORS && k->type != SINK_H5LATENTS && info->c != 3)
        return vaec_set_error("output '%s': frames with %lld channels are not RGB: name a .safetensors output", k->path,
                              (long long)info->c);
    if (k->type == SINK_VIDEO) {
        /* the writer keeps its own temporary name and renames it into place when the clip ends */
        k->video = video_writer_open(k->path, (int)info->w, (int)info->h, info->fps);
        if (!k->video) return -1;
        snprintf(k->describe, sizeof k->describe, "video, %s, %.3g fps", video_writer_codec(k->video),
                 info->fps > 0 ? info->fps : 24.0);
    }
    if (k->type == SINK_SAFETENSORS) {
        if (k->clip > 0 && (info->h != k->first.h || info->w != k->first.w || info->c != k->first.c))
            return vaec_set_error("output '%s': clip %d is %lldx%lld, clip 0 %lldx%lld: one safetensors tensor needs one size "
                                  "(write a folder or .h5, or use --size)", k->path, k->clip, (long long)info->w,
                                  (long long)info->h, (long long)k->first.w, (long long)k->first.h);
        if (!k->spill) k->spill = xcalloc((size_t)(k->n_clips * info->c), sizeof(FILE *));
        for (int64_t c = 0; c < info->c; c++) {
            FILE *f = tmpfile();
            if (!f) return vaec_set_error("output '%s': cannot create a temporary spill file (%s)", k->path, strerror(errno));
            k->spill[k->clip * info->c + c] = f;
        }
    }
    return 0;
}

/* float [-1,1] (n,H,W,3) frame t -> 8-bit RGB */
static void to_rgb8(const float *src, int64_t pixels, uint8_t *dst) {
    for (int64_t i = 0; i < pixels * 3; i++) {
        float v = (src[i] + 1.0f) * 127.5f;
        dst[i] = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5f);
    }
}

static int write_png(const codec_sink *k, int64_t index, const uint8_t *rgb) {
    char dir[4200], file[4300];
    if (k->n_clips > 1) {
        snprintf(dir, sizeof dir, "%s/clip%06d", k->tmp, k->clip);
        if (index == 0 && mkdir(dir, 0777) != 0)
            return vaec_set_error("output '%s': cannot create '%s' (%s)", k->path, dir, strerror(errno));
    } else {
        snprintf(dir, sizeof dir, "%s", k->tmp);
    }
    snprintf(file, sizeof file, "%s/%06lld.png", dir, (long long)index);
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    pi.width = (png_uint_32)k->info.w;
    pi.height = (png_uint_32)k->info.h;
    pi.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&pi, file, 0, rgb, 0, NULL))
        return vaec_set_error("output '%s': cannot write '%s': %s", k->path, file, pi.message);
    return 0;
}

int codec_sink_write(codec_sink *k, const tensor *frames) {
    int64_t n = frames->shape[1], H = frames->shape[2], W = frames->shape[3], C = frames->shape[4];
    CHECK(H == k->info.h && W == k->info.w && C == k->info.c, "codec_sink_write: frames of %lldx%lldx%lld, clip begun as %lldx%lldx%lld",
          (long long)H, (long long)W, (long long)C, (long long)k->info.h, (long long)k->info.w, (long long)k->info.c);
    const float *x = tensor_f32(frames);
    size_t px = (size_t)(H * W);
    if (k->type == SINK_SAFETENSORS) {
        float *plane = xmalloc(px * sizeof(float));
        for (int64_t c = 0; c < C; c++) {
            FILE *f = k->spill[k->clip * C + c];
            for (int64_t t = 0; t < n; t++) {
                const float *src = x + (size_t)t * px * C + c;
                for (size_t i = 0; i < px; i++) plane[i] = src[i * C];
                if (fwrite(plane, sizeof(float), px, f) != px) {
                    free(plane);
                    return vaec_set_error("output '%s': writing the spill file failed, disk full? (%s)", k->path, strerror(errno));
                }
            }
        }
        free(plane);
        k->frames += n;
        return 0;
    }
    if (k->type == SINK_H5LATENTS) {   /* kept as it comes; made channels-first when the clip ends */
        size_t have = (size_t)k->frames * px * (size_t)C, add = (size_t)n * px * (size_t)C;
        if (have + add > k->z_cap) k->z = xrealloc(k->z, (k->z_cap = 2 * (have + add)) * sizeof(float));
        memcpy(k->z + have, x, add * sizeof(float));
        k->frames += n;
        return 0;
    }
    size_t need = k->type == SINK_HDF5 ? (size_t)(k->frames + n) * px * 3 : px * 3;
    if (need > k->rgb_cap) k->rgb = xrealloc(k->rgb, k->rgb_cap = need + (k->type == SINK_HDF5 ? need / 2 : 0));
    for (int64_t t = 0; t < n; t++) {
        uint8_t *rgb = k->type == SINK_HDF5 ? k->rgb + (size_t)(k->frames + t) * px * 3 : k->rgb;
        to_rgb8(x + (size_t)t * px * 3, (int64_t)px, rgb);
        if (k->type == SINK_VIDEO && video_writer_add(k->video, rgb, (int)W * 3) != 0) return -1;
        if (k->type == SINK_PNG && write_png(k, k->frames + t, rgb) != 0) return -1;
    }
    k->frames += n;
    return 0;
}

int codec_sink_end(codec_sink *k, int64_t video_frames) {
    if (k->clip == 0) k->first.video_frames = video_frames;
    if (k->type == SINK_VIDEO) {
        int rc = video_writer_finish(k->video);   /* the one clip is in place now */
        k->video = NULL;
        return rc;
    }
    if (k->type == SINK_H5LATENTS) {
        const int64_t C = k->info.c, T = k->frames, px = k->info.h * k->info.w;
        float *chw = xmalloc((size_t)(C * T * px) * sizeof(float));
        permute_cpu(k->z, (const int64_t[]){T * px, C}, 2, (const int[]){1, 0}, chw);   /* (THW,C) -> (C,THW) */
        const int64_t shape[4] = {C, T, k->info.h, k->info.w};
        h5latents_clip meta = {k->info.name, video_frames > 0 ? video_frames : T, k->info.fps > 0 ? k->info.fps : 24,
                               k->info.video_h, k->info.video_w};
        int rc = h5latents_append(k->h5z, chw, NULL, shape, &meta);
        free(chw);
        return rc;
    }
    if (k->type == SINK_HDF5)
        return h5video_append(k->h5, k->rgb, k->frames, k->info.h, k->info.w, k->info.name, k->info.fps > 0 ? k->info.fps : 24);
    if (k->type == SINK_SAFETENSORS && k->clip > 0 && k->frames != k->first.frames)
        return vaec_set_error("output '%s': clip %d has %lld frames, clip 0 %lld: one safetensors tensor needs one length "
                              "(write a folder or .h5)", k->path, k->clip, (long long)k->frames, (long long)k->first.frames);
    if (k->clip == 0) k->first.frames = k->frames;
    return 0;
}

/* ---- safetensors: header (tensor checksum as core/safetensors.c writes it), then the spill files in order ---- */
static int finish_safetensors(codec_sink *k) {
    const char *name = k->latents ? "z" : "x";
    int64_t B = k->clip + 1, C = k->first.c, T = k->first.frames, H = k->first.h, W = k->first.w;
    uint64_t nbytes = (uint64_t)(B * C * T * H * W) * sizeof(float);
    char meta[512] = "";
    uint32_t mcrc = 0;
    if (k->latents && k->first.video_frames > 0) {
        char vals[4][32];
        const char *keys[4] = {"vaec.fps", "vaec.frames", "vaec.height", "vaec.width"};
        snprintf(vals[0], 32, "%.6g", k->first.fps > 0 ? k->first.fps : 24.0);
        snprintf(vals[1], 32, "%lld", (long long)k->first.video_frames);
        snprintf(vals[2], 32, "%lld", (long long)k->first.video_h);
        snprintf(vals[3], 32, "%lld", (long long)k->first.video_w);
        size_t m = 0;
        for (int i = 0; i < 4; i++) {
            m += (size_t)snprintf(meta + m, sizeof meta - m, "\"%s\":\"%s\",", keys[i], vals[i]);
            mcrc += crc32c_update(crc32c_update(0, keys[i], strlen(keys[i]) + 1), vals[i], strlen(vals[i]) + 1);
        }
    }
    FILE *out = fopen(k->tmp, "wb");
    if (!out) return vaec_set_error("output '%s': cannot create '%s' (%s)", k->path, k->tmp, strerror(errno));
    uint32_t crc = 0;
    char header[1024];
    for (int pass = 0; pass < 2; pass++) {   /* the checksum is fixed-width: written as zero, then over it */
        int len = snprintf(header, sizeof header,
                           "{\"__metadata__\":{%s\"checksum.%s\":\"crc32c:%08x\",\"checksum.__metadata__\":\"crc32c:%08x\"},"
                           "\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld,%lld,%lld,%lld,%lld],\"data_offsets\":[0,%llu]}}",
                           meta, name, crc, mcrc, name, (long long)B, (long long)C, (long long)T, (long long)H, (long long)W,
                           (unsigned long long)nbytes);
        while (len % 8) header[len++] = ' ';   /* the data starts 8-byte aligned, as safetensors pads */
        uint64_t hl = (uint64_t)len;
        unsigned char le[8];
        for (int i = 0; i < 8; i++) le[i] = (unsigned char)(hl >> (8 * i));
        if (pass == 1 && fseeko(out, 0, SEEK_SET) != 0) break;
        if (fwrite(le, 1, 8, out) != 8 || fwrite(header, 1, (size_t)len, out) != (size_t)len) break;
        if (pass == 1) break;
        char *buf = xmalloc(1 << 20);
        bool ok = true;
        for (int64_t i = 0; i < B * C && ok; i++) {
            FILE *f = k->spill[i];
            rewind(f);
            size_t r;
            while ((r = fread(buf, 1, 1 << 20, f)) > 0) {
                crc = crc32c_update(crc, buf, r);
                if (fwrite(buf, 1, r, out) != r) { ok = false; break; }
            }
        }
        free(buf);
        if (!ok) break;
    }
    bool ok = !ferror(out) && fflush(out) == 0 && fsync(fileno(out)) == 0;
    ok = (fclose(out) == 0) && ok;
    if (!ok) return vaec_set_error("output '%s': writing '%s' failed, disk full? (%s)", k->path, k->tmp, strerror(errno));
    return 0;
}

static void sink_free(codec_sink *k) {
    if (k->spill) for (int i = 0; i < k->n_clips * k->first.c; i++) if (k->spill[i]) fclose(k->spill[i]);
    free(k->spill);
    free(k->rgb);
    free(k->z);
    free(k->path);
    free(k->tmp);
    free(k);
}

int codec_sink_finish(codec_sink *k) {
    int rc = 0;
    if (k->type == SINK_HDF5) {
        rc = h5video_finish(k->h5);
        k->h5 = NULL;
    } else if (k->type == SINK_H5LATENTS) {
        const char *key = "written_by", *value = "vaec encode";
        rc = h5latents_finish(k->h5z, &key, &value, 1);
        k->h5z = NULL;
    } else if (k->type != SINK_VIDEO) {
        if (k->type == SINK_SAFETENSORS) rc = finish_safetensors(k);
        struct stat sb;
        if (rc == 0 && k->type == SINK_PNG && stat(k->path, &sb) == 0) rmdir(k->path);   /* an empty folder named */
        if (rc == 0 && rename(k->tmp, k->path) != 0)
            rc = vaec_set_error("output '%s': cannot rename '%s' into place (%s)", k->path, k->tmp, strerror(errno));
    }
    if (rc != 0) {
        codec_sink_abort(k);
        return -1;
    }
    sink_free(k);
    return 0;
}

void codec_sink_abort(codec_sink *k) {
    if (!k) return;
    if (k->video) video_writer_abort(k->video);
    if (k->h5) h5video_abort(k->h5);
    if (k->h5z) h5latents_abort(k->h5z);
    if (k->tmp && (k->type == SINK_PNG || k->type == SINK_SAFETENSORS)) remove_tree(k->tmp);
    sink_free(k);
}

const char *codec_sink_describe(const codec_sink *k) { return k->describe; }

const char *codec_sink_tmp_path(const codec_sink *k) {
    if (k->type == SINK_VIDEO) return k->video ? video_writer_tmp_path(k->video) : NULL;
    if (k->type == SINK_HDF5) return k->h5 ? h5video_tmp_path(k->h5) : NULL;
    if (k->type == SINK_H5LATENTS) return k->h5z ? k->tmp : NULL;   /* h5latents writes PATH.tmp.<pid> too */
    return k->type == SINK_SAFETENSORS || k->type == SINK_PNG ? k->tmp : NULL;   /* PNG: a folder */
}
