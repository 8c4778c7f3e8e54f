/* modules/catalog/store_apply.c: one provider mutation, in one transaction.
 *
 *   1. Take the catalog's mutation lock (an advisory lock, so mutations of
 *      several hosts sharing the database take turns), load the incoming
 *      refs and etags into a temporary table and read which of them exist,
 *      with which etag and which provider.  That splits the incoming
 *      entities into added, updated, unchanged and conflicting (a ref that
 *      another provider owns: refused, the owner keeps it).
 *   2. Only added and updated entities travel in full: staged, then written
 *      with their relations and search rows.  Entities the provider no
 *      longer emits (full) or asked to remove (delta), and the old rows of
 *      updated ones, are deleted with their relations and search rows.
 *   3. Stitch every entity whose relations may have changed: the written
 *      ones, and the sources of every relation removed or added.  The
 *      relations lists are built once, set-wise; written entities are
 *      inserted with theirs, others updated only when theirs changed.
 *      Stitching also writes the relations.<type> search rows.
 *   4. Commit.  Any failure rolls everything back: readers see the catalog
 *      before or after the mutation, never half of it.
 *
 * Statements are pipelined: each phase sends its statements at once and
 * continues when the last callback has run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    size_t counts[4];     /* added, updated, removed, unchanged */
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
    r->done(a, r->error ? GR_ERR_UNAVAILABLE : 0, r->error, r->counts, r->user_data);
    free(r->error);
    free(r->state);
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

static void send(run_t *r, const char *sql, int nparams, const char *const *params)
{
    label(r, "%.*s (%zu)", sql, (size_t)nparams);
    r->pending++;
    gr_db_tx_query(r->tx, sql, nparams, params, on_step, r);
}

