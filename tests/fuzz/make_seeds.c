/* make_seeds.c: writes every fuzz target's seed corpus with vaec's own writers:
 *   vaec_fuzz_seeds tests/fuzz/corpus     -> tests/fuzz/corpus/<target>/...
 * Built with the fuzz targets (VAEC_FUZZ=ON); the corpus is committed, so this runs only when a writer changes. */
#include <stdio.h>
#include <sys/stat.h>
#include "core/check.h"                // defines: vaec_last_error
#include "tests/fuzz/fuzz_targets.h"   // defines: fuzz_targets

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: vaec_fuzz_seeds CORPUS_DIR\n");
        return 2;
    }
    mkdir(argv[1], 0755);
    for (const fuzz_target *t = fuzz_targets; t->name; t++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", argv[1], t->name);
        mkdir(dir, 0755);
        if (t->write_seeds(dir) != 0) {
            fprintf(stderr, "vaec_fuzz_seeds: %s: %s\n", t->name, vaec_last_error());
            return 1;
        }
        printf("%s: seeds written to %s\n", t->name, dir);
    }
    return 0;
}
