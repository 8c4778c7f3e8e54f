/* core/http_internal.h: what the HTTP units (http_server.c, http_conn.c,
 * http_request.c, http_static.c) share.  Nothing outside them includes it.
 *
 * Ownership of a request.  A request holds up to two references: the
 * connection's, while it sits in the connection's response queue, and the
 * handler's, from dispatch until one of the gr_http_respond*() calls.  The
 * request is freed when both are gone, so a handler that answers after the
 * client left (or after the server closed the connection at the end of a
 * drain) still holds a valid request; gr_http_aborted() tells it that the
 * answer will go nowhere. */
#ifndef GR_CORE_HTTP_INTERNAL_H
#define GR_CORE_HTTP_INTERNAL_H

#include <uv.h>

#include "http_server.h"
#include "util.h"

typedef struct gr_http_conn gr_http_conn_t;

/* Requests a connection parses ahead of the response being written.  Past
 * this, it stops reading until responses go out, so a client pipelining
 * thousands of requests cannot make the host run thousands of handlers. */
#define GR_HTTP_MAX_PIPELINE 16

/* Bytes of answers waiting to go into the socket past which a connection
 * stops parsing more requests: a client that pipelines without reading
 * cannot make the host buffer answers without bound. */
#define GR_HTTP_MAX_WRITE_BACKLOG (1024u * 1024u)

/* How long a closing connection keeps reading (and discarding) after its
 * last response, so that the client reads that response rather than a
 * reset caused by unread data. */
#define GR_HTTP_LINGER_MS 2000

struct gr_http_request {
    const gr_host_api_t *api; /* first: the SDK reaches the host through it */
    int refs;
    gr_http_conn_t *conn;  /* NULL once the connection is gone */
    gr_http_server_t *srv; /* NULL once the request is answered or the server freed */
    gr_log_t *log;         /* the server's, borrowed; outlives late handlers */
    struct gr_http_request *next_in_conn;
    struct gr_http_request *prev_in_flight, *next_in_flight;

    /* What arrived. */
    const char *method;  /* static string from the parser; "" before it is known */
    gr_buf_t url;        /* the request target as sent */
    char *raw_path;      /* the path, still percent-encoded */
    char *path;          /* the decoded path */
    gr_strvec_t query;   /* name, value, name, value ... decoded */
    gr_strvec_t headers; /* lower-case name, value, ... */
    gr_buf_t body;
    size_t max_body; /* this request's body limit: its route's, or the server's */
    struct json_object *body_json;
    gr_strvec_t params; /* name, value, ... from the route */
    char *plugin_id;    /* the route's owner, for metrics; NULL when no route */
    unsigned short http_major, http_minor;
    int keep_alive;
    uint64_t start_ns; /* uv_hrtime() at dispatch */

    /* What goes back. */
    int responded;
    int status;
    char *content_type;
    gr_strvec_t resp_headers; /* name, value, ... as set by the handler */
    gr_buf_t resp_body;
};

struct gr_http_server {
    uv_loop_t *loop;
    gr_http_limits_t limits;
    gr_route_table_t *routes;
    char *static_root; /* realpath of static_dir, or NULL */
    gr_log_t *log;
    gr_metrics_t *metrics;
    gr_metric_t *requests_total;   /* may be NULL (no metrics, or a stub) */
    gr_metric_t *request_duration; /* may be NULL */

    uv_tcp_t *listener; /* heap: it may close after the server is freed */
    int port;
    char read_buf[65536]; /* reads are consumed before the next one starts */

    gr_http_conn_t *conns; /* every open connection, rejected ones too */
    size_t nconns;
    size_t nactive; /* connections counted against max_connections */
    gr_http_request_t *in_flight;
    size_t nin_flight;
    uint64_t last_reject_log_ms;

    int draining;
    int drain_forced;
    int drain_finished;
    int listener_open;
    uv_timer_t *drain_timer; /* heap, like the listener */
    void (*drained)(void *user_data);
    void *drained_data;
};

/* ---- http_request.c ------------------------------------------------------ */

/* A new request with one reference (the handler's). */
gr_http_request_t *gr_http_request_new(gr_log_t *log);
void gr_http_request_release(gr_http_request_t *req); /* frees at zero */
/* Splits url into raw_path, path and query; fills err on a malformed path. */
int gr_http_request_parse_target(gr_http_request_t *req, gr_error_t *err);
/* Adds a header as received, joining a repeated one with ", ". */
void gr_http_request_add_header(gr_http_request_t *req, char *lower_name, const char *value);
/* Answers with body taken from *body (left empty). */
void gr_http_respond_buf(gr_http_request_t *req, int status, const char *content_type,
                         gr_buf_t *body);
/* Appends the status line, headers and body to out. */
void gr_http_request_write_response(const gr_http_request_t *req, int close, gr_buf_t *out);

/* ---- http_conn.c --------------------------------------------------------- */

void gr_http_conn_accept(gr_http_server_t *srv);
/* The request at `req->conn` has been answered: write what can go out. */
void gr_http_conn_response_ready(gr_http_conn_t *conn);
/* Stops taking requests; closes now when idle, else after the last answer. */
void gr_http_conn_drain(gr_http_conn_t *conn);
/* Closes at once, detaching requests not yet answered. */
void gr_http_conn_abort(gr_http_conn_t *conn);
gr_http_conn_t *gr_http_conn_next(gr_http_conn_t *conn);

/* ---- http_server.c ------------------------------------------------------- */

/* The body limit for req, whose method and target are in: the matching
 * route's own limit, else the server's max_body_bytes. */
size_t gr_http_server_body_limit(gr_http_server_t *srv, const gr_http_request_t *req);
/* Routes a complete request; every path ends in one answer. */
void gr_http_server_dispatch(gr_http_server_t *srv, gr_http_request_t *req);
/* Counts a request as in flight until it is answered. */
void gr_http_server_track(gr_http_server_t *srv, gr_http_request_t *req);
/* Called once per answer: metrics, access log, in-flight count, drain. */
void gr_http_server_request_done(gr_http_request_t *req);
/* A connection's handles have closed (it has left srv->conns already);
 * counted: it was counted against max_connections.  May call drained. */
void gr_http_server_conn_closed(gr_http_server_t *srv, int counted);

/* ---- http_static.c ------------------------------------------------------- */

/* Serves req (GET or HEAD) from root on the thread pool and answers it. */
void gr_http_static_serve(uv_loop_t *loop, const char *root, gr_http_request_t *req);
/* The Content-Type for a file name, by extension. */
const char *gr_http_content_type(const char *name);

#endif
