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
    for (size_t i = 0; i < rows->len; i++) {
        free(rows->items[i].key);
        free(rows->items[i].value);
        free(rows->items[i].original);
    }
    free(rows->items);
    *rows = (catalog_search_rows_t){0};
}

/* The raw (key as written, value text or NULL) pairs, before lower-casing. */
typedef struct kv {
    char *key;
    char *value;
} kv_t;

typedef struct kvs {
    kv_t *items;
    size_t len, cap;
} kvs_t;

static void kvs_push(kvs_t *k, const char *key, const char *value)
{
    if (k->len == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 32;
        k->items = gr_xrealloc(k->items, k->cap * sizeof *k->items);
    }
    k->items[k->len].key = gr_xstrdup(key);
    k->items[k->len].value = value ? gr_xstrdup(value) : NULL;
    k->len++;
}

static void kvs_free(kvs_t *k)
{
    for (size_t i = 0; i < k->len; i++) {
        free(k->items[i].key);
        free(k->items[i].value);
    }
    free(k->items);
}

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

/* JavaScript's String(value) for the scalars JSON has. */
static char *scalar_text(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_string: return gr_xstrdup(json_object_get_string(v));
    case json_type_boolean: return gr_xstrdup(json_object_get_boolean(v) ? "true" : "false");
    case json_type_int: return gr_xasprintf("%" PRId64, json_object_get_int64(v));
    case json_type_double: {
        double d = json_object_get_double(v);
        if (!isfinite(d))
            return gr_xstrdup("null");
        char text[40];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(text, sizeof text, "%.*g", prec, d);
            if (strtod(text, NULL) == d)
                break;
        }
        return gr_xstrdup(text);
    }
    default: return NULL;
    }
}

typedef struct walk {
    kvs_t out;
    gr_strvec_t seen_item_keys; /* lower-cased "path.item" already emitted */
} walk_t;

static void visit(walk_t *w, gr_buf_t *path, struct json_object *v)
{
    if (path->len && is_special(path->data))
        return;
    enum json_type t = json_object_get_type(v);
    if (t == json_type_null || t == json_type_string || t == json_type_boolean ||
        t == json_type_int || t == json_type_double) {
        char *text = scalar_text(v);
        kvs_push(&w->out, path->len ? path->data : "", text);
        free(text);
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
                    kvs_push(&w->out, path->data, "true");
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

static int cmp_kv_key(const void *a, const void *b)
{
    return strcmp(((const kv_t *)a)->key, ((const kv_t *)b)->key);
}

/* Backstage refuses an entity with two keys that differ only in case, since
 * they would fold into one search key. */
static int check_case_clash(const kvs_t *raw, gr_error_t *err)
{
    kv_t *sorted = gr_xmalloc((raw->len ? raw->len : 1) * sizeof *sorted);
    size_t n = 0;
    for (size_t i = 0; i < raw->len; i++) {
        sorted[n].key = catalog_lower(raw->items[i].key);
        sorted[n].value = raw->items[i].key; /* borrowed: the original key */
        n++;
    }
    qsort(sorted, n, sizeof *sorted, cmp_kv_key);
    int rc = 0;
    for (size_t i = 1; i < n && rc == 0; i++)
        if (strcmp(sorted[i].key, sorted[i - 1].key) == 0 &&
            strcmp(sorted[i].value, sorted[i - 1].value) != 0)
            rc = gr_error_set(err, GR_ERR_INVALID,
                              "entity has duplicate keys that vary only in casing, '%s'",
                              sorted[i].key);
    for (size_t i = 0; i < n; i++)
        free(sorted[i].key);
    free(sorted);
    return rc;
}

static void rows_push(catalog_search_rows_t *rows, char *key, char *value, char *original)
{
    if (rows->len == rows->cap) {
        rows->cap = rows->cap ? rows->cap * 2 : 32;
        rows->items = gr_xrealloc(rows->items, rows->cap * sizeof *rows->items);
    }
    rows->items[rows->len++] = (catalog_search_row_t){key, value, original};
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
    visit(&w, &path, entity);
    gr_buf_free(&path);
    gr_strvec_free(&w.seen_item_keys);

    const char *name = string_at(entity, "metadata", "name");
    const char *ns = string_at(entity, "metadata", "namespace");
    kvs_push(&w.out, "metadata.name", name);
    kvs_push(&w.out, "metadata.namespace", ns);
    kvs_push(&w.out, "metadata.uid", string_at(entity, "metadata", "uid"));
    if (!ns || !*ns)
        kvs_push(&w.out, "metadata.namespace", CATALOG_DEFAULT_NAMESPACE);

    int rc = check_case_clash(&w.out, err);
    if (rc == 0) {
        for (size_t i = 0; i < w.out.len; i++) {
            const kv_t *kv = &w.out.items[i];
            if (strlen(kv->key) > CATALOG_SEARCH_MAX_KEY)
                continue;
            int keep = kv->value && strlen(kv->value) <= CATALOG_SEARCH_MAX_VALUE;
            rows_push(out, catalog_lower(kv->key), keep ? catalog_lower(kv->value) : NULL,
                      keep ? gr_xstrdup(kv->value) : NULL);
        }
        /* Drop duplicate (key, value) pairs, such as a tag listed twice. */
        if (out->len)
            qsort(out->items, out->len, sizeof *out->items, cmp_row);
        size_t k = 0;
        for (size_t i = 0; i < out->len; i++) {
            if (k && cmp_row(&out->items[k - 1], &out->items[i]) == 0) {
                free(out->items[i].key);
                free(out->items[i].value);
                free(out->items[i].original);
                continue;
            }
            out->items[k++] = out->items[i];
        }
        out->len = k;
    }
    kvs_free(&w.out);
    return rc;
}
