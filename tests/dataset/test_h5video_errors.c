/* test_h5video_errors.c: bad dataset files give errors naming the file and the clip, never a crash:
 * missing, not HDF5, truncated, corrupt chunk data, no /clips, clips of the wrong dtype, rank or
 * channel count, numbering gaps, and out-of-range reads. */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/check.h"
#include "data/h5video.h"
#include "tests/harness/test.h"

static void tmp(char *buf, size_t n, const char *stem) { snprintf(buf, n, "/tmp/vaec_h5e_%d_%s.h5", (int)getpid(), stem); }

static bool has(const char *needle) { return strstr(vaec_last_error(), needle) != NULL; }

/* opening fails, with an error that names the file and contains `what` */
static void expect_open_fails(const char *path, const char *what) {
    h5video *v = h5video_open(path);
    EXPECT(v == NULL, "%s opened", path);
    h5video_close(v);
    EXPECT(has(path) && has(what), "error for %s should name it and say '%s': %s", path, what, vaec_last_error());
}

TEST(test_h5video_error_missing_and_not_hdf5) {
    expect_open_fails("/nonexistent/clips.h5", "No such file");
    char path[256];
    tmp(path, sizeof path, "text");
    FILE *f = fopen(path, "w");
    fprintf(f, "this is not an HDF5 file\n");
    fclose(f);
    expect_open_fails(path, "not an HDF5 file");
    unlink(path);
    expect_open_fails("/tmp", "not a regular file");
}

