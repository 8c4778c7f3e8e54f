/* core/http_conn.c: one client connection: reading and parsing requests,
 * the in-order response queue, timeouts and closing.
 *
 * A connection parses requests as they arrive and dispatches each at once,
 * so pipelined requests run concurrently; their answers wait in a queue and
 * are written in request order.  A connection is in one of these states:
 *
 *   reading   parsing requests (it stops reading while GR_HTTP_MAX_PIPELINE
 *             requests wait for answers, and resumes as they go out);
 *   finishing no more requests will be parsed (the last one asked to close,
 *             the server is draining, or the input was bad); input is read
 *             and discarded, and the connection closes after the last
 *             queued answer;
 *   closing   its socket is shutting down or closed.
 *
 * Timers: while a request arrives, request_timeout_ms from its first byte;
 * while answers are being prepared by handlers, none (a handler that never
 * answers is the module's bug, bounded by the drain at shutdown); otherwise
 * idle_timeout_ms, restarted by every read and every completed write, so
 * it also bounds a client that stops reading our answers.
 *
 * Closing after an answer is "lingering": shut down the write side, then
 * read and discard until the client closes or GR_HTTP_LINGER_MS pass, so a
 * client still sending (an oversized upload, say) reads our answer instead
 * of a connection reset. */
#include <http_parser.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_impl.h"
#include "http_internal.h"
#include "http_status.h"

typedef enum timer_mode { TIMER_NONE = 0, TIMER_IDLE, TIMER_REQUEST, TIMER_LINGER } timer_mode_t;

struct gr_http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown_req;
    gr_http_server_t *srv;
    gr_http_conn_t *prev, *next; /* the server's list */
    int counted;                 /* counted against max_connections */

    http_parser parser;
    gr_http_request_t *cur; /* the request being parsed, owned here alone */
    gr_buf_t field, value;  /* the header line being parsed */
    int in_value;
    size_t header_bytes;
    uint64_t request_started;
    int fail_status; /* set by a parser callback that refuses the input */
    char fail_message[200];

    gr_http_request_t *head, *tail; /* the response queue */
    size_t queued;
    gr_buf_t pending; /* input read before parsing paused */

    timer_mode_t timer_mode;
    int handles_open;
    unsigned reading : 1, paused : 1, finishing : 1, closing : 1, lingering : 1, peer_closed : 1,
        in_parse : 1, in_flush : 1, flush_again : 1, resuming : 1;
};

typedef struct conn_write {
    uv_write_t req;
    gr_buf_t data;
    gr_http_conn_t *conn;
} conn_write_t;

static void conn_close(gr_http_conn_t *conn, int graceful);
static void conn_close_now(gr_http_conn_t *conn);
static void conn_update_timer(gr_http_conn_t *conn);
static void conn_feed(gr_http_conn_t *conn, const char *data, size_t len);
static void conn_maybe_resume(gr_http_conn_t *conn);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

gr_http_conn_t *gr_http_conn_next(gr_http_conn_t *conn)
{
    return conn->next;
}

/* ---- writing ------------------------------------------------------------- */

static void on_write(uv_write_t *w, int status)
{
    conn_write_t *cw = w->data;
    gr_http_conn_t *conn = cw->conn;
    gr_buf_free(&cw->data);
    free(cw);
    if (conn->closing)
        return;
    if (status < 0) {
        gr_log_debug(conn->srv->log, "http: write failed: %s", uv_strerror(status));
        conn_close(conn, 0);
        return;
    }
    conn_maybe_resume(conn);
    conn_update_timer(conn);
}

/* Writes data (taken, left empty). */
static void conn_write(gr_http_conn_t *conn, gr_buf_t *data)
{
    conn_write_t *cw = gr_xcalloc(1, sizeof *cw);
    cw->conn = conn;
    cw->data = *data;
    *data = (gr_buf_t){0};
    cw->req.data = cw;
    uv_buf_t b = uv_buf_init(cw->data.data, (unsigned)cw->data.len);
    int rc = uv_write(&cw->req, (uv_stream_t *)&conn->tcp, &b, 1, on_write);
    if (rc < 0) {
        gr_buf_free(&cw->data);
        free(cw);
        conn_close(conn, 0);
    }
}

/* ---- reading ------------------------------------------------------------- */

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    gr_http_conn_t *conn = handle->data;
    (void)suggested;
    buf->base = conn->srv->read_buf;
    buf->len = sizeof conn->srv->read_buf;
}

