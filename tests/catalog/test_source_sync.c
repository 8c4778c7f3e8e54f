/* tests/catalog/test_source_sync.c: the sync runner the config-source
 * modules share (source_sync.c) and the config keys they read the same
 * way (source_config.c).
 *
 * The runner runs on a real loop with the host's real scheduler (tasks
 * triggered, timed out, their outcome read back from describe()) and
 * libuv's thread pool; the owner is a small stand-in that records what its
 * hooks saw.  Sources: the real directory source over a temporary
 * directory, and a source whose fetch only ends when it is cancelled. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "api_impl.h"
#include "config_source.h"
#include "config_tree.h"
#include "log.h"
#include "scheduler.h"
#include "source_sync.h"
#include "test.h"
#include "work.h"

/* ---- the fixture: a loop, a log, the scheduler ----------------------------------------------- */

typedef struct fx {
    uv_loop_t loop;
    uv_timer_t guard; /* polls what run_until waits for */
    const int *wait_count;
    int wait_want;
    uint64_t wait_deadline;
    uv_timer_t delay; /* holds back the previous status when a test asks */
    uv_thread_t loop_thread;
    FILE *log_file;
    gr_log_t *log;
    gr_scheduler_host_t *host;
    gr_scheduler_t *sched;
    gr_host_api_t api;
    gr_context_t ctx;
    char dir[64];
    int stopped;
} fx_t;

/* The host's table sends work to the host's pool; this context has no
 * host, so its work goes straight to libuv's thread pool. */
static int fx_work_submit(gr_context_t *ctx, gr_work_fn work, gr_work_done_fn done, void *ud,
                          gr_error_t *err)
{
    return gr_work_queue(ctx->loop, work, done, ud, err);
}

static void on_guard(uv_timer_t *t)
{
    fx_t *fx = t->data;
    if (*fx->wait_count >= fx->wait_want || gr_now_ms() >= fx->wait_deadline)
        uv_stop(t->loop);
}

/* Runs the loop until *count reaches want or timeout_ms passes (checked
 * every millisecond, so a callback that sets it from a timer is seen at
 * once). */
static int run_until(fx_t *fx, const int *count, int want, uint64_t timeout_ms)
{
    fx->wait_count = count;
    fx->wait_want = want;
    fx->wait_deadline = gr_now_ms() + timeout_ms;
    fx->guard.data = fx;
    uv_timer_start(&fx->guard, on_guard, 1, 1);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&fx->guard);
    return *count >= want;
}

static void fx_setup(fx_t *fx)
{
    memset(fx, 0, sizeof *fx);
    uv_loop_init(&fx->loop);
    uv_timer_init(&fx->loop, &fx->guard);
    uv_timer_init(&fx->loop, &fx->delay);
    fx->loop_thread = uv_thread_self();
    fx->log_file = tmpfile();
    fx->log = gr_log_root_new(fx->log_file, GR_LOG_DEBUG, GR_LOG_FORMAT_PRETTY);
    fx->host = gr_scheduler_host_new(&fx->loop, fx->log, NULL);
    fx->sched = gr_scheduler_host_plugin(fx->host, "test");
    gr_scheduler_host_start(fx->host);
    fx->api = gr__host_api;
    fx->api.work_submit = fx_work_submit;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/gr-source-sync-XXXXXX");
    if (!mkdtemp(fx->dir))
        fx->dir[0] = '\0';
    fx->ctx = (gr_context_t){.api = &fx->api,
                             .size = sizeof(gr_context_t),
                             .plugin_id = "test",
                             .log = fx->log,
                             .scheduler = fx->sched,
                             .state_dir = fx->dir,
                             .loop = &fx->loop};
}

static void on_stopped(void *ud)
{
    ((fx_t *)ud)->stopped = 1;
}

