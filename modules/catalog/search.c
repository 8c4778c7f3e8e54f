/* modules/catalog/search.c: an entity flattened into the rows of the search
 * table, which every filter, ordering, facet and text search reads. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_plugin.h"

char *catalog_lower(const char *s)
{
    char *out = gr_xstrdup(s);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

void catalog_search_rows_free(catalog_search_rows_t *rows)
{
    free(rows->items);
    free(rows->strings);
    *rows = (catalog_search_rows_t){0};
}

/* Every string the builder makes goes into one block (an arena), which the
 * rows keep: a large sync builds a quarter of a million rows, and one
 * allocation per string cost more than the rest of the work.  Offsets,
 * not pointers, while the block still grows. */
#define NONE ((size_t)-1)

static size_t arena_put(gr_buf_t *a, const char *s, size_t len)
{
    size_t off = a->len;
    gr_buf_append(a, s, len);
    gr_buf_append(a, "", 1); /* the NUL that ends it */
    return off;
}

/* Copies, lower-cased, the string the arena holds at offset `from`: an
 * offset, as making room may move the arena. */
static size_t arena_put_lower(gr_buf_t *a, size_t from)
{
    size_t len = strlen(a->data + from), off = a->len;
    gr_buf_reserve(a, len + 1);
    const char *s = a->data + from;
    for (size_t i = 0; i < len; i++)
        a->data[off + i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    a->data[off + len] = '\0';
    a->len += len + 1;
    a->data[a->len] = '\0';
    return off;
}

/* The raw (key as written, value text or NONE) pairs, before lower-casing. */
typedef struct raw {
    size_t key, value;
} raw_t;

static const char *const special_keys[] = {
    "attachments",   "relations",          "status", "metadata.name", "metadata.uid",
    "metadata.etag", "metadata.namespace", NULL};

static int is_special(const char *path)
{
    for (size_t i = 0; special_keys[i]; i++)
        if (strcmp(path, special_keys[i]) == 0)
            return 1;
    return 0;
}

typedef struct walk {
    gr_buf_t arena;
    raw_t *raw;
    size_t n, cap;
    gr_strvec_t seen_item_keys; /* lower-cased "path.item" already emitted */
} walk_t;

static void raw_push(walk_t *w, const char *key, size_t key_len, const char *value,
                     size_t value_len)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 32;
        w->raw = gr_xrealloc(w->raw, w->cap * sizeof *w->raw);
    }
    size_t k = arena_put(&w->arena, key, key_len);
    size_t v = value ? arena_put(&w->arena, value, value_len) : NONE;
    w->raw[w->n++] = (raw_t){k, v};
}

/* JavaScript's String(value) for the scalars JSON has, into text (at least
 * 40 bytes) unless it is a string; NULL for null. */
static const char *scalar_text(struct json_object *v, char *text, size_t *len)
{
    switch (json_object_get_type(v)) {
    case json_type_string:
        *len = (size_t)json_object_get_string_len(v);
        return json_object_get_string(v);
    case json_type_boolean:
        snprintf(text, 40, "%s", json_object_get_boolean(v) ? "true" : "false");
        break;
    case json_type_int: snprintf(text, 40, "%" PRId64, json_object_get_int64(v)); break;
    case json_type_double: {
        double d = json_object_get_double(v);
        if (!isfinite(d)) {
            snprintf(text, 40, "null");
            break;
        }
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(text, 40, "%.*g", prec, d);
            if (strtod(text, NULL) == d)
                break;
        }
        break;
    }
    default: return NULL;
    }
    *len = strlen(text);
    return text;
}

static void visit(walk_t *w, gr_buf_t *path, struct json_object *v)
{
    if (path->len && is_special(path->data))
        return;
    enum json_type t = json_object_get_type(v);
    if (t == json_type_null || t == json_type_string || t == json_type_boolean ||
        t == json_type_int || t == json_type_double) {
        char text[40];
        size_t len = 0;
        const char *value = scalar_text(v, text, &len);
        raw_push(w, path->len ? path->data : "", path->len, value, len);
        return;
    }
    size_t mark = path->len;
    if (t == json_type_array) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            struct json_object *item = json_object_array_get_idx(v, i);
            visit(w, path, item);
            if (json_object_is_type(item, json_type_string)) {
                gr_buf_append(path, ".", 1);
                gr_buf_append(path, json_object_get_string(item),
                              (size_t)json_object_get_string_len(item));
                char *lower = catalog_lower(path->data);
                if (!gr_strvec_contains(&w->seen_item_keys, lower)) {
                    gr_strvec_push_owned(&w->seen_item_keys, lower);
                    raw_push(w, path->data, path->len, "true", 4);
                } else {
                    free(lower);
                }
                path->len = mark;
                path->data[mark] = '\0';
            }
        }
        return;
    }
    json_object_object_foreach(v, key, child)
    {
        if (mark)
            gr_buf_append(path, ".", 1);
        gr_buf_puts(path, key);
        visit(w, path, child);
        path->len = mark;
        if (path->data)
            path->data[mark] = '\0';
    }
}

