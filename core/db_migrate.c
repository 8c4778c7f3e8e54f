/* core/db_migrate.c: see db_migrate.h. */
#include "db_migrate.h"

#include <stdlib.h>
#include <string.h>

#include "api_impl.h"
#include "db_pool.h"
#include "util.h"

typedef struct migrate {
    gr_db_t *db;
    gr_log_t *log;
    char *plugin;
    const gr_migration_t *list;
    size_t n, i;
    size_t applied;
    gr_db_tx_t *tx;
    char *sum;
    gr_db_service_cb cb;
    void *user_data;
    gr_error_t err;
} migrate_t;

int gr_db_migrations_check(const char *plugin_id, const gr_migration_t *m, gr_error_t *err)
{
    for (size_t i = 0; m && m[i].name; i++) {
        if (!m[i].sql || !m[i].name[0] || m[i].name[0] < '0' || m[i].name[0] > '9')
            return gr_error_set(err, GR_ERR_INVALID,
                                "plugin %s: migration '%s' needs a name starting with its number "
                                "(001_create_things) and SQL",
                                plugin_id, m[i].name);
        if (i > 0 && strcmp(m[i - 1].name, m[i].name) >= 0)
            return gr_error_set(err, GR_ERR_INVALID,
                                "plugin %s: migration '%s' comes after '%s': names must sort in "
                                "the order they apply, without duplicates",
                                plugin_id, m[i].name, m[i - 1].name);
    }
    return 0;
}

static void finish(migrate_t *m)
{
    int status = m->err.code;
    if (!status && m->applied)
        gr_log_info(m->log, "plugin %s: applied %zu migration%s", m->plugin, m->applied,
                    m->applied == 1 ? "" : "s");
    if (m->cb)
        m->cb(m->user_data, status, status ? &m->err : NULL);
    free(m->plugin);
    free(m->sum);
    free(m);
}

static void on_rolled_back(const gr_db_error_t *err, void *ud)
{
    (void)err;
    finish(ud);
}

/* Records the first failure and rolls the transaction back. */
static void fail(migrate_t *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(migrate_t *m, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gr_error_vset(&m->err, code, fmt, ap);
    va_end(ap);
    if (m->tx)
        gr__db_tx_end(m->tx, 0, on_rolled_back, m);
    else
        finish(m);
}

static void on_committed(const gr_db_error_t *err, void *ud)
{
    migrate_t *m = ud;
    if (err)
        gr_error_set(&m->err, err->code, "plugin %s: committing migrations failed: %s", m->plugin,
                     err->message);
    finish(m);
}

static void step(migrate_t *m);

static void on_recorded(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    migrate_t *m = ud;
    (void)res;
    if (err) {
        fail(m, err->code, "plugin %s: recording migration %s failed: %s", m->plugin,
             m->list[m->i].name, err->message);
        return;
    }
    m->applied++;
    m->i++;
    step(m);
}

static void on_applied(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    migrate_t *m = ud;
    (void)res;
    if (err) {
        fail(m, err->code, "plugin %s: migration %s failed: %s%s%s%s", m->plugin,
             m->list[m->i].name, err->message, err->sqlstate[0] ? " (SQLSTATE " : "", err->sqlstate,
             err->sqlstate[0] ? ")" : "");
        return;
    }
    gr__db_query(NULL, m->tx, NULL,
                 "INSERT INTO greenroom_migrations (name, checksum) VALUES ($1, $2)",
                 GR_DB_PARAMS(m->list[m->i].name, m->sum), on_recorded, m);
}

static void on_checked(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    migrate_t *m = ud;
    const char *sum, *recorded;
    if (err) {
        fail(m, err->code, "plugin %s: reading applied migrations failed: %s", m->plugin,
             err->message);
        return;
    }
    sum = gr__db_result_value(res, 0, 0);
    recorded = gr__db_result_value(res, 0, 1);
    if (recorded) {
        if (!sum || strcmp(sum, recorded) != 0) {
            fail(m, GR_ERR_CONFLICT,
                 "plugin %s: migration %s was changed after it was applied (its SHA-256 differs "
                 "from the recorded one); restore its original SQL and put the change in a new "
                 "migration",
                 m->plugin, m->list[m->i].name);
            return;
        }
        m->i++;
        step(m);
        return;
    }
    free(m->sum);
    m->sum = gr_xstrdup(sum ? sum : "");
    gr_db_pool_script(NULL, m->tx, m->list[m->i].sql, on_applied, m);
}

static void step(migrate_t *m)
{
    if (m->i == m->n) {
        gr__db_tx_end(m->tx, 1, on_committed, m);
        m->tx = NULL;
        return;
    }
    gr__db_query(NULL, m->tx, NULL,
                 "SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex'), "
                 "(SELECT checksum FROM greenroom_migrations WHERE name = $2)",
                 GR_DB_PARAMS(m->list[m->i].sql, m->list[m->i].name), on_checked, m);
}

static void on_table(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    migrate_t *m = ud;
    (void)res;
    if (err) {
        fail(m, err->code, "plugin %s: creating greenroom_migrations failed: %s", m->plugin,
             err->message);
        return;
    }
    step(m);
}

static void on_locked(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    migrate_t *m = ud;
    (void)res;
    if (err) {
        fail(m, err->code, "plugin %s: taking the migration lock failed: %s", m->plugin,
             err->message);
        return;
    }
    gr__db_query(NULL, m->tx, NULL,
                 "CREATE TABLE IF NOT EXISTS greenroom_migrations ("
                 "name text PRIMARY KEY, checksum text NOT NULL, "
                 "applied_at timestamptz NOT NULL DEFAULT now())",
                 0, NULL, on_table, m);
}

static void on_begin(gr_db_tx_t *tx, const gr_db_error_t *err, void *ud)
{
    migrate_t *m = ud;
    if (err) {
        fail(m, err->code, "plugin %s: cannot run migrations: %s", m->plugin, err->message);
        return;
    }
    m->tx = tx;
    /* Hosts starting together queue here, one transaction at a time. */
    gr__db_query(NULL, tx, NULL,
                 "SELECT pg_advisory_xact_lock(hashtext('greenroom_migrations'), hashtext($1))",
                 GR_DB_PARAMS(m->plugin), on_locked, m);
}

static void on_ping(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    migrate_t *m = ud;
    (void)res;
    if (err)
        gr_error_set(&m->err, err->code, "plugin %s: database not reachable: %s", m->plugin,
                     err->message);
    finish(m);
}

void gr_db_migrate_run(gr_db_t *db, gr_log_t *log, const char *plugin_id,
                       const gr_migration_t *migrations, gr_db_service_cb cb, void *user_data)
{
    migrate_t *m = gr_xcalloc(1, sizeof *m);
    m->db = db;
    m->log = log;
    m->plugin = gr_xstrdup(plugin_id);
    m->list = migrations;
    while (migrations && migrations[m->n].name)
        m->n++;
    m->cb = cb;
    m->user_data = user_data;
    if (m->n == 0) {
        /* Nothing to apply: still wait until the database is reachable, so
         * the plugin starts with a working handle. */
        gr__db_query(db, NULL, NULL, "SELECT 1", 0, NULL, on_ping, m);
        return;
    }
    gr__db_begin(db, on_begin, m);
}
