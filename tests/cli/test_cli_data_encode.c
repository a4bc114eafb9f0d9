/* test_cli_data_encode.c: `vaec data encode` through the real binary with the tiny pipeline of
 * tests/data/pipeline_tiny.ini: every mode against the model run in-process, every input kind (HDF5 dataset,
 * video folder, CSV list), resume after an interruption giving the same bytes as an uninterrupted run,
 * mpirun -np 2 giving the same file as one process, h5py reading the layout, and the bad inputs (a CSV without
 * a path column or naming a missing file, an unwritable --out, parts of another run) failing with one clear
 * message and nothing written. */
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "autograd/autograd.h"         // defines: ag_set_grad_enabled
#include "core/ops.h"                  // defines: op_permute
#include "data/h5video.h"              // defines: h5video_create, h5video_read
#include "data/synthetic.h"            // defines: synthetic_clip
#include "tests/harness/test.h"
#include "tests/harness/video_files.h" // defines: video_files_make
#include "train/model_folder.h"        // defines: model_open

#define MODEL " --config %s/tests/data/pipeline_tiny.ini --ckpt %s/tests/golden/pipeline_tiny_model.safetensors "
#define ONE_THREAD "OMP_NUM_THREADS=1 "

static char work[128];

/* a work folder with d.h5: 5 synthetic clips of 9 frames at 16x16 (one of 7 frames: clips may differ in T) */
static void make_work(const char *stem) {
    snprintf(work, sizeof work, "/tmp/vaec_denc_%d_%s", (int)getpid(), stem);
    char cmd[300], path[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", work, work);
    EXPECT(system(cmd) == 0, "%s", cmd);
    snprintf(path, sizeof path, "%s/d.h5", work);
    h5video_writer *w = h5video_create(path, false);
    uint8_t *f = malloc(9 * 16 * 16 * 3);
    rng_state r = rng_seed(11);
    for (int i = 0; i < 5; i++) {
        synthetic_clip(&r, 9, 16, 16, f);
        h5video_append(w, f, i == 3 ? 7 : 9, 16, 16, "synthetic", 8);
    }
    free(f);
    EXPECT(h5video_finish(w) == 0, "%s", vaec_last_error());
}
static void remove_work(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", work);
    EXPECT(system(cmd) == 0, "%s", cmd);
}

/* runs `vaec data encode MODEL ARGS` (ARGS after the model options); exit status, output in out */
static int encode(const char *args, char *out, size_t n) {
    char cmd[2048], *src = test_path("");
    snprintf(cmd, sizeof cmd, ONE_THREAD "%s/vaec data encode" MODEL "%s", VAEC_BIN_DIR, src, src, args);
    free(src);
    return test_run_command(cmd, out, n);
}

/* one dataset of a latents file into a new buffer of *n floats (NULL if absent), shape in dims */
static float *read_latent(const char *file, const char *name, hsize_t dims[4], size_t *n) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return NULL;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    float *buf = NULL;
    if (d >= 0) {
        hid_t s = H5Dget_space(d);
        if (H5Sget_simple_extent_ndims(s) == 4) {
            H5Sget_simple_extent_dims(s, dims, NULL);
            *n = dims[0] * dims[1] * dims[2] * dims[3];
            buf = malloc(sizeof(float) * *n);
            if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) { free(buf); buf = NULL; }
        }
        H5Sclose(s);
        H5Dclose(d);
    }
    H5Fclose(f);
    return buf;
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static bool same_bytes(const char *a, const char *b) {
    char cmd[1200], out[512];
    snprintf(cmd, sizeof cmd, "cmp %s %s", a, b);
    return test_run_command(cmd, out, sizeof out) == 0;
}

