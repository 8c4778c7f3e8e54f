/* core/scheduler.c: scheduled tasks on libuv timers.
 *
 * A registered task (gr__sched_task_t) has a timer `next` for its next start
 * and `deadline` for the timeout of its current run.  A run is a gr_task_t
 * handed to the module; it lives from the start until gr_task_done.  A task
 * has at most one run at a time on this host, plus a `queued` flag for the
 * one start that came due (or was triggered) meanwhile.
 *
 * A global task's `next` timer does not start a run: it asks
 * scheduler_db.c to claim the task's lease, and the run begins only when the
 * claim wins.  The database decides when a global task is due, so its
 * timer is re-armed from the table's next_run after every claim attempt
 * and release, not from the frequency.
 *
 * Starts never happen inside a call from a module (gr_scheduler_trigger,
 * gr_task_done): they go through the `next` timer with a zero timeout, so a
 * task function is never entered while the module is still inside one of
 * its own callbacks. */
#include "scheduler_internal.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_impl.h"
#include "util.h"

const char *const gr__status_succeeded = "succeeded";
const char *const gr__status_failed = "failed";
const char *const gr__status_timed_out = "timed out";
const char *const gr__status_cancelled = "cancelled";

static void gr__task_timer_cb(uv_timer_t *timer);

/* ---- time and randomness ----------------------------------------------------- */

static int64_t gr__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Adds an ISO 8601 UTC string ("2024-05-01T09:30:00.250Z"), or null when ms < 0. */
static void gr__json_add_time(struct json_object *obj, const char *key, int64_t ms)
{
    if (ms < 0) {
        json_object_object_add(obj, key, NULL);
        return;
    }
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char text[80]; /* room for any int the compiler can imagine */
    snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    json_object_object_add(obj, key, json_object_new_string(text));
}

/* A uniform double in [0, 1). */
double gr__sched_random(gr_scheduler_host_t *h)
{
    h->rng ^= h->rng << 13;
    h->rng ^= h->rng >> 7;
    h->rng ^= h->rng << 17;
    return (double)(h->rng >> 11) / 9007199254740992.0;
}

static uint64_t gr__jittered(gr_scheduler_host_t *h, const gr_schedule_t *s, uint64_t wait)
{
    if (s->jitter <= 0 || wait == 0)
        return wait;
    return wait - (uint64_t)((double)wait * s->jitter * gr__sched_random(h));
}

/* ---- the host object ------------------------------------------------------------ */

gr_scheduler_host_t *gr_scheduler_host_new(uv_loop_t *loop, gr_log_t *log, gr_metrics_t *m)
{
    static const char *const task_label[] = {"task", NULL};
    static const char *const task_status_labels[] = {"task", "status", NULL};
    /* Tasks range from a quick poll to an hour-long import. */
    static const double duration_bounds[] = {0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600};

    gr_scheduler_host_t *h = gr_xcalloc(1, sizeof *h);
    h->loop = loop;
    h->log = log;
    h->stop_timeout_ms = GR_SCHEDULER_STOP_TIMEOUT_MS;
    h->default_lease_ms = GR_SCHEDULER_LEASE_MS;
    h->rng = (uv_hrtime() ^ (uint64_t)(uintptr_t)h) | 1u;
    uv_timer_init(loop, &h->stop_timer);
    h->stop_timer.data = h;
    if (m) {
        h->m_runs = gr__metrics_counter(m, "scheduler_task_runs_total",
                                        "Scheduled task runs that ended, by task and outcome.",
                                        task_status_labels);
        h->m_duration = gr__metrics_histogram(
            m, "scheduler_task_duration_seconds", "How long scheduled task runs took.", task_label,
            duration_bounds, sizeof duration_bounds / sizeof duration_bounds[0]);
        h->m_running = gr__metrics_gauge(m, "scheduler_task_running",
                                         "1 while a run of the task is in progress.", task_label);
    }
    return h;
}

