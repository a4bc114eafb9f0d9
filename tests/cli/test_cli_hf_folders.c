/* test_cli_hf_folders.c: checkpoints as folders (diffusers, Open-Sora, vaec ckpt-N) through the real `vaec`
 * binary: read without --config, checked against --config, exported with `vaec ckpt export`, and (with
 * VAEC_PYTHON) loaded by diffusers and by a PyTorch pipeline built from config.json. */
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/json.h"                 // defines: json_parse_file, json_get
#include "core/safetensors.h"          // defines: st_open, st_find
#include "optim/adamw.h"               // defines: adamw_new
#include "optim/ema.h"                 // defines: ema_new
#include "tests/harness/gradcheck.h"   // defines: gc_input_scaled, rel_error
#include "tests/harness/test.h"
#include "tests/harness/tiny_models.h" // defines: tiny_pipeline_init
#include "train/checkpoint.h"          // defines: ckpt_save, remove_tree
#include "train/model_export.h"        // defines: pipeline_config_json
#include "train/video_io.h"            // defines: video_save, video_load

/* a fresh scratch folder for one test */
static void scratch(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "/tmp/vaec_hf_%d_%s", (int)getpid(), name);
    remove_tree(buf);
    mkdir(buf, 0755);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    EXPECT(f != NULL, "cannot write %s", path);
    if (f) { fputs(text, f); fclose(f); }
}

static void copy_file(const char *src, const char *dst) {
    FILE *a = fopen(src, "rb"), *b = fopen(dst, "wb");
    EXPECT(a && b, "copy %s -> %s", src, dst);
    char buf[65536];
    size_t k;
    while (a && b && (k = fread(buf, 1, sizeof buf, a)) > 0) fwrite(buf, 1, k, b);
    if (a) fclose(a);
    if (b) fclose(b);
}

/* replaces the first `from` in a text file by `to` (same length) */
static void edit_file(const char *path, const char *from, const char *to) {
    FILE *f = fopen(path, "r+");
    char buf[65536];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = 0;
    char *at = strstr(buf, from);
    EXPECT(f && at && strlen(from) == strlen(to), "edit %s", path);
    if (f && at) {
        memcpy(at, to, strlen(to));
        fseek(f, 0, SEEK_SET);
        fwrite(buf, 1, n, f);
    }
    if (f) fclose(f);
}

static int vaec(char *out, size_t n, const char *fmt, ...) {
    char args[6000], cmd[6200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s/vaec %s", VAEC_BIN_DIR, args);
    return test_run_command(cmd, out, n);
}

/* `vaec encode --mode mean` of xin with the given model arguments; the latents, or NULL */
static tensor *encode(const char *model_args, const char *xin, const char *dir, const char *tag, char *out, size_t n) {
    char zout[600];
    snprintf(zout, sizeof zout, "%s/z_%s.safetensors", dir, tag);
    if (vaec(out, n, "encode %s --input %s --output %s --mode mean", model_args, xin, zout) != 0) return NULL;
    return video_load(zout, "z");
}

static int count_of(const char *hay, const char *needle) {
    int c = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) c++;
    return c;
}

static const char *DIFFUSERS_A =   /* tests/data/spatial_a.ini as diffusers writes it, plus a field vaec does not know */
    "{\n  \"_class_name\": \"AutoencoderKL\",\n  \"_diffusers_version\": \"0.27.2\",\n  \"act_fn\": \"silu\",\n"
    "  \"block_out_channels\": [\n    32,\n    64\n  ],\n"
    "  \"down_block_types\": [\n    \"DownEncoderBlock2D\",\n    \"DownEncoderBlock2D\"\n  ],\n"
    "  \"force_upcast\": true,\n  \"in_channels\": 3,\n  \"latent_channels\": 4,\n%s"
    "  \"norm_num_groups\": 8,\n  \"out_channels\": 3,\n  \"sample_size\": 32,\n  \"scaling_factor\": 0.18215,\n"
    "  \"my_extra_field\": 7,\n"
    "  \"up_block_types\": [\n    \"UpDecoderBlock2D\",\n    \"UpDecoderBlock2D\"\n  ]\n}\n";

/* a diffusers folder of spatial_a's weights, written by the test; lpb: the layers_per_block line or "" */
static void write_diffusers_a(const char *dir, const char *lpb) {
    char path[600], text[4096];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/config.json", dir);
    snprintf(text, sizeof text, DIFFUSERS_A, lpb);
    write_text(path, text);
    char *src = test_path("tests/golden/spatial_a_model.safetensors");
    snprintf(path, sizeof path, "%s/diffusion_pytorch_model.safetensors", dir);
    copy_file(src, path);
    free(src);
}

/* the tiny pipeline as an Open-Sora folder written by the test in upstream's format: vae_2d names a folder
   that is gone (the folder was moved), so the spatial VAE's config comes from DIR/vae/config.json */
