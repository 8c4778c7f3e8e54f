/* tests/unit/test_http_client.c: the outbound HTTP client against a
 * loopback server on the same loop.
 *
 * Recorded data: shared/testdata/github-api/rest/octokit-fixtures/
 * get-repository.json (a real GitHub answer with its headers) is what the
 * server returns for plain GETs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "file_text.h"
#include "http_client.h"
#include "log.h"
#include "loop_wait.h"
#include "loopback_server.h"
#include "octokit_fixture.h"
#include "test.h"
#include "util.h"

#define FIXTURE_GET_REPOSITORY                                                                     \
    GR_TEST_TESTDATA "/github-api/rest/octokit-fixtures/get-repository.json"

/* ---- fixture: a loop, a server, a client ---------------------------------- */

typedef struct fx fx_t;
typedef void (*route_fn)(fx_t *fx, gr_ls_request_t *req);

struct fx {
    uv_loop_t loop;
    gr_log_t *log;
    FILE *log_file;
    gr_ls_t *srv;
    gr_http_client_t *http;
    route_fn route;
    int hits;          /* requests the route has seen */
    int fail_first;    /* route-specific: how many attempts to fail */
    char *last_ua;     /* User-Agent of the last request */
    char *last_auth;   /* Authorization of the last request */
    char *last_method; /* method of the last request */
    gr_buf_t last_body;
    json_object *repo_fixture;
};

typedef struct result {
    int done;
    int status;
    int has_err;
    gr_error_t err;
    char *body;
    size_t len;
    char *etag;      /* the ETag header, looked up as "ETAG" */
    char *ratelimit; /* x-ratelimit-limit, looked up as "X-RateLimit-Limit" */
    int calls;       /* how many times the callback ran */
} result_t;

static void dispatch(gr_ls_request_t *req, void *user_data)
{
    fx_t *fx = user_data;
    fx->hits++;
    free(fx->last_ua);
    free(fx->last_auth);
    free(fx->last_method);
    const char *ua = gr_ls_header(req, "User-Agent");
    const char *auth = gr_ls_header(req, "Authorization");
    fx->last_ua = ua ? gr_xstrdup(ua) : NULL;
    fx->last_auth = auth ? gr_xstrdup(auth) : NULL;
    fx->last_method = gr_xstrdup(req->method);
    gr_buf_reset(&fx->last_body);
    gr_buf_append(&fx->last_body, req->body.data ? req->body.data : "", req->body.len);
    fx->route(fx, req);
}

static int fx_setup(fx_t *fx, route_fn route, const gr_http_client_options_t *opts)
{
    /* The loopback server must be reached directly even where the
     * environment names a proxy. */
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    memset(fx, 0, sizeof *fx);
    uv_loop_init(&fx->loop);
    fx->log_file = tmpfile();
    fx->log = gr_log_root_new(fx->log_file, GR_LOG_DEBUG, GR_LOG_FORMAT_PRETTY);
    fx->route = route;
    fx->srv = gr_ls_start(&fx->loop, dispatch, fx);
    fx->repo_fixture = gr_fixture_load(FIXTURE_GET_REPOSITORY);
    fx->http = gr_http_client_new(&fx->loop, fx->log, NULL, opts);
    return fx->srv && fx->http && fx->repo_fixture;
}

/* Runs the loop until the server has seen n requests; 1 if it has. */
static int run_until_hits(fx_t *fx, int n, uint64_t timeout_ms)
{
    uint64_t end = gr_now_ms() + timeout_ms;
    while (fx->hits < n && gr_now_ms() < end)
        gr_test_run_for(&fx->loop, 10);
    return fx->hits >= n;
}

static void fx_teardown(fx_t *fx)
{
    gr_http_client_free(fx->http);
    gr_ls_stop(fx->srv);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&fx->loop) == 0);
    gr_log_free(fx->log);
    fclose(fx->log_file);
    free(fx->last_ua);
    free(fx->last_auth);
    free(fx->last_method);
    gr_buf_free(&fx->last_body);
    json_object_put(fx->repo_fixture);
}

