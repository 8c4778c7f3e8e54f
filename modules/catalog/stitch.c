/* modules/catalog/stitch.c: the relations lists of the entities a mutation
 * writes, built on a worker thread so the database only has to store them.
 *
 * An entity's list is every relation whose source is its ref, whichever
 * entity implied it: its own spec, the specs of the other entities written
 * with it, and the entities already stored (read back by the caller).  The
 * same relation implied twice is listed once; the list is sorted by type
 * then target, bytewise, as the database's stitching (COLLATE "C") sorts
 * the lists of the entities it re-stitches itself. */
#include <stdlib.h>
#include <string.h>

#include "catalog_plugin.h"

typedef struct rel_view {
    const char *source, *type, *target;
} rel_view_t;

static int cmp_view(const void *a, const void *b)
{
    const rel_view_t *x = a, *y = b;
    int c = strcmp(x->source, y->source);
    if (c == 0)
        c = strcmp(x->type, y->type);
    return c ? c : strcmp(x->target, y->target);
}

/* The index of the written entity called ref, or -1. */
static long find_written(catalog_prepared_t *const *written, size_t n, const char *ref)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(written[mid]->ref, ref);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Characters of a UTF-8 text, as PostgreSQL's length() counts them. */
static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* body with ',"relations":<rels>}' in place of its closing brace. */
static char *final_entity(const char *body, const char *rels, size_t rels_len)
{
    static const char mid[] = ",\"relations\":";
    size_t body_len = strlen(body);
    size_t keep = body_len ? body_len - 1 : 0;
    char *out = gr_xmalloc(keep + sizeof mid - 1 + rels_len + 2);
    memcpy(out, body, keep);
    memcpy(out + keep, mid, sizeof mid - 1);
    memcpy(out + keep + sizeof mid - 1, rels, rels_len);
    memcpy(out + keep + sizeof mid - 1 + rels_len, "}", 2);
    return out;
}

/* A JSON string; refs and relation types seldom need an escape. */
static void json_string(gr_buf_t *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == '"' || *p == '\\') {
            gr_buf_json_string(b, s);
            return;
        }
    gr_buf_append(b, "\"", 1);
    gr_buf_puts(b, s);
    gr_buf_append(b, "\"", 1);
}

static char *lower_into(char *out, const char *s)
{
    for (; *s; s++)
        *out++ = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
    *out++ = '\0';
    return out;
}

/* The list of the relations views[lo, hi) (one source, sorted, unique) and
 * their relations.<type> search rows, whose strings share one block. */
static void stitch_one(const catalog_prepared_t *p, const rel_view_t *views, size_t lo, size_t hi,
                       catalog_stitched_t *out, gr_buf_t *rels)
{
    static const char prefix[] = "relations.";
    size_t n = hi - lo, bytes = 0;
    gr_buf_reset(rels);
    gr_buf_append(rels, "[", 1);
    for (size_t i = lo; i < hi; i++) {
        if (i > lo)
            gr_buf_append(rels, ",", 1);
        gr_buf_puts(rels, "{\"type\":");
        json_string(rels, views[i].type);
        gr_buf_puts(rels, ",\"targetRef\":");
        json_string(rels, views[i].target);
        gr_buf_append(rels, "}", 1);
        bytes += sizeof prefix + strlen(views[i].type) + 2 * (strlen(views[i].target) + 1);
    }
    gr_buf_append(rels, "]", 1);
    out->final_entity = final_entity(p->body, rels->data, rels->len);
    out->body_length = utf8_length(p->body);

    out->rows = gr_xmalloc(3 * n * sizeof *out->rows);
    out->strings = gr_xmalloc(bytes);
    out->nrows = n;
    char *w = out->strings;
    for (size_t i = lo, k = 0; i < hi; i++, k += 3) {
        out->rows[k] = w;
        memcpy(w, prefix, sizeof prefix - 1);
        w = lower_into(w + sizeof prefix - 1, views[i].type);
        out->rows[k + 1] = w;
        w = lower_into(w, views[i].target);
        out->rows[k + 2] = w;
        size_t len = strlen(views[i].target) + 1;
        memcpy(w, views[i].target, len);
        w += len;
    }
}

void catalog_stitch_build(catalog_prepared_t *const *written, size_t nwritten,
                          const char *const *external, size_t nexternal, catalog_stitched_t *out,
                          gr_strvec_t *others)
{
    size_t n = nexternal;
    for (size_t i = 0; i < nwritten; i++)
        n += written[i]->relations.len;
    rel_view_t *views = gr_xmalloc((n ? n : 1) * sizeof *views);
    size_t k = 0;
    for (size_t i = 0; i < nwritten; i++)
        for (size_t j = 0; j < written[i]->relations.len; j++) {
            const catalog_relation_t *r = &written[i]->relations.items[j];
            views[k++] = (rel_view_t){r->source, r->type, r->target};
        }
    for (size_t i = 0; i < nexternal; i++)
        views[k++] = (rel_view_t){external[3 * i], external[3 * i + 1], external[3 * i + 2]};
    qsort(views, n, sizeof *views, cmp_view);
    /* Drop duplicates: the same relation implied by both of its ends. */
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || cmp_view(&views[u - 1], &views[i]) != 0)
            views[u++] = views[i];

    memset(out, 0, nwritten * sizeof *out);
    gr_buf_t rels = {0};
    for (size_t lo = 0, hi; lo < u; lo = hi) {
        for (hi = lo + 1; hi < u && strcmp(views[hi].source, views[lo].source) == 0; hi++)
            ;
        long w = find_written(written, nwritten, views[lo].source);
        if (w >= 0)
            stitch_one(written[w], views, lo, hi, &out[w], &rels);
        else if (others)
            gr_strvec_push(others, views[lo].source);
    }
    /* Written entities without a single relation. */
    for (size_t i = 0; i < nwritten; i++)
        if (!out[i].final_entity) {
            out[i].final_entity = final_entity(written[i]->body, "[]", 2);
            out[i].body_length = utf8_length(written[i]->body);
        }
    gr_buf_free(&rels);
    free(views);
}

void catalog_stitched_free(catalog_stitched_t *s)
{
    free(s->final_entity);
    free(s->rows);
    free(s->strings);
    *s = (catalog_stitched_t){0};
}
