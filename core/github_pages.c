/* core/github_pages.c: REST pagination by Link headers, and GraphQL
 * queries with cursor pagination, built on the single-call pipeline. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_impl.h"
#include "github_internal.h"

#define DEFAULT_MAX_PAGES 100

/* ---- Link headers ----------------------------------------------------------- */

/* Whether a Link parameter list ("; rel=\"next\"; type=...") has rel next. */
static int params_say_next(const char *p, const char *end)
{
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
            p++;
        const char *param_end = p;
        int quoted = 0;
        while (param_end < end && (quoted || *param_end != ';')) {
            if (*param_end == '"')
                quoted = !quoted;
            param_end++;
        }
        if (param_end - p > 4 && strncasecmp(p, "rel", 3) == 0) {
            const char *v = p + 3;
            while (v < param_end && (*v == ' ' || *v == '='))
                v++;
            if (v < param_end && *v == '"')
                v++;
            /* rel may hold several space-separated relations. */
            while (v < param_end && *v != '"') {
                size_t n = 0;
                while (v + n < param_end && v[n] != ' ' && v[n] != '"')
                    n++;
                if (n == 4 && strncasecmp(v, "next", 4) == 0)
                    return 1;
                v += n;
                while (v < param_end && *v == ' ')
                    v++;
            }
        }
        p = param_end;
    }
    return 0;
}

/* The rel="next" target of a Link header, exactly as written (caller
 * frees), or NULL. */
static char *link_next(const char *link)
{
    const char *p = link;
    while (p && *p) {
        const char *lt = strchr(p, '<');
        if (!lt)
            return NULL;
        const char *gt = strchr(lt, '>');
        if (!gt)
            return NULL;
        const char *params = gt + 1;
        const char *params_end = params;
        int quoted = 0;
        while (*params_end && (quoted || *params_end != ',')) {
            if (*params_end == '"')
                quoted = !quoted;
            params_end++;
        }
        if (params_say_next(params, params_end))
            return gr_xstrndup(lt + 1, (size_t)(gt - lt - 1));
        p = *params_end ? params_end + 1 : params_end;
    }
    return NULL;
}

/* ---- REST pagination -------------------------------------------------------------- */

typedef struct pager {
    gr_github_t *gh;
    gr_github_request_t req; /* strings below are our copies */
    char *name;              /* the first page's path, for messages */
    char *items_key;
    int max_pages;
    int pages;
    json_object *items;
    gr_github_pages_fn cb;
    void *user_data;
} pager_t;

static char *dup_or_null(const char *s)
{
    return s ? gr_xstrdup(s) : NULL;
}

static void pager_free(pager_t *p)
{
    free((char *)p->req.method);
    free((char *)p->req.accept);
    free((char *)p->req.owner);
    free((char *)p->req.repo);
    free(p->name);
    free(p->items_key);
    json_object_put(p->items);
    free(p);
}

static void pager_request(pager_t *p, const char *path);

static void on_page(const gr_github_response_t *res, const gr_error_t *err, void *ud)
{
    pager_t *p = ud;
    if (err) {
        p->cb(NULL, 0, err, p->user_data);
        pager_free(p);
        return;
    }
    json_object *page = gr__github_response_json(res);
    json_object *list = page;
    if (p->items_key && page && json_object_is_type(page, json_type_object))
        list = gh_json_path(page, p->items_key);
    if (!list || !json_object_is_type(list, json_type_array)) {
        gr_error_t e;
        gr_error_set(&e, GR_ERR_INVALID, "GitHub %s %s page %d: expected a JSON array%s%s%s",
                     p->req.method, p->name, p->pages + 1,
                     p->items_key ? " in field '" : "; name the array field (items_key)",
                     p->items_key ? p->items_key : "", p->items_key ? "'" : "");
        p->cb(NULL, 0, &e, p->user_data);
        pager_free(p);
        return;
    }
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++)
        json_object_array_add(p->items, json_object_get(json_object_array_get_idx(list, i)));
    p->pages++;

    char *next = link_next(gr__github_response_header(res, "Link"));
    if (next && p->pages < p->max_pages) {
        pager_request(p, next);
        free(next);
        return;
    }
    if (next)
        gh_log(p->gh->client, GR_LOG_DEBUG, "GitHub %s: stopped after %d pages (the cap)", p->name,
               p->pages);
    p->cb(p->items, next == NULL, NULL, p->user_data);
    free(next);
    pager_free(p);
}