static void on_result(const gr_http_response_t *res, const gr_error_t *err, void *ud)
{
    result_t *r = ud;
    r->calls++;
    r->done = 1;
    if (err) {
        r->has_err = 1;
        r->err = *err;
        CHECK(res == NULL);
        return;
    }
    r->status = gr_http_response_status(res);
    size_t len;
    const char *body = gr_http_response_body(res, &len);
    r->body = gr_xstrndup(body, len);
    r->len = len;
    const char *etag = gr_http_response_header(res, "ETAG");
    r->etag = etag ? gr_xstrdup(etag) : NULL;
    const char *rl = gr_http_response_header(res, "X-RateLimit-Limit");
    r->ratelimit = rl ? gr_xstrdup(rl) : NULL;
}

static void result_free(result_t *r)
{
    free(r->body);
    free(r->etag);
    free(r->ratelimit);
}

static char *url_of(fx_t *fx, const char *path)
{
    return gr_xasprintf("%s%s", gr_ls_base_url(fx->srv), path);
}

static void send_get(fx_t *fx, const char *path, result_t *r)
{
    char *url = url_of(fx, path);
    gr_http_call_t *call = gr_http_call_new(fx->http, "GET", url);
    gr_http_call_send(call, on_result, r);
    free(url);
}

/* ---- routes ------------------------------------------------------------------ */

static void route_repository(fx_t *fx, gr_ls_request_t *req)
{
    json_object *e = gr_fixture_find(fx->repo_fixture, "GET", req->target);
    if (e)
        gr_fixture_respond(req, e, gr_ls_base_url(fx->srv), NULL);
    else
        gr_ls_respond(req, 404, NULL, "{}", 2);
}

static void route_hang(fx_t *fx, gr_ls_request_t *req)
{
    (void)fx;
    gr_ls_hang(req);
}

static void route_503_then_ok(fx_t *fx, gr_ls_request_t *req)
{
    if (fx->hits <= fx->fail_first)
        gr_ls_respond(req, 503, "Content-Type: text/plain\r\n", "busy", 4);
    else
        route_repository(fx, req);
}

static void route_drop_then_ok(fx_t *fx, gr_ls_request_t *req)
{
    if (fx->hits <= fx->fail_first)
        gr_ls_drop(req);
    else
        route_repository(fx, req);
}

static void route_echo(fx_t *fx, gr_ls_request_t *req)
{
    (void)fx;
    gr_ls_respond(req, 201, "Content-Type: application/json\r\n", req->body.data, req->body.len);
}

static void route_big(fx_t *fx, gr_ls_request_t *req)
{
    (void)fx;
    size_t n = 100 * 1024;
    char *big = gr_xmalloc(n);
    memset(big, 'x', n);
    if (strcmp(req->target, "/chunked") == 0) {
        /* No Content-Length: the cap must stop the transfer while it streams. */
        gr_buf_t out = {0};
        gr_buf_puts(&out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (size_t off = 0; off < n; off += 4096) {
            gr_buf_printf(&out, "%x\r\n", 4096);
            gr_buf_append(&out, big + off, 4096);
            gr_buf_puts(&out, "\r\n");
        }
        gr_buf_puts(&out, "0\r\n\r\n");
        gr_ls_respond_raw(req, out.data, out.len, 0);
        gr_buf_free(&out);
    } else if (strcmp(req->target, "/exact") == 0) {
        gr_ls_respond(req, 200, NULL, big, 10 * 1024);
    } else {
        gr_ls_respond(req, 200, NULL, big, n);
    }
    free(big);
}

static void route_redirect(fx_t *fx, gr_ls_request_t *req)
{
    if (strcmp(req->target, "/old") == 0) {
        char *loc = gr_xasprintf("Location: %s/repos/octokit-fixture-org/hello-world\r\n",
                                 gr_ls_base_url(fx->srv));
        gr_ls_respond(req, 302, loc, "", 0);
        free(loc);
    } else {
        route_repository(fx, req);
    }
}

/* ---- tests ------------------------------------------------------------------- */

/* get-repository.json: status, body and headers arrive as recorded. */
TEST(plain_get_returns_recorded_answer)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_repository, NULL));
    result_t r = {0};
    char *url = url_of(&fx, "/repos/octokit-fixture-org/hello-world");
    gr_http_call_t *call = gr_http_call_new(fx.http, "GET", url);
    gr_http_call_header(call, "Accept", "application/vnd.github.v3+json");
    gr_http_call_send(call, on_result, &r);
    free(url);
    CHECK(r.done == 0); /* never from inside the send */
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(!r.has_err);
    CHECK(r.status == 200);
    char *expected = gr_fixture_body(
        gr_fixture_find(fx.repo_fixture, "GET", "/repos/octokit-fixture-org/hello-world"));
    CHECK_STR(r.body, expected);
    CHECK(r.len == strlen(expected));
    free(expected);
    CHECK_STR(r.etag, "\"00000000000000000000000000000000\"");
    CHECK_STR(r.ratelimit, "5000");
    CHECK(fx.last_ua && strncmp(fx.last_ua, "greenroom/", 10) == 0);
    CHECK(r.calls == 1);
    result_free(&r);
    fx_teardown(&fx);
}