TEST(test_cli_data_encode_modes_match_the_model) {
    make_work("modes");
    char args[1024], out[8192], path[300];
    const char *modes[3] = {"mean", "sample", "moments"};
    for (int k = 0; k < 3; k++) {
        snprintf(args, sizeof args, "--input %s/d.h5 --out %s/%s.h5 --mode %s", work, work, modes[k], modes[k]);
        int rc = encode(args, out, sizeof out);
        EXPECT(rc == 0 && strstr(out, "latents of 5 clips"), "--mode %s: rc %d\n%s", modes[k], rc, out);
    }
    snprintf(args, sizeof args, "--input %s/d.h5 --out %s/sample2.h5 --mode sample", work, work);
    EXPECT(encode(args, out, sizeof out) == 0, "%s", out);
    /* the mean latents of each clip are the model's posterior mean, (z - shift) / scale, as (C,T,h,w) */
    char *cfg_path = test_path("tests/data/pipeline_tiny.ini"), *ckpt = test_path("tests/golden/pipeline_tiny_model.safetensors");
    config cfg;
    vaec_model m;
    EXPECT(model_open(&m, &cfg, ckpt, cfg_path, NULL, 0, false) == 0, "%s", vaec_last_error());
    m.p.cal_loss = false, m.p.sample_posterior = false;
    bool grad = ag_set_grad_enabled(false);
    snprintf(path, sizeof path, "%s/d.h5", work);
    h5video *v = h5video_open(path);
    char f_mean[300], f_sample[300], f_sample2[300], f_mom[300];
    snprintf(f_mean, sizeof f_mean, "%s/mean.h5", work);
    snprintf(f_sample, sizeof f_sample, "%s/sample.h5", work);
    snprintf(f_sample2, sizeof f_sample2, "%s/sample2.h5", work);
    snprintf(f_mom, sizeof f_mom, "%s/moments.h5", work);
    for (int i = 0; i < 5 && v; i++) {
        int64_t T, H, W;
        h5video_clip_shape(v, i, &T, &H, &W);
        uint8_t *px = malloc((size_t)(T * H * W * 3));
        h5video_read(v, i, 0, T, px);
        tensor_scope_begin();
        tensor *x = tensor_autorelease(tensor_empty(SHAPE(1, T, H, W, 3)));
        for (int64_t j = 0; j < T * H * W * 3; j++) tensor_f32(x)[j] = px[j] * (2.0f / 255.0f) - 1.0f;
        tensor *z = vae_pipeline_encode(&m.p, x, NULL).z;   /* (1,T',h,w,C) */
        tensor *ref = op_permute(op_reshape(z, SHAPE(z->shape[1], z->shape[2], z->shape[3], z->shape[4])), (int[]){3, 0, 1, 2});
        char name[64];
        hsize_t d[4];
        size_t n = 0, n2 = 0;
        snprintf(name, sizeof name, "latents/%06d", i);
        float *got = read_latent(f_mean, name, d, &n), *smp = read_latent(f_sample, name, d, &n2);
        float *smp2 = read_latent(f_sample2, name, d, &n2);
        snprintf(name, sizeof name, "mean/%06d", i);
        float *mu = read_latent(f_mom, name, d, &n2);
        snprintf(name, sizeof name, "logvar/%06d", i);
        float *lv = read_latent(f_mom, name, d, &n2);
        EXPECT(got && (int64_t)n == ref->numel && (int64_t)d[0] == ref->shape[0] && (int64_t)d[1] == ref->shape[1],
               "clip %d: latents missing or of the wrong shape", i);
        if (got && smp && smp2 && mu && lv && (int64_t)n == ref->numel) {
            double worst = 0, moved = 0;
            for (size_t j = 0; j < n; j++) {
                worst = fmax(worst, fabs(got[j] - tensor_f32(ref)[j]));
                moved += fabs(smp[j] - got[j]) / n;
            }
            EXPECT(worst < 1e-5, "clip %d: --mode mean differs from the model's posterior mean by %g", i, worst);
            EXPECT(!memcmp(mu, got, n * sizeof(float)), "clip %d: the moments' mean is not the mean latents", i);
            EXPECT(!memcmp(smp, smp2, n * sizeof(float)), "clip %d: two --mode sample runs with one seed differ", i);
            EXPECT(moved > 1e-3, "clip %d: the sample is the mean (mean |difference| %g)", i, moved);
            bool finite = true;
            for (size_t j = 0; j < n; j++) finite &= isfinite(lv[j]) && lv[j] < 20;
            EXPECT(finite, "clip %d: logvar not finite or above the clamp", i);
        }
        free(got), free(smp), free(smp2), free(mu), free(lv), free(px);
        tensor_scope_end(NULL);
    }
    h5video_close(v);
    ag_set_grad_enabled(grad);
    model_free(&m);
    config_free(&cfg);
    free(cfg_path), free(ckpt);
    /* `vaec decode` reads both files back: every clip, 9 frames (7 for clip 3) as num_frames says; the moments
       file through its means, so the two decodes are one */
    char *srcdir = test_path("");
    for (int k = 0; k < 2; k++) {
        char cmd[2048], dec[300];
        snprintf(dec, sizeof dec, "%s/dec_%s.h5", work, k ? "moments" : "mean");
        snprintf(cmd, sizeof cmd, ONE_THREAD "%s/vaec decode" MODEL "--input %s --output %s", VAEC_BIN_DIR, srcdir, srcdir,
                 k ? f_mom : f_mean, dec);
        EXPECT(test_run_command(cmd, out, sizeof out) == 0, "decode of %s:\n%s", k ? f_mom : f_mean, out);
    }
    free(srcdir);
    snprintf(path, sizeof path, "%s/dec_mean.h5", work);
    h5video *dm = h5video_open(path);
    snprintf(path, sizeof path, "%s/dec_moments.h5", work);
    h5video *dv = h5video_open(path);
    EXPECT(dm && dv && h5video_num_clips(dm) == 5 && h5video_num_clips(dv) == 5, "the decoded latents: %s",
           dm && dv ? "not 5 clips each" : vaec_last_error());
    for (int i = 0; dm && dv && i < h5video_num_clips(dm); i++) {
        int64_t T, H, W, T2, H2, W2;
        h5video_clip_shape(dm, i, &T, &H, &W);
        h5video_clip_shape(dv, i, &T2, &H2, &W2);
        EXPECT(T == (i == 3 ? 7 : 9) && H == 16 && W == 16 && T2 == T && H2 == H && W2 == W,
               "decoded clip %d is %lldx%lldx%lld (moments: %lldx%lldx%lld)", i, (long long)T, (long long)H, (long long)W,
               (long long)T2, (long long)H2, (long long)W2);
        if (T2 != T || H2 != H || W2 != W) continue;
        uint8_t *a = malloc((size_t)(T * H * W * 3)), *b = malloc((size_t)(T * H * W * 3));
        EXPECT(h5video_read(dm, i, 0, T, a) == 0 && h5video_read(dv, i, 0, T, b) == 0 && !memcmp(a, b, (size_t)(T * H * W * 3)),
               "clip %d: decoding the moments file differs from decoding the mean file", i);
        free(a), free(b);
    }
    h5video_close(dm);
    h5video_close(dv);
    /* h5py reads the layout (and the moments' mean is the mean file's latents) */
    char pyargs[700];
    snprintf(pyargs, sizeof pyargs, "%s %s 4,3,8,8 4,3,8,8 4,3,8,8 4,3,8,8 4,3,8,8", f_mean, f_mom);
    int code = test_run_python("check_latents_read.py", pyargs, out, sizeof out);
    if (code == 77 || code == 127) {
        remove_work();
        TEST_SKIP("h5py reading the latents layout: no Python with h5py (set VAEC_PYTHON)");
    }
    EXPECT(code == 0, "h5py could not read the latents as docs/data.md describes (exit %d):\n%s", code, out);
    remove_work();
}

