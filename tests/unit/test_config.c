/* tests/unit/test_config.c: the config subsystem, end to end: files under
 * tests/fixtures/config/ are loaded, merged, substituted, validated against
 * schemas, read through the SDK's inline functions and printed. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <greenroom/config.h>

#include "config_tree.h"
#include "test.h"

/* Messages name files as the caller did; running from the fixture directory
 * keeps the expected strings short and exact. */
static void in_fixtures(void)
{
    if (chdir(GR_TEST_FIXTURES "/config") != 0) {
        perror("chdir " GR_TEST_FIXTURES "/config");
        exit(2);
    }
}

static gr_config_doc_t *load1(const char *path, gr_error_t *err)
{
    in_fixtures();
    const char *paths[] = {path};
    return gr_config_doc_load(paths, 1, err);
}

static gr_config_doc_t *parse_text(const char *text, gr_error_t *err)
{
    return gr_config_doc_parse("inline.yaml", text, strlen(text), err);
}

static const char *where(const gr_config_t *node)
{
    static char buf[256];
    gr_config_where(node, buf, sizeof buf);
    return buf;
}

static int has_line(const gr_strvec_t *v, const char *line)
{
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->items[i], line) == 0)
            return 1;
    fprintf(stderr, "missing line: %s\nhave:\n", line);
    for (size_t i = 0; i < v->len; i++)
        fprintf(stderr, "  %s\n", v->items[i]);
    return 0;
}

static char *print_doc(const gr_config_doc_t *doc, int redact)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    gr_config_doc_print(doc, f, redact);
    fclose(f);
    return text;
}

/* ---- loading and merging ------------------------------------------------ */

TEST(merge_two_files)
{
    in_fixtures();
    const char *paths[] = {"merge-base.yaml", "merge-local.yaml"};
    gr_error_t err = {0};
    gr_config_doc_t *doc = gr_config_doc_load(paths, 2, &err);
    REQUIRE(doc);
    const gr_config_t *root = gr_config_doc_root(doc);

    /* Scalars: the later file wins and carries its own position. */
    CHECK(gr_config_int(root, "backend.listen.port", 0) == 8080);
    CHECK_STR(where(gr_config_get(root, "backend.listen.port")), "merge-local.yaml:4:11");
    /* Maps merge: keys only the first file has survive, with its positions. */
    CHECK_STR(gr_config_string(root, "backend.listen.host", NULL), "127.0.0.1");
    CHECK_STR(where(gr_config_get(root, "backend.listen.host")), "merge-base.yaml:6:11");
    CHECK_STR(gr_config_string(root, "backend.baseUrl", NULL), "http://localhost:7007");
    CHECK_STR(gr_config_string(root, "app.title", NULL), "Greenroom");
    CHECK(gr_config_bool(root, "catalog.readonly", 0) == 1);
    CHECK_STR(where(gr_config_get(root, "catalog.readonly")), "merge-local.yaml:11:13");
    /* Lists replace whole. */
    const gr_config_t *origin = gr_config_get(root, "backend.cors.origin");
    CHECK(gr_config_kind(origin) == GR_CONFIG_ARRAY);
    CHECK(gr_config_size(origin) == 1);
    CHECK_STR(gr_config_string(origin, "0", NULL), "http://c.example");
    CHECK_STR(where(origin), "merge-local.yaml:7:7");
    const gr_config_t *rules = gr_config_get(root, "catalog.rules");
    CHECK(gr_config_size(rules) == 1);
    CHECK_STR(gr_config_string(rules, "0.allow.0", NULL), "Group");
    /* Top-level order is the first file's, then new keys. */
    CHECK_STR(gr_config_key_at(root, 0), "app");
    CHECK_STR(gr_config_key_at(root, 1), "backend");
    CHECK_STR(gr_config_key_at(root, 2), "catalog");
    CHECK(gr_config_size(root) == 3);
    gr_config_doc_free(doc);
}

TEST(missing_file_is_an_io_error)
{
    in_fixtures();
    const char *paths[] = {"merge-base.yaml", "no-such-config.yaml"};
    gr_error_t err = {0};
    gr_config_doc_t *doc = gr_config_doc_load(paths, 2, &err);
    CHECK(!doc);
    CHECK(err.code == GR_ERR_IO);
    CHECK_STR(err.message,
              "cannot read config file 'no-such-config.yaml': No such file or directory");
}

TEST(empty_file_is_an_empty_map)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = load1("empty.yaml", &err);
    REQUIRE(doc);
    CHECK(gr_config_kind(gr_config_doc_root(doc)) == GR_CONFIG_OBJECT);
    CHECK(gr_config_size(gr_config_doc_root(doc)) == 0);
    gr_config_doc_free(doc);
}

TEST(syntax_error_has_position)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = load1("syntax-error.yaml", &err);
    CHECK(!doc);
    CHECK(err.code == GR_ERR_INVALID);
    CHECK_STR(err.message, "syntax-error.yaml:4:4: YAML syntax error: did not find expected key "
                           "(while parsing a block mapping that starts at 2:3)");
}

TEST(duplicate_key_is_an_error)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = load1("duplicate-key.yaml", &err);
    CHECK(!doc);
    CHECK_STR(err.message, "duplicate-key.yaml:5:3: backend: duplicate key 'listen' (first set "
                           "at line 2)");
}