static void conn_read_start(gr_http_conn_t *conn)
{
    /* Lingering reads after `closing` is set; only a closed handle cannot. */
    if (!conn->reading && (!conn->closing || conn->lingering) &&
        !uv_is_closing((uv_handle_t *)&conn->tcp)) {
        if (uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) == 0)
            conn->reading = 1;
        else
            conn_close(conn, 0);
    }
}

static void conn_read_stop(gr_http_conn_t *conn)
{
    if (conn->reading) {
        uv_read_stop((uv_stream_t *)&conn->tcp);
        conn->reading = 0;
    }
}

/* ---- the response queue ------------------------------------------------- */

static void conn_enqueue(gr_http_conn_t *conn, gr_http_request_t *req)
{
    req->conn = conn;
    req->refs++;
    req->next_in_conn = NULL;
    if (conn->tail)
        conn->tail->next_in_conn = req;
    else
        conn->head = req;
    conn->tail = req;
    conn->queued++;
}

static gr_http_request_t *conn_dequeue(gr_http_conn_t *conn)
{
    gr_http_request_t *req = conn->head;
    conn->head = req->next_in_conn;
    if (!conn->head)
        conn->tail = NULL;
    conn->queued--;
    req->next_in_conn = NULL;
    req->conn = NULL;
    return req;
}

/* Stops parsing: the requests already queued are answered, then it closes.
 * It keeps reading, discarding what arrives, to notice a client that leaves
 * before its answers are ready. */
static void conn_finish(gr_http_conn_t *conn)
{
    conn->finishing = 1;
    conn->paused = 0;
    gr_buf_free(&conn->pending);
    conn_read_start(conn);
}

/* True when the connection should parse no more requests for now: too
 * many are waiting for answers, or too many answer bytes for the socket. */
static int conn_backlogged(const gr_http_conn_t *conn)
{
    size_t unsent = uv_stream_get_write_queue_size((const uv_stream_t *)&conn->tcp);
    return conn->queued >= GR_HTTP_MAX_PIPELINE || unsent > GR_HTTP_MAX_WRITE_BACKLOG;
}

/* Resumes parsing paused for a backlog, once there is room again.  Never
 * from inside the parser (the outer conn_feed checks again when it
 * returns), and as a loop rather than recursion: feeding the kept input can
 * fill the queue, get answered and come back here many times over. */
static void conn_maybe_resume(gr_http_conn_t *conn)
{
    if (conn->resuming || conn->in_parse)
        return;
    conn->resuming = 1;
    while (conn->paused && !conn->finishing && !conn->closing && !conn_backlogged(conn)) {
        conn->paused = 0;
        http_parser_pause(&conn->parser, 0);
        gr_buf_t input = conn->pending;
        conn->pending = (gr_buf_t){0};
        if (input.len)
            conn_feed(conn, input.data, input.len);
        gr_buf_free(&input);
    }
    conn->resuming = 0;
    if (!conn->paused && !conn->finishing && !conn->closing)
        conn_read_start(conn);
}

static void conn_flush(gr_http_conn_t *conn)
{
    if (conn->in_flush) {
        conn->flush_again = 1;
        return;
    }
    conn->in_flush = 1;
    do {
        conn->flush_again = 0;
        while (conn->head && conn->head->responded && !conn->closing) {
            gr_http_request_t *req = conn_dequeue(conn);
            int close = !req->keep_alive ||
                        ((conn->finishing || conn->srv->draining) && !conn->head && !conn->cur);
            gr_buf_t out = {0};
            gr_http_request_write_response(req, close, &out);
            gr_http_request_release(req); /* the connection's reference */
            conn_write(conn, &out);
            if (close)
                conn_close(conn, 1);
        }
    } while (conn->flush_again && !conn->closing);
    conn->in_flush = 0;
    if (!conn->closing) {
        conn_maybe_resume(conn);
        conn_update_timer(conn);
    }
}

void gr_http_conn_response_ready(gr_http_conn_t *conn)
{
    conn_flush(conn);
}

/* Answers the request being parsed (or a new one) with an error, then
 * closes: after bad input the stream can no longer be trusted. */
static void conn_fail(gr_http_conn_t *conn, int status, const char *message)
{
    if (conn->closing || conn->finishing)
        return;
    gr_http_request_t *req = conn->cur ? conn->cur : gr_http_request_new(conn->srv->log);
    conn->cur = NULL;
    conn_finish(conn);
    req->keep_alive = 0;
    req->http_major = 1;
    req->http_minor = 1;
    conn_enqueue(conn, req);
    gr_http_server_track(conn->srv, req);
    gr_log_debug(conn->srv->log, "http: %d: %s", status, message);
    gr__http_respond_error(req, status, message);
}

/* ---- parser callbacks ---------------------------------------------------- */

