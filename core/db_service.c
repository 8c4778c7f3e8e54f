/* core/db_service.c: pools per plugin, their databases or schemas, the
 * embedded server, readiness (see db_service.h). */
#include "db_service.h"

#include <stdlib.h>
#include <string.h>

#include "api_impl.h"
#include "db_migrate.h"
#include "db_pool.h"
#include "log.h"
#include "pg_cluster.h"

#define GR_DB_PROVISION_RETRY_MIN_MS 200
#define GR_DB_PROVISION_RETRY_MAX_MS 30000

typedef struct svc_plugin {
    gr_db_service_t *svc;
    char *id;
    gr_db_t *pool;
    char *database;       /* the database its pool connects to */
    char *schema;         /* schema mode: its schema */
    gr_db_params_t admin; /* the same server's base database, to create the above */
    gr_db_t *admin_pool;  /* while provisioning */
    int provisioned;
    uint64_t retry_ms;
    uv_timer_t timer;
    int warned;
} svc_plugin_t;

struct gr_db_service {
    uv_loop_t *loop;
    gr_log_t *log;
    gr_metrics_t *metrics;
    gr_db_options_t opts;
    gr_db_params_t base; /* the server's connection: from config, or the embedded socket */
    char *state_dir;
    gr_pg_cluster_t *cluster;
    svc_plugin_t **plugins;
    size_t nplugins;
    svc_plugin_t *host;
    int started, stopping;
    gr_db_service_cb start_cb, stop_cb;
    void *start_ud, *stop_ud;
    int closing; /* pools and timers still closing during stop */
    char status[512];
};

/* ---- a callback delivered from the loop, not from inside a call ------------- */

typedef struct deferred {
    uv_timer_t timer;
    gr_db_service_cb cb;
    void *user_data;
    int status;
    gr_error_t err;
} deferred_t;

static void on_deferred_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_deferred(uv_timer_t *t)
{
    deferred_t *d = t->data;
    if (d->cb)
        d->cb(d->user_data, d->status, d->status ? &d->err : NULL);
    uv_close((uv_handle_t *)t, on_deferred_closed);
}

static void defer_result(uv_loop_t *loop, gr_db_service_cb cb, void *user_data,
                         const gr_error_t *err)
{
    deferred_t *d = gr_xcalloc(1, sizeof *d);
    d->cb = cb;
    d->user_data = user_data;
    if (err) {
        d->status = err->code;
        d->err = *err;
    }
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, on_deferred, 0, 0);
}

/* ---- parameters ---------------------------------------------------------- */

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

static const char *params_get(const gr_db_params_t *p, const char *key)
{
    for (size_t i = 0; i < p->keys.len; i++)
        if (strcmp(p->keys.items[i], key) == 0)
            return p->values.items[i];
    return NULL;
}

static void params_copy(gr_db_params_t *dst, const gr_db_params_t *src)
{
    for (size_t i = 0; i < src->keys.len; i++)
        params_set(dst, src->keys.items[i], src->values.items[i]);
}

static void params_free(gr_db_params_t *p)
{
    gr_strvec_free(&p->keys);
    gr_strvec_free(&p->values);
}

/* NULL-terminated views of p for libpq (borrowing p's strings). */
static void params_arrays(const gr_db_params_t *p, const char ***keys, const char ***values)
{
    *keys = gr_xcalloc(p->keys.len + 1, sizeof **keys);
    *values = gr_xcalloc(p->keys.len + 1, sizeof **values);
    for (size_t i = 0; i < p->keys.len; i++) {
        (*keys)[i] = p->keys.items[i];
        (*values)[i] = p->values.items[i];
    }
}

static void copy_options(gr_db_options_t *dst, const gr_db_options_t *src)
{
    gr_db_options_init(dst);
    dst->client = src->client;
    dst->division = src->division;
    free(dst->prefix);
    dst->prefix = gr_xstrdup(src->prefix ? src->prefix : "backstage_plugin_");
    dst->pool_min = src->pool_min;
    dst->pool_max = src->pool_max;
    params_copy(&dst->connection, &src->connection);
    dst->bin_dir = src->bin_dir ? gr_xstrdup(src->bin_dir) : NULL;
    dst->ephemeral = src->ephemeral;
    dst->retry_min_ms = src->retry_min_ms;
    dst->retry_max_ms = src->retry_max_ms;
    dst->plugins = gr_xcalloc(src->nplugins ? src->nplugins : 1, sizeof *dst->plugins);
    dst->nplugins = src->nplugins;
    for (size_t i = 0; i < src->nplugins; i++) {
        dst->plugins[i].plugin_id = gr_xstrdup(src->plugins[i].plugin_id);
        params_copy(&dst->plugins[i].connection, &src->plugins[i].connection);
    }
}

