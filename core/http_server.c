/* core/http_server.c: the listening socket, routing of complete requests,
 * the in-flight count, metrics, and graceful shutdown. */
#include "http_server.h"

#include <errno.h>
#include <http_parser.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api_impl.h"
#include "http_internal.h"

void gr_http_limits_default(gr_http_limits_t *limits)
{
    limits->max_header_bytes = 16 * 1024;
    limits->max_body_bytes = 1024 * 1024;
    limits->idle_timeout_ms = 60 * 1000;
    limits->request_timeout_ms = 30 * 1000;
    limits->max_connections = 1024;
}

gr_http_server_t *gr_http_server_new(uv_loop_t *loop, const gr_http_limits_t *limits,
                                     gr_route_table_t *routes, const char *static_dir,
                                     gr_log_t *log, gr_metrics_t *metrics)
{
    gr_http_server_t *srv = gr_xcalloc(1, sizeof *srv);
    srv->loop = loop;
    gr_http_limits_t def;
    gr_http_limits_default(&def);
    srv->limits = limits ? *limits : def;
    /* A zero limit would refuse everything; it means "the default". */
    if (!srv->limits.max_header_bytes)
        srv->limits.max_header_bytes = def.max_header_bytes;
    if (!srv->limits.max_body_bytes)
        srv->limits.max_body_bytes = def.max_body_bytes;
    if (!srv->limits.idle_timeout_ms)
        srv->limits.idle_timeout_ms = def.idle_timeout_ms;
    if (!srv->limits.request_timeout_ms)
        srv->limits.request_timeout_ms = def.request_timeout_ms;
    if (!srv->limits.max_connections)
        srv->limits.max_connections = def.max_connections;
    /* http_parser has its own, process-wide cap on a header block (80 KiB
     * unless raised); keep it above ours so ours decides, with its 431. */
    if (srv->limits.max_header_bytes + 4096 > HTTP_MAX_HEADER_SIZE &&
        srv->limits.max_header_bytes < UINT32_MAX - 4096)
        http_parser_set_max_header_size((uint32_t)srv->limits.max_header_bytes + 4096);
    srv->routes = routes;
    srv->log = log;
    srv->metrics = metrics;

    if (static_dir) {
        /* Resolved once, so each request's resolved path can be checked
         * against it as a plain prefix. */
        char *root = realpath(static_dir, NULL);
        struct stat st;
        if (!root || stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
            gr_log_warn(log, "http: not serving static files: '%s' is not a readable directory%s%s",
                        static_dir, root ? "" : ": ", root ? "" : strerror(errno));
            free(root);
        } else {
            srv->static_root = root;
        }
    }
    if (metrics) {
        static const char *const counter_labels[] = {"plugin", "method", "status", NULL};
        static const char *const duration_labels[] = {"plugin", "method", NULL};
        srv->requests_total = gr_metrics_counter(
            metrics, "http_requests_total", "HTTP requests answered, by plugin, method and status.",
            counter_labels);
        srv->request_duration = gr_metrics_histogram(
            metrics, "http_request_duration_seconds",
            "Seconds from a request's arrival to its answer, by plugin and method.",
            duration_labels, NULL, 0);
    }
    return srv;
}

static void on_heap_handle_closed(uv_handle_t *h)
{
    free(h);
}

static void gr__check_drained(gr_http_server_t *srv);

static void on_listener_closed(uv_handle_t *h)
{
    gr_http_server_t *srv = h->data;
    free(h);
    srv->listener_open = 0;
    gr__check_drained(srv);
}

static void on_connection(uv_stream_t *listener, int status)
{
    gr_http_server_t *srv = listener->data;
    if (status < 0) {
        gr_log_warn(srv->log, "http: accepting a connection failed: %s", uv_strerror(status));
        return;
    }
    gr_http_conn_accept(srv);
}

int gr_http_server_listen(gr_http_server_t *srv, const char *host, int port, gr_error_t *err)
{
    if (srv->listener || srv->draining)
        return gr_error_set(err, GR_ERR_CONFLICT, "the HTTP server is already listening");
    if (!host || !*host)
        host = "0.0.0.0";
    else if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (port < 0 || port > 65535)
        return gr_error_set(err, GR_ERR_INVALID, "backend.listen.port %d is not a TCP port", port);
    struct sockaddr_storage addr;
    int rc = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr)
                               : uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
    if (rc < 0)
        return gr_error_set(err, GR_ERR_INVALID,
                            "backend.listen.host '%s' is not an IP address (use an address such "
                            "as 127.0.0.1, 0.0.0.0 or ::)",
                            host);
    uv_tcp_t *tcp = gr_xcalloc(1, sizeof *tcp);
    uv_tcp_init(srv->loop, tcp);
    tcp->data = srv;
    rc = uv_tcp_bind(tcp, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)tcp, 511, on_connection);
    if (rc < 0) {
        uv_close((uv_handle_t *)tcp, on_heap_handle_closed);
        return gr_error_set(err, GR_ERR_IO, "cannot listen on %s port %d: %s", host, port,
                            uv_strerror(rc));
    }
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(tcp, (struct sockaddr *)&bound, &len);
    srv->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    srv->listener = tcp;
    srv->listener_open = 1;
    gr_log_info(srv->log, "http: listening on %s port %d", host, srv->port);
    return 0;
}

