/* tests/catalog/test_central_config_github.c: the central-config
 * provider's github source (source_github.c, github_mirror.c) against a
 * fake GitHub on loopback (tests/unit/support/fake_github_repo.c), through
 * the host's real GitHub client (ETag cache, auth, errors), HTTP client and
 * thread pool; the mirror it leaves is then read by the provider's scan.
 *
 * GET /repos/{owner}/{repo} is answered from the recorded example
 * shared/testdata/github-api/rest/openapi-examples/full-repository-default-response.json
 * (its name and default_branch set to the fake repository's).  The
 * testdata holds no example of commits, git/trees or git/blobs answers;
 * the fake writes them in GitHub's documented shapes, blob content in
 * base64 wrapped every 60 characters as GitHub sends it. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "api_impl.h"
#include "central_config.h"
#include "config_tree.h"
#include "fake_github_repo.h"
#include "github_client.h"
#include "http_client.h"
#include "log.h"
#include "loop_wait.h"
#include "test.h"
#include "work.h"

#define REPO_DOCUMENT                                                                              \
    GR_TEST_TESTDATA "/github-api/rest/openapi-examples/full-repository-default-response.json"
#define GOOD_TOKEN "ghp_0000000000000000000000000000000000good"
#define BAD_TOKEN "ghp_00000000000000000000000000000revoked"
#define MAX_FILE_BYTES 4096

/* ---- the fixture: a host's services without the host ----------------------------------- */

typedef struct fx {
    uv_loop_t loop;
    FILE *log_file;
    gr_log_t *log;
    gr_http_client_t *http;
    gr_github_client_t *ghc;
    gr_config_doc_t *integrations;
    gr_work_pool_t *pool;
    gr_host_api_t api;
    gr_context_t ctx;
    cc_module_t mod;
    gr_fake_repo_t *repo;
    char state[64];
} fx_t;

/* Modules reach the thread pool through their context; here the context
 * is the fixture's own, so its table sends work to the fixture's pool. */
static int fx_work_submit(gr_context_t *ctx, gr_work_fn work, gr_work_done_fn done, void *ud,
                          gr_error_t *err)
{
    fx_t *fx = (fx_t *)((char *)ctx - offsetof(fx_t, ctx));
    return gr_work_pool_submit(fx->pool, work, done, ud, err);
}

static int fx_setup(fx_t *fx)
{
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    memset(fx, 0, sizeof *fx);
    uv_loop_init(&fx->loop);
    fx->log_file = tmpfile();
    fx->log = gr_log_root_new(fx->log_file, GR_LOG_DEBUG, GR_LOG_FORMAT_PRETTY);
    fx->repo = gr_fake_repo_new(&fx->loop, "acme/config", "main", REPO_DOCUMENT);
    if (!fx->repo)
        return 0;
    gr_fake_repo_refuse_token(fx->repo, BAD_TOKEN);
    gr_http_client_options_t hopts = {.retry_base_ms = 10};
    fx->http = gr_http_client_new(&fx->loop, fx->log, NULL, &hopts);
    /* github.com and a GitHub Enterprise host, both played by the fake;
     * the Enterprise token is one the fake refuses. */
    char *yaml = gr_xasprintf("integrations:\n"
                              "  github:\n"
                              "    - host: github.com\n"
                              "      apiBaseUrl: %s\n"
                              "      token: " GOOD_TOKEN "\n"
                              "    - host: ghe.example.com\n"
                              "      apiBaseUrl: %s/api/v3\n"
                              "      token: " BAD_TOKEN "\n",
                              gr_fake_repo_url(fx->repo), gr_fake_repo_url(fx->repo));
    gr_error_t err = {0};
    fx->integrations = gr_config_doc_parse("integrations.yaml", yaml, strlen(yaml), &err);
    free(yaml);
    if (!fx->integrations)
        return 0;
    fx->ghc = gr_github_client_new(
        &fx->loop, fx->log, NULL, fx->http,
        gr_config_get(gr_config_doc_root(fx->integrations), "integrations.github"), NULL, &err);
    if (!fx->ghc) {
        fprintf(stderr, "github client: %s\n", err.message);
        return 0;
    }
    fx->pool = gr_work_pool_new(&fx->loop);
    fx->api = gr__host_api;
    fx->api.work_submit = fx_work_submit;
    snprintf(fx->state, sizeof fx->state, "/tmp/gr-cc-github-XXXXXX");
    if (!mkdtemp(fx->state))
        return 0;
    fx->ctx = (gr_context_t){.api = &fx->api,
                             .size = sizeof(gr_context_t),
                             .plugin_id = "catalog",
                             .module_id = "central-config",
                             .log = fx->log,
                             .http = fx->http,
                             .state_dir = fx->state,
                             .loop = &fx->loop};
    fx->mod.ctx = &fx->ctx;
    return 1;
}

