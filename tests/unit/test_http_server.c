/* Unit tests for the HTTP server (core/http_*.c): a real server on
 * 127.0.0.1, port 0, on a uv loop in the main thread, driven by a client
 * thread speaking raw HTTP/1.1 over blocking sockets, so that every byte on
 * the wire is what the test wrote. */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "api_impl.h"
#include "http_server.h"
#include "log.h"
#include "router.h"
#include "test.h"

/* ---- the fixture: a server on a loop, a client on a thread --------------- */

typedef struct fixture fixture_t;
typedef void (*client_fn)(fixture_t *fx);

struct fixture {
    uv_loop_t loop;
    gr_log_t *log;
    gr_route_table_t *routes;
    gr_http_server_t *srv;
    int port;
    uv_async_t shutdown_async;
    pthread_t thread;
    client_fn client;
    uint64_t drain_timeout_ms;

    atomic_int shutdown_requested;
    atomic_int dispatched;   /* requests that reached a test handler */
    atomic_int aborted_seen; /* async handlers that found the client gone */
    atomic_int drained;
    atomic_ullong responded_ns; /* when the last async handler answered */
    atomic_ullong drained_ns;
    size_t in_flight_at_shutdown;
    gr_http_request_t *never; /* a request the "never" handler keeps */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Handlers. */

static void h_hello(gr_http_request_t *req, void *ud)
{
    (void)ud;
    gr_http_set_header(req, "X-Handler", "hello");
    gr_http_respond(req, 200, "text/plain", "hello", 5);
}

static void h_headers(gr_http_request_t *req, void *ud)
{
    (void)ud;
    /* Refused: a line break would let a value inject headers, and framing
     * belongs to the server. */
    gr_http_set_header(req, "X-Bad", "a\r\nInjected: 1");
    gr_http_set_header(req, "Bad Name", "v");
    gr_http_set_header(req, "Content-Length", "999");
    gr_http_set_header(req, "Content-Type", "text/csv");
    gr_http_set_header(req, "X-Good", "yes");
    gr_http_respond(req, 200, NULL, "a,b", 3);
}

static void h_echo(gr_http_request_t *req, void *ud)
{
    (void)ud;
    gr_error_t err;
    struct json_object *body = gr_http_body_json(req, &err);
    if (!body) {
        gr_http_respond_error(req, 400, "%s", err.message);
        return;
    }
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "got", json_object_get(body));
    gr_http_respond_json(req, 200, out);
}

static void h_item(gr_http_request_t *req, void *ud)
{
    (void)ud;
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "id", json_object_new_string(gr_http_param(req, "id")));
    json_object_object_add(out, "path", json_object_new_string(gr_http_path(req)));
    struct json_object *q = json_object_new_array();
    for (size_t i = 0; gr_http_query(req, "q", i); i++)
        json_object_array_add(q, json_object_new_string(gr_http_query(req, "q", i)));
    json_object_object_add(out, "q", q);
    const char *flag = gr_http_query(req, "flag", 0);
    const char *plus = gr_http_query(req, "plus", 0);
    const char *hdr = gr_http_header(req, "x-TEST");
    json_object_object_add(out, "flag", flag ? json_object_new_string(flag) : NULL);
    json_object_object_add(out, "plus", plus ? json_object_new_string(plus) : NULL);
    json_object_object_add(out, "header", hdr ? json_object_new_string(hdr) : NULL);
    json_object_object_add(out, "missing",
                           json_object_new_boolean(gr_http_query(req, "q", 99) == NULL &&
                                                   gr_http_header(req, "x-none") == NULL &&
                                                   gr_http_param(req, "nope") == NULL));
    gr_http_respond_json(req, 200, out);
}

typedef struct pending {
    uv_timer_t timer;
    gr_http_request_t *req;
    fixture_t *fx;
    char tag[32];
} pending_t;

static void free_pending(uv_handle_t *h)
{
    free(h->data);
}

static void async_fire(uv_timer_t *t)
{
    pending_t *p = t->data;
    if (gr_http_aborted(p->req))
        atomic_fetch_add(&p->fx->aborted_seen, 1);
    atomic_store(&p->fx->responded_ns, now_ns());
    gr_http_respond(p->req, 200, "text/plain", p->tag, strlen(p->tag));
    uv_close((uv_handle_t *)t, free_pending);
}

/* Answers later, from a uv timer: ?ms=delay&tag=body. */
static void h_async(gr_http_request_t *req, void *ud)
{
    fixture_t *fx = ud;
    pending_t *p = calloc(1, sizeof *p);
    p->req = req;
    p->fx = fx;
    const char *tag = gr_http_query(req, "tag", 0);
    snprintf(p->tag, sizeof p->tag, "%s", tag ? tag : "async");
    const char *ms = gr_http_query(req, "ms", 0);
    uv_timer_init(&fx->loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, async_fire, ms ? strtoull(ms, NULL, 10) : 50, 0);
    atomic_fetch_add(&fx->dispatched, 1);
}

static void h_nocontent(gr_http_request_t *req, void *ud)
{
    (void)ud;
    gr_http_respond(req, 204, NULL, NULL, 0);
}

/* ?kb=N answers N KiB of 'x'. */
static void h_big(gr_http_request_t *req, void *ud)
{
    fixture_t *fx = ud;
    atomic_fetch_add(&fx->dispatched, 1);
    const char *kb = gr_http_query(req, "kb", 0);
    size_t n = (kb ? strtoul(kb, NULL, 10) : 1) * 1024;
    char *body = malloc(n);
    memset(body, 'x', n);
    gr_http_respond(req, 200, "text/plain", body, n);
    free(body);
}

static void h_never(gr_http_request_t *req, void *ud)
{
    fixture_t *fx = ud;
    fx->never = req;
    atomic_fetch_add(&fx->dispatched, 1);
}

static void on_drained(void *ud)
{
    fixture_t *fx = ud;
    atomic_store(&fx->drained_ns, now_ns());
    atomic_store(&fx->drained, 1);
}

static void on_shutdown_async(uv_async_t *a)
{
    fixture_t *fx = a->data;
    fx->in_flight_at_shutdown = gr_http_server_in_flight(fx->srv);
    gr_http_server_shutdown(fx->srv, fx->drain_timeout_ms, on_drained, fx);
    uv_close((uv_handle_t *)a, NULL);
}

/* Asks the loop, from the client thread, to shut the server down. */
static void request_shutdown(fixture_t *fx)
{
    if (!atomic_exchange(&fx->shutdown_requested, 1))
        uv_async_send(&fx->shutdown_async);
}

