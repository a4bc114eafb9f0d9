/* test_cli_codec_video.c: `vaec encode/decode/reconstruct` on real files, run as users run them: videos made
 * with the ffmpeg command line (mp4/H.264, webm/VP9, mkv/FFV1) go through reconstruct and ffprobe reads the
 * outputs back; PNG folders and HDF5 in and out; streamed windows give the whole-clip result; bad input
 * gives one message naming the file and leaves nothing behind. The tiny pipeline of tests/data/pipeline_tiny.ini
 * (micro_frame_size 5) keeps it fast. */
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "data/video_decode.h"
#include "layers/pipeline.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"
#include "tests/harness/tiny_models.h"
#include "tests/harness/video_files.h"   // defines: video_files_ffmpeg
#include "train/video_io.h"

static char g_dir[256];

static const char *tmpdir(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/vaec_codec_video_%d", (int)getpid());
    mkdir(g_dir, 0777);
    return g_dir;
}

static void cleanup(void) {
    char cmd[512], out[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    test_run_command(cmd, out, sizeof out);
}

static bool have_ffmpeg(void) {
    char out[256];
    if (test_run_command("ffmpeg -hide_banner -version && ffprobe -hide_banner -version", out, sizeof out) != 0) {
        EXPECT(false, "the ffmpeg/ffprobe command lines are missing: run scripts/install-deps.sh");
        return false;
    }
    EXPECT(video_available(), "this build has no FFmpeg libraries: run scripts/install-deps.sh, then rebuild");
    return video_available();
}


/* ffprobe's frames (counted by decoding), width, height and frame rate of a video file */
static bool probe(const char *path, int *frames, int *w, int *h, double *fps) {
    char cmd[1024], out[1024];
    snprintf(cmd, sizeof cmd, "ffprobe -v error -select_streams v:0 -count_frames -show_entries "
             "stream=nb_read_frames,width,height,r_frame_rate -of default=nw=1 %s", path);
    if (test_run_command(cmd, out, sizeof out) != 0) return false;
    int num = 0, den = 1;
    char *p;
    *frames = (p = strstr(out, "nb_read_frames=")) ? atoi(p + 15) : -1;
    *w = (p = strstr(out, "width=")) ? atoi(p + 6) : -1;
    *h = (p = strstr(out, "height=")) ? atoi(p + 7) : -1;
    if ((p = strstr(out, "r_frame_rate="))) sscanf(p + 13, "%d/%d", &num, &den);
    *fps = den ? (double)num / den : 0;
    return true;
}

static void common(char *buf, size_t n) {
    const char *src = test_source_dir();
    snprintf(buf, n, "--config %s/tests/data/pipeline_tiny.ini --ckpt %s/tests/golden/pipeline_tiny_model.safetensors",
             src, src);
}

static int vaec(const char *args, char *out, size_t n) {
    char cmd[4096], c[1024];
    common(c, sizeof c);
    snprintf(cmd, sizeof cmd, "%s/vaec %s %s", VAEC_BIN_DIR, args, c);   /* the command first, then its options */
    return test_run_command(cmd, out, n);
}

TEST(test_cli_reconstruct_mp4_webm_mkv_and_ffprobe_reads_them_back) {
    if (!have_ffmpeg()) return;
    const char *d = tmpdir();
    char args[2048], out[8192], path[512];
    /* 23 frames: windows of 5, 5, 5, 5, 3; odd sizes on one, to be padded and cropped back */
    struct { const char *ext, *codec; int w, h, frames; double fps; } v[] = {
        {"mp4", "-c:v libx264 -pix_fmt yuv420p", 40, 32, 23, 12},
        {"webm", "-c:v libvpx-vp9", 36, 28, 11, 10},
        {"mkv", "-c:v ffv1", 35, 27, 9, 25},
    };
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "-f lavfi -i testsrc2=size=64x48:rate=%g -vf scale=%d:%d -frames:v %d %s %s/in.%s",
                 v[i].fps, v[i].w, v[i].h, v[i].frames, v[i].codec, d, v[i].ext);
        if (!video_files_ffmpeg(args)) break;
        snprintf(args, sizeof args, "reconstruct --input %s/in.%s --output %s/rec.%s", d, v[i].ext, d, v[i].ext);
        EXPECT(vaec(args, out, sizeof out) == 0 && strstr(out, "PSNR") && strstr(out, "SSIM") && strstr(out, "overall:"),
               "reconstruct %s:\n%s", v[i].ext, out);
        snprintf(path, sizeof path, "%s/rec.%s", d, v[i].ext);
        int frames, w, h;
        double fps;
        EXPECT(probe(path, &frames, &w, &h, &fps), "ffprobe cannot read %s", path);
        EXPECT(frames == v[i].frames && w == v[i].w && h == v[i].h && fabs(fps - v[i].fps) < 1e-3,
               "%s: ffprobe says %d frames %dx%d at %g fps, want %d frames %dx%d at %g", path, frames, w, h, fps,
               v[i].frames, v[i].w, v[i].h, v[i].fps);
        EXPECT(!test_tmp_left(path), "a temporary file is left beside %s", path);
    }
    /* side by side: one video twice as wide; H.264 named when this FFmpeg has it */
    snprintf(args, sizeof args, "reconstruct --input %s/in.mp4 --output %s/sbs.mp4 --side-by-side", d, d);
    EXPECT(vaec(args, out, sizeof out) == 0, "side by side:\n%s", out);
    EXPECT(strstr(out, "libx264") || strstr(out, "mpeg4"), "the codec is not named in the output:\n%s", out);
    snprintf(path, sizeof path, "%s/sbs.mp4", d);
    int frames, w, h;
    double fps;
    EXPECT(probe(path, &frames, &w, &h, &fps) && frames == 23 && w == 80 && h == 32, "side by side: %d frames %dx%d", frames, w, h);
    /* encode -> latents with the video's length, size and fps -> decode restores all three */
    snprintf(args, sizeof args, "encode --input %s/in.webm --output %s/z.safetensors --mode mean", d, d);
    EXPECT(vaec(args, out, sizeof out) == 0, "encode webm:\n%s", out);
    snprintf(args, sizeof args, "decode --input %s/z.safetensors --output %s/dec.mp4", d, d);
    EXPECT(vaec(args, out, sizeof out) == 0, "decode to mp4:\n%s", out);
    snprintf(path, sizeof path, "%s/dec.mp4", d);
    EXPECT(probe(path, &frames, &w, &h, &fps) && frames == 11 && w == 36 && h == 28 && fabs(fps - 10) < 1e-3,
           "decode of encoded webm: %d frames %dx%d at %g fps, want 11 36x28 at 10", frames, w, h, fps);
    cleanup();
}