static void fx_teardown(fx_t *fx)
{
    gr_github_client_shutdown(fx->ghc);
    gr_http_client_shutdown(fx->http);
    gr_work_pool_cancel_all(fx->pool, NULL, NULL);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    gr_work_pool_free(fx->pool);
    gr_github_client_free(fx->ghc);
    gr_http_client_free(fx->http);
    gr_fake_repo_free(fx->repo);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&fx->loop) == 0);
    gr_config_doc_free(fx->integrations);
    gr_log_free(fx->log);
    fclose(fx->log_file);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->state);
    CHECK(system(cmd) == 0);
}

/* ---- a provider with a github source ------------------------------------------------------ */

typedef struct provider {
    cc_provider_t p;
    gr_config_doc_t *doc;
} provider_t;

/* source_yaml: the flow mapping of source:, e.g. "{type: github, repo: acme/config}". */
static int provider_init(fx_t *fx, provider_t *pv, const char *id, const char *source_yaml,
                         gr_error_t *err)
{
    memset(pv, 0, sizeof *pv);
    cc_provider_t *p = &pv->p;
    p->mod = &fx->mod;
    p->id = gr_xstrdup(id);
    gr_strvec_push(&p->scan.include, "**/*.yaml");
    p->scan.max_file_bytes = MAX_FILE_BYTES;
    gr_strvec_push(&p->select.include, "**/*.yaml");
    p->select.max_file_bytes = MAX_FILE_BYTES;
    char *yaml = gr_xasprintf("source: %s\n", source_yaml);
    pv->doc = gr_config_doc_parse("app-config.yaml", yaml, strlen(yaml), err);
    free(yaml);
    if (!pv->doc)
        return err->code;
    /* As the provider builds it (module.c). */
    char *work_dir = gr_xasprintf("central-config/%s", id);
    char *label = gr_xasprintf("provider %s", id);
    int rc =
        cc_source_init(&p->source, &fx->ctx, gr_config_get(gr_config_doc_root(pv->doc), "source"),
                       work_dir, label, &p->select, err);
    free(work_dir);
    free(label);
    return rc;
}

static void provider_free(provider_t *pv)
{
    cc_source_free(&pv->p.source);
    cc_selection_free(&pv->p.select);
    cc_scan_options_free(&pv->p.scan);
    free(pv->p.id);
    gr_config_doc_free(pv->doc);
}

typedef struct outcome {
    int done;
    int calls;
    int status;
    char *message;
    char *root;
    char *revision;
} outcome_t;

static void outcome_reset(outcome_t *o)
{
    free(o->message);
    free(o->root);
    free(o->revision);
    memset(o, 0, sizeof *o);
}

static void on_fetched(cc_source_t *src, int status, const char *message, const char *root,
                       const char *revision, void *ud)
{
    (void)src;
    outcome_t *o = ud;
    o->done = 1;
    o->calls++;
    o->status = status;
    o->message = message ? gr_xstrdup(message) : NULL;
    o->root = root ? gr_xstrdup(root) : NULL;
    o->revision = revision ? gr_xstrdup(revision) : NULL;
}

