/* test_tensor.c: tensor creation, views, scopes, dtype conversion. */
#include "core/tensor.h"
#include "tests/harness/test.h"

TEST(test_tensor_views_share_storage) {
    tensor *a = tensor_zeros(SHAPE(2, 3, 4));
    tensor *v = tensor_view(a, SHAPE(6, 4));
    EXPECT(v->data == a->data && v->numel == 24, "view does not share storage");
    tensor_f32(v)[5] = 7.0f;
    EXPECT(tensor_f32(a)[5] == 7.0f, "write through view not visible");
    tensor_release(a);
    EXPECT(tensor_f32(v)[5] == 7.0f, "view lost its storage when the base died");
    tensor_release(v);
}