static const gr_db_params_t *plugin_override(const gr_db_service_t *svc, const char *id)
{
    for (size_t i = 0; i < svc->opts.nplugins; i++)
        if (strcmp(svc->opts.plugins[i].plugin_id, id) == 0)
            return &svc->opts.plugins[i].connection;
    return NULL;
}

static void add_secrets(gr_log_t *log, const gr_db_params_t *p)
{
    const char *pw = params_get(p, "password");
    if (pw)
        gr_log_add_secret(log, pw);
}

/* ---- creation ------------------------------------------------------------- */

gr_db_service_t *gr_db_service_new_with(uv_loop_t *loop, const gr_db_options_t *opts,
                                        const char *state_dir, gr_log_t *log, gr_metrics_t *metrics,
                                        gr_error_t *err)
{
    gr_db_service_t *svc;
    if (opts->client == GR_DB_CLIENT_EMBEDDED && (!state_dir || !*state_dir)) {
        gr_error_set(err, GR_ERR_INVALID,
                     "the embedded database needs a state directory (--state-dir)");
        return NULL;
    }
    if (opts->client == GR_DB_CLIENT_PG && opts->connection.keys.len == 0) {
        gr_error_set(err, GR_ERR_INVALID, "backend.database: client pg needs a connection");
        return NULL;
    }
    svc = gr_xcalloc(1, sizeof *svc);
    svc->loop = loop;
    svc->log = log;
    svc->metrics = metrics;
    svc->state_dir = state_dir ? gr_xstrdup(state_dir) : NULL;
    copy_options(&svc->opts, opts);
    add_secrets(log, &svc->opts.connection);
    for (size_t i = 0; i < svc->opts.nplugins; i++)
        add_secrets(log, &svc->opts.plugins[i].connection);
    if (opts->client == GR_DB_CLIENT_EMBEDDED) {
        gr_pg_cluster_opts_t co = {0};
        char *base = gr_xasprintf("%s/postgres", state_dir);
        co.base_dir = base;
        co.bin_dir = svc->opts.bin_dir;
        co.ephemeral = svc->opts.ephemeral;
        co.restart = 1;
        svc->cluster = gr_pg_cluster_new(loop, log, &co);
        free(base);
    } else {
        params_copy(&svc->base, &svc->opts.connection);
    }
    return svc;
}

gr_db_service_t *gr_db_service_new(uv_loop_t *loop, const gr_config_t *database_config,
                                   const char *state_dir, gr_log_t *log, gr_metrics_t *metrics,
                                   gr_error_t *err)
{
    gr_db_options_t o;
    gr_db_service_t *svc = NULL;
    gr_db_options_init(&o);
    if (gr_db_options_parse(&o, database_config, err) == 0)
        svc = gr_db_service_new_with(loop, &o, state_dir, log, metrics, err);
    gr_db_options_free(&o);
    return svc;
}

/* ---- provisioning: the plugin's database or schema ------------------------ */

static void provision(svc_plugin_t *p);
static void start_done(gr_db_service_t *svc, const gr_error_t *err);

static void on_provision_timer(uv_timer_t *t)
{
    svc_plugin_t *p = t->data;
    if (!p->svc->stopping)
        provision(p);
}

static void on_host_up(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    gr_db_service_t *svc = ud;
    gr_error_t e;
    (void)res;
    if (svc->stopping || svc->started)
        return;
    if (err)
        gr_error_set(&e, err->code, "cannot reach the database server: %s", err->message);
    start_done(svc, err ? &e : NULL);
}

static void provision_end(svc_plugin_t *p, const gr_db_error_t *err, const char *what)
{
    gr_db_service_t *svc = p->svc;
    if (p->admin_pool) {
        gr_db_pool_close(p->admin_pool, NULL, NULL);
        p->admin_pool = NULL;
    }
    if (svc->stopping)
        return;
    if (!err) {
        p->provisioned = 1;
        if (p->warned)
            gr_log_info(svc->log, "database for %s is ready", p->id);
        gr_db_pool_open(p->pool);
        if (p == svc->host && !svc->started) {
            /* Report started once the host's pool is connected, so
             * readiness holds from the start callback on. */
            gr__db_query(p->pool, NULL, NULL, "SELECT 1", 0, NULL, on_host_up, svc);
        }
        return;
    }
    {
        char msg[700];
        snprintf(msg, sizeof msg, "cannot %s for %s: %s", what, p->id, err->message);
        if (p == svc->host && !svc->started) {
            /* At start-up the operator wants the reason now, not retries. */
            gr_error_t e;
            gr_error_set(&e, err->code, "%s", msg);
            start_done(svc, &e);
            return;
        }
        gr_db_pool_fail(p->pool, err->code, msg);
        if (!p->warned) {
            gr_log_warn(svc->log, "%s; retrying", msg);
            p->warned = 1;
        }
        uv_timer_start(&p->timer, on_provision_timer, p->retry_ms, 0);
        p->retry_ms *= 2;
        if (p->retry_ms > GR_DB_PROVISION_RETRY_MAX_MS)
            p->retry_ms = GR_DB_PROVISION_RETRY_MAX_MS;
    }
}

