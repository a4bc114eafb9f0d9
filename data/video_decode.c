/* video_decode.c: FFmpeg demux + decode + RGB conversion (see video_decode.h). */
#include "data/video_decode.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/check.h"   // defines: vaec_set_error, xmalloc

bool video_is_video_name(const char *name) {
    static const char *const ext[] = {"mp4", "m4v", "mov", "webm", "mkv", "avi", "mpg", "mpeg", "ts", "m2ts",
                                      "flv", "wmv", "ogv", "3gp", "gif", NULL};
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return false;
    for (int i = 0; ext[i]; i++)
        if (!strcasecmp(dot + 1, ext[i])) return true;
    return false;
}

#ifdef VAEC_HAVE_FFMPEG
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>

struct video_reader {
    char *path;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    struct SwsContext *sws;
    int stream;
    bool flushing;
    int64_t decoded;
    uint8_t *rgb;
    size_t rgb_cap;
    double fps;
    int64_t expected;
};

bool video_available(void) { return true; }

static const char *av_msg(int err) {
    static _Thread_local char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(err, buf, sizeof buf);
    return buf;
}

void video_close(video_reader *v) {
    if (!v) return;
    sws_freeContext(v->sws);
    av_frame_free(&v->frame);
    av_packet_free(&v->pkt);
    avcodec_free_context(&v->dec);
    avformat_close_input(&v->fmt);
    av_free(v->rgb);
    free(v->path);
    free(v);
}

video_reader *video_open(const char *path) {
    av_log_set_level(AV_LOG_QUIET);
    video_reader *v = xcalloc(1, sizeof *v);
    v->path = strdup(path);
    int rc = avformat_open_input(&v->fmt, path, NULL, NULL);
    if (rc < 0) {
        vaec_set_error("%s: cannot open as a video (%s)", path, av_msg(rc));
        video_close(v);
        return NULL;
    }
    if ((rc = avformat_find_stream_info(v->fmt, NULL)) < 0) {
        vaec_set_error("%s: cannot read the stream information (%s)", path, av_msg(rc));
        video_close(v);
        return NULL;
    }
    const AVCodec *codec = NULL;
    v->stream = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (v->stream < 0 || !codec) {
        vaec_set_error("%s: %s", path, v->stream == AVERROR_DECODER_NOT_FOUND
                                           ? "no decoder for its video codec in this FFmpeg"
                                           : "no video stream in the file");
        video_close(v);
        return NULL;
    }
    AVStream *st = v->fmt->streams[v->stream];
    v->dec = avcodec_alloc_context3(codec);
    rc = avcodec_parameters_to_context(v->dec, st->codecpar);
    v->dec->thread_count = 0;   /* FFmpeg picks: decoding is most of an import's time */
    if (rc >= 0) rc = avcodec_open2(v->dec, codec, NULL);
    if (rc < 0) {
        vaec_set_error("%s: cannot open the %s decoder (%s)", path, codec->name, av_msg(rc));
        video_close(v);
        return NULL;
    }
    AVRational r = av_guess_frame_rate(v->fmt, st, NULL);
    v->fps = r.num > 0 && r.den > 0 ? av_q2d(r) : 0.0;
    if (st->nb_frames > 0) v->expected = st->nb_frames;
    else if (st->duration > 0 && v->fps > 0) v->expected = (int64_t)(st->duration * av_q2d(st->time_base) * v->fps + 0.5);
    else if (v->fmt->duration > 0 && v->fps > 0) v->expected = (int64_t)(v->fmt->duration * v->fps / AV_TIME_BASE + 0.5);
    v->pkt = av_packet_alloc();
    v->frame = av_frame_alloc();
    return v;
}

