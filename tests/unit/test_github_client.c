/* tests/unit/test_github_client.c: the GitHub client against a loopback
 * server that plays GitHub.
 *
 * Recorded answers come from shared/testdata/github-api/rest/octokit-fixtures/:
 *   get-repository.json   GET /repos/octokit-fixture-org/hello-world (ETag,
 *                         X-RateLimit-* headers): plain calls, the ETag cache,
 *                         rate limits, App auth;
 *   paginate-issues.json  five pages linked by Link headers whose targets
 *                         (/repositories/1000/issues?...) differ from the
 *                         first path: pagination;
 *   errors.json           a 422 with message, errors and documentation_url.
 * GraphQL, rate-limit refusals and token answers have no recorded file; the
 * test writes them in GitHub's documented shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <uv.h>

#include "config_tree.h"
#include "file_text.h"
#include "fake_metrics.h"
#include "github_client.h"
#include "github_internal.h"
#include "http_client.h"
#include "log.h"
#include "loop_wait.h"
#include "loopback_server.h"
#include "octokit_fixture.h"
#include "test.h"
#include "util.h"
#include "wall_time.h"

#define OCTOKIT GR_TEST_TESTDATA "/github-api/rest/octokit-fixtures/"
#define FIXTURE_GET_REPOSITORY OCTOKIT "get-repository.json"
#define FIXTURE_PAGINATE_ISSUES OCTOKIT "paginate-issues.json"
#define FIXTURE_ERRORS OCTOKIT "errors.json"

#define REPO_PATH "/repos/octokit-fixture-org/hello-world"
#define RECORDED_ETAG "\"00000000000000000000000000000000\""
#define TOKEN "ghp_0000000000000000000000000000000000001"

/* ---- fixture ----------------------------------------------------------------- */

typedef struct gfx gfx_t;
typedef void (*route_fn)(gfx_t *fx, gr_ls_request_t *req);

struct gfx {
    uv_loop_t loop;
    FILE *log_file;
    gr_log_t *log;
    gr_metrics_t *metrics;
    gr_ls_t *srv;
    gr_http_client_t *http;
    gr_config_doc_t *doc;
    gr_github_client_t *ghc;
    gr_github_t *gh;
    route_fn route;
    json_object *fixture;

    /* What the server saw, request by request. */
    int hits;
    gr_strvec_t targets;
    gr_strvec_t methods;
    gr_strvec_t auths;         /* Authorization, or "-" */
    gr_strvec_t if_none_match; /* If-None-Match, or "-" */
    gr_strvec_t bodies;
    int64_t arrived_ms[64];

    /* Scenario state. */
    int mode;
    long reset;
    EVP_PKEY *app_public;
    int lookups, exchanges, jwt_ok, jwt_bad;
    int token_seq;
    int token_lifetime_s;
};

static void dispatch(gr_ls_request_t *req, void *ud)
{
    gfx_t *fx = ud;
    const char *auth = gr_ls_header(req, "Authorization");
    const char *inm = gr_ls_header(req, "If-None-Match");
    if (fx->hits < 64)
        fx->arrived_ms[fx->hits] = gr_test_wall_ms();
    fx->hits++;
    gr_strvec_push(&fx->targets, req->target);
    gr_strvec_push(&fx->methods, req->method);
    gr_strvec_push(&fx->auths, auth ? auth : "-");
    gr_strvec_push(&fx->if_none_match, inm ? inm : "-");
    gr_strvec_push(&fx->bodies, req->body.len ? req->body.data : "");
    fx->route(fx, req);
}

/* integration: YAML lines added to the one integrations.github entry. */
static int gfx_setup(gfx_t *fx, route_fn route, const char *fixture, const char *integration,
                     const gr_github_client_options_t *opts)
{
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    memset(fx, 0, sizeof *fx);
    uv_loop_init(&fx->loop);
    fx->log_file = tmpfile();
    fx->log = gr_log_root_new(fx->log_file, GR_LOG_DEBUG, GR_LOG_FORMAT_PRETTY);
    fx->metrics = gr_fake_metrics_new();
    fx->route = route;
    fx->srv = gr_ls_start(&fx->loop, dispatch, fx);
    if (!fx->srv)
        return 0;
    if (fixture && !(fx->fixture = gr_fixture_load(fixture)))
        return 0;
    gr_http_client_options_t hopts = {.retry_base_ms = 10};
    fx->http = gr_http_client_new(&fx->loop, fx->log, NULL, &hopts);
    char *yaml = gr_xasprintf("integrations:\n"
                              "  github:\n"
                              "    - host: github.com\n"
                              "      apiBaseUrl: %s\n"
                              "%s",
                              gr_ls_base_url(fx->srv), integration ? integration : "");
    gr_error_t err = {0};
    fx->doc = gr_config_doc_parse("inline.yaml", yaml, strlen(yaml), &err);
    free(yaml);
    if (!fx->doc) {
        fprintf(stderr, "config: %s\n", err.message);
        return 0;
    }
    const gr_config_t *list = gr_config_get(gr_config_doc_root(fx->doc), "integrations.github");
    fx->ghc = gr_github_client_new(&fx->loop, fx->log, fx->metrics, fx->http, list, opts, &err);
    if (!fx->ghc) {
        fprintf(stderr, "github client: %s\n", err.message);
        return 0;
    }
    fx->gh = gr_github_get(fx->http, "github.com", &err);
    return fx->gh != NULL;
}

static double metric(gfx_t *fx, const char *name, const char *label)
{
    return gr_fake_metrics_value(fx->metrics, name, label);
}

static void gfx_teardown(gfx_t *fx)
{
    gr_github_client_shutdown(fx->ghc);
    gr_http_client_shutdown(fx->http);
    gr_github_client_free(fx->ghc);
    gr_http_client_free(fx->http);
    gr_ls_stop(fx->srv);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&fx->loop) == 0);
    gr_config_doc_free(fx->doc);
    gr_fake_metrics_free(fx->metrics);
    gr_log_free(fx->log);
    fclose(fx->log_file);
    json_object_put(fx->fixture);
    gr_strvec_free(&fx->targets);
    gr_strvec_free(&fx->methods);
    gr_strvec_free(&fx->auths);
    gr_strvec_free(&fx->if_none_match);
    gr_strvec_free(&fx->bodies);
    EVP_PKEY_free(fx->app_public);
}

