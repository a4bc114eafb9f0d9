/* train_resume.c: a straight and a resumed `vaec train` run, compared (see train_resume.h). */
#include "tests/harness/train_resume.h"
#include <stdlib.h>
#include <string.h>
#include "tests/harness/st_compare.h"   // defines: test_tensors_differing
#include "tests/harness/test.h"         // defines: EXPECT, test_run_command, test_metrics_line

int test_train_full_and_resumed(const char *dir, const char *sets, const char *full_marker, char *out, size_t n) {
    char cmd[4096];
    const char *src = test_source_dir();
    snprintf(cmd, sizeof cmd, "mkdir -p %s && %s/vaec data make --synthetic 8 --out %s/d.h5 --size 16 --num-frames 6", dir,
             VAEC_BIN_DIR, dir);
    int ok = test_run_command(cmd, out, n) == 0;
    EXPECT(ok, "data make:\n%s", out);
    static const struct { const char *folder, *extra, *what; } runs[3] = {
        {"part", "--steps 4", "train 4 steps"}, {"part", "--resume auto", "resume to 6"}, {"full", "", "train 6 steps"}};
    for (int r = 0; r < 3 && ok; r++) {
        snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --out %s/%s %s %s",
                 VAEC_BIN_DIR, src, dir, dir, runs[r].folder, runs[r].extra, sets);
        ok = test_run_command(cmd, out, n) == 0 && (r != 1 || strstr(out, "resumed from")) &&
             (r != 2 || !full_marker || strstr(out, full_marker));
        EXPECT(ok, "%s:\n%s", runs[r].what, out);
    }
    if (!ok) return -1;
    char p1[512], p2[512], a[1024], b[1024];
    snprintf(p1, sizeof p1, "%s/full/metrics.jsonl", dir);
    snprintf(p2, sizeof p2, "%s/part/metrics.jsonl", dir);
    char *full = test_read_text(p1), *part = test_read_text(p2);
    EXPECT(full && part, "metrics.jsonl missing: %s or %s", p1, p2);
    for (int s = 1; full && part && s <= 6; s++) {
        const char *la = test_metrics_line(full, s, a, sizeof a), *lb = test_metrics_line(part, s, b, sizeof b);
        EXPECT(*la && !strcmp(la, lb), "step %d differs after resume:\n  %s\n  %s", s, la, lb);
    }
    free(full);
    free(part);
    return 0;
}

void test_train_same_checkpoint_files(const char *dir, int step, const char *const *files, int nfiles) {
    char p1[512], p2[512], first[512];
    for (int k = 0; k < nfiles; k++) {
        snprintf(p1, sizeof p1, "%s/full/ckpt-%09d/%s.safetensors", dir, step, files[k]);
        snprintf(p2, sizeof p2, "%s/part/ckpt-%09d/%s.safetensors", dir, step, files[k]);
        int d = test_tensors_differing(p1, p2, first, sizeof first);
        EXPECT(d == 0, "%s: %d tensors differ after resume (first: %s)", files[k], d, first);
    }
}
