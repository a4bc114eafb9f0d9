/* schedule.h: learning-rate schedules, as a pure function of the step (so resuming needs no state).
 *   constant: lr;   warmup: lr * min(1, (step+1)/warmup_steps);
 *   cosine: warmup, then lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + cos(pi * progress))) over total_steps. */
#ifndef VAEC_OPTIM_SCHEDULE_H
#define VAEC_OPTIM_SCHEDULE_H

typedef enum { LR_CONSTANT = 0, LR_WARMUP, LR_COSINE } lr_kind;

typedef struct {
    lr_kind kind;
    double lr, min_ratio;
    long warmup_steps, total_steps;
} lr_schedule;

double lr_at(const lr_schedule *s, long step);   /* step counts from 0 */

#endif