static void respond_json(gr_ls_request_t *req, int status, const char *body)
{
    gr_ls_respond(req, status, "Content-Type: application/json; charset=utf-8\r\n", body,
                  strlen(body));
}

/* Serves the fixture's recorded answer for the request, or 404. */
static void serve_recorded(gfx_t *fx, gr_ls_request_t *req, const char *extra_headers)
{
    json_object *e = gr_fixture_find(fx->fixture, req->method, req->target);
    if (e)
        gr_fixture_respond(req, e, gr_ls_base_url(fx->srv), extra_headers);
    else
        respond_json(req, 404, "{\"message\":\"Not Found\"}");
}

/* ---- results ------------------------------------------------------------------- */

typedef struct gres {
    int done;
    int calls;
    int status;
    int cached;
    int has_err;
    gr_error_t err;
    char *body;
    json_object *json;
    json_object *items;
    int complete;
} gres_t;

static void on_res(const gr_github_response_t *res, const gr_error_t *err, void *ud)
{
    gres_t *r = ud;
    r->done = 1;
    r->calls++;
    if (err) {
        r->has_err = 1;
        r->err = *err;
    }
    if (res) {
        r->status = gr_github_response_status(res);
        r->cached = gr_github_response_cached(res);
        size_t len;
        const char *body = gr_github_response_body(res, &len);
        free(r->body);
        r->body = gr_xstrndup(body, len);
        json_object_put(r->json);
        r->json = json_object_get(gr_github_response_json(res));
    }
}

static void on_pages(json_object *items, int complete, const gr_error_t *err, void *ud)
{
    gres_t *r = ud;
    r->done = 1;
    r->calls++;
    r->complete = complete;
    if (err) {
        r->has_err = 1;
        r->err = *err;
    }
    r->items = json_object_get(items);
}

static void on_data(json_object *data, const gr_error_t *err, void *ud)
{
    gres_t *r = ud;
    r->done = 1;
    r->calls++;
    if (err) {
        r->has_err = 1;
        r->err = *err;
    }
    r->json = json_object_get(data);
}

static void gres_free(gres_t *r)
{
    free(r->body);
    json_object_put(r->json);
    json_object_put(r->items);
    memset(r, 0, sizeof *r);
}

static void get(gfx_t *fx, const char *path, gres_t *r)
{
    gr_github_request_t req = {.path = path};
    gr_github_request(fx->gh, &req, on_res, r);
}

static const char *json_str(json_object *j, const char *key)
{
    json_object *v;
    return j && json_object_object_get_ex(j, key, &v) ? json_object_get_string(v) : NULL;
}

/* ---- plain calls ------------------------------------------------------------------- */

static void route_repository(gfx_t *fx, gr_ls_request_t *req)
{
    serve_recorded(fx, req, NULL);
}

/* get-repository.json */
TEST(get_with_token_returns_recorded_repository)
{
    gfx_t fx;
    REQUIRE(
        gfx_setup(&fx, route_repository, FIXTURE_GET_REPOSITORY, "      token: " TOKEN "\n", NULL));
    gres_t r = {0};
    get(&fx, REPO_PATH, &r);
    CHECK(!r.done); /* never from inside the call */
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(!r.has_err);
    CHECK(r.status == 200);
    CHECK(!r.cached);
    CHECK_STR(json_str(r.json, "full_name"), "octokit-fixture-org/hello-world");
    CHECK_STR(fx.auths.items[0], "token " TOKEN);
    CHECK_STR(fx.targets.items[0], REPO_PATH);
    /* Rate-limit figures from the recorded headers, as metrics and state. */
    CHECK(metric(&fx, "github_rate_limit_remaining", "core") == 4999);
    CHECK(metric(&fx, "github_rate_limit_limit", "core") == 5000);
    CHECK(metric(&fx, "github_requests_total", "200") == 1);
    gr_github_rate_limit_t rl;
    CHECK(gr_github_rate_limit(fx.gh, "core", &rl) == 0);
    CHECK(rl.remaining == 4999 && rl.limit == 5000 && rl.used == 1);
    /* The token never reaches the log. */
    char *log = gr_test_file_text(fx.log_file);
    CHECK(strstr(log, TOKEN) == NULL);
    free(log);
    gres_free(&r);
    gfx_teardown(&fx);
}

TEST(integrations_are_chosen_by_host)
{
    gfx_t fx;
    REQUIRE(gfx_setup(&fx, route_repository, FIXTURE_GET_REPOSITORY,
                      "    - host: ghe.example.com\n"
                      "      token: ghe-token\n",
                      NULL));
    gr_error_t err = {0};
    CHECK(gr_github_get(fx.http, NULL, &err) == fx.gh);
    CHECK(gr_github_get(fx.http, "GitHub.com", &err) == fx.gh);
    gr_github_t *ghe = gr_github_get(fx.http, "ghe.example.com", &err);
    REQUIRE(ghe != NULL && ghe != fx.gh);
    /* GitHub Enterprise Server's default URLs, as Backstage derives them. */
    CHECK_STR(ghe->api_base, "https://ghe.example.com/api/v3");
    CHECK_STR(ghe->graphql_url, "https://ghe.example.com/api/graphql");
    char *gql = gr_xasprintf("%s/graphql", gr_ls_base_url(fx.srv));
    CHECK_STR(fx.gh->graphql_url, gql);
    free(gql);
    CHECK(gr_github_get(fx.http, "gitlab.com", &err) == NULL);
    CHECK(err.code == GR_ERR_NOT_FOUND);
    CHECK_CONTAINS(err.message, "gitlab.com");
    /* Without a token the github.com integration calls anonymously. */
    gres_t r = {0};
    get(&fx, REPO_PATH, &r);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(r.status == 200);
    CHECK_STR(fx.auths.items[0], "-");
    gres_free(&r);
    gfx_teardown(&fx);
}