int gr_http_server_port(const gr_http_server_t *srv)
{
    return srv->port;
}

size_t gr_http_server_in_flight(const gr_http_server_t *srv)
{
    return srv->nin_flight;
}

/* ---- requests ------------------------------------------------------------ */

void gr_http_server_track(gr_http_server_t *srv, gr_http_request_t *req)
{
    req->srv = srv;
    req->start_ns = uv_hrtime();
    req->prev_in_flight = NULL;
    req->next_in_flight = srv->in_flight;
    if (srv->in_flight)
        srv->in_flight->prev_in_flight = req;
    srv->in_flight = req;
    srv->nin_flight++;
}

static void gr__untrack(gr_http_server_t *srv, gr_http_request_t *req)
{
    if (req->prev_in_flight)
        req->prev_in_flight->next_in_flight = req->next_in_flight;
    else
        srv->in_flight = req->next_in_flight;
    if (req->next_in_flight)
        req->next_in_flight->prev_in_flight = req->prev_in_flight;
    req->prev_in_flight = req->next_in_flight = NULL;
    req->srv = NULL;
    srv->nin_flight--;
}

static void gr__observe(gr_http_server_t *srv, const gr_http_request_t *req, double seconds)
{
    const char *plugin = req->plugin_id && *req->plugin_id ? req->plugin_id : "host";
    if (srv->requests_total) {
        char status[8];
        snprintf(status, sizeof status, "%d", req->status);
        const char *values[] = {plugin, req->method, status};
        gr_metric_t *series = gr_metric_labels(srv->requests_total, values);
        if (series)
            gr_metric_inc(series);
    }
    if (srv->request_duration) {
        const char *values[] = {plugin, req->method};
        gr_metric_t *series = gr_metric_labels(srv->request_duration, values);
        if (series)
            gr_metric_observe(series, seconds);
    }
}

void gr_http_server_request_done(gr_http_request_t *req)
{
    gr_http_server_t *srv = req->srv;
    if (!srv)
        return;
    double seconds = (double)(uv_hrtime() - req->start_ns) / 1e9;
    gr__untrack(srv, req);
    gr__observe(srv, req, seconds);
    if (gr_log_enabled(srv->log, GR_LOG_DEBUG))
        gr_log_debug(srv->log, "http: %s %s %d %.1f ms%s", req->method,
                     req->url.data ? req->url.data : "", req->status, seconds * 1000.0,
                     req->conn ? "" : " (client gone)");
    gr__check_drained(srv); /* may free srv: nothing after this */
}