static void write_opensora_tiny(const char *dir, bool with_temporal) {
    char path[600], text[4096];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/vae", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/vae/config.json", dir);
    write_text(path, "{\"_class_name\": \"AutoencoderKL\", \"block_out_channels\": [16, 16], \"layers_per_block\": 1,"
                     " \"latent_channels\": 4, \"norm_num_groups\": 8, \"scaling_factor\": 0.13025}\n");
    snprintf(text, sizeof text,
             "{\n  \"architectures\": [\"VideoAutoencoderPipeline\"],\n  \"cal_loss\": false,\n  \"freeze_vae_2d\": false,\n"
             "  \"from_pretrained\": null,\n  \"micro_frame_size\": 5,\n  \"model_type\": \"VideoAutoencoderPipeline\",\n"
             "  \"scale\": [3.85, 2.32, 2.33, 3.06],\n  \"shift\": [-0.10, 0.34, 0.27, 0.98],\n  \"torch_dtype\": \"float32\",\n"
             "  \"transformers_version\": \"4.36.2\",\n"
             "  \"vae_2d\": {\"type\": \"VideoAutoencoderKL\", \"from_pretrained\": \"/nonexistent/moved/folder\","
             " \"subfolder\": \"vae\", \"micro_batch_size\": 4, \"local_files_only\": true}%s\n}\n",
             with_temporal ? ",\n  \"vae_temporal\": {\"type\": \"VAE_Temporal\", \"filters\": 4, \"num_res_blocks\": 1,"
                             " \"num_groups\": 2, \"temporal_downsample\": [false, true, true]}" : "");
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_text(path, text);
    char *src = test_path("tests/golden/pipeline_tiny_model.safetensors");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    copy_file(src, path);
    free(src);
}

static void spatial_input(const char *path) {
    tensor *x = gc_input_scaled(SHAPE(1, 2, 16, 16, 3), 11, 0.5f);
    x->requires_grad = false;
    EXPECT(video_save(path, "x", x) == 0, "write input: %s", vaec_last_error());
    tensor_release(x);
}

static void video_input(const char *path) {
    tensor *x = gc_input_scaled(SHAPE(1, 9, 8, 8, 3), 12, 0.5f);
    x->requires_grad = false;
    EXPECT(video_save(path, "x", x) == 0, "write input: %s", vaec_last_error());
    tensor_release(x);
}

TEST(test_cli_diffusers_folder_loads_without_config) {
    char dir[256], folder[400], xin[400], out[16384], args[1200];
    scratch(dir, sizeof dir, "dfold");
    snprintf(folder, sizeof folder, "%s/vae", dir);
    snprintf(xin, sizeof xin, "%s/x.safetensors", dir);
    write_diffusers_a(folder, "  \"layers_per_block\": 1,\n");
    spatial_input(xin);
    const char *src = test_source_dir();
    snprintf(args, sizeof args, "--config %s/tests/data/spatial_a.ini --ckpt %s/tests/golden/spatial_a_model.safetensors", src, src);
    tensor *want = encode(args, xin, dir, "ini", out, sizeof out);
    EXPECT(want != NULL, "INI + file encode failed:\n%s", out);
    snprintf(args, sizeof args, "--ckpt %s", folder);
    tensor *got = encode(args, xin, dir, "folder", out, sizeof out);
    EXPECT(got != NULL, "folder encode without --config failed:\n%s", out);
    EXPECT(count_of(out, "my_extra_field") == 1 && strstr(out, "ignored"),
           "an unknown config.json field is listed once as ignored:\n%s", out);
    if (got && want) EXPECT(rel_error(got, want) < 1e-6, "folder vs INI+file latents differ: %.3e", rel_error(got, want));
    /* with the config too: they agree, same numbers */
    snprintf(args, sizeof args, "--config %s/tests/data/spatial_a.ini --ckpt %s", src, folder);
    tensor *both = encode(args, xin, dir, "both", out, sizeof out);
    EXPECT(both != NULL, "folder + agreeing --config failed:\n%s", out);
    if (both && want) EXPECT(rel_error(both, want) == 0, "folder + config vs INI+file: %.3e", rel_error(both, want));
    /* ckpt info: the kind, the implied config, the parameter count of spatial_a (658,375) */
    EXPECT(vaec(out, sizeof out, "ckpt info %s", folder) == 0 && strstr(out, "diffusers AutoencoderKL folder") &&
           strstr(out, "block_out_channels = 32,64") && strstr(out, "kind = spatial") && strstr(out, "parameters: 658375"),
           "ckpt info of a diffusers folder:\n%s", out);
    tensor_release(want), tensor_release(got), tensor_release(both);
    remove_tree(dir);
}

