/* json.c: JSON token readers, value tree, and a json.dumps(indent=2, sort_keys=True)-style writer. */
#include "core/json.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/check.h"   // defines: xmalloc, xrealloc, vaec_set_error

/* ---- token readers ---- */
void json_skip_ws(json_parser *p) { while (p->s < p->end && isspace((unsigned char)*p->s)) p->s++; }
int json_fail(json_parser *p, const char *msg) { if (!p->err) p->err = msg; return -1; }
int json_expect(json_parser *p, char c) {
    json_skip_ws(p);
    if (p->s >= p->end || *p->s != c) return json_fail(p, "unexpected character");
    p->s++;
    return 0;
}

/* string -> malloc'd, handles the escapes JSON allows (\uXXXX kept as '?' outside ASCII) */
char *json_string(json_parser *p) {
    json_skip_ws(p);
    if (p->s >= p->end || *p->s != '"') { json_fail(p, "expected a string"); return NULL; }
    p->s++;
    size_t cap = 32, n = 0;
    char *out = xmalloc(cap);
    while (p->s < p->end && *p->s != '"') {
        char c = *p->s++;
        if (c == '\\') {
            if (p->s >= p->end) break;
            char e = *p->s++;
            switch (e) {
                case 'n': c = '\n'; break;
                case 't': c = '\t'; break;
                case 'r': c = '\r'; break;
                case 'b': c = '\b'; break;
                case 'f': c = '\f'; break;
                case 'u': {
                    if (p->end - p->s < 4) { free(out); json_fail(p, "bad \\u escape"); return NULL; }
                    unsigned v = 0;
                    for (int i = 0; i < 4; i++) {
                        char h = *p->s++;
                        v = v * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
                    }
                    c = v < 128 ? (char)v : '?';
                    break;
                }
                default: c = e;
            }
        }
        if (n + 2 > cap) out = xrealloc(out, cap *= 2);
        out[n++] = c;
    }
    if (p->s >= p->end) { free(out); json_fail(p, "unterminated string"); return NULL; }
    p->s++;
    out[n] = 0;
    return out;
}

int json_int(json_parser *p, int64_t *v) {
    json_skip_ws(p);
    char *e;
    errno = 0;
    long long x = strtoll(p->s, &e, 10);
    if (e == p->s || errno) return json_fail(p, "expected an integer");
    p->s = e;
    *v = x;
    return 0;
}

/* nesting deeper than this is refused: the recursion would otherwise overflow the stack on a header of
 * 100 MB of '[' (found by the safetensors fuzz target); real files nest a few levels */
#define JSON_MAX_DEPTH 64

static int skip_value(json_parser *p, int depth) {
    json_skip_ws(p);
    if (p->s >= p->end) return json_fail(p, "unexpected end");
    if (depth > JSON_MAX_DEPTH) return json_fail(p, "values nested too deep");
    char c = *p->s;
    if (c == '"') { free(json_string(p)); return p->err ? -1 : 0; }
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        p->s++;
        json_skip_ws(p);
        if (p->s < p->end && *p->s == close) { p->s++; return 0; }
        for (;;) {
            if (c == '{') { free(json_string(p)); if (p->err || json_expect(p, ':')) return -1; }
            if (skip_value(p, depth + 1)) return -1;
            json_skip_ws(p);
            if (p->s < p->end && *p->s == ',') { p->s++; continue; }
            return json_expect(p, close);
        }
    }
    while (p->s < p->end && (isalnum((unsigned char)*p->s) || *p->s == '-' || *p->s == '+' || *p->s == '.')) p->s++;
    return 0;
}

int json_skip_value(json_parser *p) { return skip_value(p, 1); }

/* ---- value tree ---- */
static json_value *new_value(json_type t) {
    json_value *v = xcalloc(1, sizeof *v);
    v->type = t;
    return v;
}
json_value *json_null(void) { return new_value(JSON_NULL); }
json_value *json_boolean(bool b) { json_value *v = new_value(JSON_BOOL); v->b = b; return v; }
json_value *json_number(double x) { json_value *v = new_value(JSON_NUMBER); v->num = x; return v; }
json_value *json_integer(long long x) { json_value *v = json_number((double)x); v->is_int = true; return v; }
json_value *json_str(const char *s) { json_value *v = new_value(JSON_STRING); v->str = strdup(s); return v; }
json_value *json_array(void) { return new_value(JSON_ARRAY); }
json_value *json_object(void) { return new_value(JSON_OBJECT); }

