/* schedule.c: learning-rate schedules (see schedule.h). */
#include "optim/schedule.h"
#include <math.h>

double lr_at(const lr_schedule *s, long step) {
    double warm = s->warmup_steps > 0 && step < s->warmup_steps ? (double)(step + 1) / (double)s->warmup_steps : 1.0;
    if (s->kind == LR_CONSTANT) return s->lr;
    if (s->kind == LR_WARMUP || step < s->warmup_steps) return s->lr * warm;
    long span = s->total_steps - s->warmup_steps;
    double progress = span > 0 ? (double)(step - s->warmup_steps) / (double)span : 1.0;
    if (progress > 1) progress = 1;
    return s->lr * (s->min_ratio + (1.0 - s->min_ratio) * 0.5 * (1.0 + cos(M_PI * progress)));
}