static int already_exists(const gr_db_error_t *err)
{
    /* Another host created it between our check and our CREATE. */
    return strcmp(err->sqlstate, "42P04") == 0 || strcmp(err->sqlstate, "42P06") == 0 ||
           strcmp(err->sqlstate, "23505") == 0;
}

static void on_created(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    svc_plugin_t *p = ud;
    (void)res;
    if (err && already_exists(err))
        err = NULL;
    if (!err && p->svc->opts.division == GR_DB_DIVISION_DATABASE)
        gr_log_info(p->svc->log, "created database %s for %s", p->database, p->id);
    provision_end(p, err, p->schema ? "create the schema" : "create the database");
}

static void on_db_checked(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    svc_plugin_t *p = ud;
    if (err) {
        provision_end(p, err, "reach the database server");
        return;
    }
    if (gr__db_result_rows(res) > 0) {
        provision_end(p, NULL, NULL);
        return;
    }
    /* CREATE DATABASE takes no parameters; the name is quoted by libpq. */
    gr_db_pool_ident_command(p->admin_pool, "CREATE DATABASE ", p->database, on_created, p);
}

static void provision(svc_plugin_t *p)
{
    gr_db_service_t *svc = p->svc;
    gr_db_pool_opts_t po = {0};
    const char **keys, **values;
    params_arrays(&p->admin, &keys, &values);
    po.name = p->id;
    po.keywords = keys;
    po.values = values;
    po.min = 0;
    po.max = 1;
    p->admin_pool = gr_db_pool_new(svc->loop, svc->log, &po);
    free(keys);
    free(values);
    gr_db_pool_open(p->admin_pool);
    if (p->schema)
        gr_db_pool_ident_command(p->admin_pool, "CREATE SCHEMA IF NOT EXISTS ", p->schema,
                                 on_created, p);
    else
        gr__db_query(p->admin_pool, NULL, NULL, "SELECT 1 FROM pg_database WHERE datname = $1",
                     GR_DB_PARAMS(p->database), on_db_checked, p);
}

static svc_plugin_t *find_plugin(const gr_db_service_t *svc, const char *id)
{
    for (size_t i = 0; i < svc->nplugins; i++)
        if (strcmp(svc->plugins[i]->id, id) == 0)
            return svc->plugins[i];
    return NULL;
}

/* Works out where the plugin's data lives, makes its pool (which holds
 * queries until provisioning is done) and starts provisioning. */