TEST(test_cli_opensora_folder_loads_without_config) {
    char dir[256], folder[400], xin[400], out[16384], args[1200];
    scratch(dir, sizeof dir, "osfold");
    snprintf(folder, sizeof folder, "%s/OpenSora-VAE-tiny", dir);
    snprintf(xin, sizeof xin, "%s/x.safetensors", dir);
    write_opensora_tiny(folder, true);
    video_input(xin);
    const char *src = test_source_dir();
    snprintf(args, sizeof args, "--config %s/tests/data/pipeline_tiny.ini --ckpt %s/tests/golden/pipeline_tiny_model.safetensors",
             src, src);
    tensor *want = encode(args, xin, dir, "ini", out, sizeof out);
    EXPECT(want != NULL, "INI + file encode failed:\n%s", out);
    snprintf(args, sizeof args, "--ckpt %s", folder);
    tensor *got = encode(args, xin, dir, "folder", out, sizeof out);
    EXPECT(got != NULL, "Open-Sora folder encode without --config failed:\n%s", out);
    EXPECT(!strstr(out, "ignored"), "every field of an upstream config.json is known:\n%s", out);
    if (got && want) EXPECT(rel_error(got, want) == 0, "folder vs INI+file latents differ: %.3e", rel_error(got, want));
    /* the pipeline's spatial scale is Open-Sora's 0.18215, not the diffusers config's 0.13025 */
    EXPECT(vaec(out, sizeof out, "ckpt info %s", folder) == 0 && strstr(out, "Open-Sora VideoAutoencoderPipeline folder") &&
           strstr(out, "scaling_factor = 0.18215") && strstr(out, "temporal_downsample = 0,1,1") &&
           strstr(out, "micro_frame_size = 5") && strstr(out, "parameters: 149815"), "ckpt info of an Open-Sora folder:\n%s", out);
    tensor_release(want), tensor_release(got);
    remove_tree(dir);
}

TEST(test_cli_folder_config_errors_name_the_field) {
    char dir[256], folder[400], xin[400], out[16384];
    scratch(dir, sizeof dir, "ferr");
    snprintf(folder, sizeof folder, "%s/vae", dir);
    snprintf(xin, sizeof xin, "%s/x.safetensors", dir);
    write_diffusers_a(folder, "  \"layers_per_block\": 1,\n");
    spatial_input(xin);
    const char *src = test_source_dir();
    /* a --config that disagrees: the key and both values */
    EXPECT(vaec(out, sizeof out, "encode --config %s/configs/spatial-sdxl.ini --ckpt %s --input %s --output %s/z.safetensors",
                src, folder, xin, dir) != 0 &&
           strstr(out, "block_out_channels") && strstr(out, "32,64") && strstr(out, "128,256,512,512"),
           "a disagreeing --config must name the key and both values:\n%s", out);
    /* --set counts as a given value too */
    EXPECT(vaec(out, sizeof out, "encode --ckpt %s --set spatial.norm_num_groups=16 --input %s --output %s/z.safetensors",
                folder, xin, dir) != 0 && strstr(out, "norm_num_groups") && strstr(out, "says 8") && strstr(out, "says 16"),
           "a disagreeing --set must name the key and both values:\n%s", out);
    /* a value vaec cannot build with, from config.json alone: the range check names config.json */
    char cj[600];
    snprintf(cj, sizeof cj, "%s/config.json", folder);
    edit_file(cj, "\"norm_num_groups\": 8", "\"norm_num_groups\": 7");
    EXPECT(vaec(out, sizeof out, "encode --ckpt %s --input %s --output %s/z.safetensors", folder, xin, dir) != 0 &&
           strstr(out, cj) && strstr(out, "norm_num_groups = 7"), "a bad value from config.json names the file:\n%s", out);
    /* a needed field missing */
    remove_tree(folder);
    write_diffusers_a(folder, "");
    EXPECT(vaec(out, sizeof out, "encode --ckpt %s --input %s --output %s/z.safetensors", folder, xin, dir) != 0 &&
           strstr(out, "layers_per_block") && strstr(out, "missing"), "a missing field must be named:\n%s", out);
    /* an Open-Sora config.json without vae_temporal */
    snprintf(folder, sizeof folder, "%s/os", dir);
    write_opensora_tiny(folder, false);
    EXPECT(vaec(out, sizeof out, "encode --ckpt %s --input %s --output %s/z.safetensors", folder, xin, dir) != 0 &&
           strstr(out, "vae_temporal") && strstr(out, "missing"), "a missing vae_temporal must be named:\n%s", out);
    /* malformed JSON names the file and the byte */
    char path[600];
    snprintf(path, sizeof path, "%s/config.json", folder);
    write_text(path, "{\"architectures\": [\"VideoAutoencoderPipeline\",\n");
    EXPECT(vaec(out, sizeof out, "ckpt info %s", folder) != 0 && strstr(out, "config.json") && strstr(out, "not valid JSON"),
           "malformed config.json:\n%s", out);
    /* a bare file without --config */
    EXPECT(vaec(out, sizeof out, "encode --ckpt %s/tests/golden/spatial_a_model.safetensors --input %s --output %s/z.safetensors",
                src, xin, dir) != 0 && strstr(out, "pass --config"), "a bare file needs --config:\n%s", out);
    remove_tree(dir);
}