static void fx_teardown(fx_t *fx)
{
    gr_scheduler_host_stop(fx->host, on_stopped, fx);
    CHECK(run_until(fx, &fx->stopped, 1, 5000));
    gr_scheduler_host_free(fx->host);
    uv_close((uv_handle_t *)&fx->guard, NULL);
    uv_close((uv_handle_t *)&fx->delay, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&fx->loop) == 0);
    gr_log_free(fx->log);
    fclose(fx->log_file);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    CHECK(system(cmd) == 0);
}

/* Everything logged so far (new string). */
static char *fx_log_text(fx_t *fx)
{
    fflush(fx->log_file);
    long len = ftell(fx->log_file);
    char *text = gr_xcalloc((size_t)len + 1, 1);
    rewind(fx->log_file);
    size_t n = fread(text, 1, (size_t)len, fx->log_file);
    text[n] = '\0';
    fseek(fx->log_file, 0, SEEK_END);
    return text;
}

/* The task's entry of describe(): lastStatus and lastError (new strings or NULL). */
static void task_outcome(fx_t *fx, char **status, char **error)
{
    struct json_object *arr = gr_scheduler_host_describe(fx->host), *v;
    *status = *error = NULL;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *o = json_object_array_get_idx(arr, i);
        if (!json_object_object_get_ex(o, "id", &v) ||
            strcmp(json_object_get_string(v), "test.sync") != 0)
            continue;
        if (json_object_object_get_ex(o, "lastStatus", &v) && v)
            *status = gr_xstrdup(json_object_get_string(v));
        if (json_object_object_get_ex(o, "lastError", &v) && v)
            *error = gr_xstrdup(json_object_get_string(v));
    }
    json_object_put(arr);
}

/* ---- a source whose fetch ends only when cancelled ------------------------------------------- */

typedef struct stuck {
    cc_fetch_done_fn done;
    void *user_data;
    uint64_t timeout_ms; /* what the runner passed */
    int fetches;
    int cancels;
} stuck_t;

static void stuck_fetch(cc_source_t *src, uint64_t timeout_ms, cc_fetch_done_fn done, void *ud)
{
    stuck_t *st = src->state;
    st->done = done;
    st->user_data = ud;
    st->timeout_ms = timeout_ms;
    st->fetches++;
}

static void stuck_answer(void *arg)
{
    cc_source_t *src = arg;
    stuck_t *st = src->state;
    cc_fetch_done_fn done = st->done;
    st->done = NULL;
    done(src, GR_ERR_CANCELED, "the fetch was stopped", NULL, NULL, st->user_data);
}

static void stuck_cancel(cc_source_t *src)
{
    stuck_t *st = src->state;
    st->cancels++;
    /* As the real sources: the fetch's callback comes later, with CANCELED. */
    if (st->done)
        gr_loop_defer(src->loop, stuck_answer, src);
}

static void stuck_describe(cc_source_t *src, struct json_object *obj)
{
    (void)src;
    json_object_object_add(obj, "type", json_object_new_string("stuck"));
}

static const cc_source_ops_t stuck_ops = {
    .type = "stuck",
    .fetch = stuck_fetch,
    .cancel = stuck_cancel,
    .describe = stuck_describe,
};

/* ---- the owner: records what its hooks saw --------------------------------------------------- */

typedef struct owner {
    fx_t *fx;
    cc_source_t source;
    cc_sync_t sync;
    /* What load_previous answers, and after how long (0: on the next turn). */
    const char *previous_json;
    const char *previous_error;
    uint64_t previous_delay_ms;
    int fail_in_worked; /* worked fails the run instead of succeeding */

    int started, loads, works, worked, failed, freed;
    int work_off_loop;
    char *root, *location_prefix;
    int had_revision;
    int failed_status;
    char *failed_message;
    struct json_object *doc; /* the status document of the last run */
    uint64_t doc_duration_ms;
} owner_t;

typedef struct test_run {
    cc_sync_run_t base;
    owner_t *o;
} test_run_t;

