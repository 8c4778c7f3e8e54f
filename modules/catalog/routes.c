/* modules/catalog/routes.c: Backstage's catalog REST API under
 * /api/catalog/, with the request parameters and response bodies of
 * @backstage/plugin-catalog-backend, so @backstage/catalog-client works
 * unchanged.  Entities are served as stored (final_entity), without
 * parsing, unless `fields` asks for a projection. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "catalog_plugin.h"

#define JSON_TYPE "application/json; charset=utf-8"
#define QUERY_DEFAULT_LIMIT 200

/* One request waiting for the database. */
typedef struct request {
    catalog_t *cat;
    gr_http_request_t *req;
    catalog_fields_t fields;
    /* GET /entities */
    int64_t limit;
    int64_t offset;
    char *link_base; /* the query string for the Link header, without "after" */
    /* GET /entities/by-query */
    catalog_cursor_t cursor;
    int counted;
    /* by-name, by-uid, locations, source: the 404 message */
    char *not_found;
    /* source: the canonical ref asked for */
    char *ref;
    /* by-name, by-uid, the plain list: where the answer goes in the read cache */
    char *cache_key;
    uint64_t cache_generation;
    /* POST /entities/by-refs */
    gr_strvec_t refs;
    /* GET /entity-facets */
    gr_strvec_t facets;
} request_t;

static request_t *request_new(catalog_t *cat, gr_http_request_t *req)
{
    request_t *rq = gr_xcalloc(1, sizeof *rq);
    rq->cat = cat;
    rq->req = req;
    rq->limit = -1;
    catalog_cursor_init(&rq->cursor);
    catalog_ref(cat);
    return rq;
}

static void request_free(request_t *rq)
{
    catalog_fields_free(&rq->fields);
    catalog_cursor_free(&rq->cursor);
    gr_strvec_free(&rq->refs);
    gr_strvec_free(&rq->facets);
    free(rq->link_base);
    free(rq->not_found);
    free(rq->ref);
    free(rq->cache_key);
    catalog_t *cat = rq->cat;
    free(rq);
    catalog_unref(cat);
}

static void fail_db(request_t *rq, const gr_db_error_t *err)
{
    gr_http_respond_error(rq->req, err->code == GR_ERR_UNAVAILABLE ? 503 : 500,
                          "catalog database: %s", err->message);
    request_free(rq);
}

static void fail_input(gr_http_request_t *req, const char *message)
{
    gr_http_respond_error(req, 400, "%s", message);
}

/* ---- parameters ------------------------------------------------------------------ */

static size_t query_all(gr_http_request_t *req, const char *name, gr_strvec_t *out)
{
    for (size_t i = 0;; i++) {
        const char *v = gr_http_query(req, name, i);
        if (!v)
            return out->len;
        gr_strvec_push(out, v);
    }
}

/* Backstage's parseIntegerParam: the decimal text of an integer, exactly as
 * the integer prints back.  1 when present, 0 when absent, or an error. */
static int int_param(gr_http_request_t *req, const char *name, int64_t *out, gr_error_t *err)
{
    const char *v = gr_http_query(req, name, 0);
    if (!v)
        return 0;
    long long n = strtoll(v, NULL, 10);
    char back[32];
    snprintf(back, sizeof back, "%lld", n);
    if (strcmp(back, v) != 0)
        return gr_error_set(err, GR_ERR_INVALID, "Invalid %s, not an integer", name);
    *out = n;
    return 1;
}

static int parse_filter(gr_http_request_t *req, catalog_filter_t *f, gr_error_t *err)
{
    gr_strvec_t strings = {0};
    query_all(req, "filter", &strings);
    int rc = catalog_filter_parse(f, (const char *const *)strings.items, strings.len, err);
    gr_strvec_free(&strings);
    return rc;
}

static int parse_fields(gr_http_request_t *req, catalog_fields_t *fields, gr_error_t *err)
{
    for (size_t i = 0;; i++) {
        const char *v = gr_http_query(req, "fields", i);
        if (!v)
            return 0;
        if (catalog_fields_add(fields, v, err) != 0)
            return GR_ERR_INVALID;
    }
}

/* ---- responses --------------------------------------------------------------------- */

