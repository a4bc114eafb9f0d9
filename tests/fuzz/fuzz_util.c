/* fuzz_util.c: the target table and the file helpers the fuzz targets share (see fuzz_targets.h). */
#include "tests/fuzz/fuzz_targets.h"
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/check.h"   // defines: vaec_set_error, xmalloc

const fuzz_target fuzz_targets[] = {
    {"safetensors", fuzz_safetensors, fuzz_seeds_safetensors},
    {"config", fuzz_config, fuzz_seeds_config},
    {"h5video", fuzz_h5video, fuzz_seeds_h5video},
    {"image", fuzz_image, fuzz_seeds_image},
    {"checkpoint", fuzz_checkpoint, fuzz_seeds_checkpoint},
    {NULL, NULL, NULL},
};

/* every temporary file of the process lives in one folder, removed at exit (or by fuzz_cleanup) */
static char tmp_dir[512];

static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (!d) { unlink(path); return; }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        remove_tree(p);
    }
    closedir(d);
    rmdir(path);
}

void fuzz_cleanup(void) {
    if (tmp_dir[0]) remove_tree(tmp_dir);
    tmp_dir[0] = 0;
}

const char *fuzz_tmp_path(const char *name) {
    static char buf[8][1024];
    static int next;
    if (!tmp_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(tmp_dir, sizeof tmp_dir, "%s/vaec_fuzz_%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
        mkdir(tmp_dir, 0755);
        static bool registered;
        if (!registered) atexit(fuzz_cleanup);
        registered = true;
    }
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", tmp_dir, name);
    return p;
}

int fuzz_write_file(const char *path, const uint8_t *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return vaec_set_error("cannot create '%s': %s", path, strerror(errno));
    int ok = (n == 0 || fwrite(data, 1, n, f) == n);
    ok = (fclose(f) == 0) && ok;
    return ok ? 0 : vaec_set_error("writing '%s' failed: %s", path, strerror(errno));
}

uint8_t *fuzz_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { vaec_set_error("cannot open '%s': %s", path, strerror(errno)); return NULL; }
    size_t cap = 4096, k = 0, r;
    uint8_t *b = xmalloc(cap);
    while ((r = fread(b + k, 1, cap - k, f)) > 0)
        if ((k += r) == cap) b = xrealloc(b, cap *= 2);
    fclose(f);
    *n = k;
    return b;
}

int fuzz_seed_file(const char *dir, const char *name, const uint8_t *data, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return fuzz_write_file(path, data, n);
}

int fuzz_rejected(const char *what) {
    const char *msg = vaec_last_error();
    if (!msg[0] || !strstr(msg, what)) {
        fprintf(stderr, "fuzz: the parser refused the input with a message that does not name '%s': '%s'\n", what, msg);
        abort();
    }
    return FUZZ_REJECTED;
}
