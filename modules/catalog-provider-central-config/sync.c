/* modules/catalog-provider-central-config/sync.c: one sync of one
 * provider, start to end:
 *
 *   previous status (for lastSuccess) → source fetch → scan (thread pool)
 *   → the catalog's full mutation → status document saved → task done.
 *
 * Every step is a callback on the loop.  A failure at any step ends the
 * run with a failed status that keeps the previous lastSuccess; file-level
 * problems do not fail the run, they are listed in the status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central_config.h"

/* A status document lists at most this many file errors, so one badly
 * broken repository cannot grow it without bound; the count stays exact. */
#define STATUS_MAX_ERRORS 1000

typedef struct cc_run {
    cc_provider_t *p;
    gr_task_t *task;
    int64_t start_wall_ms;
    uint64_t start_mono_ms;
    uv_timer_t watch; /* polls gr_task_cancelled */
    int cancelled;
    struct json_object *previous; /* the status saved last, or NULL */
    cc_scan_options_t opts;       /* the provider's, with this run's root */
    char *revision;
    cc_scan_result_t scan;
    cc_scan_job_t *job;
    size_t parts_left;
    int scan_failed; /* a part was cancelled before it ran */
    int status;
    char *message;
    size_t counts[4]; /* added, updated, removed, unchanged */
} cc_run_t;

/* ---- the status document ------------------------------------------------------------------ */

static struct json_object *status_document(cc_run_t *run, int64_t end_wall_ms)
{
    cc_provider_t *p = run->p;
    struct json_object *doc = json_object_new_object();
    json_object_object_add(doc, "providerId", json_object_new_string(p->id));
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
    json_object_object_add(doc, "durationMs",
                           json_object_new_int64(end_wall_ms - run->start_wall_ms));
    if (run->status != 0)
        json_object_object_add(doc, "error",
                               json_object_new_string(run->message ? run->message : "failed"));
    json_object_object_add(doc, "files", json_object_new_int64((int64_t)run->scan.files));
    json_object_object_add(doc, "entities", json_object_new_int64((int64_t)run->scan.nentities));
    struct json_object *counts = json_object_new_object();
    static const char *const names[] = {"added", "updated", "removed", "unchanged"};
    for (size_t i = 0; i < 4; i++)
        json_object_object_add(counts, names[i], json_object_new_int64((int64_t)run->counts[i]));
    json_object_object_add(counts, "errors", json_object_new_int64((int64_t)run->scan.nerrors));
    json_object_object_add(doc, "counts", counts);
    struct json_object *errors = json_object_new_array();
    for (size_t i = 0; i < run->scan.nerrors && i < STATUS_MAX_ERRORS; i++) {
        const cc_file_error_t *e = &run->scan.errors[i];
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(e->path));
        json_object_object_add(o, "line", json_object_new_int64(e->line));
        json_object_object_add(o, "column", json_object_new_int64(e->column));
        json_object_object_add(o, "message", json_object_new_string(e->message));
        char *where =
            e->line ? gr_xasprintf("%s:%u:%u", e->path, e->line, e->column) : gr_xstrdup(e->path);
        json_object_object_add(o, "where", json_object_new_string(where));
        free(where);
        json_object_array_add(errors, o);
    }
    json_object_object_add(doc, "errors", errors);
    if (run->scan.nerrors > STATUS_MAX_ERRORS)
        json_object_object_add(
            doc, "errorsOmitted",
            json_object_new_int64((int64_t)(run->scan.nerrors - STATUS_MAX_ERRORS)));
    return doc;
}

/* ---- the end of a run ---------------------------------------------------------------------- */

static void watch_closed(uv_handle_t *h)
{
    cc_run_t *run = h->data;
    cc_module_t *m = run->p->mod;
    if (run->previous)
        json_object_put(run->previous);
    cc_scan_result_free(&run->scan);
    /* The options borrow the provider's lists; only root and prefix are the run's. */
    free(run->opts.root);
    free(run->opts.location_prefix);
    free(run->revision);
    free(run->message);
    free(run);
    cc_module_unref(m);
}