static int conn_refuse(gr_http_conn_t *conn, int status, const char *message)
{
    conn->fail_status = status;
    snprintf(conn->fail_message, sizeof conn->fail_message, "%s", message);
    return -1;
}

static int on_message_begin(http_parser *p)
{
    gr_http_conn_t *conn = p->data;
    conn->cur = gr_http_request_new(conn->srv->log);
    conn->header_bytes = 0;
    conn->in_value = 0;
    gr_buf_reset(&conn->field);
    gr_buf_reset(&conn->value);
    conn->request_started = uv_now(conn->srv->loop);
    conn_update_timer(conn);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    gr_http_conn_t *conn = p->data;
    conn->cur->method = http_method_str((enum http_method)p->method);
    conn->header_bytes += len;
    if (conn->header_bytes > conn->srv->limits.max_header_bytes)
        return conn_refuse(conn, 414, "the request target is longer than the server accepts");
    gr_buf_append(&conn->cur->url, at, len);
    return 0;
}

static int header_limit(gr_http_conn_t *conn, size_t len)
{
    /* Each line also costs ": " and CRLF on the wire. */
    conn->header_bytes += len + 2;
    if (conn->header_bytes > conn->srv->limits.max_header_bytes) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request headers are larger than the %zu bytes allowed",
                 conn->srv->limits.max_header_bytes);
        return conn_refuse(conn, 431, msg);
    }
    return 0;
}

static void commit_header(gr_http_conn_t *conn)
{
    char *name = gr_xstrndup(conn->field.data ? conn->field.data : "", conn->field.len);
    for (char *c = name; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    const char *v = conn->value.data ? conn->value.data : "";
    size_t vlen = conn->value.len;
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    while (vlen > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    char *value = gr_xstrndup(v, vlen);
    gr_http_request_add_header(conn->cur, name, value);
    free(value);
    gr_buf_reset(&conn->field);
    gr_buf_reset(&conn->value);
    conn->in_value = 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    gr_http_conn_t *conn = p->data;
    if (conn->in_value)
        commit_header(conn);
    if (header_limit(conn, len) < 0)
        return -1;
    gr_buf_append(&conn->field, at, len);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    gr_http_conn_t *conn = p->data;
    conn->in_value = 1;
    if (header_limit(conn, len) < 0)
        return -1;
    gr_buf_append(&conn->value, at, len);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    gr_http_conn_t *conn = p->data;
    gr_http_request_t *req = conn->cur;
    if (conn->in_value || conn->field.len)
        commit_header(conn);
    req->method = http_method_str((enum http_method)p->method);
    req->http_major = p->http_major;
    req->http_minor = p->http_minor;
    size_t max = req->max_body = gr_http_server_body_limit(conn->srv, req);
    /* Without Content-Length, http_parser leaves content_length at its
     * all-ones "unknown" value; chunked bodies are checked as they come. */
    if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX &&
        p->content_length > (uint64_t)max) {
        char msg[160];
        snprintf(msg, sizeof msg, "the request body of %llu bytes is larger than the %zu allowed",
                 (unsigned long long)p->content_length, max);
        return conn_refuse(conn, 413, msg);
    }
    /* A client waiting for "100 Continue" would otherwise pause a second
     * before sending its body.  Only when nothing is queued ahead, since an
     * interim response must not overtake earlier answers. */
    const char *expect = gr__http_header(req, "expect");
    if (expect && strcasecmp(expect, "100-continue") == 0 && !conn->head &&
        (req->http_major > 1 || req->http_minor >= 1)) {
        gr_buf_t cont = {0};
        gr_buf_puts(&cont, "HTTP/1.1 100 Continue\r\n\r\n");
        conn_write(conn, &cont);
        if (conn->closing)
            return -1; /* the write failed and took cur with it: stop parsing */
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    gr_http_conn_t *conn = p->data;
    size_t max = conn->cur->max_body;
    if (conn->cur->body.len + len > max) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body is larger than the %zu bytes allowed", max);
        return conn_refuse(conn, 413, msg);
    }
    gr_buf_append(&conn->cur->body, at, len);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    gr_http_conn_t *conn = p->data;
    gr_http_request_t *req = conn->cur;
    conn->cur = NULL;
    req->keep_alive = http_should_keep_alive(p) && !p->upgrade;
    int keep_alive = req->keep_alive;
    conn_enqueue(conn, req);
    gr_http_server_dispatch(conn->srv, req); /* may answer, and free req, at once */
    if (conn->closing) {
        http_parser_pause(p, 1);
    } else if (!keep_alive || conn->srv->draining) {
        conn_finish(conn);
        http_parser_pause(p, 1);
    } else if (conn_backlogged(conn)) {
        http_parser_pause(p, 1);
    }
    return 0;
}

static const http_parser_settings gr__parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void conn_feed(gr_http_conn_t *conn, const char *data, size_t len)
{
    conn->in_parse = 1;
    size_t n = http_parser_execute(&conn->parser, &gr__parser_settings, data, len);
    conn->in_parse = 0;
    if (conn->closing)
        return;
    enum http_errno err = HTTP_PARSER_ERRNO(&conn->parser);
    if (err == HPE_PAUSED) {
        if (!conn->finishing) {
            /* Paused for a full queue: keep the rest for later. */
            conn->paused = 1;
            conn_read_stop(conn);
            if (n < len)
                gr_buf_append(&conn->pending, data + n, len - n);
        }
    } else if (err != HPE_OK) {
        if (conn->fail_status) {
            conn_fail(conn, conn->fail_status, conn->fail_message);
        } else if (err == HPE_HEADER_OVERFLOW) {
            conn_fail(conn, 431, "the request headers are larger than the server accepts");
        } else {
            char msg[160];
            snprintf(msg, sizeof msg, "malformed HTTP request: %s", http_errno_description(err));
            conn_fail(conn, 400, msg);
        }
    } else if (conn->parser.upgrade) {
        /* http_parser stops at an upgrade; we speak no other protocol, and
         * on_message_complete already chose to close. */
        conn_finish(conn);
    }
    if (!conn->closing) {
        conn_maybe_resume(conn);
        conn_update_timer(conn);
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    gr_http_conn_t *conn = stream->data;
    (void)buf;
    if (nread == 0)
        return;
    if (nread < 0) {
        conn_read_stop(conn);
        if (conn->lingering || conn->closing) {
            conn_close_now(conn);
            return;
        }
        /* A client that goes away abandons its requests, as in Go's
         * net/http and Node's http: answers still being prepared are
         * dropped.  (A client that only half-closes is treated the same.) */
        conn->peer_closed = 1;
        conn_close(conn, nread == UV_EOF);
        return;
    }
    if (conn->lingering || conn->finishing || conn->closing)
        return; /* discarded */
    conn_feed(conn, buf->base, (size_t)nread);
}

/* ---- timers and closing -------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
    gr_http_conn_t *conn = t->data;
    timer_mode_t mode = conn->timer_mode;
    conn->timer_mode = TIMER_NONE;
    if (mode == TIMER_LINGER) {
        conn_close_now(conn);
    } else if (mode == TIMER_REQUEST) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request did not arrive within %llu ms",
                 (unsigned long long)conn->srv->limits.request_timeout_ms);
        conn_fail(conn, 408, msg);
    } else if (mode == TIMER_IDLE) {
        /* With answers still unsent, the client stopped reading: waiting
         * for them to drain before closing would wait for ever. */
        conn_close(conn, uv_stream_get_write_queue_size((const uv_stream_t *)&conn->tcp) == 0);
    }
}

