/* test_dist_device.c: which GPU a rank computes on (train/dist.h), on the CPU: the local rank each launcher
 * names (OpenMPI, MPICH, slurm inside a job step, torchrun-style), and the GPU it picks, modulo the GPUs a
 * rank sees. The lookups go through a table instead of the process environment. */
#include <string.h>
#include "tests/harness/test.h"
#include "train/dist.h"   // defines: dist_info_from, dist_gpu_for

static const char *const *table;   /* NAME, VALUE, ..., NULL */
static const char *lookup(const char *name) {
    for (int i = 0; table[i]; i += 2)
        if (!strcmp(table[i], name)) return table[i + 1];
    return NULL;
}
static dist_info info_of(const char *const *vars) {
    table = vars;
    return dist_info_from(lookup);
}

TEST(test_dist_local_rank_from_each_launcher) {
    dist_info d = info_of((const char *[]){"OMPI_COMM_WORLD_RANK", "5", "OMPI_COMM_WORLD_SIZE", "8",
                                           "OMPI_COMM_WORLD_LOCAL_RANK", "1", "LOCAL_RANK", "3", NULL});
    EXPECT(d.rank == 5 && d.world == 8 && d.local_rank == 1 && !strcmp(d.source, "mpirun"),
           "mpirun: rank %d of %d, local %d (%s)", d.rank, d.world, d.local_rank, d.source);
    d = info_of((const char *[]){"SLURM_PROCID", "6", "SLURM_NTASKS", "16", "SLURM_LOCALID", "6", "SLURM_STEP_ID", "0", NULL});
    EXPECT(d.rank == 6 && d.world == 16 && d.local_rank == 6 && !strcmp(d.source, "srun"), "srun: local %d (%s)", d.local_rank,
           d.source);
    d = info_of((const char *[]){"SLURM_PROCID", "6", "SLURM_NTASKS", "16", "SLURM_LOCALID", "6", NULL});
    EXPECT(d.world == 1 && !strcmp(d.source, "none"), "slurm's variables outside a job step (sbatch) are no launch: %s",
           d.source);
    d = info_of((const char *[]){"RANK", "3", "WORLD_SIZE", "4", "LOCAL_RANK", "3", NULL});
    EXPECT(d.rank == 3 && d.local_rank == 3 && !strcmp(d.source, "RANK/WORLD_SIZE"), "torchrun style: local %d", d.local_rank);
    d = info_of((const char *[]){"PMI_RANK", "2", "PMI_SIZE", "4", NULL});
    EXPECT(d.rank == 2 && d.local_rank == -1 && !strcmp(d.source, "mpiexec"),
           "MPICH without MPI_LOCALRANKID: the local rank is unknown (-1, MPI's node split decides), got %d", d.local_rank);
    d = info_of((const char *[]){NULL});
    EXPECT(d.rank == 0 && d.world == 1 && d.local_rank == 0 && d.device == -1, "a plain run: rank 0 of 1, no GPU chosen");
}

static void bad_local_rank(void *ctx) {
    info_of((const char *[]){"RANK", "0", "WORLD_SIZE", "2", "LOCAL_RANK", "gpu0", NULL});
}

TEST(test_dist_malformed_local_rank_names_the_variable) {
    EXPECT(test_expect_fatal(bad_local_rank, NULL, "LOCAL_RANK = 'gpu0' is not a rank"), "a malformed local rank must stop");
}

TEST(test_dist_gpu_is_the_local_rank_modulo_the_visible_gpus) {
    EXPECT(dist_gpu_for(0, 8) == 0 && dist_gpu_for(7, 8) == 7, "one rank a GPU: local rank = GPU");
    EXPECT(dist_gpu_for(3, 2) == 1 && dist_gpu_for(4, 2) == 0, "more ranks than GPUs: they share, round robin");
    EXPECT(dist_gpu_for(1, 1) == 0, "CUDA_VISIBLE_DEVICES=<one> per rank: every rank uses its GPU 0");
    EXPECT(dist_gpu_for(2, 0) == -1 && dist_gpu_for(-1, 4) == -1, "no GPU, or no local rank: none");
}
