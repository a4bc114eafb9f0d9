/* test_dist_gan.c: `mpirun -np 2 vaec train` with a discriminator: the discriminator's gradients, loss and
 * LeCam means are averaged over the ranks (every rank calls the same collectives in the same order, so the
 * run ends instead of hanging), rank 0 logs the adversarial terms and writes discriminator.safetensors. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/harness/test.h"

#define MPI_ENV TEST_MPI_ENV

TEST(test_dist_gan_two_ranks_train_the_discriminator) {
#ifndef VAEC_HAVE_MPI
    TEST_SKIP("no MPI in this build: run scripts/install-deps.sh and rebuild");
#else
    char dir[128], cmd[4096], out[16384];
    if (test_run_command("command -v mpirun", out, sizeof out) != 0) TEST_SKIP("no mpirun");
    snprintf(dir, sizeof dir, "/tmp/vaec_dist_gan_%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "mkdir -p %s && %s/vaec data make --synthetic 4 --out %s/d.h5 --size 16 --num-frames 6 && "
             MPI_ENV "mpirun --oversubscribe --bind-to none -np 2 %s/vaec train %s/tests/data/train_tiny.ini "
             "--set data.path=%s/d.h5 --steps 3 --out %s/run --set discriminator.type=NLayerDiscriminator "
             "--set discriminator.ndf=4 --set discriminator.n_layers=2 --set train.lecam_loss_weight=0.1 "
             "--set train.dist_timeout_s=60", dir, VAEC_BIN_DIR, dir, VAEC_BIN_DIR, test_source_dir(), dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "2 ranks") && strstr(out, "d_weight"),
           "mpirun -np 2 with a discriminator:\n%s", out);
    char path[256];
    snprintf(path, sizeof path, "%s/run/ckpt-000000003/discriminator.safetensors", dir);
    EXPECT(access(path, R_OK) == 0, "no %s", path);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "cleanup");
#endif
}