/* errors.json: GitHub's message, errors list and documentation link. */
static void route_errors(gfx_t *fx, gr_ls_request_t *req)
{
    serve_recorded(fx, req, NULL);
}

TEST(github_error_message_is_surfaced)
{
    gfx_t fx;
    REQUIRE(gfx_setup(&fx, route_errors, FIXTURE_ERRORS, "      token: " TOKEN "\n", NULL));
    gres_t r = {0};
    gr_github_request_t req = {.method = "POST",
                               .path = "/repos/octokit-fixture-org/errors/labels",
                               .body = "{\"name\":\"foo\",\"color\":\"invalid\"}"};
    gr_github_request(fx.gh, &req, on_res, &r);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(r.has_err);
    CHECK(r.err.code == GR_ERR_INVALID);
    CHECK(r.status == 422);
    CHECK_CONTAINS(r.err.message, "POST /repos/octokit-fixture-org/errors/labels");
    CHECK_CONTAINS(r.err.message, "422 Validation Failed");
    CHECK_CONTAINS(r.err.message, "Label.color: invalid");
    CHECK_CONTAINS(r.err.message, "https://docs.github.com/rest/reference/issues#create-a-label");
    CHECK(fx.hits == 1);
    CHECK_STR(fx.bodies.items[0], "{\"name\":\"foo\",\"color\":\"invalid\"}");

    gres_t nf = {0};
    get(&fx, "/repos/octokit-fixture-org/missing", &nf);
    CHECK(gr_test_run_until(&fx.loop, &nf.done, 5000));
    CHECK(nf.err.code == GR_ERR_NOT_FOUND);
    CHECK_CONTAINS(nf.err.message, "404 Not Found");
    gres_free(&r);
    gres_free(&nf);
    gfx_teardown(&fx);
}

/* ---- pagination ---------------------------------------------------------------------- */

static void route_issues(gfx_t *fx, gr_ls_request_t *req)
{
    serve_recorded(fx, req, NULL);
}

/* paginate-issues.json: the Link targets are followed exactly as given. */
TEST(pagination_follows_link_exactly)
{
    gfx_t fx;
    REQUIRE(
        gfx_setup(&fx, route_issues, FIXTURE_PAGINATE_ISSUES, "      token: " TOKEN "\n", NULL));
    gres_t r = {0};
    gr_github_request_t req = {.path =
                                   "/repos/octokit-fixture-org/paginate-issues/issues?per_page=3"};
    gr_github_paginate(fx.gh, &req, NULL, 0, on_pages, &r);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 10000));
    CHECK(!r.has_err);
    CHECK(r.complete == 1);
    REQUIRE(r.items);
    CHECK(json_object_array_length(r.items) == 13);
    /* Newest first, as recorded: issue 13 down to issue 1. */
    for (size_t i = 0; i < json_object_array_length(r.items); i++) {
        json_object *n;
        json_object_object_get_ex(json_object_array_get_idx(r.items, i), "number", &n);
        CHECK(json_object_get_int(n) == (int)(13 - i));
    }
    REQUIRE(fx.hits == 5);
    CHECK_STR(fx.targets.items[0], "/repos/octokit-fixture-org/paginate-issues/issues?per_page=3");
    CHECK_STR(fx.targets.items[1], "/repositories/1000/issues?per_page=3&page=2");
    CHECK_STR(fx.targets.items[4], "/repositories/1000/issues?per_page=3&page=5");
    for (int i = 0; i < 5; i++)
        CHECK_STR(fx.auths.items[i], "token " TOKEN);
    gres_free(&r);

    /* A page cap stops early and says so. */
    gres_t capped = {0};
    gr_github_paginate(fx.gh, &req, NULL, 2, on_pages, &capped);
    CHECK(gr_test_run_until(&fx.loop, &capped.done, 10000));
    CHECK(!capped.has_err);
    CHECK(capped.complete == 0);
    CHECK(json_object_array_length(capped.items) == 6);
    gres_free(&capped);
    gfx_teardown(&fx);
}

static void route_runs(gfx_t *fx, gr_ls_request_t *req)
{
    char *link = NULL;
    const char *body;
    if (strcmp(req->target, "/repos/o/r/actions/runs") == 0) {
        link = gr_xasprintf("Link: <%s/repositories/9/actions/runs?page=2>; rel=\"next\"\r\n",
                            gr_ls_base_url(fx->srv));
        body = "{\"total_count\":3,\"workflow_runs\":[{\"id\":1},{\"id\":2}]}";
    } else if (strcmp(req->target, "/repositories/9/actions/runs?page=2") == 0) {
        link = gr_xstrdup("Link: <http://elsewhere.invalid/steal?page=3>; rel=\"next\"\r\n");
        body = "{\"total_count\":3,\"workflow_runs\":[{\"id\":3}]}";
    } else {
        body = "{}";
    }
    gr_ls_respond(req, 200, link, body, strlen(body));
    free(link);
}

TEST(pagination_of_a_named_field_refuses_foreign_links)
{
    gfx_t fx;
    REQUIRE(gfx_setup(&fx, route_runs, NULL, "      token: " TOKEN "\n", NULL));
    gres_t r = {0};
    gr_github_request_t req = {.path = "/repos/o/r/actions/runs"};
    gr_github_paginate(fx.gh, &req, "workflow_runs", 0, on_pages, &r);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    /* Two pages were read, then a Link to another host is not followed
     * with our credentials. */
    CHECK(fx.hits == 2);
    CHECK(r.has_err);
    CHECK(r.err.code == GR_ERR_INVALID);
    CHECK_CONTAINS(r.err.message, "elsewhere.invalid");
    gres_free(&r);

    /* Without the field name, an object page is an error that says what to do. */
    gres_t bad = {0};
    gr_github_paginate(fx.gh, &req, NULL, 0, on_pages, &bad);
    CHECK(gr_test_run_until(&fx.loop, &bad.done, 5000));
    CHECK(bad.has_err);
    CHECK_CONTAINS(bad.err.message, "items_key");
    gres_free(&bad);
    gfx_teardown(&fx);
}