static void on_status_saved(struct json_object *status, const gr_error_t *err, void *ud)
{
    (void)status;
    cc_run_t *run = ud;
    cc_provider_t *p = run->p;
    cc_module_t *m = p->mod;
    if (err)
        gr_log_warn(m->ctx->log, "provider %s: the sync status was not saved: %s", p->id,
                    err->message);
    const char *labels[] = {p->id, run->status == 0 ? "succeeded" : "failed"};
    gr_metric_inc(gr_metric_labels(m->syncs_total, labels));
    gr_metric_observe(gr_metric_labels(m->sync_seconds, labels),
                      (double)(gr_now_ms() - run->start_mono_ms) / 1000.0);
    gr_metric_set(gr_metric_labels(m->sync_errors, labels), (double)run->scan.nerrors);
    if (run->status == 0)
        gr_log_info(m->ctx->log,
                    "provider %s: synced %zu entities from %zu files in %llu ms: %zu added, %zu "
                    "updated, %zu removed, %zu unchanged, %zu file errors",
                    p->id, run->scan.nentities, run->scan.files,
                    (unsigned long long)(gr_now_ms() - run->start_mono_ms), run->counts[0],
                    run->counts[1], run->counts[2], run->counts[3], run->scan.nerrors);
    else
        gr_log_warn(m->ctx->log, "provider %s: sync failed: %s", p->id, run->message);
    p->run = NULL;
    gr_task_done(run->task, run->status, run->status ? run->message : NULL);
    uv_close((uv_handle_t *)&run->watch, watch_closed);
}

static void run_end(cc_run_t *run, int status, const char *message)
{
    cc_provider_t *p = run->p;
    cc_module_t *m = p->mod;
    uv_timer_stop(&run->watch);
    run->status = status;
    if (status && !run->message)
        run->message = gr_xstrdup(message ? message : gr_status_name(status));
    struct json_object *doc = status_document(run, cc_wall_ms());
    catalog_provider_status_save(m->catalog, p->catalog, doc, on_status_saved, run);
    json_object_put(doc);
}

/* ---- the steps ------------------------------------------------------------------------------ */

static void on_applied(const catalog_mutation_result_t *result, void *ud)
{
    cc_run_t *run = ud;
    if (result->status != 0) {
        char *msg = gr_xasprintf("the catalog did not apply the sync: %s", result->message);
        run_end(run, result->status, msg);
        free(msg);
        return;
    }
    run->counts[0] = result->added;
    run->counts[1] = result->updated;
    run->counts[2] = result->removed;
    run->counts[3] = result->unchanged;
    /* Entities the catalog refused become errors at their place in the files. */
    for (size_t i = 0; i < result->nrejected; i++) {
        const catalog_rejection_t *rj = &result->rejected[i];
        if (rj->index >= run->scan.nentities)
            continue;
        const cc_scan_entity_t *e = &run->scan.entities[rj->index];
        cc_errors_add(&run->scan.errors, &run->scan.nerrors, e->path, e->line, e->column,
                      rj->message);
    }
    run_end(run, 0, NULL);
}

/* The scan runs in three steps on the thread pool: list the files (one
 * item), read them (up to SCAN_PARTS items at once), merge (on the loop:
 * it only moves pointers and sorts). */
#define SCAN_PARTS 4

typedef struct scan_part {
    cc_run_t *run;
    size_t index;
} scan_part_t;

static void scan_parsed(cc_run_t *run)
{
    cc_provider_t *p = run->p;
    cc_module_t *m = p->mod;
    if (run->job)
        cc_scan_finish(run->job);
    run->job = NULL;
    if (run->scan_failed || run->cancelled || m->stopping) {
        run_end(run, GR_ERR_CANCELED, "the sync was cancelled (timeout or shutdown)");
        return;
    }
    if (run->scan.status != 0) {
        run_end(run, run->scan.status, run->scan.message);
        return;
    }
    gr_log_debug(m->ctx->log, "provider %s: scanned %zu files into %zu entities in %llu ms", p->id,
                 run->scan.files, run->scan.nentities,
                 (unsigned long long)(gr_now_ms() - run->start_mono_ms));
    size_t n = run->scan.nentities;
    catalog_entity_input_t *inputs = gr_xcalloc(n + 1, sizeof *inputs);
    for (size_t i = 0; i < n; i++) {
        cc_scan_entity_t *e = &run->scan.entities[i];
        inputs[i] = (catalog_entity_input_t){e->entity, e->location, e->path, e->line};
        e->entity = NULL; /* the mutation takes it over */
    }
    catalog_provider_apply_full(m->catalog, p->catalog, inputs, n, on_applied, run);
    free(inputs);
}

