/* modules/catalog/store_apply.c: one provider mutation, in one transaction.
 *
 *   1. Take the catalog's mutation lock (an advisory lock, so mutations of
 *      several hosts sharing the database take turns), load the incoming
 *      refs and etags into a temporary table and read which of them exist,
 *      with which etag, provider and creation time.  That splits the
 *      incoming entities into added, updated, unchanged and conflicting (a
 *      ref that another provider owns: refused, the owner keeps it).
 *   2. Delete what goes: entities the provider no longer emits (full) or
 *      asked to remove (delta), and the old rows of updated ones, with
 *      their relations and search rows.  Then read back the relations that
 *      the entities which stay imply for the written ones (a group's
 *      hasMember from a user that did not change, say).
 *      Only added and updated entities travel in full, by binary COPY
 *      straight into the tables: their relations now.  A load larger than
 *      its table goes in without the table's index, built again after it.
 *   3. Meanwhile, on worker threads, build each written entity's relations
 *      list, its final JSON and its relations.<type> search rows (stitch.c),
 *      and sort all the written entities' search rows in the order of the
 *      search index.
 *   4. Once both are done: the written entities and their search rows.
 *      Entities not written whose lists changed (the other ends of removed
 *      or added relations) are re-stitched set-wise in SQL, usually a few.
 *   5. Commit.  Any failure rolls everything back: readers see the catalog
 *      before or after the mutation, never half of it.
 *
 * Each phase queues its statements at once; the pool sends them one after
 * the other.  Loads go in slices, one per loop turn, so the server reads
 * one while the loop encodes the next.  The database does little but store
 * rows: a first sync of 10,000 entities loads about 280,000 search rows and
 * 80,000 relations, and building them in SQL (staging tables, joins,
 * string_agg) cost more than storing them (bench/README.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "catalog_plugin.h"

/* An arbitrary constant naming the catalog's mutation lock. */
#define CATALOG_MUTATION_LOCK "7240114"

enum { ST_ADDED = 0, ST_UPDATED, ST_UNCHANGED, ST_CONFLICT };

typedef struct run {
    catalog_apply_t *a;
    catalog_apply_done_fn done;
    void *user_data;
    gr_db_tx_t *tx;
    char *error; /* the first failure, or NULL */
    int pending;
    void (*next)(struct run *);
    unsigned char *state; /* per item */
    char **created_at;    /* per item: an updated entity's creation time */
    size_t counts[4];     /* added, updated, removed, unchanged */
    /* The written (added and updated) items, in ref order; what stitching
     * made of each; the relations the stored entities imply for them
     * (source, type, target triples); the refs not written whose lists
     * changed. */
    catalog_prepared_t **written;
    size_t nwritten;
    catalog_stitched_t *stitched;
    /* Made with the stitching: every search row of the written entities
     * (see own_search_work and stitch_work), until phase 4 queues them. */
    const char **search_rows;
    size_t nsearch_rows;
    /* Its two halves, sorted by two jobs before they are merged. */
    const char **own_search_rows, **relation_search_rows;
    size_t nown_search_rows, nrelation_search_rows;
    int search_jobs_left;
    gr_strvec_t external;
    gr_strvec_t others;
    uint64_t stitch_start_ms;
    /* The heap sizes of the search and relations tables before the
     * mutation, and whether their secondary indexes are built again after
     * the load instead of being kept up to date row by row. */
    int64_t search_table_bytes, relations_table_bytes;
    int rebuild_search, rebuild_relations;
    /* Phase 2 sent its loads; phase 3 finished; the commit or rollback was
     * sent (nothing more may be). */
    int loaded, stitched_all, closing;
    /* The bulk loads not sent yet, in order (see load_pump), and what runs
     * once they all are. */
    struct load {
        const char *table;
        const char *const *columns;
        const int *types; /* NULL: the text format */
        size_t ncolumns;
        const char **values; /* owned array; the strings belong to the items */
        size_t nrows, sent, slice;
    } loads[4];
    size_t nloads, load_head;
    void (*after_loads)(struct run *);
    char (*lines)[2][16]; /* the written entities' source lines and body lengths, as text */
    /* What each statement in flight is, in sending order, for the debug
     * log of how long each step took. */
    gr_strvec_t labels;
    size_t next_label;
    uint64_t last_ms;
    /* The commit or rollback has answered.  When the host shuts down, the
     * pool may answer it before the statements sent ahead of it, so the run
     * ends only once every callback has come in. */
    int ended;
} run_t;

