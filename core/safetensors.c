/* safetensors.c: safetensors reader (its header read with core/json.h's token readers) and atomic writer. */
#include "core/safetensors.h"
#include "core/crc32c.h"   // defines: crc32c_update
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/json.h"   // defines: json_parser, json_string, json_expect, json_skip_value

static int parse_entry(json_parser *p, st_entry *e) {
    if (json_expect(p, '{')) return -1;
    int seen = 0;
    for (;;) {
        char *key = json_string(p);
        if (!key || json_expect(p, ':')) { free(key); return -1; }
        if (!strcmp(key, "dtype")) {
            char *d = json_string(p);
            if (!d) { free(key); return -1; }
            snprintf(e->dtype, sizeof e->dtype, "%s", d);
            free(d);
            seen |= 1;
        } else if (!strcmp(key, "shape")) {
            if (json_expect(p, '[')) { free(key); return -1; }
            e->ndim = 0;
            json_skip_ws(p);
            if (p->s < p->end && *p->s == ']') p->s++;
            else for (;;) {
                int64_t v;
                if (e->ndim >= TENSOR_MAX_DIMS || json_int(p, &v) || v < 0) { free(key); return json_fail(p, "bad shape"); }
                e->shape[e->ndim++] = v;
                json_skip_ws(p);
                if (p->s < p->end && *p->s == ',') { p->s++; continue; }
                if (json_expect(p, ']')) { free(key); return -1; }
                break;
            }
            seen |= 2;
        } else if (!strcmp(key, "data_offsets")) {
            int64_t b, en;
            if (json_expect(p, '[') || json_int(p, &b) || json_expect(p, ',') || json_int(p, &en) || json_expect(p, ']')) { free(key); return -1; }
            if (b < 0 || en < b) { free(key); return json_fail(p, "bad data_offsets"); }
            e->begin = (uint64_t)b;
            e->end = (uint64_t)en;
            seen |= 4;
        } else if (json_skip_value(p)) { free(key); return -1; }
        free(key);
        json_skip_ws(p);
        if (p->s < p->end && *p->s == ',') { p->s++; continue; }
        if (json_expect(p, '}')) return -1;
        break;
    }
    return seen == 7 ? 0 : json_fail(p, "tensor entry lacks dtype, shape or data_offsets");
}

static int parse_meta(json_parser *p, st_file *f) {
    if (json_expect(p, '{')) return -1;
    json_skip_ws(p);
    if (p->s < p->end && *p->s == '}') { p->s++; return 0; }
    for (;;) {
        char *k = json_string(p);
        if (!k || json_expect(p, ':')) { free(k); return -1; }
        char *v = json_string(p);
        if (!v) { free(k); return -1; }
        f->meta_keys = xrealloc(f->meta_keys, (size_t)(f->n_meta + 1) * sizeof(char *));
        f->meta_values = xrealloc(f->meta_values, (size_t)(f->n_meta + 1) * sizeof(char *));
        f->meta_keys[f->n_meta] = k;
        f->meta_values[f->n_meta++] = v;
        json_skip_ws(p);
        if (p->s < p->end && *p->s == ',') { p->s++; continue; }
        return json_expect(p, '}');
    }
}

static size_t st_dtype_bytes(const char *d) {
    if (!strcmp(d, "F64") || !strcmp(d, "I64") || !strcmp(d, "U64")) return 8;
    if (!strcmp(d, "F32") || !strcmp(d, "I32") || !strcmp(d, "U32")) return 4;
    if (!strcmp(d, "F16") || !strcmp(d, "BF16") || !strcmp(d, "I16") || !strcmp(d, "U16")) return 2;
    if (!strcmp(d, "U8") || !strcmp(d, "I8") || !strcmp(d, "BOOL")) return 1;
    return 0;
}

/* ---- checksums (see safetensors.h) ---- */
#define CRC_KEY "checksum."
#define CRC_META CRC_KEY "__metadata__"

static bool is_crc_key(const char *k) { return !strncmp(k, CRC_KEY, sizeof CRC_KEY - 1); }

/* the metadata pairs other than checksums, order-independent (a tool may rewrite them in another order) */
static uint32_t meta_crc(char *const *keys, char *const *values, int n) {
    uint32_t sum = 0;
    for (int i = 0; i < n; i++)
        if (!is_crc_key(keys[i])) sum += crc32c_update(crc32c_update(0, keys[i], strlen(keys[i]) + 1), values[i],
                                                       strlen(values[i]) + 1);
    return sum;
}

