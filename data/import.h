/* import.h: filling a dataset (data/h5video.h) from footage: `vaec data make --frames | --videos | --synthetic`.
 *
 *   import_frames:    one sub-folder of DIR per clip, its PNG/JPEG files (name order) the frames
 *   import_videos:    one video file of DIR per clip (name order), all its frames or the first max_frames
 *   import_synthetic: n clips of moving shapes (data/synthetic.h)
 *
 * Every frame goes through resize_crop_square (data/resize.h): clips come out S x S. A progress bar
 * goes to stderr. A bad frame file is an error; a video that cannot be decoded (or ends well before
 * the length its container declares) is skipped with a warning naming it, or is an error when
 * `strict`. Errors return -1 with vaec_last_error() naming the clip and file; the caller aborts the
 * writer, so nothing is left behind. */
#ifndef VAEC_DATA_IMPORT_H
#define VAEC_DATA_IMPORT_H
#include <stdbool.h>
#include <stdint.h>
#include "data/h5video.h"   // defines: h5video_writer

typedef struct {
    int size;         /* S: frames become S x S */
    int max_frames;   /* keep the first T frames of each clip; 0 = all */
    bool strict;      /* videos: an undecodable one is an error instead of a skip */
} import_options;

typedef struct {
    int clips, skipped, ignored;   /* written; bad videos skipped; files in DIR that are not videos */
    long long frames;
} import_stats;

int import_frames(h5video_writer *w, const char *dir, const import_options *o, import_stats *s);
int import_videos(h5video_writer *w, const char *dir, const import_options *o, import_stats *s);
int import_synthetic(h5video_writer *w, int n, int S, int T, uint64_t seed, import_stats *s);

#endif