/* the streamed windows give what the pipeline gives for the whole clip (its micro_frame_size chunks) */
TEST(test_cli_codec_streamed_windows_match_whole_clip_pipeline) {
    const char *d = tmpdir();
    char xin[512], zout[512], xout[512], args[2048], out[8192];
    snprintf(xin, sizeof xin, "%s/x.safetensors", d);
    snprintf(zout, sizeof zout, "%s/z.safetensors", d);
    snprintf(xout, sizeof xout, "%s/xd.safetensors", d);
    tensor *x = gc_input_scaled(SHAPE(1, 12, 8, 10, 3), 21, 0.8f);   /* 12 frames: windows of 5, 5, 2 */
    x->requires_grad = false;
    EXPECT(video_save(xin, "x", x) == 0, "write input: %s", vaec_last_error());
    snprintf(args, sizeof args, "encode --input %s --output %s --mode mean", xin, zout);
    EXPECT(vaec(args, out, sizeof out) == 0, "encode:\n%s", out);
    snprintf(args, sizeof args, "decode --input %s --output %s", zout, xout);
    EXPECT(vaec(args, out, sizeof out) == 0, "decode:\n%s", out);
    tensor *z = video_load(zout, "z"), *xd = video_load(xout, "x");
    vae_pipeline p;
    tiny_pipeline_init(&p, 5, 0);
    tiny_pipeline_load_golden(&p);
    p.cal_loss = false, p.sample_posterior = false;
    bool prev = ag_set_grad_enabled(false);
    tensor_scope_begin();
    tensor *want_z = vae_pipeline_encode(&p, x, NULL).z;
    tensor *want_x = vae_pipeline_decode(&p, want_z, 12, NULL);
    EXPECT(z && tensor_same_shape(z, want_z) && rel_error(z, want_z) < 1e-6, "streamed latents differ from the whole clip's: %.3e",
           z && tensor_same_shape(z, want_z) ? rel_error(z, want_z) : -1.0);
    EXPECT(xd && tensor_same_shape(xd, want_x) && rel_error(xd, want_x) < 1e-6, "streamed decode differs from the whole clip's");
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
    tiny_pipeline_free(&p);
    tensor_release(x);
    if (z) tensor_release(z);
    if (xd) tensor_release(xd);
    cleanup();
}

