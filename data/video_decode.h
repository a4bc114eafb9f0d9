/* video_decode.h: the frames of one video file as 8-bit RGB, through FFmpeg's libraries
 * (libavformat demuxes, libavcodec decodes, libswscale converts to RGB at the native size).
 *
 *   video_reader *v = video_open("clip.mp4");      // NULL + vaec_last_error() naming the file
 *   const uint8_t *rgb; int w, h, row_bytes;
 *   while ((rc = video_next(v, &rgb, &w, &h, &row_bytes)) == 1) { ... (h, w, 3) RGB, rows row_bytes apart,
 *                                                                    valid until the next call }
 *   // rc 0: the end; rc -1: a read or decode error, vaec_last_error() names the file and the frame
 *   video_close(v);
 *
 * The first video stream is read. YUV is converted with the matrix and range the stream declares
 * (BT.601 when it declares none), as the ffmpeg command line does. FFmpeg's own log is silenced:
 * every problem comes back as a vaec error. In a build without FFmpeg, video_open always fails
 * saying so (video_available() is false). */
#ifndef VAEC_DATA_VIDEO_DECODE_H
#define VAEC_DATA_VIDEO_DECODE_H
#include <stdbool.h>
#include <stdint.h>

typedef struct video_reader video_reader;

bool video_available(void);
video_reader *video_open(const char *path);
int video_next(video_reader *v, const uint8_t **rgb, int *w, int *h, int *row_bytes);
double video_fps(const video_reader *v);               /* average frame rate; 0 if the file does not say */
int64_t video_expected_frames(const video_reader *v);  /* from the container's count or duration; 0 if unknown */
void video_close(video_reader *v);
/* file name extensions taken as videos by `vaec data make --videos` (mp4, webm, mkv, mov, avi, ...) */
bool video_is_video_name(const char *name);

#endif
