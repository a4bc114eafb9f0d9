/* csv_list.h: a list of video files in Open-Sora's CSV format (a header row naming the columns, one video a
 * row; the `path` column gives the file, a `num_frames` column (when present, as Open-Sora's data tools write
 * it) the frame count; other columns such as `text`, `fps` are ignored).
 *
 *   csv_list l;
 *   if (csv_list_read("data/train.csv", &l) != 0) FATAL("%s", vaec_last_error());
 *   for (int i = 0; i < l.n; i++) use(l.paths[i], l.lines[i]);   // paths resolved, lines for messages
 *   csv_list_free(&l);
 *
 * Fields follow RFC 4180 (quotes around fields holding commas, quotes or line breaks; "" inside quotes is a
 * quote), with LF or CRLF line ends and an optional UTF-8 byte order mark. A relative path resolves against
 * the CSV file's folder, as upstream's datasets are laid out (the CSV next to its videos). Errors (no `path`
 * column, an empty path, a row without that column, an unterminated quote) name the file and the line. */
#ifndef VAEC_DATA_CSV_LIST_H
#define VAEC_DATA_CSV_LIST_H
#include <stdbool.h>

typedef struct {
    int n;
    char **paths;   /* n resolved paths */
    int *lines;     /* the line of the CSV each row starts on (1 = the header) */
    long long *num_frames;   /* the row's `num_frames` when the CSV has that column and it is a positive integer, else 0 */
} csv_list;

bool path_is_csv(const char *path);   /* by its name: ends in .csv (any case) */
int csv_list_read(const char *path, csv_list *out);   /* 0, or -1 + vaec_last_error() naming file and line */
void csv_list_free(csv_list *l);

#endif
