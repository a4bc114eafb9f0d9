/* video_encode.c: RGB frames -> YUV -> libavcodec -> libavformat, atomically (see video_encode.h). */
#include "data/video_encode.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "core/check.h"   // defines: vaec_set_error, xcalloc

/* the container of an output name: FFmpeg's muxer name, or NULL */
static const char *muxer_of(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return NULL;
    if (!strcasecmp(dot, ".mp4")) return "mp4";
    if (!strcasecmp(dot, ".mkv")) return "matroska";
    if (!strcasecmp(dot, ".webm")) return "webm";
    return NULL;
}

bool video_is_output_name(const char *name) { return muxer_of(name) != NULL; }

#ifdef VAEC_HAVE_FFMPEG
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

struct video_writer {
    char *path, *tmp;
    AVFormatContext *fmt;
    AVCodecContext *enc;
    AVStream *st;
    AVFrame *frame;
    AVPacket *pkt;
    struct SwsContext *sws;
    int w, h;
    int64_t frames;
    bool header_written;
};

static const char *av_msg(int err) {
    static _Thread_local char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(err, buf, sizeof buf);
    return buf;
}

static void writer_free(video_writer *v) {
    sws_freeContext(v->sws);
    av_frame_free(&v->frame);
    av_packet_free(&v->pkt);
    avcodec_free_context(&v->enc);
    if (v->fmt) {
        if (v->fmt->pb) avio_closep(&v->fmt->pb);
        avformat_free_context(v->fmt);
    }
    free(v->path);
    free(v->tmp);
    free(v);
}

void video_writer_abort(video_writer *v) {
    if (!v) return;
    char *tmp = v->tmp;
    v->tmp = NULL;
    writer_free(v);
    if (tmp) unlink(tmp);
    free(tmp);
}