static bool tmp_sibling_left(const char *dir, const char *stem) {
    DIR *d = opendir(dir);
    bool found = false;
    struct dirent *e;
    size_t k = strlen(stem);
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, stem, k) && (strstr(e->d_name, ".tmp.") || strstr(e->d_name, ".old."))) found = true;
    if (d) closedir(d);
    return found;
}

TEST(test_cli_export_refuses_existing_out_and_writes_nothing_half) {
    char dir[256], out_dir[400], marker[500], out[16384], cfg[700];
    scratch(dir, sizeof dir, "exref");
    const char *src = test_source_dir();
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    snprintf(marker, sizeof marker, "%s/keep-me", out_dir);
    snprintf(cfg, sizeof cfg, "--config %s/tests/data/spatial_a.ini %s/tests/golden/spatial_a_model.safetensors", src, src);
    mkdir(out_dir, 0755);
    write_text(marker, "x");
    EXPECT(vaec(out, sizeof out, "ckpt export %s --to diffusers --out %s", cfg, out_dir) != 0 && strstr(out, "--force") &&
           access(marker, F_OK) == 0, "an existing --out must be refused and left as it was:\n%s", out);
    EXPECT(vaec(out, sizeof out, "ckpt export %s --to diffusers --out %s --force", cfg, out_dir) == 0 &&
           access(marker, F_OK) != 0, "--force replaces the folder:\n%s", out);
    char path[600];
    snprintf(path, sizeof path, "%s/config.json", out_dir);
    json_value *j = json_parse_file(path);
    EXPECT(j && !strcmp(json_get(j, "_class_name")->str, "AutoencoderKL") && json_get(j, "force_upcast") &&
           json_get(j, "_diffusers_version") && json_get(j, "use_quant_conv"), "config.json as diffusers writes it");
    json_free(j);
    EXPECT(!tmp_sibling_left(dir, "out"), "no temporary folder may be left after an export");
    /* a failing export (a lone spatial VAE is no pipeline) writes nothing */
    snprintf(out_dir, sizeof out_dir, "%s/os", dir);
    EXPECT(vaec(out, sizeof out, "ckpt export %s --to opensora --out %s", cfg, out_dir) != 0 && strstr(out, "pipeline") &&
           access(out_dir, F_OK) != 0 && !tmp_sibling_left(dir, "os"), "a failed export must leave nothing:\n%s", out);
    /* a failure mid-write (a pipeline whose scaling factor Open-Sora cannot express) leaves an existing folder whole */
    mkdir(out_dir, 0755);
    snprintf(marker, sizeof marker, "%s/keep-me", out_dir);
    write_text(marker, "x");
    EXPECT(vaec(out, sizeof out, "ckpt export --config %s/tests/data/pipeline_tiny.ini --set spatial.scaling_factor=0.13025 "
                "%s/tests/golden/pipeline_tiny_model.safetensors --to opensora --out %s --force", src, src, out_dir) != 0 &&
           strstr(out, "scaling_factor") && access(marker, F_OK) == 0 && !tmp_sibling_left(dir, "os"),
           "a failed --force export must leave the old folder whole:\n%s", out);
    remove_tree(dir);
}