gr_scheduler_t *gr_scheduler_host_plugin(gr_scheduler_host_t *h, const char *plugin_id)
{
    if (!h || !plugin_id)
        return NULL;
    for (size_t i = 0; i < h->nplugins; i++)
        if (strcmp(h->plugins[i]->plugin_id, plugin_id) == 0)
            return h->plugins[i];
    gr_scheduler_t *s = gr_xcalloc(1, sizeof *s);
    s->api = &gr__host_api;
    s->host = h;
    s->plugin_id = gr_xstrdup(plugin_id);
    if (h->nplugins == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 8;
        h->plugins = gr_xrealloc(h->plugins, h->cap * sizeof *h->plugins);
    }
    h->plugins[h->nplugins++] = s;
    return s;
}

void gr_scheduler_host_set_stop_timeout(gr_scheduler_host_t *h, uint64_t timeout_ms)
{
    if (h)
        h->stop_timeout_ms = timeout_ms;
}

void gr__sched_arm_in(gr__sched_task_t *t, uint64_t ms)
{
    uv_timer_start(&t->next, gr__task_timer_cb, ms, 0);
}

/* The first start: the initial delay, or at once when triggered already.
 * With a database, the task's row is created (or its stored status read
 * back) first; a global task then follows the table's next_run. */
static void gr__task_arm(gr__sched_task_t *t)
{
    gr_scheduler_host_t *h = t->sched->host;
    uint64_t delay = gr__jittered(h, &t->schedule, t->schedule.initial_delay_ms);
    t->not_before = uv_now(h->loop) + delay;
    gr__sched_db_register(t);
    if (gr__sched_global(t) && t->queued) {
        t->queued = 0;
        gr__sched_db_trigger(t);
    } else if (t->queued) {
        gr__sched_arm_in(t, 0);
    } else if (t->schedule.frequency_ms > 0) {
        gr__sched_arm_in(t, delay);
    }
}

void gr_scheduler_host_start(gr_scheduler_host_t *h)
{
    if (!h || h->state != GR__SCHED_NEW)
        return;
    h->state = GR__SCHED_STARTED;
    /* The loop's clock may be stale after a slow start-up; delays count from now. */
    uv_update_time(h->loop);
    for (size_t i = 0; i < h->nplugins; i++)
        for (size_t j = 0; j < h->plugins[i]->ntasks; j++)
            gr__task_arm(h->plugins[i]->tasks[j]);
}

static void gr__stop_timer_cb(uv_timer_t *timer)
{
    gr_scheduler_host_t *h = timer->data;
    if (h->state != GR__SCHED_STOPPING)
        return;
    /* From here on nothing is sent to the database, which the host may
     * close as soon as `stopped` returns; an abandoned run's lease runs
     * out by itself. */
    h->state = GR__SCHED_STOPPED;
    if (h->db_pending && h->log)
        gr_log_warn(h->log, "scheduler: %zu database write(s) still unanswered at shutdown",
                    h->db_pending);
    for (size_t i = 0; i < h->nplugins; i++) {
        for (size_t j = 0; j < h->plugins[i]->ntasks; j++) {
            gr__sched_task_t *t = h->plugins[i]->tasks[j];
            uv_timer_stop(&t->renew);
            if (t->run && h->log)
                gr_log_warn(h->log,
                            "scheduler: abandoning task %s: it did not call gr_task_done within "
                            "%llu ms of shutdown",
                            t->full_id, (unsigned long long)h->stop_timeout_ms);
        }
    }
    if (h->stopped)
        h->stopped(h->stopped_user_data);
}

