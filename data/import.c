/* import.c: frame folders, video files and synthetic clips into a dataset (see import.h). */
#include "data/import.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/check.h"           // defines: vaec_set_error, xmalloc
#include "core/rng.h"             // defines: rng_seed
#include "data/image_file.h"      // defines: image_load_rgb, image_is_frame_name
#include "data/resize.h"          // defines: resize_crop_square (frame folders)
#include "data/synthetic.h"       // defines: synthetic_clip
#include "data/video_decode.h"    // defines: video_is_video_name, video_available
#include "data/video_frames.h"    // defines: video_frames_read_all

/* ---- progress: a bar redrawn in place on a terminal, a line every 100 clips otherwise ---- */
static bool bar_open;
static void progress(int i, int n, long long frames) {
    bool tty = isatty(2);
    if (tty) {
        char bar[31];
        int k = n ? (int)((long long)30 * i / n) : 30;
        for (int j = 0; j < 30; j++) bar[j] = j < k ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r[%s] clip %d/%d, %lld frames%s", bar, i, n, frames, i < n ? "" : "\n");
        bar_open = i < n;
    } else if (i == n || i % 100 == 0) {
        fprintf(stderr, "clip %d/%d, %lld frames\n", i, n, frames);
    }
}
static void warn(const char *msg) {
    fprintf(stderr, "%svaec: warning: %s\n", bar_open ? "\n" : "", msg);
    bar_open = false;
}

/* ---- names in a folder, sorted (byte order, so 0009.png < 0010.png as users number them) ---- */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

typedef bool (*name_filter)(const char *name);
static bool is_any(const char *name) { (void)name; return true; }

/* full paths of the entries of dir that are folders (want_dir) or files passing `keep_file`, sorted;
 * *others counts the files that do not pass. NULL + error if dir cannot be read. */
static char **list_dir(const char *dir, bool want_dir, name_filter keep_file, int *n, int *others) {
    DIR *d = opendir(dir);
    if (!d) {
        vaec_set_error("cannot read folder %s: %s", dir, strerror(errno));
        return NULL;
    }
    char **names = NULL;
    int k = 0, cap = 0;
    if (others) *others = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *full = xmalloc(strlen(dir) + strlen(e->d_name) + 2);
        sprintf(full, "%s/%s", dir, e->d_name);
        struct stat st;
        bool is_dir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
        /* a file that cannot be stat'ed (a broken link) is kept: reading it reports the error */
        bool keep = want_dir ? is_dir : !is_dir && keep_file(e->d_name);
        if (!keep && !want_dir && !is_dir && others) (*others)++;
        if (keep) {
            if (k == cap) names = xrealloc(names, sizeof *names * (size_t)(cap = cap ? 2 * cap : 64));
            names[k++] = full;
        } else {
            free(full);
        }
    }
    closedir(d);
    if (k) qsort(names, (size_t)k, sizeof *names, cmp_str);
    *n = k;
    return names ? names : xcalloc(1, sizeof *names);
}
static void free_list(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* ---- frame folders ---- */
static int load_frame(const char *path, int S, uint8_t *out) {
    int w, h;
    uint8_t *px = image_load_rgb(path, &w, &h);
    if (!px) return -1;
    resize_crop_square(px, w, h, w * 3, S, out);
    free(px);
    return 0;
}

int import_frames(h5video_writer *w, const char *dir, const import_options *o, import_stats *s) {
    int nclips, S = o->size;
    char **clips = list_dir(dir, true, is_any, &nclips, NULL);
    if (!clips) return -1;
    if (nclips == 0) {
        free_list(clips, 0);
        return vaec_set_error("%s: no clip folders in it (one sub-folder of PNG or JPEG frames per clip)", dir);
    }
    int rc = 0;
    for (int i = 0; i < nclips && rc == 0; i++) {
        int nlisted;
        char **frames = list_dir(clips[i], false, image_is_frame_name, &nlisted, NULL);
        if (!frames) { rc = -1; break; }
        int nf = o->max_frames > 0 && nlisted > o->max_frames ? o->max_frames : nlisted;   /* the first T frames */
        if (nf == 0) {
            rc = vaec_set_error("clip %d (%s): no .png or .jpg frames in the folder", i, clips[i]);
        } else {
            uint8_t *buf = xmalloc((size_t)nf * S * S * 3);
            for (int t = 0; t < nf && rc == 0; t++)
                if (load_frame(frames[t], S, buf + (size_t)t * S * S * 3) < 0) {
                    char msg[1024];
                    snprintf(msg, sizeof msg, "%s", vaec_last_error());
                    rc = vaec_set_error("clip %d (%s), frame %d: %s", i, clips[i], t, msg);
                }
            if (rc == 0) rc = h5video_append(w, buf, nf, S, S, clips[i], 0.0);
            free(buf);
            if (rc == 0) s->clips++, s->frames += nf;
        }
        free_list(frames, nlisted);
        progress(i + 1, nclips, s->frames);
    }
    free_list(clips, nclips);
    return rc;
}

/* ---- video files ---- */

int import_videos(h5video_writer *w, const char *dir, const import_options *o, import_stats *s) {
    int n;
    char **files = list_dir(dir, false, video_is_video_name, &n, &s->ignored);
    if (!files) return -1;
    if (n == 0) {
        free_list(files, 0);
        return vaec_set_error("%s: no video files in it (.mp4 .webm .mkv .mov .avi .m4v .mpg .ts .flv .wmv .ogv .3gp "
                              ".gif)%s", dir, s->ignored ? "; other files were ignored" : "");
    }
    if (!video_available()) {
        free_list(files, n);
        return vaec_set_error("this build of vaec has no FFmpeg to decode videos: run scripts/install-deps.sh, then "
                              "rebuild (cmake finds FFmpeg's libraries with pkg-config)");
    }
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        double fps = 0;
        int64_t T = video_frames_read_all(files[i], o->max_frames, o->size, &buf, &cap, &fps);
        if (T < 0) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", vaec_last_error());
            if (o->strict) {
                rc = vaec_set_error("video %d of %d: %s", i + 1, n, msg);
                break;
            }
            char line[1100];
            snprintf(line, sizeof line, "skipping %s", msg);
            warn(line);
            s->skipped++;
        } else {
            rc = h5video_append(w, buf, T, o->size, o->size, files[i], fps);
            if (rc == 0) s->clips++, s->frames += T;
        }
        progress(i + 1, n, s->frames);
    }
    free(buf);
    free_list(files, n);
    if (rc == 0 && s->clips == 0)
        rc = vaec_set_error("%s: none of its %d video files could be decoded (see the warnings above)", dir, n);
    return rc;
}

/* ---- synthetic ---- */
int import_synthetic(h5video_writer *w, int n, int S, int T, uint64_t seed, import_stats *s) {
    rng_state r = rng_seed(seed);
    uint8_t *buf = xmalloc((size_t)T * S * S * 3);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char src[64];
        snprintf(src, sizeof src, "synthetic:seed=%llu:%d", (unsigned long long)seed, i);
        synthetic_clip(&r, T, S, S, buf);
        rc = h5video_append(w, buf, T, S, S, src, 8.0);
        if (rc == 0) s->clips++, s->frames += T;
        progress(i + 1, n, s->frames);
    }
    free(buf);
    return rc;
}
