/* conv_bwd_flip.c: which way a conv's input gradient runs (VAEC_CONV_BWD_DATA, conv_set_bwd_data_mode; see
 * conv_bwd_flip.h). The flipped problem and weights are conv_dnnl.c's. */
#include "core/cpu/conv_bwd_flip.h"
#include <stdlib.h>
#include <string.h>
#include "core/check.h"   // defines: CHECK_HINT

static conv_bwd_data_mode forced_mode = CONV_BWD_DATA_AUTO;

void conv_set_bwd_data_mode(conv_bwd_data_mode m) { forced_mode = m; }

conv_bwd_data_mode conv_bwd_data_mode_parse(const char *e) {
    CHECK_HINT(!e || !*e || !strcmp(e, "auto") || !strcmp(e, "direct") || !strcmp(e, "forward"),
               "use auto (the default: oneDNN's faster kernel per conv), direct (backward-data kernel) or forward "
               "(a forward conv on flipped weights, stride-1 convs)",
               "VAEC_CONV_BWD_DATA=%s is not a backward-data mode", e);
    return !e || !*e || !strcmp(e, "auto") ? CONV_BWD_DATA_AUTO
           : !strcmp(e, "direct")          ? CONV_BWD_DATA_DIRECT
                                           : CONV_BWD_DATA_FORWARD;
}

conv_bwd_data_mode conv_current_bwd_data_mode(void) {
    static int env = -1;   /* VAEC_CONV_BWD_DATA for a whole run */
    if (env < 0) env = (int)conv_bwd_data_mode_parse(getenv("VAEC_CONV_BWD_DATA"));
    return forced_mode != CONV_BWD_DATA_AUTO ? forced_mode : (conv_bwd_data_mode)env;
}