static void part_work(void *arg)
{
    scan_part_t *sp = arg;
    cc_scan_part(sp->run->job, sp->index);
}

static void part_done(void *arg, int status)
{
    scan_part_t *sp = arg;
    cc_run_t *run = sp->run;
    free(sp);
    if (status != 0)
        run->scan_failed = 1;
    if (--run->parts_left == 0)
        scan_parsed(run);
}

static void list_work(void *arg)
{
    cc_run_t *run = arg;
    run->job = cc_scan_begin(&run->opts, SCAN_PARTS, &run->scan);
}

static void listed(void *arg, int status)
{
    cc_run_t *run = arg;
    if (status != 0 || !run->job || run->cancelled || run->p->mod->stopping) {
        run->scan_failed = status != 0;
        scan_parsed(run);
        return;
    }
    size_t parts = cc_scan_parts(run->job);
    run->parts_left = parts;
    for (size_t i = 0; i < parts; i++) {
        scan_part_t *sp = gr_xcalloc(1, sizeof *sp);
        *sp = (scan_part_t){run, i};
        gr_error_t err = {0};
        if (gr_work_submit(run->p->mod->ctx, part_work, part_done, sp, &err) == 0)
            continue;
        /* Refused (shutting down): these parts will never report. */
        free(sp);
        run->scan_failed = 1;
        run->parts_left -= parts - i;
        if (run->parts_left == 0)
            scan_parsed(run);
        return;
    }
}

static void on_fetched(cc_source_t *src, int status, const char *message, const char *root,
                       const char *revision, void *ud)
{
    (void)src;
    cc_run_t *run = ud;
    cc_provider_t *p = run->p;
    if (status != 0) {
        char *msg = gr_xasprintf("source %s: %s", p->source.ops->type, message);
        run_end(run, status, msg);
        free(msg);
        return;
    }
    if (run->cancelled) {
        run_end(run, GR_ERR_CANCELED, "the sync was cancelled (timeout or shutdown)");
        return;
    }
    run->revision = revision ? gr_xstrdup(revision) : NULL;
    run->opts = p->scan;
    run->opts.root = gr_xstrdup(root);
    run->opts.location_prefix = p->source.ops->location_prefix(&p->source, root);
    gr_error_t err = {0};
    if (gr_work_submit(p->mod->ctx, list_work, listed, run, &err) != 0)
        run_end(run, err.code, err.message);
}

static void on_previous(struct json_object *status, const gr_error_t *err, void *ud)
{
    cc_run_t *run = ud;
    cc_provider_t *p = run->p;
    /* Without the previous document the run still goes on; only
     * lastSuccess of a failed run would be missing. */
    if (err)
        gr_log_warn(p->mod->ctx->log, "provider %s: previous sync status unreadable: %s", p->id,
                    err->message);
    run->previous = status ? json_object_get(status) : NULL;
    if (p->mod->stopping || run->cancelled) {
        run_end(run, GR_ERR_CANCELED, "the sync was cancelled (timeout or shutdown)");
        return;
    }
    p->source.ops->fetch(&p->source, p->schedule.timeout_ms, on_fetched, run);
}

static void on_watch(uv_timer_t *t)
{
    cc_run_t *run = t->data;
    if (!run->cancelled && gr_task_cancelled(run->task))
        cc_sync_cancel(run->p);
}

void cc_sync_cancel(cc_provider_t *p)
{
    cc_run_t *run = p->run;
    if (!run || run->cancelled)
        return;
    run->cancelled = 1;
    p->source.ops->cancel(&p->source);
}

void cc_sync_task(gr_task_t *task, void *user_data)
{
    cc_provider_t *p = user_data;
    cc_module_t *m = p->mod;
    if (m->stopping || p->run) {
        gr_task_done(task, GR_ERR_CANCELED, m->stopping ? "shutting down" : "already running");
        return;
    }
    cc_run_t *run = gr_xcalloc(1, sizeof *run);
    run->p = p;
    run->task = task;
    run->start_wall_ms = cc_wall_ms();
    run->start_mono_ms = gr_now_ms();
    p->run = run;
    p->last_start_wall_ms = run->start_wall_ms;
    cc_module_ref(m);
    uv_timer_init(m->ctx->loop, &run->watch);
    run->watch.data = run;
    uv_timer_start(&run->watch, on_watch, 250, 250);
    catalog_provider_status_load(m->catalog, p->catalog, on_previous, run);
}
