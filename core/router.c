/* core/router.c: the route table: pattern parsing, matching, priority, 405s.
 *
 * Routes live in one flat array scanned per request.  A host has tens to a
 * few hundred routes, and a scan over pre-split segments costs less than the
 * request's own parsing; a trie would only matter far beyond that. */
#include "router.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_impl.h"
#include "http_url.h"
#include "util.h"

/* Ordered so that a higher value is more specific: at the first position
 * where two matching routes differ, the higher kind wins.  A route that ends
 * where the other has "*" is the more specific of the two. */
typedef enum seg_kind { SEG_STAR = 0, SEG_PARAM = 1, SEG_LITERAL = 2, SEG_END = 3 } seg_kind_t;

typedef struct route_seg {
    seg_kind_t kind;
    char *text; /* the literal, the parameter's name, or "*" */
} route_seg_t;

typedef struct route {
    char *method;
    char *pattern; /* prefix + pattern, normalised */
    route_seg_t *segs;
    size_t nsegs;
    gr_http_handler_fn handler;
    void *user_data;
    const char *plugin_id; /* the owning router's */
    size_t max_body_bytes; /* 0: the server's limit */
} route_t;

struct gr_router {
    const gr_host_api_t *api;
    gr_route_table_t *table;
    char *prefix; /* "" or "/api/<pluginId>", no trailing slash */
    char *plugin_id;
    struct gr_router *next;
};

struct gr_route_table {
    route_t *routes;
    size_t n, cap;
    gr_router_t *routers;
    size_t nbody_limits; /* routes with their own body limit */
};

/* The methods a route may name, in the order an Allow header lists them. */
static const char *const gr__methods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                          "PATCH", "DELETE", "OPTIONS"};
#define GR__NMETHODS (sizeof gr__methods / sizeof gr__methods[0])

gr_route_table_t *gr_route_table_new(void)
{
    return gr_xcalloc(1, sizeof(gr_route_table_t));
}

static void gr__route_free(route_t *r)
{
    for (size_t i = 0; i < r->nsegs; i++)
        free(r->segs[i].text);
    free(r->segs);
    free(r->method);
    free(r->pattern);
}

void gr_route_table_free(gr_route_table_t *table)
{
    if (!table)
        return;
    for (size_t i = 0; i < table->n; i++)
        gr__route_free(&table->routes[i]);
    free(table->routes);
    for (gr_router_t *r = table->routers, *next; r; r = next) {
        next = r->next;
        free(r->prefix);
        free(r->plugin_id);
        free(r);
    }
    free(table);
}

size_t gr_route_table_size(const gr_route_table_t *table)
{
    return table->n;
}

gr_router_t *gr_route_table_router(gr_route_table_t *table, const char *prefix,
                                   const char *plugin_id)
{
    gr_router_t *r = gr_xcalloc(1, sizeof *r);
    r->api = &gr__host_api;
    r->table = table;
    size_t len = prefix ? strlen(prefix) : 0;
    while (len > 0 && prefix[len - 1] == '/')
        len--;
    r->prefix = gr_xstrndup(prefix ? prefix : "", len);
    r->plugin_id = gr_xstrdup(plugin_id ? plugin_id : "");
    r->next = table->routers;
    table->routers = r;
    return r;
}