static int gr__is_api_path(const char *path)
{
    static const char *const prefixes[] = {"/api", "/.backstage"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(path, prefixes[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
            return 1;
    }
    return 0;
}

size_t gr_http_server_body_limit(gr_http_server_t *srv, const gr_http_request_t *req)
{
    size_t limit = srv->limits.max_body_bytes;
    /* Matching costs a path split; only pay it when some route needs it. */
    if (!gr_route_table_has_body_limits(srv->routes))
        return limit;
    const char *url = req->url.data ? req->url.data : "";
    const char *path = url;
    if (url[0] != '/') {
        const char *scheme = strstr(url, "://");
        if (!scheme)
            return limit; /* dispatch answers 400 for this target */
        const char *authority_end = scheme + 3 + strcspn(scheme + 3, "/?#");
        path = *authority_end == '/' ? authority_end : "/";
    }
    char *raw_path = gr_xstrndup(path, strcspn(path, "?#"));
    gr_route_match_t m;
    if (gr_route_table_match(srv->routes, req->method, raw_path, &m, NULL, 0) == GR_ROUTE_FOUND) {
        if (m.max_body_bytes)
            limit = m.max_body_bytes;
        gr_route_match_clear(&m);
    }
    free(raw_path);
    return limit;
}

void gr_http_server_dispatch(gr_http_server_t *srv, gr_http_request_t *req)
{
    gr_http_server_track(srv, req);
    gr_error_t err;
    if (gr_http_request_parse_target(req, &err) < 0) {
        gr__http_respond_error(req, 400, err.message);
        return;
    }
    gr_route_match_t m;
    char allow[96];
    gr_route_result_t r = GR_ROUTE_NOT_FOUND;
    if (srv->routes)
        r = gr_route_table_match(srv->routes, req->method, req->raw_path, &m, allow, sizeof allow);
    if (r == GR_ROUTE_FOUND) {
        for (size_t i = 0; i < m.nparams; i++) {
            gr_strvec_push(&req->params, m.params[i].name);
            gr_strvec_push_owned(&req->params, m.params[i].value);
            m.params[i].value = NULL;
        }
        req->plugin_id = gr_xstrdup(m.plugin_id);
        gr_http_handler_fn handler = m.handler;
        void *user_data = m.user_data;
        gr_route_match_clear(&m);
        handler(req, user_data);
        return;
    }
    if (r == GR_ROUTE_METHOD_NOT_ALLOWED) {
        gr__http_set_header(req, "Allow", allow);
        char msg[256];
        snprintf(msg, sizeof msg, "%s is not allowed on %.120s; it accepts %s", req->method,
                 req->path, allow);
        gr__http_respond_error(req, 405, msg);
        return;
    }
    int get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (srv->static_root && get && !gr__is_api_path(req->path)) {
        gr_http_static_serve(srv->loop, srv->static_root, req);
        return;
    }
    char msg[256];
    snprintf(msg, sizeof msg, "no route for %s %.200s", req->method, req->path);
    gr__http_respond_error(req, 404, msg);
}

/* ---- connections and shutdown -------------------------------------------- */

void gr_http_server_conn_closed(gr_http_server_t *srv, int counted)
{
    srv->nconns--;
    if (counted)
        srv->nactive--;
    gr__check_drained(srv);
}

static int gr__drain_complete(const gr_http_server_t *srv)
{
    return srv->draining && !srv->listener_open && srv->nconns == 0 &&
           (srv->nin_flight == 0 || srv->drain_forced);
}

static void gr__finish_drain(gr_http_server_t *srv)
{
    if (srv->drain_timer) {
        uv_timer_stop(srv->drain_timer);
        uv_close((uv_handle_t *)srv->drain_timer, on_heap_handle_closed);
        srv->drain_timer = NULL;
    }
    if (srv->nin_flight) {
        gr_log_warn(srv->log,
                    "http: %zu request(s) were still unanswered when the drain ended; their "
                    "handlers never called gr_http_respond (one: %s %s)",
                    srv->nin_flight, srv->in_flight->method,
                    srv->in_flight->url.data ? srv->in_flight->url.data : "");
    }
    srv->drain_finished = 1;
    if (srv->drained)
        srv->drained(srv->drained_data); /* may free srv: last */
}

static void gr__check_drained(gr_http_server_t *srv)
{
    if (!srv->drain_finished && gr__drain_complete(srv))
        gr__finish_drain(srv);
}

static void on_drain_timer(uv_timer_t *t)
{
    gr_http_server_t *srv = t->data;
    if (gr__drain_complete(srv)) {
        gr__finish_drain(srv);
        return;
    }
    if (srv->nconns || srv->nin_flight)
        gr_log_warn(srv->log,
                    "http: drain timed out with %zu connection(s) open and %zu request(s) in "
                    "flight; closing them",
                    srv->nconns, srv->nin_flight);
    srv->drain_forced = 1;
    for (gr_http_conn_t *c = srv->conns; c; c = gr_http_conn_next(c))
        gr_http_conn_abort(c);
    gr__check_drained(srv); /* with no connection left to wait for */
}

void gr_http_server_shutdown(gr_http_server_t *srv, uint64_t drain_timeout_ms,
                             void (*drained)(void *user_data), void *user_data)
{
    if (srv->draining)
        return;
    srv->draining = 1;
    srv->drained = drained;
    srv->drained_data = user_data;
    if (srv->listener) {
        uv_close((uv_handle_t *)srv->listener, on_listener_closed);
        srv->listener = NULL;
    }
    for (gr_http_conn_t *c = srv->conns; c; c = gr_http_conn_next(c))
        gr_http_conn_drain(c);
    srv->drain_timer = gr_xcalloc(1, sizeof *srv->drain_timer);
    uv_timer_init(srv->loop, srv->drain_timer);
    srv->drain_timer->data = srv;
    /* Even when nothing is open, drained runs from the loop rather than
     * inside this call. */
    uv_timer_start(srv->drain_timer, on_drain_timer, gr__drain_complete(srv) ? 0 : drain_timeout_ms,
                   0);
}

void gr_http_server_free(gr_http_server_t *srv)
{
    if (!srv)
        return;
    if (srv->nconns) {
        /* Their handles point at srv; freeing now would be a use after free. */
        gr_log_error(srv->log,
                     "http: gr_http_server_free called with %zu connection(s) open; "
                     "call it after `drained` ran",
                     srv->nconns);
        abort();
    }
    /* Handlers still holding requests answer into the void, safely. */
    while (srv->in_flight)
        gr__untrack(srv, srv->in_flight);
    if (srv->listener) {
        srv->listener->data = NULL;
        uv_close((uv_handle_t *)srv->listener, on_heap_handle_closed);
    }
    if (srv->drain_timer) {
        uv_timer_stop(srv->drain_timer);
        uv_close((uv_handle_t *)srv->drain_timer, on_heap_handle_closed);
    }
    free(srv->static_root);
    free(srv);
}
