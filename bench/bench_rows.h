/* bench_rows.h: every row vaec_bench can run (bench_ops.c: SGEMM and single ops; bench_models.c: models
 * and training steps). Each prints one JSON line; bench/torch_bench.py --row has the same names. */
#ifndef VAEC_BENCH_ROWS_H
#define VAEC_BENCH_ROWS_H
#include "bench/bench_util.h"   // defines: bench_opts

void bench_sgemm_2048(const bench_opts *o);
void bench_conv2d_128c_256_fwd(const bench_opts *o);
void bench_conv2d_128c_256_bwd(const bench_opts *o);
void bench_conv2d_512c_32_fwd(const bench_opts *o);
void bench_conv2d_512c_32_bwd(const bench_opts *o);
void bench_conv3d_128c_17x32_fwd(const bench_opts *o);
void bench_conv3d_128c_17x32_bwd(const bench_opts *o);
void bench_conv3d_512c_5x32_fwd(const bench_opts *o);
void bench_conv3d_512c_5x32_bwd(const bench_opts *o);
void bench_group_norm_128c_256_fwd(const bench_opts *o);
void bench_group_norm_128c_256_bwd(const bench_opts *o);
void bench_attention_1024x512_fwd(const bench_opts *o);
void bench_attention_1024x512_bwd(const bench_opts *o);
void bench_spatial_encode_256(const bench_opts *o);
void bench_spatial_decode_256(const bench_opts *o);
void bench_temporal_step_tiny(const bench_opts *o);
void bench_temporal_step_mid(const bench_opts *o);
void bench_temporal_step_mid_17x32(const bench_opts *o);
void bench_stage1_step_9x64(const bench_opts *o);
void bench_stage1_step_17x256(const bench_opts *o);
void bench_temporal_full_17x32x32(const bench_opts *o);

#endif
