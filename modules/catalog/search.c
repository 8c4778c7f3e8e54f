/* modules/catalog/search.c: an entity flattened into the rows of the search
 * table, which every filter, ordering, facet and text search reads. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
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

/* The search index's order, (key, value): bytewise, as the C collation
 * compares, with a null value after every other. */
static int cmp_key_value(const char *key_a, const char *value_a, const char *key_b,
                         const char *value_b)
{
    int c = strcmp(key_a, key_b);
    if (c)
        return c;
    if (!value_a || !value_b)
        return (value_a == NULL) - (value_b == NULL);
    return strcmp(value_a, value_b);
}

static int cmp_row(const void *a, const void *b)
{
    const catalog_search_row_t *x = a, *y = b;
    return cmp_key_value(x->key, x->value, y->key, y->value);
}

/* Sorting a large load's rows (a first sync of 10,000 entities has some
 * 280,000) compares each row with some twenty others.  Its strings are
 * spread over every entity's own block, so comparing them directly misses
 * the cache at each step.  A row is compared instead by a sort item that
 * holds the rank of its key among the distinct keys and the first eight
 * bytes of its value; only rows whose values agree on those read the rest
 * of the strings. */
typedef struct sort_item {
    uint64_t value_head; /* big-endian, zero-padded; all ones for null */
    const char *value;
    uint32_t key_rank, row;
} sort_item_t;

static uint64_t value_head(const char *v)
{
    /* UTF-8 never has a 0xFF byte, so a null value sorts after any text. */
    if (!v)
        return UINT64_MAX;
    uint64_t h = 0;
    size_t i = 0;
    for (; i < 8 && v[i]; i++)
        h = h << 8 | (unsigned char)v[i];
    return i ? h << (8 * (8 - i)) : 0;
}

static int cmp_sort_item(const void *a, const void *b)
{
    const sort_item_t *x = a, *y = b;
    if (x->key_rank != y->key_rank)
        return x->key_rank < y->key_rank ? -1 : 1;
    if (x->value_head != y->value_head)
        return x->value_head < y->value_head ? -1 : 1;
    /* The same eight bytes: both values are null, or equal and shorter than
     * eight bytes, or both go on. */
    if (!x->value || !y->value || (x->value_head & 0xFF) == 0)
        return 0;
    return strcmp(x->value + 8, y->value + 8);
}

static int cmp_key_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Each row's key as an index into the distinct keys, then the distinct
 * keys' ranks in sorted order in place of those indexes. */
static void rank_keys(const char *const *rows, size_t nrows, sort_item_t *items)
{
    size_t cap = 64;
    while (cap < 2 * nrows)
        cap *= 2;
    uint32_t *slots = gr_xmalloc(cap * sizeof *slots); /* distinct key index + 1, or 0 */
    memset(slots, 0, cap * sizeof *slots);
    const char **distinct = gr_xmalloc((nrows ? nrows : 1) * sizeof *distinct);
    size_t ndistinct = 0;
    for (size_t i = 0; i < nrows; i++) {
        const char *key = rows[4 * i + 1];
        size_t slot = (size_t)gr_hash_string(key) & (cap - 1);
        while (slots[slot] && strcmp(distinct[slots[slot] - 1], key) != 0)
            slot = (slot + 1) & (cap - 1);
        if (!slots[slot]) {
            distinct[ndistinct] = key;
            slots[slot] = (uint32_t)++ndistinct;
        }
        items[i].key_rank = slots[slot] - 1;
    }
    /* Sort the distinct keys through an index array kept beside them. */
    const char **sorted = gr_xmalloc((ndistinct ? ndistinct : 1) * sizeof *sorted);
    memcpy(sorted, distinct, ndistinct * sizeof *sorted);
    qsort(sorted, ndistinct, sizeof *sorted, cmp_key_string);
    uint32_t *rank = gr_xmalloc((ndistinct ? ndistinct : 1) * sizeof *rank);
    for (size_t r = 0; r < ndistinct; r++) {
        /* Find sorted[r]'s distinct index through the table again. */
        size_t slot = (size_t)gr_hash_string(sorted[r]) & (cap - 1);
        while (strcmp(distinct[slots[slot] - 1], sorted[r]) != 0)
            slot = (slot + 1) & (cap - 1);
        rank[slots[slot] - 1] = (uint32_t)r;
    }
    for (size_t i = 0; i < nrows; i++)
        items[i].key_rank = rank[items[i].key_rank];
    free(rank);
    free(sorted);
    free(distinct);
    free(slots);
}

void catalog_search_table_rows_sort(const char **rows, size_t nrows)
{
    if (nrows < 2)
        return;
    sort_item_t *items = gr_xmalloc(nrows * sizeof *items);
    rank_keys(rows, nrows, items);
    for (size_t i = 0; i < nrows; i++) {
        items[i].value = rows[4 * i + 2];
        items[i].value_head = value_head(items[i].value);
        items[i].row = (uint32_t)i;
    }
    qsort(items, nrows, sizeof *items, cmp_sort_item);
    const char **sorted = gr_xmalloc(4 * nrows * sizeof *sorted);
    for (size_t i = 0; i < nrows; i++)
        memcpy(&sorted[4 * i], &rows[4 * (size_t)items[i].row], 4 * sizeof *sorted);
    memcpy(rows, sorted, 4 * nrows * sizeof *rows);
    free(sorted);
    free(items);
}

void catalog_search_table_rows_merge(const char *const *a, size_t na, const char *const *b,
                                     size_t nb, const char **out)
{
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
        const char *const *from;
        if (cmp_key_value(a[4 * i + 1], a[4 * i + 2], b[4 * j + 1], b[4 * j + 2]) <= 0)
            from = &a[4 * i++];
        else
            from = &b[4 * j++];
        memcpy(out, from, 4 * sizeof *out);
        out += 4;
    }
    if (i < na) {
        memcpy(out, &a[4 * i], 4 * (na - i) * sizeof *out);
        out += 4 * (na - i);
    }
    if (j < nb)
        memcpy(out, &b[4 * j], 4 * (nb - j) * sizeof *out);
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
