/* core/scheduler.c: local scheduled tasks on libuv timers.
 *
 * A registered task (gr__sched_task_t) has two timers: `next` for its next
 * start and `deadline` for the timeout of its current run.  A run is a
 * gr_task_t handed to the module; it lives from the start until
 * gr_task_done.  A task has at most one run at a time, plus a `queued` flag
 * for the one start that came due (or was triggered) meanwhile.
 *
 * Starts never happen inside a call from a module (gr_scheduler_trigger,
 * gr_task_done): they go through the `next` timer with a zero timeout, so a
 * task function is never entered while the module is still inside one of
 * its own callbacks. */
#include "scheduler.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_impl.h"
#include "util.h"

typedef struct gr__sched_task gr__sched_task_t;

struct gr_task {
    const gr_host_api_t *api;
    gr__sched_task_t *task;
    int cancelled; /* timed out, or the host is stopping */
    int timed_out;
    uint64_t started_ns; /* uv_hrtime() */
};

struct gr__sched_task {
    gr_scheduler_t *sched;
    char *id;      /* as the module named it */
    char *full_id; /* "<pluginId>.<taskId>", for logs, metrics and describe */
    gr_schedule_t schedule;
    gr_task_fn fn;
    void *user_data;
    uv_timer_t next;
    uv_timer_t deadline;
    gr_task_t *run;        /* the run in progress, or NULL */
    int queued;            /* one more run is wanted as soon as possible */
    int64_t last_start_ms; /* wall clock, ms since the epoch; -1 for never */
    int64_t last_end_ms;
    const char *last_status; /* a static string, or NULL before the first run ends */
    char *last_error;
    gr_metric_t *m_running; /* this task's series, or NULL without metrics */
    gr_metric_t *m_duration;
};

struct gr_scheduler {
    const gr_host_api_t *api;
    gr_scheduler_host_t *host;
    char *plugin_id;
    gr__sched_task_t **tasks;
    size_t ntasks;
    size_t cap;
};

typedef enum gr__sched_state {
    GR__SCHED_NEW, /* tasks may be added; nothing runs */
    GR__SCHED_STARTED,
    GR__SCHED_STOPPING, /* waiting for running tasks */
    GR__SCHED_STOPPED   /* `stopped` has been called */
} gr__sched_state_t;

struct gr_scheduler_host {
    uv_loop_t *loop;
    gr_log_t *log;
    gr_metric_t *m_runs; /* families, or NULL without metrics */
    gr_metric_t *m_duration;
    gr_metric_t *m_running;
    gr_scheduler_t **plugins;
    size_t nplugins;
    size_t cap;
    gr__sched_state_t state;
    size_t running; /* runs between start and gr_task_done */
    uint64_t stop_timeout_ms;
    uv_timer_t stop_timer;
    void (*stopped)(void *user_data);
    void *stopped_user_data;
    uint64_t rng;   /* xorshift64 state for jitter */
    size_t closing; /* handles still closing in gr_scheduler_host_free */
};

static const char *const gr__status_succeeded = "succeeded";
static const char *const gr__status_failed = "failed";
static const char *const gr__status_timed_out = "timed out";

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
static double gr__random(gr_scheduler_host_t *h)
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
    return wait - (uint64_t)((double)wait * s->jitter * gr__random(h));
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

/* The first start: the initial delay, or at once when triggered already. */
static void gr__task_arm(gr__sched_task_t *t)
{
    gr_scheduler_host_t *h = t->sched->host;
    if (t->queued)
        uv_timer_start(&t->next, gr__task_timer_cb, 0, 0);
    else if (t->schedule.frequency_ms > 0)
        uv_timer_start(&t->next, gr__task_timer_cb,
                       gr__jittered(h, &t->schedule, t->schedule.initial_delay_ms), 0);
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
    h->state = GR__SCHED_STOPPED;
    for (size_t i = 0; i < h->nplugins; i++) {
        for (size_t j = 0; j < h->plugins[i]->ntasks; j++) {
            gr__sched_task_t *t = h->plugins[i]->tasks[j];
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
            if (t->run)
                t->run->cancelled = 1;
        }
    }
    if (h->running && h->log)
        gr_log_info(h->log, "scheduler: stopping; waiting up to %llu ms for %zu running task(s)",
                    (unsigned long long)h->stop_timeout_ms, h->running);
    uv_timer_start(&h->stop_timer, gr__stop_timer_cb, h->running ? h->stop_timeout_ms : 0, 0);
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
    uv_close((uv_handle_t *)&h->stop_timer, gr__closed);
    for (size_t i = 0; i < h->nplugins; i++) {
        for (size_t j = 0; j < h->plugins[i]->ntasks; j++) {
            gr__sched_task_t *t = h->plugins[i]->tasks[j];
            t->next.data = h;
            t->deadline.data = h;
            h->closing += 2;
            uv_close((uv_handle_t *)&t->next, gr__closed);
            uv_close((uv_handle_t *)&t->deadline, gr__closed);
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

static void gr__task_begin(gr__sched_task_t *t)
{
    gr_scheduler_host_t *h = t->sched->host;
    gr_task_t *run = gr_xcalloc(1, sizeof *run);
    run->api = &gr__host_api;
    run->task = t;
    run->started_ns = uv_hrtime();
    t->run = run;
    t->queued = 0;
    t->last_start_ms = gr__wall_ms();
    h->running++;
    if (t->schedule.frequency_ms > 0)
        uv_timer_start(&t->next, gr__task_timer_cb,
                       gr__jittered(h, &t->schedule, t->schedule.frequency_ms), 0);
    if (t->schedule.timeout_ms > 0)
        uv_timer_start(&t->deadline, gr__deadline_cb, t->schedule.timeout_ms, 0);
    gr__metric_set(t->m_running, 1);
    if (h->log)
        gr_log_debug(h->log, "scheduler: task %s started", t->full_id);
    /* The task may call gr_task_done before returning: touch nothing after. */
    t->fn(run, t->user_data);
}

/* A start came due.  A GLOBAL task would take its lease here, asynchronously,
 * and call gr__task_begin once it holds it (or skip this start). */
static void gr__task_due(gr__sched_task_t *t)
{
    if (t->sched->host->state != GR__SCHED_STARTED)
        return;
    if (t->run) {
        t->queued = 1;
        return;
    }
    gr__task_begin(t);
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
    if (task->timed_out) {
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

    if (h->state == GR__SCHED_STOPPING) {
        if (h->running == 0)
            uv_timer_start(&h->stop_timer, gr__stop_timer_cb, 0, 0);
    } else if (h->state == GR__SCHED_STARTED && t->queued) {
        uv_timer_start(&t->next, gr__task_timer_cb, 0, 0);
    }
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
    if (schedule->scope == GR_TASK_GLOBAL)
        return gr_error_set(err, GR_ERR_UNSUPPORTED,
                            "scheduler: task %s.%s asks for global scope, which needs the "
                            "database service to hold a lease across hosts; this host has no "
                            "database service yet, so schedule it with GR_TASK_LOCAL",
                            sched->plugin_id, task_id);
    if (schedule->scope != GR_TASK_LOCAL)
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
    t->next.data = t;
    t->deadline.data = t;
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
    /* Before start, the queued run happens at start; during a run, right after it. */
    if (h->state == GR__SCHED_NEW || t->run)
        t->queued = 1;
    else
        uv_timer_start(&t->next, gr__task_timer_cb, 0, 0);
    return 0;
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
            json_object_object_add(o, "scope", json_object_new_string("local"));
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