void gr_scheduler_host_stop(gr_scheduler_host_t *h, void (*stopped)(void *user_data),
                            void *user_data)
{
    if (!h || h->state >= GR__SCHED_STOPPING)
        return;
    h->state = GR__SCHED_STOPPING;
    h->stopped = stopped;
    h->stopped_user_data = user_data;
    for (size_t i = 0; i < h->nplugins; i++) {
        for (size_t j = 0; j < h->plugins[i]->ntasks; j++) {
            gr__sched_task_t *t = h->plugins[i]->tasks[j];
            uv_timer_stop(&t->next);
            t->queued = 0;
            t->claim_again = 0;
            if (t->run)
                t->run->cancelled = 1;
        }
    }
    if (h->running && h->log)
        gr_log_info(h->log, "scheduler: stopping; waiting up to %llu ms for %zu running task(s)",
                    (unsigned long long)h->stop_timeout_ms, h->running);
    /* Database writes in flight (a release, a status) are waited for too,
     * so another host does not wait for a lease this one gave back. */
    uv_timer_start(&h->stop_timer, gr__stop_timer_cb,
                   h->running || h->db_pending ? h->stop_timeout_ms : 0, 0);
}

void gr__sched_check_stopped(gr_scheduler_host_t *h)
{
    if (h->state == GR__SCHED_STOPPING && h->running == 0 && h->db_pending == 0)
        uv_timer_start(&h->stop_timer, gr__stop_timer_cb, 0, 0);
}

static void gr__host_release(gr_scheduler_host_t *h)
{
    for (size_t i = 0; i < h->nplugins; i++) {
        gr_scheduler_t *s = h->plugins[i];
        for (size_t j = 0; j < s->ntasks; j++) {
            gr__sched_task_t *t = s->tasks[j];
            free(t->run);
            free(t->id);
            free(t->full_id);
            free(t->last_error);
            free(t);
        }
        free(s->tasks);
        free(s->plugin_id);
        free(s);
    }
    free(h->plugins);
    free(h->instance_id);
    free(h);
}

static void gr__closed(uv_handle_t *handle)
{
    gr_scheduler_host_t *h = handle->data;
    if (--h->closing == 0)
        gr__host_release(h);
}

void gr_scheduler_host_free(gr_scheduler_host_t *h)
{
    if (!h)
        return;
    /* Every handle's close callback finds the host through `data`; the
     * memory goes when the last one has closed. */
    h->closing = 1;
    h->stop_timer.data = h;
    gr__sched_db_detach(h);
    uv_close((uv_handle_t *)&h->stop_timer, gr__closed);
    for (size_t i = 0; i < h->nplugins; i++) {
        for (size_t j = 0; j < h->plugins[i]->ntasks; j++) {
            gr__sched_task_t *t = h->plugins[i]->tasks[j];
            t->next.data = h;
            t->deadline.data = h;
            t->renew.data = h;
            h->closing += 3;
            uv_close((uv_handle_t *)&t->next, gr__closed);
            uv_close((uv_handle_t *)&t->deadline, gr__closed);
            uv_close((uv_handle_t *)&t->renew, gr__closed);
        }
    }
}

/* ---- runs ------------------------------------------------------------------------ */

static void gr__deadline_cb(uv_timer_t *timer)
{
    gr__sched_task_t *t = timer->data;
    gr_scheduler_host_t *h = t->sched->host;
    if (!t->run)
        return;
    t->run->cancelled = 1;
    t->run->timed_out = 1;
    if (h->log)
        gr_log_warn(h->log,
                    "scheduler: task %s has run longer than its timeout of %llu ms; it is marked "
                    "cancelled and should stop and call gr_task_done",
                    t->full_id, (unsigned long long)t->schedule.timeout_ms);
}

void gr__sched_begin(gr__sched_task_t *t)
{
    gr_scheduler_host_t *h = t->sched->host;
    gr_task_t *run = gr_xcalloc(1, sizeof *run);
    run->api = &gr__host_api;
    run->task = t;
    run->started_ns = uv_hrtime();
    t->run = run;
    t->run_seq++;
    t->queued = 0;
    t->last_start_ms = gr__wall_ms();
    h->running++;
    if (!gr__sched_global(t) && t->schedule.frequency_ms > 0)
        uv_timer_start(&t->next, gr__task_timer_cb,
                       gr__jittered(h, &t->schedule, t->schedule.frequency_ms), 0);
    if (t->schedule.timeout_ms > 0)
        uv_timer_start(&t->deadline, gr__deadline_cb, t->schedule.timeout_ms, 0);
    if (gr__sched_global(t))
        gr__sched_db_lease_start(t);
    else
        gr__sched_db_save(t);
    gr__metric_set(t->m_running, 1);
    if (h->log)
        gr_log_debug(h->log, "scheduler: task %s started", t->full_id);
    /* The task may call gr_task_done before returning: touch nothing after. */
    t->fn(run, t->user_data);
}

