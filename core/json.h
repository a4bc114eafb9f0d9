/* json.h: the one JSON reader of vaec (safetensors headers, Hugging Face config.json files) and a writer
 * that formats like Python's json.dumps(indent=2, sort_keys=True), as diffusers and transformers write
 * their config.json files.
 *
 * Two levels:
 *   - token readers over a json_parser (json_skip_ws, json_expect, json_string, json_int, json_skip_value)
 *     for streaming formats (the safetensors header reads entries without building a tree);
 *   - a value tree: json_parse() -> json_value, json_get(obj, "key"), json_free().
 *
 *   char err[256];
 *   json_value *v = json_parse(text, len, err, sizeof err);   // NULL + err ("... at byte N") on failure
 *   const json_value *b = json_get(v, "block_out_channels");  // NULL if absent or v is not an object
 *   json_free(v);
 *
 *   json_value *o = json_object();
 *   json_set(o, "act_fn", json_str("silu"));
 *   char *text = json_write(o);                                // malloc'd, ends with a newline
 */
#ifndef VAEC_CORE_JSON_H
#define VAEC_CORE_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/check.h"   // defines: VAEC_PRINTF

/* ---- token readers ---- */
typedef struct { const char *s, *end; const char *err; } json_parser;

void json_skip_ws(json_parser *p);
int json_fail(json_parser *p, const char *msg);          /* records the first error; returns -1 */
int json_expect(json_parser *p, char c);
char *json_string(json_parser *p);                        /* malloc'd; NULL on error */
int json_int(json_parser *p, int64_t *v);
int json_skip_value(json_parser *p);

/* ---- value tree ---- */
typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value {
    json_type type;
    bool b;
    bool is_int;                    /* JSON_NUMBER written without '.', 'e': 4, not 4.0 */
    double num;
    char *str;                      /* JSON_STRING */
    struct json_value **items;      /* JSON_ARRAY elements, JSON_OBJECT values */
    char **keys;                    /* JSON_OBJECT keys, in file order */
    int n, cap;
} json_value;

json_value *json_parse(const char *text, size_t len, char *err, size_t err_n);
/* reads and parses a whole file; NULL with vaec_last_error() naming the file and the byte */
json_value *json_parse_file(const char *path);
const json_value *json_get(const json_value *obj, const char *key);
void json_free(json_value *v);

json_value *json_null(void);
json_value *json_boolean(bool b);
json_value *json_number(double x);                 /* a float: written 0.5, 1.0 */
json_value *json_integer(long long x);             /* written 4 */
json_value *json_str(const char *s);
json_value *json_array(void);
json_value *json_object(void);
void json_push(json_value *arr, json_value *item);                    /* takes ownership */
void json_set(json_value *obj, const char *key, json_value *val);     /* takes ownership; replaces */

/* indent 2, keys sorted, one array element a line, numbers in their shortest float32-exact form */
char *json_write(const json_value *v);

/* ---- text building: the writer's growing buffer, shared with streaming writers (the safetensors header) */
typedef struct { char *s; size_t n, cap; } json_buf;   /* s malloc'd, NUL-terminated; the caller frees s */
json_buf json_buf_new(void);
void json_buf_printf(json_buf *b, const char *fmt, ...) VAEC_PRINTF(2, 3);
void json_buf_string(json_buf *b, const char *s);       /* s quoted, with JSON's escapes */
/* json_write(v) to path atomically: a temporary name, fsync, rename; 0 or -1 with vaec_last_error() */
int json_save(const json_value *v, const char *path);
/* the shortest decimal form of x that reads back as the same float32 (0.18215f -> "0.18215") */
void json_format_float(double x, char *buf, size_t n);

#endif
