/* test_matmul.c: matmul (2-D, batched, all transposes) and linear: gradient checks, goldens, bad shapes. */
#include "core/ops/matmul.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

typedef struct { bool ta, tb; } mm_flags;
static tensor *mm_fn(void *c, tensor **in) { mm_flags *f = c; return op_matmul(in[0], in[1], f->ta, f->tb); }
static tensor *linear_fn(void *c, tensor **in) { return op_linear(in[0], in[1], in[2]); }
static tensor *linear_nobias_fn(void *c, tensor **in) { return op_linear(in[0], in[1], NULL); }

TEST(test_matmul_grad) {
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            mm_flags f = {ta, tb};
            tensor *a = gc_input(2, ta ? (int64_t[]){5, 3} : (int64_t[]){3, 5}, 1);
            tensor *b = gc_input(2, tb ? (int64_t[]){4, 5} : (int64_t[]){5, 4}, 2);
            gradcheck("matmul.grad", mm_fn, &f, 2, (tensor *[]){a, b}, NULL);
            tensor *ba = gc_input(3, ta ? (int64_t[]){2, 5, 3} : (int64_t[]){2, 3, 5}, 3);
            tensor *bb = gc_input(3, tb ? (int64_t[]){2, 4, 5} : (int64_t[]){2, 5, 4}, 4);
            gradcheck("matmul.grad_batched", mm_fn, &f, 2, (tensor *[]){ba, bb}, NULL);
            tensor_release(a);
            tensor_release(b);
            tensor_release(ba);
            tensor_release(bb);
        }
}

TEST(test_linear_grad) {
    tensor *x = gc_input(SHAPE(2, 3, 5), 5), *w = gc_input(SHAPE(4, 5), 6), *b = gc_input(SHAPE(4), 7);
    gradcheck("linear.grad", linear_fn, NULL, 3, (tensor *[]){x, w, b}, NULL);
    gradcheck("linear.grad_nobias", linear_nobias_fn, NULL, 2, (tensor *[]){x, w}, NULL);
    tensor_release(x);
    tensor_release(w);
    tensor_release(b);
}

TEST(test_matmul_linear_match_torch) {
    golden_file *g = golden_open("shape");
    const char *ab[] = {"a", "b"}, *gab[] = {"ga", "gb"};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            mm_flags f = {ta, tb};
            char p[32];
            snprintf(p, sizeof p, "mm%d%d", ta, tb);
            golden_check_op(g, p, mm_fn, &f, 2, ab, gab, "y", 1e-6);
            snprintf(p, sizeof p, "bmm%d%d", ta, tb);
            golden_check_op(g, p, mm_fn, &f, 2, ab, gab, "y", 1e-6);
        }
    golden_check_op(g, "linear", linear_fn, NULL, 3, (const char *[]){"x", "w", "b"}, (const char *[]){"gx", "gw", "gb"}, "y", 1e-6);
    golden_check_op(g, "linear_nobias", linear_nobias_fn, NULL, 2, (const char *[]){"x", "w"}, (const char *[]){"gx", "gw"}, "y", 1e-6);
    golden_close(g);
}

static void mm_mismatch(void *c) { op_matmul(tensor_zeros(SHAPE(2, 3)), tensor_zeros(SHAPE(4, 5)), false, false); }

TEST(test_matmul_mismatched_inner_dims_are_fatal) {
    EXPECT(test_expect_fatal(mm_mismatch, NULL, "(2,3) x (4,5)"), "matmul must name both shapes");
}
