/* test_model_folder.c: config.json -> model config (train/model_folder.c) and the Open-Sora config.json vaec
 * writes (train/model_export.c), at the library level: the released model's folder, the halves of a
 * pipeline folder, and the diffusers scaling factor inside a pipeline. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/json.h"               // defines: json_save, json_get
#include "core/safetensors.h"        // defines: st_writer
#include "tests/harness/test.h"
#include "train/checkpoint.h"        // defines: remove_tree
#include "train/model_export.h"      // defines: pipeline_config_json
#include "train/model_folder.h"      // defines: model_folder_open, model_folder_merge

static void scratch(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "/tmp/vaec_mf_%d_%s", (int)getpid(), name);
    remove_tree(buf);
    mkdir(buf, 0755);
}

/* a weights file with only Open-Sora's buffers: enough for model_folder_open, which reads no weights but them */
static void write_buffers(const char *dir, const float *shift, const float *scale) {
    char path[600];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    st_writer *w = st_writer_new();
    tensor *a = tensor_from_data(SHAPE(1, 4, 1, 1, 1), shift), *b = tensor_from_data(SHAPE(1, 4, 1, 1, 1), scale);
    st_writer_add(w, "shift", a, DTYPE_F32);
    st_writer_add(w, "scale", b, DTYPE_F32);
    EXPECT(st_writer_save(w, path) == 0, "write: %s", vaec_last_error());
    st_writer_free(w);
    tensor_release(a), tensor_release(b);
}

static const char *get(const config *c, const char *section, const char *key) {
    const char *v = config_str(c, section, key, NULL);
    return v ? v : "(absent)";
}

/* the released model (SDXL spatial, VAE_Temporal_SD) as vaec writes it: upstream's form, read back exactly */
TEST(test_model_folder_released_model_config_round_trip) {
    vae_pipeline p;
    memset(&p, 0, sizeof p);   /* configs only: no weights are built for a config.json */
    p.spatial.vae.cfg = autoencoder_kl_config_sdxl();
    p.spatial.micro_batch_size = 4;
    p.temporal.cfg = vae_temporal_config_default();
    p.micro_frame_size = 17;
    const float shift[4] = {-0.10f, 0.34f, 0.27f, 0.98f}, scale[4] = {3.85f, 2.32f, 2.33f, 3.06f};
    memcpy(p.shift, shift, sizeof shift);
    memcpy(p.scale, scale, sizeof scale);
    json_value *j = pipeline_config_json(&p, NULL, DTYPE_F32);
    const json_value *v2 = json_get(j, "vae_2d"), *vt = json_get(j, "vae_temporal");
    EXPECT(v2 && !strcmp(json_get(v2, "from_pretrained")->str, SDXL_VAE_HUB_ID) && !strcmp(json_get(v2, "subfolder")->str, "vae"),
           "vae_2d names the SDXL VAE on the hub, as the released folder does");
    EXPECT(vt && !strcmp(json_get(vt, "type")->str, "VAE_Temporal_SD") && vt->n == 2, "vae_temporal is VAE_Temporal_SD");
    EXPECT(!json_get(j, "vae_2d_config"), "nothing beyond upstream's fields for the released architecture");
    const char *fields[] = {"architectures", "cal_loss", "freeze_vae_2d", "from_pretrained", "micro_frame_size",
                            "model_type", "scale", "shift", "torch_dtype", "transformers_version", "vae_2d", "vae_temporal"};
    EXPECT(j->n == 12, "%d top-level fields, upstream's 12", j->n);
    for (int i = 0; i < 12; i++) EXPECT(json_get(j, fields[i]) != NULL, "field %s", fields[i]);
    char dir[256], path[600];
    scratch(dir, sizeof dir, "released");
    snprintf(path, sizeof path, "%s/config.json", dir);
    EXPECT(json_save(j, path) == 0, "save: %s", vaec_last_error());
    json_free(j);
    write_buffers(dir, shift, scale);
    model_folder f;
    EXPECT(model_folder_open(&f, dir, false) == 0, "open: %s", vaec_last_error());
    EXPECT(f.kind == FOLDER_OPENSORA && !f.ignored[0] && !f.spatial_unknown[0], "an Open-Sora folder, nothing ignored");
    EXPECT(!strcmp(get(&f.model, "spatial", "block_out_channels"), "128,256,512,512") &&
           !strcmp(get(&f.model, "spatial", "scaling_factor"), "0.18215") &&
           !strcmp(get(&f.model, "temporal", "filters"), "128") &&
           !strcmp(get(&f.model, "temporal", "temporal_downsample"), "0,1,1") &&
           !strcmp(get(&f.model, "pipeline", "micro_frame_size"), "17") &&
           !strcmp(get(&f.model, "pipeline", "shift"), "-0.1,0.34,0.27,0.98"),
           "the implied config: spatial %s, temporal %s", get(&f.model, "spatial", "block_out_channels"),
           get(&f.model, "temporal", "filters"));
    /* the stage configs agree with it */
    config c;
    char *stage = test_path("configs/opensora-stage3.ini");
    EXPECT(config_load(&c, stage) == 0, "load: %s", vaec_last_error());
    EXPECT(model_folder_merge(&f, &c, MF_ALL) == 0, "opensora-stage3.ini must agree with the released folder: %s",
           vaec_last_error());
    /* fewer frames per spatial VAE call to save memory is not a disagreement: the config's value is used */
    config_set(&c, "spatial.micro_batch_size=1");
    EXPECT(model_folder_merge(&f, &c, MF_ALL) == 0 && config_int(&c, "spatial", "micro_batch_size", 0) == 1,
           "micro_batch_size from the config: %s", vaec_last_error());
    config_set(&c, "pipeline.micro_frame_size=9");   /* this one changes the results: refused */
    EXPECT(model_folder_merge(&f, &c, MF_ALL) != 0 && strstr(vaec_last_error(), "micro_frame_size") &&
           strstr(vaec_last_error(), "17") && strstr(vaec_last_error(), "9"), "micro_frame_size: %s", vaec_last_error());
    config_free(&c);
    free(stage);
    model_folder_free(&f);
    remove_tree(dir);
}

