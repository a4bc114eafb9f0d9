/* conv_algo.h: which cuDNN convolution algorithms a pass may use, in which order (plain C, no CUDA types).
 *
 * conv.cu turns cuDNN's heuristic answer for one pass of one shape (cudnnGet*Algorithm_v7: algorithm,
 * status, determinism, math type, estimated time, workspace) into an array of conv_algo_perf, and
 * conv_algo_order() makes the candidate list from it:
 *   - the heuristic's order is kept (it is cuDNN's preference) and an algorithm appears at most once; conv.cu
 *     appends a last resort (implicit GEMM, ALGO_1) marked last_resort, which is passed over when the
 *     heuristic itself reported that algorithm unsupported;
 *   - fp32 data takes no tensor-op (TF32) math and none of the approximate families (FFT, FFT tiling,
 *     non-fused Winograd: their fp32 error is near 1e-5, the CPU twins check 1e-5); bf16 takes anything;
 *   - workspace above max_workspace is passed over;
 *   - with `deterministic` set, the deterministic algorithms come first (list[0 .. n_deterministic)) and the
 *     others follow as a fallback: when none of the first kind is supported, or each one refuses the shape
 *     at run time, the conv still runs, and conv_algo_take() warns once, naming the pass and the shape.
 * An empty list is an error: conv_algo_require() stops with a message naming the pass, the shape and why
 * each algorithm was passed over.
 *
 *   conv_algo_list l;
 *   conv_algo_order(perf, n, &(conv_algo_policy){.bf16 = false, .deterministic = true, .max_workspace = 1 << 30}, &l);
 *   conv_algo_require(&l, "backward-data", shape);
 *   int algo = l.algo[conv_algo_take(&l, "backward-data", shape)];
 *   ... cuDNN refuses at run time: if (conv_algo_advance(&l)) retry, else report the error ... */
#ifndef VAEC_OPS_CONV_ALGO_H
#define VAEC_OPS_CONV_ALGO_H
#include <stdbool.h>
#include <stddef.h>
#include "core/ops/conv.h"   // defines: conv_geom

enum { CONV_ALGO_MAX = 16 };

typedef struct {
    int algo;             /* cuDNN's enum value for the pass */
    bool supported;       /* status CUDNN_STATUS_SUCCESS and the workspace size could be asked */
    bool deterministic;   /* CUDNN_DETERMINISTIC */
    bool tensor_math;     /* a math type other than FMA / DEFAULT: fp32 inputs rounded (TF32) */
    bool approx;          /* FFT, FFT tiling or non-fused Winograd */
    float time_ms;        /* the heuristic's estimate (shown in messages; the order is the heuristic's) */
    size_t workspace;     /* bytes */
    bool last_resort;     /* appended by the caller, not listed by the heuristic */
} conv_algo_perf;

typedef struct {
    bool bf16;            /* bf16 data: tensor math and approximate families allowed */
    bool deterministic;   /* deterministic algorithms first, the others only as a fallback */
    size_t max_workspace;
} conv_algo_policy;

typedef struct {
    int n, n_deterministic;          /* algo[0 .. n_deterministic) keep the policy; the rest are the fallback */
    int algo[CONV_ALGO_MAX];
    size_t workspace[CONV_ALGO_MAX];
    int cur;                         /* the candidate in use */
    bool warned;                     /* the fallback warning was printed */
    /* why the others were passed over: unsupported, tensor math, approximate family, workspace */
    int n_unsupported, n_tensor_math, n_approx, n_workspace;
} conv_algo_list;

void conv_algo_order(const conv_algo_perf *perf, int n, const conv_algo_policy *pol, conv_algo_list *out);
/* "fp32 x (B,T,H,W,Cin) w (Cout,kt,kh,kw,Cin) stride (t,h,w) pad (..)": the shape in messages */
void conv_algo_shape(const conv_geom *g, bool bf16, char *buf, size_t n);
/* fatal when the list is empty: names the pass, the shape and the reasons counted above */
void conv_algo_require(const conv_algo_list *l, const char *pass, const char *shape);
/* the warning conv_algo_take prints when the candidate in use is a non-deterministic fallback and none was
 * printed yet; returns false (buf untouched) when there is nothing to say */
bool conv_algo_note(const conv_algo_list *l, const char *pass, const char *shape, char *buf, size_t n);
/* the index of the candidate to run now; prints conv_algo_note's warning to stderr once */
int conv_algo_take(conv_algo_list *l, const char *pass, const char *shape);
/* after a run-time refusal: moves to the next candidate; false when there is none */
bool conv_algo_advance(conv_algo_list *l);

#endif
