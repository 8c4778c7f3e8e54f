/* modules/kafka-topology/sync.c: one sync, start to end:
 *
 *   previous status (for lastSuccess) → source fetch → collect, index and
 *   rows (thread pool) → model and status stored in one transaction →
 *   model published to the API and the listeners → task done.
 *
 * The runner shared with the other config-source modules (source_sync.h)
 * takes the run from the scheduler's start to the fetched directory and
 * calls back here.  Every step is a callback on the loop.  A failure at
 * any step ends the
 * run with a failed status that keeps the previous lastSuccess, and the
 * model served stays the previous one; problems in files do not fail the
 * run, they are stored with the model and listed in the status. */
#include <stdlib.h>

#include "kafka_plugin.h"

typedef struct kt_run {
    cc_sync_run_t base; /* first: the runner's part */
    kt_plugin_t *p;
    uint64_t parse_ms, prepare_ms; /* step durations (the fetch's is the runner's) */
    kt_collect_t collect;
    kt_model_t *model; /* built with the rows, published once stored */
    kt_rows_t rows;
} kt_run_t;

/* ---- the status document ---------------------------------------------------------------- */

static struct json_object *int_of(size_t n)
{
    return json_object_new_int64((int64_t)n);
}

static struct json_object *status_document(kt_run_t *run)
{
    const cc_sync_run_t *base = &run->base;
    const kafka_topology_t *t = run->collect.topology;
    struct json_object *doc = json_object_new_object();
    uint64_t total = cc_sync_status_fill(base, doc);
    struct json_object *timings = json_object_new_object();
    json_object_object_add(timings, "fetchMs", json_object_new_int64((int64_t)base->fetch_ms));
    json_object_object_add(timings, "parseMs", json_object_new_int64((int64_t)run->parse_ms));
    json_object_object_add(timings, "prepareMs", json_object_new_int64((int64_t)run->prepare_ms));
    if (base->status == 0)
        json_object_object_add(timings, "storeMs",
                               json_object_new_int64((int64_t)(total - base->fetch_ms -
                                                               run->parse_ms - run->prepare_ms)));
    json_object_object_add(doc, "timings", timings);
    if (base->status != 0)
        json_object_object_add(doc, "error", json_object_new_string(base->message));
    json_object_object_add(doc, "files", int_of(run->collect.files));

    struct json_object *counts = json_object_new_object();
    size_t nbrokers = 0;
    for (size_t i = 0; t && i < t->nclusters; i++)
        nbrokers += t->clusters[i].nbrokers;
    json_object_object_add(counts, "clusters", int_of(t ? t->nclusters : 0));
    json_object_object_add(counts, "brokers", int_of(nbrokers));
    json_object_object_add(counts, "topics", int_of(t ? t->ntopics : 0));
    json_object_object_add(counts, "principals", int_of(t ? t->nprincipals : 0));
    json_object_object_add(counts, "connectors", int_of(t ? t->nconnectors : 0));
    json_object_object_add(counts, "streamsApps", int_of(t ? t->nstreams_apps : 0));
    json_object_object_add(counts, "rights", int_of(t ? t->nrefs : 0));
    json_object_object_add(counts, "edges", int_of(t ? t->nedges : 0));
    json_object_object_add(counts, "problems", int_of(t ? t->nproblems : 0));
    json_object_object_add(counts, "errors",
                           int_of(t ? kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR) : 0));
    json_object_object_add(
        counts, "warnings",
        int_of(t ? kafka_topology_count_problems(t, KAFKA_SEVERITY_WARNING) : 0));
    json_object_object_add(doc, "counts", counts);

    struct json_object *problems = json_object_new_array();
    for (size_t i = 0; t && i < t->nproblems && i < KT_STATUS_MAX_PROBLEMS; i++) {
        const kafka_problem_t *pr = &t->problems[i];
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "path",
                               pr->pos.file ? json_object_new_string(pr->pos.file) : NULL);
        json_object_object_add(o, "line", json_object_new_int64(pr->pos.line));
        json_object_object_add(o, "column", json_object_new_int64(pr->pos.column));
        char *where = pr->pos.line ? gr_xasprintf("%s:%u:%u", pr->pos.file ? pr->pos.file : "?",
                                                  pr->pos.line, pr->pos.column)
                                   : gr_xstrdup(pr->pos.file ? pr->pos.file : "");
        json_object_object_add(o, "where", json_object_new_string(where));
        free(where);
        json_object_object_add(
            o, "severity",
            json_object_new_string(pr->severity == KAFKA_SEVERITY_ERROR ? "error" : "warning"));
        json_object_object_add(o, "check", json_object_new_string(pr->check));
        json_object_object_add(o, "message", json_object_new_string(pr->message));
        json_object_array_add(problems, o);
    }
    json_object_object_add(doc, "problems", problems);
    if (t && t->nproblems > KT_STATUS_MAX_PROBLEMS)
        json_object_object_add(doc, "problemsOmitted",
                               int_of(t->nproblems - KT_STATUS_MAX_PROBLEMS));
    return doc;
}

/* ---- the end of a run ------------------------------------------------------------------- */