TEST(top_level_must_be_a_map)
{
    gr_error_t err = {0};
    CHECK(!parse_text("- a\n- b\n", &err));
    CHECK_STR(err.message,
              "inline.yaml:1:1: the top level of a config file must be a map of keys, got a list");
}

TEST(second_document_is_refused)
{
    gr_error_t err = {0};
    CHECK(!parse_text("a: 1\n---\nb: 2\n", &err));
    CHECK_CONTAINS(err.message, "inline.yaml:2:1: a second YAML document starts here");
    /* A single document may still open with "---". */
    gr_config_doc_t *doc = parse_text("---\na: 1\n", &err);
    CHECK(doc);
    gr_config_doc_free(doc);
}

TEST(aliases_are_copied)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = load1("aliases.yaml", &err);
    REQUIRE(doc);
    const gr_config_t *root = gr_config_doc_root(doc);
    gr_schedule_t a = {0}, b = {0};
    CHECK(gr_config_schedule(root, "catalog.a.schedule", &a, &err) == 0);
    CHECK(gr_config_schedule(root, "catalog.b.schedule", &b, &err) == 0);
    CHECK(a.frequency_ms == 3600000 && a.timeout_ms == 600000);
    CHECK(b.frequency_ms == 3600000 && b.timeout_ms == 600000);
    /* Copies are independent nodes whose path is where they were used. */
    CHECK(gr_config_get(root, "catalog.a.schedule") != gr_config_get(root, "catalog.b.schedule"));
    gr_config_doc_free(doc);

    CHECK(!parse_text("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n", &err));
    CHECK_CONTAINS(err.message, "inline.yaml:3:3: merge keys ('<<') are not supported");
    CHECK(!parse_text("a: *nowhere\n", &err));
    CHECK_STR(err.message, "inline.yaml:1:4: alias '*nowhere' names no anchor defined before it");
}

