/* test_lpips.c: the LPIPS network against a PyTorch reference (value and both input gradients, in one
 * segment and in checkpointed chunks), frozen parameters under upstream's keys, save/load, bad input. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "layers/lpips.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static lpips_net *shared_net(void) {   /* built once: 14.7M parameters */
    static lpips_net n;
    static bool built;
    if (!built) {
        lpips_init(&n);
        params_fill_deterministic(&n.params);
        built = true;
    }
    return &n;
}

TEST(test_lpips_matches_torch) {
    lpips_net *n = shared_net();
    golden_file *g = golden_open("lpips");
    const int chunks[2] = {4, 1};   /* both images in one segment; one checkpointed segment per image */
    for (int c = 0; c < 2; c++) {
        n->chunk_images = chunks[c];
        tensor *x = golden_leaf(g, "lpips.x"), *xh = golden_leaf(g, "lpips.xh"), *gy = golden_get(g, "lpips.gy");
        char label[64];
        tensor_scope_begin();
        tensor *d = lpips_forward(n, x, xh);
        snprintf(label, sizeof label, "lpips.fwd_chunk%d", chunks[c]);
        golden_check(label, d, g, "lpips.d", 1e-5);
        ag_backward_with_grad(d, gy);
        tensor_scope_end(NULL);
        snprintf(label, sizeof label, "lpips.gx_chunk%d", chunks[c]);
        golden_check(label, x->grad, g, "lpips.gx", 1e-4);
        snprintf(label, sizeof label, "lpips.gxh_chunk%d", chunks[c]);
        golden_check(label, xh->grad, g, "lpips.gxh", 1e-4);
        tensor_release(x);
        tensor_release(xh);
        tensor_release(gy);
    }
    n->chunk_images = 4;
    golden_close(g);
}

TEST(test_lpips_parameters_are_frozen_under_upstream_keys) {
    lpips_net *n = shared_net();
    EXPECT(params_count(&n->params) == 14714688 + 1472, "LPIPS has %lld parameters, want VGG16's 14714688 + 1472 lin",
           (long long)params_count(&n->params));
    const char *keys[] = {"net.slice1.0.weight", "net.slice2.7.bias", "net.slice3.14.weight", "net.slice5.28.bias",
                          "lin0.model.1.weight", "lin4.model.1.weight"};
    for (int i = 0; i < 6; i++) EXPECT(params_find(&n->params, keys[i]), "no parameter '%s'", keys[i]);
    for (int i = 0; i < n->params.n; i++)
        EXPECT(!n->params.items[i].t->requires_grad, "%s requires grad", n->params.items[i].name);
    tensor *x = gc_input_scaled(SHAPE(1, 16, 16, 3), 5, 0.5f), *xh = gc_input_scaled(SHAPE(1, 16, 16, 3), 6, 0.5f);
    tensor_scope_begin();
    ag_backward(op_sum_all(lpips_forward(n, x, xh)));
    tensor_scope_end(NULL);
    EXPECT(x->grad && xh->grad, "no gradient reached the images");
    for (int i = 0; i < n->params.n; i++) EXPECT(!n->params.items[i].t->grad, "%s got a gradient", n->params.items[i].name);
    tensor_release(x);
    tensor_release(xh);
}

TEST(test_lpips_of_an_image_with_itself_is_zero) {
    lpips_net *n = shared_net();
    tensor *x = gc_input_scaled(SHAPE(2, 16, 24, 3), 7, 0.5f);
    tensor_scope_begin();
    const float *d = tensor_f32(lpips_forward(n, x, x));
    EXPECT(d[0] == 0 && d[1] == 0, "LPIPS(x, x) = %g, %g", d[0], d[1]);
    tensor_scope_end(NULL);
    tensor_release(x);
}

TEST(test_lpips_save_then_load_gives_the_same_distance) {
    lpips_net *n = shared_net();
    char path[] = "/tmp/vaec_lpips_XXXXXX";
    int fd = mkstemp(path);
    EXPECT(fd >= 0, "mkstemp");
    close(fd);
    EXPECT(params_save(&n->params, path, "", NULL) == 0, "%s", vaec_last_error());
    lpips_net m;
    lpips_init(&m);
    EXPECT(lpips_load(&m, path) == 0, "%s", vaec_last_error());
    tensor *x = gc_input_scaled(SHAPE(1, 16, 16, 3), 8, 0.5f), *xh = gc_input_scaled(SHAPE(1, 16, 16, 3), 9, 0.5f);
    tensor_scope_begin();
    float a = tensor_f32(lpips_forward(n, x, xh))[0], b = tensor_f32(lpips_forward(&m, x, xh))[0];
    tensor_scope_end(NULL);
    EXPECT(a == b, "distance %g after a save/load round trip, %g before", b, a);
    lpips_free(&m);
    tensor_release(x);
    tensor_release(xh);
    remove(path);
}

TEST(test_lpips_load_of_a_missing_file_names_it) {
    EXPECT(lpips_load(shared_net(), "/nonexistent/lpips.safetensors") != 0 &&
               strstr(vaec_last_error(), "/nonexistent/lpips.safetensors"),
           "error: %s", vaec_last_error());
}

static void lpips_bad_channels(void *ctx) {
    static lpips_net unbuilt;   /* the shape check comes first: no need to build the network */
    tensor *x = tensor_zeros(SHAPE(1, 16, 16, 4));
    lpips_forward(&unbuilt, x, x);
}

TEST(test_lpips_bad_shape_is_fatal) {
    EXPECT(test_expect_fatal(lpips_bad_channels, NULL, "LPIPS: images (1,16,16,4) and (1,16,16,4) must be one (N,H,W,3)"),
           "a 4-channel image did not stop with a clear message");
}
