/* test_loader_csv.c: training from a CSV list of videos (Open-Sora's format), decoded on the fly: the CSV
 * parser (quotes, line breaks in fields, CRLF, relative and absolute paths, errors naming file and line), the
 * windows against ffmpeg's own decode after the same resize, batches that do not depend on the number of
 * workers, a resumed position, and one warning each for the undecodable and too-short videos, counted. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "data/csv_list.h"
#include "data/loader.h"
#include "tests/harness/test.h"
#include "tests/harness/video_files.h"

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

TEST(test_csv_list_reads_open_sora_csv) {
    char path[128], msg[1024];
    snprintf(path, sizeof path, "/tmp/vaec_csv_%d/list.csv", (int)getpid());
    char dir[128];
    snprintf(dir, sizeof dir, "mkdir -p /tmp/vaec_csv_%d", (int)getpid());
    EXPECT(system(dir) == 0, "%s", dir);
    write_file(path, "\xEF\xBB\xBFid,path,text\r\n1,clips/a.mp4,\"x, y\"\r\n\r\n2,/abs/b.mp4,\"multi\nline \"\"q\"\"\"\r\n3,\"c d.mp4\",z");
    csv_list l;
    EXPECT(csv_list_read(path, &l) == 0, "read: %s", vaec_last_error());
    EXPECT(l.n == 3, "%d rows, expected 3", l.n);
    if (l.n == 3) {
        char want[256];
        snprintf(want, sizeof want, "/tmp/vaec_csv_%d/clips/a.mp4", (int)getpid());
        EXPECT(!strcmp(l.paths[0], want), "relative path resolved to '%s', expected '%s'", l.paths[0], want);
        EXPECT(!strcmp(l.paths[1], "/abs/b.mp4"), "absolute path '%s'", l.paths[1]);
        snprintf(want, sizeof want, "/tmp/vaec_csv_%d/c d.mp4", (int)getpid());
        EXPECT(!strcmp(l.paths[2], want), "quoted path '%s'", l.paths[2]);
        EXPECT(l.lines[0] == 2 && l.lines[1] == 4 && l.lines[2] == 6, "lines %d %d %d, expected 2 4 6", l.lines[0],
               l.lines[1], l.lines[2]);
    }
    csv_list_free(&l);
    /* a num_frames column gives the frame counts (0 where it is not a count: the loader probes those) */
    write_file(path, "num_frames,path\n17,a.mp4\nx,b.mp4\n-3,c.mp4\n");
    EXPECT(csv_list_read(path, &l) == 0 && l.n == 3 && l.num_frames[0] == 17 && l.num_frames[1] == 0 &&
               l.num_frames[2] == 0, "num_frames column: %s", vaec_last_error());
    csv_list_free(&l);
    /* errors name the file, the line and what is wrong */
    struct { const char *text, *needle; } bad[] = {
        {"file,text\na.mp4,x\n", "no 'path' column in its header (line 1 has 'file', 'text')"},
        {"text,path\nx\n", "line 2 has 1 fields, too few for the 'path' column"},
        {"path,text\n,x\n", "line 2 has an empty 'path'"},
        {"path,text\n\"a.mp4,x\n", "line 2: a quoted field has no closing quote"},
        {"path\n", "lists no videos"},
        {"", "is empty"},
    };
    for (int i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++) {
        write_file(path, bad[i].text);
        EXPECT(csv_list_read(path, &l) != 0, "case %d: accepted", i);
        snprintf(msg, sizeof msg, "%s", vaec_last_error());
        EXPECT(strstr(msg, bad[i].needle) && strstr(msg, path), "case %d: message '%s' lacks '%s' or the file", i, msg,
               bad[i].needle);
    }
    EXPECT(csv_list_read("/nonexistent/list.csv", &l) != 0 && strstr(vaec_last_error(), "/nonexistent/list.csv"),
           "a missing CSV: '%s'", vaec_last_error());
    snprintf(dir, sizeof dir, "rm -rf /tmp/vaec_csv_%d", (int)getpid());
    EXPECT(system(dir) == 0, "%s", dir);
}

/* windows of 5 frames, 2 apart, 16x16, batches of 2 */
static loader *open_csv(const char *csv, int workers) {
    loader_config c = {csv, 5, 2, 16, 2, 5, 0, 1, false, workers};
    loader *l = loader_open(&c);
    EXPECT(l != NULL, "loader_open(%s): %s", csv, vaec_last_error());
    return l;
}

static const int64_t BATCH_FLOATS = 2 * 5 * 16 * 16 * 3;