/* Appends one stored entity, projected when fields were asked for. */
static void append_entity(gr_buf_t *b, const char *final_entity, const catalog_fields_t *fields)
{
    if (!final_entity) {
        gr_buf_puts(b, "null");
        return;
    }
    if (!fields->paths.len) {
        gr_buf_puts(b, final_entity);
        return;
    }
    struct json_object *entity = json_tokener_parse(final_entity);
    struct json_object *out = catalog_fields_project(fields, entity);
    gr_buf_puts(b, json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(out);
    json_object_put(entity);
}

static void respond_buf(gr_http_request_t *req, int status, gr_buf_t *b)
{
    gr_http_respond(req, status, JSON_TYPE, b->data ? b->data : "", b->len);
    gr_buf_free(b);
}

/* ---- GET /entities/by-name/:kind/:namespace/:name, GET /entities/by-uid/:uid --- */

static void on_one_entity(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    request_t *rq = ud;
    if (err) {
        fail_db(rq, err);
        return;
    }
    if (gr_db_result_rows(res) == 0) {
        gr_http_respond_error(rq->req, 404, "%s", rq->not_found);
        request_free(rq);
        return;
    }
    const char *body = gr_db_result_value(res, 0, 0);
    size_t len = strlen(body);
    if (rq->cache_key)
        catalog_cache_put(rq->cat->cache, rq->cache_generation, rq->cache_key, body, len,
                          uv_now(rq->cat->ctx->loop));
    gr_http_respond(rq->req, 200, JSON_TYPE, body, len);
    request_free(rq);
}

/* Answers from the read cache when it holds key. */
static int from_cache(catalog_t *cat, gr_http_request_t *req, const char *key)
{
    size_t len = 0;
    const char *body = catalog_cache_get(cat->cache, key, uv_now(cat->ctx->loop), &len);
    if (!body)
        return 0;
    gr_http_respond(req, 200, JSON_TYPE, body, len);
    return 1;
}

static void by_name(gr_http_request_t *req, void *ud)
{
    catalog_t *cat = ud;
    const char *kind = gr_http_param(req, "kind");
    const char *ns = gr_http_param(req, "namespace");
    const char *name = gr_http_param(req, "name");
    char *ref = catalog_ref_string(kind, ns, name);
    if (from_cache(cat, req, ref)) {
        free(ref);
        return;
    }
    request_t *rq = request_new(cat, req);
    rq->not_found = gr_xasprintf("No entity named '%s' found, with kind '%s' in namespace '%s'",
                                 name, kind, ns);
    rq->cache_key = ref;
    rq->cache_generation = catalog_cache_generation(cat->cache);
    gr_db_execute(cat->ctx->db, cat->stmt_by_ref, GR_DB_PARAMS(ref), on_one_entity, rq);
}

static void by_uid(gr_http_request_t *req, void *ud)
{
    catalog_t *cat = ud;
    const char *uid = gr_http_param(req, "uid");
    if (!catalog_uuid_valid(uid)) {
        gr_http_respond_error(req, 404, "No entity with uid %s", uid);
        return;
    }
    char *key = gr_xasprintf("uid:%s", uid);
    if (from_cache(cat, req, key)) {
        free(key);
        return;
    }
    request_t *rq = request_new(cat, req);
    rq->not_found = gr_xasprintf("No entity with uid %s", uid);
    rq->cache_key = key;
    rq->cache_generation = catalog_cache_generation(cat->cache);
    gr_db_execute(cat->ctx->db, cat->stmt_by_uid, GR_DB_PARAMS(uid), on_one_entity, rq);
}

/* ---- GET /entities ------------------------------------------------------------- */

static void url_encode(gr_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p))
            gr_buf_append(b, p, 1);
        else
            gr_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
}

static void append_query(gr_buf_t *b, gr_http_request_t *req, const char *name)
{
    for (size_t i = 0;; i++) {
        const char *v = gr_http_query(req, name, i);
        if (!v)
            return;
        gr_buf_printf(b, "%s%s=", b->len ? "&" : "", name);
        url_encode(b, v);
    }
}

/* Backstage's Link header: the same query, continuing after this page. */
static void set_next_link(gr_http_request_t *req, const char *link_base, int64_t limit,
                          int64_t offset)
{
    char *json = gr_xasprintf("{\"limit\":%lld,\"offset\":%lld}", (long long)limit,
                              (long long)(offset + limit));
    char *after = catalog_base64_encode(json, strlen(json));
    gr_buf_t link = {0};
    gr_buf_printf(&link, "<%s?%s%safter=", gr_http_path(req), link_base, *link_base ? "&" : "");
    url_encode(&link, after);
    gr_buf_puts(&link, ">; rel=\"next\"");
    gr_http_set_header(req, "Link", link.data);
    gr_buf_free(&link);
    free(after);
    free(json);
}

static void on_entities(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    request_t *rq = ud;
    if (err) {
        fail_db(rq, err);
        return;
    }
    int rows = gr_db_result_rows(res);
    int more = rq->limit >= 0 && rows > rq->limit;
    if (more) {
        rows = (int)rq->limit;
        set_next_link(rq->req, rq->link_base, rq->limit, rq->offset);
    }
    /* The cached form starts with whether a next page follows. */
    gr_buf_t b = {0};
    gr_buf_reserve(&b, 1024u * (size_t)(rows + 1));
    gr_buf_append(&b, more ? "1[" : "0[", 2);
    for (int i = 0; i < rows; i++) {
        if (i)
            gr_buf_append(&b, ",", 1);
        append_entity(&b, gr_db_result_value(res, i, 0), &rq->fields);
    }
    gr_buf_append(&b, "]", 1);
    if (rq->cache_key)
        catalog_cache_put(rq->cat->cache, rq->cache_generation, rq->cache_key, b.data, b.len,
                          uv_now(rq->cat->ctx->loop));
    gr_http_respond(rq->req, 200, JSON_TYPE, b.data + 1, b.len - 1);
    gr_buf_free(&b);
    request_free(rq);
}

