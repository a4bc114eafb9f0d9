/* test_exp_vec.c: the vector expf of softmax (core/cpu/exp_vec.h) against libm: relative error over the
 * softmax range, the lanes equal the scalar twin, and the edges (underflow to 0, overflow, NaN, -inf). */
#include <math.h>
#include "core/cpu/exp_vec.h"
#include "tests/harness/test.h"

TEST(test_exp_vec_matches_libm) {
    double worst = 0;
    int lanes_differ = 0;
    for (int i = 0; i < 200000; i++) {   /* [-88, 10]: softmax feeds x - max <= 0, a margin above */
        v8f x, e;
        for (int l = 0; l < 8; l++) x[l] = -88.0f + 98.0f * (float)(i * 8 + l) / (200000.0f * 8);
        exp8(&e, &x);
        for (int l = 0; l < 8; l++) {
            const double want = exp((double)x[l]);
            if (want > 1.2e-38) {   /* normal results: relative error */
                const double err = fabs(e[l] - want) / want;
                if (err > worst) worst = err;
            }
            lanes_differ += e[l] != exp1(x[l]);
        }
    }
    printf("  exp8: worst relative error %.3g over [-88, 10]\n", worst);
    EXPECT(worst < 3e-7, "exp8: relative error %.3g above 2.5 ulp", worst);
    EXPECT(lanes_differ == 0, "exp8 and exp1 differ on %d inputs", lanes_differ);
}

TEST(test_exp_vec_edges) {
    v8f x = {-INFINITY, -1000.0f, -87.5f, 0.0f, 89.0f, INFINITY, NAN, -NAN}, e;
    exp8(&e, &x);
    EXPECT(e[0] == 0.0f && e[1] == 0.0f && e[2] == 0.0f, "exp8 below the float range must be 0: %g %g %g", e[0], e[1],
           e[2]);
    EXPECT(e[3] == 1.0f, "exp8(0) = %g", e[3]);
    EXPECT(isinf(e[4]) && isinf(e[5]) && e[4] > 0, "exp8 above the float range must be +inf: %g %g", e[4], e[5]);
    EXPECT(isnan(e[6]) && isnan(e[7]), "exp8(NaN) must be NaN: %g %g", e[6], e[7]);
    for (int l = 0; l < 8; l++)
        EXPECT(exp1(x[l]) == e[l] || (isnan(e[l]) && isnan(exp1(x[l]))), "exp1(%g) = %g, exp8 lane %g", x[l],
               exp1(x[l]), e[l]);
}
