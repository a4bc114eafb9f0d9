/* main.c: the `vaec` command: dispatches to one file per command (cli/cmd_*.c). */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"   // defines: cmd_ckpt, cmd_data, cmd_train, ...
#include "core/cpu/threads.h"   // defines: cpu_threads_apply

static void usage(FILE *f) {
    fprintf(f,
            "usage: vaec <command> [options]\n\n"
            "commands:\n"
            "  ckpt info FILE|DIR keys, shapes, dtypes and parameter count of a safetensors file; a folder's kind\n"
            "                     and the model config it implies\n"
            "  ckpt export SRC    a checkpoint as a diffusers or Open-Sora folder (--to diffusers|opensora --out DIR)\n"
            "  train CONFIG       train a pipeline config (configs/opensora-stage*.ini, configs/demo.ini)\n"
            "  data make|info|bench|encode  build an HDF5 video dataset (videos, frames, synthetic); describe\n"
            "                     or verify one; measure the loader's throughput on one (or a CSV of videos);\n"
            "                     export the latents of every clip to HDF5\n"
            "  encode             video -> latents with a checkpoint (safetensors in, safetensors out)\n"
            "  decode             latents -> video\n"
            "  reconstruct        encode + decode, prints PSNR and SSIM\n\n"
            "`vaec <command> --help` describes a command. Documentation: docs/ in the source tree.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    cpu_threads_apply(0);   /* physical cores (or OMP_NUM_THREADS); `vaec train` applies [train] threads */
    if (!strcmp(argv[1], "ckpt")) return cmd_ckpt(argc - 1, argv + 1);
    if (!strcmp(argv[1], "data")) return cmd_data(argc - 1, argv + 1);
    if (!strcmp(argv[1], "train")) return cmd_train(argc - 1, argv + 1);
    if (!strcmp(argv[1], "encode")) return cmd_encode(argc - 1, argv + 1);
    if (!strcmp(argv[1], "decode")) return cmd_decode(argc - 1, argv + 1);
    if (!strcmp(argv[1], "reconstruct")) return cmd_reconstruct(argc - 1, argv + 1);
    fprintf(stderr, "vaec: error: unknown command '%s'\n  ---> HINT: run `vaec --help` for the list\n", argv[1]);
    return 2;
}