static void record_status(test_run_t *run)
{
    owner_t *o = run->o;
    if (o->doc)
        json_object_put(o->doc);
    o->doc = json_object_new_object();
    o->doc_duration_ms = cc_sync_status_fill(&run->base, o->doc);
}

static cc_sync_run_t *t_run_new(cc_sync_t *sync)
{
    owner_t *o = sync->owner;
    test_run_t *run = gr_xcalloc(1, sizeof *run);
    run->o = o;
    o->started++;
    return &run->base;
}

static void answer_previous(test_run_t *run)
{
    owner_t *o = run->o;
    struct json_object *doc = o->previous_json ? json_tokener_parse(o->previous_json) : NULL;
    gr_error_t err = {0};
    if (o->previous_error)
        gr_error_set(&err, GR_ERR_UNAVAILABLE, "%s", o->previous_error);
    cc_sync_previous_loaded(&run->base, doc, o->previous_error ? &err : NULL);
    if (doc)
        json_object_put(doc);
}

static void previous_deferred(void *arg)
{
    answer_previous(arg);
}

static void previous_delayed(uv_timer_t *t)
{
    answer_previous(t->data);
}

static void t_load_previous(cc_sync_run_t *base)
{
    test_run_t *run = (test_run_t *)base;
    owner_t *o = run->o;
    o->loads++;
    if (o->previous_delay_ms) {
        o->fx->delay.data = run;
        uv_timer_start(&o->fx->delay, previous_delayed, o->previous_delay_ms, 0);
    } else {
        gr_loop_defer(&o->fx->loop, previous_deferred, run);
    }
}

static void t_work(cc_sync_run_t *base)
{
    test_run_t *run = (test_run_t *)base;
    owner_t *o = run->o;
    o->works++;
    uv_thread_t self = uv_thread_self();
    o->work_off_loop = !uv_thread_equal(&self, &o->fx->loop_thread);
    o->root = gr_xstrdup(base->root);
    o->location_prefix = gr_xstrdup(base->location_prefix);
    o->had_revision = base->revision != NULL;
}

static void t_worked(cc_sync_run_t *base)
{
    test_run_t *run = (test_run_t *)base;
    run->o->worked++;
    if (run->o->fail_in_worked) {
        cc_sync_fail(base, GR_ERR_INVALID, "teams/a.yaml:3:1: not an entity");
        return;
    }
    record_status(run);
    cc_sync_done(base);
}

static void t_failed(cc_sync_run_t *base)
{
    test_run_t *run = (test_run_t *)base;
    owner_t *o = run->o;
    o->failed++;
    o->failed_status = base->status;
    free(o->failed_message);
    o->failed_message = gr_xstrdup(base->message);
    record_status(run);
    cc_sync_done(base);
}

static void t_run_free(cc_sync_run_t *base)
{
    test_run_t *run = (test_run_t *)base;
    run->o->freed++;
    free(run);
}

static const cc_sync_ops_t test_ops = {
    .run_new = t_run_new,
    .load_previous = t_load_previous,
    .work = t_work,
    .worked = t_worked,
    .failed = t_failed,
    .run_free = t_run_free,
};

/* An owner with the directory source over fx->dir, or (stuck) the source
 * that waits for its cancellation; the task is "sync", run on trigger. */
static int owner_init(owner_t *o, fx_t *fx, int stuck, const gr_schedule_t *schedule)
{
    memset(o, 0, sizeof *o);
    o->fx = fx;
    if (stuck) {
        o->source = (cc_source_t){.ops = &stuck_ops, .ctx = &fx->ctx, .loop = &fx->loop};
        o->source.state = gr_xcalloc(1, sizeof(stuck_t));
    } else {
        char *yaml = gr_xasprintf("source: {type: directory, path: %s}\n", fx->dir);
        gr_error_t err = {0};
        gr_config_doc_t *doc = gr_config_doc_parse("app-config.yaml", yaml, strlen(yaml), &err);
        free(yaml);
        if (!doc)
            return 0;
        int rc =
            cc_source_init(&o->source, &fx->ctx, gr_config_get(gr_config_doc_root(doc), "source"),
                           "sync-test", "owner", NULL, &err);
        gr_config_doc_free(doc);
        if (rc != 0)
            return 0;
    }
    cc_sync_init(&o->sync, &test_ops, o, &fx->ctx, &o->source, "owner x: ");
    o->sync.schedule = *schedule;
    gr_error_t err = {0};
    return cc_sync_schedule(&o->sync, "sync", &err) == 0;
}