static void send_copy(run_t *r, const char *table, const char *const *columns, size_t ncolumns,
                      const char *const *values, size_t nrows)
{
    if (nrows == 0)
        return;
    label(r, "COPY %.*s: %zu rows", table, nrows);
    r->pending++;
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

/* ---- phase 3: write what changed, stitch, commit ------------------------------ */

static const char *const stage_columns[] = {"uid",         "ref",        "kind", "namespace",
                                            "name",        "etag",       "body", "location",
                                            "source_path", "source_line"};
#define STAGE_NCOLUMNS (sizeof stage_columns / sizeof stage_columns[0])

static const char *const relation_columns[] = {"originating_uid", "source_ref", "type",
                                               "target_ref"};
static const char *const search_columns[] = {"entity_uid", "key", "value", "original_value"};

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

/* The entities this mutation replaces or removes, with their creation time
 * (kept by a replaced entity) and whether they go for good. */
static const char SQL_GONE_FULL[] =
    "INSERT INTO gone (uid, ref, removed, created_at) "
    "SELECT e.uid, e.ref, NOT EXISTS (SELECT 1 FROM stage s WHERE s.ref = e.ref), e.created_at "
    "FROM entities e WHERE e.provider = $1 AND (e.ref IN (SELECT ref FROM stage) OR "
    "NOT EXISTS (SELECT 1 FROM stage_keys k WHERE k.ref = e.ref))";
static const char SQL_GONE_DELTA[] =
    "INSERT INTO gone (uid, ref, removed, created_at) "
    "SELECT e.uid, e.ref, NOT EXISTS (SELECT 1 FROM stage s WHERE s.ref = e.ref), e.created_at "
    "FROM entities e WHERE e.provider = $1 AND (e.ref IN (SELECT ref FROM stage) OR "
    "(e.ref IN (SELECT ref FROM stage_removed) AND "
    "NOT EXISTS (SELECT 1 FROM stage_keys k WHERE k.ref = e.ref)))";

/* The relations list of every entity whose list may have changed, built
 * once, set-wise: [{"type","targetRef"}] sorted, duplicates (the same
 * relation from two entities) merged. */
static const char SQL_STITCHED[] =
    "CREATE TEMP TABLE stitched ON COMMIT DROP AS "
    "SELECT t.ref, coalesce(x.rels, '[]') AS rels FROM (SELECT DISTINCT ref FROM stitch) t "
    "LEFT JOIN (SELECT d.source_ref, '[' || string_agg('{\"type\":' || to_json(d.type) || "
    "',\"targetRef\":' || to_json(d.target_ref) || '}', ',' ORDER BY d.type, d.target_ref) || ']' "
    "AS rels "
    "FROM (SELECT DISTINCT r.source_ref, r.type, r.target_ref FROM relations r "
    "WHERE r.source_ref IN (SELECT ref FROM stitch)) d GROUP BY d.source_ref) x "
    "ON x.source_ref = t.ref";

/* final_entity is body with "relations" added before its closing brace:
 * body is canonical JSON of an object with at least apiVersion and kind. */
#define FINAL_ENTITY(body, rels) "left(" body ", -1) || ',\"relations\":' || " rels " || '}'"

static const char SQL_INSERT_ENTITIES[] =
    "INSERT INTO entities (uid, ref, kind, namespace, name, etag, body, final_entity, provider, "
    "location, source_path, source_line, created_at, updated_at) "
    "SELECT s.uid, s.ref, s.kind, s.namespace, s.name, s.etag, s.body, " FINAL_ENTITY(
        "s.body", "coalesce(st.rels, '[]')") ", $1, s.location, s.source_path, s.source_line, "
                                             "coalesce(g.created_at, now()), now() FROM stage s "
                                             "LEFT JOIN stitched st ON st.ref = s.ref LEFT JOIN "
                                             "gone g ON g.ref = s.ref";

/* Entities this mutation did not write whose relations changed. */
static const char SQL_RESTITCH[] = "UPDATE entities e SET final_entity = " FINAL_ENTITY(
    "e.body", "st.rels") " "
                         "FROM stitched st WHERE e.ref = st.ref AND NOT EXISTS (SELECT 1 FROM "
                         "stage s WHERE s.ref = "
                         "e.ref) AND e.final_entity IS DISTINCT FROM " FINAL_ENTITY("e.body",
                                                                                    "st.rels");

static const char SQL_RELATION_SEARCH_DELETE[] =
    "DELETE FROM search s USING entities e, stitched st WHERE e.ref = st.ref AND "
    "s.entity_uid = e.uid AND s.key LIKE 'relations.%' AND "
    "NOT EXISTS (SELECT 1 FROM stage g WHERE g.ref = e.ref)";
static const char SQL_RELATION_SEARCH_INSERT[] =
    "INSERT INTO search (entity_uid, key, value, original_value) "
    "SELECT DISTINCT e.uid, 'relations.' || lower(r.type), lower(r.target_ref), r.target_ref "
    "FROM stitched st JOIN entities e ON e.ref = st.ref JOIN relations r ON r.source_ref = st.ref";

/* Ends the run early when the host began shutting down: one batch of a
 * large mutation takes seconds, and shutdown should not wait for all. */
static int stop_early(run_t *r)
{
    if (!r->error && r->a->cat->draining)
        r->error = gr_xstrdup("catalog mutation: the host is shutting down");
    if (!r->error)
        return 0;
    gr_db_tx_rollback(r->tx, on_rolled_back, r);
    return 1;
}

static int changed(const run_t *r, size_t i)
{
    return r->state[i] == ST_ADDED || r->state[i] == ST_UPDATED;
}

/* Batch 3: stitch, write the entities, commit. */
static void phase_stitch(run_t *r)
{
    if (stop_early(r))
        return;
    const char *provider = r->a->provider;
    /* Written entities, and the sources of their new relations. */
    send(r,
         "INSERT INTO stitch (ref) SELECT ref FROM stage UNION ALL "
         "SELECT rel.source_ref FROM relations rel JOIN stage s ON s.uid = rel.originating_uid",
         0, NULL);
    send(r, "ANALYZE stitch", 0, NULL);
    send(r, SQL_STITCHED, 0, NULL);
    send(r, SQL_INSERT_ENTITIES, GR_DB_PARAMS(provider));
    send(r, SQL_RESTITCH, 0, NULL);
    send(r, SQL_RELATION_SEARCH_DELETE, 0, NULL);
    send(r, SQL_RELATION_SEARCH_INSERT, 0, NULL);
    gr_db_tx_commit(r->tx, on_committed, r);
}

/* Batch 2: the search rows of the written entities, the largest load. */
static void phase_search(run_t *r)
{
    catalog_apply_t *a = r->a;
    if (stop_early(r))
        return;
    size_t n = 0;
    for (size_t i = 0; i < a->nitems; i++)
        n += changed(r, i) ? a->items[i]->search.len : 0;
    const char **search = gr_xcalloc(n * 4 + 1, sizeof *search);
    size_t k = 0;
    for (size_t i = 0; i < a->nitems; i++) {
        if (!changed(r, i))
            continue;
        const catalog_search_rows_t *rows = &a->items[i]->search;
        for (size_t j = 0; j < rows->len; j++) {
            search[k++] = a->items[i]->uid;
            search[k++] = rows->items[j].key;
            search[k++] = rows->items[j].value;
            search[k++] = rows->items[j].original;
        }
    }
    r->next = phase_stitch;
    send_copy(r, "search", search_columns, 4, search, n);
    free(search); /* the values were copied */
    if (r->pending == 0) {
        r->next = NULL;
        phase_stitch(r);
    }
}

/* Batch 1: stage the written entities, delete what goes, load relations. */
static void phase_write(run_t *r)
{
    catalog_apply_t *a = r->a;
    if (stop_early(r))
        return;
    size_t nstage = 0, nrel = 0;
    for (size_t i = 0; i < a->nitems; i++) {
        if (!changed(r, i))
            continue;
        nstage++;
        nrel += a->items[i]->relations.len;
    }
    const char **stage = gr_xcalloc(nstage * STAGE_NCOLUMNS + 1, sizeof *stage);
    const char **rels = gr_xcalloc(nrel * 4 + 1, sizeof *rels);
    char(*lines)[16] = gr_xcalloc(nstage + 1, sizeof *lines);
    size_t s = 0, rl = 0;
    for (size_t i = 0; i < a->nitems; i++) {
        if (!changed(r, i))
            continue;
        catalog_prepared_t *p = a->items[i];
        snprintf(lines[s / STAGE_NCOLUMNS], sizeof lines[0], "%u", p->source_line);
        const char *row[STAGE_NCOLUMNS] = {
            p->uid,         p->ref,
            p->kind,        p->namespace,
            p->name,        p->etag,
            p->body,        p->location,
            p->source_path, p->source_line ? lines[s / STAGE_NCOLUMNS] : NULL};
        memcpy(&stage[s], row, sizeof row);
        s += STAGE_NCOLUMNS;
        for (size_t k = 0; k < p->relations.len; k++) {
            rels[rl++] = p->uid;
            rels[rl++] = p->relations.items[k].source;
            rels[rl++] = p->relations.items[k].type;
            rels[rl++] = p->relations.items[k].target;
        }
    }

    const char *provider = a->provider;
    r->next = phase_search;
    send(r,
         "CREATE TEMP TABLE stage (uid uuid, ref text, kind text, namespace text, name text, "
         "etag text, body text, location text, source_path text, source_line integer) "
         "ON COMMIT DROP",
         0, NULL);
    send_copy(r, "stage", stage_columns, STAGE_NCOLUMNS, stage, nstage);
    send(r, "ANALYZE stage", 0, NULL);
    send(r,
         "CREATE TEMP TABLE gone (uid uuid, ref text, removed boolean, created_at timestamptz) "
         "ON COMMIT DROP",
         0, NULL);
    send(r, a->full ? SQL_GONE_FULL : SQL_GONE_DELTA, GR_DB_PARAMS(provider));
    label(r, "%.*s (%zu)", "SELECT count(*) FROM gone WHERE removed", 0);
    r->pending++;
    gr_db_tx_query(r->tx, "SELECT count(*) FROM gone WHERE removed", 0, NULL, on_removed, r);
    /* The sources of the relations that go: their lists change.  Relations
     * and search rows are deleted here, not by foreign keys, whose per-row
     * checks would cost more than the whole bulk load. */
    send(r, "CREATE TEMP TABLE stitch (ref text) ON COMMIT DROP", 0, NULL);
    send(r,
         "INSERT INTO stitch (ref) SELECT r.source_ref FROM relations r "
         "JOIN gone g ON g.uid = r.originating_uid",
         0, NULL);
    send(r, "DELETE FROM relations WHERE originating_uid IN (SELECT uid FROM gone)", 0, NULL);
    send(r, "DELETE FROM search WHERE entity_uid IN (SELECT uid FROM gone)", 0, NULL);
    send(r, "DELETE FROM entities WHERE uid IN (SELECT uid FROM gone)", 0, NULL);
    send_copy(r, "relations", relation_columns, 4, rels, nrel);
    /* The values were copied by the calls above. */
    free(stage);
    free(rels);
    free(lines);
}

/* ---- phase 2: classify the incoming entities --------------------------------- */

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
        }
    }
    for (size_t i = 0; i < a->nitems; i++)
        if (r->state[i] != ST_CONFLICT)
            r->counts[r->state[i] == ST_ADDED ? 0 : r->state[i] == ST_UPDATED ? 1 : 3]++;
    step_done(r);
}

