/* modules/kafka-topology/store.c: the plugin's tables
 * (migrations/001_kafka_topology.sql).
 *
 * A sync replaces the whole stored model in one transaction: TRUNCATE,
 * then one COPY per table (each sent when the previous one is done, so
 * the loop escapes one table's rows at a time), then the model's new
 * generation, then the status document made with the store's own timing,
 * then COMMIT.  Readers, other hosts included, see the previous sync or
 * this one.
 *
 * Loading asks PostgreSQL for each table as one JSON array in seq order:
 * one round trip, a few large text values the loop only copies, and the
 * parsing happens on the thread pool (rows.c). */
#include <stdlib.h>
#include <string.h>

#include "kafka_plugin.h"

#define SQL_TRUNCATE                                                                               \
    "TRUNCATE files, clusters, brokers, topics, principals, connectors, streams_apps, rights, "    \
    "edges, problems"

#define SQL_NEXT_GENERATION                                                                        \
    "INSERT INTO model_state (id, generation, location_prefix, revision, synced_at) "              \
    "VALUES (1, 1, $1, $2, now()) ON CONFLICT (id) DO UPDATE SET "                                 \
    "generation = model_state.generation + 1, location_prefix = excluded.location_prefix, "        \
    "revision = excluded.revision, synced_at = excluded.synced_at RETURNING generation"

#define SQL_SAVE_STATUS                                                                            \
    "INSERT INTO sync_status (id, status, updated_at) VALUES (1, $1::jsonb, now()) "               \
    "ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at"

#define SQL_LOAD_STATUS "SELECT status::text FROM sync_status WHERE id = 1"

#define SQL_GENERATION "SELECT generation FROM model_state WHERE id = 1"

/* The stored model: each table as one JSON array of rows in seq order,
 * columns as rows.c reads them back (the table's own, without seq). */
/* clang-format off */
static const char sql_load[] =
    "SELECT m.generation, m.location_prefix, m.revision,"
    " floor(extract(epoch FROM m.synced_at) * 1000)::bigint,"
    " (SELECT coalesce(json_agg(json_build_array(path, format) ORDER BY seq), '[]')::text"
    "  FROM files),"
    " (SELECT coalesce(json_agg(json_build_array(name, bootstrap, declared, file, line, col)"
    "  ORDER BY seq), '[]')::text FROM clusters),"
    " (SELECT coalesce(json_agg(json_build_array(b.cluster, b.broker_id, b.host, b.rack)"
    "  ORDER BY c.seq, b.seq), '[]')::text FROM brokers b JOIN clusters c ON c.name = b.cluster),"
    " (SELECT coalesce(json_agg(json_build_array(cluster, name, partitions, replication_factor,"
    "  config, project, data_type, format, file, line, col, rf_line, rf_col) ORDER BY seq),"
    "  '[]')::text FROM topics),"
    " (SELECT coalesce(json_agg(json_build_array(name, principal, kind, declared, file, line,"
    "  col) ORDER BY seq), '[]')::text FROM principals),"
    " (SELECT coalesce(json_agg(json_build_array(name, principal, class, file, line, col)"
    "  ORDER BY seq), '[]')::text FROM connectors),"
    " (SELECT coalesce(json_agg(json_build_array(application_id, principal, file, line, col)"
    "  ORDER BY seq), '[]')::text FROM streams_apps),"
    " (SELECT coalesce(json_agg(json_build_array(owner_kind, owner, access, pattern, topic,"
    "  cluster, file, line, col) ORDER BY seq), '[]')::text FROM rights),"
    " (SELECT coalesce(json_agg(json_build_array(from_kind, from_name, access, cluster, topic,"
    "  topic_defined, file, line, col) ORDER BY seq), '[]')::text FROM edges),"
    " (SELECT coalesce(json_agg(json_build_array(file, line, col, severity, check_id, message)"
    "  ORDER BY seq), '[]')::text FROM problems)"
    " FROM model_state m WHERE m.id = 1";
/* clang-format on */

static void error_from_db(gr_error_t *out, const gr_db_error_t *err, const char *what)
{
    gr_error_set(out, err->code ? err->code : GR_ERR_INTERNAL, "kafka-topology: %s: %s", what,
                 err->message);
}

/* ---- saving a model ---------------------------------------------------------------------- */