static void owner_free(owner_t *o)
{
    cc_sync_free(&o->sync);
    if (o->source.ops == &stuck_ops)
        free(o->source.state);
    else
        cc_source_free(&o->source);
    free(o->root);
    free(o->location_prefix);
    free(o->failed_message);
    if (o->doc)
        json_object_put(o->doc);
}

static const char *doc_string(struct json_object *doc, const char *key)
{
    struct json_object *v = NULL;
    if (!doc || !json_object_object_get_ex(doc, key, &v) || !v)
        return NULL;
    return json_object_get_string(v);
}

static int trigger(fx_t *fx)
{
    gr_error_t err = {0};
    return gr_scheduler_trigger(fx->sched, "sync", &err) == 0;
}

/* A fixture and its owner, with the directory source over fx->dir or
 * (stuck) the source that waits for its cancellation. */
static int start(fx_t *fx, owner_t *o, int stuck, gr_schedule_t schedule)
{
    fx_setup(fx);
    return (stuck || fx->dir[0]) && owner_init(o, fx, stuck, &schedule);
}

static void finish(fx_t *fx, owner_t *o)
{
    owner_free(o);
    fx_teardown(fx);
}

/* Triggers the task and waits for the run it starts to be freed. */
static int run_one(fx_t *fx, owner_t *o)
{
    return trigger(fx) && run_until(fx, &o->freed, o->freed + 1, 5000);
}

/* The owner saw one failed run, with this status and message, and its
 * status document kept last_success (NULL: has none). */
static void check_failed(const owner_t *o, int status, const char *message,
                         const char *last_success)
{
    CHECK(o->failed == 1 && o->failed_status == status);
    CHECK_STR(o->failed_message, message);
    CHECK_STR(doc_string(o->doc, "status"), "failed");
    if (last_success)
        CHECK_STR(doc_string(o->doc, "lastSuccess"), last_success);
    else
        CHECK(doc_string(o->doc, "lastSuccess") == NULL);
}

/* The scheduler recorded this outcome of the last run (error NULL: none). */
static void check_task(fx_t *fx, const char *status, const char *error)
{
    char *got_status, *got_error;
    task_outcome(fx, &got_status, &got_error);
    CHECK_STR(got_status, status);
    if (error)
        CHECK_STR(got_error, error);
    else
        CHECK(got_error == NULL);
    free(got_status);
    free(got_error);
}

/* ---- runs ------------------------------------------------------------------------------------ */