static const char *const key_columns[] = {"ref", "etag"};
static const char *const ref_columns[] = {"ref"};

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
    r->next = phase_write;
    send(r, "SELECT pg_advisory_xact_lock(" CATALOG_MUTATION_LOCK ")", 0, NULL);
    send(r, "CREATE TEMP TABLE stage_keys (ref text PRIMARY KEY, etag text) ON COMMIT DROP", 0,
         NULL);
    send_copy(r, "stage_keys", key_columns, 2, keys, a->nitems);
    send(r, "ANALYZE stage_keys", 0, NULL);
    if (!a->full) {
        send(r, "CREATE TEMP TABLE stage_removed (ref text PRIMARY KEY) ON COMMIT DROP", 0, NULL);
        /* Duplicates in the list would break the primary key: drop them. */
        gr_strvec_t unique = {0};
        for (size_t i = 0; i < a->removed_refs.len; i++)
            if (!gr_strvec_contains(&unique, a->removed_refs.items[i]))
                gr_strvec_push(&unique, a->removed_refs.items[i]);
        send_copy(r, "stage_removed", ref_columns, 1, (const char *const *)unique.items,
                  unique.len);
        gr_strvec_free(&unique);
    }
    label(r, "%.*s (%zu)", "SELECT the existing entities", 0);
    r->pending++;
    gr_db_tx_query(r->tx,
                   "SELECT e.ref, e.provider, e.etag FROM entities e "
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
    catalog_ref(apply->cat);
    gr_db_begin(apply->cat->ctx->db, phase_classify, r);
}