TEST(sequential_calls_reuse_one_connection)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_repository, NULL));
    for (int i = 0; i < 3; i++) {
        result_t r = {0};
        send_get(&fx, "/repos/octokit-fixture-org/hello-world", &r);
        CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
        CHECK(r.status == 200);
        result_free(&r);
    }
    CHECK(fx.hits == 3);
    CHECK(gr_ls_connections(fx.srv) == 1);
    fx_teardown(&fx);
}

TEST(parallel_calls_all_complete)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_repository, NULL));
    enum { N = 40 };
    result_t r[N];
    memset(r, 0, sizeof r);
    for (int i = 0; i < N; i++)
        send_get(&fx, "/repos/octokit-fixture-org/hello-world", &r[i]);
    CHECK(gr_http_client_pending(fx.http) == N);
    for (int i = 0; i < N; i++) {
        CHECK(gr_test_run_until(&fx.loop, &r[i].done, 10000));
        CHECK(r[i].status == 200);
        CHECK(r[i].calls == 1);
        result_free(&r[i]);
    }
    CHECK(fx.hits == N);
    CHECK(gr_http_client_pending(fx.http) == 0);
    fx_teardown(&fx);
}

TEST(post_sends_body_and_custom_headers)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_echo, NULL));
    result_t r = {0};
    char *url = url_of(&fx, "/repos/o/r/labels");
    gr_http_call_t *call = gr_http_call_new(fx.http, "POST", url);
    gr_http_call_header(call, "Content-Type", "application/json");
    gr_http_call_header(call, "Authorization", "token s3cr3t-value");
    const char body[] = "{\"name\":\"foo\",\"color\":\"invalid\"}";
    gr_http_call_body(call, body, strlen(body));
    gr_http_call_send(call, on_result, &r);
    free(url);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(r.status == 201);
    CHECK_STR(r.body, body);
    CHECK_STR(fx.last_method, "POST");
    CHECK_STR(fx.last_auth, "token s3cr3t-value");
    /* The log may mention the call, never the credential. */
    char *log = gr_test_file_text(fx.log_file);
    CHECK(strstr(log, "s3cr3t-value") == NULL);
    CHECK_CONTAINS(log, "/repos/o/r/labels");
    free(log);
    result_free(&r);
    fx_teardown(&fx);
}

TEST(timeout_fails_with_timeout_and_is_retried_for_get)
{
    gr_http_client_options_t opts = {.retry_base_ms = 10, .retries = 1};
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_hang, &opts));
    result_t r = {0};
    char *url = url_of(&fx, "/slow?token=abc");
    gr_http_call_t *call = gr_http_call_new(fx.http, "GET", url);
    gr_http_call_timeout(call, 200);
    uint64_t t0 = gr_now_ms();
    gr_http_call_send(call, on_result, &r);
    free(url);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    uint64_t elapsed = gr_now_ms() - t0;
    CHECK(r.has_err);
    CHECK(r.err.code == GR_ERR_TIMEOUT);
    CHECK_CONTAINS(r.err.message, "/slow");
    CHECK(strstr(r.err.message, "token=abc") == NULL); /* no query strings in messages */
    CHECK(fx.hits == 2);                               /* one retry */
    CHECK(elapsed >= 380 && elapsed < 3000);
    result_free(&r);
    fx_teardown(&fx);
}