static int gr__param_name_valid(const char *s, size_t len)
{
    if (len == 0 || isdigit((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return 0;
    return 1;
}

static int gr__literal_valid(const char *s, size_t len)
{
    /* '%' would be ambiguous (is it already encoded?), '?' and '#' end a
     * path, and '*' or ':' inside a segment suggest a pattern feature we do
     * not have. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f || c == '%' || c == '?' || c == '#' || c == '*' || c == ':')
            return 0;
    }
    return 1;
}

static void gr__segs_free(route_seg_t *segs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(segs[i].text);
    free(segs);
}

/* Splits a full pattern ("/api/x/entities/:id") into segments. */
static int gr__pattern_parse(const char *full, route_seg_t **out, size_t *nout, gr_error_t *err)
{
    size_t cap = 1;
    for (const char *p = full; *p; p++)
        cap += *p == '/';
    route_seg_t *segs = gr_xcalloc(cap, sizeof *segs);
    size_t n = 0, nparams = 0;
    const char *p = full + 1; /* past the leading '/' */
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0) {
            gr__segs_free(segs, n);
            return gr_error_set(err, GR_ERR_INVALID,
                                "route pattern '%s' has an empty segment ('//')", full);
        }
        route_seg_t *s = &segs[n];
        if (p[0] == ':') {
            if (!gr__param_name_valid(p + 1, len - 1)) {
                gr__segs_free(segs, n);
                return gr_error_set(err, GR_ERR_INVALID,
                                    "route pattern '%s': parameter '%.*s' must be ':' followed "
                                    "by letters, digits or '_'",
                                    full, (int)len, p);
            }
            s->kind = SEG_PARAM;
            s->text = gr_xstrndup(p + 1, len - 1);
        } else if (len == 1 && p[0] == '*') {
            if (end && end[1]) {
                gr__segs_free(segs, n);
                return gr_error_set(err, GR_ERR_INVALID,
                                    "route pattern '%s': '*' may only be the last segment", full);
            }
            s->kind = SEG_STAR;
            s->text = gr_xstrdup("*");
        } else {
            if (!gr__literal_valid(p, len)) {
                gr__segs_free(segs, n);
                return gr_error_set(err, GR_ERR_INVALID,
                                    "route pattern '%s': segment '%.*s' may not contain spaces, "
                                    "'%%', '?', '#', '*' or ':' (use ':name' for a parameter)",
                                    full, (int)len, p);
            }
            s->kind = SEG_LITERAL;
            s->text = gr_xstrndup(p, len);
        }
        n++;
        if (s->kind != SEG_LITERAL) {
            for (size_t i = 0; i + 1 < n; i++) {
                if (segs[i].kind != SEG_LITERAL && strcmp(segs[i].text, s->text) == 0) {
                    int rc = gr_error_set(err, GR_ERR_INVALID,
                                          "route pattern '%s' names parameter '%s' twice", full,
                                          s->text);
                    gr__segs_free(segs, n);
                    return rc;
                }
            }
            if (++nparams > GR_ROUTE_MAX_PARAMS) {
                gr__segs_free(segs, n);
                return gr_error_set(err, GR_ERR_INVALID,
                                    "route pattern '%s' has more than %d parameters", full,
                                    GR_ROUTE_MAX_PARAMS);
            }
        }
        p += len;
        if (*p == '/')
            p++;
    }
    *out = segs;
    *nout = n;
    return 0;
}

/* Two routes of one method with the same shape could never both be reached. */
static int gr__same_shape(const route_t *a, const route_seg_t *segs, size_t n)
{
    if (a->nsegs != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (a->segs[i].kind != segs[i].kind)
            return 0;
        if (segs[i].kind == SEG_LITERAL && strcmp(a->segs[i].text, segs[i].text) != 0)
            return 0;
    }
    return 1;
}

/* Checks method and pattern as gr_router_add takes them and splits the full
 * pattern (prefix included) into segments.  *canon is one of gr__methods. */
static int gr__route_parse(gr_router_t *router, const char *method, const char *pattern,
                           const char **canon_out, gr_buf_t *full, route_seg_t **segs,
                           size_t *nsegs, gr_error_t *err)
{
    char upper[16];
    size_t mlen = strlen(method);
    const char *canon = NULL;
    if (mlen < sizeof upper) {
        for (size_t i = 0; i <= mlen; i++)
            upper[i] = (char)toupper((unsigned char)method[i]);
        for (size_t i = 0; i < GR__NMETHODS; i++)
            if (strcmp(upper, gr__methods[i]) == 0)
                canon = gr__methods[i];
    }
    if (!canon)
        return gr_error_set(err, GR_ERR_INVALID,
                            "route %s %s: method must be one of GET, HEAD, POST, PUT, PATCH, "
                            "DELETE, OPTIONS",
                            method, pattern);
    if (pattern[0] != '/' && pattern[0] != '\0')
        return gr_error_set(err, GR_ERR_INVALID,
                            "route pattern '%s' must start with '/' (it is relative to %s)",
                            pattern, router->prefix[0] ? router->prefix : "the server root");

    size_t plen = strlen(pattern);
    while (plen > 0 && pattern[plen - 1] == '/')
        plen--;
    *full = (gr_buf_t){0};
    gr_buf_puts(full, router->prefix);
    gr_buf_append(full, pattern, plen);
    if (full->len == 0)
        gr_buf_puts(full, "/");
    int rc = gr__pattern_parse(full->data, segs, nsegs, err);
    if (rc < 0) {
        gr_buf_free(full);
        return rc;
    }
    *canon_out = canon;
    return 0;
}

int gr__router_add(gr_router_t *router, const char *method, const char *pattern,
                   gr_http_handler_fn handler, void *user_data, gr_error_t *err)
{
    if (!router || !method || !pattern || !handler)
        return gr_error_set(err, GR_ERR_INVALID,
                            "gr_router_add needs a router, a method, a pattern and a handler");
    const char *canon;
    gr_buf_t full;
    route_seg_t *segs = NULL;
    size_t nsegs = 0;
    int rc = gr__route_parse(router, method, pattern, &canon, &full, &segs, &nsegs, err);
    if (rc < 0)
        return rc;
    gr_route_table_t *t = router->table;
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->routes[i].method, canon) == 0 && gr__same_shape(&t->routes[i], segs, nsegs)) {
            rc = gr_error_set(err, GR_ERR_CONFLICT,
                              "route %s %s conflicts with %s %s, registered earlier: the two "
                              "match the same paths",
                              canon, full.data, canon, t->routes[i].pattern);
            gr__segs_free(segs, nsegs);
            gr_buf_free(&full);
            return rc;
        }
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->routes = gr_xrealloc(t->routes, t->cap * sizeof *t->routes);
    }
    t->routes[t->n++] = (route_t){
        .method = gr_xstrdup(canon),
        .pattern = gr_buf_steal(&full),
        .segs = segs,
        .nsegs = nsegs,
        .handler = handler,
        .user_data = user_data,
        .plugin_id = router->plugin_id,
    };
    return 0;
}