TEST(test_cli_export_round_trips_and_dtypes) {
    char dir[256], xin[400], vin[400], out[16384], args[1400];
    scratch(dir, sizeof dir, "exrt");
    snprintf(xin, sizeof xin, "%s/x.safetensors", dir);
    snprintf(vin, sizeof vin, "%s/v.safetensors", dir);
    spatial_input(xin);
    video_input(vin);
    const char *src = test_source_dir();
    snprintf(args, sizeof args, "--config %s/tests/data/spatial_a.ini --ckpt %s/tests/golden/spatial_a_model.safetensors", src, src);
    tensor *want = encode(args, xin, dir, "ini", out, sizeof out);
    const char *dtypes[3] = {"fp32", "fp16", "bf16"}, *stored[3] = {"F32", "F16", "BF16"};
    const double tol[3] = {0, 2e-3, 2e-2};
    for (int i = 0; i < 3; i++) {
        char folder[500], path[600];   /* path: the weights file */
        snprintf(folder, sizeof folder, "%s/d_%s", dir, dtypes[i]);
        EXPECT(vaec(out, sizeof out, "ckpt export --config %s/tests/data/spatial_a.ini %s/tests/golden/spatial_a_model.safetensors "
                    "--to diffusers --out %s --dtype %s", src, src, folder, dtypes[i]) == 0, "export %s:\n%s", dtypes[i], out);
        snprintf(path, sizeof path, "%s/diffusion_pytorch_model.safetensors", folder);
        st_file *f = st_open(path);
        const st_entry *e = f ? st_find(f, "encoder.conv_in.weight") : NULL;
        EXPECT(e && !strcmp(e->dtype, stored[i]), "--dtype %s stores %s, got %s", dtypes[i], stored[i], e ? e->dtype : "?");
        st_close(f);
        snprintf(args, sizeof args, "--ckpt %s", folder);
        tensor *got = encode(args, xin, dir, dtypes[i], out, sizeof out);   /* read back: converted to float32 */
        EXPECT(got && want && rel_error(got, want) <= tol[i], "%s export read back: %.3e (tolerance %.0e)\n%s", dtypes[i],
               got && want ? rel_error(got, want) : -1.0, tol[i], out);
        if (i > 0) EXPECT(got && want && rel_error(got, want) > 0, "%s weights must actually be rounded", dtypes[i]);
        if (i > 0) {   /* diffusers' variant name (save_pretrained(variant="fp16")) is found too */
            char variant[700];
            snprintf(variant, sizeof variant, "%s/diffusion_pytorch_model.%s.safetensors", folder, dtypes[i]);
            EXPECT(rename(path, variant) == 0, "rename to the variant name");
            tensor *again = encode(args, xin, dir, "variant", out, sizeof out);
            EXPECT(again && got && rel_error(again, got) == 0, "the .%s variant file must load the same\n%s", dtypes[i], out);
            tensor_release(again);
        }
        tensor_release(got);
    }
    /* the pipeline to an Open-Sora folder, with the scale and shift buffers as upstream registers them */
    char folder[500], path[700];
    snprintf(folder, sizeof folder, "%s/opensora", dir);
    EXPECT(vaec(out, sizeof out, "ckpt export --config %s/tests/data/pipeline_tiny.ini %s/tests/golden/pipeline_tiny_model.safetensors "
                "--to opensora --out %s", src, src, folder) == 0, "export opensora:\n%s", out);
    snprintf(path, sizeof path, "%s/model.safetensors", folder);
    st_file *f = st_open(path);
    tensor *scale = f ? st_load(f, "scale") : NULL, *shift = f ? st_load(f, "shift") : NULL;
    EXPECT(scale && shift && scale->ndim == 5 && scale->shape[1] == 4 && scale->numel == 4 &&
           tensor_f32(scale)[0] == 3.85f && tensor_f32(shift)[3] == 0.98f, "scale/shift buffers (1,4,1,1,1) in model.safetensors");
    tensor_release(scale), tensor_release(shift);
    st_close(f);
    snprintf(args, sizeof args, "--config %s/tests/data/pipeline_tiny.ini --ckpt %s/tests/golden/pipeline_tiny_model.safetensors", src, src);
    tensor *pw = encode(args, vin, dir, "pini", out, sizeof out);
    snprintf(args, sizeof args, "--ckpt %s", folder);
    tensor *pg = encode(args, vin, dir, "pfolder", out, sizeof out);
    EXPECT(pg && pw && rel_error(pg, pw) == 0, "exported Open-Sora folder read back: %.3e\n%s", pg && pw ? rel_error(pg, pw) : -1.0, out);
    /* config.json's scale edited by hand: the buffer in model.safetensors disagrees, named */
    char copy[400];
    snprintf(copy, sizeof copy, "%s/edited", dir);
    EXPECT(vaec(out, sizeof out, "ckpt export %s --to opensora --out %s", folder, copy) == 0, "export again:\n%s", out);
    snprintf(path, sizeof path, "%s/config.json", copy);
    edit_file(path, "3.85", "3.95");
    EXPECT(vaec(out, sizeof out, "encode --ckpt %s --input %s --output %s/z.safetensors", copy, vin, dir) != 0 &&
           strstr(out, "buffer 'scale'[0] is 3.85") && strstr(out, "3.95"), "a config.json scale that disagrees with the "
           "buffer:\n%s", out);
    /* and on, from the folder: its spatial half to diffusers */
    snprintf(path, sizeof path, "%s/spatial", dir);
    EXPECT(vaec(out, sizeof out, "ckpt export %s --to diffusers --out %s", folder, path) == 0 &&
           strstr(out, "the spatial VAE"), "export a pipeline folder's spatial VAE:\n%s", out);
    tensor_release(want), tensor_release(pw), tensor_release(pg);
    remove_tree(dir);
}

