/* synthetic.c: moving-shape clips (see synthetic.h). */
#include "data/synthetic.h"
#include <math.h>

static float uniform(rng_state *r, float lo, float hi) { return lo + (hi - lo) * (float)rng_next_double(r); }

void synthetic_clip(rng_state *r, int T, int H, int W, uint8_t *out) {
    float bg[3];
    for (int c = 0; c < 3; c++) bg[c] = uniform(r, 0, 80);
    for (int64_t i = 0; i < (int64_t)T * H * W; i++) for (int c = 0; c < 3; c++) out[i * 3 + c] = (uint8_t)bg[c];
    int nshapes = 1 + (int)(rng_next_u32(r) % 3);
    float scale = (float)(H < W ? H : W);
    for (int s = 0; s < nshapes; s++) {
        float col[3], rad = uniform(r, 0.08f, 0.22f) * scale;
        for (int c = 0; c < 3; c++) col[c] = uniform(r, 90, 255);
        float px = uniform(r, rad, (float)W - rad), py = uniform(r, rad, (float)H - rad);
        float vx = uniform(r, -0.06f, 0.06f) * scale, vy = uniform(r, -0.06f, 0.06f) * scale;
        int disk = (int)(rng_next_u32(r) & 1);
        for (int t = 0; t < T; t++) {
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    float dx = (float)x + 0.5f - px, dy = (float)y + 0.5f - py;
                    int in = disk ? dx * dx + dy * dy <= rad * rad : fabsf(dx) <= rad && fabsf(dy) <= rad;
                    if (in) for (int c = 0; c < 3; c++) out[(((int64_t)t * H + y) * W + x) * 3 + c] = (uint8_t)col[c];
                }
            px += vx;
            py += vy;
            if (px < rad || px > (float)W - rad) { vx = -vx; px += 2 * vx; }
            if (py < rad || py > (float)H - rad) { vy = -vy; py += 2 * vy; }
        }
    }
}
