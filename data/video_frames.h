/* video_frames.h: a video file's frames as S x S RGB squares (each frame's short side resized to S, bilinear,
 * and the middle square kept: data/resize.h), decoded with FFmpeg (data/video_decode.h). The importer takes
 * whole videos; the training loader and `vaec data encode` take windows of videos listed in a CSV.
 *
 *   int64_t n = video_frames_read_all("a.mp4", 0, 256, &buf, &cap, &fps);       // all frames, or -1 + error
 *   int64_t T;  video_frames_count("a.mp4", &T);                                // for drawing windows
 *   video_frames_read_window("a.mp4", t0, 17, 2, 256, out);                     // frames t0, t0+2, ... t0+32
 *
 * Errors return -1 with vaec_last_error() naming the file: it cannot be opened or decoded, it has no frames,
 * it ends well before the frame count its container declares (under 90%: cut short), or it is shorter than
 * the window asked for. All of these are thread-safe: each call has its own decoder. */
#ifndef VAEC_DATA_VIDEO_FRAMES_H
#define VAEC_DATA_VIDEO_FRAMES_H
#include <stddef.h>
#include <stdint.h>

/* every frame (the first max_frames when > 0) into *buf, grown as needed (S*S*3 bytes a frame); the frame
 * count, or -1 + error. fps: the average frame rate (0 if the file does not say) */
int64_t video_frames_read_all(const char *path, int64_t max_frames, int S, uint8_t **buf, size_t *cap, double *fps);

/* the number of frames: the count or duration the container declares, else counted by decoding; 0 or -1 */
int video_frames_count(const char *path, int64_t *frames);

/* num_frames frames, `interval` apart, from frame t0, into out (num_frames, S, S, 3). When the video turns out
 * to end before the window does (a container that declared more frames than it holds), the window is the
 * last one that fits: frames [n - span, n) of the n it has. 0, or -1 + error (including "shorter than the
 * span of (num_frames - 1) * interval + 1 frames") */
int video_frames_read_window(const char *path, int64_t t0, int num_frames, int interval, int S, uint8_t *out);

#endif