static void run_finish(run_t *r)
{
    catalog_apply_t *a = r->a;
    catalog_t *cat = a->cat;
    size_t nitems = a->nitems; /* done frees a */
    r->done(a, r->error ? GR_ERR_UNAVAILABLE : 0, r->error, r->counts, r->user_data);
    free(r->error);
    free(r->state);
    for (size_t i = 0; i < nitems; i++)
        free(r->created_at[i]);
    free(r->created_at);
    for (size_t i = 0; r->stitched && i < r->nwritten; i++)
        catalog_stitched_free(&r->stitched[i]);
    free(r->stitched);
    free(r->search_rows);
    free(r->own_search_rows);
    free(r->relation_search_rows);
    free(r->written);
    for (size_t i = r->load_head; i < r->nloads; i++)
        free(r->loads[i].values);
    free(r->lines);
    gr_strvec_free(&r->external);
    gr_strvec_free(&r->others);
    gr_strvec_free(&r->labels);
    free(r);
    catalog_unref(cat);
}

/* Statements on one connection complete in order, so the time since the
 * previous completion is this statement's own. */
static void step_timing(run_t *r)
{
    uint64_t now = gr_now_ms();
    if (r->next_label < r->labels.len) {
        gr_log_t *log = r->a->cat->ctx->log;
        if (gr_log_enabled(log, GR_LOG_DEBUG))
            gr_log_debug(log, "mutation of %s: %s: %llu ms", r->a->provider,
                         r->labels.items[r->next_label], (unsigned long long)(now - r->last_ms));
        r->next_label++;
    }
    r->last_ms = now;
}

static void label(run_t *r, const char *fmt, const char *text, size_t n)
{
    gr_strvec_pushf(&r->labels, fmt, (int)(strlen(text) < 60 ? strlen(text) : 60), text, n);
}

static void note_error(run_t *r, const gr_db_error_t *err, const char *what)
{
    if (err && !r->error)
        r->error = gr_xasprintf("%s: %s", what, err->message);
}

static void step_done(run_t *r)
{
    if (--r->pending == 0 && r->ended) {
        run_finish(r);
        return;
    }
    if (r->pending == 0 && r->next) {
        void (*next)(run_t *) = r->next;
        r->next = NULL;
        next(r);
    }
}

static void on_step(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    (void)res;
    run_t *r = ud;
    step_timing(r);
    note_error(r, err, "catalog mutation");
    step_done(r);
}

static void send_sql(run_t *r, const char *sql, int nparams, const char *const *params)
{
    label(r, "%.*s (%zu)", sql, (size_t)nparams);
    r->pending++;
    gr_db_tx_query(r->tx, sql, nparams, params, on_step, r);
}

/* types NULL: the text format (a column whose type has no binary form in
 * gr_db_copy_binary); otherwise the binary one, which the server loads
 * without parsing text. */
static void send_copy(run_t *r, const char *table, const char *const *columns, const int *types,
                      size_t ncolumns, const char *const *values, size_t nrows)
{
    if (nrows == 0)
        return;
    label(r, "COPY %.*s: %zu rows", table, nrows);
    r->pending++;
    if (types)
        gr_db_tx_copy_binary(r->tx, table, columns, types, ncolumns, values, nrows, on_step, r);
    else
        gr_db_tx_copy(r->tx, table, columns, ncolumns, values, nrows, on_step, r);
}

static void on_rolled_back(const gr_db_error_t *err, void *ud)
{
    (void)err;
    run_t *r = ud;
    r->ended = 1;
    if (r->pending == 0)
        run_finish(r);
}

static void on_committed(const gr_db_error_t *err, void *ud)
{
    run_t *r = ud;
    label(r, "%.*s (%zu)", "COMMIT", 0);
    step_timing(r);
    note_error(r, err, "catalog mutation");
    r->ended = 1;
    if (r->pending == 0)
        run_finish(r);
}

/* ---- phases 2 to 4: clear, load, stitch, store, commit ------------------------ */

static const char *const added_columns[] = {
    "uid",          "ref",      "kind",     "namespace",   "name",        "etag",
    "final_entity", "provider", "location", "source_path", "source_line", "body_length"};
static const int added_types[] = {GR_DB_COPY_UUID, GR_DB_COPY_TEXT, GR_DB_COPY_TEXT,
                                  GR_DB_COPY_TEXT, GR_DB_COPY_TEXT, GR_DB_COPY_TEXT,
                                  GR_DB_COPY_TEXT, GR_DB_COPY_TEXT, GR_DB_COPY_TEXT,
                                  GR_DB_COPY_TEXT, GR_DB_COPY_INT4, GR_DB_COPY_INT4};
#define ADDED_NCOLUMNS (sizeof added_columns / sizeof added_columns[0])
/* An updated entity keeps its creation time. */
static const char *const updated_columns[] = {
    "uid",         "ref",          "kind",      "namespace", "name",
    "etag",        "final_entity", "provider",  "location",  "source_path",
    "source_line", "body_length",  "created_at"};
#define UPDATED_NCOLUMNS (sizeof updated_columns / sizeof updated_columns[0])

static const char *const relation_columns[] = {"originating_uid", "source_ref", "type",
                                               "target_ref"};
static const char *const search_columns[] = {"entity_uid", "key", "value", "original_value"};
/* Both tables: a uuid, then three texts. */
static const int uuid_texts_types[] = {GR_DB_COPY_UUID, GR_DB_COPY_TEXT, GR_DB_COPY_TEXT,
                                       GR_DB_COPY_TEXT};