/* a vaec ckpt-N folder written by ckpt_save (with its config.json and an EMA whose weights differ) */
TEST(test_cli_vaec_checkpoint_folder_and_ema) {
    char dir[256], vin[400], out[16384], args[1400], ck[500];
    scratch(dir, sizeof dir, "vckpt");
    snprintf(vin, sizeof vin, "%s/v.safetensors", dir);
    video_input(vin);
    vae_pipeline p;
    tiny_pipeline_init(&p, 5, 0);
    tiny_pipeline_load_golden(&p);
    tensor *params[512];
    int n = 0;
    param_list *lists[2] = {&p.spatial.vae.params, &p.temporal.params};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < lists[l]->n; i++) params[n++] = lists[l]->items[i].t;
    adamw *opt = adamw_new(params, n, (adamw_config){0});
    ema *avg = ema_new(params, n, 0.9f);
    for (int i = 0; i < n; i++) {   /* EMA weights: the weights slightly moved */
        float *s = tensor_f32(avg->shadow[i]);
        for (int64_t k = 0; k < avg->shadow[i]->numel; k++) s[k] *= 0.95f;
    }
    json_value *cfg = pipeline_config_json(&p, NULL, DTYPE_F32);
    ckpt_parts parts = {{&p.spatial.vae.params, &p.temporal.params}, {"spatial_vae.module.", "temporal_vae."}, 2, opt, NULL,
                        avg, cfg};
    ckpt_state st = {.step = 7};
    EXPECT(ckpt_save(dir, &parts, &st, 0) == 0, "ckpt_save: %s", vaec_last_error());
    json_free(cfg);
    snprintf(ck, sizeof ck, "%s/ckpt-000000007", dir);
    const char *src = test_source_dir();
    snprintf(args, sizeof args, "--config %s/tests/data/pipeline_tiny.ini --ckpt %s/model.safetensors", src, ck);
    tensor *want = encode(args, vin, dir, "model", out, sizeof out);
    snprintf(args, sizeof args, "--config %s/tests/data/pipeline_tiny.ini --ckpt %s/ema.safetensors", src, ck);
    tensor *want_ema = encode(args, vin, dir, "ema", out, sizeof out);
    snprintf(args, sizeof args, "--ckpt %s", ck);
    tensor *got = encode(args, vin, dir, "fmodel", out, sizeof out);
    EXPECT(got && want && rel_error(got, want) == 0, "ckpt-N without --config: %.3e\n%s", got && want ? rel_error(got, want) : -1.0, out);
    snprintf(args, sizeof args, "--ckpt %s --ema", ck);
    tensor *got_ema = encode(args, vin, dir, "fema", out, sizeof out);
    EXPECT(got_ema && want_ema && rel_error(got_ema, want_ema) == 0 && rel_error(got_ema, got) > 1e-3,
           "ckpt-N --ema must read the EMA weights\n%s", out);
    EXPECT(vaec(out, sizeof out, "ckpt info %s", ck) == 0 && strstr(out, "vaec training checkpoint") && strstr(out, "step 7") &&
           strstr(out, "EMA weights: yes"), "ckpt info of ckpt-N:\n%s", out);
    /* --ema where there is no EMA */
    char folder[600];
    snprintf(folder, sizeof folder, "%s/vae", dir);
    write_diffusers_a(folder, "  \"layers_per_block\": 1,\n");
    EXPECT(vaec(out, sizeof out, "encode --ckpt %s --ema --input %s --output %s/z.safetensors", folder, vin, dir) != 0 &&
           strstr(out, "--ema") && strstr(out, "not a vaec training checkpoint"), "--ema on a diffusers folder:\n%s", out);
    tensor_release(want), tensor_release(want_ema), tensor_release(got), tensor_release(got_ema);
    ema_free(avg);
    adamw_free(opt);
    tiny_pipeline_free(&p);
    remove_tree(dir);
}

/* ---- with a Python that has torch and diffusers (VAEC_PYTHON) ---- */

/* x, z and x_rec in one file for the Python checks */
static void write_io(const char *io, const char *x, const char *z, const char *x_rec) {
    tensor *a = video_load(x, "x"), *b = video_load(z, "z"), *c = video_load(x_rec, "x");
    EXPECT(a && b && c, "outputs to compare: %s", vaec_last_error());
    if (a && b && c) {
        st_writer *w = st_writer_new();   /* video_save's layout: (B,C,T,H,W) as PyTorch has it */
        tensor *ta = channels_first_to_torch(a), *tb = channels_first_to_torch(b), *tc = channels_first_to_torch(c);
        st_writer_add(w, "x", ta, DTYPE_F32);
        st_writer_add(w, "z", tb, DTYPE_F32);
        st_writer_add(w, "x_rec", tc, DTYPE_F32);
        EXPECT(st_writer_save(w, io) == 0, "io: %s", vaec_last_error());
        st_writer_free(w);
        tensor_release(ta), tensor_release(tb), tensor_release(tc);
    }
    tensor_release(a), tensor_release(b), tensor_release(c);
}

/* one export round trip: vaec exports a golden model, encodes and reconstructs (or decodes) with the export, and
   a Python script builds the PyTorch model from the folder and compares */
typedef struct {
    const char *scratch, *folder;          /* scratch tag; the export folder's name inside it */
    const char *config, *model, *to;       /* tests/data config, tests/golden weights, ckpt export --to */
    bool video;                            /* a video input, decoded back (else an image, reconstructed) */
    const char *script, *flag, *what;      /* the check script, how it is told the folder, what is checked */
    const char *marker;                    /* the line of the script's output worth printing */
} export_check;