/* ---- conditional requests ------------------------------------------------------------ */

static void route_etag(gfx_t *fx, gr_ls_request_t *req)
{
    const char *inm = gr_ls_header(req, "If-None-Match");
    if (inm && strcmp(inm, RECORDED_ETAG) == 0) {
        gr_ls_respond(req, 304,
                      "ETag: " RECORDED_ETAG "\r\n"
                      "X-RateLimit-Limit: 5000\r\nX-RateLimit-Remaining: 4999\r\n"
                      "X-RateLimit-Resource: core\r\n",
                      "", 0);
        return;
    }
    serve_recorded(fx, req, NULL);
}

/* get-repository.json: an unchanged resource is a 304 answered from the cache. */
TEST(etag_304_is_served_from_cache)
{
    gfx_t fx;
    REQUIRE(gfx_setup(&fx, route_etag, FIXTURE_GET_REPOSITORY, "      token: " TOKEN "\n", NULL));
    gres_t first = {0}, second = {0};
    get(&fx, REPO_PATH, &first);
    CHECK(gr_test_run_until(&fx.loop, &first.done, 5000));
    CHECK(first.status == 200 && !first.cached);
    get(&fx, REPO_PATH, &second);
    CHECK(gr_test_run_until(&fx.loop, &second.done, 5000));
    CHECK(!second.has_err);
    CHECK(second.status == 200);
    CHECK(second.cached == 1);
    CHECK_STR(second.body, first.body);
    CHECK_STR(json_str(second.json, "name"), "hello-world");
    REQUIRE(fx.hits == 2);
    CHECK_STR(fx.if_none_match.items[0], "-");
    CHECK_STR(fx.if_none_match.items[1], RECORDED_ETAG);
    CHECK(metric(&fx, "github_cache_hits_total", NULL) == 1);
    CHECK(metric(&fx, "github_requests_total", "304") == 1);

    /* no_cache skips the cache both ways. */
    gres_t third = {0};
    gr_github_request_t req = {.path = REPO_PATH, .no_cache = 1};
    gr_github_request(fx.gh, &req, on_res, &third);
    CHECK(gr_test_run_until(&fx.loop, &third.done, 5000));
    CHECK(third.status == 200 && !third.cached);
    CHECK_STR(fx.if_none_match.items[2], "-");
    gres_free(&first);
    gres_free(&second);
    gres_free(&third);
    gfx_teardown(&fx);
}

/* ---- rate limits ----------------------------------------------------------------------- */

static void route_primary_limit(gfx_t *fx, gr_ls_request_t *req)
{
    if (fx->hits == 1 || (long)time(NULL) < fx->reset) {
        char *headers = gr_xasprintf("Content-Type: application/json; charset=utf-8\r\n"
                                     "X-RateLimit-Limit: 5000\r\nX-RateLimit-Remaining: 0\r\n"
                                     "X-RateLimit-Used: 5000\r\nX-RateLimit-Resource: core\r\n"
                                     "X-RateLimit-Reset: %ld\r\n",
                                     fx->reset);
        static const char body[] =
            "{\"message\":\"API rate limit exceeded for installation ID 1.\","
            "\"documentation_url\":\"https://docs.github.com/rest/overview/"
            "resources-in-the-rest-api#rate-limiting\"}";
        gr_ls_respond(req, 403, headers, body, sizeof body - 1);
        free(headers);
        return;
    }
    serve_recorded(fx, req, NULL);
}

/* get-repository.json after a 403 whose limit resets 2 s later. */
TEST(primary_rate_limit_waits_for_reset_and_queues_others)
{
    gfx_t fx;
    REQUIRE(gfx_setup(&fx, route_primary_limit, FIXTURE_GET_REPOSITORY, "      token: " TOKEN "\n",
                      NULL));
    fx.reset = (long)time(NULL) + 2;
    gres_t first = {0}, second = {0};
    get(&fx, REPO_PATH, &first);
    while (fx.hits < 1 && !first.done)
        gr_test_run_for(&fx.loop, 10);
    gr_test_run_for(&fx.loop, 100); /* the 403 has been read */
    CHECK(!first.done);
    /* A call made while the limit is exhausted waits without being sent. */
    get(&fx, "/repos/octokit-fixture-org/hello-world", &second);
    gr_test_run_for(&fx.loop, 200);
    CHECK(fx.hits == 1);
    CHECK(gr_test_run_until(&fx.loop, &first.done, 8000));
    CHECK(gr_test_run_until(&fx.loop, &second.done, 8000));
    CHECK(!first.has_err && first.status == 200);
    CHECK(!second.has_err && second.status == 200);
    REQUIRE(fx.hits == 3);
    CHECK(fx.arrived_ms[1] >= (int64_t)fx.reset * 1000);
    CHECK(fx.arrived_ms[2] >= (int64_t)fx.reset * 1000);
    char *log = gr_test_file_text(fx.log_file);
    CHECK_CONTAINS(log, "primary rate limit reached");
    CHECK_CONTAINS(log, "waiting");
    free(log);
    CHECK(metric(&fx, "github_rate_limit_waits_total", NULL) == 1);
    CHECK(metric(&fx, "github_requests_total", "403") == 1);
    CHECK(metric(&fx, "github_rate_limit_remaining", "core") == 4999);
    gres_free(&first);
    gres_free(&second);
    gfx_teardown(&fx);
}

static void route_secondary_limit(gfx_t *fx, gr_ls_request_t *req)
{
    if (fx->hits == 1) {
        static const char body[] =
            "{\"message\":\"You have exceeded a secondary rate limit. Please wait a few "
            "minutes before you try again.\",\"documentation_url\":\"https://docs.github.com/"
            "rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits\"}";
        gr_ls_respond(req, fx->mode == 429 ? 429 : 403,
                      "Content-Type: application/json\r\nRetry-After: 1\r\n", body,
                      sizeof body - 1);
        return;
    }
    serve_recorded(fx, req, NULL);
}

