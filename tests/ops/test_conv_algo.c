/* test_conv_algo.c: the cuDNN algorithm order of conv.cu as a pure function (core/ops/conv_algo.h), on the CPU:
 * the heuristic's order is kept, fp32 drops TF32 math and the FFT / non-fused Winograd families, a
 * deterministic candidate comes before any other, a non-deterministic one is the fallback with one warning
 * naming the shape, and no candidate at all is an error naming the pass and the shape. Algorithm numbers
 * are made up: the function never interprets them. */
#include <string.h>
#include "core/ops/conv_algo.h"   // defines: conv_algo_order, conv_algo_list
#include "tests/harness/test.h"

enum { GB = 1 << 30 };
static const conv_algo_policy FP32 = {.bf16 = false, .deterministic = true, .max_workspace = GB};

/* a plain entry: supported, deterministic, FMA math, exact family */
static conv_algo_perf ok(int algo, size_t ws) { return (conv_algo_perf){algo, true, true, false, false, 0.1f, ws, false}; }

static bool list_is(const conv_algo_list *l, int n, const int *want) {
    if (l->n != n) return false;
    for (int i = 0; i < n; i++)
        if (l->algo[i] != want[i]) return false;
    return true;
}

TEST(test_conv_algo_keeps_the_heuristic_order_and_drops_duplicates) {
    conv_algo_perf e[] = {ok(6, 100), ok(1, 0), ok(6, 100), ok(0, 0)};
    conv_algo_list l;
    conv_algo_order(e, 4, &FP32, &l);
    EXPECT(list_is(&l, 3, (int[]){6, 1, 0}), "order %d: %d %d %d", l.n, l.algo[0], l.algo[1], l.algo[2]);
    EXPECT(l.n_deterministic == 3 && l.workspace[0] == 100 && l.workspace[1] == 0, "workspace sizes travel with their algorithm");
}

TEST(test_conv_algo_fp32_drops_tf32_fft_and_nonfused_winograd) {
    conv_algo_perf e[] = {ok(7, 0), ok(4, 0), ok(5, 0), ok(2, 0), ok(1, 0)};
    e[0].approx = true;         /* non-fused Winograd */
    e[1].approx = true;         /* FFT */
    e[2].tensor_math = true;    /* TF32 */
    e[3].workspace = 2u * GB;   /* too much scratch */
    conv_algo_list l;
    conv_algo_order(e, 5, &FP32, &l);
    EXPECT(list_is(&l, 1, (int[]){1}), "fp32 keeps only the exact algorithm, got %d candidates (first %d)", l.n, l.algo[0]);
    EXPECT(l.n_approx == 2 && l.n_tensor_math == 1 && l.n_workspace == 1, "reasons counted: approx %d, tensor %d, workspace %d",
           l.n_approx, l.n_tensor_math, l.n_workspace);
    conv_algo_policy bf16 = FP32;
    bf16.bf16 = true;           /* bf16 takes tensor math and the approximate families; workspace still caps */
    conv_algo_order(e, 5, &bf16, &l);
    EXPECT(list_is(&l, 4, (int[]){7, 4, 5, 1}), "bf16 keeps %d candidates", l.n);
}

TEST(test_conv_algo_deterministic_first_then_the_fallback) {
    conv_algo_perf e[] = {ok(3, 0), ok(1, 0), ok(9, 0), ok(0, 0)};
    e[0].deterministic = false;   /* the heuristic's favourite is not deterministic */
    e[2].deterministic = false;
    conv_algo_list l;
    conv_algo_order(e, 4, &FP32, &l);
    EXPECT(list_is(&l, 4, (int[]){1, 0, 3, 9}), "deterministic ones first: %d %d %d %d", l.algo[0], l.algo[1], l.algo[2], l.algo[3]);
    EXPECT(l.n_deterministic == 2, "2 deterministic candidates, got %d", l.n_deterministic);
    conv_algo_policy any = FP32;
    any.deterministic = false;   /* without the wish the heuristic's order stands */
    conv_algo_order(e, 4, &any, &l);
    EXPECT(list_is(&l, 4, (int[]){3, 1, 9, 0}) && l.n_deterministic == 4, "no determinism wish: the heuristic's order");
}