static const int uuid_text_types[] = {GR_DB_COPY_UUID, GR_DB_COPY_TEXT};
static const char *const ref_columns[] = {"ref"};
static const char *const written_columns[] = {"uid", "ref"};

/* The entities this mutation replaces or removes, and whether they go for
 * good. */
static const char SQL_GONE_FULL[] =
    "INSERT INTO gone (uid, ref, removed) "
    "SELECT e.uid, e.ref, NOT EXISTS (SELECT 1 FROM written w WHERE w.ref = e.ref) "
    "FROM entities e WHERE e.provider = $1 AND (e.ref IN (SELECT ref FROM written) OR "
    "NOT EXISTS (SELECT 1 FROM stage_keys k WHERE k.ref = e.ref))";
static const char SQL_GONE_DELTA[] =
    "INSERT INTO gone (uid, ref, removed) "
    "SELECT e.uid, e.ref, NOT EXISTS (SELECT 1 FROM written w WHERE w.ref = e.ref) "
    "FROM entities e WHERE e.provider = $1 AND (e.ref IN (SELECT ref FROM written) OR "
    "(e.ref IN (SELECT ref FROM stage_removed) AND "
    "NOT EXISTS (SELECT 1 FROM stage_keys k WHERE k.ref = e.ref)))";

/* Once the relations of what goes are deleted, the relations whose source
 * is a written entity are those the entities that stay imply for it. */
static const char SQL_EXTERNAL[] = "SELECT r.source_ref, r.type, r.target_ref FROM relations r "
                                   "JOIN written w ON w.ref = r.source_ref";

/* The relations list of every stored entity that was not written but
 * whose list may have changed, built once, set-wise: [{"type","targetRef"}]
 * sorted bytewise as stitch.c sorts the written ones, duplicates (the same
 * relation from two entities) merged.  Refs nobody defines are left out
 * first, which on a first sync leaves nothing to read. */
static const char SQL_STITCHED[] =
    "CREATE TEMP TABLE stitched ON COMMIT DROP AS "
    "WITH t AS MATERIALIZED (SELECT DISTINCT s.ref FROM stitch s "
    "WHERE NOT EXISTS (SELECT 1 FROM written w WHERE w.ref = s.ref) "
    "AND EXISTS (SELECT 1 FROM entities e WHERE e.ref = s.ref)) "
    "SELECT t.ref, coalesce(x.rels, '[]') AS rels FROM t "
    "LEFT JOIN (SELECT d.source_ref, '[' || string_agg('{\"type\":' || to_json(d.type) || "
    "',\"targetRef\":' || to_json(d.target_ref) || '}', ',' "
    "ORDER BY d.type COLLATE \"C\", d.target_ref COLLATE \"C\") || ']' AS rels "
    "FROM (SELECT DISTINCT r.source_ref, r.type, r.target_ref FROM relations r "
    "WHERE EXISTS (SELECT 1 FROM t) AND r.source_ref IN (SELECT ref FROM t)) d "
    "GROUP BY d.source_ref) x ON x.source_ref = t.ref";

/* final_entity is the body (canonical JSON of an object with at least
 * apiVersion and kind) with "relations" added before its closing brace;
 * body_length says where, in characters. */
#define RESTITCHED "left(e.final_entity, e.body_length - 1) || ',\"relations\":' || st.rels || '}'"

/* updated_at moves with final_entity: the revision of a read that includes
 * relations (store.c) learns of the change from it. */
static const char SQL_RESTITCH[] =
    "UPDATE entities e SET final_entity = " RESTITCHED ", updated_at = now() FROM stitched st "
    "WHERE e.ref = st.ref AND e.final_entity IS DISTINCT FROM " RESTITCHED;

/* The search table has no index on entity_uid: the first condition, a
 * one-time check, saves scanning it when no stored entity needs it (a
 * first sync, where the only sources left are refs nobody defines). */
static const char SQL_RELATION_SEARCH_DELETE[] =
    "DELETE FROM search s USING entities e, stitched st WHERE "
    "EXISTS (SELECT 1 FROM stitched x JOIN entities y ON y.ref = x.ref) AND "
    "e.ref = st.ref AND s.entity_uid = e.uid AND s.key LIKE 'relations.%'";
static const char SQL_RELATION_SEARCH_INSERT[] =
    "INSERT INTO search (entity_uid, key, value, original_value) "
    "SELECT DISTINCT e.uid, 'relations.' || lower(r.type), lower(r.target_ref), r.target_ref "
    "FROM stitched st JOIN entities e ON e.ref = st.ref JOIN relations r ON r.source_ref = st.ref";

/* The secondary indexes a large load drops and builds again (see
 * phase_clear); their definitions are those of migrations/001_catalog.sql. */