/* A start came due.  A global task claims its lease first; the run begins
 * when the claim wins (see scheduler_db.c). */
static void gr__task_due(gr__sched_task_t *t)
{
    if (t->sched->host->state != GR__SCHED_STARTED)
        return;
    if (gr__sched_global(t)) {
        gr__sched_db_claim(t);
        return;
    }
    if (t->run) {
        t->queued = 1;
        return;
    }
    gr__sched_begin(t);
}

static void gr__task_timer_cb(uv_timer_t *timer)
{
    gr__task_due(timer->data);
}

const char *gr__task_id(const gr_task_t *task)
{
    return task ? task->task->id : NULL;
}

int gr__task_cancelled(const gr_task_t *task)
{
    return task ? task->cancelled : 1;
}

void gr__task_done(gr_task_t *task, int status, const char *error_message)
{
    if (!task)
        return;
    gr__sched_task_t *t = task->task;
    gr_scheduler_host_t *h = t->sched->host;
    uv_timer_stop(&t->deadline);
    double seconds = (double)(uv_hrtime() - task->started_ns) / 1e9;

    free(t->last_error);
    t->last_error = NULL;
    if (task->lease_lost) {
        /* Another host may have run it meanwhile: whatever this run did, it
         * did not hold the task alone to the end. */
        t->last_status = gr__status_cancelled;
        t->last_error = gr_xasprintf("the run lost its lease: %s%s%s", task->lease_lost,
                                     error_message ? "; " : "", error_message ? error_message : "");
    } else if (task->timed_out) {
        t->last_status = gr__status_timed_out;
        t->last_error = error_message ? gr_xstrdup(error_message)
                                      : gr_xasprintf("the run exceeded its timeout of %llu ms",
                                                     (unsigned long long)t->schedule.timeout_ms);
    } else if (status != 0) {
        t->last_status = gr__status_failed;
        t->last_error = gr_xstrdup(error_message ? error_message : gr_status_name(status));
    } else {
        t->last_status = gr__status_succeeded;
    }
    t->last_end_ms = gr__wall_ms();
    t->run = NULL;
    h->running--;
    free(task);

    gr__metric_set(t->m_running, 0);
    gr__metric_observe(t->m_duration, seconds);
    gr__metric_add(gr__metric_labels(h->m_runs, (const char *const[]){t->full_id, t->last_status}),
                   1);
    if (h->log) {
        if (t->last_status == gr__status_failed)
            gr_log_warn(h->log, "scheduler: task %s failed after %.3f s: %s", t->full_id, seconds,
                        t->last_error);
        else
            gr_log_debug(h->log, "scheduler: task %s %s after %.3f s", t->full_id, t->last_status,
                         seconds);
    }

    /* A global task's next claim is armed when the release has landed. */
    if (gr__sched_global(t))
        gr__sched_db_release(t);
    else
        gr__sched_db_save(t);
    if (h->state == GR__SCHED_STOPPING)
        gr__sched_check_stopped(h);
    else if (h->state == GR__SCHED_STARTED && t->queued && !gr__sched_global(t))
        uv_timer_start(&t->next, gr__task_timer_cb, 0, 0);
}

/* ---- the module-facing calls -------------------------------------------------------- */

static gr__sched_task_t *gr__find_task(gr_scheduler_t *s, const char *id)
{
    for (size_t i = 0; i < s->ntasks; i++)
        if (strcmp(s->tasks[i]->id, id) == 0)
            return s->tasks[i];
    return NULL;
}

