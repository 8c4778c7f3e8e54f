/* core/db_options.c: reading backend.database into gr_db_options_t. */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "db_service.h"

static void params_set(gr_db_params_t *p, const char *key, const char *value)
{
    for (size_t i = 0; i < p->keys.len; i++) {
        if (strcmp(p->keys.items[i], key) == 0) {
            free(p->values.items[i]);
            p->values.items[i] = gr_xstrdup(value);
            return;
        }
    }
    gr_strvec_push(&p->keys, key);
    gr_strvec_push(&p->values, value);
}

static void params_free(gr_db_params_t *p)
{
    gr_strvec_free(&p->keys);
    gr_strvec_free(&p->values);
}

void gr_db_options_init(gr_db_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->client = GR_DB_CLIENT_EMBEDDED;
    o->division = GR_DB_DIVISION_DATABASE;
    o->prefix = gr_xstrdup("backstage_plugin_");
    o->pool_min = 1;
    o->pool_max = 10;
}

void gr_db_options_free(gr_db_options_t *o)
{
    free(o->prefix);
    free(o->bin_dir);
    params_free(&o->connection);
    for (size_t i = 0; i < o->nplugins; i++) {
        free(o->plugins[i].plugin_id);
        params_free(&o->plugins[i].connection);
    }
    free(o->plugins);
    memset(o, 0, sizeof *o);
}

static gr_db_params_t *target_params(gr_db_options_t *o, const char *plugin_id)
{
    if (!plugin_id)
        return &o->connection;
    for (size_t i = 0; i < o->nplugins; i++)
        if (strcmp(o->plugins[i].plugin_id, plugin_id) == 0)
            return &o->plugins[i].connection;
    o->plugins = gr_xrealloc(o->plugins, (o->nplugins + 1) * sizeof *o->plugins);
    memset(&o->plugins[o->nplugins], 0, sizeof o->plugins[0]);
    o->plugins[o->nplugins].plugin_id = gr_xstrdup(plugin_id);
    return &o->plugins[o->nplugins++].connection;
}

static int parse_conninfo(gr_db_params_t *p, const char *conninfo, const char *where,
                          gr_error_t *err)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &errmsg);
    if (!opts) {
        /* libpq's message names the bad option, never a value. */
        size_t n = errmsg ? strlen(errmsg) : 0;
        if (n && errmsg[n - 1] == '\n')
            errmsg[n - 1] = '\0';
        gr_error_set(err, GR_ERR_INVALID, "%s: invalid connection string: %s", where,
                     errmsg ? errmsg : "out of memory");
        PQfreemem(errmsg);
        return GR_ERR_INVALID;
    }
    for (PQconninfoOption *opt = opts; opt->keyword; opt++)
        if (opt->val && *opt->val)
            params_set(p, opt->keyword, opt->val);
    PQconninfoFree(opts);
    return 0;
}

int gr_db_options_set_connection(gr_db_options_t *o, const char *plugin_id, const char *conninfo,
                                 gr_error_t *err)
{
    if (!plugin_id)
        o->client = GR_DB_CLIENT_PG;
    return parse_conninfo(
        target_params(o, plugin_id), conninfo,
        plugin_id ? "backend.database.plugin connection" : "backend.database.connection", err);
}

static void where_of(const gr_config_t *node, const char *path, char *buf, size_t len)
{
    char at[200];
    gr_config_where(node, at, sizeof at);
    if (at[0])
        snprintf(buf, len, "%s: %s", at, path);
    else
        snprintf(buf, len, "%s", path);
}

/* Backstage's connection: a string, or an object of libpq-like fields. */
static int parse_connection(gr_db_params_t *p, const gr_config_t *node, const char *path,
                            gr_error_t *err)
{
    static const struct {
        const char *key, *libpq;
    } fields[] = {{"host", "host"},
                  {"port", "port"},
                  {"user", "user"},
                  {"password", "password"},
                  {"database", "dbname"},
                  {"sslmode", "sslmode"},
                  {"sslrootcert", "sslrootcert"},
                  {"connectTimeout", "connect_timeout"}};
    char where[400];
    where_of(node, path, where, sizeof where);
    if (gr_config_kind(node) == GR_CONFIG_STRING)
        return parse_conninfo(p, gr_config_string(node, NULL, ""), where, err);
    if (gr_config_kind(node) != GR_CONFIG_OBJECT)
        return gr_error_set(err, GR_ERR_INVALID,
                            "%s: expected a connection string or a map of host, port, user, "
                            "password, database, sslmode",
                            where);
    for (size_t i = 0; i < gr_config_size(node); i++) {
        const char *key = gr_config_key_at(node, i);
        const gr_config_t *child = gr_config_at(node, i);
        const char *value = gr_config_string(child, NULL, NULL);
        size_t f;
        for (f = 0; f < sizeof fields / sizeof fields[0]; f++)
            if (strcmp(key, fields[f].key) == 0)
                break;
        where_of(child, path, where, sizeof where);
        if (f == sizeof fields / sizeof fields[0])
            return gr_error_set(err, GR_ERR_INVALID,
                                "%s.%s: unknown key; use host, port, user, password, database, "
                                "sslmode, sslrootcert, connectTimeout or a connection string",
                                where, key);
        if (gr_config_kind(child) != GR_CONFIG_STRING || !value)
            return gr_error_set(err, GR_ERR_INVALID, "%s.%s: expected a value", where, key);
        params_set(p, fields[f].libpq, value);
    }
    return 0;
}