TEST(response_over_cap_is_aborted_with_clear_error)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_big, NULL));
    const char *paths[] = {"/sized", "/chunked"};
    for (int i = 0; i < 2; i++) {
        result_t r = {0};
        char *url = url_of(&fx, paths[i]);
        gr_http_call_t *call = gr_http_call_new(fx.http, "GET", url);
        gr_http_call_max_response(call, 10 * 1024);
        gr_http_call_send(call, on_result, &r);
        free(url);
        CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
        CHECK(r.has_err);
        CHECK(r.err.code == GR_ERR_INVALID);
        CHECK_CONTAINS(r.err.message, "10240-byte cap");
        CHECK_CONTAINS(r.err.message, paths[i]);
        result_free(&r);
    }
    CHECK(fx.hits == 2); /* an oversized answer is not retried */

    result_t ok = {0};
    char *url = url_of(&fx, "/exact");
    gr_http_call_t *call = gr_http_call_new(fx.http, "GET", url);
    gr_http_call_max_response(call, 10 * 1024);
    gr_http_call_send(call, on_result, &ok);
    free(url);
    CHECK(gr_test_run_until(&fx.loop, &ok.done, 5000));
    CHECK(!ok.has_err);
    CHECK(ok.len == 10 * 1024);
    result_free(&ok);
    fx_teardown(&fx);
}

TEST(get_is_retried_after_503_then_succeeds)
{
    gr_http_client_options_t opts = {.retry_base_ms = 20, .retries = 3};
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_503_then_ok, &opts));
    fx.fail_first = 2;
    result_t r = {0};
    send_get(&fx, "/repos/octokit-fixture-org/hello-world", &r);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(!r.has_err);
    CHECK(r.status == 200);
    CHECK(fx.hits == 3);
    CHECK(r.calls == 1);
    char *log = gr_test_file_text(fx.log_file);
    CHECK_CONTAINS(log, "retry 1 of 3");
    CHECK_CONTAINS(log, "retry 2 of 3");
    free(log);
    result_free(&r);
    fx_teardown(&fx);
}

TEST(retries_stop_at_the_limit_and_return_the_last_answer)
{
    gr_http_client_options_t opts = {.retry_base_ms = 5, .retries = 2};
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_503_then_ok, &opts));
    fx.fail_first = 100;
    result_t r = {0};
    send_get(&fx, "/x", &r);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(!r.has_err);
    CHECK(r.status == 503);
    CHECK_STR(r.body, "busy");
    CHECK(fx.hits == 3);
    result_free(&r);
    fx_teardown(&fx);
}

TEST(post_is_not_retried)
{
    gr_http_client_options_t opts = {.retry_base_ms = 5, .retries = 3};
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_503_then_ok, &opts));
    fx.fail_first = 1;
    result_t r = {0};
    char *url = url_of(&fx, "/repos/o/r/labels");
    gr_http_call_t *call = gr_http_call_new(fx.http, "POST", url);
    gr_http_call_body(call, "{}", 2);
    gr_http_call_retries(call, 3); /* asking does not make POST idempotent */
    gr_http_call_send(call, on_result, &r);
    free(url);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(r.status == 503);
    CHECK(fx.hits == 1);
    result_free(&r);
    fx_teardown(&fx);
}

/* On a fresh connection: libcurl itself may resend a request once when a
 * *reused* connection turns out to have been closed before any answer. */