static void conn_set_timer(gr_http_conn_t *conn, timer_mode_t mode, uint64_t ms)
{
    conn->timer_mode = mode;
    if (mode == TIMER_NONE)
        uv_timer_stop(&conn->timer);
    else
        uv_timer_start(&conn->timer, on_timer, ms, 0);
}

static void conn_update_timer(gr_http_conn_t *conn)
{
    if (conn->closing)
        return;
    const gr_http_limits_t *lim = &conn->srv->limits;
    if (conn->cur) {
        uint64_t now = uv_now(conn->srv->loop);
        uint64_t deadline = conn->request_started + lim->request_timeout_ms;
        if (conn->timer_mode != TIMER_REQUEST)
            conn_set_timer(conn, TIMER_REQUEST, deadline > now ? deadline - now : 0);
    } else if (conn->head && uv_stream_get_write_queue_size((const uv_stream_t *)&conn->tcp) == 0) {
        conn_set_timer(conn, TIMER_NONE, 0); /* handlers are at work */
    } else {
        conn_set_timer(conn, TIMER_IDLE, lim->idle_timeout_ms);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    gr_http_conn_t *conn = h->data;
    if (--conn->handles_open > 0)
        return;
    gr_http_server_t *srv = conn->srv;
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        srv->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    int counted = conn->counted;
    gr_buf_free(&conn->field);
    gr_buf_free(&conn->value);
    gr_buf_free(&conn->pending);
    free(conn);
    gr_http_server_conn_closed(srv, counted); /* may call drained: last */
}

static void conn_close_now(gr_http_conn_t *conn)
{
    conn_read_stop(conn);
    uv_timer_stop(&conn->timer);
    conn->timer_mode = TIMER_NONE;
    if (!uv_is_closing((uv_handle_t *)&conn->tcp))
        uv_close((uv_handle_t *)&conn->tcp, on_handle_closed);
    if (!uv_is_closing((uv_handle_t *)&conn->timer))
        uv_close((uv_handle_t *)&conn->timer, on_handle_closed);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    gr_http_conn_t *conn = s->data;
    if (status < 0 || conn->peer_closed || uv_is_closing((uv_handle_t *)&conn->tcp)) {
        conn_close_now(conn);
        return;
    }
    conn->lingering = 1;
    conn_read_start(conn);
    conn_set_timer(conn, TIMER_LINGER, GR_HTTP_LINGER_MS);
}

/* Closes the connection.  Requests still waiting for an answer are
 * detached: their handlers find gr_http_aborted() true and their answers
 * free them.  graceful: let queued writes finish and linger. */
static void conn_close(gr_http_conn_t *conn, int graceful)
{
    if (conn->closing)
        return;
    conn->closing = 1;
    conn_read_stop(conn);
    uv_timer_stop(&conn->timer);
    conn->timer_mode = TIMER_NONE;
    if (conn->cur) {
        gr_http_request_release(conn->cur);
        conn->cur = NULL;
    }
    while (conn->head)
        gr_http_request_release(conn_dequeue(conn));
    gr_buf_free(&conn->pending);
    if (graceful) {
        conn->shutdown_req.data = conn;
        if (uv_shutdown(&conn->shutdown_req, (uv_stream_t *)&conn->tcp, on_shutdown) == 0) {
            /* The shutdown waits for the last answers to be written; a
             * client that does not read them gets cut off after the idle
             * timeout, like any other client that stalls. */
            conn_set_timer(conn, TIMER_LINGER, conn->srv->limits.idle_timeout_ms);
            return;
        }
    }
    conn_close_now(conn);
}

/* ---- the server's side --------------------------------------------------- */

void gr_http_conn_drain(gr_http_conn_t *conn)
{
    if (conn->closing || conn->finishing)
        return;
    if (conn->cur)
        return; /* on_message_complete finishes it, seeing srv->draining */
    conn_finish(conn);
    conn_update_timer(conn);
    if (!conn->head)
        conn_close(conn, 1);
}

void gr_http_conn_abort(gr_http_conn_t *conn)
{
    if (!conn->closing)
        conn_close(conn, 0);
    else
        conn_close_now(conn);
}

void gr_http_conn_accept(gr_http_server_t *srv)
{
    gr_http_conn_t *conn = gr_xcalloc(1, sizeof *conn);
    conn->srv = srv;
    uv_tcp_init(srv->loop, &conn->tcp);
    uv_timer_init(srv->loop, &conn->timer);
    conn->tcp.data = conn;
    conn->timer.data = conn;
    conn->handles_open = 2;
    conn->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = conn;
    srv->conns = conn;
    srv->nconns++;

    int rc = uv_accept((uv_stream_t *)srv->listener, (uv_stream_t *)&conn->tcp);
    if (rc < 0) {
        gr_log_warn(srv->log, "http: accept failed: %s", uv_strerror(rc));
        conn->closing = 1;
        conn_close_now(conn);
        return;
    }
    uv_tcp_nodelay(&conn->tcp, 1);

    if (srv->nactive >= srv->limits.max_connections) {
        /* Accept and answer rather than leave the client in the backlog: it
         * learns at once that the host is busy. */
        uint64_t now = uv_now(srv->loop);
        if (now - srv->last_reject_log_ms >= 10000 || srv->last_reject_log_ms == 0) {
            srv->last_reject_log_ms = now;
            gr_log_warn(srv->log,
                        "http: %zu connections are open, the configured maximum; "
                        "answering new ones with 503",
                        srv->nactive);
        }
        gr_buf_t out = {0};
        gr_buf_t body = {0};
        gr_http_error_body(&body, 503, "the server has too many open connections; retry later", "",
                           "");
        gr_buf_printf(&out,
                      "HTTP/1.1 503 Service Unavailable\r\n"
                      "Content-Type: application/json; charset=utf-8\r\n"
                      "Content-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      body.len);
        gr_buf_append(&out, body.data, body.len);
        gr_buf_free(&body);
        conn->finishing = 1;
        conn_write(conn, &out);
        conn_close(conn, 1);
        return;
    }
    conn->counted = 1;
    srv->nactive++;
    http_parser_init(&conn->parser, HTTP_REQUEST);
    conn->parser.data = conn;
    conn_read_start(conn);
    conn_update_timer(conn);
}