/* Backstage's "after" cursor: base64 of {"limit": n, "offset": n}. */
static int parse_after(const char *after, int64_t *limit, int64_t *offset, gr_error_t *err)
{
    if (!*after)
        return gr_error_set(err, GR_ERR_INVALID, "Invalid after, must not be empty");
    char *json = gr_base64_decode(after, strlen(after), NULL);
    struct json_object *o = json ? json_tokener_parse(json) : NULL;
    free(json);
    int rc = 0;
    struct json_object *v;
    if (!json_object_is_type(o, json_type_object))
        rc = gr_error_set(err, GR_ERR_INVALID, "Malformed after cursor, could not be parsed");
    if (rc == 0 && json_object_object_get_ex(o, "limit", &v)) {
        if (!json_object_is_type(v, json_type_int))
            rc = gr_error_set(err, GR_ERR_INVALID,
                              "Malformed after cursor, limit was not an number");
        else
            *limit = json_object_get_int64(v);
    }
    if (rc == 0 && json_object_object_get_ex(o, "offset", &v)) {
        if (!json_object_is_type(v, json_type_int))
            rc = gr_error_set(err, GR_ERR_INVALID,
                              "Malformed after cursor, offset was not a number");
        else
            *offset = json_object_get_int64(v);
    }
    json_object_put(o);
    return rc;
}

static void entities(gr_http_request_t *req, void *ud)
{
    catalog_t *cat = ud;
    gr_error_t err = {0};
    catalog_filter_t filter = {0};
    catalog_fields_t fields = {0};
    gr_strvec_t orders = {0};
    catalog_order_t *order = NULL;
    int64_t limit = -1, offset = 0;
    int rc = parse_filter(req, &filter, &err);
    if (rc == 0)
        rc = parse_fields(req, &fields, &err);
    if (rc == 0 && int_param(req, "limit", &limit, &err) < 0)
        rc = GR_ERR_INVALID;
    if (rc == 0 && int_param(req, "offset", &offset, &err) < 0)
        rc = GR_ERR_INVALID;
    if (rc == 0 && limit != -1 && limit <= 0)
        rc = gr_error_set(&err, GR_ERR_INVALID, "Invalid limit, must be greater than zero");
    if (rc == 0 && offset < 0)
        rc = gr_error_set(&err, GR_ERR_INVALID, "Invalid offset, must be zero or greater");
    const char *after = gr_http_query(req, "after", 0);
    if (rc == 0 && after)
        rc = parse_after(after, &limit, &offset, &err);
    query_all(req, "order", &orders);
    if (orders.len)
        order = gr_xcalloc(orders.len, sizeof *order);
    for (size_t i = 0; rc == 0 && i < orders.len; i++) {
        const char *o = orders.items[i];
        int desc = strncmp(o, "desc:", 5) == 0;
        if ((!desc && strncmp(o, "asc:", 4) != 0) || !o[desc ? 5 : 4]) {
            rc = gr_error_set(&err, GR_ERR_INVALID,
                              "Invalid order parameter \"%s\", expected \"<asc or desc>:<field "
                              "name>\"",
                              o);
            break;
        }
        order[i].field = catalog_lower(o + (desc ? 5 : 4));
        order[i].descending = desc;
    }
    if (rc != 0) {
        fail_input(req, err.message);
    } else {
        request_t *rq = request_new(cat, req);
        rq->fields = fields;
        fields = (catalog_fields_t){0};
        rq->limit = limit;
        rq->offset = offset;
        gr_buf_t base = {0};
        append_query(&base, req, "filter");
        append_query(&base, req, "fields");
        append_query(&base, req, "order");
        append_query(&base, req, "limit");
        rq->link_base = gr_buf_steal(&base);
        if (filter.n == 0 && orders.len == 0) {
            /* The plain list, the hottest query of all: prepared, and cached
             * when it is not projected. */
            size_t len = 0;
            const char *hit = NULL;
            if (rq->fields.paths.len == 0) {
                rq->cache_key = gr_xasprintf("list:%lld:%lld", (long long)limit, (long long)offset);
                rq->cache_generation = catalog_cache_generation(cat->cache);
                hit = catalog_cache_get(cat->cache, rq->cache_key, uv_now(cat->ctx->loop), &len);
            }
            if (hit) {
                if (hit[0] == '1')
                    set_next_link(req, rq->link_base, limit, offset);
                gr_http_respond(req, 200, JSON_TYPE, hit + 1, len - 1);
                request_free(rq);
            } else {
                char l[32], o[32];
                snprintf(l, sizeof l, "%lld", (long long)(limit + 1));
                snprintf(o, sizeof o, "%lld", (long long)offset);
                gr_db_execute(cat->ctx->db, cat->stmt_list, GR_DB_PARAMS(limit >= 0 ? l : NULL, o),
                              on_entities, rq);
            }
        } else {
            catalog_sql_t q = {0};
            catalog_sql_entities(&q, &filter, order, orders.len, limit >= 0 ? limit + 1 : -1,
                                 offset);
            gr_db_query(cat->ctx->db, q.text.data, (int)q.params.len,
                        (const char *const *)q.params.items, on_entities, rq);
            catalog_sql_free(&q);
        }
    }
    for (size_t i = 0; order && i < orders.len; i++)
        free(order[i].field);
    free(order);
    gr_strvec_free(&orders);
    catalog_fields_free(&fields);
    catalog_filter_free(&filter);
}