TEST(post_is_not_retried_after_a_dropped_connection)
{
    gr_http_client_options_t opts = {.retry_base_ms = 5, .retries = 3};
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_drop_then_ok, &opts));
    fx.fail_first = 1;
    result_t r2 = {0};
    char *url = url_of(&fx, "/repos/o/r/labels");
    gr_http_call_t *call = gr_http_call_new(fx.http, "POST", url);
    gr_http_call_body(call, "{}", 2);
    gr_http_call_send(call, on_result, &r2);
    free(url);
    CHECK(gr_test_run_until(&fx.loop, &r2.done, 5000));
    CHECK(r2.has_err);
    CHECK(r2.err.code == GR_ERR_UNAVAILABLE);
    CHECK(fx.hits == 1);
    result_free(&r2);
    fx_teardown(&fx);
}

TEST(put_and_delete_are_retried)
{
    gr_http_client_options_t opts = {.retry_base_ms = 5, .retries = 2};
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_503_then_ok, &opts));
    const char *methods[] = {"PUT", "DELETE", "HEAD"};
    for (int i = 0; i < 3; i++) {
        fx.hits = 0;
        fx.fail_first = 1;
        result_t r = {0};
        char *url = url_of(&fx, "/repos/octokit-fixture-org/hello-world");
        gr_http_call_t *call = gr_http_call_new(fx.http, methods[i], url);
        if (i == 0)
            gr_http_call_body(call, "{}", 2);
        gr_http_call_send(call, on_result, &r);
        free(url);
        CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
        CHECK_STR(fx.last_method, methods[i]);
        CHECK(fx.hits == 2);
        result_free(&r);
    }
    fx_teardown(&fx);
}

TEST(network_error_is_retried_for_get)
{
    gr_http_client_options_t opts = {.retry_base_ms = 5, .retries = 2};
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_drop_then_ok, &opts));
    fx.fail_first = 1;
    result_t r = {0};
    send_get(&fx, "/repos/octokit-fixture-org/hello-world", &r);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(!r.has_err);
    CHECK(r.status == 200);
    CHECK(fx.hits == 2);
    result_free(&r);
    fx_teardown(&fx);
}

TEST(refused_connection_is_unavailable)
{
    gr_http_client_options_t opts = {.retries = -1};
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_repository, &opts));
    /* A port that was just free: start a second server and stop it. */
    gr_ls_t *gone = gr_ls_start(&fx.loop, dispatch, &fx);
    REQUIRE(gone);
    char *url = gr_xasprintf("%s/x", gr_ls_base_url(gone));
    gr_ls_stop(gone);
    result_t r = {0};
    gr_http_call_t *call = gr_http_call_new(fx.http, "GET", url);
    gr_http_call_send(call, on_result, &r);
    free(url);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(r.has_err);
    CHECK(r.err.code == GR_ERR_UNAVAILABLE);
    result_free(&r);
    fx_teardown(&fx);
}

TEST(bad_requests_fail_from_the_loop)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_repository, NULL));
    result_t r1 = {0}, r2 = {0};
    gr_http_call_send(gr_http_call_new(fx.http, "GET", "ftp://example.com/x"), on_result, &r1);
    gr_http_call_send(gr_http_call_new(fx.http, "get it", "http://127.0.0.1/"), on_result, &r2);
    CHECK(r1.done == 0 && r2.done == 0);
    CHECK(gr_test_run_until(&fx.loop, &r1.done, 2000));
    CHECK(gr_test_run_until(&fx.loop, &r2.done, 2000));
    CHECK(r1.err.code == GR_ERR_INVALID);
    CHECK_CONTAINS(r1.err.message, "not an absolute http");
    CHECK(r2.err.code == GR_ERR_INVALID);
    CHECK(fx.hits == 0);
    /* A call that is never sent is simply freed. */
    gr_http_call_t *unsent = gr_http_call_new(fx.http, "GET", "http://127.0.0.1/");
    gr_http_call_header(unsent, "Accept", "text/plain");
    gr_http_call_free(unsent);
    result_free(&r1);
    result_free(&r2);
    fx_teardown(&fx);
}

TEST(redirect_is_followed)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_redirect, NULL));
    result_t r = {0};
    send_get(&fx, "/old", &r);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(r.status == 200);
    CHECK(fx.hits == 2);
    CHECK_STR(r.etag, "\"00000000000000000000000000000000\"");
    result_free(&r);
    fx_teardown(&fx);
}