/* One fetch, start to end; the fake's request log holds its requests only. */
static int fetch(fx_t *fx, provider_t *pv, outcome_t *o)
{
    outcome_reset(o);
    gr_fake_repo_forget_hits(fx->repo);
    pv->p.source.ops->fetch(&pv->p.source, 20000, on_fetched, o);
    /* The answer never comes from inside the call. */
    CHECK(o->done == 0);
    int ok = gr_test_run_until(&fx->loop, &o->done, 20000);
    /* Let anything that would wrongly call back twice do so now. */
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    CHECK(o->calls == 1);
    if (o->status != 0)
        fprintf(stderr, "fetch: %d %s\n", o->status, o->message ? o->message : "");
    return ok;
}

static char *slurp(const char *dir, const char *rel, size_t *len)
{
    char *path = gr_xasprintf("%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f)
        return NULL;
    gr_buf_t b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        gr_buf_append(&b, chunk, n);
    fclose(f);
    if (len)
        *len = b.len;
    return b.data ? gr_buf_steal(&b) : gr_xstrdup("");
}

static int exists(const char *dir, const char *rel)
{
    char *path = gr_xasprintf("%s/%s", dir, rel);
    struct stat st;
    int ok = lstat(path, &st) == 0;
    free(path);
    return ok;
}

/* The file under root has exactly these bytes. */
static int holds(const char *root, const char *rel, const char *text)
{
    size_t len = 0;
    char *data = slurp(root, rel, &len);
    int same = data && len == strlen(text) && memcmp(data, text, len) == 0;
    if (!same)
        fprintf(stderr, "%s/%s: %s\n", root, rel, data ? "other content" : "missing");
    free(data);
    return same;
}

static size_t blob_requests(fx_t *fx, const char *path)
{
    char *prefix = gr_xasprintf("+/git/blobs/%s", gr_fake_repo_blob_sha(fx->repo, path));
    size_t n = gr_fake_repo_count(fx->repo, prefix);
    free(prefix);
    return n;
}

static char *manifest_commit(const char *root)
{
    char *path = gr_xasprintf("%s/../manifest.json", root);
    struct json_object *m = json_object_from_file(path), *c;
    free(path);
    char *commit = m && json_object_object_get_ex(m, "commit", &c)
                       ? gr_xstrdup(json_object_get_string(c))
                       : NULL;
    json_object_put(m);
    return commit;
}

/* ---- the repository ------------------------------------------------------------------------- */

#define COMPONENT(name, extra)                                                                     \
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: " name "\n" extra      \
    "spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"

/* Non-ASCII text, and lengths of 3n+1 and 3n+2 bytes, so padding and
 * wrapped lines of the base64 both occur. */
static const char TEAM_A[] = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n"
                             "  name: team-a\n  description: \"Caf\xc3\xa9 \xe2\x98\x95 team\"\n"
                             "spec:\n  type: team\n  children: []\n";
static const char TEAM_A_V2[] = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n"
                                "  name: team-a\n  description: second version\n"
                                "spec:\n  type: team\n  children: []\n#\n";
static const char API[] = "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n"
                          "  name: orders-api\nspec:\n  type: openapi\n  lifecycle: production\n"
                          "  owner: team-a\n  definition:\n    $text: ./openapi.txt\n";
static const char OPENAPI[] = "openapi: 3.0.0\ninfo: {title: Orders, version: '1'}\npaths: {}\n";
static const char EMPTY[] = "# nothing here yet\n";
static const char README[] = "# The config repository\n";

static void fill_repo(gr_fake_repo_t *r)
{
    gr_fake_repo_put_str(r, "catalog-info.yaml", COMPONENT("svc-one", ""));
    gr_fake_repo_put_str(r, "teams/team-a.yaml", TEAM_A);
    gr_fake_repo_put_str(r, "services/api.yaml", API);
    /* Not selected by the include globs, but the API's placeholder names it. */
    gr_fake_repo_put_str(r, "services/openapi.txt", OPENAPI);
    /* Neither selected nor named: never fetched. */
    gr_fake_repo_put_str(r, "docs/readme.md", README);
    /* Two paths, one blob: fetched once. */
    gr_fake_repo_put_str(r, "empty/one.yaml", EMPTY);
    gr_fake_repo_put_str(r, "empty/two.yaml", EMPTY);
    /* Over maxFileBytes: the scan reports it without it being fetched. */
    char *big = gr_xmalloc(MAX_FILE_BYTES + 100);
    memset(big, '#', MAX_FILE_BYTES + 100);
    gr_fake_repo_put(r, "big.yaml", big, MAX_FILE_BYTES + 100);
    free(big);
    /* A link is not mirrored (its blob is the name of its target). */
    gr_fake_repo_put_link(r, "link.yaml", "catalog-info.yaml");
}

static const cc_scan_entity_t *entity_for(const cc_scan_result_t *r, const char *ref)
{
    for (size_t i = 0; i < r->nentities; i++)
        if (strcmp(r->entities[i].ref, ref) == 0)
            return &r->entities[i];
    return NULL;
}

/* ---- tests ---------------------------------------------------------------------------------- */

TEST(first_sync_mirrors_what_the_provider_reads_and_the_scan_ingests_it)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx));
    fill_repo(fx.repo);
    const char *sha = gr_fake_repo_commit(fx.repo);
    provider_t pv;
    gr_error_t err = {0};
    REQUIRE(provider_init(&fx, &pv, "platform", "{type: github, repo: acme/config, branch: main}",
                          &err) == 0);
    outcome_t o = {0};
    REQUIRE(fetch(&fx, &pv, &o));
    CHECK(o.status == 0);
    CHECK_STR(o.revision, sha);
    char *want_root = gr_xasprintf("%s/central-config/platform/github/tree", fx.state);
    CHECK_STR(o.root, want_root);
    free(want_root);
    REQUIRE(o.root != NULL);

    /* The commit (sha only), one recursive tree, and five blobs: four
     * selected or named files plus one blob for the two identical files. */
    const gr_fake_hit_t *first = gr_fake_repo_hit(fx.repo, 0);
    REQUIRE(first != NULL);
    CHECK_STR(first->target, "/repos/acme/config/commits/main");
    CHECK_CONTAINS(first->accept, "application/vnd.github.sha");
    CHECK_STR(first->authorization, "token " GOOD_TOKEN);
    char *tree_target = gr_xasprintf("+/git/trees/%s?recursive=1", sha);
    CHECK(gr_fake_repo_count(fx.repo, tree_target) == 1);
    free(tree_target);
    CHECK(gr_fake_repo_count(fx.repo, "+/git/blobs/") == 5);
    CHECK(gr_fake_repo_hits(fx.repo) == 7);
    CHECK(blob_requests(&fx, "catalog-info.yaml") == 1);
    CHECK(blob_requests(&fx, "services/openapi.txt") == 1);
    CHECK(blob_requests(&fx, "empty/one.yaml") == 1);
    CHECK(blob_requests(&fx, "docs/readme.md") == 0);
    CHECK(blob_requests(&fx, "big.yaml") == 0);

    /* Decoded byte for byte (base64 in 60-character lines). */
    CHECK(holds(o.root, "catalog-info.yaml", COMPONENT("svc-one", "")));
    CHECK(holds(o.root, "teams/team-a.yaml", TEAM_A));
    CHECK(holds(o.root, "services/api.yaml", API));
    CHECK(holds(o.root, "services/openapi.txt", OPENAPI));
    CHECK(holds(o.root, "empty/one.yaml", EMPTY));
    CHECK(holds(o.root, "empty/two.yaml", EMPTY));
    CHECK(!exists(o.root, "docs/readme.md"));
    CHECK(!exists(o.root, "link.yaml"));
    char *manifest = manifest_commit(o.root);
    CHECK_STR(manifest, sha);
    free(manifest);

    /* The provider's scan reads the mirror. */
    char *prefix = pv.p.source.ops->location_prefix(&pv.p.source, o.root);
    CHECK_STR(prefix, "url:https://github.com/acme/config/blob/main/");
    cc_scan_options_t opts = pv.p.scan;
    opts.root = o.root;
    opts.location_prefix = prefix;
    cc_scan_result_t r;
    cc_scan(&opts, &r);
    CHECK(r.status == 0);
    CHECK(r.nentities == 3);
    const cc_scan_entity_t *svc = entity_for(&r, "component:default/svc-one");
    REQUIRE(svc != NULL);
    CHECK_STR(svc->location, "url:https://github.com/acme/config/blob/main/catalog-info.yaml");
    const cc_scan_entity_t *api = entity_for(&r, "api:default/orders-api");
    REQUIRE(api != NULL);
    CHECK_STR(json_object_get_string(json_object_object_get(
                  json_object_object_get(api->entity, "spec"), "definition")),
              OPENAPI);
    const cc_scan_entity_t *team = entity_for(&r, "group:default/team-a");
    REQUIRE(team != NULL);
    CHECK_STR(json_object_get_string(json_object_object_get(
                  json_object_object_get(team->entity, "metadata"), "description")),
              "Caf\xc3\xa9 \xe2\x98\x95 team");
    /* The oversized file is reported as the directory source would. */
    CHECK(r.nerrors == 1);
    if (r.nerrors) {
        CHECK_STR(r.errors[0].path, "big.yaml");
        CHECK_CONTAINS(r.errors[0].message, "maxFileBytes");
    }
    cc_scan_result_free(&r);
    free(prefix);

    struct json_object *desc = json_object_new_object();
    pv.p.source.ops->describe(&pv.p.source, desc);
    CHECK_STR(json_object_to_json_string_ext(desc, JSON_C_TO_STRING_PLAIN |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE),
              "{\"type\":\"github\",\"host\":\"github.com\",\"repo\":\"acme/config\","
              "\"branch\":\"main\"}");
    json_object_put(desc);

    outcome_reset(&o);
    provider_free(&pv);
    fx_teardown(&fx);
}