int gr__router_set_body_limit(gr_router_t *router, const char *method, const char *pattern,
                              size_t max_bytes, gr_error_t *err)
{
    if (!router || !method || !pattern || max_bytes == 0)
        return gr_error_set(err, GR_ERR_INVALID,
                            "gr_router_set_body_limit needs a router, a method, a pattern and a "
                            "limit above 0");
    const char *canon;
    gr_buf_t full;
    route_seg_t *segs = NULL;
    size_t nsegs = 0;
    int rc = gr__route_parse(router, method, pattern, &canon, &full, &segs, &nsegs, err);
    if (rc < 0)
        return rc;
    gr_route_table_t *t = router->table;
    route_t *found = NULL;
    for (size_t i = 0; i < t->n && !found; i++) {
        /* Only the router's own routes: a plugin cannot raise the limit of
         * another plugin's route. */
        if (t->routes[i].plugin_id == router->plugin_id &&
            strcmp(t->routes[i].method, canon) == 0 && gr__same_shape(&t->routes[i], segs, nsegs))
            found = &t->routes[i];
    }
    if (!found) {
        rc = gr_error_set(err, GR_ERR_NOT_FOUND,
                          "gr_router_set_body_limit: no route %s %s was added by this router; "
                          "add it with gr_router_add first",
                          canon, full.data);
    } else {
        if (!found->max_body_bytes)
            t->nbody_limits++;
        found->max_body_bytes = max_bytes;
    }
    gr__segs_free(segs, nsegs);
    gr_buf_free(&full);
    return rc;
}

int gr_route_table_has_body_limits(const gr_route_table_t *table)
{
    return table && table->nbody_limits > 0;
}

/* ---- matching ------------------------------------------------------------ */

/* A request path split into raw and decoded segments. */
typedef struct path_segs {
    const char **raw; /* start of each segment in the path */
    char **decoded;
    size_t n;
    const char *end; /* end of the path, after dropping a trailing slash */
} path_segs_t;

static void gr__path_free(path_segs_t *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        free(ps->decoded[i]);
    free(ps->decoded);
    free(ps->raw);
}

static int gr__path_split(const char *path, path_segs_t *ps)
{
    memset(ps, 0, sizeof *ps);
    size_t len = strlen(path);
    if (len > 1 && path[len - 1] == '/')
        len--;
    ps->end = path + len;
    if (len <= 1)
        return 0; /* "/" or "": no segments */
    size_t cap = 0;
    for (size_t i = 0; i < len; i++)
        cap += path[i] == '/';
    cap += 1;
    ps->raw = gr_xcalloc(cap, sizeof *ps->raw);
    ps->decoded = gr_xcalloc(cap, sizeof *ps->decoded);
    const char *p = path[0] == '/' ? path + 1 : path;
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(ps->end - p));
        const char *seg_end = slash ? slash : ps->end;
        ps->raw[ps->n] = p;
        if (gr_url_decode(p, (size_t)(seg_end - p), 0, &ps->decoded[ps->n]) < 0) {
            gr__path_free(ps);
            return -1;
        }
        ps->n++;
        if (!slash)
            break;
        p = slash + 1;
    }
    return 0;
}

static int gr__route_matches(const route_t *r, const path_segs_t *ps)
{
    for (size_t i = 0; i < r->nsegs; i++) {
        const route_seg_t *s = &r->segs[i];
        if (s->kind == SEG_STAR)
            return 1;
        if (i >= ps->n)
            return 0;
        if (s->kind == SEG_LITERAL && strcmp(s->text, ps->decoded[i]) != 0)
            return 0;
        if (s->kind == SEG_PARAM && ps->decoded[i][0] == '\0')
            return 0;
    }
    return r->nsegs == ps->n;
}

