/* conv_choice.c: which CPU kernel runs a conv: oneDNN, vaec's Winograd or its im2col (the conv_algo
 * enum of core/ops/conv.h); VAEC_CONV_ALGO for a run, conv_set_algorithm from a test. Its own file so the kernels that
 * ask (conv_cpu.c, conv_winograd.c) depend on it and not on each other. */
#include <stdlib.h>
#include <string.h>
#include "core/check.h"           // defines: CHECK_HINT
#include "core/cpu/dnnl_util.h"   // defines: cpu_backend_use_dnnl, dnnl_conv_preferred
#include "core/ops/conv.h"        // defines: conv_algo, conv_geom

static conv_algo forced_algo = CONV_ALGO_AUTO;

void conv_set_algorithm(conv_algo a) { forced_algo = a; }

conv_algo conv_current_algorithm(void) {
    static int env = -1;   /* VAEC_CONV_ALGO for a whole run */
    if (env < 0) {
        const char *e = getenv("VAEC_CONV_ALGO");
        CHECK_HINT(!e || !*e || !strcmp(e, "auto") || !strcmp(e, "im2col") || !strcmp(e, "winograd") || !strcmp(e, "dnnl"),
                   "use auto (the default), dnnl, winograd or im2col", "VAEC_CONV_ALGO=%s is not a conv algorithm", e);
        env = !e || !*e || !strcmp(e, "auto") ? CONV_ALGO_AUTO
              : !strcmp(e, "im2col")          ? CONV_ALGO_IM2COL
              : !strcmp(e, "winograd")        ? CONV_ALGO_WINOGRAD
                                              : CONV_ALGO_DNNL;
    }
    return forced_algo != CONV_ALGO_AUTO ? forced_algo : (conv_algo)env;
}

bool conv_uses_dnnl(const conv_geom *g) {
    conv_algo a = conv_current_algorithm();
    return a == CONV_ALGO_DNNL || (a == CONV_ALGO_AUTO && cpu_backend_use_dnnl() && dnnl_conv_preferred());
}

const char *conv_backend_name(void) {
    conv_geom g;
    memset(&g, 0, sizeof g);
    return conv_uses_dnnl(&g) ? "oneDNN" : "vaec's Winograd/im2col";
}