TEST(test_model_folder_halves_and_the_pipeline_scaling_factor) {
    char dir[256], path[600];
    scratch(dir, sizeof dir, "halves");
    /* a diffusers folder with SDXL's own scaling factor */
    snprintf(path, sizeof path, "%s/config.json", dir);
    const char *text = "{\"_class_name\": \"AutoencoderKL\", \"block_out_channels\": [16, 16], \"layers_per_block\": 1,"
                       " \"latent_channels\": 4, \"norm_num_groups\": 8, \"scaling_factor\": 0.13025}";
    json_value *j = json_parse(text, strlen(text), NULL, 0);
    json_save(j, path);
    json_free(j);
    snprintf(path, sizeof path, "%s/diffusion_pytorch_model.safetensors", dir);
    FILE *w = fopen(path, "w");   /* present; not read by model_folder_open */
    if (w) fclose(w);
    model_folder f;
    EXPECT(model_folder_open(&f, dir, false) == 0, "open: %s", vaec_last_error());
    config c;
    config_init_empty(&c, "test.ini");
    config_set(&c, "model.kind=pipeline");
    config_set(&c, "spatial.scaling_factor=0.18215");
    /* as [spatial] checkpoint of a pipeline: the architecture merges, the diffusers factor does not apply */
    EXPECT(model_folder_merge(&f, &c, MF_SPATIAL) == 0, "merge into a pipeline: %s", vaec_last_error());
    EXPECT(!strcmp(get(&c, "spatial", "block_out_channels"), "16,16") && !strcmp(get(&c, "spatial", "scaling_factor"), "0.18215"),
           "pipeline spatial: %s, factor %s", get(&c, "spatial", "block_out_channels"), get(&c, "spatial", "scaling_factor"));
    /* as the model itself, a pipeline config and a diffusers folder disagree on the kind */
    EXPECT(model_folder_merge(&f, &c, MF_ALL) != 0 && strstr(vaec_last_error(), "[model] kind") &&
           strstr(vaec_last_error(), "spatial") && strstr(vaec_last_error(), "pipeline"), "kind: %s", vaec_last_error());
    /* as a lone spatial model, the folder's own factor is the model's, and a config saying otherwise is refused */
    config c2;
    config_init_empty(&c2, "test.ini");
    config_set(&c2, "spatial.scaling_factor=0.18215");
    EXPECT(model_folder_merge(&f, &c2, MF_ALL) != 0 && strstr(vaec_last_error(), "scaling_factor") &&
           strstr(vaec_last_error(), "0.13025") && strstr(vaec_last_error(), "0.18215"), "factor: %s", vaec_last_error());
    config_free(&c), config_free(&c2);
    model_folder_free(&f);
    remove_tree(dir);
}