static const char SQL_SEARCH_INDEX[] = "CREATE INDEX search_key_value_idx ON search (key, value)";
static const char SQL_RELATIONS_INDEX[] =
    "CREATE INDEX relations_source_idx ON relations (source_ref)";

/* Ends the run early when the host began shutting down: one batch of a
 * large mutation takes seconds, and shutdown should not wait for all. */
static int stop_early(run_t *r)
{
    if (!r->error && r->a->cat->draining)
        r->error = gr_xstrdup("catalog mutation: the host is shutting down");
    if (!r->error)
        return 0;
    if (!r->closing) {
        r->closing = 1;
        gr_db_tx_rollback(r->tx, on_rolled_back, r);
    }
    return 1;
}

static int written(const run_t *r, size_t i)
{
    return r->state[i] == ST_ADDED || r->state[i] == ST_UPDATED;
}

/* Rows per COPY statement.  A large load goes as several statements, one
 * per loop turn: the loop cannot feed the server while it encodes, and a
 * slice takes it a few milliseconds to encode where the whole search load
 * took a hundred, during which the server had nothing to read. */
#define ROW_SLICE 16384
#define ENTITY_SLICE 2048

/* Takes over values (a row-major array of nrows rows). */
static void queue_load(run_t *r, const char *table, const char *const *columns, const int *types,
                       size_t ncolumns, const char **values, size_t nrows, size_t slice)
{
    if (nrows == 0) {
        free(values);
        return;
    }
    r->loads[r->nloads++] = (struct load){table, columns, types, ncolumns, values, nrows, 0, slice};
}

static void later(run_t *r, void (*fn)(run_t *r));

/* Sends the next slice of the queued loads and comes back on a later loop
 * turn; once all are sent, runs after_loads. */
static void load_pump(run_t *r)
{
    if (r->closing || stop_early(r))
        return;
    if (r->load_head < r->nloads) {
        struct load *l = &r->loads[r->load_head];
        size_t n = l->nrows - l->sent < l->slice ? l->nrows - l->sent : l->slice;
        send_copy(r, l->table, l->columns, l->types, l->ncolumns, l->values + l->sent * l->ncolumns,
                  n);
        l->sent += n;
        if (l->sent == l->nrows) {
            free(l->values);
            r->load_head++;
        }
        later(r, load_pump);
        return;
    }
    void (*after)(run_t *) = r->after_loads;
    r->after_loads = NULL;
    if (after)
        after(r);
}

/* The end of phase 4, once its loads are sent: the entities not written
 * whose lists changed (the sources of the relations removed in phase 2 and
 * of those added by stitching), the indexes, the commit. */
static void finish_store(run_t *r)
{
    if (r->closing)
        return;
    send_copy(r, "stitch", ref_columns, NULL, 1, (const char *const *)r->others.items,
              r->others.len);
    send_sql(r, "ANALYZE stitch", 0, NULL);
    send_sql(r, SQL_STITCHED, 0, NULL);
    send_sql(r, SQL_RESTITCH, 0, NULL);
    send_sql(r, SQL_RELATION_SEARCH_DELETE, 0, NULL);
    send_sql(r, SQL_RELATION_SEARCH_INSERT, 0, NULL);
    if (r->rebuild_search)
        send_sql(r, SQL_SEARCH_INDEX, 0, NULL);
    r->closing = 1;
    gr_db_tx_commit(r->tx, on_committed, r);
}

/* Phase 4, once stitching is done and the loads of phase 2 are sent: the
 * written entities with their lists and relations.<type> rows. */
static void phase_store(run_t *r)
{
    catalog_apply_t *a = r->a;
    if (stop_early(r))
        return;
    size_t nadded = 0, nupdated = 0;
    const char **added = gr_xcalloc(r->nwritten * ADDED_NCOLUMNS + 1, sizeof *added);
    const char **updated = gr_xcalloc(r->nwritten * UPDATED_NCOLUMNS + 1, sizeof *updated);
    r->lines = gr_xcalloc(r->nwritten + 1, sizeof *r->lines);
    for (size_t i = 0, w = 0; i < a->nitems; i++) {
        if (!written(r, i))
            continue;
        catalog_prepared_t *p = a->items[i];
        catalog_stitched_t *st = &r->stitched[w];
        snprintf(r->lines[w][0], sizeof r->lines[w][0], "%u", p->source_line);
        snprintf(r->lines[w][1], sizeof r->lines[w][1], "%zu", st->body_length);
        const char *row[UPDATED_NCOLUMNS] = {p->uid,
                                             p->ref,
                                             p->kind,
                                             p->namespace,
                                             p->name,
                                             p->etag,
                                             st->final_entity,
                                             a->provider,
                                             p->location,
                                             p->source_path,
                                             p->source_line ? r->lines[w][0] : NULL,
                                             r->lines[w][1],
                                             r->created_at[i]};
        w++;
        if (r->state[i] == ST_ADDED)
            memcpy(&added[nadded++ * ADDED_NCOLUMNS], row, ADDED_NCOLUMNS * sizeof *row);
        else
            memcpy(&updated[nupdated++ * UPDATED_NCOLUMNS], row, sizeof row);
    }
    r->nloads = r->load_head = 0;
    queue_load(r, "entities", added_columns, added_types, ADDED_NCOLUMNS, added, nadded,
               ENTITY_SLICE);
    queue_load(r, "entities", updated_columns, NULL, UPDATED_NCOLUMNS, updated, nupdated,
               ENTITY_SLICE);
    queue_load(r, "search", search_columns, uuid_texts_types, 4, r->search_rows, r->nsearch_rows,
               ROW_SLICE);
    r->search_rows = NULL;
    r->after_loads = finish_store;
    load_pump(r);
}