/* a dataset file with one 16-frame clip; returns its size */
static long write_one(const char *path, bool compress) {
    h5video_writer *w = h5video_create(path, compress);
    uint8_t *px = xmalloc(16 * 32 * 32 * 3);
    for (int i = 0; i < 16 * 32 * 32 * 3; i++) px[i] = (uint8_t)(i * 7 + i / 13);
    EXPECT(w && h5video_append(w, px, 16, 32, 32, "x", 1.0) == 0 && h5video_finish(w) == 0, "%s", vaec_last_error());
    free(px);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

TEST(test_h5video_error_truncated_file) {
    char path[256], cut[256];
    tmp(path, sizeof path, "full");
    tmp(cut, sizeof cut, "cut");
    long n = write_one(path, false);
    long lens[] = {n / 2, n - 100, 1000, 8};
    for (int k = 0; k < 4; k++) {
        FILE *in = fopen(path, "rb"), *out = fopen(cut, "wb");
        char *buf = xmalloc((size_t)lens[k]);
        EXPECT(fread(buf, 1, (size_t)lens[k], in) == (size_t)lens[k], "read");
        fwrite(buf, 1, (size_t)lens[k], out);
        free(buf);
        fclose(in);
        fclose(out);
        h5video *v = h5video_open(cut);
        if (v) {   /* HDF5 may open it if the cut spares the metadata: then reading the clip must fail */
            uint8_t *px = xmalloc(16 * 32 * 32 * 3);
            EXPECT(h5video_read(v, 0, 0, 16, px) < 0, "read of a clip cut at %ld of %ld bytes succeeded", lens[k], n);
            free(px);
            h5video_close(v);
        }
        EXPECT(has(cut), "cut at %ld: error does not name the file: %s", lens[k], vaec_last_error());
    }
    unlink(path);
    unlink(cut);
}

TEST(test_h5video_error_corrupt_compressed_chunk) {
    char path[256];
    tmp(path, sizeof path, "corrupt");
    write_one(path, true);
    /* find the compressed chunk and overwrite a run in its middle */
    hid_t hf = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(hf, "clips/000000", H5P_DEFAULT);
    hsize_t coord[4] = {0, 0, 0, 0}, size = 0;
    haddr_t addr = 0;
    unsigned mask;
    EXPECT(H5Dget_chunk_info_by_coord(d, coord, &mask, &addr, &size) >= 0 && size > 100, "chunk info");
    H5Dclose(d);
    H5Fclose(hf);
    FILE *f = fopen(path, "r+b");
    fseek(f, (long)(addr + size / 3), SEEK_SET);
    for (hsize_t i = 0; i < size / 3; i++) fputc((int)(0x5a ^ i) & 255, f);
    fclose(f);
    h5video *v = h5video_open(path);
    EXPECT(v != NULL, "open: %s", vaec_last_error());
    if (v) {
        uint8_t *px = xmalloc(16 * 32 * 32 * 3);
        int rc = h5video_read(v, 0, 0, 16, px);
        EXPECT(rc < 0 && has(path) && has("clip 0"), "corrupt chunk: rc %d, error: %s", rc, vaec_last_error());
        free(px);
        h5video_close(v);
    }
    unlink(path);
}

/* an HDF5 file with /clips/<name> of the given type and shape (or no /clips when rank < 0) */
static void write_raw(const char *path, const char *name, hid_t type, int rank, const hsize_t *dims) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, rank < 0 ? "not_clips" : "clips", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (rank >= 0) {
        hid_t s = H5Screate_simple(rank, dims, NULL);
        hid_t d = H5Dcreate2(g, name, type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dclose(d);
        H5Sclose(s);
    }
    H5Gclose(g);
    H5Fclose(f);
}

TEST(test_h5video_error_missing_clips_group) {
    char path[256];
    tmp(path, sizeof path, "noclips");
    write_raw(path, NULL, 0, -1, NULL);
    expect_open_fails(path, "no /clips group");
    unlink(path);
}

/* the file opens; looking at clip 0 fails with an error naming file, clip and `what` */
static void expect_clip_fails(const char *path, const char *what) {
    h5video *v = h5video_open(path);
    EXPECT(v != NULL, "open %s: %s", path, vaec_last_error());
    if (!v) return;
    int64_t T, H, W;
    uint8_t buf[4096];
    EXPECT(h5video_clip_shape(v, 0, &T, &H, &W) < 0, "clip_shape accepted a bad clip in %s", path);
    EXPECT(has(path) && has("clip 0") && has(what), "shape error should name file, clip 0 and '%s': %s", what,
           vaec_last_error());
    EXPECT(h5video_read(v, 0, 0, 1, buf) < 0 && has("clip 0") && has(what), "read error: %s", vaec_last_error());
    h5video_close(v);
}

TEST(test_h5video_error_wrong_dtype_rank_channels) {
    char path[256];
    tmp(path, sizeof path, "bad");
    hsize_t d4[4] = {2, 4, 4, 3}, d3[3] = {4, 4, 3}, d4c[4] = {2, 4, 4, 4};
    write_raw(path, "000000", H5T_IEEE_F32LE, 4, d4);
    expect_clip_fails(path, "not uint8");
    write_raw(path, "000000", H5T_STD_I8LE, 4, d4);
    expect_clip_fails(path, "not uint8");
    write_raw(path, "000000", H5T_STD_U16LE, 4, d4);
    expect_clip_fails(path, "not uint8");
    write_raw(path, "000000", H5T_STD_U8LE, 3, d3);
    expect_clip_fails(path, "rank 3");
    write_raw(path, "000000", H5T_STD_U8LE, 4, d4c);
    expect_clip_fails(path, "(2,4,4,4)");
    write_raw(path, "000005", H5T_STD_U8LE, 4, d4);   /* one clip, not named 000000 */
    expect_clip_fails(path, "/clips/000000");
    unlink(path);
}

TEST(test_h5video_error_out_of_range_reads) {
    char path[256];
    tmp(path, sizeof path, "range");
    write_one(path, false);
    h5video *v = h5video_open(path);
    EXPECT(v != NULL, "open: %s", vaec_last_error());
    if (!v) return;
    uint8_t *px = xmalloc(16 * 32 * 32 * 3);
    EXPECT(h5video_read(v, 1, 0, 1, px) < 0 && has("clip 1 out of range"), "%s", vaec_last_error());
    EXPECT(h5video_read(v, -1, 0, 1, px) < 0 && has("clip -1 out of range"), "%s", vaec_last_error());
    EXPECT(h5video_clip_shape(v, 3, NULL, NULL, NULL) < 0 && has("clip 3 out of range"), "%s", vaec_last_error());
    EXPECT(h5video_read(v, 0, 10, 7, px) < 0 && has("frames [10, 17)") && has("16 frames"), "%s", vaec_last_error());
    EXPECT(h5video_read(v, 0, -1, 2, px) < 0 && has("clip 0"), "%s", vaec_last_error());
    EXPECT(h5video_read(v, 0, 15, 1, px) == 0, "last frame: %s", vaec_last_error());
    free(px);
    h5video_close(v);
    unlink(path);
}

TEST(test_h5video_error_writer_bad_input) {
    EXPECT(h5video_create("/nonexistent/dir/x.h5", false) == NULL && has("/nonexistent/dir/x.h5"), "%s",
           vaec_last_error());
    char path[256];
    tmp(path, sizeof path, "wbad");
    h5video_writer *w = h5video_create(path, false);
    uint8_t px[3] = {0};
    EXPECT(w && h5video_append(w, px, 0, 1, 1, "s", 1.0) < 0 && has("clip 0") && has(path), "%s", vaec_last_error());
    EXPECT(w && h5video_append(w, NULL, 1, 1, 1, "s", 1.0) < 0, "NULL frames accepted");
    h5video_abort(w);
    EXPECT(access(path, F_OK) != 0, "abort created %s", path);
}