static svc_plugin_t *plugin_new(gr_db_service_t *svc, const char *id)
{
    svc_plugin_t *p = gr_xcalloc(1, sizeof *p);
    const gr_db_params_t *override = plugin_override(svc, id);
    gr_db_params_t conn = {0};
    gr_db_pool_opts_t po = {0};
    const char **keys, **values;
    const char *db;
    char *app;

    p->svc = svc;
    p->id = gr_xstrdup(id);
    p->retry_ms = GR_DB_PROVISION_RETRY_MIN_MS;
    uv_timer_init(svc->loop, &p->timer);
    p->timer.data = p;

    params_copy(&p->admin, &svc->base);
    if (override)
        params_copy(&p->admin, override);
    db = params_get(&p->admin, "dbname");
    if (svc->opts.division == GR_DB_DIVISION_SCHEMA) {
        p->database = gr_xstrdup(db ? db : "postgres");
        p->schema = gr_xstrdup(id);
    } else if (override && params_get(override, "dbname")) {
        /* A plugin given its own database uses it as named (Backstage does). */
        p->database = gr_xstrdup(params_get(override, "dbname"));
    } else {
        p->database = gr_xasprintf("%s%s", svc->opts.prefix, id);
    }
    if (!db || svc->opts.division == GR_DB_DIVISION_DATABASE) {
        /* params_set frees the old value, which db points into. */
        char *admin_db = gr_xstrdup(db && strcmp(db, p->database) != 0 ? db : "postgres");
        params_set(&p->admin, "dbname", admin_db);
        free(admin_db);
    }
    if (!params_get(&p->admin, "connect_timeout"))
        params_set(&p->admin, "connect_timeout", "10");

    params_copy(&conn, &p->admin);
    params_set(&conn, "dbname", p->database);
    app = gr_xasprintf("greenroom:%s", id);
    params_set(&conn, "application_name", app);
    free(app);
    if (p->schema) {
        /* Plugin ids may hold '-': the schema name is double-quoted inside
         * the startup option (ids never hold quotes or spaces). */
        char *opt = gr_xasprintf("-c search_path=\"%s\"", p->schema);
        params_set(&conn, "options", opt);
        free(opt);
    }
    params_arrays(&conn, &keys, &values);
    po.name = id;
    po.keywords = keys;
    po.values = values;
    po.min = svc->opts.pool_min;
    po.max = svc->opts.pool_max;
    po.retry_min_ms = svc->opts.retry_min_ms;
    po.retry_max_ms = svc->opts.retry_max_ms;
    p->pool = gr_db_pool_new(svc->loop, svc->log, &po);
    free(keys);
    free(values);
    params_free(&conn);

    svc->plugins = gr_xrealloc(svc->plugins, (svc->nplugins + 1) * sizeof *svc->plugins);
    svc->plugins[svc->nplugins++] = p;
    provision(p);
    return p;
}

/* ---- start ----------------------------------------------------------------- */

static void start_done(gr_db_service_t *svc, const gr_error_t *err)
{
    gr_db_service_cb cb = svc->start_cb;
    svc->start_cb = NULL;
    if (!err)
        svc->started = 1;
    if (cb)
        cb(svc->start_ud, err ? err->code : 0, err);
}

static void on_cluster_started(void *ud, int status, const gr_error_t *err)
{
    gr_db_service_t *svc = ud;
    char port[16];
    if (status != 0) {
        start_done(svc, err);
        return;
    }
    snprintf(port, sizeof port, "%d", gr_pg_cluster_port(svc->cluster));
    params_set(&svc->base, "host", gr_pg_cluster_socket_dir(svc->cluster));
    params_set(&svc->base, "port", port);
    params_set(&svc->base, "user", GR_PG_CLUSTER_SUPERUSER);
    params_set(&svc->base, "dbname", "postgres");
    svc->host = plugin_new(svc, GR_DB_HOST_ID);
}

void gr_db_service_start(gr_db_service_t *svc, gr_db_service_cb cb, void *user_data)
{
    svc->start_cb = cb;
    svc->start_ud = user_data;
    if (svc->started || svc->host) {
        gr_error_t e;
        svc->start_cb = NULL;
        gr_error_set(&e, GR_ERR_CONFLICT, "the database service is already started");
        defer_result(svc->loop, cb, user_data, &e);
        return;
    }
    if (svc->cluster)
        gr_pg_cluster_start(svc->cluster, on_cluster_started, svc);
    else
        svc->host = plugin_new(svc, GR_DB_HOST_ID);
}

/* ---- plugins --------------------------------------------------------------- */

gr_db_t *gr_db_service_plugin(gr_db_service_t *svc, const char *plugin_id, gr_error_t *err)
{
    svc_plugin_t *p;
    if (!plugin_id || !gr_id_is_valid(plugin_id)) {
        gr_error_set(err, GR_ERR_INVALID, "'%s' is not a valid plugin id",
                     plugin_id ? plugin_id : "(null)");
        return NULL;
    }
    if (strcmp(plugin_id, GR_DB_HOST_ID) == 0) {
        gr_error_set(err, GR_ERR_CONFLICT, "plugin id '%s' is reserved for the host's own tables",
                     plugin_id);
        return NULL;
    }
    if (!svc->started || svc->stopping) {
        gr_error_set(err, GR_ERR_UNAVAILABLE, "the database service is not running");
        return NULL;
    }
    p = find_plugin(svc, plugin_id);
    if (!p)
        p = plugin_new(svc, plugin_id);
    return p->pool;
}

gr_db_t *gr_db_service_host(gr_db_service_t *svc)
{
    return svc->host ? svc->host->pool : NULL;
}