static int parse_crc(const char *v, uint32_t *out) {
    if (strncmp(v, "crc32c:", 7) || strlen(v) != 15) return -1;
    uint32_t x = 0;
    for (const char *h = v + 7; *h; h++) {
        if (!isxdigit((unsigned char)*h)) return -1;
        x = x * 16 + (uint32_t)(isdigit((unsigned char)*h) ? *h - '0' : tolower((unsigned char)*h) - 'a' + 10);
    }
    *out = x;
    return 0;
}

/* the checksums of the metadata cover exactly the tensors and the metadata still sums to its own: 0 or -1 */
static int check_crc_header(st_file *f) {
    int n_crc = 0, has_meta = 0;
    for (int i = 0; i < f->n_meta; i++) {
        const char *k = f->meta_keys[i];
        if (!is_crc_key(k)) continue;
        uint32_t c;
        if (parse_crc(f->meta_values[i], &c) != 0)
            return vaec_set_error("'%s': checksum '%s' = '%s' is not crc32c:<8 hex digits>: the header is corrupt", f->path,
                                  k, f->meta_values[i]);
        if (!strcmp(k, CRC_META)) {
            uint32_t got = meta_crc(f->meta_keys, f->meta_values, f->n_meta);
            if (got != c)
                return vaec_set_error("'%s': the metadata (step, RNG, ...) fails its checksum (stored %08x, computed %08x): "
                                      "the file is corrupt", f->path, c, got);
            has_meta = 1;
            continue;
        }
        st_entry *e = (st_entry *)st_find(f, k + sizeof CRC_KEY - 1);
        if (!e || e->has_crc)
            return vaec_set_error("'%s': checksum '%s' names %s: the header is corrupt", f->path, k,
                                  e ? "a tensor twice" : "no tensor of the file");
        e->has_crc = true;
        e->crc = c;
        n_crc++;
    }
    /* vaec writes both kinds or none: one without the other is a checksum key whose name was corrupted */
    if (n_crc && !has_meta)
        return vaec_set_error("'%s': the tensors have checksums but the metadata has none: the header is corrupt", f->path);
    for (int i = 0; has_meta && i < f->n_entries; i++)
        if (!f->entries[i].has_crc)
            return vaec_set_error("'%s': tensor '%s' has no checksum while the others have: the header is corrupt", f->path,
                                  f->entries[i].name);
    return 0;
}

static int crc_mismatch(const st_file *f, const st_entry *e, uint32_t got) {
    return vaec_set_error("'%s': tensor '%s' fails its checksum (stored %08x, computed %08x): the file is corrupt",
                          f->path, e->name, e->crc, got);
}