TEST(an_unchanged_commit_costs_one_conditional_request_and_a_change_fetches_only_new_blobs)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx));
    fill_repo(fx.repo);
    const char *sha1 = gr_fake_repo_commit(fx.repo);
    char *first_sha = gr_xstrdup(sha1);
    provider_t pv;
    gr_error_t err = {0};
    REQUIRE(provider_init(&fx, &pv, "platform", "{type: github, repo: acme/config, branch: main}",
                          &err) == 0);
    outcome_t o = {0};
    REQUIRE(fetch(&fx, &pv, &o));
    REQUIRE(o.status == 0);

    /* Same commit: one request, answered 304 from the ETag cache. */
    REQUIRE(fetch(&fx, &pv, &o));
    CHECK(o.status == 0);
    CHECK_STR(o.revision, first_sha);
    CHECK(gr_fake_repo_hits(fx.repo) == 1);
    const gr_fake_hit_t *h = gr_fake_repo_hit(fx.repo, 0);
    REQUIRE(h != NULL);
    CHECK_STR(h->target, "/repos/acme/config/commits/main");
    char *etag = gr_xasprintf("\"%s\"", first_sha);
    CHECK_STR(h->if_none_match, etag);
    free(etag);
    CHECK(h->status == 304);
    CHECK(holds(o.root, "catalog-info.yaml", COMPONENT("svc-one", "")));

    /* One file changed, one added, one deleted. */
    gr_fake_repo_put_str(fx.repo, "teams/team-a.yaml", TEAM_A_V2);
    gr_fake_repo_put_str(fx.repo, "services/new.yaml", COMPONENT("svc-new", ""));
    gr_fake_repo_remove(fx.repo, "catalog-info.yaml");
    const char *sha2 = gr_fake_repo_commit(fx.repo);
    CHECK(strcmp(sha2, first_sha) != 0);
    REQUIRE(fetch(&fx, &pv, &o));
    CHECK(o.status == 0);
    CHECK_STR(o.revision, sha2);
    CHECK(gr_fake_repo_count(fx.repo, "+/commits/") == 1);
    CHECK(gr_fake_repo_hit(fx.repo, 0)->status == 200);
    CHECK(gr_fake_repo_count(fx.repo, "+/git/trees/") == 1);
    CHECK(gr_fake_repo_count(fx.repo, "+/git/blobs/") == 2);
    CHECK(blob_requests(&fx, "teams/team-a.yaml") == 1);
    CHECK(blob_requests(&fx, "services/new.yaml") == 1);
    CHECK(holds(o.root, "teams/team-a.yaml", TEAM_A_V2));
    CHECK(holds(o.root, "services/new.yaml", COMPONENT("svc-new", "")));
    CHECK(!exists(o.root, "catalog-info.yaml"));
    /* Untouched files stay, unfetched. */
    CHECK(holds(o.root, "services/openapi.txt", OPENAPI));
    CHECK(holds(o.root, "empty/two.yaml", EMPTY));
    char *manifest = manifest_commit(o.root);
    CHECK_STR(manifest, sha2);
    free(manifest);

    /* A mirrored file that went missing is fetched again with the next
     * commit, though its blob did not change. */
    char *lost = gr_xasprintf("%s/services/openapi.txt", o.root);
    CHECK(unlink(lost) == 0);
    free(lost);
    gr_fake_repo_put_str(fx.repo, "services/new.yaml", COMPONENT("svc-new", "  title: New\n"));
    const char *sha3 = gr_fake_repo_commit(fx.repo);
    REQUIRE(fetch(&fx, &pv, &o));
    CHECK(o.status == 0);
    CHECK_STR(o.revision, sha3);
    CHECK(gr_fake_repo_count(fx.repo, "+/git/blobs/") == 2);
    CHECK(blob_requests(&fx, "services/openapi.txt") == 1);
    CHECK(holds(o.root, "services/openapi.txt", OPENAPI));

    /* A restart keeps the mirror: a new source finds the manifest's
     * commit and fetches nothing but the commit. */
    provider_free(&pv);
    REQUIRE(provider_init(&fx, &pv, "platform", "{type: github, repo: acme/config, branch: main}",
                          &err) == 0);
    REQUIRE(fetch(&fx, &pv, &o));
    CHECK(o.status == 0);
    CHECK(gr_fake_repo_hits(fx.repo) == 1);
    CHECK(gr_fake_repo_count(fx.repo, "+/commits/main") == 1);

    free(first_sha);
    outcome_reset(&o);
    provider_free(&pv);
    fx_teardown(&fx);
}