TEST(a_run_reads_the_fetched_directory_on_the_pool)
{
    fx_t fx;
    owner_t o;
    REQUIRE(start(&fx, &o, 0, (gr_schedule_t){.timeout_ms = 10000}));
    CHECK(o.sync.last_start_wall_ms == -1);
    CHECK(run_one(&fx, &o));

    CHECK(o.started == 1 && o.loads == 1 && o.works == 1 && o.worked == 1 && o.failed == 0);
    CHECK(o.work_off_loop);
    CHECK_STR(o.root, fx.dir);
    char *prefix = gr_xasprintf("file:%s/", fx.dir);
    CHECK_STR(o.location_prefix, prefix);
    free(prefix);
    CHECK(!o.had_revision);
    CHECK(o.sync.run == NULL);
    CHECK(o.sync.last_start_wall_ms > 0);

    /* The shared fields of the status document, in the order they are written. */
    struct json_object *source = NULL;
    REQUIRE(json_object_object_get_ex(o.doc, "source", &source));
    CHECK_STR(doc_string(source, "type"), "directory");
    CHECK_STR(doc_string(source, "path"), fx.dir);
    CHECK(!json_object_object_get_ex(source, "revision", NULL));
    CHECK_STR(doc_string(o.doc, "status"), "succeeded");
    char *attempt = cc_iso_time(o.sync.last_start_wall_ms);
    CHECK_STR(doc_string(o.doc, "lastAttempt"), attempt);
    CHECK_STR(doc_string(o.doc, "lastSuccess"), attempt);
    free(attempt);
    struct json_object *duration = NULL;
    REQUIRE(json_object_object_get_ex(o.doc, "durationMs", &duration));
    CHECK((uint64_t)json_object_get_int64(duration) == o.doc_duration_ms);
    const char *keys[] = {"source", "status", "lastAttempt", "lastSuccess", "durationMs"};
    size_t i = 0;
    json_object_object_foreach(o.doc, key, val)
    {
        (void)val;
        CHECK(i < 5 && strcmp(key, keys[i]) == 0);
        i++;
    }

    check_task(&fx, "succeeded", NULL);
    finish(&fx, &o);
}

TEST(a_failed_run_keeps_the_previous_last_success)
{
    fx_t fx;
    owner_t o;
    REQUIRE(start(&fx, &o, 0, (gr_schedule_t){.timeout_ms = 10000}));
    o.previous_json = "{\"status\": \"succeeded\", \"lastSuccess\": \"2024-05-01T12:00:00.000Z\"}";
    o.fail_in_worked = 1;
    CHECK(run_one(&fx, &o));

    CHECK(o.worked == 1);
    check_failed(&o, GR_ERR_INVALID, "teams/a.yaml:3:1: not an entity", "2024-05-01T12:00:00.000Z");
    check_task(&fx, "failed", "teams/a.yaml:3:1: not an entity");
    finish(&fx, &o);
}

TEST(an_unreadable_previous_status_is_logged_and_the_run_goes_on)
{
    fx_t fx;
    owner_t o;
    REQUIRE(start(&fx, &o, 0, (gr_schedule_t){.timeout_ms = 10000}));
    o.previous_error = "the database is not reachable";
    CHECK(run_one(&fx, &o));
    CHECK(o.worked == 1 && o.failed == 0);
    CHECK_STR(doc_string(o.doc, "status"), "succeeded");
    char *log = fx_log_text(&fx);
    CHECK_CONTAINS(log, "owner x: previous sync status unreadable: the database is not reachable");
    free(log);
    finish(&fx, &o);
}

TEST(a_timeout_cancels_the_fetch)
{
    fx_t fx;
    owner_t o;
    REQUIRE(start(&fx, &o, 1, (gr_schedule_t){.timeout_ms = 100}));
    o.previous_json = "{\"lastSuccess\": \"2024-05-01T12:00:00.000Z\"}";
    CHECK(run_one(&fx, &o));
    stuck_t *st = o.source.state;
    /* The fetch had the schedule's timeout, and was told to stop once the
     * scheduler marked the run cancelled. */
    CHECK(st->timeout_ms == 100);
    CHECK(st->cancels == 1);
    CHECK(o.works == 0 && o.worked == 0);
    check_failed(&o, GR_ERR_CANCELED, "source stuck: the fetch was stopped",
                 "2024-05-01T12:00:00.000Z");
    check_task(&fx, "timed out", "source stuck: the fetch was stopped");
    finish(&fx, &o);
}