/* get-repository.json after a secondary limit with Retry-After. */
TEST(secondary_rate_limit_honours_retry_after)
{
    for (int variant = 0; variant < 2; variant++) {
        gfx_t fx;
        REQUIRE(gfx_setup(&fx, route_secondary_limit, FIXTURE_GET_REPOSITORY,
                          "      token: " TOKEN "\n", NULL));
        fx.mode = variant ? 429 : 403;
        gres_t r = {0};
        uint64_t t0 = gr_now_ms();
        get(&fx, REPO_PATH, &r);
        CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
        uint64_t elapsed = gr_now_ms() - t0;
        CHECK(!r.has_err);
        CHECK(r.status == 200);
        CHECK(fx.hits == 2);
        CHECK(elapsed >= 1000);
        char *log = gr_test_file_text(fx.log_file);
        CHECK_CONTAINS(log, "secondary rate limit reached");
        free(log);
        gres_free(&r);
        gfx_teardown(&fx);
    }
}

TEST(rate_limit_beyond_max_wait_fails_with_github_message)
{
    gr_github_client_options_t opts = {.rate_limit_max_wait_ms = 500};
    gfx_t fx;
    REQUIRE(gfx_setup(&fx, route_primary_limit, FIXTURE_GET_REPOSITORY, "      token: " TOKEN "\n",
                      &opts));
    fx.reset = (long)time(NULL) + 30;
    gres_t r = {0};
    get(&fx, REPO_PATH, &r);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(r.has_err);
    CHECK(r.err.code == GR_ERR_UNAVAILABLE);
    CHECK(r.status == 403);
    CHECK_CONTAINS(r.err.message, "API rate limit exceeded");
    /* A later call does not even go out while the limit is known to be used up. */
    gres_t later = {0};
    get(&fx, REPO_PATH, &later);
    CHECK(gr_test_run_until(&fx.loop, &later.done, 5000));
    CHECK(later.has_err);
    CHECK_CONTAINS(later.err.message, "resets in");
    CHECK(fx.hits == 1);
    gres_free(&r);
    gres_free(&later);
    gfx_teardown(&fx);
}

TEST(shutdown_cancels_calls_waiting_for_a_rate_limit)
{
    gfx_t fx;
    REQUIRE(gfx_setup(&fx, route_primary_limit, FIXTURE_GET_REPOSITORY, "      token: " TOKEN "\n",
                      NULL));
    fx.reset = (long)time(NULL) + 60;
    gres_t a = {0}, b = {0};
    get(&fx, REPO_PATH, &a);
    while (fx.hits < 1)
        gr_test_run_for(&fx.loop, 10);
    gr_test_run_for(&fx.loop, 100);
    get(&fx, REPO_PATH, &b);
    gr_test_run_for(&fx.loop, 50);
    CHECK(!a.done && !b.done);
    gr_github_client_shutdown(fx.ghc);
    CHECK(a.done && b.done);
    CHECK(a.err.code == GR_ERR_CANCELED);
    CHECK(b.err.code == GR_ERR_CANCELED);
    CHECK(gr_github_client_pending(fx.ghc) == 0);
    gres_free(&a);
    gres_free(&b);
    gfx_teardown(&fx);
}

/* ---- GraphQL --------------------------------------------------------------------------- */

static void route_graphql(gfx_t *fx, gr_ls_request_t *req)
{
    (void)fx;
    json_object *body = json_tokener_parse(req->body.data ? req->body.data : "");
    json_object *vars = NULL, *cursor = NULL, *name = NULL;
    json_object_object_get_ex(body, "variables", &vars);
    json_object_object_get_ex(vars, "cursor", &cursor);
    json_object_object_get_ex(vars, "name", &name);
    const char *answer;
    if (strcmp(req->target, "/graphql") != 0 || strcmp(req->method, "POST") != 0) {
        answer = "{\"message\":\"Not Found\"}";
    } else if (name && strcmp(json_object_get_string(name), "missing") == 0) {
        answer = "{\"data\":{\"repository\":null},\"errors\":[{\"type\":\"NOT_FOUND\","
                 "\"path\":[\"repository\"],\"message\":\"Could not resolve to a Repository "
                 "with the name 'octokit-fixture-org/missing'.\"}]}";
    } else if (!cursor) {
        answer = "{\"data\":{\"repository\":{\"issues\":{\"nodes\":[{\"number\":1},"
                 "{\"number\":2}],\"pageInfo\":{\"hasNextPage\":true,"
                 "\"endCursor\":\"Y3Vyc29yOnYyOpHOAAAAAg==\"}}}}}";
    } else if (strcmp(json_object_get_string(cursor), "Y3Vyc29yOnYyOpHOAAAAAg==") == 0) {
        answer =
            "{\"data\":{\"repository\":{\"issues\":{\"nodes\":[{\"number\":3}],"
            "\"pageInfo\":{\"hasNextPage\":false,\"endCursor\":\"Y3Vyc29yOnYyOpHOAAAAAw==\"}}}}}";
    } else {
        answer = "{\"errors\":[{\"message\":\"bad cursor\"}]}";
    }
    gr_ls_respond(req, 200,
                  "Content-Type: application/json\r\nX-RateLimit-Limit: 5000\r\n"
                  "X-RateLimit-Remaining: 4990\r\nX-RateLimit-Resource: graphql\r\n",
                  answer, strlen(answer));
    json_object_put(body);
}

static const char ISSUES_QUERY[] =
    "query($owner: String!, $name: String!, $cursor: String) {"
    " repository(owner: $owner, name: $name) {"
    " issues(first: 2, after: $cursor) { nodes { number } pageInfo { hasNextPage endCursor } } } }";