static const char *string_at(struct json_object *obj, const char *a, const char *b)
{
    struct json_object *x, *y;
    if (!json_object_object_get_ex(obj, a, &x) || !json_object_object_get_ex(x, b, &y) ||
        !json_object_is_type(y, json_type_string))
        return NULL;
    return json_object_get_string(y);
}

static void raw_push_str(walk_t *w, const char *key, const char *value)
{
    raw_push(w, key, strlen(key), value, value ? strlen(value) : 0);
}

/* A key lower-cased, and the key as written. */
typedef struct key_pair {
    const char *lower, *original;
} key_pair_t;

static int cmp_key_pair(const void *a, const void *b)
{
    return strcmp(((const key_pair_t *)a)->lower, ((const key_pair_t *)b)->lower);
}

/* Backstage refuses an entity with two keys that differ only in case, since
 * they would fold into one search key. */
static int check_case_clash(const char *base, const raw_t *raw, const size_t *lower, size_t n,
                            gr_error_t *err)
{
    key_pair_t *sorted = gr_xmalloc((n ? n : 1) * sizeof *sorted);
    for (size_t i = 0; i < n; i++)
        sorted[i] = (key_pair_t){base + lower[i], base + raw[i].key};
    qsort(sorted, n, sizeof *sorted, cmp_key_pair);
    int rc = 0;
    for (size_t i = 1; i < n && rc == 0; i++)
        if (strcmp(sorted[i].lower, sorted[i - 1].lower) == 0 &&
            strcmp(sorted[i].original, sorted[i - 1].original) != 0)
            rc = gr_error_set(err, GR_ERR_INVALID,
                              "entity has duplicate keys that vary only in casing, '%s'",
                              sorted[i].lower);
    free(sorted);
    return rc;
}

static int cmp_row(const void *a, const void *b)
{
    const catalog_search_row_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    if (!x->value || !y->value)
        return (x->value != NULL) - (y->value != NULL);
    return strcmp(x->value, y->value);
}

int catalog_search_rows_build(struct json_object *entity, catalog_search_rows_t *out,
                              gr_error_t *err)
{
    *out = (catalog_search_rows_t){0};
    walk_t w = {0};
    gr_buf_t path = {0};
    gr_buf_reserve(&w.arena, 1024);
    visit(&w, &path, entity);
    gr_buf_free(&path);
    gr_strvec_free(&w.seen_item_keys);

    const char *name = string_at(entity, "metadata", "name");
    const char *ns = string_at(entity, "metadata", "namespace");
    raw_push_str(&w, "metadata.name", name);
    raw_push_str(&w, "metadata.namespace", ns);
    raw_push_str(&w, "metadata.uid", string_at(entity, "metadata", "uid"));
    if (!ns || !*ns)
        raw_push_str(&w, "metadata.namespace", CATALOG_DEFAULT_NAMESPACE);

    /* Lower-cased keys and kept values, offsets into the arena too; then
     * the arena stops growing and offsets become pointers. */
    size_t *lkey = gr_xmalloc((w.n ? w.n : 1) * sizeof *lkey);
    size_t *lvalue = gr_xmalloc((w.n ? w.n : 1) * sizeof *lvalue);
    for (size_t i = 0; i < w.n; i++) {
        lkey[i] = arena_put_lower(&w.arena, w.raw[i].key);
        size_t v = w.raw[i].value;
        int keep = v != NONE && strlen(w.arena.data + v) <= CATALOG_SEARCH_MAX_VALUE;
        lvalue[i] = keep ? arena_put_lower(&w.arena, v) : NONE;
    }
    /* The rows live as long as the mutation: give back the slack first. */
    w.arena.data = gr_xrealloc(w.arena.data, w.arena.len + 1);
    w.arena.cap = w.arena.len + 1;
    const char *base = w.arena.data;

    int rc = check_case_clash(base, w.raw, lkey, w.n, err);
    if (rc == 0) {
        out->items = gr_xmalloc((w.n ? w.n : 1) * sizeof *out->items);
        out->cap = w.n;
        for (size_t i = 0; i < w.n; i++) {
            if (strlen(base + w.raw[i].key) > CATALOG_SEARCH_MAX_KEY)
                continue;
            int keep = lvalue[i] != NONE;
            out->items[out->len++] = (catalog_search_row_t){
                (char *)base + lkey[i], keep ? (char *)base + lvalue[i] : NULL,
                keep ? (char *)base + w.raw[i].value : NULL};
        }
        /* Drop duplicate (key, value) pairs, such as a tag listed twice. */
        if (out->len)
            qsort(out->items, out->len, sizeof *out->items, cmp_row);
        size_t k = 0;
        for (size_t i = 0; i < out->len; i++) {
            if (k && cmp_row(&out->items[k - 1], &out->items[i]) == 0)
                continue;
            out->items[k++] = out->items[i];
        }
        out->len = k;
        out->strings = gr_buf_steal(&w.arena);
    }
    free(lkey);
    free(lvalue);
    free(w.raw);
    gr_buf_free(&w.arena);
    return rc;
}