st_file *st_open(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) { vaec_set_error("cannot open '%s': %s", path, strerror(errno)); return NULL; }
    struct stat sb;
    fstat(fileno(fp), &sb);
    uint64_t size = (uint64_t)sb.st_size;
    unsigned char lenbuf[8];
    if (size < 8 || fread(lenbuf, 1, 8, fp) != 8) {
        fclose(fp);
        vaec_set_error("'%s' is not a safetensors file: only %llu bytes", path, (unsigned long long)size);
        return NULL;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | lenbuf[i];
    if (hlen == 0 || hlen > 100u * 1024 * 1024 || 8 + hlen > size) {
        fclose(fp);
        vaec_set_error("'%s' is not a safetensors file or is truncated: header length %llu, file size %llu",
                       path, (unsigned long long)hlen, (unsigned long long)size);
        return NULL;
    }
    char *hdr = xmalloc(hlen + 1);
    if (fread(hdr, 1, hlen, fp) != hlen) {
        free(hdr);
        fclose(fp);
        vaec_set_error("'%s': cannot read its %llu-byte header", path, (unsigned long long)hlen);
        return NULL;
    }
    hdr[hlen] = 0;
    st_file *f = xcalloc(1, sizeof *f);
    f->path = strdup(path);
    f->fp = fp;
    f->data_start = 8 + hlen;
    f->file_size = size;
    json_parser p = {hdr, hdr + hlen, NULL};
    int cap = 0;
    if (json_expect(&p, '{') == 0) {
        json_skip_ws(&p);
        if (p.s < p.end && *p.s == '}') p.s++;
        else for (;;) {
            char *name = json_string(&p);
            if (!name || json_expect(&p, ':')) { free(name); break; }
            if (!strcmp(name, "__metadata__")) {
                free(name);
                if (parse_meta(&p, f)) break;
            } else {
                if (f->n_entries == cap) {
                    cap = cap ? 2 * cap : 64;
                    f->entries = xrealloc(f->entries, (size_t)cap * sizeof *f->entries);
                }
                st_entry *e = &f->entries[f->n_entries];
                memset(e, 0, sizeof *e);
                e->name = name;
                f->n_entries++;
                if (parse_entry(&p, e)) break;
            }
            json_skip_ws(&p);
            if (p.s < p.end && *p.s == ',') { p.s++; continue; }
            json_expect(&p, '}');
            break;
        }
    }
    if (p.err) {
        vaec_set_error("'%s': malformed safetensors header (%s at byte %ld of the header)", path, p.err,
                       (long)(p.s - hdr));
        free(hdr);
        st_close(f);
        return NULL;
    }
    free(hdr);
    for (int i = 0; i < f->n_entries; i++) {
        st_entry *e = &f->entries[i];
        size_t es = st_dtype_bytes(e->dtype);
        /* the element count as the tensor will compute it; a product past 2^63 would wrap (possibly to the byte
         * count of the offsets) and then overflow in tensor_new: refused as not fitting (found writing the fuzz target) */
        uint64_t numel = 1;
        bool wraps = false;
        for (int d = 0; d < e->ndim; d++) {
            if (numel && (uint64_t)e->shape[d] > (uint64_t)INT64_MAX / numel) wraps = true;
            numel *= (uint64_t)e->shape[d];
        }
        if (!es) {
            vaec_set_error("'%s': tensor '%s' has unsupported dtype %s", path, e->name, e->dtype);
            st_close(f);
            return NULL;
        }
        if (wraps || numel > (uint64_t)INT64_MAX / es || e->end - e->begin != numel * es || f->data_start + e->end > size) {
            vaec_set_error("'%s': tensor '%s' (%s, %llu elements) has data_offsets [%llu, %llu] that do not fit "
                           "its shape or the file (%llu data bytes): the file is truncated or corrupt",
                           path, e->name, e->dtype, (unsigned long long)numel, (unsigned long long)e->begin,
                           (unsigned long long)e->end, (unsigned long long)(size - f->data_start));
            st_close(f);
            return NULL;
        }
    }
    if (check_crc_header(f) != 0) {
        st_close(f);
        return NULL;
    }
    return f;
}

void st_close(st_file *f) {
    if (!f) return;
    if (f->fp) fclose(f->fp);
    for (int i = 0; i < f->n_entries; i++) free(f->entries[i].name);
    for (int i = 0; i < f->n_meta; i++) { free(f->meta_keys[i]); free(f->meta_values[i]); }
    free(f->meta_keys);
    free(f->meta_values);
    free(f->entries);
    free(f->path);
    free(f);
}

const st_entry *st_find(const st_file *f, const char *name) {
    for (int i = 0; i < f->n_entries; i++) if (!strcmp(f->entries[i].name, name)) return &f->entries[i];
    return NULL;
}

const char *st_meta(const st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++) if (!strcmp(f->meta_keys[i], key)) return f->meta_values[i];
    return NULL;
}

static float half_to_float(uint16_t h, int bf16) {
    if (bf16) { uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0) { float f = (float)man * 5.9604644775390625e-08f; return sign ? -f : f; }
    u = exp == 31 ? (sign | 0x7f800000u | (man << 13)) : (sign | ((exp + 112) << 23) | (man << 13));
    float f;
    memcpy(&f, &u, 4);
    return f;
}