TEST(hostile_input_is_bounded)
{
    /* "A billion laughs": each level multiplies the one before by ten. */
    gr_buf_t b = {0};
    gr_buf_puts(&b, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i <= 6; i++)
        gr_buf_printf(&b,
                      "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n", i,
                      i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    gr_error_t err = {0};
    CHECK(!parse_text(b.data, &err));
    CHECK_CONTAINS(err.message, "aliases expand to more than 500000 values");
    gr_buf_reset(&b);

    gr_buf_puts(&b, "deep: ");
    for (int i = 0; i < 300; i++)
        gr_buf_puts(&b, "[");
    for (int i = 0; i < 300; i++)
        gr_buf_puts(&b, "]");
    CHECK(!parse_text(b.data, &err));
    CHECK_CONTAINS(err.message, "values are nested more than 200 levels deep");
    gr_buf_free(&b);

    CHECK(!parse_text("a: &a\n  b: *a\n", &err));
    CHECK_STR(err.message, "inline.yaml:2:6: alias '*a' refers to a node that contains it");
}

/* ---- substitutions -------------------------------------------------------- */

TEST(variable_substitution)
{
    setenv("GR_TEST_HOST", "example.org", 1);
    setenv("GR_TEST_PORT", "9090", 1);
    setenv("GR_TEST_EMPTY", "", 1);
    setenv("GR_TEST_TOKEN", "ghp_token_from_env", 1);
    unsetenv("GR_TEST_UNSET_VAR");
    gr_error_t err = {0};
    gr_config_doc_t *doc = load1("subst.yaml", &err);
    if (!doc)
        fprintf(stderr, "%s\n", err.message);
    REQUIRE(doc);
    const gr_config_t *b = gr_config_get(gr_config_doc_root(doc), "backend");
    CHECK_STR(gr_config_string(b, "baseUrl", NULL), "http://example.org:9090/api");
    CHECK(gr_config_int(b, "listen.port", 0) == 9090);
    CHECK_STR(gr_config_string(b, "fallback", NULL), "fallback");
    /* ":-" also replaces an empty value, as in the shell... */
    CHECK_STR(gr_config_string(b, "emptyFallback", NULL), "was-empty");
    /* ...while a plain ${VAR} that is set but empty is just empty. */
    CHECK_STR(gr_config_string(b, "emptyPlain", NULL), "[]");
    CHECK_STR(gr_config_string(b, "literal", NULL), "${GR_TEST_HOST}");
    CHECK_STR(gr_config_string(b, "template", NULL), "${{ values.name }}");
    CHECK_STR(gr_config_string(b, "price", NULL), "costs $5");

    const gr_config_t *gh = gr_config_get(gr_config_doc_root(doc), "integrations.github.0");
    CHECK_STR(gr_config_string(gh, "token", NULL), "ghp_token_from_env");
    /* $file: relative to the config file, the trailing newline dropped. */
    CHECK_STR(gr_config_string(gh, "appKey", NULL),
              "-----BEGIN KEY-----\nabc123\n-----END KEY-----");
    CHECK_STR(where(gr_config_get(gh, "appKey")), "subst.yaml:16:9");

    gr_strvec_t secrets = {0};
    gr_config_doc_secrets(doc, &secrets);
    CHECK(gr_strvec_contains(&secrets, "ghp_token_from_env"));
    CHECK(gr_strvec_contains(&secrets, "-----BEGIN KEY-----\nabc123\n-----END KEY-----"));
    CHECK(!gr_strvec_contains(&secrets, "example.org"));
    CHECK(secrets.len == 2);
    gr_strvec_free(&secrets);
    gr_config_doc_free(doc);
}

TEST(unset_variable_is_an_error)
{
    unsetenv("GR_TEST_DB_PASSWORD_UNSET");
    gr_error_t err = {0};
    CHECK(!load1("subst-unset.yaml", &err));
    CHECK(err.code == GR_ERR_INVALID);
    CHECK_STR(err.message,
              "subst-unset.yaml:4:17: backend.database.connection.password: environment "
              "variable 'GR_TEST_DB_PASSWORD_UNSET' is not set (write "
              "${GR_TEST_DB_PASSWORD_UNSET:-default} to give it a default)");

    CHECK(!parse_text("a:\n  b: x${NOT A NAME}y\n", &err));
    CHECK_CONTAINS(err.message, "inline.yaml:2:6: a.b: '${NOT A NAME}' does not name an "
                                "environment variable");
    CHECK(!parse_text("a: ${OPEN\n", &err));
    CHECK_CONTAINS(err.message, "inline.yaml:1:4: a: '${' has no closing '}'");
}

TEST(env_and_file_errors)
{
    unsetenv("GR_TEST_TOKEN_UNSET");
    gr_error_t err = {0};
    CHECK(!load1("subst-missing-env.yaml", &err));
    CHECK_STR(err.message, "subst-missing-env.yaml:4:14: integrations.github[0].token: "
                           "environment variable 'GR_TEST_TOKEN_UNSET' (from $env) is not set");

    CHECK(!load1("subst-missing-file.yaml", &err));
    CHECK(err.code == GR_ERR_IO);
    CHECK_STR(err.message, "subst-missing-file.yaml:4:7: auth.session.secret: cannot read $file "
                           "'secrets/no-such-file.txt' (resolved to "
                           "'secrets/no-such-file.txt'): No such file or directory");

    /* Relative to the naming file's directory, not the working directory. */
    in_fixtures();
    const char *paths[] = {"../config/subst-missing-file.yaml"};
    CHECK(!gr_config_doc_load(paths, 1, &err));
    CHECK_CONTAINS(err.message, "(resolved to '../config/secrets/no-such-file.txt')");

    CHECK(!parse_text("a: {$env: X, other: 1}\n", &err));
    CHECK_STR(err.message,
              "inline.yaml:1:4: a: '$env' must be the only key of its map, but 'other' is there "
              "too");
    CHECK(!parse_text("a: {$include: other.yaml}\n", &err));
    CHECK(err.code == GR_ERR_UNSUPPORTED);
}

TEST(later_file_replaces_a_directive_whole)
{
    /* A {$env: ...} map is one value: a later plain value or directive
     * replaces it rather than merging keys into it. */
    setenv("GR_TEST_TOKEN", "from-env", 1);
    char dir[] = "/tmp/gr-config-test-XXXXXX";
    REQUIRE(mkdtemp(dir));
    char *a = gr_xasprintf("%s/a.yaml", dir), *b = gr_xasprintf("%s/b.yaml", dir);
    char *s = gr_xasprintf("%s/token.txt", dir);
    FILE *f = fopen(a, "w");
    fputs("github:\n  token: {$file: token.txt}\n", f);
    fclose(f);
    f = fopen(b, "w");
    fputs("github:\n  token: {$env: GR_TEST_TOKEN}\n", f);
    fclose(f);
    const char *paths[] = {a, b};
    gr_error_t err = {0};
    gr_config_doc_t *doc = gr_config_doc_load(paths, 2, &err);
    /* token.txt does not exist, so success proves the $file was dropped. */
    CHECK(doc);
    CHECK_STR(gr_config_string(gr_config_doc_root(doc), "github.token", NULL), "from-env");
    gr_config_doc_free(doc);
    unlink(a);
    unlink(b);
    rmdir(dir);
    free(a);
    free(b);
    free(s);
}

/* ---- validation ----------------------------------------------------------- */

static const char *const client_values[] = {"embedded", "pg", NULL};
static const char *const scope_values[] = {"local", "global", NULL};

static const gr_config_field_t listen_fields[] = {
    {.key = "host", .type = GR_CONFIG_STRING, .default_value = "127.0.0.1"},
    {.key = "port", .type = GR_CONFIG_INT, .default_value = "7007"},
    {0},
};
static const gr_config_field_t database_fields[] = {
    {.key = "client",
     .type = GR_CONFIG_STRING,
     .default_value = "embedded",
     .enum_values = client_values},
    {.key = "connection", .type = GR_CONFIG_OBJECT},
    {0},
};
static const gr_config_field_t backend_fields[] = {
    {.key = "baseUrl", .type = GR_CONFIG_STRING, .flags = GR_CONFIG_REQUIRED},
    {.key = "listen", .type = GR_CONFIG_OBJECT, .fields = listen_fields},
    {.key = "database", .type = GR_CONFIG_OBJECT, .fields = database_fields},
    {.key = "trustProxy", .type = GR_CONFIG_BOOL, .default_value = "false"},
    {0},
};
static const gr_config_field_t schedule_fields[] = {
    {.key = "frequency", .type = GR_CONFIG_DURATION, .flags = GR_CONFIG_REQUIRED},
    {.key = "timeout", .type = GR_CONFIG_DURATION, .default_value = "PT10M"},
    {.key = "initialDelay", .type = GR_CONFIG_DURATION, .default_value = "{seconds: 15}"},
    {.key = "scope",
     .type = GR_CONFIG_STRING,
     .default_value = "local",
     .enum_values = scope_values},
    {0},
};
static const gr_config_field_t provider_fields[] = {
    {.key = "url", .type = GR_CONFIG_STRING, .flags = GR_CONFIG_REQUIRED},
    {.key = "schedule",
     .type = GR_CONFIG_OBJECT,
     .flags = GR_CONFIG_REQUIRED,
     .fields = schedule_fields},
    {0},
};
static const gr_config_field_t central_fields[] = {
    {.key = "*", .type = GR_CONFIG_OBJECT, .fields = provider_fields},
    {0},
};
static const gr_config_field_t providers_fields[] = {
    {.key = "centralConfig", .type = GR_CONFIG_OBJECT, .fields = central_fields},
    {0},
};
static const gr_config_field_t catalog_fields[] = {
    {.key = "refresh", .type = GR_CONFIG_DURATION, .default_value = "{minutes: 5}"},
    {.key = "providers", .type = GR_CONFIG_OBJECT, .fields = providers_fields},
    {0},
};

TEST(validation_errors_name_position_and_path)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = load1("schema-errors.yaml", &err);
    REQUIRE(doc);
    gr_strvec_t problems = {0};
    size_t n = gr_config_doc_validate(doc, "backend", backend_fields, &problems);
    CHECK(has_line(&problems, "schema-errors.yaml:3:11: backend.listen.port: expected an "
                              "integer, got 'abc'"));
    CHECK(has_line(&problems, "schema-errors.yaml:4:5: backend.listen.hots: unknown key 'hots'; "
                              "expected one of host, port"));
    CHECK(has_line(&problems, "schema-errors.yaml:6:13: backend.database.client: must be one of "
                              "'embedded', 'pg'; got 'mysql'"));
    CHECK(has_line(&problems, "schema-errors.yaml:2:3: backend.baseUrl: required key is missing"));
    CHECK(n == 4 && problems.len == 4);

    n = gr_config_doc_validate(doc, "catalog", catalog_fields, &problems);
    CHECK(has_line(&problems, "schema-errors.yaml:8:22: catalog.refresh.minutes: expected a "
                              "non-negative number of minutes, got 'often'"));
    CHECK(has_line(&problems, "schema-errors.yaml:17:9: catalog.providers.centralConfig.dev.url: "
                              "required key is missing"));
    CHECK(has_line(&problems,
                   "schema-errors.yaml:18:22: catalog.providers.centralConfig.dev.schedule."
                   "frequency: expected a duration ({minutes: 30}, an ISO 8601 duration such as "
                   "'PT30M', or a whole number of milliseconds), got 'PT1X'"));
    CHECK(n == 3 && problems.len == 7);
    gr_strvec_free(&problems);
    gr_config_doc_free(doc);
}