/* ---- GET /entities/by-query ------------------------------------------------------- */

static struct json_object *page_cursor(const catalog_cursor_t *base, int previous, int is_null,
                                       const char *value, const char *uid, int64_t total,
                                       int first_null, const char *first_value,
                                       const char *first_uid)
{
    catalog_cursor_t c;
    catalog_cursor_init(&c);
    for (size_t i = 0; i < base->filter.len; i++)
        gr_strvec_push(&c.filter, base->filter.items[i]);
    c.order_field = base->order_field ? gr_xstrdup(base->order_field) : NULL;
    c.descending = base->descending;
    c.text_term = base->text_term ? gr_xstrdup(base->text_term) : NULL;
    for (size_t i = 0; i < base->text_fields.len; i++)
        gr_strvec_push(&c.text_fields, base->text_fields.items[i]);
    c.has_position = 1;
    c.last_null = is_null;
    c.last_value = value ? gr_xstrdup(value) : NULL;
    c.last_uid = gr_xstrdup(uid);
    c.previous = previous;
    c.has_first = 1;
    c.first_null = first_null;
    c.first_value = first_value ? gr_xstrdup(first_value) : NULL;
    c.first_uid = gr_xstrdup(first_uid);
    c.total_items = total;
    char *text = catalog_cursor_encode(&c);
    catalog_cursor_free(&c);
    struct json_object *s = json_object_new_string(text);
    free(text);
    return s;
}

static int same_position(int null_a, const char *value_a, const char *uid_a, int null_b,
                         const char *value_b, const char *uid_b)
{
    if (null_a != null_b || strcmp(uid_a, uid_b) != 0)
        return 0;
    return null_a || (value_a && value_b && strcmp(value_a, value_b) == 0);
}

static void on_query(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    request_t *rq = ud;
    catalog_cursor_t *c = &rq->cursor;
    if (err) {
        fail_db(rq, err);
        return;
    }
    int rows = gr_db_result_rows(res);
    int64_t total = c->total_items;
    if (rq->counted && rows > 0)
        gr_db_result_int64(res, 0, 0, &total);
    /* The counting form returns one row with a NULL uid for an empty page. */
    int first_row = 0, nrows = rows;
    if (rq->counted && rows == 1 && !gr_db_result_value(res, 0, 1))
        nrows = 0;
    int64_t limit = rq->limit;
    int more = limit > 0 && (c->previous || nrows > limit);
    if (nrows > limit)
        nrows = (int)limit;
        /* Index of the i-th row in logical order (a backwards page comes reversed). */
#define ROW(i) (c->previous ? first_row + nrows - 1 - (i) : first_row + (i))

    gr_buf_t b = {0};
    gr_buf_reserve(&b, 1024u * (size_t)(nrows + 1));
    gr_buf_puts(&b, "{\"items\":[");
    for (int i = 0; i < nrows; i++) {
        if (i)
            gr_buf_append(&b, ",", 1);
        append_entity(&b, gr_db_result_value(res, ROW(i), 3), &rq->fields);
    }
    gr_buf_printf(&b, "],\"totalItems\":%lld,\"pageInfo\":", (long long)(total < 0 ? 0 : total));

    struct json_object *page = json_object_new_object();
    if (nrows > 0) {
        int top = ROW(0), bottom = ROW(nrows - 1);
        const char *top_uid = gr_db_result_value(res, top, 1);
        const char *top_value = gr_db_result_value(res, top, 2);
        const char *bottom_uid = gr_db_result_value(res, bottom, 1);
        const char *bottom_value = gr_db_result_value(res, bottom, 2);
        int initial = !c->has_first;
        int first_null = initial ? top_value == NULL : c->first_null;
        const char *first_value = initial ? top_value : c->first_value;
        const char *first_uid = initial ? top_uid : c->first_uid;
        if (more)
            json_object_object_add(page, "nextCursor",
                                   page_cursor(c, 0, bottom_value == NULL, bottom_value, bottom_uid,
                                               total, first_null, first_value, first_uid));
        if (!initial && !same_position(top_value == NULL, top_value, top_uid, c->first_null,
                                       c->first_value, c->first_uid))
            json_object_object_add(page, "prevCursor",
                                   page_cursor(c, 1, top_value == NULL, top_value, top_uid, total,
                                               first_null, first_value, first_uid));
    }
#undef ROW
    gr_buf_puts(&b, json_object_to_json_string_ext(page, JSON_C_TO_STRING_PLAIN));
    json_object_put(page);
    gr_buf_puts(&b, "}");
    respond_buf(rq->req, 200, &b);
    request_free(rq);
}

