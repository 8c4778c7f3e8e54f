/* tests/unit/support/loopback_server.c: see loopback_server.h. */
#include "loopback_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

typedef struct ls_conn ls_conn_t;

typedef struct ls_req {
    gr_ls_request_t pub;
    ls_conn_t *conn; /* NULL once the connection has gone */
    uv_timer_t timer;
    int timer_open;
    int status; /* a delayed answer */
    char *headers;
    char *body;
    size_t len;
    struct ls_req *prev, *next; /* the server's unanswered requests */
} ls_req_t;

struct ls_conn {
    uv_tcp_t tcp;
    gr_ls_t *server;
    int id;
    http_parser parser;
    ls_req_t *building;
    gr_buf_t url;
    gr_buf_t field;
    gr_buf_t value;
    int in_value;
    int closing;
    struct ls_conn *prev, *next;
};

struct gr_ls {
    uv_loop_t *loop;
    uv_tcp_t listener;
    char base_url[64];
    gr_ls_handler_fn handler;
    void *user_data;
    size_t nconns;
    size_t nrequests;
    ls_conn_t *conns;
    ls_req_t *reqs;
    int open_handles;
    int stopped;
};

typedef struct ls_write {
    uv_write_t req;
    ls_conn_t *conn;
    int close_after;
    size_t len;
    char data[];
} ls_write_t;

static http_parser_settings ls_settings;

static void server_maybe_free(gr_ls_t *s)
{
    if (s->stopped && s->open_handles == 0)
        free(s);
}

/* ---- requests ------------------------------------------------------------- */