static void grow(json_value *v) {
    if (v->n < v->cap) return;
    v->cap = v->cap ? 2 * v->cap : 8;
    v->items = xrealloc(v->items, (size_t)v->cap * sizeof *v->items);
    if (v->type == JSON_OBJECT) v->keys = xrealloc(v->keys, (size_t)v->cap * sizeof *v->keys);
}

void json_push(json_value *arr, json_value *item) {
    grow(arr);
    arr->items[arr->n++] = item;
}

void json_set(json_value *obj, const char *key, json_value *val) {
    for (int i = 0; i < obj->n; i++)
        if (!strcmp(obj->keys[i], key)) { json_free(obj->items[i]); obj->items[i] = val; return; }
    grow(obj);
    obj->keys[obj->n] = strdup(key);
    obj->items[obj->n++] = val;
}

const json_value *json_get(const json_value *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT) return NULL;
    for (int i = 0; i < obj->n; i++) if (!strcmp(obj->keys[i], key)) return obj->items[i];
    return NULL;
}

void json_free(json_value *v) {
    if (!v) return;
    for (int i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

static json_value *parse_value(json_parser *p, int depth) {
    json_skip_ws(p);
    if (p->s >= p->end) { json_fail(p, "unexpected end"); return NULL; }
    if (depth > JSON_MAX_DEPTH) { json_fail(p, "values nested too deep"); return NULL; }
    char c = *p->s;
    if (c == '"') {
        char *s = json_string(p);
        if (!s) return NULL;
        json_value *v = new_value(JSON_STRING);
        v->str = s;
        return v;
    }
    if (c == '{' || c == '[') {
        json_value *v = new_value(c == '{' ? JSON_OBJECT : JSON_ARRAY);
        char close = c == '{' ? '}' : ']';
        p->s++;
        json_skip_ws(p);
        if (p->s < p->end && *p->s == close) { p->s++; return v; }
        for (;;) {
            char *key = NULL;
            if (c == '{' && (!(key = json_string(p)) || json_expect(p, ':'))) { free(key); json_free(v); return NULL; }
            json_value *item = parse_value(p, depth + 1);
            if (!item) { free(key); json_free(v); return NULL; }
            if (key) { json_set(v, key, item); free(key); }
            else json_push(v, item);
            json_skip_ws(p);
            if (p->s < p->end && *p->s == ',') { p->s++; continue; }
            if (json_expect(p, close)) { json_free(v); return NULL; }
            return v;
        }
    }
    static const struct { const char *word; json_type t; bool b; } words[] = {
        {"null", JSON_NULL, false}, {"true", JSON_BOOL, true}, {"false", JSON_BOOL, false},
        /* Python's json writes these for non-finite floats */
        {"NaN", JSON_NUMBER, false}, {"Infinity", JSON_NUMBER, false}, {"-Infinity", JSON_NUMBER, false}};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t k = strlen(words[i].word);
        if ((size_t)(p->end - p->s) >= k && !strncmp(p->s, words[i].word, k)) {
            p->s += k;
            json_value *v = new_value(words[i].t);
            v->b = words[i].b;
            if (words[i].t == JSON_NUMBER) v->num = i == 3 ? NAN : i == 4 ? INFINITY : -INFINITY;
            return v;
        }
    }
    char buf[64];
    size_t k = 0;
    while (p->s + k < p->end && k < sizeof buf - 1 && strchr("0123456789+-.eE", p->s[k])) { buf[k] = p->s[k]; k++; }
    buf[k] = 0;
    char *e;
    double x = strtod(buf, &e);
    if (k == 0 || *e) { json_fail(p, "expected a value"); return NULL; }
    p->s += k;
    json_value *v = json_number(x);
    v->is_int = !strpbrk(buf, ".eE");
    return v;
}

json_value *json_parse(const char *text, size_t len, char *err, size_t err_n) {
    json_parser p = {text, text + len, NULL};
    json_value *v = parse_value(&p, 0);
    if (v) {
        json_skip_ws(&p);
        if (p.s != p.end) { json_fail(&p, "text after the value"); json_free(v); v = NULL; }
    }
    if (!v && err_n) snprintf(err, err_n, "%s at byte %ld", p.err ? p.err : "malformed", (long)(p.s - text));
    return v;
}

json_value *json_parse_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { vaec_set_error("cannot open '%s': %s", path, strerror(errno)); return NULL; }
    size_t cap = 4096, n = 0, r;
    char *buf = xmalloc(cap);
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) buf = xrealloc(buf, cap *= 2);
        if (n > (64u << 20)) break;   /* a config file, not data */
    }
    fclose(f);
    char err[128];
    json_value *v = json_parse(buf, n, err, sizeof err);
    free(buf);
    if (!v) vaec_set_error("'%s' is not valid JSON: %s", path, err);
    return v;
}

