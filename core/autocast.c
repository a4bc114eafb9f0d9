/* autocast.c: the autocast switch and the operand cast (see autocast.h). */
#include "core/autocast.h"
#include <string.h>
#include "core/ops/cast.h"   // defines: op_cast

static _Thread_local bool enabled;

bool autocast_set(bool on) {
    bool prev = enabled;
    enabled = on;
    return prev;
}

bool autocast_on(void) { return enabled; }

tensor *autocast_operand(tensor *t) { return t && t->dtype == DTYPE_F32 ? op_cast(t, DTYPE_BF16) : t; }

tensor *autocast_f32(tensor *t) { return t && t->dtype == DTYPE_BF16 ? op_cast(t, DTYPE_F32) : t; }

bool precision_is_bf16(const char *value, const char *where) {
    CHECK_HINT(value && (!strcmp(value, "fp32") || !strcmp(value, "bf16")),
               "fp32 trains and runs in float32; bf16 computes convolutions, matmuls and attention in bf16 with "
               "float32 master weights (docs/training.md)",
               "%s = '%s': precision is fp32 or bf16", where, value ? value : "(none)");
    return !strcmp(value, "bf16");
}