TEST(validation_type_errors)
{
    static const gr_config_field_t items[] = {{.key = "", .type = GR_CONFIG_INT}};
    static const gr_config_field_t fields[] = {
        {.key = "name", .type = GR_CONFIG_STRING},
        {.key = "ratio", .type = GR_CONFIG_NUMBER},
        {.key = "on", .type = GR_CONFIG_BOOL},
        {.key = "ports", .type = GR_CONFIG_ARRAY, .items = items},
        {.key = "nested", .type = GR_CONFIG_OBJECT},
        {.key = "wait", .type = GR_CONFIG_DURATION},
        {.key = "must", .type = GR_CONFIG_STRING, .flags = GR_CONFIG_REQUIRED},
        {0},
    };
    gr_error_t err = {0};
    gr_config_doc_t *doc = parse_text("s:\n"
                                      "  name: [a]\n"
                                      "  ratio: fast\n"
                                      "  on: maybe\n"
                                      "  ports: [80, x]\n"
                                      "  nested: 3\n"
                                      "  wait: {mins: 3}\n"
                                      "  must:\n",
                                      &err);
    REQUIRE(doc);
    gr_strvec_t p = {0};
    CHECK(gr_config_doc_validate(doc, "s", fields, &p) == 7);
    CHECK(has_line(&p, "inline.yaml:2:9: s.name: expected a string, got a list"));
    CHECK(has_line(&p, "inline.yaml:3:10: s.ratio: expected a number, got 'fast'"));
    CHECK(has_line(&p, "inline.yaml:4:7: s.on: expected true or false, got 'maybe'"));
    CHECK(has_line(&p, "inline.yaml:5:15: s.ports[1]: expected an integer, got 'x'"));
    CHECK(has_line(&p, "inline.yaml:6:11: s.nested: expected a map, got '3'"));
    CHECK(has_line(&p, "inline.yaml:7:10: s.wait.mins: unknown duration unit 'mins' (use years, "
                       "months, weeks, days, hours, minutes, seconds or milliseconds)"));
    CHECK(has_line(&p, "inline.yaml:8:8: s.must: required key is empty"));
    gr_strvec_free(&p);

    /* A section whose parent is not a map cannot be validated. */
    gr_config_doc_t *doc2 = parse_text("top: 5\n", &err);
    REQUIRE(doc2);
    CHECK(gr_config_doc_validate(doc2, "top.inner", fields, &p) == 1);
    CHECK(p.len == 1 && strcmp(p.items[0], "inline.yaml:1:6: top: expected a map, got '5'") == 0);
    gr_strvec_free(&p);
    gr_config_doc_free(doc2);
    gr_config_doc_free(doc);
}