static void route_proxy(fx_t *fx, gr_ls_request_t *req)
{
    (void)fx;
    /* A proxy receives the absolute URL as the request target. */
    gr_ls_respond(req, 200, "Content-Type: text/plain\r\n", req->target, strlen(req->target));
}

TEST(proxy_comes_from_the_environment)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_proxy, NULL));
    setenv("http_proxy", gr_ls_base_url(fx.srv), 1);
    result_t r = {0};
    gr_http_call_t *call = gr_http_call_new(fx.http, "GET", "http://api.example.invalid/meta");
    gr_http_call_send(call, on_result, &r);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    unsetenv("http_proxy");
    CHECK(!r.has_err);
    CHECK(r.status == 200);
    CHECK_STR(r.body, "http://api.example.invalid/meta");
    result_free(&r);
    fx_teardown(&fx);
}

TEST(shutdown_cancels_calls_in_flight)
{
    gr_http_client_options_t opts = {.retry_base_ms = 5000, .retries = 1};
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_hang, &opts));
    result_t r[3];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 3; i++)
        send_get(&fx, "/hang", &r[i]);
    CHECK(run_until_hits(&fx, 3, 5000));
    gr_http_client_shutdown(fx.http);
    for (int i = 0; i < 3; i++) {
        CHECK(r[i].done);
        CHECK(r[i].calls == 1);
        CHECK(r[i].err.code == GR_ERR_CANCELED);
    }
    CHECK(gr_http_client_pending(fx.http) == 0);
    /* Sent after shutdown: canceled too, from the loop. */
    result_t late = {0};
    send_get(&fx, "/hang", &late);
    CHECK(late.done == 0);
    CHECK(gr_test_run_until(&fx.loop, &late.done, 2000));
    CHECK(late.err.code == GR_ERR_CANCELED);
    CHECK(fx.hits == 3);
    for (int i = 0; i < 3; i++)
        result_free(&r[i]);
    result_free(&late);
    fx_teardown(&fx);
}

TEST(shutdown_cancels_a_call_waiting_to_retry)
{
    gr_http_client_options_t opts = {.retry_base_ms = 60000, .retries = 1};
    fx_t fx;
    REQUIRE(fx_setup(&fx, route_503_then_ok, &opts));
    fx.fail_first = 1;
    result_t r = {0};
    send_get(&fx, "/x", &r);
    CHECK(run_until_hits(&fx, 1, 5000));
    gr_test_run_for(&fx.loop, 100); /* let the 503 arrive and the back-off start */
    CHECK(!r.done);
    gr_http_client_shutdown(fx.http);
    CHECK(r.done);
    CHECK(r.err.code == GR_ERR_CANCELED);
    result_free(&r);
    fx_teardown(&fx);
}

TEST_MAIN(TEST_ENTRY(plain_get_returns_recorded_answer),
          TEST_ENTRY(sequential_calls_reuse_one_connection),
          TEST_ENTRY(parallel_calls_all_complete), TEST_ENTRY(post_sends_body_and_custom_headers),
          TEST_ENTRY(timeout_fails_with_timeout_and_is_retried_for_get),
          TEST_ENTRY(response_over_cap_is_aborted_with_clear_error),
          TEST_ENTRY(get_is_retried_after_503_then_succeeds),
          TEST_ENTRY(retries_stop_at_the_limit_and_return_the_last_answer),
          TEST_ENTRY(post_is_not_retried),
          TEST_ENTRY(post_is_not_retried_after_a_dropped_connection),
          TEST_ENTRY(put_and_delete_are_retried), TEST_ENTRY(network_error_is_retried_for_get),
          TEST_ENTRY(refused_connection_is_unavailable),
          TEST_ENTRY(bad_requests_fail_from_the_loop), TEST_ENTRY(redirect_is_followed),
          TEST_ENTRY(proxy_comes_from_the_environment),
          TEST_ENTRY(shutdown_cancels_calls_in_flight),
          TEST_ENTRY(shutdown_cancels_a_call_waiting_to_retry))