TEST(without_a_branch_the_repository_default_branch_is_read_once)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx));
    fill_repo(fx.repo);
    const char *sha = gr_fake_repo_commit(fx.repo);
    provider_t pv;
    gr_error_t err = {0};
    REQUIRE(provider_init(&fx, &pv, "defaults", "{type: github, repo: acme/config}", &err) == 0);
    outcome_t o = {0};
    REQUIRE(fetch(&fx, &pv, &o));
    CHECK(o.status == 0);
    CHECK_STR(o.revision, sha);
    CHECK_STR(gr_fake_repo_hit(fx.repo, 0)->target, "/repos/acme/config");
    CHECK_STR(gr_fake_repo_hit(fx.repo, 1)->target, "/repos/acme/config/commits/main");
    char *prefix = pv.p.source.ops->location_prefix(&pv.p.source, o.root);
    CHECK_STR(prefix, "url:https://github.com/acme/config/blob/main/");
    free(prefix);

    REQUIRE(fetch(&fx, &pv, &o));
    CHECK(o.status == 0);
    CHECK(gr_fake_repo_hits(fx.repo) == 1);
    CHECK(gr_fake_repo_hit(fx.repo, 0)->status == 304);

    outcome_reset(&o);
    provider_free(&pv);
    fx_teardown(&fx);
}