TEST(a_run_cancelled_before_its_fetch_does_not_fetch)
{
    fx_t fx;
    owner_t o;
    REQUIRE(start(&fx, &o, 1, (gr_schedule_t){.timeout_ms = 100}));
    /* The previous status arrives after the timeout and a watch tick. */
    o.previous_delay_ms = 600;
    CHECK(run_one(&fx, &o));
    stuck_t *st = o.source.state;
    CHECK(st->fetches == 0);
    check_failed(&o, GR_ERR_CANCELED, CC_SYNC_CANCELLED, NULL);
    finish(&fx, &o);
}

TEST(stop_cancels_the_run_and_refuses_the_next)
{
    fx_t fx;
    owner_t o;
    REQUIRE(start(&fx, &o, 1, (gr_schedule_t){.timeout_ms = 10000}));
    CHECK(trigger(&fx));
    stuck_t *st = o.source.state;
    REQUIRE(run_until(&fx, &st->fetches, 1, 5000));
    CHECK(o.sync.run != NULL);
    cc_sync_stop(&o.sync);
    CHECK(st->cancels == 1);
    CHECK(run_until(&fx, &o.freed, 1, 5000));
    check_failed(&o, GR_ERR_CANCELED, "source stuck: the fetch was stopped", NULL);

    /* A later start is refused without a run. */
    CHECK(trigger(&fx));
    int started = o.started;
    int never = 0;
    run_until(&fx, &never, 1, 300);
    check_task(&fx, "failed", "shutting down");
    CHECK(o.started == started);
    finish(&fx, &o);
}

TEST(the_live_fields_say_when_the_next_run_is_due)
{
    fx_t fx;
    owner_t o;
    REQUIRE(start(&fx, &o, 0,
                  (gr_schedule_t){.frequency_ms = 3600 * 1000,
                                  .timeout_ms = 10000,
                                  .initial_delay_ms = 600 * 1000}));

    /* Before the first run: the initial delay after scheduling. */
    struct json_object *doc = json_object_new_object();
    int64_t before = cc_wall_ms();
    cc_sync_status_pending(&o.sync, doc);
    cc_sync_status_live(&o.sync, doc);
    CHECK_STR(doc_string(doc, "status"), "pending");
    CHECK(json_object_object_get_ex(doc, "lastSuccess", NULL));
    CHECK(!json_object_get_boolean(json_object_object_get(doc, "running")));
    struct json_object *sched = json_object_object_get(doc, "schedule");
    CHECK(json_object_get_int64(json_object_object_get(sched, "frequencyMs")) == 3600 * 1000);
    CHECK(json_object_get_int64(json_object_object_get(sched, "timeoutMs")) == 10000);
    const char *next = doc_string(doc, "nextRunAt");
    char *low = cc_iso_time(before + 600 * 1000 - 2000);
    char *high = cc_iso_time(cc_wall_ms() + 600 * 1000 + 1000);
    CHECK(next && strcmp(next, low) >= 0 && strcmp(next, high) <= 0);
    free(low);
    free(high);
    json_object_put(doc);

    /* After a run: a frequency after its start. */
    CHECK(run_one(&fx, &o));
    doc = json_object_new_object();
    cc_sync_status_live(&o.sync, doc);
    char *due = cc_iso_time(o.sync.last_start_wall_ms + 3600 * 1000);
    CHECK_STR(doc_string(doc, "nextRunAt"), due);
    free(due);
    json_object_put(doc);
    finish(&fx, &o);
}

/* ---- config ---------------------------------------------------------------------------------- */

static gr_config_doc_t *parse(const char *yaml)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = gr_config_doc_parse("app-config.yaml", yaml, strlen(yaml), &err);
    if (!doc)
        fprintf(stderr, "parse: %s\n", err.message);
    return doc;
}