static void check_export_loads_in_pytorch(const export_check *c) {
    char dir[256], folder[400], xin[400], z[400], xr[400], io[400], out[16384], args[1200];
    scratch(dir, sizeof dir, c->scratch);
    snprintf(folder, sizeof folder, "%s/%s", dir, c->folder);
    snprintf(xin, sizeof xin, "%s/x.safetensors", dir);
    snprintf(z, sizeof z, "%s/z.safetensors", dir);
    snprintf(xr, sizeof xr, "%s/xr.safetensors", dir);
    snprintf(io, sizeof io, "%s/io.safetensors", dir);
    if (c->video) video_input(xin);
    else spatial_input(xin);
    const char *src = test_source_dir();
    EXPECT(vaec(out, sizeof out, "ckpt export --config %s/tests/data/%s %s/tests/golden/%s --to %s --out %s", src, c->config,
                src, c->model, c->to, folder) == 0, "export:\n%s", out);
    EXPECT(vaec(out, sizeof out, "encode --ckpt %s --input %s --output %s --mode mean", folder, xin, z) == 0, "encode:\n%s", out);
    if (c->video)
        EXPECT(vaec(out, sizeof out, "decode --ckpt %s --input %s --output %s --num-frames 9", folder, z, xr) == 0,
               "decode:\n%s", out);
    else
        EXPECT(vaec(out, sizeof out, "reconstruct --ckpt %s --input %s --output %s", folder, xin, xr) == 0, "reconstruct:\n%s",
               out);
    write_io(io, xin, z, xr);
    snprintf(args, sizeof args, "%s %s %s", c->flag, folder, io);
    int code = test_run_python(c->script, args, out, sizeof out);
    remove_tree(dir);
    if (code == 77 || code == 127) {
        char why[300];
        snprintf(why, sizeof why, "%s: no Python with torch and diffusers (set VAEC_PYTHON)", c->what);
        TEST_SKIP(why);
    }
    printf("    %s", strstr(out, c->marker) ? strstr(out, c->marker) : out);
    EXPECT(code == 0, "%s disagrees with vaec:\n%s", c->what, out);
}

TEST(test_cli_export_diffusers_loads_with_from_pretrained) {
    check_export_loads_in_pytorch(&(export_check){
        .scratch = "pydf", .folder = "vae", .config = "spatial_a.ini", .model = "spatial_a_model.safetensors",
        .to = "diffusers", .video = false, .script = "check_diffusers_load.py", .flag = "--outputs",
        .what = "diffusers export round trip (AutoencoderKL.from_pretrained of the export)",
        .marker = "AutoencoderKL.from_pretrained"});
}

TEST(test_cli_export_opensora_loads_in_pytorch_pipeline) {
    check_export_loads_in_pytorch(&(export_check){
        .scratch = "pyos", .folder = "OpenSora-VAE-tiny", .config = "pipeline_tiny.ini",
        .model = "pipeline_tiny_model.safetensors", .to = "opensora", .video = true, .script = "check_opensora_load.py",
        .flag = "--folder", .what = "Open-Sora export round trip (the PyTorch pipeline built from the export's config.json)",
        .marker = "pipeline built"});
}

TEST(test_cli_reads_diffusers_save_pretrained_folder) {
    char dir[256], folder[400], xin[400], want[400], z[400], xr[400], out[16384], args[1600];
    scratch(dir, sizeof dir, "pysp");
    snprintf(folder, sizeof folder, "%s/vae", dir);
    snprintf(xin, sizeof xin, "%s/x.safetensors", dir);
    snprintf(want, sizeof want, "%s/want.safetensors", dir);
    snprintf(z, sizeof z, "%s/z.safetensors", dir);
    snprintf(xr, sizeof xr, "%s/xr.safetensors", dir);
    spatial_input(xin);
    snprintf(args, sizeof args, "--save-pretrained %s %s %s", folder, xin, want);
    int code = test_run_python("check_diffusers_load.py", args, out, sizeof out);
    if (code == 77 || code == 127) {
        remove_tree(dir);
        TEST_SKIP("reading a save_pretrained folder: no Python with torch and diffusers (set VAEC_PYTHON)");
    }
    EXPECT(code == 0, "save_pretrained:\n%s", out);
    EXPECT(vaec(out, sizeof out, "encode --ckpt %s --input %s --output %s --mode mean", folder, xin, z) == 0, "encode:\n%s", out);
    EXPECT(!strstr(out, "ignored"), "every field diffusers writes is known:\n%s", out);
    EXPECT(vaec(out, sizeof out, "reconstruct --ckpt %s --input %s --output %s", folder, xin, xr) == 0, "reconstruct:\n%s", out);
    st_file *f = st_open(want);
    tensor *wz = f ? st_load(f, "z") : NULL, *wx = f ? st_load(f, "x_rec") : NULL;
    st_close(f);
    tensor *gz = video_load(z, "z"), *gx = video_load(xr, "x");
    tensor *tz = gz ? channels_first_to_torch(gz) : NULL, *tx = gx ? channels_first_to_torch(gx) : NULL;
    EXPECT(wz && wx && tz && tx, "outputs: %s", vaec_last_error());
    if (wz && wx && tz && tx) {
        double ez = rel_error(tz, wz), ex = rel_error(tx, wx);
        printf("    vaec from diffusers' save_pretrained folder, no --config: z relative error %.3e, x_rec %.3e\n", ez, ex);
        test_note_error("hf folder: save_pretrained read by vaec", ez > ex ? ez : ex);
        EXPECT(ez < 1e-5 && ex < 1e-5, "vaec disagrees with diffusers on its own folder: z %.3e, x_rec %.3e", ez, ex);
    }
    tensor_release(wz), tensor_release(wx), tensor_release(gz), tensor_release(gx), tensor_release(tz), tensor_release(tx);
    remove_tree(dir);
}

