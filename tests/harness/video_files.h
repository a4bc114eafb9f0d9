/* video_files.h: small real videos made at test time with the ffmpeg command line, and a CSV list of them
 * (Open-Sora's format), for the tests of the CSV loader and `vaec data encode`.
 *
 *   char dir[128];
 *   if (!video_files_make(dir, sizeof dir, "csv")) return;   // a failure was recorded
 *   ... dir/list.csv lists them ...
 *   video_files_remove(dir);
 *
 * The folder holds a.mp4 (testsrc 40x32, 12 frames), b.mp4 (testsrc2 32x48, portrait, 12 frames),
 * sub/c.mp4 (smptebars 40x40, 12 frames), d.mkv (rgbtestsrc 48x32, 10 frames), short.mp4 (3 frames) and
 * broken.mp4 (random bytes). list.csv names them in that order, with a `text` column holding quoted commas and
 * a line break, relative paths except d.mkv (absolute); good.csv lists the four good ones only. */
#ifndef VAEC_TESTS_VIDEO_FILES_H
#define VAEC_TESTS_VIDEO_FILES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIDEO_FILES_GOOD 4
extern const char *const video_files_good[VIDEO_FILES_GOOD];   /* "a.mp4", "b.mp4", "sub/c.mp4", "d.mkv" */
extern const int video_files_frames[VIDEO_FILES_GOOD];         /* 12, 12, 12, 10 */

/* the ffmpeg command line and a build with FFmpeg; else records a failure saying what to install */
bool video_files_need_ffmpeg(void);
/* runs `ffmpeg -v error -y ARGS`; records a failure and returns false when it fails */
bool video_files_ffmpeg(const char *args);
bool video_files_make(char *dir, size_t n, const char *stem);
void video_files_remove(const char *dir);
/* the frames of a video as ffmpeg's command line decodes them to rgb24, each resized and centre-cropped to S
 * (data/resize.h): a new (T,S,S,3) buffer and its T in *T, or NULL after recording a failure */
uint8_t *video_files_reference(const char *video, int W, int H, int S, int *T);

#endif