/* the source attribute of one latents dataset */
static void read_source(const char *file, const char *name, char *buf, size_t n) {
    buf[0] = 0;
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f >= 0 ? H5Dopen2(f, name, H5P_DEFAULT) : -1;
    hid_t a = d >= 0 ? H5Aopen(d, "source", H5P_DEFAULT) : -1, t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    char *s = NULL;
    if (a >= 0 && H5Aread(a, t, &s) >= 0 && s) snprintf(buf, n, "%s", s), H5free_memory(s);
    H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
}

TEST(test_cli_data_encode_video_folder_and_csv) {
    char dir[128], args[1024], out[8192], cmd[1024];
    if (!video_files_make(dir, sizeof dir, "enc")) return;
    snprintf(cmd, sizeof cmd, "mkdir -p %s/only && cp %s/a.mp4 %s/b.mp4 %s/sub/c.mp4 %s/d.mkv %s/only/ && echo notes > "
             "%s/only/readme.txt", dir, dir, dir, dir, dir, dir, dir);
    EXPECT(system(cmd) == 0, "%s", cmd);
    snprintf(args, sizeof args, "--input %s/only --out %s/folder.h5 --mode mean --size 16", dir, dir);
    int rc = encode(args, out, sizeof out);
    EXPECT(rc == 0 && strstr(out, "latents of 4 clips"), "video folder: rc %d\n%s", rc, out);
    snprintf(args, sizeof args, "--input %s/good.csv --out %s/csv.h5 --mode mean --size 16", dir, dir);
    rc = encode(args, out, sizeof out);
    EXPECT(rc == 0 && strstr(out, "latents of 4 clips"), "CSV: rc %d\n%s", rc, out);
    /* the folder in name order (a, b, c, d) and the CSV's rows (a, b, sub/c, absolute d) are the same videos */
    static const int frames_of[4] = {12, 12, 12, 10};
    char f_folder[300], f_csv[300];
    snprintf(f_folder, sizeof f_folder, "%s/folder.h5", dir);
    snprintf(f_csv, sizeof f_csv, "%s/csv.h5", dir);
    for (int i = 0; i < 4; i++) {
        char name[64], src[512], want[512];
        hsize_t d1[4], d2[4];
        size_t n1 = 0, n2 = 0;
        snprintf(name, sizeof name, "latents/%06d", i);
        float *a = read_latent(f_folder, name, d1, &n1), *b = read_latent(f_csv, name, d2, &n2);
        EXPECT(a && b && n1 == n2 && !memcmp(a, b, n1 * sizeof(float)), "clip %d: folder and CSV latents differ", i);
        /* micro_frame_size 5: 12 frames are chunks 5,5,2 -> 2+2+1 latent frames; 10 are 5,5 -> 2+2 */
        int t_lat = frames_of[i] == 12 ? 5 : 4;
        EXPECT(a && d1[0] == 4 && (int)d1[1] == t_lat && d1[2] == 8 && d1[3] == 8, "clip %d: shape (%d,%d,%d,%d), "
               "expected (4,%d,8,8)", i, (int)d1[0], (int)d1[1], (int)d1[2], (int)d1[3], t_lat);
        read_source(f_csv, name, src, sizeof src);
        snprintf(want, sizeof want, "%s/%s", dir, video_files_good[i]);
        EXPECT(!strcmp(src, want), "clip %d: source '%s', expected the resolved CSV path '%s'", i, src, want);
        free(a), free(b);
    }
    /* list.csv holds an undecodable video: an error naming it, no output, the finished clips kept to resume */
    snprintf(args, sizeof args, "--input %s/list.csv --out %s/list.h5 --mode mean --size 16", dir, dir);
    rc = encode(args, out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "clip 5 of") && strstr(out, "broken.mp4") && strstr(out, "kept in"),
           "an undecodable video: rc %d\n%s", rc, out);
    snprintf(cmd, sizeof cmd, "%s/list.h5", dir);
    EXPECT(!exists(cmd), "an output was written despite the error");
    video_files_remove(dir);
}