static void split_fields(const char *text, gr_strvec_t *out)
{
    char *copy = gr_xstrdup(text);
    for (char *save = NULL, *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        while (*p == ' ')
            p++;
        if (*p)
            gr_strvec_push_owned(out, catalog_lower(p));
    }
    free(copy);
}

static void by_query(gr_http_request_t *req, void *ud)
{
    catalog_t *cat = ud;
    gr_error_t err = {0};
    request_t *rq = request_new(cat, req);
    catalog_cursor_t *c = &rq->cursor;
    catalog_filter_t filter = {0};
    int64_t limit = QUERY_DEFAULT_LIMIT, offset = 0;
    int rc = parse_fields(req, &rq->fields, &err);
    if (rc == 0 && int_param(req, "limit", &limit, &err) < 0)
        rc = GR_ERR_INVALID;
    if (rc == 0 && int_param(req, "offset", &offset, &err) < 0)
        rc = GR_ERR_INVALID;
    if (rc == 0 && (limit < 0 || offset < 0))
        rc = gr_error_set(&err, GR_ERR_INVALID, "Invalid %s, must be zero or greater",
                          limit < 0 ? "limit" : "offset");
    const char *cursor = gr_http_query(req, "cursor", 0);
    if (rc == 0 && cursor) {
        /* A cursor carries the query: filter, order and text search. */
        rc = catalog_cursor_decode(c, cursor, &err);
        offset = 0;
    } else if (rc == 0) {
        query_all(req, "filter", &c->filter);
        const char *order = gr_http_query(req, "orderField", 0);
        if (order) {
            const char *comma = strchr(order, ',');
            const char *dir = comma ? comma + 1 : "asc";
            if (strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0)
                rc = gr_error_set(&err, GR_ERR_INVALID,
                                  "Invalid order field order, must be asc or desc");
            char *field = comma ? gr_xstrndup(order, (size_t)(comma - order)) : gr_xstrdup(order);
            c->order_field = catalog_lower(field);
            free(field);
            c->descending = strcmp(dir, "desc") == 0;
        }
        const char *term = gr_http_query(req, "fullTextFilterTerm", 0);
        if (term) {
            while (*term == ' ')
                term++;
            size_t len = strlen(term);
            while (len && term[len - 1] == ' ')
                len--;
            if (len)
                c->text_term = gr_xstrndup(term, len);
        }
        for (size_t i = 0;; i++) {
            const char *v = gr_http_query(req, "fullTextFilterFields", i);
            if (!v)
                break;
            split_fields(v, &c->text_fields);
        }
    }
    if (rc == 0)
        rc = catalog_filter_parse(&filter, (const char *const *)c->filter.items, c->filter.len,
                                  &err);
    if (rc != 0) {
        fail_input(req, err.message);
        request_free(rq);
        catalog_filter_free(&filter);
        return;
    }
    rq->limit = limit;
    rq->counted = c->total_items < 0;
    catalog_sql_t q = {0};
    /* One extra row going forward tells whether another page follows. */
    catalog_sql_query(&q, &filter, c, rq->counted, c->previous ? limit : limit + 1, offset);
    gr_db_query(cat->ctx->db, q.text.data, (int)q.params.len, (const char *const *)q.params.items,
                on_query, rq);
    catalog_sql_free(&q);
    catalog_filter_free(&filter);
}

/* ---- POST /entities/by-refs ----------------------------------------------------------- */

typedef struct found {
    const char *ref;
    const char *entity;
} found_t;

static int cmp_found(const void *a, const void *b)
{
    return strcmp(((const found_t *)a)->ref, ((const found_t *)b)->ref);
}