TEST(graphql_cursor_pagination_collects_every_node)
{
    gfx_t fx;
    REQUIRE(gfx_setup(&fx, route_graphql, NULL, "      token: " TOKEN "\n", NULL));
    json_object *vars = json_object_new_object();
    json_object_object_add(vars, "owner", json_object_new_string("octokit-fixture-org"));
    json_object_object_add(vars, "name", json_object_new_string("hello-world"));
    gr_github_graphql_t q = {
        .query = ISSUES_QUERY, .variables = vars, .page_path = "repository.issues"};
    gres_t r = {0};
    gr_github_graphql_paginate(fx.gh, &q, on_pages, &r);
    json_object_put(vars); /* borrowed only during the call */
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(!r.has_err);
    CHECK(r.complete == 1);
    REQUIRE(r.items && json_object_array_length(r.items) == 3);
    for (int i = 0; i < 3; i++) {
        json_object *n;
        json_object_object_get_ex(json_object_array_get_idx(r.items, (size_t)i), "number", &n);
        CHECK(json_object_get_int(n) == i + 1);
    }
    REQUIRE(fx.hits == 2);
    json_object *b1 = json_tokener_parse(fx.bodies.items[0]);
    json_object *b2 = json_tokener_parse(fx.bodies.items[1]);
    CHECK_STR(json_str(b1, "query"), ISSUES_QUERY);
    json_object *v1 = NULL, *v2 = NULL, *c1 = NULL;
    json_object_object_get_ex(b1, "variables", &v1);
    json_object_object_get_ex(b2, "variables", &v2);
    CHECK(json_object_object_get_ex(v1, "cursor", &c1) && c1 == NULL); /* null on page 1 */
    CHECK_STR(json_str(v2, "cursor"), "Y3Vyc29yOnYyOpHOAAAAAg==");
    CHECK_STR(json_str(v2, "owner"), "octokit-fixture-org");
    json_object_put(b1);
    json_object_put(b2);
    CHECK_STR(fx.auths.items[1], "token " TOKEN);
    CHECK(metric(&fx, "github_rate_limit_remaining", "graphql") == 4990);
    gres_free(&r);
    gfx_teardown(&fx);
}

TEST(graphql_errors_are_surfaced)
{
    gfx_t fx;
    REQUIRE(gfx_setup(&fx, route_graphql, NULL, "      token: " TOKEN "\n", NULL));
    json_object *vars = json_object_new_object();
    json_object_object_add(vars, "owner", json_object_new_string("octokit-fixture-org"));
    json_object_object_add(vars, "name", json_object_new_string("missing"));
    gr_github_graphql_t q = {.query = ISSUES_QUERY, .variables = vars};
    gres_t r = {0};
    gr_github_graphql(fx.gh, &q, on_data, &r);
    json_object_put(vars);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(r.has_err);
    CHECK(r.err.code == GR_ERR_NOT_FOUND);
    CHECK_CONTAINS(r.err.message, "Could not resolve to a Repository");
    gres_free(&r);

    /* And a plain query hands back `data`. */
    vars = json_object_new_object();
    json_object_object_add(vars, "name", json_object_new_string("hello-world"));
    gr_github_graphql_t q2 = {.query = ISSUES_QUERY, .variables = vars};
    gres_t ok = {0};
    gr_github_graphql(fx.gh, &q2, on_data, &ok);
    json_object_put(vars);
    CHECK(gr_test_run_until(&fx.loop, &ok.done, 5000));
    CHECK(!ok.has_err);
    CHECK(ok.json && json_object_object_get_ex(ok.json, "repository", NULL));
    gres_free(&ok);
    gfx_teardown(&fx);
}

/* ---- GitHub App auth ------------------------------------------------------------------ */

static EVP_PKEY *the_key;

static void free_test_key(void)
{
    EVP_PKEY_free(the_key);
}

/* One RSA key per run: generating it takes a moment. */
static EVP_PKEY *test_key(void)
{
    if (!the_key) {
        the_key = EVP_RSA_gen(2048);
        atexit(free_test_key);
    }
    return the_key;
}

/* The key as GitHub hands it out (PKCS#1 PEM), indented for a YAML block. */
static char *key_yaml_block(EVP_PKEY *key, const char *indent)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL, 0, NULL, NULL);
    char *pem;
    long n = BIO_get_mem_data(bio, &pem);
    gr_buf_t out = {0};
    const char *p = pem, *end = pem + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        gr_buf_printf(&out, "%s%.*s\n", indent, (int)len, p);
        p += len + 1;
    }
    BIO_free(bio);
    return gr_buf_steal(&out);
}

static EVP_PKEY *public_of(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    EVP_PKEY *pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return pub;
}

static unsigned char *b64url_decode(const char *s, size_t n, size_t *out_len)
{
    gr_buf_t b = {0};
    for (size_t i = 0; i < n; i++)
        gr_buf_append(&b, s[i] == '-' ? "+" : s[i] == '_' ? "/" : &s[i], 1);
    size_t pad = (4 - b.len % 4) % 4;
    for (size_t i = 0; i < pad; i++)
        gr_buf_append(&b, "=", 1);
    unsigned char *out = gr_xmalloc(b.len);
    int got = EVP_DecodeBlock(out, (unsigned char *)b.data, (int)b.len);
    gr_buf_free(&b);
    *out_len = got > 0 ? (size_t)got - pad : 0;
    return out;
}

/* Checks "Bearer <jwt>" the way GitHub does: RS256 over header.payload with
 * the App's public key, iss is the App id, iat in the past, exp at most
 * ten minutes after iat and in the future. */
static int jwt_valid(gfx_t *fx, const char *auth, const char *app_id)
{
    if (!auth || strncmp(auth, "Bearer ", 7) != 0)
        return 0;
    const char *jwt = auth + 7;
    const char *dot1 = strchr(jwt, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2)
        return 0;
    size_t hlen, plen, slen;
    unsigned char *header = b64url_decode(jwt, (size_t)(dot1 - jwt), &hlen);
    unsigned char *payload = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &plen);
    unsigned char *sig = b64url_decode(dot2 + 1, strlen(dot2 + 1), &slen);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, fx->app_public) == 1 &&
             EVP_DigestVerify(md, sig, slen, (const unsigned char *)jwt, (size_t)(dot2 - jwt)) == 1;
    EVP_MD_CTX_free(md);
    char *htext = gr_xstrndup((char *)header, hlen);
    char *ptext = gr_xstrndup((char *)payload, plen);
    json_object *h = json_tokener_parse(htext), *p = json_tokener_parse(ptext), *v;
    ok = ok && h && p && json_str(h, "alg") && strcmp(json_str(h, "alg"), "RS256") == 0;
    long now = (long)time(NULL);
    long iat = json_object_object_get_ex(p, "iat", &v) ? (long)json_object_get_int64(v) : 0;
    long exp = json_object_object_get_ex(p, "exp", &v) ? (long)json_object_get_int64(v) : 0;
    ok = ok && iat <= now - 30 && exp > now && exp - iat <= 600;
    ok = ok && json_object_object_get_ex(p, "iss", &v) &&
         strcmp(json_object_get_string(v), app_id) == 0;
    json_object_put(h);
    json_object_put(p);
    free(htext);
    free(ptext);
    free(header);
    free(payload);
    free(sig);
    return ok;
}

