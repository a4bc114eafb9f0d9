/* precision.c: weights held in bf16 for training (the frozen ones) and inference (all), the log line (see precision.h). */
#include "train/precision.h"
#include <stdio.h>
#include "core/ops/cast.h"       // defines: tensor_cast_
#include "core/cpu/bf16_cpu.h"   // defines: bf16_cpu_describe, bf16_cpu_probe, bf16_cpu_any_native
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

/* which bf16 kernels the CPU runs (bf16_cpu.h: the probe runs here if it has not yet), and a warning where
   none is oneDNN's: bf16 then saves memory, not time, and fp32_setting is as fast */
static void report_cpu_kernels(const char *fp32_setting) {
    char what[768];
    bf16_cpu_describe(what, sizeof what);
    printf("bf16 kernels (CPU): %s\n", what);
    const bool probed = bf16_cpu_native_available() && bf16_cpu_mode() == BF16_KERNELS_AUTO;
    const bf16_probe_result *p = probed ? bf16_cpu_probe() : NULL;
    /* the 1-minute load includes this process's own setup (about 1): more than that beside the probe's
       threads means other work shared the cores and may have decided the race */
    if (p && p->load1 > p->threads + 0.5)
        fprintf(stderr, "vaec: warning: the bf16 kernel probe ran at load %.1f on %d threads: other work may have "
                "timed it rather than the kernels; set VAEC_BF16_KERNELS=native or widened to pin the choice\n",
                p->load1, p->threads);
    if (bf16_cpu_any_native()) return;
    if (!bf16_cpu_native_available())
        fprintf(stderr, "vaec: warning: this CPU has no fast oneDNN bf16 kernels (they need AVX-512): bf16 runs widened "
                "to float32 kernels, saving memory, not time (%s is as fast)\n", fp32_setting);
    else if (p)
        fprintf(stderr, "vaec: warning: oneDNN's bf16 kernels measured slower than float32 here (conv fwd %.2f ms against "
                "%.2f widened; every class on the 'bf16 kernels' line): bf16 runs widened to float32 kernels, saving "
                "memory, not time (%s is as fast)\n", p->native_ms[BF16_CONV_FWD], p->widened_ms[BF16_CONV_FWD],
                fp32_setting);
}

void precision_inference(vaec_model *m, const char *precision) {
    if (!precision || !precision_is_bf16(precision, "--precision")) return;
    int64_t saved = hold_bf16(&m->p.spatial.vae.params, false) + hold_bf16(&m->p.temporal.params, false);
    autocast_set(true);
    printf("precision: bf16 (convolutions, matmuls and attention in bf16 with float32 sums; weights held in bf16: "
           "%.1f MiB saved)\n", (double)saved / 1048576.0);
    report_cpu_kernels("--precision fp32");   /* the codec commands run on the CPU */
}

void precision_report(int64_t frozen_bytes_saved, device_t dev) {
    printf("precision: bf16 (convolutions, matmuls and attention in bf16 with float32 sums; float32 master weights, "
           "AdamW state and gradients; frozen weights held in bf16: %.1f MiB saved)\n",
           (double)frozen_bytes_saved / 1048576.0);
    if (dev == DEVICE_CPU) report_cpu_kernels("precision = fp32");
}
