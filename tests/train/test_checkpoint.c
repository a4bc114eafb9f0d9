/* test_checkpoint.c: a run resumed from a checkpoint reproduces the uninterrupted run bit for bit;
 * checkpoints are atomic, pruned to the newest K, and found by resume. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "autograd/autograd.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"
#include "tests/harness/tiny_models.h"
#include "train/checkpoint.h"
#include "train/step.h"

typedef struct {
    vae_pipeline p;
    vae_loss loss;
    adamw *opt;
    tensor *params[256];
    int n;
} run;

static void run_init(run *r, uint64_t seed) {
    memset(r, 0, sizeof *r);
    vae_pipeline *p = &r->p;
    tiny_pipeline_init(p, 17, seed);
    p->sample_posterior = true;   /* the RNG matters: it must be restored */
    p->freeze_vae_2d = true;
    vae_pipeline_setup(p);
    vae_loss_init(&r->loss, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    for (int i = 0; i < p->temporal.params.n; i++) r->params[r->n++] = p->temporal.params.items[i].t;
    r->opt = adamw_new(r->params, r->n, (adamw_config){.lr = 1e-3f});
}

static void run_free(run *r) {
    adamw_free(r->opt);
    vae_loss_free(&r->loss);
    tiny_pipeline_free(&r->p);
}

static ckpt_parts parts_of(run *r) {
    return (ckpt_parts){{&r->p.spatial.vae.params, &r->p.temporal.params}, {"spatial_vae.module.", "temporal_vae."}, 2,
                        r->opt, r->loss.logvar};
}

static double do_step(run *r, golden_file *g, int s, rng_state *rng) {
    char k[16];
    snprintf(k, sizeof k, "x%d", s % 5);
    tensor *x = golden_get(g, k);
    step_config c = {.use_z_rec_loss = true, .use_image_identity_loss = true, .grad_clip = 1.0f};
    step_result res = train_step(&r->p, &r->loss, r->opt, &c, x, rng);
    tensor_release(x);
    return res.loss;
}

TEST(test_checkpoint_resume_reproduces_uninterrupted_run) {
    golden_file *g = golden_open("stage1");
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/vaec_ckpt_%d", (int)getpid());
    /* uninterrupted: 6 steps */
    run a;
    run_init(&a, 1);
    rng_state rng = rng_seed(42);
    double la[6];
    for (int s = 0; s < 6; s++) la[s] = do_step(&a, g, s, &rng);
    /* interrupted: 3 steps, checkpoint, a fresh process-like start from other weights, resume, 3 steps */
    run b;
    run_init(&b, 1);
    rng_state rb = rng_seed(42);
    double lb[6];
    for (int s = 0; s < 3; s++) lb[s] = do_step(&b, g, s, &rb);
    ckpt_parts pb = parts_of(&b);
    ckpt_state st = {.step = 3, .rng = rb, .position = {7, 11}, .n_position = 2};
    EXPECT(ckpt_save(dir, &pb, &st, 3) == 0, "save: %s", vaec_last_error());
    run_free(&b);
    run c;
    run_init(&c, 99);
    char latest[512];
    EXPECT(ckpt_find_latest(dir, latest, sizeof latest) == 1, "no checkpoint found");
    ckpt_parts pc = parts_of(&c);
    ckpt_state back = {0};
    EXPECT(ckpt_load(latest, &pc, &back) == 0, "load: %s", vaec_last_error());
    EXPECT(back.step == 3 && back.rng.seed == rb.seed && back.rng.offset == rb.offset && back.n_position == 2 &&
           back.position[1] == 11, "state not restored");
    for (int s = 3; s < 6; s++) lb[s] = do_step(&c, g, s, &back.rng);
    for (int s = 0; s < 6; s++) EXPECT(la[s] == lb[s], "step %d: loss %.9g uninterrupted, %.9g resumed", s, la[s], lb[s]);
    for (int i = 0; i < a.n; i++)
        EXPECT(memcmp(a.params[i]->data, c.params[i]->data, (size_t)a.params[i]->numel * 4) == 0,
               "%s differs after resume", a.p.temporal.params.items[i].name);
    run_free(&a);
    run_free(&c);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "cleanup");
    golden_close(g);
}

static int count_ckpts(const char *dir, int *tmp) {
    DIR *d = opendir(dir);
    int n = 0;
    *tmp = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strncmp(e->d_name, "ckpt-", 5)) n++;
        if (strstr(e->d_name, ".tmp")) (*tmp)++;
    }
    if (d) closedir(d);
    return n;
}

TEST(test_checkpoint_keeps_last_k_and_ignores_incomplete) {
    char dir[128], cmd[256], latest[512];
    snprintf(dir, sizeof dir, "/tmp/vaec_ckpt_keep_%d", (int)getpid());
    run r;
    run_init(&r, 3);
    ckpt_parts p = parts_of(&r);
    for (int s = 1; s <= 4; s++) {
        ckpt_state st = {.step = s * 10, .rng = rng_seed(1)};
        EXPECT(ckpt_save(dir, &p, &st, 2) == 0, "save %d: %s", s, vaec_last_error());
    }
    int tmp;
    EXPECT(count_ckpts(dir, &tmp) == 2 && tmp == 0, "keep=2 left %d checkpoints", count_ckpts(dir, &tmp));
    /* an interrupted write (a .tmp folder) is never taken for a checkpoint */
    snprintf(cmd, sizeof cmd, "%s/ckpt-000000050.tmp", dir);
    mkdir(cmd, 0755);
    EXPECT(ckpt_find_latest(dir, latest, sizeof latest) == 1 && strstr(latest, "ckpt-000000040"), "latest: %s", latest);
    /* a failing write leaves the existing checkpoints alone */
    ckpt_state st = {.step = 60, .rng = rng_seed(1)};
    EXPECT(ckpt_save("/proc/vaec-cannot-write", &p, &st, 2) != 0 && strstr(vaec_last_error(), "/proc/vaec-cannot-write"),
           "an unwritable folder must fail clearly: %s", vaec_last_error());
    EXPECT(ckpt_find_latest(dir, latest, sizeof latest) == 1 && strstr(latest, "ckpt-000000040"), "checkpoints lost");
    run_free(&r);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "cleanup");
}
