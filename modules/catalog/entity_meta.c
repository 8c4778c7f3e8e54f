/* modules/catalog/entity_meta.c: the fields the catalog, not the author,
 * gives an entity: metadata.uid (a random UUID, kept for the entity's life)
 * and metadata.etag (a hash of its content, which changes exactly when the
 * content does).  The etag hashes a canonical JSON form so that key order
 * and formatting in the source file do not matter. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "catalog_internal.h"
#include "util.h"

/* ---- uid -------------------------------------------------------------------------- */

static int catalog__random_bytes(unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got == len)
        return 0;
    /* Kernels without getrandom(2) still have the device. */
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return GR_ERR_IO;
    got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    return got == len ? 0 : GR_ERR_IO;
}

int catalog_uuid_v4(char out[CATALOG_UUID_LEN + 1])
{
    unsigned char b[16];
    if (catalog__random_bytes(b, sizeof b)) {
        out[0] = '\0';
        return GR_ERR_IO;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
    return 0;
}

/* ---- canonical JSON ------------------------------------------------------------------ */

static void catalog__canon_string(gr_buf_t *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    gr_buf_reserve(b, len + 2);
    gr_buf_append(b, "\"", 1);
    /* Runs of characters that need no escape are copied at once. */
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        gr_buf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': gr_buf_append(b, "\\\"", 2); break;
        case '\\': gr_buf_append(b, "\\\\", 2); break;
        case '\n': gr_buf_append(b, "\\n", 2); break;
        case '\r': gr_buf_append(b, "\\r", 2); break;
        case '\t': gr_buf_append(b, "\\t", 2); break;
        case '\b': gr_buf_append(b, "\\b", 2); break;
        case '\f': gr_buf_append(b, "\\f", 2); break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            gr_buf_append(b, esc, 6);
        }
        }
    }
    gr_buf_append(b, s + run, len - run);
    gr_buf_append(b, "\"", 1);
}

/* The shortest decimal that reads back as the same double, so equal
 * numbers always print alike. */
static void catalog__canon_double(gr_buf_t *b, double d)
{
    if (!isfinite(d)) {
        gr_buf_puts(b, "null");
        return;
    }
    char text[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, d);
        if (strtod(text, NULL) == d)
            break;
    }
    gr_buf_puts(b, text);
}

static int catalog__cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int catalog__is_volatile_meta(const char *key)
{
    return strcmp(key, "uid") == 0 || strcmp(key, "etag") == 0 || strcmp(key, "generation") == 0;
}

/* depth 0 is the entity itself; with skip_volatile, the catalog's own
 * metadata fields are left out so stamping them does not change the hash. */
static void catalog__canon(gr_buf_t *b, struct json_object *v, int skip_volatile, int depth,
                           int in_metadata, size_t *meta_span)
{
    switch (json_object_get_type(v)) {
    case json_type_null: gr_buf_puts(b, "null"); return;
    case json_type_boolean: gr_buf_puts(b, json_object_get_boolean(v) ? "true" : "false"); return;
    case json_type_int: gr_buf_printf(b, "%" PRId64, json_object_get_int64(v)); return;
    case json_type_double: catalog__canon_double(b, json_object_get_double(v)); return;
    case json_type_string:
        catalog__canon_string(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        return;
    case json_type_array: {
        gr_buf_append(b, "[", 1);
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            if (i)
                gr_buf_append(b, ",", 1);
            catalog__canon(b, json_object_array_get_idx(v, i), skip_volatile, depth + 1, 0, NULL);
        }
        gr_buf_append(b, "]", 1);
        return;
    }
    case json_type_object: {
        size_t n = (size_t)json_object_object_length(v), k = 0;
        const char **keys = gr_xmalloc((n ? n : 1) * sizeof *keys);
        json_object_object_foreach(v, key, child)
        {
            (void)child;
            if (skip_volatile && in_metadata && catalog__is_volatile_meta(key))
                continue;
            keys[k++] = key;
        }
        qsort(keys, k, sizeof *keys, catalog__cmp_keys);
        gr_buf_append(b, "{", 1);
        for (size_t i = 0; i < k; i++) {
            if (i)
                gr_buf_append(b, ",", 1);
            catalog__canon_string(b, keys[i], strlen(keys[i]));
            gr_buf_append(b, ":", 1);
            struct json_object *child = json_object_object_get(v, keys[i]);
            int meta = depth == 0 && strcmp(keys[i], "metadata") == 0;
            if (meta && meta_span)
                meta_span[0] = b->len;
            catalog__canon(b, child, skip_volatile, depth + 1, meta, NULL);
            if (meta && meta_span)
                meta_span[1] = b->len;
        }
        gr_buf_append(b, "}", 1);
        free(keys);
        return;
    }
    }
}

char *catalog_entity_canonical_json(struct json_object *entity)
{
    gr_buf_t b = {0};
    catalog__canon(&b, entity, 0, 0, 0, NULL);
    return gr_buf_steal(&b);
}

void catalog_entity_etag(struct json_object *entity, char out[CATALOG_ETAG_LEN + 1])
{
    gr_buf_t b = {0};
    catalog__canon(&b, entity, 1, 0, 0, NULL);
    catalog__sha256_hex(b.data ? b.data : "", b.len, out);
    gr_buf_free(&b);
}

/* Sets metadata.uid (a new random one when uid is NULL); *meta is the
 * metadata object. */
static int stamp_uid(struct json_object *entity, const char *uid, struct json_object **meta)
{
    if (!json_object_object_get_ex(entity, "metadata", meta) ||
        !json_object_is_type(*meta, json_type_object))
        return GR_ERR_INVALID;
    char fresh[CATALOG_UUID_LEN + 1];
    if (!uid) {
        if (catalog_uuid_v4(fresh))
            return GR_ERR_IO;
        uid = fresh;
    }
    json_object_object_add(*meta, "uid", json_object_new_string(uid));
    return 0;
}

/* The stamped entity's canonical JSON differs from the text its etag is
 * computed from only inside metadata: that part is written again and
 * spliced in, instead of walking the whole entity twice. */
int catalog_entity_stamp_json(struct json_object *entity, const char *uid, char **json)
{
    struct json_object *meta;
    *json = NULL;
    int rc = stamp_uid(entity, uid, &meta);
    if (rc != 0)
        return rc;
    gr_buf_t b = {0};
    size_t span[2] = {0, 0};
    catalog__canon(&b, entity, 1, 0, 0, span);
    char etag[CATALOG_ETAG_LEN + 1];
    catalog__sha256_hex(b.data ? b.data : "", b.len, etag);
    json_object_object_add(meta, "etag", json_object_new_string(etag));

    gr_buf_t out = {0};
    gr_buf_reserve(&out, b.len + CATALOG_UUID_LEN + CATALOG_ETAG_LEN + 32);
    gr_buf_append(&out, b.data, span[0]);
    catalog__canon(&out, meta, 0, 1, 1, NULL);
    gr_buf_append(&out, b.data + span[1], b.len - span[1]);
    gr_buf_free(&b);
    *json = gr_buf_steal(&out);
    return 0;
}

int catalog_entity_stamp(struct json_object *entity, const char *uid)
{
    struct json_object *meta;
    int rc = stamp_uid(entity, uid, &meta);
    if (rc != 0)
        return rc;
    char etag[CATALOG_ETAG_LEN + 1];
    catalog_entity_etag(entity, etag);
    json_object_object_add(meta, "etag", json_object_new_string(etag));
    return 0;
}