static void run_close(kt_run_t *run)
{
    kt_plugin_t *p = run->p;
    const char *result = run->base.status == 0 ? "succeeded" : "failed";
    gr_metric_inc(gr_metric_labels(p->syncs_total, &result));
    gr_metric_observe(p->sync_seconds, (double)(gr_now_ms() - run->base.start_mono_ms) / 1000.0);
    cc_sync_done(&run->base);
}

static void failed_status_saved(kt_plugin_t *p, struct json_object *status, const gr_error_t *err,
                                void *ud)
{
    (void)status;
    kt_run_t *run = ud;
    if (err)
        gr_log_warn(p->ctx->log, "the sync status was not saved: %s", err->message);
    run_close(run);
}

/* A failed run stores only its status document: the model served stays
 * the previous one. */
static void run_failed(cc_sync_run_t *base)
{
    kt_run_t *run = (kt_run_t *)base;
    kt_plugin_t *p = run->p;
    gr_log_warn(p->ctx->log, "sync failed: %s", base->message);
    struct json_object *doc = status_document(run);
    kt_store_status_save(p, doc, failed_status_saved, run);
    json_object_put(doc);
}

static struct json_object *make_status(kt_plugin_t *p, void *ud)
{
    (void)p;
    return status_document(ud);
}

static void stored(kt_plugin_t *p, uint64_t generation, const gr_error_t *err, void *ud)
{
    kt_run_t *run = ud;
    if (err) {
        cc_sync_fail(&run->base, err->code, err->message);
        return;
    }
    const kafka_topology_t *t = run->collect.topology;
    const char *labels[2][1] = {{"error"}, {"warning"}};
    gr_metric_set(gr_metric_labels(p->problems, labels[0]),
                  (double)kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR));
    gr_metric_set(gr_metric_labels(p->problems, labels[1]),
                  (double)kafka_topology_count_problems(t, KAFKA_SEVERITY_WARNING));
    gr_metric_set(p->topics, (double)t->ntopics);
    gr_log_info(p->ctx->log,
                "synced %zu files in %llu ms (fetch %llu, parse %llu, prepare %llu): %zu "
                "clusters, %zu topics, %zu principals, %zu edges, %zu problems; generation %llu",
                run->collect.files, (unsigned long long)(gr_now_ms() - run->base.start_mono_ms),
                (unsigned long long)run->base.fetch_ms, (unsigned long long)run->parse_ms,
                (unsigned long long)run->prepare_ms, t->nclusters, t->ntopics, t->nprincipals,
                t->nedges, t->nproblems, (unsigned long long)generation);
    run->model->pub.generation = generation;
    run->model->synced_wall_ms = cc_wall_ms();
    kt_plugin_publish(p, kt_model_ref(run->model));
    run_close(run);
}

/* ---- the steps ---------------------------------------------------------------------------- */

static void parse_work(cc_sync_run_t *base)
{
    kt_run_t *run = (kt_run_t *)base;
    uint64_t start = gr_now_ms();
    kt_collect_run(&run->p->options, base->root, &run->collect);
    uint64_t parsed_at = gr_now_ms();
    run->parse_ms = parsed_at - start;
    if (run->collect.topology) {
        run->model = kt_model_new(run->collect.topology, 0, base->location_prefix, base->revision,
                                  base->start_wall_ms);
        kt_rows_build(run->collect.topology, &run->rows);
    }
    run->prepare_ms = gr_now_ms() - parsed_at;
}

static void parsed(cc_sync_run_t *base)
{
    kt_run_t *run = (kt_run_t *)base;
    if (run->collect.status != 0) {
        cc_sync_fail(base, run->collect.status, run->collect.message);
        return;
    }
    kt_store_save(run->p, &run->rows, base->location_prefix, base->revision, make_status, stored,
                  run);
}

static void load_previous_done(kt_plugin_t *p, struct json_object *status, const gr_error_t *err,
                               void *ud)
{
    (void)p;
    cc_sync_previous_loaded(ud, status, err);
}

static void load_previous(cc_sync_run_t *base)
{
    kt_run_t *run = (kt_run_t *)base;
    kt_store_status_load(run->p, load_previous_done, base);
}

/* ---- a run's life ------------------------------------------------------------------------- */

static cc_sync_run_t *run_new(cc_sync_t *sync)
{
    kt_plugin_t *p = sync->owner;
    kt_run_t *run = gr_xcalloc(1, sizeof *run);
    run->p = p;
    kt_plugin_ref(p);
    return &run->base;
}

static void run_free(cc_sync_run_t *base)
{
    kt_run_t *run = (kt_run_t *)base;
    kt_plugin_t *p = run->p;
    kt_rows_free(&run->rows);
    kt_model_unref(run->model); /* its topology is collect's, handed over */
    if (!run->model)
        kt_collect_free(&run->collect);
    free(run);
    kt_plugin_unref(p);
}

const cc_sync_ops_t kt_sync_ops = {
    .run_new = run_new,
    .load_previous = load_previous,
    .work = parse_work,
    .worked = parsed,
    .failed = run_failed,
    .run_free = run_free,
};