static void pager_request(pager_t *p, const char *path)
{
    gh_op_t *op = gh_op_new(p->gh, p->req.method, path);
    if (p->req.accept) {
        free(op->accept);
        op->accept = gr_xstrdup(p->req.accept);
    }
    if (p->req.owner) {
        free(op->owner);
        free(op->repo);
        op->owner = gr_xstrdup(p->req.owner);
        op->repo = dup_or_null(p->req.repo);
    } else if (op->owner) {
        /* Later pages often live under /repositories/{id}/...: they keep
         * the account the first path named, so App auth picks the same
         * installation. */
        p->req.owner = gr_xstrdup(op->owner);
        p->req.repo = dup_or_null(op->repo);
    }
    op->timeout_ms = p->req.timeout_ms;
    op->no_cache = p->req.no_cache;
    gh_op_start(op, on_page, p);
}

void gr__github_paginate(gr_github_t *gh, const gr_github_request_t *req, size_t req_size,
                         const char *items_key, int max_pages, gr_github_pages_fn cb,
                         void *user_data)
{
    gr_github_request_t r = {0};
    if (req)
        memcpy(&r, req, req_size < sizeof r ? req_size : sizeof r);
    pager_t *p = gr_xcalloc(1, sizeof *p);
    p->gh = gh;
    p->req.method = gr_xstrdup(r.method ? r.method : "GET");
    p->req.accept = dup_or_null(r.accept);
    p->req.owner = dup_or_null(r.owner);
    p->req.repo = dup_or_null(r.repo);
    p->req.timeout_ms = r.timeout_ms;
    p->req.no_cache = r.no_cache;
    p->items_key = dup_or_null(items_key);
    p->max_pages = max_pages > 0 ? max_pages : DEFAULT_MAX_PAGES;
    p->items = json_object_new_array();
    p->cb = cb;
    p->user_data = user_data;
    p->name = gr_xstrdup(r.path ? r.path : "");
    pager_request(p, r.path);
}

/* ---- GraphQL ----------------------------------------------------------------------- */

typedef struct gql {
    gr_github_t *gh;
    char *query;
    json_object *variables; /* our deep copy, or NULL */
    char *owner;
    char *page_path;
    char *cursor_variable;
    uint64_t timeout_ms;
    int max_pages;
    int pages;
    json_object *items; /* paginating: collected nodes */
    gr_github_json_fn cb;
    gr_github_pages_fn pages_cb;
    void *user_data;
} gql_t;

static void gql_free(gql_t *g)
{
    free(g->query);
    json_object_put(g->variables);
    free(g->owner);
    free(g->page_path);
    free(g->cursor_variable);
    json_object_put(g->items);
    free(g);
}

static void gql_fail(gql_t *g, const gr_error_t *err)
{
    if (g->pages_cb)
        g->pages_cb(NULL, 0, err, g->user_data);
    else
        g->cb(NULL, err, g->user_data);
    gql_free(g);
}

/* The `data` of a GraphQL answer, or NULL with err filled from `errors`. */
static json_object *gql_data(const gr_github_response_t *res, gr_error_t *err)
{
    json_object *j = gr__github_response_json(res), *errors, *data;
    if (!j || !json_object_is_type(j, json_type_object)) {
        gr_error_set(err, GR_ERR_INVALID, "GitHub GraphQL: the answer is not a JSON object");
        return NULL;
    }
    if (json_object_object_get_ex(j, "errors", &errors) &&
        json_object_is_type(errors, json_type_array) && json_object_array_length(errors) > 0) {
        gr_buf_t b = {0};
        int code = GR_ERR_INVALID;
        size_t n = json_object_array_length(errors);
        for (size_t i = 0; i < n && i < 3; i++) {
            json_object *e = json_object_array_get_idx(errors, i), *v;
            if (json_object_object_get_ex(e, "type", &v) &&
                strcmp(json_object_get_string(v), "NOT_FOUND") == 0)
                code = GR_ERR_NOT_FOUND;
            if (b.len)
                gr_buf_puts(&b, "; ");
            gr_buf_puts(&b, json_object_object_get_ex(e, "message", &v) ? json_object_get_string(v)
                                                                        : "(no message)");
        }
        gr_error_set(err, code, "GitHub GraphQL: %s", b.data);
        gr_buf_free(&b);
        return NULL;
    }
    if (!json_object_object_get_ex(j, "data", &data) || !data) {
        gr_error_set(err, GR_ERR_INVALID, "GitHub GraphQL: the answer has no data");
        return NULL;
    }
    return data;
}