static void iso_utc(int64_t epoch_s, char *buf, size_t n)
{
    time_t t = (time_t)epoch_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void route_app(gfx_t *fx, gr_ls_request_t *req)
{
    const char *auth = gr_ls_header(req, "Authorization");
    size_t tlen = strlen(req->target);
    if (strncmp(req->target, "/repos/octokit-fixture-org/", 27) == 0 && tlen > 13 &&
        strcmp(req->target + tlen - 13, "/installation") == 0) {
        fx->lookups++;
        if (!jwt_valid(fx, auth, "4242")) {
            fx->jwt_bad++;
            respond_json(req, 401, "{\"message\":\"A JSON web token could not be decoded\"}");
            return;
        }
        fx->jwt_ok++;
        static const char body[] = "{\"id\":777,\"account\":{\"login\":\"octokit-fixture-org\"},"
                                   "\"app_id\":4242}";
        gr_ls_respond(req, 200, "Content-Type: application/json\r\n", body, sizeof body - 1);
        return;
    }
    if (strncmp(req->target, "/app/installations/", 19) == 0 && strcmp(req->method, "POST") == 0) {
        fx->exchanges++;
        if (!jwt_valid(fx, auth, "4242")) {
            fx->jwt_bad++;
            respond_json(req, 401, "{\"message\":\"bad JWT\"}");
            return;
        }
        fx->jwt_ok++;
        char expires[32];
        iso_utc((int64_t)time(NULL) + fx->token_lifetime_s, expires, sizeof expires);
        char *body = gr_xasprintf("{\"token\":\"ghs_installation%d\",\"expires_at\":\"%s\","
                                  "\"permissions\":{\"metadata\":\"read\"}}",
                                  ++fx->token_seq, expires);
        gr_ls_respond(req, 201, "Content-Type: application/json\r\n", body, strlen(body));
        free(body);
        return;
    }
    char *want = gr_xasprintf("token ghs_installation%d", fx->token_seq);
    if (!auth || strcmp(auth, want) != 0)
        respond_json(req, 401, "{\"message\":\"Bad credentials\"}");
    else
        serve_recorded(fx, req, NULL);
    free(want);
}

/* get-repository.json through an App installation found by repository. */
TEST(app_installation_token_is_exchanged_once_and_reused)
{
    char *key = key_yaml_block(test_key(), "            ");
    char *integration = gr_xasprintf("      apps:\n"
                                     "        - appId: 4242\n"
                                     "          clientId: Iv1.0000000000000000\n"
                                     "          webhookSecret: app-hook-secret\n"
                                     "          privateKey: |\n%s",
                                     key);
    gfx_t fx;
    int ok = gfx_setup(&fx, route_app, FIXTURE_GET_REPOSITORY, integration, NULL);
    free(key);
    free(integration);
    REQUIRE(ok);
    fx.app_public = public_of(test_key());
    fx.token_lifetime_s = 3600;

    /* Three calls at once share one lookup and one exchange. */
    gres_t r[4];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 3; i++)
        get(&fx, REPO_PATH, &r[i]);
    for (int i = 0; i < 3; i++) {
        CHECK(gr_test_run_until(&fx.loop, &r[i].done, 5000));
        CHECK(!r[i].has_err);
        CHECK(r[i].status == 200);
    }
    CHECK(fx.lookups == 1);
    CHECK(fx.exchanges == 1);
    CHECK(fx.jwt_ok == 2 && fx.jwt_bad == 0);
    CHECK_STR(fx.targets.items[1], "/app/installations/777/access_tokens");
    CHECK_STR(fx.methods.items[1], "POST");
    /* A later call reuses the cached token. */
    get(&fx, REPO_PATH, &r[3]);
    CHECK(gr_test_run_until(&fx.loop, &r[3].done, 5000));
    CHECK(r[3].status == 200);
    CHECK(fx.exchanges == 1);
    CHECK_STR(fx.auths.items[fx.auths.len - 1], "token ghs_installation1");
    /* Neither the JWT nor the token reaches the log. */
    char *log = gr_test_file_text(fx.log_file);
    CHECK(strstr(log, "ghs_installation1") == NULL);
    CHECK(strstr(log, "eyJ") == NULL);
    free(log);
    gr_strvec_t secrets = {0};
    gr_github_client_webhook_secrets(fx.ghc, &secrets);
    CHECK(secrets.len == 1 && strcmp(secrets.items[0], "app-hook-secret") == 0);
    gr_strvec_free(&secrets);
    for (int i = 0; i < 4; i++)
        gres_free(&r[i]);
    gfx_teardown(&fx);
}

/* paginate-issues.json through an App: the later pages' /repositories/1000/
 * paths name no account, yet they use the first page's installation. */
