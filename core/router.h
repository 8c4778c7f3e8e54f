/* core/router.h: the route table behind every gr_router_t.
 *
 * The host owns one gr_route_table_t.  Each plugin gets a gr_router_t whose
 * prefix is /api/<pluginId>; the host's own routes (health, metrics,
 * instance metadata) use a router with an empty prefix.  Patterns are split
 * into segments: literal, ":name" (one segment, captured) or a final "*"
 * (the rest, captured as "*").  Literal segments win over parameters, so
 * /entities/by-query beats /entities/:id whatever the order of adding, and
 * a parameter beats "*".
 *
 * Paths are matched segment by segment, each segment percent-decoded after
 * splitting, so an encoded slash ("%2F") stays inside one parameter.  One
 * trailing slash is ignored on patterns and on paths ("/entities/" matches
 * "/entities"); an empty segment inside a path ("/a//b") matches no literal
 * and no parameter.  A final "*" matches zero or more segments: the pattern
 * "/files" + "/" + "*" matches "/files" (with "*" = "") and "/files/a/b"
 * (with "*" = "a/b").
 * A GET route also answers HEAD unless a HEAD route matches.
 *
 * A route may carry its own request body limit (gr_router_set_body_limit),
 * which replaces the server's for requests it matches: the HTTP server
 * matches the route once the headers are in, before reading the body. */
#ifndef GR_CORE_ROUTER_H
#define GR_CORE_ROUTER_H

#include <greenroom/greenroom.h>

typedef struct gr_route_table gr_route_table_t;

typedef struct gr_route_param {
    const char *name;  /* borrowed from the route */
    char *value;       /* decoded, owned by the match */
} gr_route_param_t;

#define GR_ROUTE_MAX_PARAMS 16

typedef struct gr_route_match {
    gr_http_handler_fn handler;
    void *user_data;
    const char *plugin_id;   /* owner of the route, for metrics; "" for the host */
    const char *pattern;     /* the full pattern, for metrics labels */
    size_t max_body_bytes;   /* the route's own body limit; 0: the server's */
    size_t nparams;
    gr_route_param_t params[GR_ROUTE_MAX_PARAMS];
} gr_route_match_t;

typedef enum gr_route_result {
    GR_ROUTE_FOUND = 0,
    GR_ROUTE_NOT_FOUND,          /* no route has this path: 404 */
    GR_ROUTE_METHOD_NOT_ALLOWED  /* the path exists with other methods: 405 */
} gr_route_result_t;

gr_route_table_t *gr_route_table_new(void);
void gr_route_table_free(gr_route_table_t *table);  /* frees its routers too */

/* A router adding routes under `prefix` ("" or "/api/<pluginId>"), owned by the table. */
size_t gr_route_table_size(const gr_route_table_t *table); /* number of routes */

gr_router_t *gr_route_table_router(gr_route_table_t *table, const char *prefix,
                                   const char *plugin_id);

/* Matches a request path, still percent-encoded and without the query
 * string.  On GR_ROUTE_FOUND fills *match (release it with
 * gr_route_match_clear); on GR_ROUTE_METHOD_NOT_ALLOWED writes the allowed
 * methods ("GET, HEAD, POST") into allow.  A path with a malformed escape
 * matches nothing. */
gr_route_result_t gr_route_table_match(const gr_route_table_t *table, const char *method,
                                       const char *path, gr_route_match_t *match, char *allow,
                                       size_t allow_len);
void gr_route_match_clear(gr_route_match_t *match);

/* True when some route has its own body limit (gr_router_set_body_limit),
 * so the server must match a request's route before reading its body. */
int gr_route_table_has_body_limits(const gr_route_table_t *table);

#endif