TEST(github_errors_reach_the_status_with_githubs_message)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx));
    fill_repo(fx.repo);
    gr_fake_repo_commit(fx.repo);
    gr_error_t err = {0};
    outcome_t o = {0};

    provider_t missing;
    REQUIRE(provider_init(&fx, &missing, "missing", "{type: github, repo: acme/missing}", &err) ==
            0);
    REQUIRE(fetch(&fx, &missing, &o));
    CHECK(o.status == GR_ERR_NOT_FOUND);
    CHECK_CONTAINS(o.message, "GitHub GET /repos/acme/missing: 404 Not Found");
    CHECK_CONTAINS(o.message, "does acme/missing exist on github.com");
    CHECK(o.root == NULL && o.revision == NULL);
    provider_free(&missing);

    /* GitHub Enterprise: the integration's apiBaseUrl and token are used,
     * and the token is refused. */
    provider_t ghe;
    REQUIRE(provider_init(&fx, &ghe, "enterprise",
                          "{type: github, repo: acme/config, branch: main, host: ghe.example.com}",
                          &err) == 0);
    REQUIRE(fetch(&fx, &ghe, &o));
    CHECK(o.status == GR_ERR_INVALID);
    CHECK_CONTAINS(o.message, "401 Bad credentials");
    CHECK_CONTAINS(o.message, "integrations.github host ghe.example.com");
    CHECK_STR(gr_fake_repo_hit(fx.repo, 0)->target, "/api/v3/repos/acme/config/commits/main");
    CHECK_STR(gr_fake_repo_hit(fx.repo, 0)->authorization, "token " BAD_TOKEN);
    provider_free(&ghe);

    provider_t branch;
    REQUIRE(provider_init(&fx, &branch, "branch", "{type: github, repo: acme/config, branch: nope}",
                          &err) == 0);
    REQUIRE(fetch(&fx, &branch, &o));
    CHECK(o.status == GR_ERR_INVALID);
    CHECK_CONTAINS(o.message, "422 No commit found for SHA: nope");
    CHECK_CONTAINS(o.message, "is there a branch 'nope'");
    provider_free(&branch);

    /* Mistakes in the source's config stop the provider at start. */
    provider_t bad;
    CHECK(provider_init(&fx, &bad, "bad", "{type: github, repo: acme}", &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "repo: <owner>/<name>");
    provider_free(&bad);
    CHECK(provider_init(&fx, &bad, "bad", "{type: github, repo: acme/x, host: gitlab.example.com}",
                        &err) == GR_ERR_NOT_FOUND);
    CHECK_CONTAINS(err.message, "no integrations.github entry has host 'gitlab.example.com'");
    provider_free(&bad);

    outcome_reset(&o);
    fx_teardown(&fx);
}

