/* video_encode.h: writing 8-bit RGB frames as a video file through FFmpeg's libraries (libavcodec encodes,
 * libavformat muxes, libswscale converts RGB to YUV), the output half of video_decode.h.
 *
 *   video_writer *v = video_writer_open("rec.mp4", w, h, 24.0);   // NULL + vaec_last_error() naming the file
 *   video_writer_add(v, rgb, row_bytes);                          // one (h, w, 3) frame; 0 or -1 + error
 *   video_writer_finish(v);                                       // 0 or -1 + error; frees v
 *   (or video_writer_abort(v): removes what was written; frees v)
 *
 * The container follows the name: .mp4 (MP4), .mkv (Matroska), .webm (WebM). The codec is the best this
 * FFmpeg has: H.264 (libx264, CRF 17) for .mp4 and .mkv, else MPEG-4 part 2; VP9 (libvpx-vp9) for .webm,
 * else VP8; video_writer_codec() names the one chosen. Pixels are YUV 4:2:0, BT.601 limited range, tagged
 * so (4:4:4 when a side is odd, which 4:2:0 cannot hold). Frames are written to PATH.tmp.<pid> and renamed
 * over PATH by video_writer_finish only: a failed or interrupted write leaves nothing at PATH. */
#ifndef VAEC_DATA_VIDEO_ENCODE_H
#define VAEC_DATA_VIDEO_ENCODE_H
#include <stdbool.h>
#include <stdint.h>

typedef struct video_writer video_writer;

/* fps <= 0 is taken as 24 */
video_writer *video_writer_open(const char *path, int w, int h, double fps);
int video_writer_add(video_writer *v, const uint8_t *rgb, int row_bytes);
int video_writer_finish(video_writer *v);
void video_writer_abort(video_writer *v);
const char *video_writer_codec(const video_writer *v);   /* "libx264", "mpeg4", "libvpx-vp9", ... */
const char *video_writer_tmp_path(const video_writer *v);   /* for a signal handler that must remove it */
/* names vaec writes videos to: .mp4, .mkv, .webm */
bool video_is_output_name(const char *name);

#endif