static void gql_send(gql_t *g, const char *cursor);

static void on_gql(const gr_github_response_t *res, const gr_error_t *err, void *ud)
{
    gql_t *g = ud;
    if (err) {
        gql_fail(g, err);
        return;
    }
    gr_error_t e;
    json_object *data = gql_data(res, &e);
    if (!data) {
        gql_fail(g, &e);
        return;
    }
    if (!g->pages_cb) {
        g->cb(data, NULL, g->user_data);
        gql_free(g);
        return;
    }
    json_object *conn = gh_json_path(data, g->page_path);
    json_object *list = NULL, *info = NULL, *v;
    if (conn && !json_object_object_get_ex(conn, "nodes", &list))
        json_object_object_get_ex(conn, "edges", &list);
    if (conn)
        json_object_object_get_ex(conn, "pageInfo", &info);
    if (!list || !json_object_is_type(list, json_type_array) || !info) {
        gr_error_set(&e, GR_ERR_INVALID,
                     "GitHub GraphQL: no connection with nodes (or edges) and pageInfo at "
                     "data.%s",
                     g->page_path);
        gql_fail(g, &e);
        return;
    }
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++)
        json_object_array_add(g->items, json_object_get(json_object_array_get_idx(list, i)));
    g->pages++;
    int more = json_object_object_get_ex(info, "hasNextPage", &v) && json_object_get_boolean(v);
    const char *cursor =
        json_object_object_get_ex(info, "endCursor", &v) ? json_object_get_string(v) : NULL;
    if (more && cursor && g->pages < g->max_pages) {
        char *next = gr_xstrdup(cursor); /* the answer dies when we return */
        gql_send(g, next);
        free(next);
        return;
    }
    g->pages_cb(g->items, !(more && cursor), NULL, g->user_data);
    gql_free(g);
}

static void gql_send(gql_t *g, const char *cursor)
{
    json_object *vars = g->variables ? json_object_get(g->variables) : json_object_new_object();
    if (g->pages_cb)
        json_object_object_add(vars, g->cursor_variable,
                               cursor ? json_object_new_string(cursor) : NULL);
    json_object *body = json_object_new_object();
    json_object_object_add(body, "query", json_object_new_string(g->query));
    json_object_object_add(body, "variables", vars);
    gh_op_t *op = gh_op_new(g->gh, "POST", g->gh->graphql_url);
    op->body = gr_xstrdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
    json_object_put(body);
    if (g->owner)
        op->owner = gr_xstrdup(g->owner);
    op->no_cache = 1;
    op->timeout_ms = g->timeout_ms;
    gh_op_start(op, on_gql, g);
}

static gql_t *gql_new(gr_github_t *gh, const gr_github_graphql_t *q, size_t q_size)
{
    gr_github_graphql_t c = {0};
    if (q)
        memcpy(&c, q, q_size < sizeof c ? q_size : sizeof c);
    gql_t *g = gr_xcalloc(1, sizeof *g);
    g->gh = gh;
    g->query = gr_xstrdup(c.query ? c.query : "");
    if (c.variables && json_object_deep_copy(c.variables, &g->variables, NULL) != 0)
        g->variables = NULL;
    g->owner = dup_or_null(c.owner);
    g->page_path = gr_xstrdup(c.page_path ? c.page_path : "");
    g->cursor_variable = gr_xstrdup(c.cursor_variable ? c.cursor_variable : "cursor");
    g->max_pages = c.max_pages > 0 ? c.max_pages : DEFAULT_MAX_PAGES;
    g->timeout_ms = c.timeout_ms;
    return g;
}

void gr__github_graphql(gr_github_t *gh, const gr_github_graphql_t *q, size_t q_size,
                        gr_github_json_fn cb, void *user_data)
{
    gql_t *g = gql_new(gh, q, q_size);
    g->cb = cb;
    g->user_data = user_data;
    gql_send(g, NULL);
}

void gr__github_graphql_paginate(gr_github_t *gh, const gr_github_graphql_t *q, size_t q_size,
                                 gr_github_pages_fn cb, void *user_data)
{
    gql_t *g = gql_new(gh, q, q_size);
    g->pages_cb = cb;
    g->user_data = user_data;
    g->items = json_object_new_array();
    gql_send(g, NULL);
}