int st_read(const st_file *f, const char *name, tensor **out) {
    *out = NULL;
    const st_entry *e = st_find(f, name);
    if (!e) return 0;
    size_t nbytes = (size_t)(e->end - e->begin);
    tensor *t = tensor_empty(e->ndim, e->shape);
    float *dst = tensor_f32(t);
    void *raw = !strcmp(e->dtype, "F32") ? (void *)dst : xmalloc(nbytes);
    if (fseeko(f->fp, (off_t)(f->data_start + e->begin), SEEK_SET) != 0 ||
        (nbytes && fread(raw, 1, nbytes, f->fp) != nbytes)) {
        if (raw != dst) free(raw);
        tensor_release(t);
        return vaec_set_error("'%s': reading tensor '%s' failed (file truncated?)", f->path, name);
    }
    uint32_t got = e->has_crc ? crc32c_update(0, raw, nbytes) : 0;
    if (e->has_crc && got != e->crc) {
        if (raw != dst) free(raw);
        tensor_release(t);
        return crc_mismatch(f, e, got);
    }
    if (raw != dst) {   /* every dtype st_open accepts converts */
        int64_t n = t->numel;
        const char *d = e->dtype;
        for (int64_t i = 0; i < n; i++) {
            if (!strcmp(d, "F16")) dst[i] = half_to_float(((uint16_t *)raw)[i], 0);
            else if (!strcmp(d, "BF16")) dst[i] = half_to_float(((uint16_t *)raw)[i], 1);
            else if (!strcmp(d, "F64")) dst[i] = (float)((double *)raw)[i];
            else if (!strcmp(d, "I64")) dst[i] = (float)((int64_t *)raw)[i];
            else if (!strcmp(d, "I32")) dst[i] = (float)((int32_t *)raw)[i];
            else if (!strcmp(d, "I16")) dst[i] = (float)((int16_t *)raw)[i];
            else if (!strcmp(d, "U16")) dst[i] = (float)((uint16_t *)raw)[i];
            else if (!strcmp(d, "U32")) dst[i] = (float)((uint32_t *)raw)[i];
            else if (!strcmp(d, "U64")) dst[i] = (float)((uint64_t *)raw)[i];
            else if (!strcmp(d, "U8") || !strcmp(d, "BOOL")) dst[i] = (float)((uint8_t *)raw)[i];
            else if (!strcmp(d, "I8")) dst[i] = (float)((int8_t *)raw)[i];
        }
        free(raw);
    }
    *out = t;
    return 0;
}

tensor *st_load(const st_file *f, const char *name) {
    tensor *t;
    if (st_read(f, name, &t) != 0) FATAL("%s", vaec_last_error());
    return t;
}

int st_verify(const st_file *f) {
    size_t cap = 1 << 20;
    uint8_t *buf = xmalloc(cap);
    int rc = 0;
    for (int i = 0; i < f->n_entries && rc == 0; i++) {
        const st_entry *e = &f->entries[i];
        if (!e->has_crc) continue;
        uint32_t c = 0;
        uint64_t left = e->end - e->begin;
        if (fseeko(f->fp, (off_t)(f->data_start + e->begin), SEEK_SET) != 0) left = UINT64_MAX;
        while (left && left != UINT64_MAX) {
            size_t k = left < cap ? (size_t)left : cap;
            if (fread(buf, 1, k, f->fp) != k) break;
            c = crc32c_update(c, buf, k);
            left -= k;
        }
        if (left) rc = vaec_set_error("'%s': reading tensor '%s' failed (file truncated?)", f->path, e->name);
        else if (c != e->crc) rc = crc_mismatch(f, e, c);
    }
    free(buf);
    return rc;
}

tensor *st_load_checked(const st_file *f, const char *name) {
    tensor *t = st_load(f, name);
    CHECK_HINT(t != NULL, "list the file's keys with `vaec ckpt info FILE`", "'%s' has no tensor named '%s'",
               f->path, name);
    return t;
}

/* ---- writer ---- */
typedef struct { char *name; tensor *t; dtype_t dtype; } st_item;
struct st_writer {
    st_item *items;
    int n, cap;
    char **mk, **mv;
    int nm;
};

st_writer *st_writer_new(void) { return xcalloc(1, sizeof(st_writer)); }

void st_writer_add(st_writer *w, const char *name, tensor *t, dtype_t dtype) {
    for (int i = 0; i < w->n; i++) CHECK(strcmp(w->items[i].name, name), "safetensors: key '%s' added twice", name);
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 64;
        w->items = xrealloc(w->items, (size_t)w->cap * sizeof *w->items);
    }
    tensor_retain(t);
    w->items[w->n++] = (st_item){strdup(name), t, dtype};
}

void st_writer_meta(st_writer *w, const char *key, const char *value) {
    w->mk = xrealloc(w->mk, (size_t)(w->nm + 1) * sizeof(char *));
    w->mv = xrealloc(w->mv, (size_t)(w->nm + 1) * sizeof(char *));
    w->mk[w->nm] = strdup(key);
    w->mv[w->nm++] = strdup(value);
}

void st_writer_free(st_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) { free(w->items[i].name); tensor_release(w->items[i].t); }
    for (int i = 0; i < w->nm; i++) { free(w->mk[i]); free(w->mv[i]); }
    free(w->items);
    free(w->mk);
    free(w->mv);
    free(w);
}