static void *client_thread(void *arg)
{
    fixture_t *fx = arg;
    fx->client(fx);
    request_shutdown(fx);
    return NULL;
}

static gr_metrics_t *g_metrics; /* passed to the next fx_init */

static void fx_init(fixture_t *fx, const gr_http_limits_t *limits, const char *static_dir)
{
    memset(fx, 0, sizeof *fx);
    uv_loop_init(&fx->loop);
    fx->log = gr_log_root_new(stderr, GR_LOG_WARN, GR_LOG_FORMAT_PRETTY);
    fx->routes = gr_route_table_new();
    fx->drain_timeout_ms = 5000;
    gr_router_t *r = gr_route_table_router(fx->routes, "/api/test", "test");
    gr_error_t err;
    gr_router_add(r, "GET", "/hello", h_hello, fx, &err);
    gr_router_add(r, "POST", "/echo", h_echo, fx, &err);
    gr_router_add(r, "GET", "/items/:id", h_item, fx, &err);
    gr_router_add(r, "GET", "/async", h_async, fx, &err);
    gr_router_add(r, "GET", "/never", h_never, fx, &err);
    gr_router_add(r, "DELETE", "/items/:id", h_nocontent, fx, &err);
    gr_router_add(r, "GET", "/big", h_big, fx, &err);
    gr_router_add(r, "GET", "/headers", h_headers, fx, &err);
    fx->srv = gr_http_server_new(&fx->loop, limits, fx->routes, static_dir, fx->log, g_metrics);
    if (gr_http_server_listen(fx->srv, "127.0.0.1", 0, &err) < 0) {
        fprintf(stderr, "listen: %s\n", err.message);
        abort();
    }
    fx->port = gr_http_server_port(fx->srv);
    uv_async_init(&fx->loop, &fx->shutdown_async, on_shutdown_async);
    fx->shutdown_async.data = fx;
}

/* Runs client on its thread while the loop serves, until the server has
 * drained and every handle closed; then frees everything. */
static void fx_run(fixture_t *fx, client_fn client)
{
    fx->client = client;
    pthread_create(&fx->thread, NULL, client_thread, fx);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    pthread_join(fx->thread, NULL);
    CHECK(atomic_load(&fx->drained) == 1);
    gr_http_server_free(fx->srv);
    if (fx->never) {
        /* The handler answers after the server is gone: the answer goes
         * nowhere and frees the request (ASan checks both). */
        CHECK(gr_http_aborted(fx->never) == 1);
        gr_http_respond(fx->never, 200, "text/plain", "late", 4);
        fx->never = NULL;
    }
    gr_route_table_free(fx->routes);
    CHECK(uv_loop_close(&fx->loop) == 0);
    gr_log_free(fx->log);
}

/* ---- a blocking HTTP client ---------------------------------------------- */

typedef struct client {
    int fd;
    char buf[1 << 18];
    size_t len;
} client_t;

typedef struct response {
    int status;
    char head[8192]; /* status line and headers */
    char body[1 << 17];
    size_t body_len;
} response_t;