TEST(test_loader_csv_batches_same_for_any_workers_and_resume) {
    char dir[128], csv[200];
    if (!video_files_make(dir, sizeof dir, "det")) return;
    snprintf(csv, sizeof csv, "%s/list.csv", dir);
    enum { N = 6 };   /* three epochs of the 4 usable videos in batches of 2 */
    float *ref = malloc(sizeof(float) * BATCH_FLOATS * N);
    loader *l = open_csv(csv, 1);
    if (!l) { free(ref); video_files_remove(dir); return; }
    EXPECT(loader_num_clips(l) == 4 && loader_num_skipped(l) == 1 && loader_num_undecodable(l) == 1,
           "%d usable, %d too short, %d undecodable; expected 4, 1 (short.mp4), 1 (broken.mp4)", loader_num_clips(l),
           loader_num_skipped(l), loader_num_undecodable(l));
    for (int b = 0; b < N; b++) {
        tensor *x = loader_next(l);
        EXPECT(x != NULL, "batch %d: %s", b, vaec_last_error());
        if (x) memcpy(ref + b * BATCH_FLOATS, tensor_f32(x), sizeof(float) * BATCH_FLOATS);
        tensor_release(x);
    }
    loader_close(l);
    /* every clip of an epoch is a window of one of the four videos, each once, as ffmpeg decodes it */
    static const int W[4] = {40, 32, 40, 48}, H[4] = {32, 48, 40, 32};
    int used[4] = {0};
    for (int v = 0; v < 4; v++) {
        char video[256];
        snprintf(video, sizeof video, "%s/%s", dir, video_files_good[v]);
        int T = 0;
        uint8_t *frames = video_files_reference(video, W[v], H[v], 16, &T);
        if (!frames) continue;
        EXPECT(T == video_files_frames[v], "%s: ffmpeg decoded %d frames", video, T);
        for (int k = 0; k < 4; k++) {   /* the 4 clips of epoch 0 */
            const float *clip = ref + (int64_t)k * (BATCH_FLOATS / 2);
            double best = 1e9;
            for (int t0 = 0; t0 + 8 < T; t0++) {
                double d = 0;
                for (int t = 0; t < 5; t++)
                    for (int i = 0; i < 16 * 16 * 3; i++)
                        d += fabs((clip[t * 768 + i] + 1.0) * 127.5 - frames[(size_t)(t0 + 2 * t) * 768 + i]);
                d /= 5 * 768;
                if (d < best) best = d;
            }
            if (best < 1.0) used[v]++;
        }
        free(frames);
    }
    for (int v = 0; v < 4; v++)
        EXPECT(used[v] == 1, "%s: %d clips of epoch 0 are its windows (mean difference < 1 level), expected 1",
               video_files_good[v], used[v]);
    /* the same stream with 2 and 3 workers */
    for (int workers = 2; workers <= 3; workers++) {
        l = open_csv(csv, workers);
        for (int b = 0; l && b < N; b++) {
            tensor *x = loader_next(l);
            EXPECT(x && !memcmp(tensor_f32(x), ref + b * BATCH_FLOATS, sizeof(float) * BATCH_FLOATS),
                   "%d workers: batch %d differs from 1 worker's", workers, b);
            tensor_release(x);
        }
        loader_close(l);
    }
    /* resume: a new loader seeked to the position after 3 batches gives batches 3.. */
    l = open_csv(csv, 2);
    int64_t pos[2] = {-1, -1};
    for (int b = 0; l && b < 3; b++) tensor_release(loader_next(l));
    if (l) loader_position(l, pos);
    loader_close(l);
    EXPECT(pos[0] == 1 && pos[1] == 1, "position after 3 batches of 2 per epoch: (%lld, %lld), expected (1, 1)",
           (long long)pos[0], (long long)pos[1]);
    l = open_csv(csv, 2);
    if (l) {
        loader_seek(l, pos);
        for (int b = 3; b < N; b++) {
            tensor *x = loader_next(l);
            EXPECT(x && !memcmp(tensor_f32(x), ref + b * BATCH_FLOATS, sizeof(float) * BATCH_FLOATS),
                   "resumed at (1, 1): batch %d differs from the uninterrupted run's", b);
            tensor_release(x);
        }
        loader_close(l);
    }
    free(ref);
    video_files_remove(dir);
}