TEST(a_truncated_tree_is_walked_one_directory_at_a_time)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx));
    fill_repo(fx.repo);
    const char *sha = gr_fake_repo_commit(fx.repo);
    gr_fake_repo_truncate_over(fx.repo, 3);
    provider_t pv;
    gr_error_t err = {0};
    REQUIRE(provider_init(&fx, &pv, "walk", "{type: github, repo: acme/config, branch: main}",
                          &err) == 0);
    outcome_t o = {0};
    REQUIRE(fetch(&fx, &pv, &o));
    CHECK(o.status == 0);
    CHECK_STR(o.revision, sha);
    /* The truncated recursive listing, then the root and its four
     * directories (docs, empty, services, teams). */
    CHECK(gr_fake_repo_count(fx.repo, "+/git/trees/") == 6);
    CHECK(gr_fake_repo_count(fx.repo, "+/git/blobs/") == 5);
    CHECK(holds(o.root, "teams/team-a.yaml", TEAM_A));
    CHECK(holds(o.root, "services/openapi.txt", OPENAPI));
    CHECK(holds(o.root, "empty/two.yaml", EMPTY));
    CHECK(!exists(o.root, "docs/readme.md"));
    outcome_reset(&o);
    provider_free(&pv);
    fx_teardown(&fx);
}