typedef struct save {
    kt_plugin_t *p;
    const kt_rows_t *rows;
    char *location_prefix;
    char *revision;
    kt_status_make_fn make;
    kt_saved_fn cb;
    void *user_data;
    gr_db_tx_t *tx;
    size_t next_table;
    uint64_t step_ms; /* when the current step was sent, for the debug log */
    uint64_t generation;
    gr_error_t err;
    int failed;
} save_t;

static void save_end(save_t *s)
{
    s->cb(s->p, s->generation, s->failed ? &s->err : NULL, s->user_data);
    kt_plugin_t *p = s->p;
    free(s->location_prefix);
    free(s->revision);
    free(s);
    kt_plugin_unref(p);
}

static void save_committed(const gr_db_error_t *err, void *ud)
{
    save_t *s = ud;
    if (err && !s->failed) {
        error_from_db(&s->err, err, "storing the model");
        s->failed = 1;
    }
    save_end(s);
}

static void save_fail(save_t *s, const gr_db_error_t *err, const char *what)
{
    if (!s->failed)
        error_from_db(&s->err, err, what);
    s->failed = 1;
    gr_db_tx_rollback(s->tx, save_committed, s);
}

static void status_written(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    (void)res;
    save_t *s = ud;
    if (err) {
        save_fail(s, err, "saving the sync status");
        return;
    }
    gr_db_tx_commit(s->tx, save_committed, s);
}

static void generation_next(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    save_t *s = ud;
    int64_t gen = 0;
    if (err) {
        save_fail(s, err, "storing the model");
        return;
    }
    gr_db_result_int64(res, 0, 0, &gen);
    s->generation = (uint64_t)gen;
    struct json_object *status = s->make(s->p, s->user_data);
    json_object_object_add(status, "generation", json_object_new_int64(gen));
    const char *json = json_object_to_json_string_ext(status, JSON_C_TO_STRING_PLAIN);
    gr_db_tx_query(s->tx, SQL_SAVE_STATUS, GR_DB_PARAMS(json), status_written, s);
    json_object_put(status);
}

static void copy_next(save_t *s);

static void table_copied(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    (void)res;
    save_t *s = ud;
    const kt_table_t *t = &s->rows->tables[s->next_table - 1];
    if (err) {
        char what[64];
        snprintf(what, sizeof what, "storing the %s table", t->name);
        save_fail(s, err, what);
        return;
    }
    gr_log_debug(s->p->ctx->log, "stored %zu rows of %s in %llu ms", t->nrows, t->name,
                 (unsigned long long)(gr_now_ms() - s->step_ms));
    copy_next(s);
}

static void copy_next(save_t *s)
{
    s->step_ms = gr_now_ms();
    if (s->next_table < KT_TABLES) {
        const kt_table_t *t = &s->rows->tables[s->next_table++];
        gr_db_tx_copy(s->tx, t->name, t->columns, t->ncolumns, t->values, t->nrows, table_copied,
                      s);
        return;
    }
    gr_db_tx_query(s->tx, SQL_NEXT_GENERATION, GR_DB_PARAMS(s->location_prefix, s->revision),
                   generation_next, s);
}

static void truncated(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    (void)res;
    save_t *s = ud;
    if (err) {
        save_fail(s, err, "clearing the previous model");
        return;
    }
    gr_log_debug(s->p->ctx->log, "cleared the previous model in %llu ms",
                 (unsigned long long)(gr_now_ms() - s->step_ms));
    copy_next(s);
}

static void save_begun(gr_db_tx_t *tx, const gr_db_error_t *err, void *ud)
{
    save_t *s = ud;
    if (err) {
        error_from_db(&s->err, err, "storing the model");
        s->failed = 1;
        save_end(s);
        return;
    }
    s->tx = tx;
    s->step_ms = gr_now_ms();
    gr_db_tx_query(tx, SQL_TRUNCATE, 0, NULL, truncated, s);
}

void kt_store_save(kt_plugin_t *p, const kt_rows_t *rows, const char *location_prefix,
                   const char *revision, kt_status_make_fn make, kt_saved_fn cb, void *user_data)
{
    save_t *s = gr_xcalloc(1, sizeof *s);
    *s = (save_t){.p = p, .rows = rows, .make = make, .cb = cb, .user_data = user_data};
    s->location_prefix = location_prefix ? gr_xstrdup(location_prefix) : NULL;
    s->revision = revision ? gr_xstrdup(revision) : NULL;
    kt_plugin_ref(p);
    gr_db_begin(p->ctx->db, save_begun, s);
}

/* ---- status documents --------------------------------------------------------------------- */

