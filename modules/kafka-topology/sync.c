/* modules/kafka-topology/sync.c: one sync, start to end:
 *
 *   previous status (for lastSuccess) → source fetch → collect, index and
 *   rows (thread pool) → model and status stored in one transaction →
 *   model published to the API and the listeners → task done.
 *
 * Every step is a callback on the loop.  A failure at any step ends the
 * run with a failed status that keeps the previous lastSuccess, and the
 * model served stays the previous one; problems in files do not fail the
 * run, they are stored with the model and listed in the status. */
#include <stdlib.h>
#include <string.h>

#include "kafka_plugin.h"

typedef struct kt_run {
    kt_plugin_t *p;
    gr_task_t *task;
    int64_t start_wall_ms;
    uint64_t start_mono_ms;
    uint64_t fetch_ms, parse_ms, prepare_ms; /* step durations */
    uv_timer_t watch;                        /* polls gr_task_cancelled */
    int cancelled;
    struct json_object *previous; /* the status saved last, or NULL */
    char *root;
    char *revision;
    char *location_prefix;
    kt_collect_t collect;
    kt_model_t *model; /* built with the rows, published once stored */
    kt_rows_t rows;
    int status;
    char *message;
} kt_run_t;

static const char *const cancelled_message = "the sync was cancelled (timeout or shutdown)";

/* ---- the status document ---------------------------------------------------------------- */

static struct json_object *int_of(size_t n)
{
    return json_object_new_int64((int64_t)n);
}

static struct json_object *status_document(kt_run_t *run)
{
    kt_plugin_t *p = run->p;
    const kafka_topology_t *t = run->collect.topology;
    struct json_object *doc = json_object_new_object();
    struct json_object *source = json_object_new_object();
    p->source.ops->describe(&p->source, source);
    if (run->revision)
        json_object_object_add(source, "revision", json_object_new_string(run->revision));
    json_object_object_add(doc, "source", source);
    json_object_object_add(doc, "status",
                           json_object_new_string(run->status == 0 ? "succeeded" : "failed"));
    char *attempt = cc_iso_time(run->start_wall_ms);
    json_object_object_add(doc, "lastAttempt", json_object_new_string(attempt));
    struct json_object *last_success = NULL;
    if (run->status == 0)
        last_success = json_object_new_string(attempt);
    else if (run->previous &&
             json_object_object_get_ex(run->previous, "lastSuccess", &last_success))
        last_success = json_object_get(last_success);
    json_object_object_add(doc, "lastSuccess", last_success);
    free(attempt);
    uint64_t total = gr_now_ms() - run->start_mono_ms;
    json_object_object_add(doc, "durationMs", json_object_new_int64((int64_t)total));
    struct json_object *timings = json_object_new_object();
    json_object_object_add(timings, "fetchMs", json_object_new_int64((int64_t)run->fetch_ms));
    json_object_object_add(timings, "parseMs", json_object_new_int64((int64_t)run->parse_ms));
    json_object_object_add(timings, "prepareMs", json_object_new_int64((int64_t)run->prepare_ms));
    if (run->status == 0)
        json_object_object_add(timings, "storeMs",
                               json_object_new_int64((int64_t)(total - run->fetch_ms -
                                                               run->parse_ms - run->prepare_ms)));
    json_object_object_add(doc, "timings", timings);
    if (run->status != 0)
        json_object_object_add(doc, "error",
                               json_object_new_string(run->message ? run->message : "failed"));
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

static void watch_closed(uv_handle_t *h)
{
    kt_run_t *run = h->data;
    kt_plugin_t *p = run->p;
    if (run->previous)
        json_object_put(run->previous);
    kt_rows_free(&run->rows);
    kt_model_unref(run->model); /* its topology is collect's, handed over */
    if (!run->model)
        kt_collect_free(&run->collect);
    free(run->root);
    free(run->revision);
    free(run->location_prefix);
    free(run->message);
    free(run);
    kt_plugin_unref(p);
}

static void run_close(kt_run_t *run)
{
    kt_plugin_t *p = run->p;
    const char *result = run->status == 0 ? "succeeded" : "failed";
    gr_metric_inc(gr_metric_labels(p->syncs_total, &result));
    gr_metric_observe(p->sync_seconds, (double)(gr_now_ms() - run->start_mono_ms) / 1000.0);
    p->run = NULL;
    gr_task_done(run->task, run->status, run->status ? run->message : NULL);
    uv_close((uv_handle_t *)&run->watch, watch_closed);
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

static void run_fail(kt_run_t *run, int status, const char *message)
{
    kt_plugin_t *p = run->p;
    uv_timer_stop(&run->watch);
    run->status = status ? status : GR_ERR_INTERNAL;
    if (!run->message)
        run->message = gr_xstrdup(message ? message : gr_status_name(status));
    gr_log_warn(p->ctx->log, "sync failed: %s", run->message);
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
        run_fail(run, err->code, err->message);
        return;
    }
    uv_timer_stop(&run->watch);
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
                run->collect.files, (unsigned long long)(gr_now_ms() - run->start_mono_ms),
                (unsigned long long)run->fetch_ms, (unsigned long long)run->parse_ms,
                (unsigned long long)run->prepare_ms, t->nclusters, t->ntopics, t->nprincipals,
                t->nedges, t->nproblems, (unsigned long long)generation);
    run->model->pub.generation = generation;
    run->model->synced_wall_ms = cc_wall_ms();
    kt_plugin_publish(p, kt_model_ref(run->model));
    run_close(run);
}