static void on_by_refs(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    request_t *rq = ud;
    if (err) {
        fail_db(rq, err);
        return;
    }
    int rows = gr_db_result_rows(res);
    found_t *found = gr_xcalloc((size_t)rows + 1, sizeof *found);
    for (int i = 0; i < rows; i++)
        found[i] = (found_t){gr_db_result_value(res, i, 0), gr_db_result_value(res, i, 1)};
    qsort(found, (size_t)rows, sizeof *found, cmp_found);
    gr_buf_t b = {0};
    gr_buf_puts(&b, "{\"items\":[");
    for (size_t i = 0; i < rq->refs.len; i++) {
        if (i)
            gr_buf_append(&b, ",", 1);
        found_t key = {rq->refs.items[i], NULL};
        found_t *hit = bsearch(&key, found, (size_t)rows, sizeof *found, cmp_found);
        append_entity(&b, hit ? hit->entity : NULL, &rq->fields);
    }
    gr_buf_puts(&b, "]}");
    free(found);
    respond_buf(rq->req, 200, &b);
    request_free(rq);
}

static void by_refs(gr_http_request_t *req, void *ud)
{
    catalog_t *cat = ud;
    gr_error_t err = {0};
    struct json_object *body = gr_http_body_json(req, &err), *refs = NULL, *fields = NULL;
    if (!json_object_is_type(body, json_type_object) ||
        !json_object_object_get_ex(body, "entityRefs", &refs) ||
        !json_object_is_type(refs, json_type_array)) {
        gr_http_respond_error(req, 400,
                              "Malformed request body (did you remember to specify an "
                              "application/json content type?), entityRefs must be a list of "
                              "strings%s%s",
                              body ? "" : ": ", body ? "" : err.message);
        return;
    }
    request_t *rq = request_new(cat, req);
    gr_buf_t joined = {0};
    int bad = 0;
    for (size_t i = 0; i < json_object_array_length(refs); i++) {
        struct json_object *r = json_object_array_get_idx(refs, i);
        if (!json_object_is_type(r, json_type_string)) {
            bad = 1;
            break;
        }
        char *lower = catalog_lower(json_object_get_string(r));
        /* A ref cannot hold a line break; keep it out of the joined list. */
        if (!strchr(lower, '\n'))
            gr_buf_printf(&joined, "%s%s", joined.len ? "\n" : "", lower);
        gr_strvec_push_owned(&rq->refs, lower);
    }
    if (!bad && json_object_object_get_ex(body, "fields", &fields) && fields) {
        if (!json_object_is_type(fields, json_type_array))
            bad = 1;
        for (size_t i = 0; !bad && i < json_object_array_length(fields); i++) {
            struct json_object *f = json_object_array_get_idx(fields, i);
            bad = !json_object_is_type(f, json_type_string) ||
                  catalog_fields_add(&rq->fields, json_object_get_string(f), &err) != 0;
        }
    }
    if (!bad)
        bad = parse_fields(req, &rq->fields, &err) != 0;
    catalog_filter_t filter = {0};
    if (bad || parse_filter(req, &filter, &err) != 0) {
        fail_input(req, bad && !err.message[0]
                            ? "Malformed request body (did you remember to specify an "
                              "application/json content type?), entityRefs and fields must be "
                              "lists of strings"
                            : err.message);
        request_free(rq);
        gr_buf_free(&joined);
        return;
    }
    catalog_sql_t q = {0};
    catalog_sql_by_refs(&q, joined.data ? joined.data : "", &filter);
    gr_db_query(cat->ctx->db, q.text.data, (int)q.params.len, (const char *const *)q.params.items,
                on_by_refs, rq);
    catalog_sql_free(&q);
    catalog_filter_free(&filter);
    gr_buf_free(&joined);
}

/* ---- GET /entity-facets ----------------------------------------------------------------- */

static void on_facets(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    request_t *rq = ud;
    if (err) {
        fail_db(rq, err);
        return;
    }
    struct json_object *facets = json_object_new_object();
    for (size_t i = 0; i < rq->facets.len; i++) {
        const char *asked = rq->facets.items[i];
        if (json_object_object_get_ex(facets, asked, NULL))
            continue;
        char *key = catalog_lower(asked);
        struct json_object *list = json_object_new_array();
        for (int r = 0; r < gr_db_result_rows(res); r++) {
            if (strcmp(gr_db_result_value(res, r, 0), key) != 0)
                continue;
            int64_t count = 0;
            gr_db_result_int64(res, r, 2, &count);
            struct json_object *item = json_object_new_object();
            json_object_object_add(item, "value",
                                   json_object_new_string(gr_db_result_value(res, r, 1)));
            json_object_object_add(item, "count", json_object_new_int64(count));
            json_object_array_add(list, item);
        }
        free(key);
        json_object_object_add(facets, asked, list);
    }
    struct json_object *body = json_object_new_object();
    json_object_object_add(body, "facets", facets);
    gr_http_respond_json(rq->req, 200, body);
    request_free(rq);
}