static bool supports(const AVCodec *c, enum AVPixelFormat f) {
    if (!c->pix_fmts) return true;
    for (const enum AVPixelFormat *p = c->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
        if (*p == f) return true;
    return false;
}

/* the first encoder of the list this FFmpeg has that can take the pixel format */
static const AVCodec *pick_encoder(const char *muxer, enum AVPixelFormat pix) {
    static const char *const h264[] = {"libx264", "mpeg4", NULL}, *const mkv[] = {"libx264", "ffv1", "mpeg4", NULL},
                             *const webm[] = {"libvpx-vp9", "libvpx", NULL};
    const char *const *names = !strcmp(muxer, "webm") ? webm : !strcmp(muxer, "matroska") ? mkv : h264;
    for (int i = 0; names[i]; i++) {
        const AVCodec *c = avcodec_find_encoder_by_name(names[i]);
        if (c && supports(c, pix)) return c;
    }
    return NULL;
}

video_writer *video_writer_open(const char *path, int w, int h, double fps) {
    av_log_set_level(AV_LOG_QUIET);
    const char *muxer = muxer_of(path);
    if (!muxer) {
        vaec_set_error("'%s': vaec writes videos as .mp4, .mkv or .webm", path);
        return NULL;
    }
    if (w < 2 || h < 2) {
        vaec_set_error("'%s': a %dx%d frame is too small to encode as a video", path, w, h);
        return NULL;
    }
    video_writer *v = xcalloc(1, sizeof *v);
    v->path = strdup(path);
    size_t n = strlen(path) + 32;
    v->tmp = xmalloc(n);
    snprintf(v->tmp, n, "%s.tmp.%d", path, (int)getpid());
    v->w = w, v->h = h;
    enum AVPixelFormat pix = (w % 2 || h % 2) ? AV_PIX_FMT_YUV444P : AV_PIX_FMT_YUV420P;
    const AVCodec *codec = pick_encoder(muxer, pix);
    if (!codec) {
        vaec_set_error("'%s': this FFmpeg has no encoder for %s that takes %s frames of %dx%d", path, muxer,
                       av_get_pix_fmt_name(pix), w, h);
        goto fail;
    }
    int rc = avformat_alloc_output_context2(&v->fmt, NULL, muxer, v->tmp);
    if (rc < 0 || !v->fmt) {
        vaec_set_error("'%s': cannot set up the %s container (%s)", path, muxer, av_msg(rc));
        goto fail;
    }
    v->st = avformat_new_stream(v->fmt, NULL);
    v->enc = avcodec_alloc_context3(codec);
    AVRational rate = av_d2q(fps > 0 ? fps : 24.0, 100000);
    v->enc->width = w, v->enc->height = h, v->enc->pix_fmt = pix;
    v->enc->time_base = av_inv_q(rate);
    v->enc->framerate = rate;
    v->enc->gop_size = 12;
    v->enc->thread_count = 0;
    v->enc->colorspace = AVCOL_SPC_SMPTE170M;
    v->enc->color_primaries = AVCOL_PRI_SMPTE170M;
    v->enc->color_trc = AVCOL_TRC_SMPTE170M;
    v->enc->color_range = AVCOL_RANGE_MPEG;
    if (v->fmt->oformat->flags & AVFMT_GLOBALHEADER) v->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (!strcmp(codec->name, "libx264")) {
        av_opt_set(v->enc->priv_data, "crf", "17", 0);
        av_opt_set(v->enc->priv_data, "preset", "fast", 0);
    } else if (!strcmp(codec->name, "libvpx-vp9") || !strcmp(codec->name, "libvpx")) {
        v->enc->bit_rate = 0;
        av_opt_set(v->enc->priv_data, "crf", "20", 0);
        av_opt_set(v->enc->priv_data, "deadline", "good", 0);
        av_opt_set(v->enc->priv_data, "cpu-used", "4", 0);
    } else if (!strcmp(codec->name, "mpeg4")) {
        v->enc->flags |= AV_CODEC_FLAG_QSCALE;
        v->enc->global_quality = FF_QP2LAMBDA * 2;
    }
    if ((rc = avcodec_open2(v->enc, codec, NULL)) < 0) {
        vaec_set_error("'%s': cannot open the %s encoder for %dx%d at %.3f fps (%s)", path, codec->name, w, h,
                       av_q2d(rate), av_msg(rc));
        goto fail;
    }
    avcodec_parameters_from_context(v->st->codecpar, v->enc);
    v->st->time_base = v->enc->time_base;
    v->st->avg_frame_rate = rate;
    if ((rc = avio_open(&v->fmt->pb, v->tmp, AVIO_FLAG_WRITE)) < 0) {
        vaec_set_error("'%s': cannot create '%s' (%s): does its folder exist and is it writable?", path, v->tmp,
                       av_msg(rc));
        goto fail;
    }
    if ((rc = avformat_write_header(v->fmt, NULL)) < 0) {
        vaec_set_error("'%s': cannot write the %s header (%s)", path, muxer, av_msg(rc));
        goto fail;
    }
    v->header_written = true;
    v->frame = av_frame_alloc();
    v->frame->format = pix, v->frame->width = w, v->frame->height = h;
    if (av_frame_get_buffer(v->frame, 0) < 0) FATAL("out of memory for a %dx%d frame of %s", w, h, path);
    v->pkt = av_packet_alloc();
    v->sws = sws_getContext(w, h, AV_PIX_FMT_RGB24, w, h, pix, SWS_BILINEAR, NULL, NULL, NULL);
    if (!v->sws) {
        vaec_set_error("'%s': cannot convert RGB to %s", path, av_get_pix_fmt_name(pix));
        goto fail;
    }
    /* RGB (full range) -> BT.601 limited range, the matrix the stream is tagged with */
    sws_setColorspaceDetails(v->sws, sws_getCoefficients(SWS_CS_ITU601), 1, sws_getCoefficients(SWS_CS_ITU601), 0, 0,
                             1 << 16, 1 << 16);
    return v;
fail:
    video_writer_abort(v);
    return NULL;
}

/* sends a frame (or NULL: the end) and writes every packet the encoder has ready */
static int encode(video_writer *v, AVFrame *f) {
    int rc = avcodec_send_frame(v->enc, f);
    if (rc < 0) return vaec_set_error("'%s': encoding frame %lld failed (%s)", v->path, (long long)v->frames, av_msg(rc));
    for (;;) {
        rc = avcodec_receive_packet(v->enc, v->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return 0;
        if (rc < 0) return vaec_set_error("'%s': encoding failed (%s)", v->path, av_msg(rc));
        av_packet_rescale_ts(v->pkt, v->enc->time_base, v->st->time_base);
        v->pkt->stream_index = v->st->index;
        rc = av_interleaved_write_frame(v->fmt, v->pkt);
        if (rc < 0) return vaec_set_error("'%s': writing to '%s' failed, disk full? (%s)", v->path, v->tmp, av_msg(rc));
    }
}

int video_writer_add(video_writer *v, const uint8_t *rgb, int row_bytes) {
    if (av_frame_make_writable(v->frame) < 0) FATAL("out of memory writing %s", v->path);
    const uint8_t *src[4] = {rgb, NULL, NULL, NULL};
    int strides[4] = {row_bytes, 0, 0, 0};
    sws_scale(v->sws, src, strides, 0, v->h, v->frame->data, v->frame->linesize);
    v->frame->pts = v->frames++;
    return encode(v, v->frame);
}

int video_writer_finish(video_writer *v) {
    int rc = encode(v, NULL);
    if (rc == 0 && (rc = av_write_trailer(v->fmt)) < 0)
        rc = vaec_set_error("'%s': cannot finish the file (%s)", v->path, av_msg(rc));
    if (rc == 0 && (rc = avio_closep(&v->fmt->pb)) < 0) rc = vaec_set_error("'%s': closing failed (%s)", v->path, av_msg(rc));
    if (rc == 0 && rename(v->tmp, v->path) != 0)
        rc = vaec_set_error("'%s': cannot rename '%s' into place", v->path, v->tmp);
    if (rc != 0) {
        video_writer_abort(v);
        return -1;
    }
    writer_free(v);
    return 0;
}

const char *video_writer_codec(const video_writer *v) { return v->enc->codec->name; }
const char *video_writer_tmp_path(const video_writer *v) { return v->tmp; }

#else /* no FFmpeg in this build */

struct video_writer { int unused; };
video_writer *video_writer_open(const char *path, int w, int h, double fps) {
    vaec_set_error("%s: this build of vaec has no FFmpeg to write videos (run scripts/install-deps.sh, then rebuild)",
                   path);
    return NULL;
}
int video_writer_add(video_writer *v, const uint8_t *rgb, int row_bytes) { return -1; }
int video_writer_finish(video_writer *v) { return -1; }
void video_writer_abort(video_writer *v) {}
const char *video_writer_codec(const video_writer *v) { return ""; }
const char *video_writer_tmp_path(const video_writer *v) { return ""; }

#endif