void gr_db_service_migrate(gr_db_service_t *svc, const char *plugin_id,
                           const gr_migration_t *migrations, gr_db_service_cb cb, void *user_data)
{
    gr_error_t err;
    /* The host's own tables (the scheduler's) migrate like a plugin's. */
    int host = plugin_id && strcmp(plugin_id, GR_DB_HOST_ID) == 0;
    gr_db_t *db = host ? gr_db_service_host(svc) : gr_db_service_plugin(svc, plugin_id, &err);
    if (host && !db)
        gr_error_set(&err, GR_ERR_UNAVAILABLE, "the database service is not running");
    if (!db || gr_db_migrations_check(plugin_id, migrations, &err) != 0) {
        defer_result(svc->loop, cb, user_data, &err);
        return;
    }
    gr_db_migrate_run(db, svc->log, plugin_id, migrations, cb, user_data);
}

int gr_db_service_ready(const gr_db_service_t *svc)
{
    if (!svc->started || svc->stopping)
        return 0;
    if (svc->cluster && !gr_pg_cluster_running(svc->cluster))
        return 0;
    for (size_t i = 0; i < svc->nplugins; i++)
        if (!gr_db_pool_ready(svc->plugins[i]->pool))
            return 0;
    return 1;
}

const char *gr_db_service_status(const gr_db_service_t *svc)
{
    gr_db_service_t *s = (gr_db_service_t *)svc;
    s->status[0] = '\0';
    if (!svc->started || svc->stopping) {
        snprintf(s->status, sizeof s->status, "database service not running");
    } else if (svc->cluster && !gr_pg_cluster_running(svc->cluster)) {
        snprintf(s->status, sizeof s->status, "embedded PostgreSQL is not running");
    } else {
        for (size_t i = 0; i < svc->nplugins; i++) {
            if (!gr_db_pool_ready(svc->plugins[i]->pool)) {
                snprintf(s->status, sizeof s->status, "database of %s is not connected",
                         svc->plugins[i]->id);
                break;
            }
        }
    }
    return s->status;
}

gr_pg_cluster_t *gr_db_service_cluster(gr_db_service_t *svc)
{
    return svc->cluster;
}

/* ---- stop ------------------------------------------------------------------ */

static void stop_finish(gr_db_service_t *svc, int status, const gr_error_t *err)
{
    gr_db_service_cb cb = svc->stop_cb;
    svc->stop_cb = NULL;
    if (cb)
        cb(svc->stop_ud, status, err);
}

static void on_cluster_stopped(void *ud, int status, const gr_error_t *err)
{
    stop_finish(ud, status, err);
}

static void closed_one(gr_db_service_t *svc)
{
    if (--svc->closing > 0)
        return;
    if (svc->cluster)
        gr_pg_cluster_stop(svc->cluster, on_cluster_stopped, svc);
    else
        stop_finish(svc, 0, NULL);
}

static void on_pool_closed(void *ud)
{
    closed_one(ud);
}

static void on_timer_closed(uv_handle_t *h)
{
    svc_plugin_t *p = h->data;
    closed_one(p->svc);
}

void gr_db_service_stop(gr_db_service_t *svc, gr_db_service_cb cb, void *user_data)
{
    svc->stop_cb = cb;
    svc->stop_ud = user_data;
    svc->stopping = 1;
    if (svc->start_cb) {
        gr_error_t e;
        gr_error_set(&e, GR_ERR_CANCELED, "the database service was stopped while starting");
        start_done(svc, &e);
    }
    /* One count for this function itself, so a pool closing at once cannot
     * finish the stop before every close has been asked for. */
    svc->closing = 1;
    for (size_t i = 0; i < svc->nplugins; i++) {
        svc_plugin_t *p = svc->plugins[i];
        if (p->admin_pool) {
            svc->closing++;
            gr_db_pool_close(p->admin_pool, on_pool_closed, svc);
            p->admin_pool = NULL;
        }
        if (p->pool) {
            svc->closing++;
            gr_db_pool_close(p->pool, on_pool_closed, svc);
            p->pool = NULL;
        }
        svc->closing++;
        uv_close((uv_handle_t *)&p->timer, on_timer_closed);
    }
    closed_one(svc);
}

void gr_db_service_free(gr_db_service_t *svc)
{
    if (!svc)
        return;
    for (size_t i = 0; i < svc->nplugins; i++) {
        svc_plugin_t *p = svc->plugins[i];
        free(p->id);
        free(p->database);
        free(p->schema);
        params_free(&p->admin);
        free(p);
    }
    free(svc->plugins);
    gr_pg_cluster_free(svc->cluster);
    params_free(&svc->base);
    gr_db_options_free(&svc->opts);
    free(svc->state_dir);
    free(svc);
}