TEST(a_cancelled_fetch_ends_once_and_the_next_one_completes_the_mirror)
{
    fx_t fx;
    REQUIRE(fx_setup(&fx));
    fill_repo(fx.repo);
    const char *sha = gr_fake_repo_commit(fx.repo);
    provider_t pv;
    gr_error_t err = {0};
    REQUIRE(provider_init(&fx, &pv, "platform", "{type: github, repo: acme/config, branch: main}",
                          &err) == 0);
    outcome_t o = {0};
    pv.p.source.ops->fetch(&pv.p.source, 20000, on_fetched, &o);
    /* Stop once the blobs are being fetched. */
    while (!o.done && gr_fake_repo_count(fx.repo, "+/git/blobs/") == 0)
        uv_run(&fx.loop, UV_RUN_ONCE);
    pv.p.source.ops->cancel(&pv.p.source);
    pv.p.source.ops->cancel(&pv.p.source);
    REQUIRE(gr_test_run_until(&fx.loop, &o.done, 20000));
    uv_run(&fx.loop, UV_RUN_NOWAIT);
    CHECK(o.calls == 1);
    CHECK(o.status == GR_ERR_CANCELED);
    CHECK(o.root == NULL);

    REQUIRE(fetch(&fx, &pv, &o));
    CHECK(o.status == 0);
    CHECK_STR(o.revision, sha);
    CHECK(holds(o.root, "catalog-info.yaml", COMPONENT("svc-one", "")));
    CHECK(holds(o.root, "services/openapi.txt", OPENAPI));
    outcome_reset(&o);
    provider_free(&pv);
    fx_teardown(&fx);
}

TEST(base64_as_github_sends_it_decodes_and_garbage_is_refused)
{
    size_t n = 0;
    const char *wrapped = "aGVs\nbG8s\r\nIHdv\ncmxk\nIQ==\n";
    char *s = gr_base64_decode(wrapped, strlen(wrapped), &n);
    REQUIRE(s != NULL);
    CHECK(n == 13);
    CHECK_STR(s, "hello, world!");
    free(s);
    s = gr_base64_decode("", 0, &n);
    CHECK(s != NULL && n == 0);
    free(s);
    CHECK(gr_base64_decode("aGVsbG8*", 8, &n) == NULL);
    CHECK(gr_base64_decode("aGVsbG8=x", 9, &n) == NULL);
    CHECK(gr_base64_decode("aGVsbG", 6, &n) == NULL);
    char hex[41];
    cc_git_blob_sha1("", 0, hex);
    /* git's id of the empty blob. */
    CHECK_STR(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
}

TEST(placeholder_targets_are_found_in_yaml_and_json_and_resolved_against_the_file)
{
    gr_strvec_t t = {0};
    const char *yaml = "spec:\n  definition:\n    $text: ./openapi.yaml\n"
                       "  other: { $json: '../shared/x.json' }\n"
                       "  remote:\n    $text: https://example.com/a.yaml\n"
                       "  escape:\n    $yaml: ../../../etc/passwd  # no\n"
                       "  root:\n    $openapi: /apis/root.yaml\n";
    cc_placeholder_targets("services/a/api.yaml", yaml, strlen(yaml), &t);
    REQUIRE(t.len == 3);
    CHECK_STR(t.items[0], "services/a/openapi.yaml");
    CHECK_STR(t.items[1], "services/shared/x.json");
    CHECK_STR(t.items[2], "apis/root.yaml");
    gr_strvec_free(&t);
    const char *json = "{\"spec\":{\"definition\":{\"$text\":\"./d.txt\"}}}";
    cc_placeholder_targets("x.json", json, strlen(json), &t);
    REQUIRE(t.len == 1);
    CHECK_STR(t.items[0], "d.txt");
    gr_strvec_free(&t);
}

TEST_MAIN(
    TEST_ENTRY(first_sync_mirrors_what_the_provider_reads_and_the_scan_ingests_it),
    TEST_ENTRY(
        an_unchanged_commit_costs_one_conditional_request_and_a_change_fetches_only_new_blobs),
    TEST_ENTRY(without_a_branch_the_repository_default_branch_is_read_once),
    TEST_ENTRY(github_errors_reach_the_status_with_githubs_message),
    TEST_ENTRY(a_truncated_tree_is_walked_one_directory_at_a_time),
    TEST_ENTRY(a_cancelled_fetch_ends_once_and_the_next_one_completes_the_mirror),
    TEST_ENTRY(base64_as_github_sends_it_decodes_and_garbage_is_refused),
    TEST_ENTRY(placeholder_targets_are_found_in_yaml_and_json_and_resolved_against_the_file))