TEST(test_cli_codec_frame_folders_and_hdf5_in_and_out) {
    if (!have_ffmpeg()) return;
    const char *d = tmpdir();
    char args[2048], out[8192], path[512];
    snprintf(args, sizeof args, "%s/frames", d);
    mkdir(args, 0777);
    snprintf(args, sizeof args, "-f lavfi -i testsrc2=size=64x48:rate=8 -vf scale=45:31 -frames:v 7 %s/frames/f%%03d.png", d);
    if (!video_files_ffmpeg(args)) return;
    /* a PNG folder of odd-sized frames -> HDF5 clips of the same size */
    snprintf(args, sizeof args, "reconstruct --input %s/frames --output %s/rec.h5", d, d);
    EXPECT(vaec(args, out, sizeof out) == 0 && strstr(out, "7 frames 45x31"), "frames -> h5:\n%s", out);
    snprintf(args, sizeof args, "%s/vaec data info %s/rec.h5", VAEC_BIN_DIR, d);
    EXPECT(test_run_command(args, out, sizeof out) == 0 && strstr(out, "clips: 1") && strstr(out, "frames: 7"), "data info:\n%s", out);
    /* HDF5 clip 0 with --size -> a new PNG folder */
    snprintf(args, sizeof args, "reconstruct --input %s/rec.h5 --clip 0 --size 16 --output %s/out/", d, d);
    EXPECT(vaec(args, out, sizeof out) == 0 && strstr(out, "7 frames 16x16"), "h5 -> frames:\n%s", out);
    snprintf(path, sizeof path, "%s/out/000006.png", d);
    EXPECT(access(path, F_OK) == 0, "%s missing", path);
    snprintf(path, sizeof path, "%s/out/000007.png", d);
    EXPECT(access(path, F_OK) != 0, "%s should not exist (7 frames)", path);
    /* --clip out of range names the count */
    snprintf(args, sizeof args, "reconstruct --input %s/rec.h5 --clip 3 --output %s/x.mp4", d, d);
    EXPECT(vaec(args, out, sizeof out) != 0 && strstr(out, "--clip 3") && strstr(out, "1 clip"), "--clip 3:\n%s", out);
    cleanup();
}

