/* precision.c: weights held in bf16 for training (the frozen ones) and inference (all), the log line (see precision.h). */
#include "train/precision.h"
#include <stdio.h>
#include "core/ops/cast.h"       // defines: tensor_cast_
#include "core/cpu/bf16_cpu.h"   // defines: bf16_cpu_native
#include "core/autocast.h"       // defines: autocast_set, precision_is_bf16

/* the rank >= 2 float32 weights of pl to bf16 (all of them, or the frozen ones only); the bytes freed */
static int64_t hold_bf16(param_list *pl, bool frozen_only) {
    int64_t saved = 0;
    mem_tag prev = mem_set_tag(MEM_PARAMS);
    for (int i = 0; i < pl->n; i++) {
        tensor *t = pl->items[i].t;
        if ((frozen_only && t->requires_grad) || t->ndim < 2 || t->dtype != DTYPE_F32) continue;
        tensor_cast_(t, DTYPE_BF16);
        saved += t->numel * (int64_t)(sizeof(float) - sizeof(uint16_t));
    }
    mem_set_tag(prev);
    return saved;
}

int64_t precision_hold_frozen_bf16(param_list *pl) { return hold_bf16(pl, true); }

void precision_inference(vaec_model *m, const char *precision) {
    if (!precision || !precision_is_bf16(precision, "--precision")) return;
    int64_t saved = hold_bf16(&m->p.spatial.vae.params, false) + hold_bf16(&m->p.temporal.params, false);
    autocast_set(true);
    printf("precision: bf16 (convolutions, matmuls and attention in bf16 with float32 sums; weights held in bf16: "
           "%.1f MiB saved)\n", (double)saved / 1048576.0);
    if (!bf16_cpu_native())   /* the codec commands run on the CPU */
        fprintf(stderr, "vaec: warning: this CPU has no oneDNN bf16 kernels (they need AVX-512): bf16 runs widened to "
                "float32 here, correct but slower than --precision fp32\n");
}

void precision_report(int64_t frozen_bytes_saved, device_t dev) {
    printf("precision: bf16 (convolutions, matmuls and attention in bf16 with float32 sums; float32 master weights, "
           "AdamW state and gradients; frozen weights held in bf16: %.1f MiB saved)\n",
           (double)frozen_bytes_saved / 1048576.0);
    if (dev == DEVICE_CPU && !bf16_cpu_native())
        fprintf(stderr, "vaec: warning: this CPU has no oneDNN bf16 kernels (they need AVX-512): bf16 runs widened to "
                "float32 here, correct but slower than precision = fp32\n");
}