static seg_kind_t gr__kind_at(const route_t *r, size_t i)
{
    return i < r->nsegs ? r->segs[i].kind : SEG_END;
}

/* True when a is more specific than b (both match the same path). */
static int gr__more_specific(const route_t *a, const route_t *b)
{
    size_t n = a->nsegs > b->nsegs ? a->nsegs : b->nsegs;
    for (size_t i = 0; i < n; i++) {
        seg_kind_t ka = gr__kind_at(a, i), kb = gr__kind_at(b, i);
        if (ka != kb)
            return ka > kb;
    }
    return 0;
}

static const route_t *gr__best(const gr_route_table_t *t, const char *method, const path_segs_t *ps)
{
    const route_t *best = NULL;
    for (size_t i = 0; i < t->n; i++) {
        const route_t *r = &t->routes[i];
        if (strcmp(r->method, method) != 0 || !gr__route_matches(r, ps))
            continue;
        if (!best || gr__more_specific(r, best))
            best = r;
    }
    return best;
}

static void gr__fill_match(const route_t *r, const path_segs_t *ps, gr_route_match_t *m)
{
    memset(m, 0, sizeof *m);
    m->handler = r->handler;
    m->user_data = r->user_data;
    m->plugin_id = r->plugin_id;
    m->pattern = r->pattern;
    m->max_body_bytes = r->max_body_bytes;
    for (size_t i = 0; i < r->nsegs; i++) {
        const route_seg_t *s = &r->segs[i];
        if (s->kind == SEG_LITERAL)
            continue;
        gr_route_param_t *p = &m->params[m->nparams++];
        p->name = s->text;
        if (s->kind == SEG_PARAM) {
            p->value = gr_xstrdup(ps->decoded[i]);
        } else if (i >= ps->n) {
            p->value = gr_xstrdup("");
        } else {
            /* The rest was split and decoded segment by segment already, so
             * it decodes as a whole too. */
            gr_url_decode(ps->raw[i], (size_t)(ps->end - ps->raw[i]), GR_URL_LENIENT, &p->value);
        }
    }
}

static void gr__allow_list(const gr_route_table_t *t, const path_segs_t *ps, char *allow,
                           size_t allow_len)
{
    int seen[GR__NMETHODS] = {0};
    for (size_t i = 0; i < t->n; i++) {
        const route_t *r = &t->routes[i];
        if (!gr__route_matches(r, ps))
            continue;
        for (size_t m = 0; m < GR__NMETHODS; m++) {
            if (strcmp(r->method, gr__methods[m]) == 0) {
                seen[m] = 1;
                if (m == 0)
                    seen[1] = 1; /* GET routes answer HEAD too */
            }
        }
    }
    gr_buf_t b = {0};
    for (size_t m = 0; m < GR__NMETHODS; m++) {
        if (seen[m])
            gr_buf_printf(&b, "%s%s", b.len ? ", " : "", gr__methods[m]);
    }
    if (allow && allow_len) {
        snprintf(allow, allow_len, "%s", b.data ? b.data : "");
    }
    gr_buf_free(&b);
}

gr_route_result_t gr_route_table_match(const gr_route_table_t *table, const char *method,
                                       const char *path, gr_route_match_t *match, char *allow,
                                       size_t allow_len)
{
    if (allow && allow_len)
        allow[0] = '\0';
    memset(match, 0, sizeof *match);
    path_segs_t ps;
    if (!path || gr__path_split(path, &ps) < 0)
        return GR_ROUTE_NOT_FOUND;

    const route_t *r = gr__best(table, method, &ps);
    if (!r && strcmp(method, "HEAD") == 0)
        r = gr__best(table, "GET", &ps);
    gr_route_result_t result = GR_ROUTE_FOUND;
    if (r) {
        gr__fill_match(r, &ps, match);
    } else {
        int any = 0;
        for (size_t i = 0; i < table->n && !any; i++)
            any = gr__route_matches(&table->routes[i], &ps);
        if (any) {
            gr__allow_list(table, &ps, allow, allow_len);
            result = GR_ROUTE_METHOD_NOT_ALLOWED;
        } else {
            result = GR_ROUTE_NOT_FOUND;
        }
    }
    gr__path_free(&ps);
    return result;
}

void gr_route_match_clear(gr_route_match_t *match)
{
    for (size_t i = 0; i < match->nparams; i++)
        free(match->params[i].value);
    memset(match, 0, sizeof *match);
}