TEST(defaults_are_written_into_the_tree)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = load1("schema-defaults.yaml", &err);
    REQUIRE(doc);
    gr_strvec_t problems = {0};
    CHECK(gr_config_doc_validate(doc, "backend", backend_fields, &problems) == 0);
    CHECK(gr_config_doc_validate(doc, "catalog", catalog_fields, &problems) == 0);
    for (size_t i = 0; i < problems.len; i++)
        fprintf(stderr, "unexpected problem: %s\n", problems.items[i]);
    gr_strvec_free(&problems);

    /* What a module sees through its section, with the SDK's functions. */
    const gr_config_t *backend = gr_config_doc_section(doc, "backend");
    CHECK(gr_config_int(backend, "listen.port", 0) == 7007);
    CHECK_STR(gr_config_string(backend, "listen.host", NULL), "127.0.0.1");
    CHECK_STR(gr_config_string(backend, "database.client", NULL), "embedded");
    CHECK(gr_config_bool(backend, "trustProxy", 1) == 0);
    /* An optional map without defaults is not invented. */
    CHECK(gr_config_get(backend, "database.connection") == NULL);

    const gr_config_t *catalog = gr_config_doc_section(doc, "catalog");
    CHECK(gr_config_duration_ms(catalog, "refresh", 0) == 300000);
    gr_schedule_t s = {.jitter = 0.25};
    CHECK(gr_config_schedule(catalog, "providers.centralConfig.prod.schedule", &s, &err) == 0);
    CHECK(s.frequency_ms == 90 * 60 * 1000);
    CHECK(s.timeout_ms == 5 * 60 * 1000);
    CHECK(s.initial_delay_ms == 2500);
    CHECK(s.scope == GR_TASK_GLOBAL);
    CHECK(s.jitter == 0.25);
    gr_schedule_t d = {0};
    CHECK(gr_config_schedule(catalog, "providers.centralConfig.dev.schedule", &d, &err) == 0);
    CHECK(d.frequency_ms == 24ull * 3600 * 1000);
    CHECK(d.timeout_ms == 10 * 60 * 1000);
    CHECK(d.initial_delay_ms == 15000);
    CHECK(d.scope == GR_TASK_LOCAL);
    /* A default sits where the map that received it is. */
    CHECK_STR(where(gr_config_get(backend, "trustProxy")), "schema-defaults.yaml:2:3");
    gr_config_doc_free(doc);
}

TEST(section_is_created_when_missing)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = parse_text("a:\n  b: 1\nc:\n", &err);
    REQUIRE(doc);
    const gr_config_t *s = gr_config_doc_section(doc, "plugins.kafka");
    REQUIRE(s);
    CHECK(gr_config_kind(s) == GR_CONFIG_OBJECT && gr_config_size(s) == 0);
    CHECK(gr_config_get(gr_config_doc_root(doc), "plugins.kafka") == s);
    /* A null value becomes the (empty) section. */
    CHECK(gr_config_kind(gr_config_doc_section(doc, "c")) == GR_CONFIG_OBJECT);
    CHECK(gr_config_doc_section(doc, "a.b.c") == NULL);
    CHECK(gr_config_doc_section(doc, "") == gr_config_doc_root(doc));

    /* Required keys of a created section are reported at its parent. */
    static const gr_config_field_t f[] = {
        {.key = "brokers", .type = GR_CONFIG_ARRAY, .flags = GR_CONFIG_REQUIRED}, {0}};
    gr_strvec_t p = {0};
    CHECK(gr_config_doc_validate(doc, "kafka", f, &p) == 1);
    CHECK(p.len == 1 && strcmp(p.items[0], "inline.yaml:1:1: kafka.brokers: required key is "
                                           "missing") == 0);
    gr_strvec_free(&p);
    gr_config_doc_free(doc);
}

/* ---- secrets, printing, warnings --------------------------------------- */

TEST(secrets_are_collected_and_redacted)
{
    setenv("GR_TEST_GH_TOKEN", "ghp_from_the_environment", 1);
    gr_error_t err = {0};
    gr_config_doc_t *doc = load1("secrets.yaml", &err);
    REQUIRE(doc);
    static const gr_config_field_t openai[] = {
        {.key = "model", .type = GR_CONFIG_STRING},
        {.key = "key", .type = GR_CONFIG_STRING, .flags = GR_CONFIG_SECRET},
        {0}};
    static const gr_config_field_t ai[] = {
        {.key = "openai", .type = GR_CONFIG_OBJECT, .fields = openai}, {0}};
    gr_strvec_t p = {0};
    CHECK(gr_config_doc_validate(doc, "aiAssistant", ai, &p) == 0);
    gr_strvec_free(&p);

    gr_strvec_t secrets = {0};
    gr_config_doc_secrets(doc, &secrets);
    const char *expected[] = {"s3cr3t-signing-key", "hunter2-password", "ghp_from_the_environment",
                              "sk-openai-key-value"};
    for (size_t i = 0; i < 4; i++)
        CHECK(gr_strvec_contains(&secrets, expected[i]));
    CHECK(secrets.len == 4);

    char *redacted = print_doc(doc, 1);
    for (size_t i = 0; i < 4; i++)
        CHECK(!strstr(redacted, expected[i]));
    CHECK_CONTAINS(redacted, "password: '[REDACTED]'");
    CHECK_CONTAINS(redacted, "host: db.internal");
    CHECK_CONTAINS(redacted, "model: gpt-4o");
    char *plain = print_doc(doc, 0);
    for (size_t i = 0; i < 4; i++)
        CHECK_CONTAINS(plain, expected[i]);
    free(redacted);
    free(plain);
    gr_strvec_free(&secrets);
    gr_config_doc_free(doc);
}

