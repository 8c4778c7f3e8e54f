/* core/http_server.h: the HTTP/1.1 server on the host's loop.
 *
 * Parsing is Debian's libhttp-parser.  Keep-alive and pipelining are
 * supported (responses go out in request order).  Limits answer with JSON
 * error bodies: a header block over max_header_bytes gets 431, a body over
 * max_body_bytes 413, a malformed request 400; then the connection closes.
 * A connection idle longer than idle_timeout_ms is closed; a request whose
 * headers and body take longer than request_timeout_ms to arrive gets 408.
 * Connections past max_connections are accepted and closed at once (503).
 *
 * Requests go to the route table; GET/HEAD of a path outside /api/ and
 * /.backstage/ that no route matches is served from static_dir (index.html
 * for a directory, no path escaping it, and index.html again for unknown
 * paths without a dot so a single-page app's links work). */
#ifndef GR_CORE_HTTP_SERVER_H
#define GR_CORE_HTTP_SERVER_H

#include <uv.h>

#include <greenroom/greenroom.h>

#include "router.h"

typedef struct gr_http_server gr_http_server_t;

typedef struct gr_http_limits {
    size_t max_header_bytes;   /* default 16 KiB */
    size_t max_body_bytes;     /* default 1 MiB */
    uint64_t idle_timeout_ms;  /* default 60 s */
    uint64_t request_timeout_ms; /* default 30 s */
    size_t max_connections;    /* default 1024 */
} gr_http_limits_t;

void gr_http_limits_default(gr_http_limits_t *limits);

/* `log` and `metrics` are borrowed; metrics may be NULL.  static_dir may be NULL. */
gr_http_server_t *gr_http_server_new(uv_loop_t *loop, const gr_http_limits_t *limits,
                                     gr_route_table_t *routes, const char *static_dir,
                                     gr_log_t *log, gr_metrics_t *metrics);
int gr_http_server_listen(gr_http_server_t *srv, const char *host, int port, gr_error_t *err);
/* The port actually bound (useful after listening on port 0). */
int gr_http_server_port(const gr_http_server_t *srv);
size_t gr_http_server_in_flight(const gr_http_server_t *srv);

/* Stops accepting, closes idle connections, lets in-flight requests finish
 * (their connections close after the response), then calls drained(user_data)
 * on the loop.  After drain_timeout_ms the remaining connections are closed. */
void gr_http_server_shutdown(gr_http_server_t *srv, uint64_t drain_timeout_ms,
                             void (*drained)(void *user_data), void *user_data);
/* Frees the server; call after `drained` ran (or before listening). */
void gr_http_server_free(gr_http_server_t *srv);

#endif