/* the header: metadata (the user's pairs, then a checksum of each tensor and one of those pairs), then the
 * tensors in data order; the checksums are fixed-width, so the header written before the data with zeros has
 * the length of the one written over it afterwards */
static json_buf build_header(const st_writer *w, const uint32_t *crcs, uint32_t mcrc) {
    json_buf h = json_buf_new();
    json_buf_printf(&h, "{\"__metadata__\":{");
    for (int i = 0; i < w->nm; i++) {
        json_buf_string(&h, w->mk[i]);
        json_buf_printf(&h, ":");
        json_buf_string(&h, w->mv[i]);
        json_buf_printf(&h, ",");
    }
    for (int i = 0; i < w->n; i++) {
        size_t kn = strlen(w->items[i].name) + sizeof CRC_KEY;
        char *key = xmalloc(kn);
        snprintf(key, kn, CRC_KEY "%s", w->items[i].name);
        json_buf_string(&h, key);
        free(key);
        json_buf_printf(&h, ":\"crc32c:%08x\",", crcs[i]);
    }
    json_buf_printf(&h, "\"" CRC_META "\":\"crc32c:%08x\"}", mcrc);
    uint64_t off = 0;
    for (int i = 0; i < w->n; i++) {
        const st_item *it = &w->items[i];
        uint64_t nb = (uint64_t)it->t->numel * dtype_size(it->dtype);
        json_buf_printf(&h, ",");
        json_buf_string(&h, it->name);
        json_buf_printf(&h, ":{\"dtype\":\"%s\",\"shape\":[", dtype_name(it->dtype));
        for (int d = 0; d < it->t->ndim; d++) json_buf_printf(&h, d ? ",%lld" : "%lld", (long long)it->t->shape[d]);
        json_buf_printf(&h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)(off + nb));
        off += nb;
    }
    json_buf_printf(&h, "}");
    while (h.n % 8) json_buf_printf(&h, " ");   /* the reference writer aligns the data to 8 bytes */
    return h;
}

int st_writer_save(st_writer *w, const char *path) {
    for (int i = 0; i < w->nm; i++)
        CHECK(!is_crc_key(w->mk[i]), "safetensors: metadata key '%s' is reserved for checksums", w->mk[i]);
    uint32_t *crcs = xcalloc((size_t)w->n + 1, sizeof *crcs);
    json_buf h = build_header(w, crcs, 0);
    uint64_t total = 8 + h.n;
    for (int i = 0; i < w->n; i++) total += (uint64_t)w->items[i].t->numel * dtype_size(w->items[i].dtype);

    size_t plen = strlen(path);
    char *tmp = xmalloc(plen + 32);
    snprintf(tmp, plen + 32, "%s.tmp.%d", path, (int)getpid());
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        int rc = vaec_set_error("cannot create '%s': %s", tmp, strerror(errno));
        free(tmp); free(h.s); free(crcs);
        return rc;
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)h.n >> (8 * i));
    int ok = fwrite(len8, 1, 8, fp) == 8 && fwrite(h.s, 1, h.n, fp) == h.n;
    for (int i = 0; ok && i < w->n; i++) {
        st_item *it = &w->items[i];
        tensor *host = it->t->device == DEVICE_CPU ? it->t : tensor_to(it->t, DEVICE_CPU);
        tensor *conv = host->dtype == it->dtype ? host : tensor_to_dtype(host, it->dtype);
        size_t nb = (size_t)conv->numel * dtype_size(conv->dtype);
        crcs[i] = crc32c_update(0, conv->data, nb);
        ok = fwrite(conv->data, 1, nb, fp) == nb;
        if (conv != host) tensor_release(conv);
        if (host != it->t) tensor_release(host);
    }
    if (ok) {   /* the same header with the checksums, over the first */
        free(h.s);
        h = build_header(w, crcs, meta_crc(w->mk, w->mv, w->nm));
        ok = fseeko(fp, 8, SEEK_SET) == 0 && fwrite(h.s, 1, h.n, fp) == h.n;
    }
    ok = ok && fflush(fp) == 0 && fsync(fileno(fp)) == 0;
    int err = errno;
    ok = (fclose(fp) == 0) && ok;
    free(h.s);
    free(crcs);
    if (!ok || rename(tmp, path) != 0) {
        if (ok) err = errno;
        unlink(tmp);
        int rc = vaec_set_error("writing '%s' (%llu bytes) failed: %s (nothing was replaced)", path,
                                (unsigned long long)total, strerror(err));
        free(tmp);
        return rc;
    }
    free(tmp);
    return 0;
}