/* ---- the written entities' search rows, in the search index's order ------
 *
 * Two jobs on worker threads build them: one sorts the entities' own rows
 * as soon as phase 2 starts, the other stitches relations (phase 3) and
 * sorts the relations.<type> rows that stitching makes.  A third merges
 * the two once both are done, and phase 4 loads the result. */

static void search_rows_sorted(run_t *r);

static void own_search_work(void *arg)
{
    run_t *r = arg;
    size_t n = 0, sr = 0;
    for (size_t w = 0; w < r->nwritten; w++)
        n += r->written[w]->search.len;
    const char **rows = gr_xmalloc((n * 4 + 1) * sizeof *rows);
    for (size_t w = 0; w < r->nwritten; w++) {
        const catalog_prepared_t *p = r->written[w];
        for (size_t j = 0; j < p->search.len; j++) {
            rows[sr++] = p->uid;
            rows[sr++] = p->search.items[j].key;
            rows[sr++] = p->search.items[j].value;
            rows[sr++] = p->search.items[j].original;
        }
    }
    catalog_search_table_rows_sort(rows, n);
    r->own_search_rows = rows;
    r->nown_search_rows = n;
}

static void own_search_done(void *arg, int status)
{
    run_t *r = arg;
    if (status != 0 && !r->error)
        r->error = gr_xstrdup("catalog mutation: the host is shutting down");
    search_rows_sorted(r);
    step_done(r); /* the job itself */
}

static void stitch_work(void *arg)
{
    run_t *r = arg;
    catalog_stitch_build(r->written, r->nwritten, (const char *const *)r->external.items,
                         r->external.len / 3, r->stitched, &r->others);
    size_t n = 0, sr = 0;
    for (size_t w = 0; w < r->nwritten; w++)
        n += r->stitched[w].nrows;
    const char **rows = gr_xmalloc((n * 4 + 1) * sizeof *rows);
    for (size_t w = 0; w < r->nwritten; w++) {
        const catalog_stitched_t *st = &r->stitched[w];
        for (size_t k = 0; k < st->nrows; k++) {
            rows[sr++] = r->written[w]->uid;
            rows[sr++] = st->rows[3 * k];
            rows[sr++] = st->rows[3 * k + 1];
            rows[sr++] = st->rows[3 * k + 2];
        }
    }
    catalog_search_table_rows_sort(rows, n);
    r->relation_search_rows = rows;
    r->nrelation_search_rows = n;
}

static void stitch_done(void *arg, int status)
{
    run_t *r = arg;
    gr_log_t *log = r->a->cat->ctx->log;
    if (gr_log_enabled(log, GR_LOG_DEBUG))
        gr_log_debug(log, "mutation of %s: stitched %zu written entities in %llu ms",
                     r->a->provider, r->nwritten,
                     (unsigned long long)(gr_now_ms() - r->stitch_start_ms));
    if (status != 0 && !r->error)
        r->error = gr_xstrdup("catalog mutation: the host is shutting down");
    search_rows_sorted(r);
    step_done(r); /* the stitching job itself */
}

static void merge_work(void *arg)
{
    run_t *r = arg;
    size_t n = r->nown_search_rows + r->nrelation_search_rows;
    r->search_rows = gr_xmalloc((4 * n + 1) * sizeof *r->search_rows);
    catalog_search_table_rows_merge(r->own_search_rows, r->nown_search_rows,
                                    r->relation_search_rows, r->nrelation_search_rows,
                                    r->search_rows);
    r->nsearch_rows = n;
}

static void merge_done(void *arg, int status)
{
    run_t *r = arg;
    if (status != 0 && !r->error)
        r->error = gr_xstrdup("catalog mutation: the host is shutting down");
    /* Phase 4 follows the loads of phase 2 on the connection. */
    r->stitched_all = 1;
    if (r->loaded)
        phase_store(r);
    step_done(r); /* the job itself */
}

/* One of the two sorting jobs is done; after the second, the merge. */
static void search_rows_sorted(run_t *r)
{
    if (--r->search_jobs_left)
        return;
    gr_error_t werr = {0};
    r->pending++;
    if (!r->error && gr_work_submit(r->a->cat->ctx, merge_work, merge_done, r, &werr) == 0)
        return;
    r->pending--;
    if (!r->error)
        r->error = gr_xasprintf("catalog mutation: %s", werr.message);
    r->stitched_all = 1;
    if (r->loaded)
        phase_store(r);
}