static int parse_pool_size(const gr_config_t *node, const char *key, int *out, gr_error_t *err)
{
    const gr_config_t *n = gr_config_get(node, key);
    int64_t v;
    char where[400];
    if (!n)
        return 0;
    where_of(n, key, where, sizeof where);
    if (GR__API(n)->config_to_int(n, &v, NULL) != 0 || v < 0 || v > 1000)
        return gr_error_set(err, GR_ERR_INVALID,
                            "%s: backend.database.pool: expected a number from 0 to 1000", where);
    *out = (int)v;
    return 0;
}

int gr_db_options_parse(gr_db_options_t *o, const gr_config_t *node, gr_error_t *err)
{
    const char *client, *mode, *prefix, *bin;
    const gr_config_t *n;
    char where[400];
    int r;

    if (!node || gr_config_kind(node) == GR_CONFIG_ANY)
        return 0;
    client = gr_config_string(node, "client", NULL);
    if (client) {
        where_of(gr_config_get(node, "client"), "backend.database.client", where, sizeof where);
        if (strcmp(client, "pg") == 0)
            o->client = GR_DB_CLIENT_PG;
        else if (strcmp(client, "embedded") == 0)
            o->client = GR_DB_CLIENT_EMBEDDED;
        else
            return gr_error_set(err, GR_ERR_INVALID,
                                "%s: '%s' is not supported; use pg or embedded", where, client);
    }
    if ((n = gr_config_get(node, "connection")) != NULL) {
        if (o->client != GR_DB_CLIENT_PG) {
            where_of(n, "backend.database.connection", where, sizeof where);
            return gr_error_set(err, GR_ERR_INVALID,
                                "%s: a connection needs client: pg (embedded runs its own server)",
                                where);
        }
        if ((r = parse_connection(&o->connection, n, "backend.database.connection", err)) != 0)
            return r;
    } else if (o->client == GR_DB_CLIENT_PG) {
        where_of(node, "backend.database", where, sizeof where);
        return gr_error_set(err, GR_ERR_INVALID,
                            "%s: client pg needs a connection (a string or {host, port, user, "
                            "password, database})",
                            where);
    }
    mode = gr_config_string(node, "pluginDivisionMode", NULL);
    if (mode) {
        where_of(gr_config_get(node, "pluginDivisionMode"), "backend.database.pluginDivisionMode",
                 where, sizeof where);
        if (strcmp(mode, "database") == 0)
            o->division = GR_DB_DIVISION_DATABASE;
        else if (strcmp(mode, "schema") == 0)
            o->division = GR_DB_DIVISION_SCHEMA;
        else
            return gr_error_set(err, GR_ERR_INVALID,
                                "%s: '%s' is not a mode; use database or schema", where, mode);
    }
    prefix = gr_config_string(node, "prefix", NULL);
    if (prefix) {
        free(o->prefix);
        o->prefix = gr_xstrdup(prefix);
    }
    bin = gr_config_string(node, "binDir", NULL);
    if (bin) {
        free(o->bin_dir);
        o->bin_dir = gr_xstrdup(bin);
    }
    if ((n = gr_config_get(node, "pool")) != NULL) {
        if ((r = parse_pool_size(n, "min", &o->pool_min, err)) != 0 ||
            (r = parse_pool_size(n, "max", &o->pool_max, err)) != 0)
            return r;
        if (o->pool_max < 1 || o->pool_min > o->pool_max) {
            where_of(n, "backend.database.pool", where, sizeof where);
            return gr_error_set(err, GR_ERR_INVALID, "%s: needs 1 <= max and min <= max", where);
        }
    }
    if ((n = gr_config_get(node, "plugin")) != NULL) {
        for (size_t i = 0; i < gr_config_size(n); i++) {
            const char *id = gr_config_key_at(n, i);
            const gr_config_t *conn = gr_config_get(gr_config_at(n, i), "connection");
            char path[200];
            snprintf(path, sizeof path, "backend.database.plugin.%s.connection", id);
            if (!conn)
                continue;
            if ((r = parse_connection(target_params(o, id), conn, path, err)) != 0)
                return r;
        }
    }
    return 0;
}
