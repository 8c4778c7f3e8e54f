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
 * paths without a dot so a single-page app's links work).
 *
 * Also: a client that pipelines is parsed at most GR_HTTP_MAX_PIPELINE
 * requests (or 1 MiB of unsent answers) ahead; while answers are being
 * written, idle_timeout_ms bounds each write's progress; a client that
 * closes its connection (even half-closes) aborts its pending requests:
 * gr_http_aborted() turns true and their answers just free them.  Requests
 * are counted in http_requests_total{plugin,method,status} and
 * http_request_duration_seconds{plugin,method} ("host" for the host's own
 * routes, static files and refused requests). */
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

/* `log` (required) and `metrics` are borrowed; metrics may be NULL.
 * limits may be NULL for the defaults, and a zero field takes its default.
 * static_dir may be NULL; it is resolved once here, and a directory that
 * cannot be resolved is logged and not served. */
gr_http_server_t *gr_http_server_new(uv_loop_t *loop, const gr_http_limits_t *limits,
                                     gr_route_table_t *routes, const char *static_dir,
                                     gr_log_t *log, gr_metrics_t *metrics);
int gr_http_server_listen(gr_http_server_t *srv, const char *host, int port, gr_error_t *err);
/* The port actually bound (useful after listening on port 0). */
int gr_http_server_port(const gr_http_server_t *srv);
size_t gr_http_server_in_flight(const gr_http_server_t *srv);

/* Stops accepting, closes idle connections, lets in-flight requests finish
 * (their connections close after the response), then calls drained(user_data)
 * on the loop, never from inside this call.  After drain_timeout_ms the
 * remaining connections are closed and drained runs even if handlers still
 * hold requests (a warning names one); those requests are freed when their
 * handlers answer, which is safe even after gr_http_server_free.  A second
 * call is ignored. */
void gr_http_server_shutdown(gr_http_server_t *srv, uint64_t drain_timeout_ms,
                             void (*drained)(void *user_data), void *user_data);
/* Frees the server; call after `drained` ran (or before listening). */
void gr_http_server_free(gr_http_server_t *srv);

#endif
