/* tests/unit/test_db_options.c: reading backend.database in Backstage's
 * shape.  The config nodes here are a small stand-in tree reached through
 * its own API table, as a module's config would be, so this test needs
 * neither YAML nor a server. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_service.h"
#include "log.h"
#include "test.h"

struct gr_config {
    const gr_host_api_t *api;
    const char *key;
    const char *scalar;               /* NULL for a map */
    const struct gr_config *children; /* a map's entries, ending with key NULL */
};

static size_t fake_size(const gr_config_t *n)
{
    size_t i = 0;
    while (n->children && n->children[i].key)
        i++;
    return n->children ? i : 0;
}

static const gr_config_t *fake_get(const gr_config_t *n, const char *path)
{
    char part[64];
    const char *dot;
    size_t len;
    if (!path || !*path)
        return n;
    dot = strchr(path, '.');
    len = dot ? (size_t)(dot - path) : strlen(path);
    snprintf(part, sizeof part, "%.*s", (int)len, path);
    for (size_t i = 0; i < fake_size(n); i++)
        if (strcmp(n->children[i].key, part) == 0)
            return fake_get(&n->children[i], dot ? dot + 1 : NULL);
    return NULL;
}

static gr_config_type_t fake_kind(const gr_config_t *n)
{
    return n->scalar ? GR_CONFIG_STRING : GR_CONFIG_OBJECT;
}

static const char *fake_scalar(const gr_config_t *n)
{
    return n->scalar;
}
static const gr_config_t *fake_at(const gr_config_t *n, size_t i)
{
    return i < fake_size(n) ? &n->children[i] : NULL;
}
static const char *fake_key_at(const gr_config_t *n, size_t i)
{
    return i < fake_size(n) ? n->children[i].key : NULL;
}
static void fake_where(const gr_config_t *n, char *buf, size_t len)
{
    snprintf(buf, len, "app-config.yaml:%d:3", (int)strlen(n->key ? n->key : ""));
}
static int fake_to_int(const gr_config_t *n, int64_t *out, gr_error_t *err)
{
    char *end;
    (void)err;
    if (!n->scalar)
        return GR_ERR_INVALID;
    *out = strtoll(n->scalar, &end, 10);
    return *end ? GR_ERR_INVALID : 0;
}

static const gr_host_api_t fake_api = {
    .size = sizeof(gr_host_api_t),
    .config_get = fake_get,
    .config_kind = fake_kind,
    .config_scalar = fake_scalar,
    .config_size = fake_size,
    .config_at = fake_at,
    .config_key_at = fake_key_at,
    .config_where = fake_where,
    .config_to_int = fake_to_int,
};

#define S(k, v)                                                                                    \
    {                                                                                              \
        &fake_api, k, v, NULL                                                                      \
    }
#define M(k, ...)                                                                                  \
    {                                                                                              \
        &fake_api, k, NULL, (const gr_config_t[])                                                  \
        {                                                                                          \
            __VA_ARGS__,                                                                           \
            {                                                                                      \
                NULL, NULL, NULL, NULL                                                             \
            }                                                                                      \
        }                                                                                          \
    }

static const char *param(const gr_db_params_t *p, const char *key)
{
    for (size_t i = 0; i < p->keys.len; i++)
        if (strcmp(p->keys.items[i], key) == 0)
            return p->values.items[i];
    return NULL;
}

TEST(full_backstage_shape)
{
    const gr_config_t db =
        M("database", S("client", "pg"),
          M("connection", S("host", "db.internal"), S("port", "6432"), S("user", "backstage"),
            S("password", "hunter22"), S("database", "main"), S("sslmode", "require")),
          S("pluginDivisionMode", "schema"), S("prefix", "gr_"),
          M("pool", S("min", "2"), S("max", "20")),
          M("plugin", M("catalog", S("connection", "postgresql://cat@other:5433/catalogdb"))));
    gr_db_options_t o;
    gr_error_t err;
    gr_db_options_init(&o);
    REQUIRE(gr_db_options_parse(&o, &db, &err) == 0);
    CHECK(o.client == GR_DB_CLIENT_PG);
    CHECK(o.division == GR_DB_DIVISION_SCHEMA);
    CHECK_STR(o.prefix, "gr_");
    CHECK(o.pool_min == 2 && o.pool_max == 20);
    CHECK_STR(param(&o.connection, "host"), "db.internal");
    CHECK_STR(param(&o.connection, "port"), "6432");
    CHECK_STR(param(&o.connection, "dbname"), "main");
    CHECK_STR(param(&o.connection, "password"), "hunter22");
    CHECK_STR(param(&o.connection, "sslmode"), "require");
    REQUIRE(o.nplugins == 1);
    CHECK_STR(o.plugins[0].plugin_id, "catalog");
    CHECK_STR(param(&o.plugins[0].connection, "host"), "other");
    CHECK_STR(param(&o.plugins[0].connection, "dbname"), "catalogdb");
    gr_db_options_free(&o);
}