static void on_external(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    run_t *r = ud;
    step_timing(r);
    note_error(r, err, "catalog mutation: read the relations of the written entities");
    for (int row = 0; !err && row < gr_db_result_rows(res); row++) {
        const char *source = gr_db_result_value(res, row, 0);
        const char *type = gr_db_result_value(res, row, 1);
        const char *target = gr_db_result_value(res, row, 2);
        if (!source || !type || !target)
            continue;
        gr_strvec_push(&r->external, source);
        gr_strvec_push(&r->external, type);
        gr_strvec_push(&r->external, target);
    }
    /* Phase 3 starts now, on a worker thread, while the server loads the
     * rows of phase 2.  The loads start now too, once the statements before
     * them are done: the pool sends a transaction's next statement when the
     * loop has read the result of the one before, so a slice encoded while
     * small statements remain holds up each of them. */
    if (!stop_early(r)) {
        later(r, load_pump);
        gr_error_t werr = {0};
        r->stitched = gr_xcalloc(r->nwritten + 1, sizeof *r->stitched);
        r->stitch_start_ms = gr_now_ms();
        r->pending++;
        if (gr_work_submit(r->a->cat->ctx, stitch_work, stitch_done, r, &werr) != 0) {
            r->pending--;
            r->error = gr_xasprintf("catalog mutation: %s", werr.message);
            search_rows_sorted(r);
        }
    }
    step_done(r);
}

static void on_removed(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    run_t *r = ud;
    step_timing(r);
    note_error(r, err, "catalog mutation: count removed entities");
    int64_t n = 0;
    if (!err && gr_db_result_int64(res, 0, 0, &n) == 0)
        r->counts[2] = (size_t)n;
    step_done(r);
}

/* Runs fn on a later loop turn, after the loop has polled its sockets: the
 * statements sent so far go to the server before the loop builds the next
 * load.  A millisecond, not zero: libuv runs a zero timer started from a
 * timer callback in the same pass, before any socket is polled. */
typedef struct later {
    uv_timer_t timer;
    run_t *r;
    void (*fn)(run_t *r);
} later_t;

static void later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void later_fire(uv_timer_t *t)
{
    later_t *l = t->data;
    run_t *r = l->r;
    void (*fn)(run_t *) = l->fn;
    uv_close((uv_handle_t *)&l->timer, later_closed);
    fn(r);
    step_done(r); /* the wait itself */
}

static void later(run_t *r, void (*fn)(run_t *r))
{
    later_t *l = gr_xcalloc(1, sizeof *l);
    l->r = r;
    l->fn = fn;
    l->timer.data = l;
    r->pending++;
    uv_timer_init(r->a->cat->ctx->loop, &l->timer);
    uv_timer_start(&l->timer, later_fire, 1, 0);
}

/* Phase 2's loads are sent: phase 4 may follow once stitching is done.
 * Nothing writes relations after them, so their index is built now, while
 * the server would otherwise wait for the stitching. */
static void loads_sent(run_t *r)
{
    if (r->rebuild_relations)
        send_sql(r, SQL_RELATIONS_INDEX, 0, NULL);
    r->loaded = 1;
    if (r->stitched_all)
        phase_store(r);
}

/* The written entities' relations, which need no stitching. */
static void queue_phase2_loads(run_t *r)
{
    size_t nrel = 0, rl = 0;
    for (size_t w = 0; w < r->nwritten; w++)
        nrel += r->written[w]->relations.len;
    const char **rels = gr_xcalloc(nrel * 4 + 1, sizeof *rels);
    for (size_t w = 0; w < r->nwritten; w++) {
        const catalog_prepared_t *p = r->written[w];
        for (size_t j = 0; j < p->relations.len; j++) {
            rels[rl++] = p->uid;
            rels[rl++] = p->relations.items[j].source;
            rels[rl++] = p->relations.items[j].type;
            rels[rl++] = p->relations.items[j].target;
        }
    }
    queue_load(r, "relations", relation_columns, uuid_texts_types, 4, rels, nrel, ROW_SLICE);
    r->after_loads = loads_sent;
}

/* Rough heap bytes of a search or relations row (a uuid, three short
 * texts, the tuple header), to compare a load with its table. */
#define ROW_BYTES 100

/* Phase 2: delete what goes, read back what stays, then load the written
 * entities' relations and own search rows, which need no stitching. */