int gr__scheduler_add(gr_scheduler_t *sched, const char *task_id, const gr_schedule_t *schedule,
                      gr_task_fn fn, void *user_data, gr_error_t *err)
{
    if (!sched || !schedule || !fn)
        return gr_error_set(err, GR_ERR_INVALID,
                            "scheduler: a scheduler, a schedule and a task function are required");
    gr_scheduler_host_t *h = sched->host;
    if (!task_id || !gr_id_is_valid(task_id))
        return gr_error_set(err, GR_ERR_INVALID,
                            "scheduler: plugin '%s': task id '%s' must match "
                            "^[a-z][a-z0-9]*(-[a-z0-9]+)*$",
                            sched->plugin_id, task_id ? task_id : "(null)");
    if (!(schedule->jitter >= 0 && schedule->jitter <= 1))
        return gr_error_set(err, GR_ERR_INVALID,
                            "scheduler: task %s.%s: jitter must be between 0 and 1, not %g",
                            sched->plugin_id, task_id, schedule->jitter);
    if (schedule->scope == GR_TASK_GLOBAL && !h->db)
        return gr_error_set(err, GR_ERR_UNSUPPORTED,
                            "scheduler: task %s.%s asks for global scope, which needs a database "
                            "to hold its lease across hosts; this host runs without one "
                            "(backend.database.client: none), so configure a database or "
                            "schedule the task with scope local",
                            sched->plugin_id, task_id);
    if (schedule->scope != GR_TASK_LOCAL && schedule->scope != GR_TASK_GLOBAL)
        return gr_error_set(err, GR_ERR_INVALID, "scheduler: task %s.%s: unknown scope %d",
                            sched->plugin_id, task_id, (int)schedule->scope);
    if (h->state >= GR__SCHED_STOPPING)
        return gr_error_set(err, GR_ERR_CANCELED,
                            "scheduler: task %s.%s not added: the host is shutting down",
                            sched->plugin_id, task_id);
    if (gr__find_task(sched, task_id))
        return gr_error_set(err, GR_ERR_CONFLICT,
                            "scheduler: plugin '%s' already has a task '%s'; task ids must be "
                            "unique within a plugin",
                            sched->plugin_id, task_id);

    gr__sched_task_t *t = gr_xcalloc(1, sizeof *t);
    t->sched = sched;
    t->id = gr_xstrdup(task_id);
    t->full_id = gr_xasprintf("%s.%s", sched->plugin_id, task_id);
    t->schedule = *schedule;
    t->fn = fn;
    t->user_data = user_data;
    t->last_start_ms = -1;
    t->last_end_ms = -1;
    uv_timer_init(h->loop, &t->next);
    uv_timer_init(h->loop, &t->deadline);
    uv_timer_init(h->loop, &t->renew);
    t->next.data = t;
    t->deadline.data = t;
    t->renew.data = t;
    t->m_running = gr__metric_labels(h->m_running, (const char *const[]){t->full_id});
    t->m_duration = gr__metric_labels(h->m_duration, (const char *const[]){t->full_id});
    gr__metric_set(t->m_running, 0);
    if (sched->ntasks == sched->cap) {
        sched->cap = sched->cap ? sched->cap * 2 : 8;
        sched->tasks = gr_xrealloc(sched->tasks, sched->cap * sizeof *sched->tasks);
    }
    sched->tasks[sched->ntasks++] = t;

    if (h->state == GR__SCHED_STARTED) {
        uv_update_time(h->loop);
        gr__task_arm(t);
    }
    return 0;
}

int gr__scheduler_trigger(gr_scheduler_t *sched, const char *task_id, gr_error_t *err)
{
    if (!sched || !task_id)
        return gr_error_set(err, GR_ERR_INVALID,
                            "scheduler: a scheduler and a task id are required");
    gr__sched_task_t *t = gr__find_task(sched, task_id);
    if (!t)
        return gr_error_set(err, GR_ERR_NOT_FOUND, "scheduler: plugin '%s' has no task '%s'",
                            sched->plugin_id, task_id);
    gr_scheduler_host_t *h = sched->host;
    if (h->state >= GR__SCHED_STOPPING)
        return gr_error_set(err, GR_ERR_CANCELED,
                            "scheduler: task %s not triggered: the host is shutting down",
                            t->full_id);
    /* Before start, the queued run happens at start.  A global task's
     * trigger is recorded in the table (next_run = now), so whichever host
     * claims it first runs it; a local one runs now or right after its
     * current run. */
    if (h->state == GR__SCHED_NEW)
        t->queued = 1;
    else if (gr__sched_global(t))
        gr__sched_db_trigger(t);
    else if (t->run)
        t->queued = 1;
    else
        uv_timer_start(&t->next, gr__task_timer_cb, 0, 0);
    return 0;
}