TEST(test_cli_data_bench_csv_warns_once_per_skipped_video) {
    char dir[128], cmd[1024], out[16384];
    if (!video_files_make(dir, sizeof dir, "bench")) return;
    snprintf(cmd, sizeof cmd, "%s/vaec data bench %s/list.csv --num-frames 5 --frame-interval 2 --size 16 --batch 2 "
             "--batches 6 --workers 2", VAEC_BIN_DIR, dir);
    int rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc == 0, "%s:\n%s", cmd, out);
    int warnings = 0;
    for (const char *p = out; (p = strstr(p, "vaec: warning: skipping video")); p++) warnings++;
    EXPECT(warnings == 2, "%d skip warnings, expected one for short.mp4 and one for broken.mp4:\n%s", warnings, out);
    EXPECT(strstr(out, "short.mp4 has 3 frames, shorter than the 9-frame window") != NULL, "no short warning:\n%s", out);
    EXPECT(strstr(out, "video 6 of") && strstr(out, "(line 8)") && strstr(out, "broken.mp4"),
           "the broken video's warning names its row, line and file:\n%s", out);
    EXPECT(strstr(out, "4 clips usable (1 skipped, 1 undecodable)") != NULL, "counts:\n%s", out);
    EXPECT(strstr(out, "clips/s") != NULL, "no throughput line:\n%s", out);
    /* a CSV without a path column: one clear error, exit 1 */
    snprintf(cmd, sizeof cmd, "printf 'file,text\\na.mp4,x\\n' > %s/nopath.csv && %s/vaec data bench %s/nopath.csv "
             "--num-frames 5 --size 16", dir, VAEC_BIN_DIR, dir);
    rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc != 0 && strstr(out, "no 'path' column"), "rc %d:\n%s", rc, out);
    video_files_remove(dir);
}

TEST(test_cli_train_from_csv_list_and_resume) {
    char dir[128], cmd[2048], out[32768];
    if (!video_files_make(dir, sizeof dir, "train")) return;
    const char *src = test_source_dir();
    /* 2 steps, a checkpoint at step 2, then on to step 4 from it: the loader's position comes back */
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/list.csv "
             "--set train.frame_interval=2 --out %s/run --steps 2", VAEC_BIN_DIR, src, dir, dir);
    int rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc == 0, "train from list.csv: rc %d\n%s", rc, out);
    EXPECT(strstr(out, "4 clips, 1 skipped") && strstr(out, "1 videos skipped as undecodable") &&
               strstr(out, "skipping video 6 of"), "the trainer reports the skipped videos:\n%s", out);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/list.csv "
             "--set train.frame_interval=2 --out %s/run --steps 4 --resume auto", VAEC_BIN_DIR, src, dir, dir);
    rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc == 0 && strstr(out, "resumed from") && strstr(out, "step 4/4"), "resume from list.csv: rc %d\n%s", rc, out);
    video_files_remove(dir);
}

/* a row that gives num_frames is not probed: an undecodable video there is found when first read, reported
 * once, counted, and its place goes to the next clip of the epoch's order, the same for any number of workers */
TEST(test_loader_csv_undecodable_found_while_reading) {
    char dir[128], csv[200];
    if (!video_files_make(dir, sizeof dir, "lazy")) return;
    snprintf(csv, sizeof csv, "%s/lazy.csv", dir);
    write_file(csv, "path,num_frames\na.mp4,12\nbroken.mp4,12\nb.mp4,12\nsub/c.mp4,12\n");
    float *ref = malloc(sizeof(float) * BATCH_FLOATS * 4);
    for (int workers = 1; workers <= 2; workers++) {
        loader *l = open_csv(csv, workers);
        if (!l) break;
        EXPECT(loader_num_clips(l) == 4 && loader_num_undecodable(l) == 0, "%d clips, %d undecodable at open",
               loader_num_clips(l), loader_num_undecodable(l));
        for (int b = 0; b < 4; b++) {
            tensor *x = loader_next(l);
            EXPECT(x != NULL, "batch %d: %s", b, vaec_last_error());
            if (x && workers == 1) memcpy(ref + b * BATCH_FLOATS, tensor_f32(x), sizeof(float) * BATCH_FLOATS);
            if (x && workers > 1)
                EXPECT(!memcmp(tensor_f32(x), ref + b * BATCH_FLOATS, sizeof(float) * BATCH_FLOATS),
                       "%d workers: batch %d differs from 1 worker's", workers, b);
            tensor_release(x);
        }
        EXPECT(loader_num_bad(l) == 1, "%d videos found unreadable, expected 1 (broken.mp4)", loader_num_bad(l));
        loader_close(l);
    }
    free(ref);
    video_files_remove(dir);
}