TEST(test_cli_data_encode_resumes_after_interruption) {
    make_work("resume");
    char args[1024], out[8192], path[400];
    snprintf(args, sizeof args, "--input %s/d.h5 --out %s/full.h5 --mode sample", work, work);
    EXPECT(encode(args, out, sizeof out) == 0, "uninterrupted run:\n%s", out);
    /* interrupted: two clips done, then stopped (as a kill between clips would) */
    snprintf(args, sizeof args, "--input %s/d.h5 --out %s/part.h5 --mode sample --stop-after 2", work, work);
    int rc = encode(args, out, sizeof out);
    EXPECT(rc == 3 && strstr(out, "run the same command again"), "--stop-after 2: rc %d\n%s", rc, out);
    snprintf(path, sizeof path, "%s/part.h5", work);
    EXPECT(!exists(path), "an interrupted run wrote its output");
    snprintf(path, sizeof path, "%s/part.h5.parts/clip-000001.safetensors", work);
    EXPECT(exists(path), "clip 1's part is not kept");
    /* and a kill in the middle of writing clip 3: a truncated part and a writer's temporary file */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cd %s/part.h5.parts && head -c 100 clip-000000.safetensors > clip-000003.safetensors && "
             "head -c 50 clip-000000.safetensors > clip-000004.safetensors.tmp.99999", work);
    EXPECT(system(cmd) == 0, "%s", cmd);
    snprintf(args, sizeof args, "--input %s/d.h5 --out %s/part.h5 --mode sample", work, work);
    rc = encode(args, out, sizeof out);
    EXPECT(rc == 0 && strstr(out, "3 encoded now, 2 kept from an earlier run"), "resume: rc %d\n%s", rc, out);
    char full[300];
    snprintf(full, sizeof full, "%s/full.h5", work);
    snprintf(path, sizeof path, "%s/part.h5", work);
    EXPECT(same_bytes(full, path), "the resumed file differs from the uninterrupted run's");
    snprintf(path, sizeof path, "%s/part.h5.parts", work);
    EXPECT(!exists(path), "the parts folder is left after a complete run");
    /* parts of a run with other settings are not mixed in */
    snprintf(args, sizeof args, "--input %s/d.h5 --out %s/other.h5 --mode sample --stop-after 1", work, work);
    EXPECT(encode(args, out, sizeof out) == 3, "%s", out);
    snprintf(args, sizeof args, "--input %s/d.h5 --out %s/other.h5 --mode mean", work, work);
    rc = encode(args, out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "holds the parts of an interrupted run with other settings") && strstr(out, "mode = mean"),
           "other settings: rc %d\n%s", rc, out);
    remove_work();
}