TEST(print_round_trips)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc =
        parse_text("a:\n  s: 'true'\n  n: 8080\n  q: \"8080\"\n  e: ''\n  nil:\n  m: {}\n"
                   "  l: []\n  multi: \"line1\\nline2\"\n  colon: 'a: b'\n",
                   &err);
    REQUIRE(doc);
    char *text = print_doc(doc, 0);
    gr_config_doc_t *again = gr_config_doc_parse("printed.yaml", text, strlen(text), &err);
    REQUIRE(again);
    char *text2 = print_doc(again, 0);
    CHECK_STR(text2, text);
    const gr_config_t *a = gr_config_get(gr_config_doc_root(again), "a");
    CHECK_STR(gr_config_string(a, "s", NULL), "true");
    CHECK_CONTAINS(text, "s: 'true'");
    CHECK_CONTAINS(text, "n: 8080\n");
    CHECK_STR(gr_config_string(a, "multi", NULL), "line1\nline2");
    CHECK_STR(gr_config_string(a, "colon", NULL), "a: b");
    CHECK(gr_config_kind(gr_config_get(a, "nil")) == GR_CONFIG_ANY);
    CHECK(gr_config_kind(gr_config_get(a, "m")) == GR_CONFIG_OBJECT);
    CHECK(gr_config_kind(gr_config_get(a, "l")) == GR_CONFIG_ARRAY);
    free(text);
    free(text2);
    gr_config_doc_free(again);
    gr_config_doc_free(doc);
}

TEST(unknown_top_level_keys_are_listed)
{
    in_fixtures();
    const char *paths[] = {"merge-base.yaml", "merge-local.yaml"};
    gr_error_t err = {0};
    gr_config_doc_t *doc = gr_config_doc_load(paths, 2, &err);
    REQUIRE(doc);
    const char *const known[] = {"backend", "catalog", NULL};
    gr_strvec_t w = {0};
    CHECK(gr_config_doc_unknown_top_level(doc, known, &w) == 1);
    CHECK(w.len == 1 &&
          strcmp(w.items[0], "merge-base.yaml:1:1: unknown top-level key 'app'") == 0);
    gr_strvec_free(&w);
    gr_config_doc_free(doc);
}

/* ---- the reader: conversions ---------------------------------------------- */

/* The table entries behind the SDK's inline readers, which drop the message. */
static int to_int(const gr_config_t *n, int64_t *out, gr_error_t *err)
{
    return GR__API(n)->config_to_int(n, out, err);
}

static int to_duration(const gr_config_t *n, uint64_t *out, gr_error_t *err)
{
    return GR__API(n)->config_to_duration_ms(n, out, err);
}

static const char reader_yaml[] =
    "ints: {dec: 42, neg: -7, hex: 0x1F, oct: 0o17, big: 9223372036854775808, "
    "float: 1.5, word: abc, quoted: '12'}\n"
    "nums: {a: 1.5, b: -2e3, c: .5, d: 7, e: 1.2.3, f: .inf, g: nan}\n"
    "bools: {a: yes, b: Off, c: TRUE, d: 'false', e: y, f: 1, g: oN}\n"
    "durations: {ms: 1500, iso: PT30M, isoday: P1DT12H, frac: PT0.5S, week: P2W, "
    "year: P1Y, month: P1M, min: PT1M,\n"
    "  map: {hours: 1, minutes: 30}, fracmap: {minutes: 1.5}, bad: 5m, badmap: {mins: 5},\n"
    "  empty: {}, neg: -5, onlyP: P, onlyT: PT, order: PT1S1M, negmap: {seconds: -1}}\n"
    "schedules:\n"
    "  ok: {frequency: {minutes: 30}, timeout: PT5M, initialDelay: {seconds: 10}, scope: "
    "global}\n"
    "  cron: {frequency: {cron: '*/5 * * * *'}, timeout: PT1M}\n"
    "  topcron: {cron: '*/5 * * * *'}\n"
    "  manual: {frequency: {trigger: manual}, timeout: PT1M}\n"
    "  badscope: {frequency: PT1M, scope: everywhere}\n"
    "  unknown: {frequency: PT1M, every: PT1M}\n"
    "  notmap: hourly\n"
    "list: [a, b, c]\n"
    "nulls: {a: ~, b: null, c: , d: 'null'}\n";

