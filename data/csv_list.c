/* csv_list.c: the `path` column of an Open-Sora CSV (see csv_list.h). */
#include "data/csv_list.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/check.h"   // defines: vaec_set_error, xmalloc

bool path_is_csv(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && !strcasecmp(path + n - 4, ".csv");
}

void csv_list_free(csv_list *l) {
    for (int i = 0; i < l->n; i++) free(l->paths[i]);
    free(l->paths);
    free(l->lines);
    free(l->num_frames);
    memset(l, 0, sizeof *l);
}

/* one row's fields, parsed in place from text at *pos; *line counts the line breaks crossed */
typedef struct {
    char **field;
    int n, cap;
} row;

/* parses the row starting at *pos into r (fields point into text, which is modified); 1 a row, 0 the end,
 * -1 an unterminated quote */
static int next_row(char *text, size_t len, size_t *pos, int *line, row *r) {
    r->n = 0;
    if (*pos >= len) return 0;
    size_t i = *pos;
    for (;;) {   /* one field a turn */
        if (r->n == r->cap) r->field = xrealloc(r->field, sizeof(char *) * (size_t)(r->cap = r->cap ? 2 * r->cap : 16));
        char *out = text + i, *start = out;
        if (i < len && text[i] == '"') {
            i++;
            for (;;) {
                if (i >= len) return -1;
                if (text[i] == '"') {
                    if (i + 1 < len && text[i + 1] == '"') { *out++ = '"'; i += 2; continue; }
                    i++;
                    break;
                }
                if (text[i] == '\n') (*line)++;
                *out++ = text[i++];
            }
            while (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r') i++;   /* junk after the quote */
        } else {
            while (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r') *out++ = text[i++];
        }
        char sep = i < len ? text[i] : '\n';
        *out = 0;   /* safe: out <= i, and text has a spare byte at len */
        r->field[r->n++] = start;
        if (sep == ',') { i++; continue; }
        i++;   /* past the line end (CR, LF or CRLF; the byte at i may now be the terminator written above) */
        if (sep == '\r' && i < len && text[i] == '\n') i++;
        (*line)++;
        *pos = i;
        return 1;
    }
}

static bool blank_row(const row *r) { return r->n == 1 && r->field[0][0] == 0; }

int csv_list_read(const char *path, csv_list *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return vaec_set_error("cannot open the video list '%s': %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *text = xmalloc(cap);
    for (size_t got; (got = fread(text + len, 1, cap - len - 1, f)) > 0;) {
        len += got;
        if (cap - len - 1 == 0) text = xrealloc(text, cap *= 2);
    }
    bool read_error = ferror(f);
    fclose(f);
    text[len] = 0;
    if (read_error) { free(text); return vaec_set_error("cannot read the video list '%s'", path); }
    size_t pos = len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;   /* a UTF-8 byte order mark */
    /* the folder relative paths resolve against */
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    row r = {0};
    int line = 1, col = -1, frames_col = -1, rc = 0, header_cols = 0;
    int got = next_row(text, len, &pos, &line, &r);
    if (got <= 0) {
        rc = vaec_set_error("the video list '%s' is empty: it needs a header row with a 'path' column, then one "
                            "video a row (Open-Sora's CSV format)", path);
        goto done;
    }
    header_cols = r.n;
    for (int k = 0; k < r.n; k++) {
        if (!strcmp(r.field[k], "path")) col = k;
        if (!strcmp(r.field[k], "num_frames")) frames_col = k;
    }
    if (col < 0) {
        char cols[512] = "";
        for (int k = 0; k < r.n && strlen(cols) < 400; k++)
            snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s'%s'", k ? ", " : "", r.field[k]);
        rc = vaec_set_error("the video list '%s' has no 'path' column in its header (line 1 has %s): Open-Sora's "
                            "CSV format names the video file of each row in a column 'path'", path, cols);
        goto done;
    }
    int rows_cap = 0;
    for (;;) {
        int row_line = line;
        got = next_row(text, len, &pos, &line, &r);
        if (got == 0) break;
        if (got < 0) {
            rc = vaec_set_error("the video list '%s': line %d: a quoted field has no closing quote", path, row_line);
            goto done;
        }
        if (blank_row(&r)) continue;
        if (col >= r.n) {
            rc = vaec_set_error("the video list '%s': line %d has %d fields, too few for the 'path' column (column %d "
                                "of %d in the header)", path, row_line, r.n, col + 1, header_cols);
            goto done;
        }
        const char *p = r.field[col];
        if (!p[0]) {
            rc = vaec_set_error("the video list '%s': line %d has an empty 'path'", path, row_line);
            goto done;
        }
        if (out->n == rows_cap) {
            rows_cap = rows_cap ? 2 * rows_cap : 64;
            out->paths = xrealloc(out->paths, sizeof(char *) * (size_t)rows_cap);
            out->lines = xrealloc(out->lines, sizeof(int) * (size_t)rows_cap);
            out->num_frames = xrealloc(out->num_frames, sizeof(long long) * (size_t)rows_cap);
        }
        long long frames = 0;
        if (frames_col >= 0 && frames_col < r.n) {
            char *end;
            errno = 0;
            frames = strtoll(r.field[frames_col], &end, 10);
            if (errno || *end || end == r.field[frames_col] || frames < 0) frames = 0;   /* not a count: probe */
        }
        out->num_frames[out->n] = frames;
        size_t plen = strlen(p), pre = p[0] == '/' ? 0 : dir_len;
        char *full = xmalloc(pre + plen + 1);
        memcpy(full, path, pre);
        memcpy(full + pre, p, plen + 1);
        out->paths[out->n] = full;
        out->lines[out->n++] = row_line;
    }
    if (out->n == 0) rc = vaec_set_error("the video list '%s' lists no videos (only its header)", path);
done:
    free(r.field);
    free(text);
    if (rc) csv_list_free(out);
    return rc;
}