TEST(test_cli_data_encode_mpirun_two_ranks_same_file) {
#ifndef VAEC_HAVE_MPI
    TEST_SKIP("mpirun -np 2 data encode: this vaec was built without MPI");
#else
    char out[8192], cmd[2048];
    if (test_run_command("command -v mpirun", out, sizeof out) != 0) TEST_SKIP("mpirun -np 2 data encode: no mpirun");
    make_work("mpi");
    char args[1024];
    snprintf(args, sizeof args, "--input %s/d.h5 --out %s/one.h5 --mode sample", work, work);
    EXPECT(encode(args, out, sizeof out) == 0, "1 process:\n%s", out);
    char *src = test_path("");
    snprintf(cmd, sizeof cmd, "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0 "
             ONE_THREAD "mpirun --oversubscribe --bind-to none -np 2 %s/vaec data encode" MODEL
             "--input %s/d.h5 --out %s/two.h5 --mode sample", VAEC_BIN_DIR, src, src, work, work);
    free(src);
    int rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc == 0 && strstr(out, "(rank 0's share)"), "mpirun -np 2: rc %d\n%s", rc, out);
    char a[300], b[300];
    snprintf(a, sizeof a, "%s/one.h5", work);
    snprintf(b, sizeof b, "%s/two.h5", work);
    EXPECT(same_bytes(a, b), "2 processes wrote other latents than 1");
    remove_work();
#endif
}

TEST(test_cli_data_encode_bad_input_clear_errors) {
    make_work("bad");
    char args[1024], out[8192], path[400];
    FILE *f;
    /* a CSV without a path column */
    snprintf(path, sizeof path, "%s/nopath.csv", work);
    f = fopen(path, "w");
    fputs("file,text\nd.h5,x\n", f);
    fclose(f);
    snprintf(args, sizeof args, "--input %s --out %s/a.h5", path, work);
    int rc = encode(args, out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "no 'path' column") && strstr(out, "nopath.csv") && strstr(out, "nothing written"),
           "no path column: rc %d\n%s", rc, out);
    /* a CSV naming a file that is not there: the line and the file, before any work */
    snprintf(path, sizeof path, "%s/missing.csv", work);
    f = fopen(path, "w");
    fputs("path\nd.h5\nnot-here.mp4\n", f);
    fclose(f);
    snprintf(args, sizeof args, "--input %s --out %s/a.h5", path, work);
    rc = encode(args, out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "line 3") && strstr(out, "not-here.mp4") && strstr(out, "No such file"),
           "missing file: rc %d\n%s", rc, out);
    /* an --out whose folder is not there */
    snprintf(args, sizeof args, "--input %s/d.h5 --out %s/no/such/dir/a.h5", work, work);
    rc = encode(args, out, sizeof out);
    EXPECT(rc == 1 && strstr(out, "no/such/dir/a.h5") && strstr(out, "writable"), "unwritable out: rc %d\n%s", rc, out);
    /* a temporal model cannot take RGB clips; a bad mode is a usage error */
    snprintf(args, sizeof args, "--input %s/d.h5 --out %s/a.h5 --mode median", work, work);
    rc = encode(args, out, sizeof out);
    EXPECT(rc == 2 && strstr(out, "--mode 'median'"), "bad mode: rc %d\n%s", rc, out);
    /* nothing written by any of them */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s", work);
    test_run_command(cmd, out, sizeof out);
    EXPECT(!strstr(out, "a.h5"), "something was written:\n%s", out);
    remove_work();
}
