/* test_safetensors.c: reading files written by the reference library, round trips, bad files. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/safetensors.h"
#include "tests/harness/test.h"

TEST(test_safetensors_reads_reference_writer_all_dtypes) {
    char *path = test_path("tests/golden/io.safetensors");
    st_file *f = st_open(path);
    EXPECT(f != NULL, "open: %s", vaec_last_error());
    free(path);
    if (!f) return;
    const float want[8] = {0.0f, 1.0f, -2.5f, 3.140625f, 65504.0f, -0.0001220703125f, 1e-7f, -7.0f};
    tensor *t32 = st_load(f, "f32"), *t16 = st_load(f, "f16"), *t64 = st_load(f, "f64");
    for (int i = 0; i < 8; i++) {
        EXPECT(tensor_f32(t32)[i] == want[i], "f32[%d] = %g", i, tensor_f32(t32)[i]);
        EXPECT(tensor_f32(t64)[i] == (float)want[i], "f64[%d] = %g", i, tensor_f32(t64)[i]);
    }
    /* f16: 1e-7 is a subnormal in half precision (nearest 1.19e-7) */
    for (int i = 0; i < 8; i++)
        EXPECT(fabsf(tensor_f32(t16)[i] - want[i]) <= 1e-3f * fabsf(want[i]) + 6e-8f, "f16[%d] = %g", i, tensor_f32(t16)[i]);
    tensor *bf = st_load(f, "bf16");
    EXPECT(tensor_f32(bf)[2] == -2.5f && tensor_f32(bf)[3] == 3.140625f, "bf16 values");
    EXPECT(fabsf(tensor_f32(bf)[4] - 1e30f) < 1e28f, "bf16 large value %g", tensor_f32(bf)[4]);
    tensor *i64 = st_load(f, "i64"), *u8 = st_load(f, "u8"), *sc = st_load(f, "scalar"), *em = st_load(f, "empty");
    EXPECT(i64->ndim == 2 && tensor_f32(i64)[0] == -3 && tensor_f32(i64)[5] == 2, "i64");
    EXPECT(tensor_f32(u8)[5] == 255, "u8");
    EXPECT(sc->ndim == 0 && sc->numel == 1 && tensor_f32(sc)[0] == 2.5f, "0-dim scalar");
    EXPECT(em->numel == 0 && em->ndim == 2, "empty tensor");
    EXPECT(st_meta(f, "note") && !strcmp(st_meta(f, "note"), "written by safetensors.torch"), "metadata");
    EXPECT(st_load(f, "missing") == NULL, "absent key should give NULL");
    tensor *list[] = {t32, t16, t64, bf, i64, u8, sc, em};
    for (int i = 0; i < 8; i++) tensor_release(list[i]);
    st_close(f);
}

static char *tmp_name(const char *stem) {
    char *p = malloc(256);
    snprintf(p, 256, "/tmp/vaec_test_%d_%s.safetensors", (int)getpid(), stem);
    return p;
}

TEST(test_safetensors_round_trip_f32_bf16_f16) {
    char *path = tmp_name("rt");
    tensor *a = tensor_from_data(SHAPE(2, 3), (float[]){1, -2, 3.5f, 0.1f, 1e-3f, 65000});
    st_writer *w = st_writer_new();
    st_writer_add(w, "a", a, DTYPE_F32);
    st_writer_add(w, "a_bf16", a, DTYPE_BF16);
    st_writer_add(w, "a_f16", a, DTYPE_F16);
    st_writer_meta(w, "step", "12");
    EXPECT(st_writer_save(w, path) == 0, "save: %s", vaec_last_error());
    st_writer_free(w);
    st_file *f = st_open(path);
    EXPECT(f != NULL, "reopen: %s", vaec_last_error());
    if (f) {
        tensor *b = st_load(f, "a"), *bb = st_load(f, "a_bf16"), *bh = st_load(f, "a_f16");
        EXPECT(memcmp(b->data, a->data, 24) == 0, "f32 round trip not exact");
        for (int i = 0; i < 6; i++) {
            float x = tensor_f32(a)[i];
            EXPECT(fabsf(tensor_f32(bb)[i] - x) <= fabsf(x) / 128, "bf16[%d] %g vs %g", i, tensor_f32(bb)[i], x);
            EXPECT(fabsf(tensor_f32(bh)[i] - x) <= fabsf(x) / 1024 + 1e-7f, "f16[%d] %g vs %g", i, tensor_f32(bh)[i], x);
        }
        EXPECT(st_meta(f, "step") && !strcmp(st_meta(f, "step"), "12"), "metadata round trip");
        tensor_release(b);
        tensor_release(bb);
        tensor_release(bh);
        st_close(f);
    }
    tensor_release(a);
    unlink(path);
    free(path);
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

/* a safetensors file with header `js` followed by `data_bytes` zero bytes */
static void write_with_header(const char *path, const char *js, size_t data_bytes) {
    unsigned char buf[512] = {0};
    size_t n = strlen(js);
    buf[0] = (unsigned char)n;
    memcpy(buf + 8, js, n);
    write_bytes(path, buf, 8 + n + data_bytes);
}

TEST(test_safetensors_rejects_bad_files_with_clear_errors) {
    char *path = tmp_name("bad");
    EXPECT(st_open("/nonexistent/x.safetensors") == NULL && strstr(vaec_last_error(), "/nonexistent/x.safetensors"),
           "missing file: %s", vaec_last_error());
    write_bytes(path, "abc", 3);
    EXPECT(st_open(path) == NULL && strstr(vaec_last_error(), "not a safetensors"), "tiny file: %s", vaec_last_error());
    /* header length larger than the file */
    unsigned char big[16] = {0xff, 0xff, 0, 0, 0, 0, 0, 0, '{', '}'};
    write_bytes(path, big, 10);
    EXPECT(st_open(path) == NULL && strstr(vaec_last_error(), "truncated"), "bad length: %s", vaec_last_error());
    /* malformed JSON */
    write_with_header(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,],\"data_offsets\":[0,8]}}", 8);
    EXPECT(st_open(path) == NULL && strstr(vaec_last_error(), "malformed"), "bad json: %s", vaec_last_error());
    /* data shorter than the header says (truncated download) */
    write_with_header(path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8);
    EXPECT(st_open(path) == NULL && strstr(vaec_last_error(), "'w'") && strstr(vaec_last_error(), "truncated"),
           "truncated data: %s", vaec_last_error());
    /* offsets that disagree with the shape */
    write_with_header(path, "{\"w\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16);
    EXPECT(st_open(path) == NULL && strstr(vaec_last_error(), "do not fit"), "shape mismatch: %s", vaec_last_error());
    unlink(path);
    free(path);
}

TEST(test_safetensors_failed_write_keeps_old_file) {
    /* a write into a folder that does not exist fails cleanly; an existing file is only ever replaced whole */
    char *path = tmp_name("keep");
    tensor *a = tensor_full(SHAPE(4), 1.0f);
    st_writer *w = st_writer_new();
    st_writer_add(w, "a", a, DTYPE_F32);
    EXPECT(st_writer_save(w, path) == 0, "first save");
    EXPECT(st_writer_save(w, "/nonexistent-dir/x.safetensors") != 0 && strstr(vaec_last_error(), "nonexistent-dir"),
           "error should name the path: %s", vaec_last_error());
    st_writer_free(w);
    st_file *f = st_open(path);
    EXPECT(f && st_find(f, "a"), "old file damaged");
    st_close(f);
    EXPECT(access("/tmp", W_OK) == 0, "tmp");
    tensor_release(a);
    unlink(path);
    free(path);
}