TEST(reader_navigation)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = parse_text(reader_yaml, &err);
    if (!doc)
        fprintf(stderr, "%s\n", err.message);
    REQUIRE(doc);
    const gr_config_t *root = gr_config_doc_root(doc);
    const gr_config_t *list = gr_config_get(root, "list");
    CHECK(gr_config_kind(list) == GR_CONFIG_ARRAY && gr_config_size(list) == 3);
    CHECK_STR(gr_config_string(list, "1", NULL), "b");
    CHECK_STR(gr_config_string(gr_config_at(list, 2), NULL, NULL), "c");
    CHECK(gr_config_get(list, "3") == NULL);
    CHECK(gr_config_get(list, "x") == NULL);
    CHECK(gr_config_key_at(list, 0) == NULL);
    CHECK_STR(gr_config_key_at(root, 0), "ints");
    CHECK(gr_config_get(root, "") == root && gr_config_get(root, NULL) == root);
    CHECK(gr_config_get(root, "ints.dec.more") == NULL);
    CHECK(gr_config_get(root, "ints..dec") == NULL);
    CHECK_STR(where(gr_config_get(root, "ints.hex")), "inline.yaml:1:31");
    CHECK_STR(where(NULL), "");
    /* Null values read as missing; a quoted 'null' is a string. */
    CHECK(gr_config_kind(gr_config_get(root, "nulls.a")) == GR_CONFIG_ANY);
    CHECK(gr_config_kind(gr_config_get(root, "nulls.b")) == GR_CONFIG_ANY);
    CHECK(gr_config_kind(gr_config_get(root, "nulls.c")) == GR_CONFIG_ANY);
    CHECK_STR(gr_config_string(root, "nulls.a", "dflt"), "dflt");
    CHECK_STR(gr_config_string(root, "nulls.d", NULL), "null");
    CHECK(gr_config_kind(gr_config_get(root, "missing")) == GR_CONFIG_ANY);
    CHECK(gr_config_size(gr_config_get(root, "ints.dec")) == 0);
    gr_config_doc_free(doc);
}

TEST(reader_scalars)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = parse_text(reader_yaml, &err);
    REQUIRE(doc);
    const gr_config_t *i = gr_config_get(gr_config_doc_root(doc), "ints");
    CHECK(gr_config_int(i, "dec", 0) == 42);
    CHECK(gr_config_int(i, "neg", 0) == -7);
    CHECK(gr_config_int(i, "hex", 0) == 31);
    CHECK(gr_config_int(i, "oct", 0) == 15);
    CHECK(gr_config_int(i, "quoted", 0) == 12);
    CHECK(gr_config_int(i, "big", -1) == -1);
    CHECK(gr_config_int(i, "float", -1) == -1);
    int64_t v;
    CHECK(to_int(gr_config_get(i, "word"), &v, &err) == GR_ERR_INVALID);
    CHECK_STR(err.message, "inline.yaml:1:92: ints.word: expected an integer, got 'abc'");
    CHECK(to_int(gr_config_get(i, "big"), &v, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "ints.big: integer '9223372036854775808' is out of range");

    const gr_config_t *n = gr_config_get(gr_config_doc_root(doc), "nums");
    CHECK(gr_config_number(n, "a", 0) == 1.5);
    CHECK(gr_config_number(n, "b", 0) == -2000);
    CHECK(gr_config_number(n, "c", 0) == 0.5);
    CHECK(gr_config_number(n, "d", 0) == 7);
    CHECK(gr_config_number(n, "e", -1) == -1);
    CHECK(gr_config_number(n, "f", -1) == -1);
    CHECK(gr_config_number(n, "g", -1) == -1);

    const gr_config_t *b = gr_config_get(gr_config_doc_root(doc), "bools");
    CHECK(gr_config_bool(b, "a", 0) == 1);
    CHECK(gr_config_bool(b, "b", 1) == 0);
    CHECK(gr_config_bool(b, "c", 0) == 1);
    CHECK(gr_config_bool(b, "d", 1) == 0);
    CHECK(gr_config_bool(b, "e", -1) == -1);
    CHECK(gr_config_bool(b, "f", -1) == -1);
    CHECK(gr_config_bool(b, "g", -1) == -1);
    gr_config_doc_free(doc);
}

TEST(reader_durations)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = parse_text(reader_yaml, &err);
    REQUIRE(doc);
    const gr_config_t *d = gr_config_get(gr_config_doc_root(doc), "durations");
    const uint64_t day = 24ull * 3600 * 1000;
    CHECK(gr_config_duration_ms(d, "ms", 0) == 1500);
    CHECK(gr_config_duration_ms(d, "iso", 0) == 30 * 60 * 1000);
    CHECK(gr_config_duration_ms(d, "isoday", 0) == day + day / 2);
    CHECK(gr_config_duration_ms(d, "frac", 0) == 500);
    CHECK(gr_config_duration_ms(d, "week", 0) == 14 * day);
    CHECK(gr_config_duration_ms(d, "year", 0) == 365 * day);
    CHECK(gr_config_duration_ms(d, "month", 0) == 30 * day);
    CHECK(gr_config_duration_ms(d, "min", 0) == 60000);
    CHECK(gr_config_duration_ms(d, "map", 0) == 90 * 60 * 1000);
    CHECK(gr_config_duration_ms(d, "fracmap", 0) == 90 * 1000);
    const char *bad[] = {"bad", "badmap", "empty", "neg", "onlyP", "onlyT", "order", "negmap"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        if (gr_config_duration_ms(d, bad[k], 7) != 7)
            fprintf(stderr, "duration '%s' should be refused\n", bad[k]);
        CHECK(gr_config_duration_ms(d, bad[k], 7) == 7);
    }
    uint64_t ms;
    CHECK(to_duration(gr_config_get(d, "empty"), &ms, &err) < 0);
    CHECK_CONTAINS(err.message, "durations.empty: a duration map needs at least one of years");
    gr_config_doc_free(doc);
}