/* ---- writer ---- */
json_buf json_buf_new(void) {
    json_buf b = {xmalloc(256), 0, 256};
    b.s[0] = 0;
    return b;
}

void json_buf_printf(json_buf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if ((size_t)k < b->cap - b->n) { b->n += (size_t)k; return; }
        b->cap = b->cap * 2 + (size_t)k + 64;
        b->s = xrealloc(b->s, b->cap);
    }
}

void json_format_float(double x, char *buf, size_t n) {
    if (isnan(x)) { snprintf(buf, n, "NaN"); return; }
    if (isinf(x)) { snprintf(buf, n, x > 0 ? "Infinity" : "-Infinity"); return; }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if ((float)strtod(buf, NULL) == (float)x) break;
    }
    if (!strpbrk(buf, ".eEn")) strncat(buf, ".0", n - strlen(buf) - 1);   /* Python writes 1.0, not 1 */
}

void json_buf_string(json_buf *b, const char *s) {
    json_buf_printf(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') json_buf_printf(b, "\\%c", *s);
        else if (*s == '\n') json_buf_printf(b, "\\n");
        else if ((unsigned char)*s < 32) json_buf_printf(b, "\\u%04x", *s);
        else json_buf_printf(b, "%c", *s);
    }
    json_buf_printf(b, "\"");
}

static const char *const *sort_keys_of;
static int cmp_key_index(const void *a, const void *b) {
    return strcmp(sort_keys_of[*(const int *)a], sort_keys_of[*(const int *)b]);
}

static void write_value(json_buf *b, const json_value *v, int indent) {
    switch (v->type) {
        case JSON_NULL: json_buf_printf(b, "null"); return;
        case JSON_BOOL: json_buf_printf(b, v->b ? "true" : "false"); return;
        case JSON_NUMBER: {
            char num[64];
            if (v->is_int) snprintf(num, sizeof num, "%lld", (long long)v->num);
            else json_format_float(v->num, num, sizeof num);
            json_buf_printf(b, "%s", num);
            return;
        }
        case JSON_STRING: json_buf_string(b, v->str); return;
        default: break;
    }
    bool obj = v->type == JSON_OBJECT;
    if (v->n == 0) { json_buf_printf(b, obj ? "{}" : "[]"); return; }
    int *order = xmalloc((size_t)v->n * sizeof(int));
    for (int i = 0; i < v->n; i++) order[i] = i;
    if (obj) {   /* json.dumps(sort_keys=True) */
        sort_keys_of = (const char *const *)v->keys;
        qsort(order, (size_t)v->n, sizeof(int), cmp_key_index);
    }
    json_buf_printf(b, obj ? "{\n" : "[\n");
    for (int i = 0; i < v->n; i++) {
        json_buf_printf(b, "%*s", indent + 2, "");
        if (obj) { json_buf_string(b, v->keys[order[i]]); json_buf_printf(b, ": "); }
        write_value(b, v->items[order[i]], indent + 2);
        json_buf_printf(b, i + 1 < v->n ? ",\n" : "\n");
    }
    json_buf_printf(b, "%*s%s", indent, "", obj ? "}" : "]");
    free(order);
}

char *json_write(const json_value *v) {
    json_buf b = json_buf_new();
    b.s[0] = 0;
    write_value(&b, v, 0);
    json_buf_printf(&b, "\n");
    return b.s;
}

int json_save(const json_value *v, const char *path) {
    char *text = json_write(v);
    size_t n = strlen(text), plen = strlen(path) + 32;
    char *tmp = xmalloc(plen);
    snprintf(tmp, plen, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(text, 1, n, f) == n;
    ok = f && fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    int err = errno;
    if (f) ok = fclose(f) == 0 && ok;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        if (ok) err = errno;
        unlink(tmp);
        free(tmp);
        return vaec_set_error("writing '%s' failed: %s (nothing was replaced)", path, strerror(err));
    }
    free(tmp);
    return 0;
}