static client_t *cl_open(int port)
{
    client_t *c = calloc(1, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {5, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        close(c->fd);
        free(c);
        return NULL;
    }
    return c;
}

static void cl_close(client_t *c)
{
    if (c) {
        close(c->fd);
        free(c);
    }
}

static void cl_send_n(client_t *c, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void cl_send(client_t *c, const char *s)
{
    cl_send_n(c, s, strlen(s));
}

/* Reads more into the buffer: bytes read, 0 at EOF, -1 on error/timeout. */
static ssize_t cl_fill(client_t *c)
{
    if (c->len == sizeof c->buf)
        return -1;
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

static const char *find_header(const char *head, const char *name)
{
    static __thread char value[1024];
    size_t nlen = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line && line[2];
         line = strstr(line + 2, "\r\n")) {
        const char *l = line + 2;
        if (strncasecmp(l, name, nlen) == 0 && l[nlen] == ':') {
            const char *v = l + nlen + 1;
            while (*v == ' ')
                v++;
            size_t vlen = strcspn(v, "\r");
            snprintf(value, sizeof value, "%.*s", (int)vlen, v);
            return value;
        }
    }
    return NULL;
}

/* Reads one response (the body too unless head_only).  0 on success. */
static int cl_response(client_t *c, response_t *r, int head_only)
{
    memset(r, 0, sizeof *r);
    char *end;
    for (;;) {
        c->buf[c->len < sizeof c->buf ? c->len : sizeof c->buf - 1] = '\0';
        end = c->len ? strstr(c->buf, "\r\n\r\n") : NULL;
        if (end)
            break;
        if (cl_fill(c) <= 0)
            return -1;
    }
    size_t head_len = (size_t)(end - c->buf) + 4;
    snprintf(r->head, sizeof r->head, "%.*s", (int)head_len, c->buf);
    r->status = atoi(r->head + 9);
    const char *cl = find_header(r->head, "Content-Length");
    size_t body_len = cl && !head_only ? strtoul(cl, NULL, 10) : 0;
    while (c->len < head_len + body_len)
        if (cl_fill(c) <= 0)
            return -1;
    if (body_len >= sizeof r->body)
        return -1;
    memcpy(r->body, c->buf + head_len, body_len);
    r->body[body_len] = '\0';
    r->body_len = body_len;
    memmove(c->buf, c->buf + head_len + body_len, c->len - head_len - body_len);
    c->len -= head_len + body_len;
    return 0;
}

/* True when the server closes the connection (with nothing more to read). */
static int cl_eof(client_t *c)
{
    if (c->len)
        return 0;
    return cl_fill(c) == 0;
}

static const char *json_str(struct json_object *o, const char *path)
{
    char key[64];
    snprintf(key, sizeof key, "%s", path);
    char *save, *tok = strtok_r(key, ".", &save);
    while (tok && o) {
        struct json_object *next = NULL;
        json_object_object_get_ex(o, tok, &next);
        o = next;
        tok = strtok_r(NULL, ".", &save);
    }
    return o ? json_object_get_string(o) : NULL;
}

/* ---- tests --------------------------------------------------------------- */

static void client_keep_alive(fixture_t *fx)
{
    client_t *c = cl_open(fx->port);
    REQUIRE(c);
    response_t *r = malloc(sizeof *r);
    for (int i = 0; i < 2; i++) {
        cl_send(c, "GET /api/test/hello HTTP/1.1\r\nHost: t\r\n\r\n");
        REQUIRE(cl_response(c, r, 0) == 0);
        CHECK(r->status == 200);
        CHECK_STR(r->body, "hello");
        CHECK_STR(find_header(r->head, "Content-Length"), "5");
        CHECK_STR(find_header(r->head, "Content-Type"), "text/plain");
        CHECK_STR(find_header(r->head, "X-Handler"), "hello");
        CHECK(find_header(r->head, "Connection") == NULL);
    }
    /* The client asks to close: the answer says so and the server closes. */
    cl_send(c, "GET /api/test/hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 200);
    CHECK_STR(find_header(r->head, "Connection"), "close");
    CHECK(cl_eof(c));
    cl_close(c);

    /* HTTP/1.0 closes unless it asks for keep-alive. */
    c = cl_open(fx->port);
    cl_send(c, "GET /api/test/hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK_STR(find_header(r->head, "Connection"), "keep-alive");
    cl_send(c, "GET /api/test/hello HTTP/1.0\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 200);
    CHECK_STR(find_header(r->head, "Connection"), "close");
    CHECK(cl_eof(c));
    cl_close(c);
    free(r);
}

TEST(keep_alive_serves_several_requests_on_one_connection)
{
    fixture_t fx;
    fx_init(&fx, NULL, NULL);
    fx_run(&fx, client_keep_alive);
}

static void client_pipeline(fixture_t *fx)
{
    client_t *c = cl_open(fx->port);
    REQUIRE(c);
    response_t *r = malloc(sizeof *r);
    /* The first answer is the slowest; order must still hold. */
    cl_send(c, "GET /api/test/async?ms=150&tag=one HTTP/1.1\r\nHost: t\r\n\r\n"
               "GET /api/test/items/two HTTP/1.1\r\nHost: t\r\n\r\n"
               "GET /api/test/async?ms=20&tag=three HTTP/1.1\r\nHost: t\r\n\r\n"
               "GET /api/test/nope HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK_STR(r->body, "one");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK_CONTAINS(r->body, "\"id\":\"two\"");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK_STR(r->body, "three");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 404);

    /* More than the server parses ahead: it pauses and resumes. */
    char *many = malloc(64 * 80);
    many[0] = '\0';
    for (int i = 0; i < 64; i++)
        sprintf(many + strlen(many),
                "GET /api/test/async?ms=%d&tag=t%d HTTP/1.1\r\nHost: t\r\n\r\n", i % 3, i);
    cl_send(c, many);
    free(many);
    for (int i = 0; i < 64; i++) {
        char want[16];
        snprintf(want, sizeof want, "t%d", i);
        REQUIRE(cl_response(c, r, 0) == 0);
        CHECK_STR(r->body, want);
    }
    /* Synchronous answers pipelined too. */
    char *sync = malloc(40 * 60);
    sync[0] = '\0';
    for (int i = 0; i < 40; i++)
        sprintf(sync + strlen(sync), "GET /api/test/items/%d HTTP/1.1\r\nHost: t\r\n\r\n", i);
    cl_send(c, sync);
    free(sync);
    for (int i = 0; i < 40; i++) {
        char want[32];
        snprintf(want, sizeof want, "\"id\":\"%d\"", i);
        REQUIRE(cl_response(c, r, 0) == 0);
        CHECK_CONTAINS(r->body, want);
    }
    cl_close(c);
    free(r);
}

TEST(pipelined_requests_are_answered_in_order)
{
    fixture_t fx;
    fx_init(&fx, NULL, NULL);
    fx_run(&fx, client_pipeline);
}

static void client_json(fixture_t *fx)
{
    client_t *c = cl_open(fx->port);
    REQUIRE(c);
    response_t *r = malloc(sizeof *r);
    const char *body = "{\"a\": [1, 2], \"s\": \"x/y\"}";
    char req[512];
    snprintf(req, sizeof req,
             "POST /api/test/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    cl_send(c, req);
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 200);
    CHECK_STR(find_header(r->head, "Content-Type"), "application/json; charset=utf-8");
    CHECK_STR(r->body, "{\"got\":{\"a\":[1,2],\"s\":\"x/y\"}}");

    /* Chunked, with a charset parameter. */
    cl_send(c, "POST /api/test/echo HTTP/1.1\r\nHost: t\r\n"
               "Content-Type: application/json; charset=utf-8\r\n"
               "Transfer-Encoding: chunked\r\n\r\n"
               "5\r\n{\"k\":\r\n4\r\ntrue\r\n1\r\n}\r\n0\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 200);
    CHECK_STR(r->body, "{\"got\":{\"k\":true}}");

    /* Malformed JSON: 400 InputError saying where. */
    cl_send(c, "POST /api/test/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               "Content-Length: 9\r\n\r\n{\"a\": 1,]");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 400);
    struct json_object *o = json_tokener_parse(r->body);
    REQUIRE(o);
    CHECK_STR(json_str(o, "error.name"), "InputError");
    CHECK_CONTAINS(json_str(o, "error.message"), "not valid JSON");
    CHECK_CONTAINS(json_str(o, "error.message"), "at byte 8");
    CHECK_STR(json_str(o, "request.method"), "POST");
    CHECK_STR(json_str(o, "request.url"), "/api/test/echo");
    CHECK_STR(json_str(o, "response.statusCode"), "400");
    json_object_put(o);

    /* Trailing garbage after a document. */
    cl_send(c, "POST /api/test/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               "Content-Length: 6\r\n\r\n{} {}x");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 400);
    CHECK_CONTAINS(r->body, "unexpected data after the document at byte 3");

    /* A form's media type is refused, whatever the body. */
    cl_send(c, "POST /api/test/echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
               "Content-Length: 2\r\n\r\n{}");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 400);
    CHECK_CONTAINS(r->body, "Content-Type: application/json");

    /* Expect: 100-continue gets its interim answer before the body. */
    cl_send(c, "POST /api/test/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    REQUIRE(cl_response(c, r, 1) == 0);
    CHECK(r->status == 100);
    cl_send(c, "[]");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 200);
    CHECK_STR(r->body, "{\"got\":[]}");
    cl_close(c);
    free(r);
}

TEST(json_bodies_are_parsed_and_errors_say_where)
{
    fixture_t fx;
    fx_init(&fx, NULL, NULL);
    fx_run(&fx, client_json);
}

static void client_params(fixture_t *fx)
{
    client_t *c = cl_open(fx->port);
    REQUIRE(c);
    response_t *r = malloc(sizeof *r);
    cl_send(c, "GET /api/test/items/a%20b%2Fc?q=1&q=two%20x&flag&plus=a+b%2B&=&& HTTP/1.1\r\n"
               "Host: t\r\nX-Test: first \r\nx-test: second\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 200);
    struct json_object *o = json_tokener_parse(r->body);
    REQUIRE(o);
    CHECK_STR(json_str(o, "id"), "a b/c");
    CHECK_STR(json_str(o, "path"), "/api/test/items/a b/c");
    struct json_object *q = NULL;
    json_object_object_get_ex(o, "q", &q);
    CHECK(q && json_object_array_length(q) == 2);
    if (q && json_object_array_length(q) == 2) {
        CHECK_STR(json_object_get_string(json_object_array_get_idx(q, 0)), "1");
        CHECK_STR(json_object_get_string(json_object_array_get_idx(q, 1)), "two x");
    }
    CHECK_STR(json_str(o, "flag"), "");
    CHECK_STR(json_str(o, "plus"), "a b+");
    CHECK_STR(json_str(o, "header"), "first, second");
    CHECK_STR(json_str(o, "missing"), "true");
    json_object_put(o);

    /* The absolute form proxies send names the same resource. */
    cl_send(c, "GET http://example.test/api/test/items/abs?q=z HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 200);
    CHECK_CONTAINS(r->body, "\"id\":\"abs\"");
    CHECK_CONTAINS(r->body, "\"q\":[\"z\"]");

    /* A malformed escape in the path is the client's error. */
    cl_send(c, "GET /api/test/items/%zz HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 400);
    CHECK_CONTAINS(r->body, "\"InputError\"");

    /* Unknown API path: JSON 404; a wrong method: 405 with Allow. */
    cl_send(c, "GET /api/test/nothing/here HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 404);
    CHECK_CONTAINS(r->body, "\"name\":\"NotFoundError\"");
    CHECK_CONTAINS(r->body, "\"statusCode\":404");
    cl_send(c, "DELETE /api/test/hello HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 405);
    CHECK_STR(find_header(r->head, "Allow"), "GET, HEAD");
    CHECK_CONTAINS(r->body, "\"statusCode\":405");

    /* Response headers a handler may not set are dropped. */
    cl_send(c, "GET /api/test/headers HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 200);
    CHECK_STR(r->body, "a,b");
    CHECK_STR(find_header(r->head, "Content-Length"), "3");
    CHECK_STR(find_header(r->head, "Content-Type"), "text/csv");
    CHECK_STR(find_header(r->head, "X-Good"), "yes");
    CHECK(find_header(r->head, "Injected") == NULL);
    CHECK(find_header(r->head, "X-Bad") == NULL);

    /* 204: no body and no Content-Length; the next answer follows. */
    cl_send(c, "DELETE /api/test/items/1 HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 204);
    CHECK(find_header(r->head, "Content-Length") == NULL);

    /* HEAD: the GET's headers and length, no body. */
    cl_send(c, "HEAD /api/test/hello HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(c, r, 1) == 0);
    CHECK(r->status == 200);
    CHECK_STR(find_header(r->head, "Content-Length"), "5");
    /* Nothing of a body may follow: the next answer starts right away. */
    cl_send(c, "GET /api/test/hello HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 200);
    CHECK_STR(r->body, "hello");
    cl_close(c);
    free(r);
}

TEST(params_query_and_headers_reach_the_handler)
{
    fixture_t fx;
    fx_init(&fx, NULL, NULL);
    fx_run(&fx, client_params);
}

static void client_async(fixture_t *fx)
{
    client_t *c = cl_open(fx->port);
    REQUIRE(c);
    response_t *r = malloc(sizeof *r);
    uint64_t t0 = now_ns();
    cl_send(c, "GET /api/test/async?ms=120&tag=later HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 200);
    CHECK_STR(r->body, "later");
    CHECK(now_ns() - t0 >= 100 * 1000000ull);
    cl_close(c);
    free(r);
}

TEST(async_handler_answers_from_a_timer)
{
    fixture_t fx;
    fx_init(&fx, NULL, NULL);
    fx_run(&fx, client_async);
}

static void client_limits(fixture_t *fx)
{
    response_t *r = malloc(sizeof *r);
    /* Oversized headers: 431, then close. */
    client_t *c = cl_open(fx->port);
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *req = malloc(4096);
    snprintf(req, 4096, "GET /api/test/hello HTTP/1.1\r\nHost: t\r\nX-Big: %s\r\n\r\n", big);
    cl_send(c, req);
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 431);
    CHECK_STR(find_header(r->head, "Connection"), "close");
    CHECK_CONTAINS(r->body, "\"statusCode\":431");
    CHECK_CONTAINS(r->body, "1024 bytes");
    CHECK(cl_eof(c));
    cl_close(c);

    /* A declared body over the limit is refused before it is sent. */
    c = cl_open(fx->port);
    cl_send(c, "POST /api/test/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               "Content-Length: 5000\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 413);
    CHECK_STR(find_header(r->head, "Connection"), "close");
    CHECK_CONTAINS(r->body, "5000 bytes");
    CHECK(cl_eof(c));
    cl_close(c);

    /* The same while the client keeps sending: it still reads the 413. */
    c = cl_open(fx->port);
    snprintf(req, 4096,
             "POST /api/test/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: 3000\r\n\r\n%s",
             big);
    cl_send(c, req);
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 413);
    CHECK(cl_eof(c));
    cl_close(c);

    /* A chunked body grows past the limit. */
    c = cl_open(fx->port);
    cl_send(c, "POST /api/test/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n");
    snprintf(req, 4096, "320\r\n%.800s\r\n", big);
    cl_send(c, req);
    cl_send(c, req);
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 413);
    CHECK_CONTAINS(r->body, "larger than the 1000 bytes allowed");
    CHECK(cl_eof(c));
    cl_close(c);

    /* Garbage: 400 with a JSON body, then close. */
    c = cl_open(fx->port);
    cl_send(c, "THIS IS NOT HTTP\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 400);
    CHECK_STR(find_header(r->head, "Content-Type"), "application/json; charset=utf-8");
    struct json_object *o = json_tokener_parse(r->body);
    REQUIRE(o);
    CHECK_STR(json_str(o, "error.name"), "InputError");
    CHECK_CONTAINS(json_str(o, "error.message"), "malformed HTTP request");
    json_object_put(o);
    CHECK(cl_eof(c));
    cl_close(c);

    /* An error after a good pipelined request comes after its answer. */
    c = cl_open(fx->port);
    cl_send(c, "GET /api/test/async?ms=50&tag=first HTTP/1.1\r\nHost: t\r\n\r\nBAD\x01\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 200);
    CHECK_STR(r->body, "first");
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 400);
    CHECK(cl_eof(c));
    cl_close(c);
    free(req);
    free(r);
}

TEST(limits_answer_431_413_and_400_with_json)
{
    gr_http_limits_t lim;
    gr_http_limits_default(&lim);
    lim.max_header_bytes = 1024;
    lim.max_body_bytes = 1000;
    fixture_t fx;
    fx_init(&fx, &lim, NULL);
    fx_run(&fx, client_limits);
}

/* A JSON body of exactly n bytes: {"s":"aaa..."}. */
static char *json_body_of(size_t n)
{
    char *b = malloc(n + 1);
    memcpy(b, "{\"s\":\"", 6);
    memset(b + 6, 'a', n - 8);
    memcpy(b + n - 2, "\"}", 2);
    b[n] = '\0';
    return b;
}

static void post_json(client_t *c, const char *path, const char *body, response_t *r)
{
    char head[256];
    snprintf(head, sizeof head,
             "POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n",
             path, strlen(body));
    cl_send(c, head);
    cl_send(c, body);
    if (cl_response(c, r, 0) != 0)
        r->status = -1;
}

static void client_route_limits(fixture_t *fx)
{
    response_t *r = malloc(sizeof *r);
    char *b3000 = json_body_of(3000), *b6000 = json_body_of(6000);

    /* The route with its own, larger limit takes a body the server's
     * default (1000 bytes here) refuses. */
    client_t *c = cl_open(fx->port);
    post_json(c, "/api/test/upload", b3000, r);
    CHECK(r->status == 200);
    CHECK_CONTAINS(r->body, "\"got\":{\"s\":\"aaaa");
    /* The connection stays usable, and other routes keep the default. */
    post_json(c, "/api/test/echo", b3000, r);
    CHECK(r->status == 413);
    CHECK_CONTAINS(r->body, "1000");
    cl_close(c);

    /* Past the route's own limit: 413 naming it, declared or chunked. */
    c = cl_open(fx->port);
    post_json(c, "/api/test/upload?x=1", b6000, r);
    CHECK(r->status == 413);
    CHECK_CONTAINS(r->body, "5000");
    cl_close(c);
    c = cl_open(fx->port);
    cl_send(c, "POST /api/test/upload HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n");
    char chunk[4200];
    for (int i = 0; i < 2; i++) {
        snprintf(chunk, sizeof chunk, "fa0\r\n%.4000s\r\n", b6000 + 8);
        cl_send(c, chunk);
    }
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 413);
    CHECK_CONTAINS(r->body, "larger than the 5000 bytes allowed");
    cl_close(c);

    /* A route made smaller than the default refuses what the default takes. */
    c = cl_open(fx->port);
    post_json(c, "/api/test/small", "{\"s\":\"0123456789\"}", r);
    CHECK(r->status == 413);
    cl_close(c);
    free(b3000);
    free(b6000);
    free(r);
}

TEST(a_route_can_have_its_own_body_limit)
{
    gr_http_limits_t lim;
    gr_http_limits_default(&lim);
    lim.max_body_bytes = 1000;
    fixture_t fx;
    fx_init(&fx, &lim, NULL);
    gr_router_t *r = gr_route_table_router(fx.routes, "/api/test", "test");
    gr_router_t *other = gr_route_table_router(fx.routes, "/api/other", "other");
    gr_error_t err = {0};
    REQUIRE(gr_router_add(r, "POST", "/upload", h_echo, &fx, &err) == 0);
    REQUIRE(gr_router_add(r, "POST", "/small", h_echo, &fx, &err) == 0);
    CHECK(gr_router_set_body_limit(r, "post", "/upload/", 5000, &err) == 0);
    CHECK(gr_router_set_body_limit(r, "POST", "/small", 10, &err) == 0);
    /* Only a route the router added, with that method, and a real limit. */
    CHECK(gr_router_set_body_limit(r, "PUT", "/upload", 5000, &err) == GR_ERR_NOT_FOUND);
    CHECK_CONTAINS(err.message, "no route PUT /api/test/upload");
    CHECK(gr_router_set_body_limit(other, "POST", "/upload", 5000, &err) == GR_ERR_NOT_FOUND);
    CHECK(gr_router_set_body_limit(r, "POST", "/upload", 0, &err) == GR_ERR_INVALID);
    CHECK(gr_router_set_body_limit(r, "BREW", "/upload", 10, &err) == GR_ERR_INVALID);
    fx_run(&fx, client_route_limits);
}

static void client_timeouts(fixture_t *fx)
{
    response_t *r = malloc(sizeof *r);
    /* Idle: closed without an answer. */
    client_t *c = cl_open(fx->port);
    uint64_t t0 = now_ns();
    CHECK(cl_eof(c));
    uint64_t waited = (now_ns() - t0) / 1000000u;
    CHECK(waited >= 150 && waited < 3000);
    cl_close(c);

    /* Idle after a request too. */
    c = cl_open(fx->port);
    cl_send(c, "GET /api/test/hello HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    t0 = now_ns();
    CHECK(cl_eof(c));
    waited = (now_ns() - t0) / 1000000u;
    CHECK(waited >= 150 && waited < 3000);
    cl_close(c);

    /* A request that trickles in too slowly: 408.  Sending bytes does not
     * extend the deadline. */
    c = cl_open(fx->port);
    t0 = now_ns();
    cl_send(c, "GET /api/test/hello HTTP/1.1\r\n");
    sleep_ms(100);
    cl_send(c, "Host: t\r\n");
    REQUIRE(cl_response(c, r, 0) == 0);
    waited = (now_ns() - t0) / 1000000u;
    CHECK(r->status == 408);
    CHECK(waited >= 250 && waited < 3000);
    CHECK_CONTAINS(r->body, "\"statusCode\":408");
    CHECK(cl_eof(c));
    cl_close(c);
    free(r);
}

TEST(idle_and_slow_connections_time_out)
{
    gr_http_limits_t lim;
    gr_http_limits_default(&lim);
    lim.idle_timeout_ms = 200;
    lim.request_timeout_ms = 300;
    fixture_t fx;
    fx_init(&fx, &lim, NULL);
    fx_run(&fx, client_timeouts);
}

static void client_cap(fixture_t *fx)
{
    response_t *r = malloc(sizeof *r);
    client_t *a = cl_open(fx->port), *b = cl_open(fx->port);
    REQUIRE(a && b);
    /* Served, so the server has certainly accepted both. */
    cl_send(a, "GET /api/test/hello HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(a, r, 0) == 0);
    cl_send(b, "GET /api/test/hello HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(b, r, 0) == 0);

    client_t *c = cl_open(fx->port);
    REQUIRE(c);
    REQUIRE(cl_response(c, r, 0) == 0);
    CHECK(r->status == 503);
    CHECK_STR(find_header(r->head, "Connection"), "close");
    CHECK_CONTAINS(r->body, "\"ServiceUnavailableError\"");
    CHECK(cl_eof(c));
    cl_close(c);

    /* A freed slot is usable again. */
    cl_close(a);
    sleep_ms(200);
    client_t *d = cl_open(fx->port);
    REQUIRE(d);
    cl_send(d, "GET /api/test/hello HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(d, r, 0) == 0);
    CHECK(r->status == 200);
    cl_close(d);
    cl_close(b);
    free(r);
}

TEST(connections_past_the_cap_get_503)
{
    gr_http_limits_t lim;
    gr_http_limits_default(&lim);
    lim.max_connections = 2;
    fixture_t fx;
    fx_init(&fx, &lim, NULL);
    fx_run(&fx, client_cap);
}

/* ---- static files -------------------------------------------------------- */

static char g_tmp[256];

static void write_file(const char *rel, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_tmp, rel);
    FILE *f = fopen(path, "wb");
    fputs(content, f);
    fclose(f);
}

static void make_site(void)
{
    snprintf(g_tmp, sizeof g_tmp, "/tmp/gr-http-test-XXXXXX");
    if (!mkdtemp(g_tmp))
        abort();
    char path[512];
    snprintf(path, sizeof path, "%s/web", g_tmp);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/web/docs", g_tmp);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/outside", g_tmp);
    mkdir(path, 0755);
    write_file("web/index.html", "<html>app</html>");
    write_file("web/docs/index.html", "<html>docs</html>");
    static const char *const files[] = {"app.js",   "style.css",   "data.json",  "logo.svg",
                                        "img.png",  "favicon.ico", "app.js.map", "robots.txt",
                                        "mod.wasm", "blob.bin"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "web/%s", files[i]);
        write_file(rel, files[i]);
    }
    write_file("outside/secret.txt", "SECRET");
    write_file("web-evil.txt", "SIBLING");
    char target[512];
    snprintf(path, sizeof path, "%s/web/escape", g_tmp);
    snprintf(target, sizeof target, "%s/outside", g_tmp);
    if (symlink(target, path) < 0)
        abort();
    snprintf(path, sizeof path, "%s/web/link.txt", g_tmp);
    snprintf(target, sizeof target, "%s/outside/secret.txt", g_tmp);
    if (symlink(target, path) < 0)
        abort();
    snprintf(path, sizeof path, "%s/web/inside-link.js", g_tmp);
    if (symlink("app.js", path) < 0)
        abort();
}

static void remove_site(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_tmp);
}

static void get(client_t *c, response_t *r, const char *method, const char *target)
{
    char req[1024];
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\n\r\n", method, target);
    cl_send(c, req);
    if (cl_response(c, r, strcmp(method, "HEAD") == 0) < 0)
        r->status = -1;
}

static void client_static(fixture_t *fx)
{
    client_t *c = cl_open(fx->port);
    REQUIRE(c);
    response_t *r = malloc(sizeof *r);
    static const struct {
        const char *path, *type;
    } want[] = {
        {"/app.js", "text/javascript; charset=utf-8"},
        {"/style.css", "text/css; charset=utf-8"},
        {"/data.json", "application/json; charset=utf-8"},
        {"/logo.svg", "image/svg+xml"},
        {"/img.png", "image/png"},
        {"/favicon.ico", "image/x-icon"},
        {"/app.js.map", "application/json; charset=utf-8"},
        {"/robots.txt", "text/plain; charset=utf-8"},
        {"/mod.wasm", "application/wasm"},
        {"/blob.bin", "application/octet-stream"},
        {"/inside-link.js", "text/javascript; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        get(c, r, "GET", want[i].path);
        CHECK(r->status == 200);
        CHECK_STR(find_header(r->head, "Content-Type"), want[i].type);
        /* Each file holds its own name. */
        const char *name = strrchr(want[i].path, '/') + 1;
        if (strcmp(name, "inside-link.js") == 0)
            name = "app.js";
        CHECK_STR(r->body, name);
    }
    get(c, r, "GET", "/");
    CHECK(r->status == 200);
    CHECK_STR(r->body, "<html>app</html>");
    CHECK_STR(find_header(r->head, "Content-Type"), "text/html; charset=utf-8");
    CHECK_STR(find_header(r->head, "Cache-Control"), "no-cache");
    get(c, r, "GET", "/docs/");
    CHECK_STR(r->body, "<html>docs</html>");
    get(c, r, "GET", "/docs");
    CHECK_STR(r->body, "<html>docs</html>");
    get(c, r, "HEAD", "/app.js");
    CHECK(r->status == 200);
    CHECK_STR(find_header(r->head, "Content-Length"), "6");

    /* Single-page app routes get index.html; missing assets do not. */
    get(c, r, "GET", "/catalog/default/component/my-service");
    CHECK(r->status == 200);
    CHECK_STR(r->body, "<html>app</html>");
    get(c, r, "GET", "/missing.js");
    CHECK(r->status == 404);
    CHECK_CONTAINS(r->body, "\"NotFoundError\"");
    /* API paths never fall back to the UI. */
    get(c, r, "GET", "/api/nothing");
    CHECK(r->status == 404);
    CHECK_CONTAINS(r->body, "\"NotFoundError\"");
    get(c, r, "GET", "/.backstage/nothing");
    CHECK(r->status == 404);
    CHECK_CONTAINS(r->body, "\"NotFoundError\"");
    /* Other methods are not static. */
    get(c, r, "POST", "/app.js");
    CHECK(r->status == 404);

    /* Escapes, plain and encoded, and symlinks out: never the secret. */
    static const char *const attacks[] = {
        "/../outside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2E%2Foutside%2Fsecret.txt",
        "/docs/..%2f..%2foutside/secret.txt",
        "/docs/%2e%2e/%2e%2e/web-evil.txt",
        "/escape/secret.txt",
        "/link.txt",
        "/./app.js/../../outside/secret.txt",
        "/..",
        "/../outside",
        "/escape",
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    };
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        get(c, r, "GET", attacks[i]);
        if (r->status != 404 && r->status != 400)
            fprintf(stderr, "attack %s answered %d\n", attacks[i], r->status);
        CHECK(r->status == 404 || r->status == 400);
        CHECK(strstr(r->body, "SECRET") == NULL);
        CHECK(strstr(r->body, "SIBLING") == NULL);
        CHECK(strstr(r->body, "<html>") == NULL);
        CHECK(strstr(r->body, "root:") == NULL);
    }
    cl_close(c);
    free(r);
}

TEST(static_files_are_served_safely)
{
    make_site();
    char root[300];
    snprintf(root, sizeof root, "%s/web", g_tmp);
    fixture_t fx;
    fx_init(&fx, NULL, root);
    fx_run(&fx, client_static);
    remove_site();
}

/* ---- shutdown and aborted requests --------------------------------------- */

static void wait_dispatched(fixture_t *fx, int n)
{
    for (int i = 0; i < 500 && atomic_load(&fx->dispatched) < n; i++)
        sleep_ms(5);
}

static void client_drain(fixture_t *fx)
{
    response_t *r = malloc(sizeof *r);
    client_t *idle = cl_open(fx->port);
    client_t *busy = cl_open(fx->port);
    REQUIRE(idle && busy);
    cl_send(idle, "GET /api/test/hello HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(cl_response(idle, r, 0) == 0);
    cl_send(busy, "GET /api/test/async?ms=300&tag=finished HTTP/1.1\r\nHost: t\r\n\r\n");
    wait_dispatched(fx, 1);
    request_shutdown(fx);

    /* The idle connection closes at once; the busy one gets its answer,
     * marked as the last, then closes. */
    CHECK(cl_eof(idle));
    REQUIRE(cl_response(busy, r, 0) == 0);
    CHECK(r->status == 200);
    CHECK_STR(r->body, "finished");
    CHECK_STR(find_header(r->head, "Connection"), "close");
    CHECK(cl_eof(busy));
    cl_close(idle);
    cl_close(busy);
    /* No new connections. */
    sleep_ms(50);
    client_t *late = cl_open(fx->port);
    CHECK(late == NULL);
    cl_close(late);
    free(r);
}

TEST(shutdown_drains_in_flight_requests_then_calls_drained)
{
    fixture_t fx;
    fx_init(&fx, NULL, NULL);
    fx_run(&fx, client_drain);
    CHECK(fx.in_flight_at_shutdown == 1);
    CHECK(atomic_load(&fx.drained_ns) >= atomic_load(&fx.responded_ns));
    /* Clients that close promptly do not leave the drain waiting for the
     * linger timer. */
    CHECK(atomic_load(&fx.drained_ns) - atomic_load(&fx.responded_ns) < 1000000000ull);
    CHECK(atomic_load(&fx.aborted_seen) == 0);
}

static void client_drain_timeout(fixture_t *fx)
{
    response_t *r = malloc(sizeof *r);
    client_t *c = cl_open(fx->port);
    REQUIRE(c);
    cl_send(c, "GET /api/test/never HTTP/1.1\r\nHost: t\r\n\r\n");
    wait_dispatched(fx, 1);
    uint64_t t0 = now_ns();
    request_shutdown(fx);
    /* Closed without an answer once the drain times out. */
    CHECK(cl_response(c, r, 0) < 0);
    uint64_t waited = (now_ns() - t0) / 1000000u;
    CHECK(waited >= 150 && waited < 3000);
    cl_close(c);
    free(r);
}

TEST(drain_timeout_closes_connections_and_late_answers_are_safe)
{
    fixture_t fx;
    fx_init(&fx, NULL, NULL);
    fx.drain_timeout_ms = 200;
    fx_run(&fx, client_drain_timeout); /* answers fx.never after freeing the server */
}

static void client_disconnect(fixture_t *fx)
{
    client_t *c = cl_open(fx->port);
    REQUIRE(c);
    cl_send(c, "GET /api/test/async?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n"
               "GET /api/test/async?ms=10 HTTP/1.1\r\nHost: t\r\n\r\n");
    wait_dispatched(fx, 2);
    cl_close(c);
    /* Let both handlers answer into the void before the drain. */
    sleep_ms(400);
}

TEST(client_disconnect_before_an_async_answer_is_safe)
{
    fixture_t fx;
    fx_init(&fx, NULL, NULL);
    fx_run(&fx, client_disconnect);
    CHECK(atomic_load(&fx.aborted_seen) == 2);
    CHECK(fx.in_flight_at_shutdown == 0);
}

static void client_disconnect_during_drain(fixture_t *fx)
{
    client_t *c = cl_open(fx->port);
    REQUIRE(c);
    cl_send(c, "GET /api/test/async?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n");
    wait_dispatched(fx, 1);
    request_shutdown(fx);
    sleep_ms(50);
    cl_close(c);
}

TEST(drain_waits_for_handlers_of_clients_that_left)
{
    fixture_t fx;
    fx_init(&fx, NULL, NULL);
    fx_run(&fx, client_disconnect_during_drain);
    CHECK(atomic_load(&fx.aborted_seen) == 1);
    CHECK(atomic_load(&fx.drained_ns) >= atomic_load(&fx.responded_ns));
}

static void client_backlog(fixture_t *fx)
{
    enum { N = 300 };
    client_t *c = cl_open(fx->port);
    REQUIRE(c);
    response_t *r = malloc(sizeof *r);
    char *reqs = malloc(N * 64);
    reqs[0] = '\0';
    for (int i = 0; i < N; i++)
        strcat(reqs, "GET /api/test/big?kb=100 HTTP/1.1\r\nHost: t\r\n\r\n");
    cl_send(c, reqs);
    free(reqs);
    /* Not reading: the server must stop taking requests once the socket
     * and its backlog are full, rather than buffer 30 MB of answers. */
    sleep_ms(300);
    int dispatched = atomic_load(&fx->dispatched);
    CHECK(dispatched > 0 && dispatched < N);
    for (int i = 0; i < N; i++) {
        REQUIRE(cl_response(c, r, 0) == 0);
        CHECK(r->status == 200);
        CHECK(r->body_len == 100 * 1024);
    }
    CHECK(atomic_load(&fx->dispatched) == N);
    cl_close(c);
    free(r);
}

TEST(a_client_that_does_not_read_is_not_buffered_without_bound)
{
    fixture_t fx;
    fx_init(&fx, NULL, NULL);
    fx_run(&fx, client_backlog);
}

/* A metrics service recording what the server reports, through an API table
 * of our own (the real metrics unit is not this test's subject). */
typedef struct fake_metric {
    const gr_host_api_t *api;
    char name[64];
    char labels[160];
} fake_metric_t;

static gr_host_api_t g_fake_api;
static fake_metric_t g_fake_metrics = {&g_fake_api, "", ""};
static fake_metric_t g_fake_pool[64];
static size_t g_fake_used;
static char g_fake_log[4096];

static fake_metric_t *fake_new(const char *name, const char *labels)
{
    if (g_fake_used == sizeof g_fake_pool / sizeof g_fake_pool[0])
        return NULL; /* a real service may also hand back NULL */
    fake_metric_t *m = &g_fake_pool[g_fake_used++];
    m->api = &g_fake_api;
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->labels, sizeof m->labels, "%s", labels);
    return m;
}

static gr_metric_t *fake_family(gr_metrics_t *ms, const char *name, const char *help,
                                const char *const *label_names)
{
    (void)help;
    CHECK((void *)ms == (void *)&g_fake_metrics);
    char names[160] = "";
    for (size_t i = 0; label_names && label_names[i]; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? "," : "",
                 label_names[i]);
    return (gr_metric_t *)fake_new(name, names);
}

static gr_metric_t *fake_counter(gr_metrics_t *ms, const char *name, const char *help,
                                 const char *const *label_names)
{
    return fake_family(ms, name, help, label_names);
}

static gr_metric_t *fake_histogram(gr_metrics_t *ms, const char *name, const char *help,
                                   const char *const *label_names, const double *buckets,
                                   size_t nbuckets)
{
    (void)buckets, (void)nbuckets;
    return fake_family(ms, name, help, label_names);
}

static gr_metric_t *fake_labels(gr_metric_t *family, const char *const *values)
{
    fake_metric_t *f = (fake_metric_t *)family;
    size_t nlabels = 1;
    for (const char *p = f->labels; *p; p++)
        nlabels += *p == ',';
    char joined[160] = "";
    for (size_t i = 0; i < nlabels; i++)
        snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", i ? "," : "",
                 values[i]);
    return (gr_metric_t *)fake_new(f->name, joined);
}

static void fake_add(gr_metric_t *metric, double delta)
{
    fake_metric_t *m = (fake_metric_t *)metric;
    snprintf(g_fake_log + strlen(g_fake_log), sizeof g_fake_log - strlen(g_fake_log), "%s{%s}+%g\n",
             m->name, m->labels, delta);
}

static void fake_observe(gr_metric_t *metric, double value)
{
    fake_metric_t *m = (fake_metric_t *)metric;
    CHECK(value >= 0 && value < 10);
    snprintf(g_fake_log + strlen(g_fake_log), sizeof g_fake_log - strlen(g_fake_log),
             "%s{%s} observed\n", m->name, m->labels);
}

static void client_metrics(fixture_t *fx)
{
    client_t *c = cl_open(fx->port);
    REQUIRE(c);
    response_t *r = malloc(sizeof *r);
    cl_send(c, "GET /api/test/hello HTTP/1.1\r\nHost: t\r\n\r\n"
               "GET /api/test/nothing HTTP/1.1\r\nHost: t\r\n\r\n"
               "POST /api/test/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    for (int i = 0; i < 3; i++)
        REQUIRE(cl_response(c, r, 0) == 0);
    cl_close(c);
    free(r);
}

TEST(metrics_count_requests_by_plugin_method_and_status)
{
    g_fake_api = gr__host_api;
    g_fake_api.metrics_counter = fake_counter;
    g_fake_api.metrics_histogram = fake_histogram;
    g_fake_api.metric_labels = fake_labels;
    g_fake_api.metric_add = fake_add;
    g_fake_api.metric_observe = fake_observe;
    g_fake_used = 0;
    g_fake_log[0] = '\0';
    g_metrics = (gr_metrics_t *)&g_fake_metrics;
    fixture_t fx;
    fx_init(&fx, NULL, NULL);
    g_metrics = NULL;
    CHECK_STR(g_fake_pool[0].name, "http_requests_total");
    CHECK_STR(g_fake_pool[0].labels, "plugin,method,status");
    CHECK_STR(g_fake_pool[1].name, "http_request_duration_seconds");
    fx_run(&fx, client_metrics);
    CHECK_CONTAINS(g_fake_log, "http_requests_total{test,GET,200}+1\n");
    CHECK_CONTAINS(g_fake_log, "http_requests_total{host,GET,404}+1\n");
    CHECK_CONTAINS(g_fake_log, "http_requests_total{test,POST,400}+1\n");
    CHECK_CONTAINS(g_fake_log, "http_request_duration_seconds{test,GET} observed\n");
    CHECK_CONTAINS(g_fake_log, "http_request_duration_seconds{host,GET} observed\n");

    /* A metrics service that hands back no families (the stub does) is
     * harmless. */
    g_fake_used = sizeof g_fake_pool / sizeof g_fake_pool[0];
    g_metrics = (gr_metrics_t *)&g_fake_metrics;
    fx_init(&fx, NULL, NULL);
    g_metrics = NULL;
    fx_run(&fx, client_metrics);
}

TEST_MAIN(TEST_ENTRY(keep_alive_serves_several_requests_on_one_connection),
          TEST_ENTRY(pipelined_requests_are_answered_in_order),
          TEST_ENTRY(json_bodies_are_parsed_and_errors_say_where),
          TEST_ENTRY(params_query_and_headers_reach_the_handler),
          TEST_ENTRY(async_handler_answers_from_a_timer),
          TEST_ENTRY(limits_answer_431_413_and_400_with_json),
          TEST_ENTRY(a_route_can_have_its_own_body_limit),
          TEST_ENTRY(idle_and_slow_connections_time_out),
          TEST_ENTRY(connections_past_the_cap_get_503), TEST_ENTRY(static_files_are_served_safely),
          TEST_ENTRY(shutdown_drains_in_flight_requests_then_calls_drained),
          TEST_ENTRY(drain_timeout_closes_connections_and_late_answers_are_safe),
          TEST_ENTRY(client_disconnect_before_an_async_answer_is_safe),
          TEST_ENTRY(drain_waits_for_handlers_of_clients_that_left),
          TEST_ENTRY(a_client_that_does_not_read_is_not_buffered_without_bound),
          TEST_ENTRY(metrics_count_requests_by_plugin_method_and_status))
