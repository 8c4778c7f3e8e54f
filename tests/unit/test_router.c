/* Unit tests for core/router.c: patterns, matching, priority, 404 vs 405. */
#include "router.h"
#include "test.h"

/* Handlers are only compared by address; each stands for a route. */
static void h_a(gr_http_request_t *req, void *ud)
{
    (void)req, (void)ud;
}
static void h_b(gr_http_request_t *req, void *ud)
{
    (void)req, (void)ud;
}
static void h_c(gr_http_request_t *req, void *ud)
{
    (void)req, (void)ud;
}
static void h_d(gr_http_request_t *req, void *ud)
{
    (void)req, (void)ud;
}

static const char *param(const gr_route_match_t *m, const char *name)
{
    for (size_t i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return m->params[i].value;
    return NULL;
}

/* Matches and returns the handler found, or NULL; the match is cleared. */
static gr_http_handler_fn find(gr_route_table_t *t, const char *method, const char *path)
{
    gr_route_match_t m;
    char allow[64];
    if (gr_route_table_match(t, method, path, &m, allow, sizeof allow) != GR_ROUTE_FOUND)
        return NULL;
    gr_http_handler_fn h = m.handler;
    gr_route_match_clear(&m);
    return h;
}

TEST(params_are_captured_and_decoded_per_segment)
{
    gr_route_table_t *t = gr_route_table_new();
    gr_router_t *r = gr_route_table_router(t, "/api/catalog", "catalog");
    gr_error_t err;
    int ud = 7;
    REQUIRE(gr_router_add(r, "GET", "/entities/by-name/:kind/:namespace/:name", h_a, &ud, &err) ==
            0);
    gr_route_match_t m;
    char allow[64];
    REQUIRE(gr_route_table_match(t, "GET",
                                 "/api/catalog/entities/by-name/component/default/my%20svc", &m,
                                 allow, sizeof allow) == GR_ROUTE_FOUND);
    CHECK(m.handler == h_a);
    CHECK(m.user_data == &ud);
    CHECK_STR(m.plugin_id, "catalog");
    CHECK_STR(m.pattern, "/api/catalog/entities/by-name/:kind/:namespace/:name");
    CHECK(m.nparams == 3);
    CHECK_STR(param(&m, "kind"), "component");
    CHECK_STR(param(&m, "namespace"), "default");
    CHECK_STR(param(&m, "name"), "my svc");
    gr_route_match_clear(&m);

    /* An encoded slash stays inside its parameter. */
    REQUIRE(gr_route_table_match(t, "GET", "/api/catalog/entities/by-name/a/b%2Fc/d", &m, allow,
                                 sizeof allow) == GR_ROUTE_FOUND);
    CHECK_STR(param(&m, "namespace"), "b/c");
    gr_route_match_clear(&m);

    /* A malformed escape matches nothing. */
    CHECK(gr_route_table_match(t, "GET", "/api/catalog/entities/by-name/a/%zz/d", &m, allow,
                               sizeof allow) == GR_ROUTE_NOT_FOUND);
    /* Too few and too many segments. */
    CHECK(find(t, "GET", "/api/catalog/entities/by-name/a/b") == NULL);
    CHECK(find(t, "GET", "/api/catalog/entities/by-name/a/b/c/d") == NULL);
    /* Another plugin's prefix. */
    CHECK(find(t, "GET", "/api/other/entities/by-name/a/b/c") == NULL);
    gr_route_table_free(t);
}

TEST(literal_beats_param_whatever_the_order)
{
    gr_route_table_t *t = gr_route_table_new();
    gr_router_t *r = gr_route_table_router(t, "/api/catalog", "catalog");
    gr_error_t err;
    /* Param route first, literal second... */
    REQUIRE(gr_router_add(r, "GET", "/entities/:id", h_a, NULL, &err) == 0);
    REQUIRE(gr_router_add(r, "GET", "/entities/by-query", h_b, NULL, &err) == 0);
    /* ...and for another pair, literal first. */
    REQUIRE(gr_router_add(r, "GET", "/locations/by-entity", h_c, NULL, &err) == 0);
    REQUIRE(gr_router_add(r, "GET", "/locations/:id", h_d, NULL, &err) == 0);

    CHECK(find(t, "GET", "/api/catalog/entities/by-query") == h_b);
    CHECK(find(t, "GET", "/api/catalog/entities/abc") == h_a);
    CHECK(find(t, "GET", "/api/catalog/locations/by-entity") == h_c);
    CHECK(find(t, "GET", "/api/catalog/locations/xyz") == h_d);
    gr_route_table_free(t);
}

TEST(more_specific_position_wins_and_param_beats_star)
{
    gr_route_table_t *t = gr_route_table_new();
    gr_router_t *r = gr_route_table_router(t, "", "");
    gr_error_t err;
    REQUIRE(gr_router_add(r, "GET", "/a/*", h_a, NULL, &err) == 0);
    REQUIRE(gr_router_add(r, "GET", "/a/:x", h_b, NULL, &err) == 0);
    REQUIRE(gr_router_add(r, "GET", "/a/:x/c", h_c, NULL, &err) == 0);
    REQUIRE(gr_router_add(r, "GET", "/:y/b/c", h_d, NULL, &err) == 0);

    CHECK(find(t, "GET", "/a/q") == h_b);     /* param beats star */
    CHECK(find(t, "GET", "/a/q/r/s") == h_a); /* only star takes three */
    CHECK(find(t, "GET", "/a/b/c") == h_c);   /* literal "a" first beats ":y" */
    CHECK(find(t, "GET", "/z/b/c") == h_d);
    CHECK(find(t, "GET", "/a") == h_a); /* star takes zero segments */
    gr_route_table_free(t);
}

TEST(star_captures_the_decoded_rest)
{
    gr_route_table_t *t = gr_route_table_new();
    gr_router_t *r = gr_route_table_router(t, "/api/techdocs", "techdocs");
    gr_error_t err;
    REQUIRE(gr_router_add(r, "GET", "/static/docs/:entity/*", h_a, NULL, &err) == 0);
    gr_route_match_t m;
    char allow[64];
    REQUIRE(gr_route_table_match(t, "GET", "/api/techdocs/static/docs/x/a/b%20c/index.html", &m,
                                 allow, sizeof allow) == GR_ROUTE_FOUND);
    CHECK_STR(param(&m, "entity"), "x");
    CHECK_STR(param(&m, "*"), "a/b c/index.html");
    gr_route_match_clear(&m);
    REQUIRE(gr_route_table_match(t, "GET", "/api/techdocs/static/docs/x", &m, allow,
                                 sizeof allow) == GR_ROUTE_FOUND);
    CHECK_STR(param(&m, "*"), "");
    gr_route_match_clear(&m);
    gr_route_table_free(t);
}

TEST(trailing_slash_is_ignored_and_empty_segments_match_nothing)
{
    gr_route_table_t *t = gr_route_table_new();
    gr_router_t *r = gr_route_table_router(t, "/api/catalog/", "catalog");
    gr_error_t err;
    REQUIRE(gr_router_add(r, "GET", "/entities/", h_a, NULL, &err) == 0);
    REQUIRE(gr_router_add(r, "GET", "/", h_b, NULL, &err) == 0);
    REQUIRE(gr_router_add(r, "GET", "/e/:id", h_c, NULL, &err) == 0);
    CHECK(find(t, "GET", "/api/catalog/entities") == h_a);
    CHECK(find(t, "GET", "/api/catalog/entities/") == h_a);
    CHECK(find(t, "GET", "/api/catalog") == h_b);
    CHECK(find(t, "GET", "/api/catalog/") == h_b);
    CHECK(find(t, "GET", "/api/catalog//entities") == NULL);
    CHECK(find(t, "GET", "/api/catalog/e/") == NULL); /* a param needs a non-empty segment */
    CHECK(find(t, "GET", "/api/catalog/e/1/") == h_c);
    gr_route_table_free(t);
}

TEST(method_not_allowed_lists_allowed_methods)
{
    gr_route_table_t *t = gr_route_table_new();
    gr_router_t *r = gr_route_table_router(t, "/api/catalog", "catalog");
    gr_error_t err;
    REQUIRE(gr_router_add(r, "post", "/entities", h_a, NULL, &err) == 0);
    REQUIRE(gr_router_add(r, "GET", "/entities", h_b, NULL, &err) == 0);
    REQUIRE(gr_router_add(r, "DELETE", "/entities/:id", h_c, NULL, &err) == 0);
    gr_route_match_t m;
    char allow[64];
    CHECK(gr_route_table_match(t, "PUT", "/api/catalog/entities", &m, allow, sizeof allow) ==
          GR_ROUTE_METHOD_NOT_ALLOWED);
    CHECK_STR(allow, "GET, HEAD, POST");
    CHECK(gr_route_table_match(t, "GET", "/api/catalog/entities/x", &m, allow, sizeof allow) ==
          GR_ROUTE_METHOD_NOT_ALLOWED);
    CHECK_STR(allow, "DELETE");
    CHECK(gr_route_table_match(t, "GET", "/api/catalog/nothing", &m, allow, sizeof allow) ==
          GR_ROUTE_NOT_FOUND);
    CHECK_STR(allow, "");
    /* HEAD falls back to GET; an explicit HEAD route wins over it. */
    CHECK(find(t, "HEAD", "/api/catalog/entities") == h_b);
    REQUIRE(gr_router_add(r, "HEAD", "/entities", h_d, NULL, &err) == 0);
    CHECK(find(t, "HEAD", "/api/catalog/entities") == h_d);
    /* A method matching a less specific route is found rather than 405. */
    CHECK(find(t, "POST", "/api/catalog/entities") == h_a);
    gr_route_table_free(t);
}

TEST(bad_patterns_and_duplicates_are_refused_with_a_reason)
{
    gr_route_table_t *t = gr_route_table_new();
    gr_router_t *r = gr_route_table_router(t, "/api/x", "x");
    gr_error_t err;
    CHECK(gr_router_add(r, "GET", "entities", h_a, NULL, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "must start with '/'");
    CHECK(gr_router_add(r, "FETCH", "/a", h_a, NULL, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "method must be one of");
    CHECK(gr_router_add(r, "GET", "/a/*/b", h_a, NULL, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "'*' may only be the last segment");
    CHECK(gr_router_add(r, "GET", "/a/:", h_a, NULL, &err) == GR_ERR_INVALID);
    CHECK(gr_router_add(r, "GET", "/a/:x/:x", h_a, NULL, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "names parameter 'x' twice");
    CHECK(gr_router_add(r, "GET", "/a//b", h_a, NULL, &err) == GR_ERR_INVALID);
    CHECK(gr_router_add(r, "GET", "/a%20b", h_a, NULL, &err) == GR_ERR_INVALID);
    CHECK(gr_router_add(r, "GET", "/a", NULL, NULL, &err) == GR_ERR_INVALID);

    REQUIRE(gr_router_add(r, "GET", "/items/:id", h_a, NULL, &err) == 0);
    CHECK(gr_router_add(r, "GET", "/items/:name/", h_b, NULL, &err) == GR_ERR_CONFLICT);
    CHECK_CONTAINS(err.message, "/api/x/items/:id");
    CHECK(gr_router_add(r, "PUT", "/items/:name", h_b, NULL, &err) == 0);
    CHECK(gr_route_table_size(t) == 2);

    char many[256] = "";
    for (int i = 0; i <= GR_ROUTE_MAX_PARAMS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "/:p%d", i);
    CHECK(gr_router_add(r, "GET", many, h_a, NULL, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "more than");
    gr_route_table_free(t);
}

TEST(host_routes_and_plugin_routes_share_the_table)
{
    gr_route_table_t *t = gr_route_table_new();
    gr_router_t *host = gr_route_table_router(t, "", "");
    gr_router_t *cat = gr_route_table_router(t, "/api/catalog", "catalog");
    gr_error_t err;
    REQUIRE(gr_router_add(host, "GET", "/.backstage/health/v1/readiness", h_a, NULL, &err) == 0);
    REQUIRE(gr_router_add(cat, "GET", "/entities", h_b, NULL, &err) == 0);
    gr_route_match_t m;
    char allow[64];
    REQUIRE(gr_route_table_match(t, "GET", "/.backstage/health/v1/readiness", &m, allow,
                                 sizeof allow) == GR_ROUTE_FOUND);
    CHECK_STR(m.plugin_id, "");
    gr_route_match_clear(&m);
    REQUIRE(gr_route_table_match(t, "GET", "/api/catalog/entities", &m, allow, sizeof allow) ==
            GR_ROUTE_FOUND);
    CHECK_STR(m.plugin_id, "catalog");
    gr_route_match_clear(&m);
    gr_route_table_free(t);
}

TEST_MAIN(TEST_ENTRY(params_are_captured_and_decoded_per_segment),
          TEST_ENTRY(literal_beats_param_whatever_the_order),
          TEST_ENTRY(more_specific_position_wins_and_param_beats_star),
          TEST_ENTRY(star_captures_the_decoded_rest),
          TEST_ENTRY(trailing_slash_is_ignored_and_empty_segments_match_nothing),
          TEST_ENTRY(method_not_allowed_lists_allowed_methods),
          TEST_ENTRY(bad_patterns_and_duplicates_are_refused_with_a_reason),
          TEST_ENTRY(host_routes_and_plugin_routes_share_the_table))