TEST(test_cli_codec_bad_input_names_the_file_and_leaves_nothing) {
    if (!have_ffmpeg()) return;
    const char *d = tmpdir();
    char args[2048], out[8192], path[512];
    /* an unreadable video */
    snprintf(path, sizeof path, "%s/broken.mp4", d);
    FILE *f = fopen(path, "wb");
    fputs("this is not a video at all", f);
    fclose(f);
    snprintf(args, sizeof args, "reconstruct --input %s --output %s/o1.mp4", path, d);
    EXPECT(vaec(args, out, sizeof out) != 0 && strstr(out, path) && strstr(out, "error"), "unreadable video:\n%s", out);
    snprintf(path, sizeof path, "%s/o1.mp4", d);
    EXPECT(access(path, F_OK) != 0 && !test_tmp_left(path), "something was written for a failed run");
    /* an unsupported output type */
    snprintf(args, sizeof args, "-f lavfi -i testsrc2=size=16x16:rate=5 -frames:v 3 -c:v ffv1 %s/ok.mkv", d);
    if (!video_files_ffmpeg(args)) return;
    snprintf(args, sizeof args, "reconstruct --input %s/ok.mkv --output %s/o.gif", d, d);
    EXPECT(vaec(args, out, sizeof out) != 0 && strstr(out, "o.gif") && strstr(out, "unknown output type"), "unsupported output:\n%s", out);
    /* an output folder that does not exist */
    snprintf(args, sizeof args, "reconstruct --input %s/ok.mkv --output %s/no/such/dir/o.mp4", d, d);
    EXPECT(vaec(args, out, sizeof out) != 0 && strstr(out, "does not exist") && strstr(out, "no/such/dir"), "missing folder:\n%s", out);
    /* frames smaller than 8 */
    snprintf(args, sizeof args, "-f lavfi -i testsrc2=size=6x6:rate=5 -frames:v 3 -c:v ffv1 %s/tiny.mkv", d);
    if (!video_files_ffmpeg(args)) return;
    snprintf(args, sizeof args, "reconstruct --input %s/tiny.mkv --output %s/o2.mp4", d, d);
    EXPECT(vaec(args, out, sizeof out) != 0 && strstr(out, "tiny.mkv") && strstr(out, "smaller than 8x8"), "6x6 frames:\n%s", out);
    snprintf(path, sizeof path, "%s/o2.mp4", d);
    EXPECT(access(path, F_OK) != 0 && !test_tmp_left(path), "a failed run left %s", path);
    /* an HDF5 file that is not a dataset */
    snprintf(path, sizeof path, "%s/other.h5", d);
    hid_t h = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(h);
    snprintf(args, sizeof args, "reconstruct --input %s --output %s/o3.mp4", path, d);
    EXPECT(vaec(args, out, sizeof out) != 0 && strstr(out, "other.h5"), "HDF5 that is not a dataset:\n%s", out);
    /* latents cannot go to a video; a video output with several clips is refused with a hint */
    snprintf(args, sizeof args, "encode --input %s/ok.mkv --output %s/z.mp4", d, d);
    EXPECT(vaec(args, out, sizeof out) != 0 && strstr(out, "z.mp4") && strstr(out, ".safetensors"), "latents to video:\n%s", out);
    /* a failed write of a frames folder leaves no folder (existing, non-empty) */
    snprintf(args, sizeof args, "reconstruct --input %s/ok.mkv --output %s", d, d);
    EXPECT(vaec(args, out, sizeof out) != 0 && strstr(out, "not empty"), "non-empty output folder:\n%s", out);
    cleanup();
}