typedef struct status_call {
    kt_plugin_t *p;
    kt_status_fn cb;
    void *user_data;
} status_call_t;

static void status_saved(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    (void)res;
    status_call_t *c = ud;
    gr_error_t e = {0};
    if (err)
        error_from_db(&e, err, "saving the sync status");
    if (c->cb)
        c->cb(c->p, NULL, err ? &e : NULL, c->user_data);
    kt_plugin_unref(c->p);
    free(c);
}

void kt_store_status_save(kt_plugin_t *p, struct json_object *status, kt_status_fn cb,
                          void *user_data)
{
    status_call_t *c = gr_xcalloc(1, sizeof *c);
    *c = (status_call_t){p, cb, user_data};
    kt_plugin_ref(p);
    const char *json = json_object_to_json_string_ext(status, JSON_C_TO_STRING_PLAIN);
    gr_db_query(p->ctx->db, SQL_SAVE_STATUS, GR_DB_PARAMS(json), status_saved, c);
}

static void status_loaded(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    status_call_t *c = ud;
    gr_error_t e = {0};
    struct json_object *doc = NULL;
    if (err) {
        error_from_db(&e, err, "reading the sync status");
    } else if (gr_db_result_rows(res) > 0) {
        doc = json_tokener_parse(gr_db_result_value(res, 0, 0));
        if (!doc)
            gr_error_set(&e, GR_ERR_INTERNAL,
                         "kafka-topology: the stored sync status is not valid JSON");
    }
    c->cb(c->p, doc, err || e.code ? &e : NULL, c->user_data);
    json_object_put(doc);
    kt_plugin_unref(c->p);
    free(c);
}

void kt_store_status_load(kt_plugin_t *p, kt_status_fn cb, void *user_data)
{
    status_call_t *c = gr_xcalloc(1, sizeof *c);
    *c = (status_call_t){p, cb, user_data};
    kt_plugin_ref(p);
    gr_db_query(p->ctx->db, SQL_LOAD_STATUS, 0, NULL, status_loaded, c);
}

/* ---- generations and loading ---------------------------------------------------------------- */

typedef struct load_call {
    kt_plugin_t *p;
    kt_generation_fn gen_cb;
    kt_loaded_fn load_cb;
    void *user_data;
} load_call_t;

static void generation_read(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    load_call_t *c = ud;
    gr_error_t e = {0};
    int64_t gen = 0;
    if (err)
        error_from_db(&e, err, "reading the model's generation");
    else if (gr_db_result_rows(res) > 0)
        gr_db_result_int64(res, 0, 0, &gen);
    c->gen_cb(c->p, (uint64_t)gen, err ? &e : NULL, c->user_data);
    kt_plugin_unref(c->p);
    free(c);
}

void kt_store_generation(kt_plugin_t *p, kt_generation_fn cb, void *user_data)
{
    load_call_t *c = gr_xcalloc(1, sizeof *c);
    *c = (load_call_t){.p = p, .gen_cb = cb, .user_data = user_data};
    kt_plugin_ref(p);
    gr_db_query(p->ctx->db, SQL_GENERATION, 0, NULL, generation_read, c);
}

static void model_read(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    load_call_t *c = ud;
    gr_error_t e = {0};
    const char *json[KT_TABLES] = {0};
    int64_t gen = 0, wall = 0;
    const char *prefix = NULL, *revision = NULL;
    if (err) {
        error_from_db(&e, err, "loading the stored model");
    } else if (gr_db_result_rows(res) > 0) {
        gr_db_result_int64(res, 0, 0, &gen);
        prefix = gr_db_result_value(res, 0, 1);
        revision = gr_db_result_value(res, 0, 2);
        gr_db_result_int64(res, 0, 3, &wall);
        for (int i = 0; i < KT_TABLES; i++)
            json[i] = gr_db_result_value(res, 0, 4 + i);
    }
    c->load_cb(c->p, json, (uint64_t)gen, prefix, revision, wall, err ? &e : NULL, c->user_data);
    kt_plugin_unref(c->p);
    free(c);
}

void kt_store_load(kt_plugin_t *p, kt_loaded_fn cb, void *user_data)
{
    load_call_t *c = gr_xcalloc(1, sizeof *c);
    *c = (load_call_t){.p = p, .load_cb = cb, .user_data = user_data};
    kt_plugin_ref(p);
    gr_db_query(p->ctx->db, sql_load, 0, NULL, model_read, c);
}