TEST(app_auth_pagination_keeps_the_installation)
{
    char *key = key_yaml_block(test_key(), "            ");
    char *integration = gr_xasprintf("      apps:\n"
                                     "        - appId: 4242\n"
                                     "          privateKey: |\n%s",
                                     key);
    gfx_t fx;
    int ok = gfx_setup(&fx, route_app, FIXTURE_PAGINATE_ISSUES, integration, NULL);
    free(key);
    free(integration);
    REQUIRE(ok);
    fx.app_public = public_of(test_key());
    fx.token_lifetime_s = 3600;
    gres_t r = {0};
    gr_github_request_t req = {.path =
                                   "/repos/octokit-fixture-org/paginate-issues/issues?per_page=3"};
    gr_github_paginate(fx.gh, &req, NULL, 0, on_pages, &r);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 10000));
    CHECK(!r.has_err);
    CHECK(r.complete == 1);
    CHECK(r.items && json_object_array_length(r.items) == 13);
    CHECK(fx.lookups == 1 && fx.exchanges == 1);
    REQUIRE(fx.hits == 7);
    CHECK_STR(fx.targets.items[0], "/repos/octokit-fixture-org/paginate-issues/installation");
    for (int i = 2; i < 7; i++)
        CHECK_STR(fx.auths.items[i], "token ghs_installation1");
    gres_free(&r);
    gfx_teardown(&fx);
}

/* get-repository.json with a configured installation and short-lived tokens. */
TEST(app_installation_token_is_renewed_before_expiry)
{
    char *key = key_yaml_block(test_key(), "            ");
    char *integration = gr_xasprintf("      apps:\n"
                                     "        - appId: 4242\n"
                                     "          installationId: 777\n"
                                     "          privateKey: |\n%s",
                                     key);
    gr_github_client_options_t opts = {.token_refresh_margin_ms = 2000};
    gfx_t fx;
    int ok = gfx_setup(&fx, route_app, FIXTURE_GET_REPOSITORY, integration, &opts);
    free(key);
    free(integration);
    REQUIRE(ok);
    fx.app_public = public_of(test_key());
    fx.token_lifetime_s = 4;

    gres_t a = {0}, b = {0};
    get(&fx, REPO_PATH, &a);
    CHECK(gr_test_run_until(&fx.loop, &a.done, 5000));
    CHECK(a.status == 200);
    CHECK(fx.lookups == 0); /* installationId configured */
    CHECK(fx.exchanges == 1);
    gr_test_run_for(&fx.loop, 2500); /* within 2 s of expiry now */
    get(&fx, REPO_PATH, &b);
    CHECK(gr_test_run_until(&fx.loop, &b.done, 5000));
    CHECK(b.status == 200);
    CHECK(fx.exchanges == 2);
    CHECK_STR(fx.auths.items[fx.auths.len - 1], "token ghs_installation2");
    gres_free(&a);
    gres_free(&b);
    gfx_teardown(&fx);
}

TEST(bad_config_is_refused_without_leaking_secrets)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    FILE *logf = tmpfile();
    gr_log_t *log = gr_log_root_new(logf, GR_LOG_DEBUG, GR_LOG_FORMAT_PRETTY);
    gr_http_client_t *http = gr_http_client_new(&loop, log, NULL, NULL);
    static const char bad_key[] = "integrations:\n"
                                  "  github:\n"
                                  "    - host: github.com\n"
                                  "      apps:\n"
                                  "        - appId: 1\n"
                                  "          privateKey: not-a-key-but-a-SECRET-value\n";
    static const char twice[] = "integrations:\n"
                                "  github:\n"
                                "    - host: ghe.example.com\n"
                                "    - host: GHE.example.com\n";
    const char *texts[] = {bad_key, twice};
    const char *expect[] = {"inline.yaml:5:11", "configured twice"};
    for (int i = 0; i < 2; i++) {
        gr_error_t err = {0};
        gr_config_doc_t *doc = gr_config_doc_parse("inline.yaml", texts[i], strlen(texts[i]), &err);
        REQUIRE(doc);
        gr_github_client_t *c = gr_github_client_new(
            &loop, log, NULL, http, gr_config_get(gr_config_doc_root(doc), "integrations.github"),
            NULL, &err);
        CHECK(c == NULL);
        CHECK(err.code == GR_ERR_INVALID);
        CHECK_CONTAINS(err.message, expect[i]);
        CHECK(strstr(err.message, "SECRET") == NULL);
        gr_config_doc_free(doc);
    }
    gr_http_client_free(http);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    gr_log_free(log);
    fclose(logf);
}

TEST(app_without_owner_or_installation_says_what_is_missing)
{
    char *key = key_yaml_block(test_key(), "            ");
    char *integration = gr_xasprintf("      apps:\n"
                                     "        - appId: 4242\n"
                                     "          privateKey: |\n%s",
                                     key);
    gfx_t fx;
    int ok = gfx_setup(&fx, route_app, FIXTURE_GET_REPOSITORY, integration, NULL);
    free(key);
    free(integration);
    REQUIRE(ok);
    gres_t r = {0};
    get(&fx, "/rate_limit", &r);
    CHECK(gr_test_run_until(&fx.loop, &r.done, 5000));
    CHECK(r.has_err);
    CHECK(r.err.code == GR_ERR_INVALID);
    CHECK_CONTAINS(r.err.message, "owner");
    CHECK(fx.hits == 0);
    gres_free(&r);
    gfx_teardown(&fx);
}

TEST_MAIN(TEST_ENTRY(get_with_token_returns_recorded_repository),
          TEST_ENTRY(integrations_are_chosen_by_host), TEST_ENTRY(github_error_message_is_surfaced),
          TEST_ENTRY(pagination_follows_link_exactly),
          TEST_ENTRY(pagination_of_a_named_field_refuses_foreign_links),
          TEST_ENTRY(etag_304_is_served_from_cache),
          TEST_ENTRY(primary_rate_limit_waits_for_reset_and_queues_others),
          TEST_ENTRY(secondary_rate_limit_honours_retry_after),
          TEST_ENTRY(rate_limit_beyond_max_wait_fails_with_github_message),
          TEST_ENTRY(shutdown_cancels_calls_waiting_for_a_rate_limit),
          TEST_ENTRY(graphql_cursor_pagination_collects_every_node),
          TEST_ENTRY(graphql_errors_are_surfaced),
          TEST_ENTRY(app_installation_token_is_exchanged_once_and_reused),
          TEST_ENTRY(app_auth_pagination_keeps_the_installation),
          TEST_ENTRY(app_installation_token_is_renewed_before_expiry),
          TEST_ENTRY(bad_config_is_refused_without_leaking_secrets),
          TEST_ENTRY(app_without_owner_or_installation_says_what_is_missing))