static void req_unlink(ls_req_t *r)
{
    gr_ls_t *s = r->pub.server;
    if (r->prev)
        r->prev->next = r->next;
    else if (s->reqs == r)
        s->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void on_req_timer_closed(uv_handle_t *h)
{
    ls_req_t *r = h->data;
    gr_ls_t *s = r->pub.server;
    free(r);
    s->open_handles--;
    server_maybe_free(s);
}

static void req_free(ls_req_t *r)
{
    req_unlink(r);
    free(r->pub.method);
    free(r->pub.target);
    gr_strvec_free(&r->pub.header_names);
    gr_strvec_free(&r->pub.header_values);
    gr_buf_free(&r->pub.body);
    free(r->headers);
    free(r->body);
    if (r->timer_open)
        uv_close((uv_handle_t *)&r->timer, on_req_timer_closed);
    else
        free(r);
}

/* ---- connections ---------------------------------------------------------- */

static void on_conn_closed(uv_handle_t *h)
{
    ls_conn_t *c = h->data;
    gr_ls_t *s = c->server;
    gr_buf_free(&c->url);
    gr_buf_free(&c->field);
    gr_buf_free(&c->value);
    free(c);
    s->open_handles--;
    server_maybe_free(s);
}

static void conn_close(ls_conn_t *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    gr_ls_t *s = c->server;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    for (ls_req_t *r = s->reqs; r; r = r->next)
        if (r->conn == c)
            r->conn = NULL;
    if (c->building) {
        ls_req_t *b = c->building;
        c->building = NULL;
        b->pub.server = s;
        req_free(b);
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    ls_write_t *lw = (ls_write_t *)w;
    if (lw->close_after)
        conn_close(lw->conn);
    free(lw);
}

static void conn_write(ls_conn_t *c, const void *data, size_t len, int close_after)
{
    if (!c || c->closing)
        return;
    ls_write_t *lw = gr_xmalloc(sizeof *lw + len);
    lw->conn = c;
    lw->close_after = close_after;
    lw->len = len;
    memcpy(lw->data, data, len);
    uv_buf_t buf = uv_buf_init(lw->data, (unsigned)len);
    if (uv_write(&lw->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0) {
        free(lw);
        conn_close(c);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = gr_xmalloc(suggested);
    buf->len = suggested;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    ls_conn_t *c = stream->data;
    if (nread < 0) {
        conn_close(c);
    } else if (nread > 0 && !c->closing) {
        size_t done = http_parser_execute(&c->parser, &ls_settings, buf->base, (size_t)nread);
        if (!c->closing && (done != (size_t)nread || HTTP_PARSER_ERRNO(&c->parser) != HPE_OK))
            conn_close(c);
    }
    free(buf->base);
}

static void on_connection(uv_stream_t *listener, int status)
{
    gr_ls_t *s = listener->data;
    if (status < 0 || s->stopped)
        return;
    ls_conn_t *c = gr_xcalloc(1, sizeof *c);
    c->server = s;
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    s->open_handles++;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        c->closing = 1;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    c->id = (int)++s->nconns;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* ---- parsing ---------------------------------------------------------------- */

static void conn_flush_header(ls_conn_t *c)
{
    if (c->field.len && c->building) {
        gr_strvec_push(&c->building->pub.header_names, c->field.data);
        gr_strvec_push(&c->building->pub.header_values, c->value.len ? c->value.data : "");
    }
    gr_buf_reset(&c->field);
    gr_buf_reset(&c->value);
    c->in_value = 0;
}

static int on_message_begin(http_parser *p)
{
    ls_conn_t *c = p->data;
    if (c->closing)
        return 1; /* the handler dropped the connection: stop parsing */
    c->building = gr_xcalloc(1, sizeof *c->building);
    c->building->pub.server = c->server;
    c->building->pub.conn_id = c->id;
    c->building->pub.priv = c->building;
    gr_buf_reset(&c->url);
    gr_buf_reset(&c->field);
    gr_buf_reset(&c->value);
    c->in_value = 0;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    ls_conn_t *c = p->data;
    gr_buf_append(&c->url, at, len);
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    ls_conn_t *c = p->data;
    if (c->in_value)
        conn_flush_header(c);
    gr_buf_append(&c->field, at, len);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    ls_conn_t *c = p->data;
    gr_buf_append(&c->value, at, len);
    c->in_value = 1;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    ls_conn_t *c = p->data;
    conn_flush_header(c);
    c->building->pub.method = gr_xstrdup(http_method_str((enum http_method)p->method));
    c->building->pub.target = gr_xstrdup(c->url.len ? c->url.data : "/");
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    ls_conn_t *c = p->data;
    gr_buf_append(&c->building->pub.body, at, len);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    ls_conn_t *c = p->data;
    ls_req_t *r = c->building;
    c->building = NULL;
    gr_ls_t *s = c->server;
    r->conn = c;
    r->next = s->reqs;
    if (s->reqs)
        s->reqs->prev = r;
    s->reqs = r;
    s->nrequests++;
    s->handler(&r->pub, s->user_data);
    return 0;
}

static http_parser_settings ls_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- the server ------------------------------------------------------------ */

gr_ls_t *gr_ls_start(uv_loop_t *loop, gr_ls_handler_fn handler, void *user_data)
{
    gr_ls_t *s = gr_xcalloc(1, sizeof *s);
    s->loop = loop;
    s->handler = handler;
    s->user_data = user_data;
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->open_handles = 1;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    if (uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0) != 0 ||
        uv_listen((uv_stream_t *)&s->listener, 128, on_connection) != 0) {
        gr_ls_stop(s);
        return NULL;
    }
    struct sockaddr_storage bound;
    int namelen = sizeof bound;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &namelen);
    snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%d",
             ntohs(((struct sockaddr_in *)&bound)->sin_port));
    return s;
}

const char *gr_ls_base_url(const gr_ls_t *s)
{
    return s->base_url;
}
size_t gr_ls_connections(const gr_ls_t *s)
{
    return s->nconns;
}
size_t gr_ls_requests(const gr_ls_t *s)
{
    return s->nrequests;
}

static void on_listener_closed(uv_handle_t *h)
{
    gr_ls_t *s = h->data;
    s->open_handles--;
    server_maybe_free(s);
}

void gr_ls_stop(gr_ls_t *s)
{
    if (!s || s->stopped)
        return;
    s->stopped = 1;
    while (s->conns)
        conn_close(s->conns);
    while (s->reqs)
        req_free(s->reqs);
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}

const char *gr_ls_header(const gr_ls_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->header_names.len; i++)
        if (strcasecmp(req->header_names.items[i], name) == 0)
            return req->header_values.items[i];
    return NULL;
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

void gr_ls_respond(gr_ls_request_t *req, int status, const char *headers, const void *body,
                   size_t len)
{
    ls_req_t *r = req->priv;
    gr_buf_t out = {0};
    gr_buf_printf(&out, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
    if (headers)
        gr_buf_puts(&out, headers);
    gr_buf_printf(&out, "Content-Length: %zu\r\n\r\n", len);
    if (len)
        gr_buf_append(&out, body, len);
    int close_after = headers && strcasestr(headers, "Connection: close") != NULL;
    conn_write(r->conn, out.data, out.len, close_after);
    gr_buf_free(&out);
    req_free(r);
}

static void on_delayed(uv_timer_t *t)
{
    ls_req_t *r = t->data;
    gr_ls_respond(&r->pub, r->status, r->headers, r->body, r->len);
}

void gr_ls_respond_after(gr_ls_request_t *req, uint64_t delay_ms, int status, const char *headers,
                         const void *body, size_t len)
{
    ls_req_t *r = req->priv;
    r->status = status;
    r->headers = headers ? gr_xstrdup(headers) : NULL;
    r->body = gr_xmalloc(len + 1);
    if (len)
        memcpy(r->body, body, len);
    r->len = len;
    uv_timer_init(req->server->loop, &r->timer);
    r->timer.data = r;
    r->timer_open = 1;
    req->server->open_handles++;
    uv_timer_start(&r->timer, on_delayed, delay_ms, 0);
}

void gr_ls_respond_raw(gr_ls_request_t *req, const void *data, size_t len, int close_after)
{
    ls_req_t *r = req->priv;
    conn_write(r->conn, data, len, close_after);
    req_free(r);
}

void gr_ls_drop(gr_ls_request_t *req)
{
    ls_req_t *r = req->priv;
    if (r->conn)
        conn_close(r->conn);
    req_free(r);
}

void gr_ls_hang(gr_ls_request_t *req)
{
    (void)req;
}