/* fine-tune from an Open-Sora folder named in the config (no [spatial]/[temporal] sections: its config.json
   describes them), spatial VAE unfrozen, then hand the spatial VAE back as a diffusers folder */
TEST(test_cli_train_from_folder_then_export) {
    char dir[256], folder[400], cfg[400], out[16384], text[2048];
    scratch(dir, sizeof dir, "train");
    snprintf(folder, sizeof folder, "%s/OpenSora-VAE-tiny", dir);
    snprintf(cfg, sizeof cfg, "%s/finetune.ini", dir);
    const char *src = test_source_dir();
    EXPECT(vaec(out, sizeof out, "ckpt export --config %s/tests/data/pipeline_tiny.ini %s/tests/golden/pipeline_tiny_model.safetensors "
                "--to opensora --out %s", src, src, folder) == 0, "export:\n%s", out);
    EXPECT(vaec(out, sizeof out, "data make --synthetic 2 --out %s/d.h5 --size 16 --num-frames 5", dir) == 0, "data:\n%s", out);
    snprintf(text, sizeof text,
             "[model]\nkind = pipeline\n[pipeline]\ncheckpoint = %s\nfreeze_vae_2d = false\nsample_posterior = false\n"
             "[train]\nuse_real_rec_loss = true\nlr = 1e-3\nbatch_size = 1\nnum_frames = 5\nimage_size = 16\nsteps = 2\n"
             "ckpt_every = 2\nlog_every = 1\nout_dir = %s/run\n[data]\npath = %s/d.h5\n", folder, dir, dir);
    write_text(cfg, text);
    char path0[600];   /* a field vaec does not know: listed once, though the folder is read twice (config, weights) */
    snprintf(path0, sizeof path0, "%s/config.json", folder);
    edit_file(path0, "\"cal_loss\"", "\"cal_losz\"");
    EXPECT(vaec(out, sizeof out, "train %s", cfg) == 0, "train from a folder without [spatial]/[temporal]:\n%s", out);
    EXPECT(count_of(out, "cal_losz") == 1, "the unknown field must be listed exactly once:\n%s", out);
    char ck[600], path[700], df[600];
    snprintf(ck, sizeof ck, "%s/run/ckpt-000000002", dir);
    snprintf(path, sizeof path, "%s/config.json", ck);
    EXPECT(access(path, F_OK) == 0, "a training checkpoint carries its config.json");
    snprintf(df, sizeof df, "%s/finetuned-vae", dir);
    EXPECT(vaec(out, sizeof out, "ckpt export %s --to diffusers --out %s", ck, df) == 0, "export ckpt-N to diffusers:\n%s", out);
    /* the exported weights are the fine-tuned ones: equal to the checkpoint's, moved from the start */
    snprintf(path, sizeof path, "%s/model.safetensors", ck);
    st_file *a = st_open(path), *b = NULL, *c = NULL;
    snprintf(path, sizeof path, "%s/diffusion_pytorch_model.safetensors", df);
    b = st_open(path);
    snprintf(path, sizeof path, "%s/model.safetensors", folder);
    c = st_open(path);
    EXPECT(a && b && c, "open: %s", vaec_last_error());
    if (a && b && c) {
        tensor *ta = st_load(a, "spatial_vae.module.decoder.conv_out.weight"), *tb = st_load(b, "decoder.conv_out.weight");
        tensor *tc = st_load(c, "spatial_vae.module.decoder.conv_out.weight");
        EXPECT(ta && tb && tc && rel_error(tb, ta) == 0 && rel_error(tc, ta) > 0,
               "the diffusers export holds the fine-tuned spatial weights");
        tensor_release(ta), tensor_release(tb), tensor_release(tc);
    }
    st_close(a), st_close(b), st_close(c);
    /* a config value that disagrees with the checkpoint folder's config.json */
    EXPECT(vaec(out, sizeof out, "train %s --set spatial.block_out_channels=32,32 --steps 1", cfg) != 0 &&
           strstr(out, "[pipeline] checkpoint") && strstr(out, "block_out_channels") && strstr(out, "16,16") &&
           strstr(out, "32,32"), "a disagreeing training config:\n%s", out);
    remove_tree(dir);
}