/* peak RSS (KiB) of a command run directly (no shell), -1 if it failed */
static long run_peak_rss_kib(char *const argv[]) {
    pid_t pid = fork();
    if (pid == 0) {
        int nul = open("/dev/null", 1);
        if (nul >= 0) { dup2(nul, 1); dup2(nul, 2); }
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    return ru.ru_maxrss;
}

/* A long 256x256 video encodes in memory that does not depend on its length: 200 and 400 frames */
TEST(test_cli_encode_long_video_peak_memory_is_flat) {
    if (!have_ffmpeg()) return;
    const char *d = tmpdir();
    /* a thin SDXL-shaped VAE (4 levels of 4 channels: down factor 8, so attention sees 32x32 latents as in
       SDXL at 256x256), saved by the library: speed only */
    char cfg[512], ckpt[512], args[2048];
    snprintf(cfg, sizeof cfg, "%s/thin.ini", d);
    snprintf(ckpt, sizeof ckpt, "%s/thin.safetensors", d);
    FILE *f = fopen(cfg, "w");
    fprintf(f, "[model]\nkind = pipeline\n[spatial]\nblock_out_channels = 4,4,4,4\nlayers_per_block = 1\nnorm_num_groups = 4\n"
               "micro_batch_size = 4\n[temporal]\nfilters = 4\nnum_res_blocks = 1\nnum_groups = 2\n[pipeline]\nmicro_frame_size = 17\n");
    fclose(f);
    vae_pipeline p;
    memset(&p, 0, sizeof p);
    autoencoder_kl_config sc = autoencoder_kl_config_sdxl();
    sc.n_blocks = 4;
    for (int i = 0; i < 4; i++) sc.block_out_channels[i] = 4;
    sc.layers_per_block = 1, sc.norm_num_groups = 4;
    autoencoder_kl_init(&p.spatial.vae, &sc, 1);
    vae_temporal_config tc = vae_temporal_config_default();
    tc.filters = 4, tc.num_res_blocks = 1, tc.num_groups = 2;
    vae_temporal_init(&p.temporal, &tc, 2);
    EXPECT(vae_pipeline_save(&p, ckpt) == 0, "save: %s", vaec_last_error());
    autoencoder_kl_free(&p.spatial.vae);
    vae_temporal_free(&p.temporal);
    long rss[2];
    int lengths[2] = {200, 400};
    for (int i = 0; i < 2; i++) {
        char video[512], z[512];
        snprintf(video, sizeof video, "%s/long%d.mp4", d, lengths[i]);
        snprintf(z, sizeof z, "%s/long%d.safetensors", d, lengths[i]);
        snprintf(args, sizeof args, "-f lavfi -i testsrc2=size=256x256:rate=24 -frames:v %d -c:v libx264 -preset ultrafast "
                 "-pix_fmt yuv420p %s", lengths[i], video);
        if (!video_files_ffmpeg(args)) return;
        char bin[512];
        snprintf(bin, sizeof bin, "%s/vaec", VAEC_BIN_DIR);
        char *argv[] = {bin, "encode", "--config", cfg, "--ckpt", ckpt, "--input", video, "--output", z, "--mode", "mean",
                        "--set", "train.threads=2", NULL};
        rss[i] = run_peak_rss_kib(argv);
        EXPECT(rss[i] > 0, "encode of %d frames failed", lengths[i]);
        tensor *lat = video_load(z, "z");
        /* 200 frames = 11 windows of 17 + 13: 11 x 5 + 4 latent frames */
        int64_t want = (lengths[i] / 17) * 5 + (lengths[i] % 17 + 3) / 4;
        EXPECT(lat && lat->shape[1] == want && lat->shape[2] == 32, "latents of %d frames: %lld latent frames, want %lld",
               lengths[i], lat ? (long long)lat->shape[1] : -1ll, (long long)want);
        if (lat) tensor_release(lat);
    }
    /* the bound: 512 MiB for the process (the libraries vaec links, the model, one 17-frame window and its
       activations; measured 435 MiB with 8 channels); twice the length adds under 32 MiB. One length's peak
       varies by up to 15 MiB from run to run (measured 398-413 MiB at both lengths, on 2 threads), while
       holding the video would add 200 x 256 x 256 x 3 bytes = 37.5 MiB even as 8-bit frames (150 MiB as floats) */
    printf("  peak RSS: %ld KiB at 200 frames, %ld KiB at 400 frames (256x256)\n", rss[0], rss[1]);
    EXPECT(rss[0] > 0 && rss[0] < 512 * 1024, "peak RSS at 200 frames %ld KiB, over the 512 MiB bound", rss[0]);
    EXPECT(rss[1] > 0 && rss[1] - rss[0] < 32 * 1024, "peak RSS grew from %ld to %ld KiB with twice the length", rss[0], rss[1]);
    cleanup();
}

/* latents to .h5: the video-latents-v1 layout of `vaec data encode`, the same values as the .safetensors output */
/* D/in.webm (11 frames of 36x28 at 10 fps) and its mean latents in D/z.safetensors and D/z.h5; false (files
   cleaned up) when ffmpeg cannot make the video */
static bool encode_webm_both_ways(const char *d) {
    char args[1024], out[8192];
    snprintf(args, sizeof args, "-f lavfi -i testsrc=size=36x28:rate=10 -frames:v 11 -c:v libvpx-vp9 %s/in.webm", d);
    if (!video_files_ffmpeg(args)) { cleanup(); return false; }
    snprintf(args, sizeof args, "encode --input %s/in.webm --output %s/z.safetensors --mode mean", d, d);
    EXPECT(vaec(args, out, sizeof out) == 0, "encode to safetensors:\n%s", out);
    snprintf(args, sizeof args, "encode --input %s/in.webm --output %s/z.h5 --mode mean", d, d);
    EXPECT(vaec(args, out, sizeof out) == 0 && strstr(out, "video-latents-v1"), "encode to .h5:\n%s", out);
    return true;
}

TEST(test_cli_encode_to_hdf5_latents_matches_safetensors) {
    if (!have_ffmpeg()) return;
    const char *d = tmpdir();
    char path[512];
    if (!encode_webm_both_ways(d)) return;
    snprintf(path, sizeof path, "%s/z.safetensors", d);
    tensor *z = video_load(path, "z");
    EXPECT(z != NULL, "cannot read %s", path);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    snprintf(path, sizeof path, "%s/z.h5", d);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    EXPECT(f >= 0, "cannot open %s", path);
    if (z && f >= 0) {
        hid_t ds = H5Dopen2(f, "/latents/000000", H5P_DEFAULT);
        hsize_t dims[4] = {0};
        if (ds >= 0) {
            hid_t s = H5Dget_space(ds);
            EXPECT(H5Sget_simple_extent_ndims(s) == 4, "/latents/000000 is not 4-D");
            H5Sget_simple_extent_dims(s, dims, NULL);
            H5Sclose(s);
        }
        /* video_load gives (1,T,h,w,C); the file is (C,T,h,w) */
        EXPECT(ds >= 0 && (int64_t)dims[0] == z->shape[4] && (int64_t)dims[1] == z->shape[1] &&
               (int64_t)dims[2] == z->shape[2] && (int64_t)dims[3] == z->shape[3],
               "/latents/000000 is %llux%llux%llux%llu, the safetensors z (1,T,h,w,C) (1,%lld,%lld,%lld,%lld)", (unsigned long long)dims[0],
               (unsigned long long)dims[1], (unsigned long long)dims[2], (unsigned long long)dims[3], (long long)z->shape[1],
               (long long)z->shape[2], (long long)z->shape[3], (long long)z->shape[4]);
        if (ds >= 0 && (int64_t)(dims[0] * dims[1] * dims[2] * dims[3]) == z->numel) {
            float *buf = malloc(sizeof(float) * (size_t)z->numel);
            EXPECT(H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0, "cannot read /latents/000000");
            const float *ref = tensor_f32(z);
            double worst = 0;
            const int64_t C = z->shape[4], thw = z->numel / C;
            for (int64_t c = 0; c < C; c++)
                for (int64_t i = 0; i < thw; i++) worst = fmax(worst, fabs((double)buf[c * thw + i] - ref[i * C + c]));
            EXPECT(worst == 0, "the .h5 latents differ from the .safetensors ones by up to %g", worst);
            free(buf);
        }
        if (ds >= 0) H5Dclose(ds);
    }
    if (f >= 0) H5Fclose(f);
    tensor_release(z);
    cleanup();
}

/* .h5 latents back in: decode gives the video's length, size (36x28, not the padded 40x32) and rate, and the
   same frames as decoding the .safetensors latents; pixels or garbage where latents belong are named */
TEST(test_cli_decode_reads_hdf5_latents) {
    if (!have_ffmpeg()) return;
    const char *d = tmpdir();
    char args[1024], out[8192], path[512];
    if (!encode_webm_both_ways(d)) return;
    snprintf(args, sizeof args, "decode --input %s/z.h5 --output %s/dec.mp4", d, d);
    EXPECT(vaec(args, out, sizeof out) == 0, "decode .h5 to mp4:\n%s", out);
    snprintf(path, sizeof path, "%s/dec.mp4", d);
    int frames, w, h;
    double fps;
    EXPECT(probe(path, &frames, &w, &h, &fps) && frames == 11 && w == 36 && h == 28 && fabs(fps - 10) < 1e-3,
           "decode of .h5 latents: %d frames %dx%d at %g fps, want 11 36x28 at 10", frames, w, h, fps);
    snprintf(args, sizeof args, "decode --input %s/z.h5 --output %s/a.safetensors", d, d);
    EXPECT(vaec(args, out, sizeof out) == 0, "decode .h5 to safetensors:\n%s", out);
    snprintf(args, sizeof args, "decode --input %s/z.safetensors --output %s/b.safetensors", d, d);
    EXPECT(vaec(args, out, sizeof out) == 0, "decode safetensors:\n%s", out);
    snprintf(path, sizeof path, "%s/a.safetensors", d);
    tensor *a = video_load(path, "x");
    snprintf(path, sizeof path, "%s/b.safetensors", d);
    tensor *b = video_load(path, "x");
    EXPECT(a && b && a->numel == b->numel && a->shape[1] == 11 && !memcmp(tensor_f32(a), tensor_f32(b), sizeof(float) * (size_t)a->numel),
           "decoding the .h5 latents differs from decoding the .safetensors latents");
    if (a) tensor_release(a);
    if (b) tensor_release(b);
    /* an HDF5 file of pixels is not latents: the message names the file and what it lacks */
    snprintf(args, sizeof args, "reconstruct --input %s/in.webm --output %s/clips.h5", d, d);
    EXPECT(vaec(args, out, sizeof out) == 0, "reconstruct to .h5:\n%s", out);
    snprintf(args, sizeof args, "decode --input %s/clips.h5 --output %s/c.mp4", d, d);
    EXPECT(vaec(args, out, sizeof out) != 0 && strstr(out, "clips.h5") && strstr(out, "video-latents-v1"),
           "decode of an HDF5 video dataset:\n%s", out);
    snprintf(path, sizeof path, "%s/c.mp4", d);
    EXPECT(access(path, F_OK) != 0, "a failed decode left %s behind", path);
    cleanup();
}

/* a kill while PNG frames are being written takes the temporary folder with it (and no output appears) */
TEST(test_cli_reconstruct_png_killed_leaves_nothing) {
    if (!have_ffmpeg()) return;
    const char *d = tmpdir();
    char args[1024], bin[512], input[512], output[512], cfg[512], ckpt[512];
    snprintf(args, sizeof args, "-f lavfi -i testsrc=size=64x64:rate=10 -frames:v 600 -c:v libvpx-vp9 %s/long.webm", d);
    if (!video_files_ffmpeg(args)) { cleanup(); return; }
    snprintf(bin, sizeof bin, "%s/vaec", VAEC_BIN_DIR);
    snprintf(input, sizeof input, "%s/long.webm", d);
    snprintf(output, sizeof output, "%s/frames", d);
    snprintf(cfg, sizeof cfg, "%s/tests/data/pipeline_tiny.ini", test_source_dir());
    snprintf(ckpt, sizeof ckpt, "%s/tests/golden/pipeline_tiny_model.safetensors", test_source_dir());
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(bin, bin, "reconstruct", "--input", input, "--output", output, "--config", cfg, "--ckpt", ckpt, "--set",
              "train.threads=1", (char *)NULL);
        _exit(127);
    }
    /* wait until the temporary folder holds a frame, then kill */
    char tmp[600], frame[700];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", output, (int)pid);
    snprintf(frame, sizeof frame, "%s/000000.png", tmp);
    bool seen = false;
    for (int i = 0; i < 3000 && !seen; i++) {
        seen = access(frame, F_OK) == 0;
        if (!seen) usleep(10000);
    }
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT(seen, "no frame appeared in %s within 30 s", tmp);
    EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "reconstruct did not die of the SIGTERM (status %d): it "
           "finished 600 frames before the kill?", status);
    EXPECT(access(tmp, F_OK) != 0, "the killed reconstruct left its temporary folder %s", tmp);
    EXPECT(access(output, F_OK) != 0, "the killed reconstruct left an output folder %s", output);
    cleanup();
}