TEST(test_conv_algo_last_resort_only_where_the_heuristic_did_not_refuse_it) {
    conv_algo_perf e[] = {ok(5, 0), ok(0, 0), ok(0, 0)};
    e[1].supported = false;       /* the heuristic lists algorithm 0 as NOT_SUPPORTED */
    e[2].last_resort = true;      /* ... and the caller appends it as its last resort */
    conv_algo_list l;
    conv_algo_order(e, 3, &FP32, &l);
    EXPECT(list_is(&l, 1, (int[]){5}), "a refused last resort must not come back: %d candidates", l.n);
    e[1].supported = true, e[1].algo = 8;   /* not refused: the last resort is the final candidate */
    conv_algo_order(e, 3, &FP32, &l);
    EXPECT(list_is(&l, 3, (int[]){5, 8, 0}), "the last resort goes last: %d candidates", l.n);
}

TEST(test_conv_algo_fallback_warns_once_naming_the_shape) {
    conv_geom g = {2, 5, 9, 11, 16, 32, 3, 3, 3, 1, 1, 1, {2, 0, 1, 1, 1, 1}, 5, 9, 11};
    char shape[192], note[768];
    conv_algo_shape(&g, false, shape, sizeof shape);
    EXPECT(strstr(shape, "fp32 x (2,5,9,11,16) w (32,3,3,3,16)") && strstr(shape, "pad (2,0,1,1,1,1)"), "shape: %s", shape);
    conv_algo_perf e[] = {ok(4, 0), ok(2, 0)};
    e[0].deterministic = e[1].deterministic = false;   /* only non-deterministic algorithms run this shape */
    conv_algo_list l;
    conv_algo_order(e, 2, &FP32, &l);
    EXPECT(l.n == 2 && l.n_deterministic == 0, "both are the fallback (%d, %d)", l.n, l.n_deterministic);
    EXPECT(conv_algo_note(&l, "backward-filter", shape, note, sizeof note), "a fallback must be announced");
    EXPECT(strstr(note, "backward-filter") && strstr(note, shape) && strstr(note, "non-deterministic algorithm 4"),
           "the warning names the pass, the shape and the algorithm: %s", note);
    EXPECT(conv_algo_take(&l, "backward-filter", shape) == 0 && l.warned, "the first take warns");
    EXPECT(!conv_algo_note(&l, "backward-filter", shape, note, sizeof note), "once only");
    EXPECT(conv_algo_advance(&l) && l.algo[l.cur] == 2 && !conv_algo_advance(&l), "a refusal moves on, then none is left");

    e[0].deterministic = true;   /* a deterministic candidate that refuses at run time: the fallback follows */
    conv_algo_order(e, 2, &FP32, &l);
    EXPECT(!conv_algo_note(&l, "forward", shape, note, sizeof note), "a deterministic candidate needs no warning");
    EXPECT(conv_algo_advance(&l) && conv_algo_note(&l, "forward", shape, note, sizeof note),
           "moving to a non-deterministic candidate at run time warns too");
}

static void require_none(void *ctx) {
    conv_geom g = {1, 17, 32, 32, 512, 512, 3, 3, 3, 1, 1, 1, {2, 0, 1, 1, 1, 1}, 17, 32, 32};
    char shape[192];
    conv_algo_shape(&g, false, shape, sizeof shape);
    conv_algo_perf e[] = {ok(4, 0), ok(2, 0), ok(1, 0)};
    e[0].supported = false, e[1].tensor_math = true, e[2].approx = true;
    conv_algo_list l;
    conv_algo_order(e, 3, &FP32, &l);
    conv_algo_require(&l, "backward-data", shape);
}

TEST(test_conv_algo_none_at_all_is_an_error_naming_pass_and_shape) {
    EXPECT(test_expect_fatal(require_none, NULL, "backward-data: cuDNN offers no usable algorithm for fp32 x (1,17,32,32,512)"),
           "an empty candidate list must stop with the pass and the shape");
    EXPECT(test_expect_fatal(require_none, NULL, "1 unsupported, 1 only with TF32/tensor math, 1 FFT or non-fused Winograd"),
           "the message says why each algorithm was passed over");
}
