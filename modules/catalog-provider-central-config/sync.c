/* modules/catalog-provider-central-config/sync.c: one sync of one
 * provider, start to end:
 *
 *   previous status (for lastSuccess) → source fetch → scan (thread pool)
 *   → the catalog's full mutation → status document saved → task done.
 *
 * The runner shared with the other config-source modules (source_sync.h)
 * takes the run from the scheduler's start to the fetched directory and
 * calls back here.  Every step is a callback on the loop.  A failure at
 * any step ends the run with a failed status that keeps the previous
 * lastSuccess; file-level problems do not fail the run, they are listed in
 * the status. */
#include <stdlib.h>

#include "central_config.h"

/* A status document lists at most this many file errors, so one badly
 * broken repository cannot grow it without bound; the count stays exact. */
#define STATUS_MAX_ERRORS 1000

typedef struct cc_run {
    cc_sync_run_t base; /* first: the runner's part */
    cc_provider_t *p;
    cc_scan_options_t opts; /* the provider's, with this run's root and prefix */
    cc_scan_result_t scan;
    cc_scan_job_t *job;
    size_t parts_left;
    int scan_failed;  /* a part was cancelled before it ran */
    size_t counts[4]; /* added, updated, removed, unchanged */
} cc_run_t;

/* ---- the status document ------------------------------------------------------------------ */

static struct json_object *status_document(cc_run_t *run)
{
    cc_provider_t *p = run->p;
    struct json_object *doc = json_object_new_object();
    json_object_object_add(doc, "providerId", json_object_new_string(p->id));
    cc_sync_status_fill(&run->base, doc);
    if (run->base.status != 0)
        json_object_object_add(doc, "error", json_object_new_string(run->base.message));
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

/* ---- the end of a run: the status saved, whatever the outcome -------------------------------- */

static void on_status_saved(struct json_object *status, const gr_error_t *err, void *ud)
{
    (void)status;
    cc_run_t *run = ud;
    cc_provider_t *p = run->p;
    cc_module_t *m = p->mod;
    if (err)
        gr_log_warn(m->ctx->log, "provider %s: the sync status was not saved: %s", p->id,
                    err->message);
    uint64_t elapsed_ms = gr_now_ms() - run->base.start_mono_ms;
    const char *labels[] = {p->id, run->base.status == 0 ? "succeeded" : "failed"};
    gr_metric_inc(gr_metric_labels(m->syncs_total, labels));
    gr_metric_observe(gr_metric_labels(m->sync_seconds, labels), (double)elapsed_ms / 1000.0);
    gr_metric_set(gr_metric_labels(m->sync_errors, labels), (double)run->scan.nerrors);
    if (run->base.status == 0)
        gr_log_info(m->ctx->log,
                    "provider %s: synced %zu entities from %zu files in %llu ms: %zu added, %zu "
                    "updated, %zu removed, %zu unchanged, %zu file errors",
                    p->id, run->scan.nentities, run->scan.files, (unsigned long long)elapsed_ms,
                    run->counts[0], run->counts[1], run->counts[2], run->counts[3],
                    run->scan.nerrors);
    else
        gr_log_warn(m->ctx->log, "provider %s: sync failed: %s", p->id, run->base.message);
    cc_sync_done(&run->base);
}

/* Both ends, success (from on_applied) and failure (the runner's failed
 * hook), save the status document the same way. */
static void save_status(cc_sync_run_t *base)
{
    cc_run_t *run = (cc_run_t *)base;
    struct json_object *doc = status_document(run);
    catalog_provider_status_save(run->p->mod->catalog, run->p->catalog, doc, on_status_saved, run);
    json_object_put(doc);
}

/* ---- the steps ------------------------------------------------------------------------------ */

static void on_applied(const catalog_mutation_result_t *result, void *ud)
{
    cc_run_t *run = ud;
    if (result->status != 0) {
        char *msg = gr_xasprintf("the catalog did not apply the sync: %s", result->message);
        cc_sync_fail(&run->base, result->status, msg);
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
    save_status(&run->base);
}

/* The scan runs in three steps on the thread pool: list the files (one
 * item, the runner's work step), read them (up to SCAN_PARTS items at
 * once), merge (on the loop: it only moves pointers and sorts). */
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
    if (run->scan_failed || cc_sync_run_stopped(&run->base)) {
        cc_sync_fail(&run->base, GR_ERR_CANCELED, CC_SYNC_CANCELLED);
        return;
    }
    if (run->scan.status != 0) {
        cc_sync_fail(&run->base, run->scan.status, run->scan.message);
        return;
    }
    gr_log_debug(m->ctx->log, "provider %s: scanned %zu files into %zu entities in %llu ms", p->id,
                 run->scan.files, run->scan.nentities,
                 (unsigned long long)(gr_now_ms() - run->base.start_mono_ms));
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

static void list_work(cc_sync_run_t *base)
{
    cc_run_t *run = (cc_run_t *)base;
    /* The options borrow the provider's lists and the run's directory. */
    run->opts = run->p->scan;
    run->opts.root = base->root;
    run->opts.location_prefix = base->location_prefix;
    run->job = cc_scan_begin(&run->opts, SCAN_PARTS, &run->scan);
}

static void listed(cc_sync_run_t *base)
{
    cc_run_t *run = (cc_run_t *)base;
    if (!run->job) {
        /* The root itself failed: scan.status says why. */
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

static void load_previous_done(struct json_object *status, const gr_error_t *err, void *ud)
{
    cc_sync_previous_loaded(ud, status, err);
}

static void load_previous(cc_sync_run_t *base)
{
    cc_run_t *run = (cc_run_t *)base;
    catalog_provider_status_load(run->p->mod->catalog, run->p->catalog, load_previous_done, base);
}

/* ---- a run's life ---------------------------------------------------------------------------- */

static cc_sync_run_t *run_new(cc_sync_t *sync)
{
    cc_provider_t *p = sync->owner;
    cc_run_t *run = gr_xcalloc(1, sizeof *run);
    run->p = p;
    cc_module_ref(p->mod);
    return &run->base;
}

static void run_free(cc_sync_run_t *base)
{
    cc_run_t *run = (cc_run_t *)base;
    cc_module_t *m = run->p->mod;
    /* A job is left when the run was cancelled between listing and reading. */
    if (run->job)
        cc_scan_finish(run->job);
    cc_scan_result_free(&run->scan);
    free(run);
    cc_module_unref(m);
}

const cc_sync_ops_t cc_provider_sync_ops = {
    .run_new = run_new,
    .load_previous = load_previous,
    .work = list_work,
    .worked = listed,
    .failed = save_status,
    .run_free = run_free,
};