/* the decoded frame to packed RGB at its own size, in the matrix and range it declares */
static int convert(video_reader *v, const uint8_t **rgb, int *w, int *h, int *row_bytes) {
    AVFrame *f = v->frame;
    v->sws = sws_getCachedContext(v->sws, f->width, f->height, f->format, f->width, f->height, AV_PIX_FMT_RGB24,
                                  SWS_BILINEAR, NULL, NULL, NULL);
    if (!v->sws) return vaec_set_error("%s: frame %lld: cannot convert pixel format %s to RGB", v->path,
                                       (long long)v->decoded, av_get_pix_fmt_name(f->format));
    int cs = f->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : (int)f->colorspace;
    int *inv, *tab, src_range, dst_range, bright, contrast, sat;
    if (sws_getColorspaceDetails(v->sws, &inv, &src_range, &tab, &dst_range, &bright, &contrast, &sat) >= 0)
        sws_setColorspaceDetails(v->sws, sws_getCoefficients(cs), f->color_range == AVCOL_RANGE_JPEG ? 1 : src_range,
                                 tab, 1, bright, contrast, sat);
    /* swscale's SIMD converters write whole vectors: give every row padding and the buffer a spare row */
    int stride = ((f->width + 32) * 3 + 63) & ~63;
    size_t need = (size_t)stride * (f->height + 1) + 64;
    if (need > v->rgb_cap) {
        av_free(v->rgb);
        v->rgb = av_malloc(need);   /* aligned as the SIMD code likes */
        if (!v->rgb) FATAL("out of memory converting a %dx%d frame of %s", f->width, f->height, v->path);
        v->rgb_cap = need;
    }
    uint8_t *dst[4] = {v->rgb, NULL, NULL, NULL};
    int strides[4] = {stride, 0, 0, 0};
    sws_scale(v->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, strides);
    *rgb = v->rgb, *w = f->width, *h = f->height, *row_bytes = stride;
    v->decoded++;
    return 1;
}

int video_next(video_reader *v, const uint8_t **rgb, int *w, int *h, int *row_bytes) {
    for (;;) {
        int rc = avcodec_receive_frame(v->dec, v->frame);
        if (rc == 0) return convert(v, rgb, w, h, row_bytes);
        if (rc == AVERROR_EOF || (rc == AVERROR(EAGAIN) && v->flushing)) return 0;
        if (rc != AVERROR(EAGAIN))
            return vaec_set_error("%s: decoding frame %lld failed (%s)", v->path, (long long)v->decoded, av_msg(rc));
        /* the decoder wants input: the next packet of our stream, or the end-of-stream flush */
        rc = av_read_frame(v->fmt, v->pkt);
        if (rc == AVERROR_EOF) {
            avcodec_send_packet(v->dec, NULL);
            v->flushing = true;
            continue;
        }
        if (rc < 0)
            return vaec_set_error("%s: reading after frame %lld failed, truncated or corrupt? (%s)", v->path,
                                  (long long)v->decoded, av_msg(rc));
        if (v->pkt->stream_index == v->stream) rc = avcodec_send_packet(v->dec, v->pkt);
        av_packet_unref(v->pkt);
        if (rc < 0 && rc != AVERROR(EAGAIN))
            return vaec_set_error("%s: corrupt data after frame %lld (%s)", v->path, (long long)v->decoded, av_msg(rc));
    }
}

double video_fps(const video_reader *v) { return v->fps; }
int64_t video_expected_frames(const video_reader *v) { return v->expected; }

#else /* no FFmpeg in this build */

struct video_reader { int unused; };
bool video_available(void) { return false; }
video_reader *video_open(const char *path) {
    vaec_set_error("%s: this build of vaec has no FFmpeg to decode videos (run scripts/install-deps.sh, then rebuild)",
                   path);
    return NULL;
}
int video_next(video_reader *v, const uint8_t **rgb, int *w, int *h, int *row_bytes) { return -1; }
double video_fps(const video_reader *v) { return 0; }
int64_t video_expected_frames(const video_reader *v) { return 0; }
void video_close(video_reader *v) {}

#endif
