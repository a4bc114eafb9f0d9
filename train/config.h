/* config.h: INI configs (the files in configs/) with `--set section.key=value` overrides.
 *
 * Every key vaec knows is listed once (config.c: known_keys); a key that is not there, in a file or in a
 * --set, is an error naming the file, line and key, with the closest known key as a suggestion, so a
 * typo never silently falls back to a default. Getters parse on use and stop with the key and value at
 * fault when a value is malformed; the config_get_* twins return -1 with that message in vaec_last_error()
 * instead (for callers that must not exit, such as the fuzz targets).
 *
 *   config c;
 *   if (config_load(&c, "configs/demo.ini") != 0) FATAL("%s", vaec_last_error());
 *   config_set(&c, "train.steps=10");
 *   int lpb = config_int(&c, "spatial", "layers_per_block", 2);
 */
#ifndef VAEC_TRAIN_CONFIG_H
#define VAEC_TRAIN_CONFIG_H
#include <stdbool.h>

typedef struct {
    char *section, *key, *value;
    int line;                /* 0 for --set */
} config_entry;

typedef struct {
    char *path;
    config_entry *entries;
    int n, cap;
} config;

int config_load(config *c, const char *path);          /* -1 with vaec_last_error() */
int config_set(config *c, const char *assignment);     /* "section.key=value"; -1 on a bad form or unknown key */
void config_free(config *c);

const char *config_str(const config *c, const char *section, const char *key, const char *def);
int config_int(const config *c, const char *section, const char *key, int def);
double config_float(const config *c, const char *section, const char *key, double def);
bool config_bool(const config *c, const char *section, const char *key, bool def);
/* comma-separated numbers; returns the count (at most max), or the defaults' count when absent */
int config_ints(const config *c, const char *section, const char *key, int *out, int max, const int *def, int ndef);
int config_floats(const config *c, const char *section, const char *key, float *out, int max, const float *def, int ndef);

/* the same getters returning 0 (or the count) and -1 + vaec_last_error() on a malformed value; *out = def if absent */
int config_get_int(const config *c, const char *section, const char *key, int def, int *out);
int config_get_float(const config *c, const char *section, const char *key, double def, double *out);
int config_get_bool(const config *c, const char *section, const char *key, bool def, bool *out);
int config_get_ints(const config *c, const char *section, const char *key, int *out, int max, const int *def, int ndef);
int config_get_floats(const config *c, const char *section, const char *key, float *out, int max, const float *def,
                      int ndef);

#endif
