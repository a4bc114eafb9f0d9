/* video_files.c: tiny test videos through the ffmpeg command line (see video_files.h). */
#include "tests/harness/video_files.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "data/resize.h"         // defines: resize_crop_square
#include "data/video_decode.h"   // defines: video_available
#include "tests/harness/test.h"  // defines: EXPECT, test_run_command

const char *const video_files_good[VIDEO_FILES_GOOD] = {"a.mp4", "b.mp4", "sub/c.mp4", "d.mkv"};
const int video_files_frames[VIDEO_FILES_GOOD] = {12, 12, 12, 10};

bool video_files_need_ffmpeg(void) {
    char out[256];
    if (test_run_command("ffmpeg -hide_banner -version", out, sizeof out) != 0) {
        EXPECT(false, "the ffmpeg command line is missing (the test encodes its videos with it): run "
                      "scripts/install-deps.sh");
        return false;
    }
    EXPECT(video_available(), "this build has no FFmpeg libraries: run scripts/install-deps.sh, then rebuild");
    return video_available();
}

bool video_files_ffmpeg(const char *args) {
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -hide_banner -v error -y %s", args);
    int rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc == 0, "%s failed:\n%s", cmd, out);
    return rc == 0;
}

bool video_files_make(char *dir, size_t n, const char *stem) {
    if (!video_files_need_ffmpeg()) return false;
    snprintf(dir, n, "/tmp/vaec_vf_%d_%s", (int)getpid(), stem);
    char cmd[1024], args[1024];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/sub && head -c 3000 /dev/urandom > %s/broken.mp4", dir, dir, dir);
    EXPECT(system(cmd) == 0, "%s", cmd);
    /* MPEG-4 part 2 is built into every FFmpeg; -g 4 gives the decoder some keyframes to find */
    static const struct { const char *src, *size, *name; int frames; } v[] = {
        {"testsrc", "40x32", "a.mp4", 12},       {"testsrc2", "32x48", "b.mp4", 12},
        {"smptebars", "40x40", "sub/c.mp4", 12}, {"rgbtestsrc", "48x32", "d.mkv", 10},
        {"testsrc", "40x32", "short.mp4", 3},
    };
    for (int i = 0; i < 5; i++) {
        snprintf(args, sizeof args, "-f lavfi -i %s=size=%s:rate=8 -frames:v %d -c:v mpeg4 -q:v 2 -g 4 %s/%s",
                 v[i].src, v[i].size, v[i].frames, dir, v[i].name);
        if (!video_files_ffmpeg(args)) return false;
    }
    snprintf(cmd, sizeof cmd, "%s/list.csv", dir);
    FILE *f = fopen(cmd, "w");
    fprintf(f, "path,text,num_frames\r\n"
               "a.mp4,\"a test pattern, with a comma\",12\r\n"
               "b.mp4,\"two\nlines and \"\"quotes\"\"\",12\r\n"
               "sub/c.mp4,bars,12\r\n"
               "%s/d.mkv,absolute,10\r\n"
               "short.mp4,too short,3\r\n"
               "broken.mp4,not a video,0\r\n", dir);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s/good.csv", dir);
    f = fopen(cmd, "w");
    fprintf(f, "text,path\na,a.mp4\nb,b.mp4\nc,sub/c.mp4\nd,%s/d.mkv\n", dir);
    fclose(f);
    return true;
}

void video_files_remove(const char *dir) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "%s", cmd);
}

uint8_t *video_files_reference(const char *video, int W, int H, int S, int *T) {
    char raw[512], args[1200];
    snprintf(raw, sizeof raw, "%s.rgb", video);
    snprintf(args, sizeof args, "-i %s -f rawvideo -pix_fmt rgb24 %s", video, raw);
    if (!video_files_ffmpeg(args)) return NULL;
    FILE *f = fopen(raw, "rb");
    EXPECT(f != NULL, "cannot read %s", raw);
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t frame = (size_t)W * H * 3;
    *T = (int)(bytes / (long)frame);
    uint8_t *src = malloc(frame), *out = malloc((size_t)*T * S * S * 3);
    for (int t = 0; t < *T; t++) {
        EXPECT(fread(src, 1, frame, f) == frame, "short read of %s", raw);
        resize_crop_square(src, W, H, W * 3, S, out + (size_t)t * S * S * 3);
    }
    free(src);
    fclose(f);
    unlink(raw);
    return out;
}
