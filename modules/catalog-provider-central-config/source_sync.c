/* modules/catalog-provider-central-config/source_sync.c: the runs of a
 * config source's sync, from the scheduler's start to its done (see
 * source_sync.h). */
#include <stdlib.h>

#include "source_sync.h"

/* How often a run asks the scheduler whether it was cancelled (timed out,
 * or the host is stopping): often enough that a cancelled fetch stops
 * soon, rarely enough to cost nothing. */
#define WATCH_INTERVAL_MS 250

void cc_sync_init(cc_sync_t *sync, const cc_sync_ops_t *ops, void *owner, gr_context_t *ctx,
                  cc_source_t *source, const char *log_prefix)
{
    *sync = (cc_sync_t){
        .ops = ops,
        .owner = owner,
        .ctx = ctx,
        .source = source,
        .log_prefix = gr_xstrdup(log_prefix),
        .last_start_wall_ms = -1,
    };
}

void cc_sync_free(cc_sync_t *sync)
{
    free(sync->log_prefix);
    sync->log_prefix = NULL;
}

/* ---- the end of a run ---------------------------------------------------------------------- */

static void run_closed(uv_handle_t *h)
{
    cc_sync_run_t *run = h->data;
    if (run->previous)
        json_object_put(run->previous);
    free(run->root);
    free(run->revision);
    free(run->location_prefix);
    free(run->message);
    run->sync->ops->run_free(run);
}

void cc_sync_done(cc_sync_run_t *run)
{
    cc_sync_t *sync = run->sync;
    uv_timer_stop(&run->watch);
    sync->run = NULL;
    gr_task_done(run->task, run->status, run->status ? run->message : NULL);
    uv_close((uv_handle_t *)&run->watch, run_closed);
}

void cc_sync_fail(cc_sync_run_t *run, int status, const char *message)
{
    uv_timer_stop(&run->watch);
    run->status = status ? status : GR_ERR_INTERNAL;
    if (!run->message)
        run->message = gr_xstrdup(message ? message : gr_status_name(run->status));
    run->sync->ops->failed(run);
}

int cc_sync_run_stopped(const cc_sync_run_t *run)
{
    return run->cancelled || run->sync->stopping;
}

/* ---- the steps ------------------------------------------------------------------------------ */

static void run_work(void *arg)
{
    cc_sync_run_t *run = arg;
    run->sync->ops->work(run);
}

static void run_worked(void *arg, int status)
{
    cc_sync_run_t *run = arg;
    /* A work item the pool dropped (shutdown) never ran. */
    if (status != 0 || cc_sync_run_stopped(run)) {
        cc_sync_fail(run, GR_ERR_CANCELED, CC_SYNC_CANCELLED);
        return;
    }
    run->sync->ops->worked(run);
}

static void on_fetched(cc_source_t *src, int status, const char *message, const char *root,
                       const char *revision, void *ud)
{
    cc_sync_run_t *run = ud;
    run->fetch_ms = gr_now_ms() - run->start_mono_ms;
    if (status != 0) {
        char *msg = gr_xasprintf("source %s: %s", src->ops->type, message);
        cc_sync_fail(run, status, msg);
        free(msg);
        return;
    }
    if (cc_sync_run_stopped(run)) {
        cc_sync_fail(run, GR_ERR_CANCELED, CC_SYNC_CANCELLED);
        return;
    }
    run->root = gr_xstrdup(root);
    run->revision = revision ? gr_xstrdup(revision) : NULL;
    run->location_prefix = src->ops->location_prefix(src, root);
    gr_error_t err = {0};
    if (gr_work_submit(run->sync->ctx, run_work, run_worked, run, &err) != 0)
        cc_sync_fail(run, err.code, err.message);
}

void cc_sync_previous_loaded(cc_sync_run_t *run, struct json_object *status, const gr_error_t *err)
{
    cc_sync_t *sync = run->sync;
    if (err)
        gr_log_warn(sync->ctx->log, "%sprevious sync status unreadable: %s", sync->log_prefix,
                    err->message);
    run->previous = status ? json_object_get(status) : NULL;
    if (cc_sync_run_stopped(run)) {
        cc_sync_fail(run, GR_ERR_CANCELED, CC_SYNC_CANCELLED);
        return;
    }
    sync->source->ops->fetch(sync->source, sync->schedule.timeout_ms, on_fetched, run);
}

/* ---- the start, and cancelling --------------------------------------------------------------- */

static void cancel_run(cc_sync_t *sync)
{
    cc_sync_run_t *run = sync->run;
    if (!run || run->cancelled)
        return;
    run->cancelled = 1;
    sync->source->ops->cancel(sync->source);
}

