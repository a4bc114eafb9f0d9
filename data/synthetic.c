/* synthetic.c: moving coloured shapes (see synthetic.h). */
#include "data/synthetic.h"
#include <math.h>
#include <string.h>

#define MAX_SHAPES 3

typedef struct {
    double x, y, vx, vy, r;   /* centre, velocity (pixels per frame), radius or half side */
    uint8_t col[3];
    int disk;
} shape;

static double uni(rng_state *r, double lo, double hi) { return lo + (hi - lo) * rng_next_double(r); }

/* a reflecting wall: keeps lo <= p <= hi, flipping the velocity at each bounce */
static void bounce(double *p, double *v, double lo, double hi) {
    if (hi <= lo) { *p = 0.5 * (lo + hi); return; }
    for (int k = 0; k < 8 && (*p < lo || *p > hi); k++) {
        if (*p < lo) *p = 2 * lo - *p;
        else *p = 2 * hi - *p;
        *v = -*v;
    }
    if (*p < lo) *p = lo;
    if (*p > hi) *p = hi;
}

void synthetic_clip(rng_state *r, int T, int H, int W, uint8_t *out) {
    uint8_t bg[3];
    for (int c = 0; c < 3; c++) bg[c] = (uint8_t)(rng_next_u32(r) % 64);   /* dark */
    int n = 1 + (int)(rng_next_u32(r) % MAX_SHAPES);
    double side = H < W ? H : W;
    shape s[MAX_SHAPES];
    for (int i = 0; i < n; i++) {
        s[i].r = uni(r, 0.08, 0.25) * side;
        s[i].x = uni(r, s[i].r, W - s[i].r);
        s[i].y = uni(r, s[i].r, H - s[i].r);
        double speed = uni(r, 0.01, 0.06) * side, ang = uni(r, 0, 2 * M_PI);
        s[i].vx = speed * cos(ang);
        s[i].vy = speed * sin(ang);
        for (int c = 0; c < 3; c++) s[i].col[c] = (uint8_t)(80 + rng_next_u32(r) % 176);   /* brighter than bg */
        s[i].disk = (int)(rng_next_u32(r) & 1);
    }
    for (int t = 0; t < T; t++) {
        uint8_t *f = out + (size_t)t * H * W * 3;
        for (int p = 0; p < H * W; p++) memcpy(f + 3 * p, bg, 3);
        for (int i = 0; i < n; i++) {   /* later shapes are drawn over earlier ones */
            const shape *q = &s[i];
            int y0 = (int)floor(q->y - q->r), y1 = (int)ceil(q->y + q->r), x0 = (int)floor(q->x - q->r),
                x1 = (int)ceil(q->x + q->r);
            for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < H; y++)
                for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < W; x++) {
                    double dx = x + 0.5 - q->x, dy = y + 0.5 - q->y;
                    int in = q->disk ? dx * dx + dy * dy <= q->r * q->r : fabs(dx) <= q->r && fabs(dy) <= q->r;
                    if (in) memcpy(f + ((size_t)y * W + x) * 3, q->col, 3);
                }
        }
        for (int i = 0; i < n; i++) {
            s[i].x += s[i].vx;
            s[i].y += s[i].vy;
            bounce(&s[i].x, &s[i].vx, s[i].r, W - s[i].r);
            bounce(&s[i].y, &s[i].vy, s[i].r, H - s[i].r);
        }
    }
}