static void phase_clear(run_t *r)
{
    catalog_apply_t *a = r->a;
    if (stop_early(r))
        return;
    size_t nrel = 0, nsearch = 0;
    r->written = gr_xcalloc(a->nitems + 1, sizeof *r->written);
    for (size_t i = 0; i < a->nitems; i++) {
        if (!written(r, i))
            continue;
        catalog_prepared_t *p = a->items[i];
        r->written[r->nwritten++] = p;
        nrel += p->relations.len;
        nsearch += p->search.len;
    }
    /* A load larger than the table it goes into is cheaper with the
     * table's secondary index dropped and built again after it (one sort
     * instead of a B-tree descent per row: about three times less work on
     * a first sync).  Dropping the search index locks the search table
     * until the commit, so filtered reads wait for this mutation to end;
     * that happens only when most of the catalog is being loaded anyway.
     * Only mutations read the relations table. */
    r->rebuild_search = nsearch > 0 && (int64_t)(nsearch * ROW_BYTES) >= r->search_table_bytes;
    r->rebuild_relations = nrel > 0 && (int64_t)(nrel * ROW_BYTES) >= r->relations_table_bytes;

    r->search_jobs_left = 2;
    gr_error_t werr = {0};
    r->pending++;
    if (gr_work_submit(a->cat->ctx, own_search_work, own_search_done, r, &werr) != 0) {
        r->pending--;
        r->error = gr_xasprintf("catalog mutation: %s", werr.message);
        search_rows_sorted(r);
    }

    const char **keys = gr_xcalloc(r->nwritten * 2 + 1, sizeof *keys);
    for (size_t w = 0; w < r->nwritten; w++) {
        keys[2 * w] = r->written[w]->uid;
        keys[2 * w + 1] = r->written[w]->ref;
    }
    const char *provider = a->provider;
    send_sql(r, "CREATE TEMP TABLE written (uid uuid, ref text) ON COMMIT DROP", 0, NULL);
    send_copy(r, "written", written_columns, uuid_text_types, 2, keys, r->nwritten);
    free(keys);
    send_sql(r, "ANALYZE written", 0, NULL);
    send_sql(r, "CREATE TEMP TABLE gone (uid uuid, ref text, removed boolean) ON COMMIT DROP", 0,
             NULL);
    send_sql(r, a->full ? SQL_GONE_FULL : SQL_GONE_DELTA, GR_DB_PARAMS(provider));
    label(r, "%.*s (%zu)", "SELECT count(*) FROM gone WHERE removed", 0);
    r->pending++;
    gr_db_tx_query(r->tx, "SELECT count(*) FROM gone WHERE removed", 0, NULL, on_removed, r);
    /* The sources of the relations that go: their lists change.  Relations
     * and search rows are deleted here, not by foreign keys, whose per-row
     * checks would cost more than the whole bulk load. */
    send_sql(r, "CREATE TEMP TABLE stitch (ref text) ON COMMIT DROP", 0, NULL);
    send_sql(r,
             "INSERT INTO stitch (ref) SELECT r.source_ref FROM relations r "
             "JOIN gone g ON g.uid = r.originating_uid",
             0, NULL);
    send_sql(r, "DELETE FROM relations WHERE originating_uid IN (SELECT uid FROM gone)", 0, NULL);
    send_sql(r, "DELETE FROM search WHERE entity_uid IN (SELECT uid FROM gone)", 0, NULL);
    send_sql(r, "DELETE FROM entities WHERE uid IN (SELECT uid FROM gone)", 0, NULL);
    label(r, "%.*s (%zu)", SQL_EXTERNAL, 0);
    r->pending++;
    gr_db_tx_query(r->tx, SQL_EXTERNAL, 0, NULL, on_external, r);
    /* An empty search table (a first sync) is truncated, which costs
     * nothing: a table made anew in this transaction is filled page after
     * page, where otherwise each full page offers its leftover space to
     * any later, shorter row.  The rows then lie in the order they are
     * loaded, the index's (see own_search_work), which makes building
     * the index a third cheaper. */
    if (r->rebuild_search && r->search_table_bytes == 0)
        send_sql(r, "TRUNCATE search", 0, NULL);
    if (r->rebuild_search)
        send_sql(r, "DROP INDEX search_key_value_idx", 0, NULL);
    if (r->rebuild_search || r->rebuild_relations)
        /* The index builds sort in memory; the default (64 MB) spills to
         * disk on large catalogs. */
        send_sql(r, "SET LOCAL maintenance_work_mem = '256MB'", 0, NULL);
    if (r->rebuild_relations)
        send_sql(r, "DROP INDEX relations_source_idx", 0, NULL);
    queue_phase2_loads(r);
}

/* ---- phase 1: classify the incoming entities --------------------------------- */