TEST(defaults_are_embedded_database_mode)
{
    const gr_config_t empty = M("database", S("prefix", "backstage_plugin_"));
    gr_db_options_t o;
    gr_error_t err;
    gr_db_options_init(&o);
    CHECK(gr_db_options_parse(&o, NULL, &err) == 0);
    CHECK(gr_db_options_parse(&o, &empty, &err) == 0);
    CHECK(o.client == GR_DB_CLIENT_EMBEDDED);
    CHECK(o.division == GR_DB_DIVISION_DATABASE);
    CHECK_STR(o.prefix, "backstage_plugin_");
    CHECK(o.pool_min == 1 && o.pool_max == 10);
    gr_db_options_free(&o);
}

TEST(mistakes_are_named)
{
    const gr_config_t bad_client = M("database", S("client", "mysql"));
    const gr_config_t no_conn = M("database", S("client", "pg"));
    const gr_config_t bad_key = M("database", S("client", "pg"), M("connection", S("hots", "x")));
    const gr_config_t bad_mode = M("database", S("client", "pg"), S("connection", "host=x"),
                                   S("pluginDivisionMode", "table"));
    const gr_config_t bad_pool = M("database", S("client", "pg"), S("connection", "host=x"),
                                   M("pool", S("min", "5"), S("max", "2")));
    const gr_config_t embedded_conn =
        M("database", S("client", "embedded"), S("connection", "host=x"));
    gr_db_options_t o;
    gr_error_t err;

    gr_db_options_init(&o);
    CHECK(gr_db_options_parse(&o, &bad_client, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "mysql");
    CHECK_CONTAINS(err.message, "app-config.yaml:");
    gr_db_options_free(&o);

    gr_db_options_init(&o);
    CHECK(gr_db_options_parse(&o, &no_conn, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "needs a connection");
    gr_db_options_free(&o);

    gr_db_options_init(&o);
    CHECK(gr_db_options_parse(&o, &bad_key, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "hots");
    gr_db_options_free(&o);

    gr_db_options_init(&o);
    CHECK(gr_db_options_parse(&o, &bad_mode, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "table");
    gr_db_options_free(&o);

    gr_db_options_init(&o);
    CHECK(gr_db_options_parse(&o, &bad_pool, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "pool");
    gr_db_options_free(&o);

    gr_db_options_init(&o);
    CHECK(gr_db_options_parse(&o, &embedded_conn, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "client: pg");
    gr_db_options_free(&o);
}

TEST(password_is_registered_as_a_log_secret)
{
    /* The service hands the password to the logger, which redacts it. */
    char path[] = "/tmp/greenroom-log-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w+");
    gr_log_t *log;
    gr_db_options_t o;
    gr_error_t err;
    gr_db_service_t *svc;
    uv_loop_t loop;
    char buf[512] = "";
    REQUIRE(f != NULL);
    log = gr_log_root_new(f, GR_LOG_DEBUG, GR_LOG_FORMAT_PRETTY);
    uv_loop_init(&loop);
    gr_db_options_init(&o);
    REQUIRE(gr_db_options_set_connection(&o, NULL, "host=/nonexistent password=topsecret99",
                                         &err) == 0);
    svc = gr_db_service_new_with(&loop, &o, NULL, log, NULL, &err);
    REQUIRE(svc != NULL);
    gr_log_info(log, "connecting with topsecret99");
    fflush(f);
    rewind(f);
    CHECK(fread(buf, 1, sizeof buf - 1, f) > 0);
    CHECK(strstr(buf, "topsecret99") == NULL);
    CHECK_CONTAINS(buf, "[REDACTED]");
    gr_db_service_free(svc);
    gr_db_options_free(&o);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    gr_log_free(log);
    fclose(f);
    unlink(path);
}

TEST_MAIN(TEST_ENTRY(full_backstage_shape), TEST_ENTRY(defaults_are_embedded_database_mode),
          TEST_ENTRY(mistakes_are_named), TEST_ENTRY(password_is_registered_as_a_log_secret))