static void entity_facets(gr_http_request_t *req, void *ud)
{
    catalog_t *cat = ud;
    gr_error_t err = {0};
    request_t *rq = request_new(cat, req);
    catalog_filter_t filter = {0};
    if (query_all(req, "facet", &rq->facets) == 0) {
        fail_input(req, "Missing facet parameter");
        request_free(rq);
        return;
    }
    if (parse_filter(req, &filter, &err) != 0) {
        fail_input(req, err.message);
        request_free(rq);
        return;
    }
    gr_strvec_t lower = {0};
    for (size_t i = 0; i < rq->facets.len; i++)
        gr_strvec_push_owned(&lower, catalog_lower(rq->facets.items[i]));
    catalog_sql_t q = {0};
    catalog_sql_facets(&q, &lower, &filter);
    gr_db_query(cat->ctx->db, q.text.data, (int)q.params.len, (const char *const *)q.params.items,
                on_facets, rq);
    catalog_sql_free(&q);
    gr_strvec_free(&lower);
    catalog_filter_free(&filter);
}

/* ---- locations -------------------------------------------------------------------------- */

static struct json_object *location_json(const char *id, const char *ref)
{
    const char *colon = strchr(ref, ':');
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(id));
    if (colon) {
        json_object_object_add(o, "type", json_object_new_string_len(ref, (int)(colon - ref)));
        json_object_object_add(o, "target", json_object_new_string(colon + 1));
    } else {
        json_object_object_add(o, "type", json_object_new_string("url"));
        json_object_object_add(o, "target", json_object_new_string(ref));
    }
    return o;
}

static void on_locations(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    request_t *rq = ud;
    if (err) {
        fail_db(rq, err);
        return;
    }
    struct json_object *list = json_object_new_array();
    for (int i = 0; i < gr_db_result_rows(res); i++) {
        struct json_object *item = json_object_new_object();
        json_object_object_add(
            item, "data",
            location_json(gr_db_result_value(res, i, 0), gr_db_result_value(res, i, 1)));
        json_object_array_add(list, item);
    }
    gr_http_respond_json(rq->req, 200, list);
    request_free(rq);
}

static void on_location(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    request_t *rq = ud;
    if (err) {
        fail_db(rq, err);
        return;
    }
    if (gr_db_result_rows(res) == 0) {
        gr_http_respond_error(rq->req, 404, "%s", rq->not_found);
    } else {
        gr_http_respond_json(
            rq->req, 200,
            location_json(gr_db_result_value(res, 0, 0), gr_db_result_value(res, 0, 1)));
    }
    request_free(rq);
}

static void locations(gr_http_request_t *req, void *ud)
{
    catalog_t *cat = ud;
    request_t *rq = request_new(cat, req);
    gr_db_query(cat->ctx->db, CATALOG_SQL_LOCATIONS, 0, NULL, on_locations, rq);
}

static void location_by_id(gr_http_request_t *req, void *ud)
{
    catalog_t *cat = ud;
    const char *id = gr_http_param(req, "id");
    if (!catalog_uuid_valid(id)) {
        gr_http_respond_error(req, 404, "Found no location with ID %s", id);
        return;
    }
    request_t *rq = request_new(cat, req);
    rq->not_found = gr_xasprintf("Found no location with ID %s", id);
    gr_db_query(cat->ctx->db, CATALOG_SQL_LOCATION_BY_ID, GR_DB_PARAMS(id), on_location, rq);
}

static void location_by_entity(gr_http_request_t *req, void *ud)
{
    catalog_t *cat = ud;
    const char *kind = gr_http_param(req, "kind");
    const char *ns = gr_http_param(req, "namespace");
    const char *name = gr_http_param(req, "name");
    request_t *rq = request_new(cat, req);
    char *ref = catalog_ref_string(kind, ns, name);
    rq->not_found = gr_xasprintf("Found no location for entity %s", ref);
    gr_db_query(cat->ctx->db, CATALOG_SQL_LOCATION_BY_REF, GR_DB_PARAMS(ref), on_location, rq);
    free(ref);
}

/* ---- GET /entities/by-name/:kind/:namespace/:name/source ------------------------------ *
 * Not in Backstage's API: where a person edits the entity.  Backstage keeps
 * only the location ref (an annotation); the web UI also shows the file
 * within the provider's source and the line, which the provider told the
 * catalog with the mutation. */

static void on_source(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    request_t *rq = ud;
    if (err) {
        fail_db(rq, err);
        return;
    }
    if (gr_db_result_rows(res) == 0) {
        gr_http_respond_error(rq->req, 404, "%s", rq->not_found);
        request_free(rq);
        return;
    }
    const char *location = gr_db_result_value(res, 0, 0);
    const char *path = gr_db_result_value(res, 0, 1);
    int64_t line = 0;
    int has_line = gr_db_result_value(res, 0, 2) && gr_db_result_int64(res, 0, 2, &line) == 0;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "entityRef", json_object_new_string(rq->ref));
    json_object_object_add(o, "provider", json_object_new_string(gr_db_result_value(res, 0, 3)));
    json_object_object_add(o, "location", location ? json_object_new_string(location) : NULL);
    json_object_object_add(o, "path", path ? json_object_new_string(path) : NULL);
    json_object_object_add(o, "line", has_line ? json_object_new_int64(line) : NULL);
    gr_http_respond_json(rq->req, 200, o);
    request_free(rq);
}