TEST(globs_are_a_glob_or_a_list)
{
    gr_config_doc_t *doc = parse("one: '*.yaml'\n"
                                 "many: ['a/**', 'b/*.json']\n"
                                 "bad: ['a/**', {x: 1}]\n"
                                 "number: {x: 1}\n");
    REQUIRE(doc);
    const gr_config_t *root = gr_config_doc_root(doc);
    gr_strvec_t v = {0};
    gr_error_t err = {0};
    CHECK(cc_config_globs(gr_config_get(root, "one"), &v, &err) == 0);
    CHECK(cc_config_globs(gr_config_get(root, "many"), &v, &err) == 0);
    REQUIRE(v.len == 3);
    CHECK_STR(v.items[0], "*.yaml");
    CHECK_STR(v.items[2], "b/*.json");
    CHECK(cc_config_globs(gr_config_get(root, "bad"), &v, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "app-config.yaml:3:");
    CHECK_CONTAINS(err.message, "a glob must be a string");
    CHECK(cc_config_globs(gr_config_get(root, "number"), &v, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "expected a glob or a list of globs");
    gr_strvec_free(&v);
    gr_config_doc_free(doc);
}

TEST(the_selection_has_a_default_include)
{
    gr_config_doc_t *doc = parse("plain: {}\n"
                                 "chosen: {include: 'topics/**', exclude: ['**/draft-*']}\n");
    REQUIRE(doc);
    const gr_config_t *root = gr_config_doc_root(doc);
    cc_selection_t a = {0}, b = {0};
    gr_error_t err = {0};
    CHECK(cc_selection_config(gr_config_get(root, "plain"), "**/*.yaml", &a, &err) == 0);
    CHECK(a.include.len == 1 && a.exclude.len == 0);
    CHECK_STR(a.include.items[0], "**/*.yaml");
    CHECK(cc_selection_config(gr_config_get(root, "chosen"), "**/*.yaml", &b, &err) == 0);
    CHECK(b.include.len == 1 && b.exclude.len == 1);
    CHECK_STR(b.include.items[0], "topics/**");
    CHECK_STR(b.exclude.items[0], "**/draft-*");
    cc_selection_free(&a);
    cc_selection_free(&b);
    gr_config_doc_free(doc);
}

TEST(the_schedule_defaults_to_every_half_hour)
{
    gr_config_doc_t *doc = parse("plain: {}\n"
                                 "set: {schedule: {frequency: {minutes: 5}, timeout: {seconds: "
                                 "30}, scope: global}}\n");
    REQUIRE(doc);
    const gr_config_t *root = gr_config_doc_root(doc);
    gr_schedule_t s = {.frequency_ms = 1, .timeout_ms = 2, .initial_delay_ms = 3};
    gr_error_t err = {0};
    CHECK(cc_schedule_config(gr_config_get(root, "plain"), &s, &err) == 0);
    CHECK(s.frequency_ms == 30 * 60 * 1000 && s.timeout_ms == 5 * 60 * 1000);
    CHECK(s.initial_delay_ms == 0 && s.scope == GR_TASK_LOCAL);
    CHECK(cc_schedule_config(gr_config_get(root, "set"), &s, &err) == 0);
    CHECK(s.frequency_ms == 5 * 60 * 1000 && s.timeout_ms == 30 * 1000);
    CHECK(s.scope == GR_TASK_GLOBAL);
    gr_config_doc_free(doc);
}

TEST_MAIN(TEST_ENTRY(a_run_reads_the_fetched_directory_on_the_pool),
          TEST_ENTRY(a_failed_run_keeps_the_previous_last_success),
          TEST_ENTRY(an_unreadable_previous_status_is_logged_and_the_run_goes_on),
          TEST_ENTRY(a_timeout_cancels_the_fetch),
          TEST_ENTRY(a_run_cancelled_before_its_fetch_does_not_fetch),
          TEST_ENTRY(stop_cancels_the_run_and_refuses_the_next),
          TEST_ENTRY(the_live_fields_say_when_the_next_run_is_due),
          TEST_ENTRY(globs_are_a_glob_or_a_list), TEST_ENTRY(the_selection_has_a_default_include),
          TEST_ENTRY(the_schedule_defaults_to_every_half_hour))
