/* test_data_keys.c: the trainer's data and thread keys: [train] frame_interval, [data] num_workers and [train]
 * threads, their defaults, and out-of-range values refused naming the key. */
#include <stdlib.h>
#include <string.h>
#include "data/loader.h"
#include "tests/harness/test.h"
#include "train/train_config.h"

static void load_demo(config *c, const char *set1, const char *set2) {
    char *path = test_path("configs/opensora-stage1.ini");
    EXPECT(config_load(c, path) == 0, "%s", vaec_last_error());
    free(path);
    if (set1) EXPECT(config_set(c, set1) == 0, "%s: %s", set1, vaec_last_error());
    if (set2) EXPECT(config_set(c, set2) == 0, "%s: %s", set2, vaec_last_error());
}

static void parse_with(void *assignment) {
    config c;
    load_demo(&c, assignment, NULL);
    train_config_from(&c);
}

TEST(test_train_config_frame_interval_and_num_workers) {
    config c;
    load_demo(&c, NULL, NULL);
    train_config t = train_config_from(&c);
    EXPECT(t.frame_interval == 1 && t.num_workers == LOADER_DEFAULT_WORKERS, "defaults: interval %d, workers %d",
           t.frame_interval, t.num_workers);
    config_free(&c);
    load_demo(&c, "train.frame_interval=3", "data.num_workers=4");
    t = train_config_from(&c);
    EXPECT(t.frame_interval == 3 && t.num_workers == 4, "set: interval %d, workers %d", t.frame_interval, t.num_workers);
    config_free(&c);
    EXPECT(test_expect_fatal(parse_with, "train.frame_interval=0", "[train] frame_interval = 0"), "frame_interval 0");
    EXPECT(test_expect_fatal(parse_with, "data.num_workers=0", "[data] num_workers = 0"), "num_workers 0");
}

/* [train] threads: 0 (the default) leaves the count to OMP_NUM_THREADS or the physical cores */
TEST(test_train_config_threads) {
    config c;
    load_demo(&c, NULL, NULL);
    EXPECT(train_config_from(&c).threads == 0, "threads default is not 0 (automatic)");
    config_free(&c);
    load_demo(&c, "train.threads=6", NULL);
    EXPECT(train_config_from(&c).threads == 6, "train.threads=6 not read");
    config_free(&c);
    EXPECT(test_expect_fatal(parse_with, "train.threads=-2", "[train] threads = -2"), "threads -2 accepted");
}