TEST(test_model_folder_spatial_config_takes_half_a_pipeline_folder) {
    vae_pipeline p;
    memset(&p, 0, sizeof p);
    p.spatial.vae.cfg = autoencoder_kl_config_sdxl();
    p.spatial.vae.cfg.n_blocks = 2, p.spatial.vae.cfg.block_out_channels[1] = 256;   /* not SDXL: written inline */
    p.temporal.cfg = vae_temporal_config_default();
    p.temporal.cfg.filters = 8;
    const float shift[4] = {0, 0, 0, 0}, scale[4] = {1, 1, 1, 1};
    memcpy(p.shift, shift, sizeof shift);
    memcpy(p.scale, scale, sizeof scale);
    char dir[256], path[600];
    scratch(dir, sizeof dir, "half");
    json_value *j = pipeline_config_json(&p, NULL, DTYPE_BF16);
    EXPECT(json_get(j, "vae_2d_config") && json_get(json_get(j, "vae_2d"), "from_pretrained")->type == JSON_NULL &&
           !strcmp(json_get(json_get(j, "vae_temporal"), "type")->str, "VAE_Temporal") &&
           !strcmp(json_get(j, "torch_dtype")->str, "bfloat16"), "a custom architecture: inline spatial, VAE_Temporal");
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_save(j, path);
    json_free(j);
    write_buffers(dir, shift, scale);
    model_folder f;
    EXPECT(model_folder_open(&f, dir, false) == 0, "open: %s", vaec_last_error());
    config c;
    config_init_empty(&c, "test.ini");
    config_set(&c, "model.kind=spatial");
    EXPECT(model_folder_merge(&f, &c, MF_ALL) == 0, "a spatial config takes the spatial half: %s", vaec_last_error());
    EXPECT(!strcmp(get(&c, "spatial", "block_out_channels"), "128,256") && !config_str(&c, "temporal", "filters", NULL) &&
           !config_str(&c, "pipeline", "shift", NULL), "only [spatial] merged: %s", get(&c, "spatial", "block_out_channels"));
    config_free(&c);
    model_folder_free(&f);
    remove_tree(dir);
}

/* vae_2d names a hub repository vaec cannot see: the spatial architecture must then come from --config */
TEST(test_model_folder_unknown_spatial_source_needs_a_config) {
    char dir[256], path[600];
    scratch(dir, sizeof dir, "unknown2d");
    snprintf(path, sizeof path, "%s/config.json", dir);
    const char *text = "{\"architectures\": [\"VideoAutoencoderPipeline\"], \"micro_frame_size\": 17,"
                       " \"vae_2d\": {\"type\": \"VideoAutoencoderKL\", \"from_pretrained\": \"someone/other-vae\"},"
                       " \"vae_temporal\": {\"type\": \"VAE_Temporal_SD\", \"from_pretrained\": null}}";
    json_value *j = json_parse(text, strlen(text), NULL, 0);
    json_save(j, path);
    json_free(j);
    const float shift[4] = {0, 0, 0, 0}, scale[4] = {1, 1, 1, 1};   /* upstream's defaults: shift 0.0, scale 1.0 */
    write_buffers(dir, shift, scale);
    model_folder f;
    EXPECT(model_folder_open(&f, dir, false) == 0, "open: %s", vaec_last_error());
    EXPECT(!strcmp(get(&f.model, "pipeline", "scale"), "1.0,1.0,1.0,1.0"), "a missing scale is upstream's 1.0 per channel: %s",
           get(&f.model, "pipeline", "scale"));
    config c;
    config_init_empty(&c, "--set");
    EXPECT(model_folder_merge(&f, &c, MF_ALL) != 0 && strstr(vaec_last_error(), "someone/other-vae") &&
           strstr(vaec_last_error(), "--config"), "no spatial architecture: %s", vaec_last_error());
    config_free(&c);
    config_init_empty(&c, "my.ini");
    config_set(&c, "spatial.block_out_channels=128,256,512,512");
    EXPECT(model_folder_merge(&f, &c, MF_ALL) == 0 && !strcmp(get(&c, "temporal", "filters"), "128"),
           "with a [spatial] section from the config: %s", vaec_last_error());
    config_free(&c);
    model_folder_free(&f);
    remove_tree(dir);
}
