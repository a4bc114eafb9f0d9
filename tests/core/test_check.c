/* test_check.c: the one error path prints the message, the place and the hint, and exits non-zero. */
#include "core/check.h"
#include "core/tensor.h"
#include "tests/harness/test.h"

static void failing_check(void *ctx) {
    int channels = 7;
    CHECK_HINT(channels % 2 == 0, "use an even channel count", "channels = %d is odd", channels);
}

TEST(test_check_prints_message_location_and_hint) {
    EXPECT(test_expect_fatal(failing_check, NULL, "vaec: error: channels = 7 is odd"), "message");
    EXPECT(test_expect_fatal(failing_check, NULL, "test_check.c:"), "source location");
    EXPECT(test_expect_fatal(failing_check, NULL, "---> HINT: use an even channel count"), "hint");
}

static void bad_view(void *ctx) {
    tensor *t = tensor_zeros(SHAPE(2, 3));
    tensor_view(t, SHAPE(4, 2));
}

TEST(test_tensor_bad_view_names_shapes) {
    EXPECT(test_expect_fatal(bad_view, NULL, "cannot view a tensor of shape (2,3)"), "view error should name the shape");
}