/* ---- the steps ---------------------------------------------------------------------------- */

static void parse_work(void *arg)
{
    kt_run_t *run = arg;
    uint64_t start = gr_now_ms();
    kt_collect_run(&run->p->options, run->root, &run->collect);
    uint64_t parsed_at = gr_now_ms();
    run->parse_ms = parsed_at - start;
    if (run->collect.topology) {
        run->model = kt_model_new(run->collect.topology, 0, run->location_prefix, run->revision,
                                  run->start_wall_ms);
        kt_rows_build(run->collect.topology, &run->rows);
    }
    run->prepare_ms = gr_now_ms() - parsed_at;
}

static void parsed(void *arg, int status)
{
    kt_run_t *run = arg;
    kt_plugin_t *p = run->p;
    if (status != 0 || run->cancelled || p->stopping) {
        run_fail(run, GR_ERR_CANCELED, cancelled_message);
        return;
    }
    if (run->collect.status != 0) {
        run_fail(run, run->collect.status, run->collect.message);
        return;
    }
    kt_store_save(p, &run->rows, run->location_prefix, run->revision, make_status, stored, run);
}

static void on_fetched(cc_source_t *src, int status, const char *message, const char *root,
                       const char *revision, void *ud)
{
    kt_run_t *run = ud;
    kt_plugin_t *p = run->p;
    run->fetch_ms = gr_now_ms() - run->start_mono_ms;
    if (status != 0) {
        char *msg = gr_xasprintf("source %s: %s", src->ops->type, message);
        run_fail(run, status, msg);
        free(msg);
        return;
    }
    if (run->cancelled) {
        run_fail(run, GR_ERR_CANCELED, cancelled_message);
        return;
    }
    run->root = gr_xstrdup(root);
    run->revision = revision ? gr_xstrdup(revision) : NULL;
    run->location_prefix = src->ops->location_prefix(src, root);
    gr_error_t err = {0};
    if (gr_work_submit(p->ctx, parse_work, parsed, run, &err) != 0)
        run_fail(run, err.code, err.message);
}

static void on_previous(kt_plugin_t *p, struct json_object *status, const gr_error_t *err, void *ud)
{
    kt_run_t *run = ud;
    /* Without the previous document the run still goes on; only
     * lastSuccess of a failed run would be missing. */
    if (err)
        gr_log_warn(p->ctx->log, "previous sync status unreadable: %s", err->message);
    run->previous = status ? json_object_get(status) : NULL;
    if (p->stopping || run->cancelled) {
        run_fail(run, GR_ERR_CANCELED, cancelled_message);
        return;
    }
    p->source.ops->fetch(&p->source, p->schedule.timeout_ms, on_fetched, run);
}

static void on_watch(uv_timer_t *t)
{
    kt_run_t *run = t->data;
    if (!run->cancelled && gr_task_cancelled(run->task))
        kt_sync_cancel(run->p);
}

void kt_sync_cancel(kt_plugin_t *p)
{
    kt_run_t *run = p->run;
    if (!run || run->cancelled)
        return;
    run->cancelled = 1;
    p->source.ops->cancel(&p->source);
}

void kt_sync_task(gr_task_t *task, void *user_data)
{
    kt_plugin_t *p = user_data;
    if (p->stopping || p->run) {
        gr_task_done(task, GR_ERR_CANCELED, p->stopping ? "shutting down" : "already running");
        return;
    }
    kt_run_t *run = gr_xcalloc(1, sizeof *run);
    run->p = p;
    run->task = task;
    run->start_wall_ms = cc_wall_ms();
    run->start_mono_ms = gr_now_ms();
    p->run = run;
    p->last_start_wall_ms = run->start_wall_ms;
    kt_plugin_ref(p);
    uv_timer_init(p->ctx->loop, &run->watch);
    run->watch.data = run;
    uv_timer_start(&run->watch, on_watch, 250, 250);
    kt_store_status_load(p, on_previous, run);
}