static catalog_prepared_t **find_item(catalog_apply_t *a, const char *ref, size_t *index)
{
    size_t lo = 0, hi = a->nitems;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(a->items[mid]->ref, ref);
        if (c == 0) {
            *index = mid;
            return &a->items[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void on_existing(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    run_t *r = ud;
    catalog_apply_t *a = r->a;
    step_timing(r);
    note_error(r, err, "catalog mutation: read existing entities");
    for (int row = 0; !err && row < gr_db_result_rows(res); row++) {
        const char *ref = gr_db_result_value(res, row, 0);
        const char *owner = gr_db_result_value(res, row, 1);
        const char *etag = gr_db_result_value(res, row, 2);
        const char *created_at = gr_db_result_value(res, row, 3);
        size_t i;
        catalog_prepared_t **hit = ref ? find_item(a, ref, &i) : NULL;
        if (!hit)
            continue;
        catalog_prepared_t *p = *hit;
        if (owner && strcmp(owner, a->provider) != 0) {
            r->state[i] = ST_CONFLICT;
            p->rejected = 1;
            free(p->reject_path);
            free(p->reject_message);
            p->reject_path = gr_xstrdup("");
            p->reject_message = gr_xasprintf(
                "conflict: %s is already provided by '%s', which keeps it; remove it from one "
                "of the two sources",
                ref, owner);
        } else if (etag && strcmp(etag, p->etag) == 0) {
            r->state[i] = ST_UNCHANGED;
        } else {
            r->state[i] = ST_UPDATED;
            free(r->created_at[i]);
            r->created_at[i] = created_at ? gr_xstrdup(created_at) : NULL;
        }
    }
    for (size_t i = 0; i < a->nitems; i++)
        if (r->state[i] != ST_CONFLICT)
            r->counts[r->state[i] == ST_ADDED ? 0 : r->state[i] == ST_UPDATED ? 1 : 3]++;
    step_done(r);
}

static const char *const key_columns[] = {"ref", "etag"};
static const int key_types[] = {GR_DB_COPY_TEXT, GR_DB_COPY_TEXT};

static void on_sizes(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    run_t *r = ud;
    step_timing(r);
    note_error(r, err, "catalog mutation: read the size of the tables");
    if (!err) {
        gr_db_result_int64(res, 0, 0, &r->search_table_bytes);
        gr_db_result_int64(res, 0, 1, &r->relations_table_bytes);
    }
    step_done(r);
}

static void phase_classify(gr_db_tx_t *tx, const gr_db_error_t *err, void *ud)
{
    run_t *r = ud;
    catalog_apply_t *a = r->a;
    if (err) {
        note_error(r, err, "catalog mutation: begin");
        run_finish(r);
        return;
    }
    r->tx = tx;
    r->last_ms = gr_now_ms();
    const char **keys = gr_xcalloc(a->nitems * 2 + 1, sizeof *keys);
    for (size_t i = 0; i < a->nitems; i++) {
        keys[2 * i] = a->items[i]->ref;
        keys[2 * i + 1] = a->items[i]->etag;
    }
    r->next = phase_clear;
    send_sql(r, "SELECT pg_advisory_xact_lock(" CATALOG_MUTATION_LOCK ")", 0, NULL);
    /* A commit lost to a crash costs a sync that the provider redoes on its
     * next run; a later synchronous commit (the provider's status document)
     * flushes this one with it. */
    send_sql(r, "SET LOCAL synchronous_commit = off", 0, NULL);
    send_sql(r, "CREATE TEMP TABLE stage_keys (ref text PRIMARY KEY, etag text) ON COMMIT DROP", 0,
             NULL);
    send_copy(r, "stage_keys", key_columns, key_types, 2, keys, a->nitems);
    send_sql(r, "ANALYZE stage_keys", 0, NULL);
    if (!a->full) {
        send_sql(r, "CREATE TEMP TABLE stage_removed (ref text PRIMARY KEY) ON COMMIT DROP", 0,
                 NULL);
        /* Duplicates in the list would break the primary key: drop them. */
        gr_strvec_t unique = {0};
        for (size_t i = 0; i < a->removed_refs.len; i++)
            if (!gr_strvec_contains(&unique, a->removed_refs.items[i]))
                gr_strvec_push(&unique, a->removed_refs.items[i]);
        send_copy(r, "stage_removed", ref_columns, NULL, 1, (const char *const *)unique.items,
                  unique.len);
        gr_strvec_free(&unique);
    }
    label(r, "%.*s (%zu)", "SELECT the size of the tables", 0);
    r->pending++;
    gr_db_tx_query(r->tx, "SELECT pg_relation_size('search'), pg_relation_size('relations')", 0,
                   NULL, on_sizes, r);
    label(r, "%.*s (%zu)", "SELECT the existing entities", 0);
    r->pending++;
    gr_db_tx_query(r->tx,
                   "SELECT e.ref, e.provider, e.etag, e.created_at FROM entities e "
                   "JOIN stage_keys k ON k.ref = e.ref",
                   0, NULL, on_existing, r);
    free(keys);
}

void catalog_store_apply(catalog_apply_t *apply, catalog_apply_done_fn done, void *user_data)
{
    run_t *r = gr_xcalloc(1, sizeof *r);
    r->a = apply;
    r->done = done;
    r->user_data = user_data;
    r->state = gr_xcalloc(apply->nitems + 1, 1);
    r->created_at = gr_xcalloc(apply->nitems + 1, sizeof *r->created_at);
    catalog_ref(apply->cat);
    gr_db_begin(apply->cat->ctx->db, phase_classify, r);
}