int gr_scheduler_host_trigger(gr_scheduler_host_t *h, const char *id, gr_error_t *err)
{
    const char *dot = id ? strchr(id, '.') : NULL;
    if (!h || !dot)
        return gr_error_set(err, GR_ERR_NOT_FOUND,
                            "scheduler: no task '%s'; task ids look like <pluginId>.<taskId>",
                            id ? id : "(null)");
    for (size_t i = 0; i < h->nplugins; i++) {
        gr_scheduler_t *s = h->plugins[i];
        if (strlen(s->plugin_id) == (size_t)(dot - id) &&
            strncmp(s->plugin_id, id, (size_t)(dot - id)) == 0 && gr__find_task(s, dot + 1))
            return gr__scheduler_trigger(s, dot + 1, err);
    }
    return gr_error_set(err, GR_ERR_NOT_FOUND, "scheduler: no task '%s'", id);
}

void gr_scheduler_host_set_db(gr_scheduler_host_t *h, gr_db_t *db, const char *instance_id)
{
    if (!h)
        return;
    h->db = db;
    free(h->instance_id);
    h->instance_id = instance_id ? gr_xstrdup(instance_id) : gr_scheduler_instance_id_new();
    if (db && h->log)
        gr_log_info(h->log,
                    "scheduler: task status is stored in the database; global tasks "
                    "take their lease as instance %s",
                    h->instance_id);
}

void gr_scheduler_host_set_default_lease(gr_scheduler_host_t *h, uint64_t lease_ms)
{
    if (h)
        h->default_lease_ms = lease_ms;
}

const char *gr_scheduler_host_instance_id(const gr_scheduler_host_t *h)
{
    return h ? h->instance_id : NULL;
}

/* ---- describe ---------------------------------------------------------------------- */

struct json_object *gr_scheduler_host_describe(gr_scheduler_host_t *h)
{
    struct json_object *arr = json_object_new_array();
    if (!h)
        return arr;
    int64_t wall = gr__wall_ms();
    for (size_t i = 0; i < h->nplugins; i++) {
        gr_scheduler_t *s = h->plugins[i];
        for (size_t j = 0; j < s->ntasks; j++) {
            gr__sched_task_t *t = s->tasks[j];
            struct json_object *o = json_object_new_object();
            json_object_object_add(o, "id", json_object_new_string(t->full_id));
            json_object_object_add(o, "pluginId", json_object_new_string(s->plugin_id));
            json_object_object_add(
                o, "scope", json_object_new_string(gr__sched_global(t) ? "global" : "local"));
            json_object_object_add(o, "frequencyMs",
                                   json_object_new_int64((int64_t)t->schedule.frequency_ms));
            gr__json_add_time(o, "lastStart", t->last_start_ms);
            gr__json_add_time(o, "lastEnd", t->last_end_ms);
            json_object_object_add(o, "lastStatus",
                                   t->last_status ? json_object_new_string(t->last_status) : NULL);
            json_object_object_add(o, "lastError",
                                   t->last_error ? json_object_new_string(t->last_error) : NULL);
            int64_t next = -1;
            if (h->state == GR__SCHED_STARTED && uv_is_active((uv_handle_t *)&t->next))
                next = wall + (int64_t)uv_timer_get_due_in(&t->next);
            gr__json_add_time(o, "nextRun", next);
            json_object_object_add(o, "running", json_object_new_boolean(t->run != NULL));
            json_object_array_add(arr, o);
        }
    }
    return arr;
}