void cc_sync_stop(cc_sync_t *sync)
{
    sync->stopping = 1;
    cancel_run(sync);
}

static void on_watch(uv_timer_t *t)
{
    cc_sync_run_t *run = t->data;
    if (!run->cancelled && gr_task_cancelled(run->task))
        cancel_run(run->sync);
}

static void sync_task(gr_task_t *task, void *user_data)
{
    cc_sync_t *sync = user_data;
    if (sync->stopping || sync->run) {
        gr_task_done(task, GR_ERR_CANCELED, sync->stopping ? "shutting down" : "already running");
        return;
    }
    cc_sync_run_t *run = sync->ops->run_new(sync);
    run->sync = sync;
    run->task = task;
    run->start_wall_ms = cc_wall_ms();
    run->start_mono_ms = gr_now_ms();
    sync->run = run;
    sync->last_start_wall_ms = run->start_wall_ms;
    uv_timer_init(sync->ctx->loop, &run->watch);
    run->watch.data = run;
    uv_timer_start(&run->watch, on_watch, WATCH_INTERVAL_MS, WATCH_INTERVAL_MS);
    sync->ops->load_previous(run);
}

int cc_sync_schedule(cc_sync_t *sync, const char *task_id, gr_error_t *err)
{
    gr_context_t *ctx = sync->ctx;
    if (sync->schedule.scope == GR_TASK_GLOBAL) {
        gr_error_t serr = {0};
        if (gr_scheduler_add(ctx->scheduler, task_id, &sync->schedule, sync_task, sync, &serr) == 0)
            goto scheduled;
        if (serr.code != GR_ERR_UNSUPPORTED)
            return gr_error_set(err, serr.code, "%s", serr.message);
        /* The host cannot hold a cluster-wide lease yet: run on every host. */
        gr_log_warn(ctx->log,
                    "%sscope global is not available on this host; syncing with scope local",
                    sync->log_prefix);
        sync->schedule.scope = GR_TASK_LOCAL;
    }
    int rc = gr_scheduler_add(ctx->scheduler, task_id, &sync->schedule, sync_task, sync, err);
    if (rc != 0)
        return rc;
scheduled:
    sync->scheduled_mono_ms = gr_now_ms();
    gr_log_info(ctx->log, "%s%s source, every %llu s", sync->log_prefix, sync->source->ops->type,
                (unsigned long long)(sync->schedule.frequency_ms / 1000));
    return 0;
}

/* ---- status documents ------------------------------------------------------------------------ */

uint64_t cc_sync_status_fill(const cc_sync_run_t *run, struct json_object *doc)
{
    cc_source_t *src = run->sync->source;
    struct json_object *source = json_object_new_object();
    src->ops->describe(src, source);
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
    uint64_t duration_ms = gr_now_ms() - run->start_mono_ms;
    json_object_object_add(doc, "durationMs", json_object_new_int64((int64_t)duration_ms));
    return duration_ms;
}

void cc_sync_status_pending(const cc_sync_t *sync, struct json_object *doc)
{
    struct json_object *source = json_object_new_object();
    sync->source->ops->describe(sync->source, source);
    json_object_object_add(doc, "source", source);
    json_object_object_add(doc, "status", json_object_new_string("pending"));
    json_object_object_add(doc, "lastAttempt", NULL);
    json_object_object_add(doc, "lastSuccess", NULL);
}

void cc_sync_status_live(const cc_sync_t *sync, struct json_object *doc)
{
    const gr_schedule_t *s = &sync->schedule;
    json_object_object_add(doc, "running", json_object_new_boolean(sync->run != NULL));
    struct json_object *schedule = json_object_new_object();
    json_object_object_add(schedule, "frequencyMs",
                           json_object_new_int64((int64_t)s->frequency_ms));
    json_object_object_add(schedule, "timeoutMs", json_object_new_int64((int64_t)s->timeout_ms));
    json_object_object_add(doc, "schedule", schedule);
    struct json_object *next = NULL;
    if (s->frequency_ms && !sync->run) {
        /* Before this host's first run, the first start is the initial
         * delay after the task was scheduled. */
        int64_t at = sync->last_start_wall_ms >= 0
                         ? sync->last_start_wall_ms + (int64_t)s->frequency_ms
                         : cc_wall_ms() - (int64_t)(gr_now_ms() - sync->scheduled_mono_ms) +
                               (int64_t)s->initial_delay_ms;
        char *iso = cc_iso_time(at);
        next = json_object_new_string(iso);
        free(iso);
    }
    json_object_object_add(doc, "nextRunAt", next);
}