static void source_by_entity(gr_http_request_t *req, void *ud)
{
    catalog_t *cat = ud;
    const char *kind = gr_http_param(req, "kind");
    const char *ns = gr_http_param(req, "namespace");
    const char *name = gr_http_param(req, "name");
    request_t *rq = request_new(cat, req);
    rq->ref = catalog_ref_string(kind, ns, name);
    rq->not_found = gr_xasprintf("No entity named '%s' found, with kind '%s' in namespace '%s'",
                                 name, kind, ns);
    gr_db_query(cat->ctx->db, CATALOG_SQL_SOURCE_BY_REF, GR_DB_PARAMS(rq->ref), on_source, rq);
}

/* ---- POST /validate-entity ------------------------------------------------------------- */

static void add_error(struct json_object *errors, const char *name, const char *message)
{
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "name", json_object_new_string(name));
    json_object_object_add(e, "message", json_object_new_string(message));
    json_object_array_add(errors, e);
}

static void validate_entity(gr_http_request_t *req, void *ud)
{
    (void)ud;
    gr_error_t err = {0};
    struct json_object *body = gr_http_body_json(req, &err), *entity = NULL, *location = NULL;
    struct json_object *errors = json_object_new_array();
    const char *loc = NULL;
    if (!json_object_is_type(body, json_type_object)) {
        add_error(errors, "InputError",
                  body ? "Malformed request: the body must be a JSON object" : err.message);
    } else if (!json_object_object_get_ex(body, "location", &location) ||
               !json_object_is_type(location, json_type_string)) {
        add_error(errors, "InputError", "Malformed request: location must be a string");
    } else if (!json_object_object_get_ex(body, "entity", &entity) ||
               !json_object_is_type(entity, json_type_object)) {
        add_error(errors, "InputError", "Malformed request: entity must be an object");
    } else {
        loc = json_object_get_string(location);
        const char *colon = strchr(loc, ':');
        if (!colon || colon == loc || !colon[1])
            add_error(errors, "TypeError",
                      "Unable to parse location ref, expected <type>:<target>");
    }
    if (json_object_array_length(errors) == 0) {
        struct json_object *copy = NULL;
        json_object_deep_copy(entity, &copy, NULL);
        /* As Backstage, the location becomes the entity's managed-by
         * annotations unless the entity sets them itself. */
        struct json_object *meta, *annotations;
        if (json_object_object_get_ex(copy, "metadata", &meta) &&
            json_object_is_type(meta, json_type_object)) {
            if (!json_object_object_get_ex(meta, "annotations", &annotations)) {
                annotations = json_object_new_object();
                json_object_object_add(meta, "annotations", annotations);
            }
            if (json_object_is_type(annotations, json_type_object)) {
                if (!json_object_object_get_ex(annotations, "backstage.io/managed-by-location",
                                               NULL))
                    json_object_object_add(annotations, "backstage.io/managed-by-location",
                                           json_object_new_string(loc));
                if (!json_object_object_get_ex(annotations,
                                               "backstage.io/managed-by-origin-location", NULL))
                    json_object_object_add(annotations, "backstage.io/managed-by-origin-location",
                                           json_object_new_string(loc));
            }
        }
        catalog_prepared_t p;
        catalog_prepare_entity(&p, copy, loc, NULL, 0);
        if (p.rejected)
            add_error(errors, "InputError", p.reject_message);
        catalog_prepared_free(&p);
        json_object_put(copy);
    }
    if (json_object_array_length(errors) == 0) {
        json_object_put(errors);
        gr_http_respond(req, 200, JSON_TYPE, "{}", 2);
        return;
    }
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "errors", errors);
    gr_http_respond_json(req, 400, out);
}

/* ---- mounting ---------------------------------------------------------------------------- */

int catalog_routes_add(catalog_t *cat, gr_error_t *err)
{
    static const struct {
        const char *method;
        const char *pattern;
        gr_http_handler_fn fn;
    } routes[] = {
        {"GET", "/entities", entities},
        {"GET", "/entities/by-query", by_query},
        {"GET", "/entities/by-uid/:uid", by_uid},
        {"GET", "/entities/by-name/:kind/:namespace/:name", by_name},
        {"GET", "/entities/by-name/:kind/:namespace/:name/source", source_by_entity},
        {"POST", "/entities/by-refs", by_refs},
        {"GET", "/entity-facets", entity_facets},
        {"GET", "/locations", locations},
        {"GET", "/locations/:id", location_by_id},
        {"GET", "/locations/by-entity/:kind/:namespace/:name", location_by_entity},
        {"POST", "/validate-entity", validate_entity},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int rc = gr_router_add(cat->ctx->router, routes[i].method, routes[i].pattern, routes[i].fn,
                               cat, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}
