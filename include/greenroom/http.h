/* greenroom/http.h: the HTTP router and request/response helpers.
 *
 * ctx->router is mounted at /api/<pluginId>/; patterns are relative to it
 * ("/entities/by-name/:kind/:namespace/:name").  A `:name` segment captures
 * one path segment; a final "*" captures the rest.  A handler may answer at
 * once or later (after a database query): the request stays valid until one
 * of the gr_http_respond*() calls, which must happen exactly once.  If the
 * client goes away first, gr_http_aborted() turns true and responding just
 * frees the request.
 *
 * Errors use Backstage's body: {"error": {"name", "message"},
 * "request": {"method", "url"}, "response": {"statusCode"}}.
 */
#ifndef GREENROOM_HTTP_H
#define GREENROOM_HTTP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <greenroom/api.h>

static inline int gr_router_add(gr_router_t *router, const char *method, const char *pattern,
                                gr_http_handler_fn handler, void *user_data, gr_error_t *err)
{
    return GR__API(router)->router_add(router, method, pattern, handler, user_data, err);
}

/* Sets the largest request body the route (as added with gr_router_add,
 * same method and pattern) accepts, instead of the server's
 * backend.http.maxBodyBytes: larger for an upload or a webhook receiver,
 * smaller for a route that takes little.  A body past it is refused with
 * 413 before the handler runs.  GR_ERR_NOT_FOUND when no such route was
 * added; GR_ERR_UNSUPPORTED on a host without per-route limits. */
static inline int gr_router_set_body_limit(gr_router_t *router, const char *method,
                                           const char *pattern, size_t max_bytes, gr_error_t *err)
{
    if (!GR_API_HAS(GR__API(router), router_set_body_limit))
        return gr_error_set(err, GR_ERR_UNSUPPORTED, "this host has no per-route body limits");
    return GR__API(router)->router_set_body_limit(router, method, pattern, max_bytes, err);
}

/* A second router, mounted at /api/<name>/ instead of the plugin's prefix,
 * for a module that must serve a path its users already know (the
 * central-config provider keeps /api/central-config/...).  Call it from init.
 * The host refuses a name that is not an id (^[a-z][a-z0-9]*(-[a-z0-9]+)*$),
 * that is the id of a loaded plugin, or that another module mounted first.
 * The router belongs to the host and lives as long as ctx.  NULL with err
 * filled on refusal, or GR_ERR_UNSUPPORTED on a host older than this SDK. */
static inline gr_router_t *gr_router_mount(gr_context_t *ctx, const char *name, gr_error_t *err)
{
    const gr_host_api_t *api = GR__API(ctx);
    if (!GR_API_HAS(api, router_mount)) {
        gr_error_set(err, GR_ERR_UNSUPPORTED, "this host cannot mount a second router; upgrade it");
        return NULL;
    }
    return api->router_mount(ctx, name, err);
}

static inline const char *gr_http_method(const gr_http_request_t *req)
{
    return GR__API(req)->http_method(req);
}

/* The full decoded path, prefix included ("/api/catalog/entities"), without
 * the query string. */
static inline const char *gr_http_path(const gr_http_request_t *req)
{
    return GR__API(req)->http_path(req);
}

/* A `:name` captured by the route pattern (decoded), or NULL. */
static inline const char *gr_http_param(const gr_http_request_t *req, const char *name)
{
    return GR__API(req)->http_param(req, name);
}

/* The index-th value of query parameter `name` (decoded), or NULL.
 * Repeated parameters (?filter=a&filter=b) are read with index 0, 1, ... */
static inline const char *gr_http_query(const gr_http_request_t *req, const char *name,
                                        size_t index)
{
    return GR__API(req)->http_query(req, name, index);
}

/* A request header (name case-insensitive), or NULL. */
static inline const char *gr_http_header(const gr_http_request_t *req, const char *name)
{
    return GR__API(req)->http_header(req, name);
}

/* The body (NUL-terminated for convenience; len may be NULL). */
static inline const char *gr_http_body(const gr_http_request_t *req, size_t *len)
{
    return GR__API(req)->http_body(req, len);
}

/* The body parsed as JSON, owned by the request; NULL with err filled when it
 * is missing or malformed (answer 400 with err.message). */
static inline struct json_object *gr_http_body_json(gr_http_request_t *req, gr_error_t *err)
{
    return GR__API(req)->http_body_json(req, err);
}

static inline int gr_http_aborted(const gr_http_request_t *req)
{
    return GR__API(req)->http_aborted(req);
}

/* Adds a response header; call before responding. */
static inline void gr_http_set_header(gr_http_request_t *req, const char *name, const char *value)
{
    GR__API(req)->http_set_header(req, name, value);
}

static inline void gr_http_respond(gr_http_request_t *req, int status, const char *content_type,
                                   const void *body, size_t len)
{
    GR__API(req)->http_respond(req, status, content_type, body, len);
}

/* Serialises `body` and drops the caller's reference to it. */
static inline void gr_http_respond_json(gr_http_request_t *req, int status,
                                        struct json_object *body)
{
    GR__API(req)->http_respond_json(req, status, body);
}

__attribute__((format(printf, 3, 4))) static inline void
gr_http_respond_error(gr_http_request_t *req, int status, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    GR__API(req)->http_respond_error(req, status, message);
}

#endif