TEST(reader_schedules)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = parse_text(reader_yaml, &err);
    REQUIRE(doc);
    const gr_config_t *s = gr_config_get(gr_config_doc_root(doc), "schedules");
    gr_schedule_t out = {.frequency_ms = 1, .timeout_ms = 2, .initial_delay_ms = 3};
    CHECK(gr_config_schedule(s, "ok", &out, &err) == 0);
    CHECK(out.frequency_ms == 1800000 && out.timeout_ms == 300000 &&
          out.initial_delay_ms == 10000 && out.scope == GR_TASK_GLOBAL);

    gr_schedule_t keep = {.frequency_ms = 1, .timeout_ms = 2, .initial_delay_ms = 3};
    CHECK(gr_config_schedule(s, "cron", &keep, &err) == GR_ERR_UNSUPPORTED);
    CHECK_STR(err.message, "inline.yaml:9:28: schedules.cron.frequency.cron: cron schedules are "
                           "not supported yet; give the frequency as a duration, such as "
                           "{minutes: 30} or 'PT30M'");
    CHECK(keep.frequency_ms == 1 && keep.timeout_ms == 2 && keep.initial_delay_ms == 3);
    CHECK(gr_config_schedule(s, "topcron", &keep, &err) == GR_ERR_UNSUPPORTED);
    CHECK_CONTAINS(err.message, "schedules.topcron.cron: cron schedules are not supported yet");

    CHECK(gr_config_schedule(s, "manual", &keep, &err) == 0);
    CHECK(keep.frequency_ms == 0 && keep.timeout_ms == 60000 && keep.initial_delay_ms == 3);

    CHECK(gr_config_schedule(s, "badscope", &keep, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message,
                   "schedules.badscope.scope: expected 'global' or 'local', got 'everywhere'");
    CHECK(gr_config_schedule(s, "unknown", &keep, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "schedules.unknown.every: unknown schedule key 'every'");
    CHECK(gr_config_schedule(s, "notmap", &keep, &err) == GR_ERR_INVALID);
    CHECK(gr_config_schedule(s, "absent", &keep, &err) == 0);
    gr_config_doc_free(doc);
}

/* ---- real-world YAML -------------------------------------------------------- */

static void parse_tree(const char *dir, int *files, int *multi)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *path = gr_xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            parse_tree(path, files, multi);
        } else if (strstr(e->d_name, ".yaml") || strstr(e->d_name, ".yml")) {
            FILE *f = fopen(path, "rb");
            char *text = NULL;
            size_t len = 0;
            FILE *m = open_memstream(&text, &len);
            char chunk[4096];
            size_t n;
            while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
                fwrite(chunk, 1, n, m);
            fclose(m);
            if (f)
                fclose(f);
            gr_error_t err = {0};
            gr_config_doc_t *doc = gr_config_doc_parse(path, text, len, &err);
            (*files)++;
            if (doc) {
                /* What we print must read back as the same tree. */
                char *printed = print_doc(doc, 0);
                gr_config_doc_t *again =
                    gr_config_doc_parse("printed.yaml", printed, strlen(printed), &err);
                CHECK(again);
                char *printed2 = again ? print_doc(again, 0) : NULL;
                CHECK(printed2 && strcmp(printed, printed2) == 0);
                free(printed);
                free(printed2);
                gr_config_doc_free(again);
                gr_config_doc_free(doc);
            } else {
                /* The only refusal a valid catalog file may get. */
                if (!strstr(err.message, "a second YAML document starts here"))
                    fprintf(stderr, "%s\n", err.message);
                CHECK(strstr(err.message, "a second YAML document starts here"));
                CHECK(strncmp(err.message, path, strlen(path)) == 0);
                (*multi)++;
            }
            free(text);
        }
        free(path);
    }
    closedir(d);
}

TEST(backstage_testdata_parses)
{
    /* Reads every YAML file under /work/shared/testdata/backstage/ (catalog
     * entities from Backstage's examples, create-app and the Janus showcase).
     * Multi-document files are refused with a positioned message. */
    int files = 0, multi = 0;
    parse_tree(GR_TEST_TESTDATA "/backstage", &files, &multi);
    fprintf(stderr, "testdata: %d YAML files, %d refused as multi-document\n", files, multi);
    CHECK(files > 10);
    CHECK(multi > 0 && multi < files);
}

TEST_MAIN(TEST_ENTRY(merge_two_files), TEST_ENTRY(missing_file_is_an_io_error),
          TEST_ENTRY(empty_file_is_an_empty_map), TEST_ENTRY(syntax_error_has_position),
          TEST_ENTRY(duplicate_key_is_an_error), TEST_ENTRY(top_level_must_be_a_map),
          TEST_ENTRY(second_document_is_refused), TEST_ENTRY(aliases_are_copied),
          TEST_ENTRY(hostile_input_is_bounded), TEST_ENTRY(variable_substitution),
          TEST_ENTRY(unset_variable_is_an_error), TEST_ENTRY(env_and_file_errors),
          TEST_ENTRY(later_file_replaces_a_directive_whole),
          TEST_ENTRY(validation_errors_name_position_and_path), TEST_ENTRY(validation_type_errors),
          TEST_ENTRY(defaults_are_written_into_the_tree),
          TEST_ENTRY(section_is_created_when_missing),
          TEST_ENTRY(secrets_are_collected_and_redacted), TEST_ENTRY(print_round_trips),
          TEST_ENTRY(unknown_top_level_keys_are_listed), TEST_ENTRY(reader_navigation),
          TEST_ENTRY(reader_scalars), TEST_ENTRY(reader_durations), TEST_ENTRY(reader_schedules),
          TEST_ENTRY(backstage_testdata_parses))
