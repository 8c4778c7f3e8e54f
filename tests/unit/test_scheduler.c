/* Unit tests for core/scheduler.c on a real libuv loop.
 *
 * Durations are tens of milliseconds.  Lower bounds are tight (a timer must
 * never fire early); upper bounds are loose, because a loaded machine only
 * ever makes things late. */
#include <json-c/json.h>
#include <time.h>

#include <uv.h>

#include "log.h"
#include "loop_wait.h"
#include "metrics.h"
#include "scheduler.h"
#include "test.h"
#include "util.h"
#include "wall_time.h"

/* ---- fixture: a loop, a logger, metrics, the scheduler ------------------------- */

typedef struct fixture {
    uv_loop_t loop;
    gr_log_t *log;
    gr_metrics_t *metrics;
    gr_scheduler_host_t *host;
    gr_scheduler_t *sched; /* plugin "test" */
    int stopped;
    uint64_t stopped_ms;
} fixture_t;

static void fx_init(fixture_t *fx)
{
    memset(fx, 0, sizeof *fx);
    uv_loop_init(&fx->loop);
    fx->log = gr_log_root_new(stderr, GR_LOG_WARN, GR_LOG_FORMAT_PRETTY);
    fx->metrics = gr_metrics_new();
    fx->host = gr_scheduler_host_new(&fx->loop, fx->log, fx->metrics);
    fx->sched = gr_scheduler_host_plugin(fx->host, "test");
}

/* Runs the loop until pred(ud) holds or max_ms passes; returns pred(ud). */
static int run_until(fixture_t *fx, gr_test_pred_fn pred, void *ud, uint64_t max_ms)
{
    return gr_test_run_until_pred(&fx->loop, pred, ud, max_ms);
}

static void run_for(fixture_t *fx, uint64_t ms)
{
    gr_test_run_for(&fx->loop, ms);
}

static void on_stopped(void *ud)
{
    fixture_t *fx = ud;
    fx->stopped++;
    fx->stopped_ms = gr_now_ms();
}

static int is_stopped(void *ud)
{
    return ((fixture_t *)ud)->stopped > 0;
}

/* Stops (if the test has not), frees everything, and checks no handle leaked. */
static void fx_free(fixture_t *fx)
{
    if (!fx->stopped) {
        gr_scheduler_host_stop(fx->host, on_stopped, fx);
        CHECK(run_until(fx, is_stopped, fx, 20000));
    }
    gr_scheduler_host_free(fx->host);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&fx->loop) == 0);
    gr_metrics_free(fx->metrics);
    gr_log_free(fx->log);
}

static char *render_metrics(fixture_t *fx)
{
    gr_buf_t out = {0};
    gr_metrics_render(fx->metrics, &out);
    return gr_buf_steal(&out);
}

/* The describe() entry with this id, or NULL; borrowed from arr. */
static struct json_object *find_task(struct json_object *arr, const char *id)
{
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *o = json_object_array_get_idx(arr, i), *v;
        if (json_object_object_get_ex(o, "id", &v) && strcmp(json_object_get_string(v), id) == 0)
            return o;
    }
    return NULL;
}

static struct json_object *field(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* The time in a JSON string "YYYY-MM-DDTHH:MM:SS.mmmZ", in ms since the
 * epoch; -1 when it is missing or malformed. */
static int64_t parse_iso(struct json_object *v)
{
    if (!v || !json_object_is_type(v, json_type_string))
        return -1;
    return gr_test_iso_ms(json_object_get_string(v));
}

/* ---- probe: a task that records what the scheduler did to it --------------------- */

#define MAX_RUNS 64

typedef struct probe {
    int runs; /* started */
    int dones;
    int concurrent;
    int max_concurrent;
    uint64_t start_ms[MAX_RUNS];
    uint64_t end_ms[MAX_RUNS];
    uint64_t hold_ms; /* 0: done inside the task function */
    int manual;       /* done only when the test calls probe_finish */
    int status;
    const char *error;
    int saw_cancelled; /* gr_task_cancelled() when the run ended */
    gr_task_t *current;
    uv_timer_t hold;
    int hold_init;
} probe_t;

static void probe_finish(probe_t *p)
{
    gr_task_t *run = p->current;
    p->current = NULL;
    p->saw_cancelled = gr_task_cancelled(run);
    p->concurrent--;
    if (p->dones < MAX_RUNS)
        p->end_ms[p->dones] = gr_now_ms();
    p->dones++;
    gr_task_done(run, p->status, p->error);
}

static void probe_hold_cb(uv_timer_t *t)
{
    probe_finish(t->data);
}

static void probe_fn(gr_task_t *task, void *ud)
{
    probe_t *p = ud;
    if (p->runs < MAX_RUNS)
        p->start_ms[p->runs] = gr_now_ms();
    p->runs++;
    if (++p->concurrent > p->max_concurrent)
        p->max_concurrent = p->concurrent;
    p->current = task;
    if (p->manual)
        return;
    if (p->hold_ms == 0) {
        probe_finish(p);
        return;
    }
    uv_timer_start(&p->hold, probe_hold_cb, p->hold_ms, 0);
}

/* Probes that hold their runs need a timer on the fixture's loop. */
static void probe_init_hold(probe_t *p, fixture_t *fx, uint64_t hold_ms)
{
    p->hold_ms = hold_ms;
    uv_timer_init(&fx->loop, &p->hold);
    p->hold.data = p;
    p->hold_init = 1;
}

static void probe_close(probe_t *p)
{
    if (p->hold_init)
        uv_close((uv_handle_t *)&p->hold, NULL);
}

static int has_run(void *ud)
{
    return ((probe_t *)ud)->runs >= 1;
}
static int has_run_twice(void *ud)
{
    return ((probe_t *)ud)->runs >= 2;
}
static int has_run_five(void *ud)
{
    return ((probe_t *)ud)->runs >= 5;
}
static int has_done(void *ud)
{
    return ((probe_t *)ud)->dones >= 1;
}
static int has_done_three(void *ud)
{
    return ((probe_t *)ud)->dones >= 3;
}

static gr_schedule_t every(uint64_t frequency_ms, uint64_t initial_delay_ms)
{
    return (gr_schedule_t){.frequency_ms = frequency_ms, .initial_delay_ms = initial_delay_ms};
}

/* ---- tests ------------------------------------------------------------------------ */

TEST(initial_delay_counts_from_start)
{
    fixture_t fx;
    fx_init(&fx);
    probe_t early = {0}, late = {0};
    gr_schedule_t s = every(60000, 80);
    REQUIRE(gr_scheduler_add(fx.sched, "early", &s, probe_fn, &early, NULL) == 0);

    /* A slow start-up: the delay must count from start, not from add. */
    uv_sleep(120);
    struct json_object *before = gr_scheduler_host_describe(fx.host);
    CHECK(field(find_task(before, "test.early"), "nextRun") == NULL);
    json_object_put(before);
    uint64_t t0 = gr_now_ms();
    gr_scheduler_host_start(fx.host);
    CHECK(run_until(&fx, has_run, &early, 5000));
    CHECK(early.start_ms[0] - t0 >= 75);

    /* Added after start: its delay counts from the add. */
    s.initial_delay_ms = 50;
    uint64_t t1 = gr_now_ms();
    REQUIRE(gr_scheduler_add(fx.sched, "late", &s, probe_fn, &late, NULL) == 0);
    struct json_object *after = gr_scheduler_host_describe(fx.host);
    CHECK(parse_iso(field(find_task(after, "test.late"), "nextRun")) > 0);
    json_object_put(after);
    CHECK(run_until(&fx, has_run, &late, 5000));
    CHECK(late.start_ms[0] - t1 >= 45);
    CHECK(early.runs == 1);
    fx_free(&fx);
}

TEST(frequency_repeats_runs)
{
    fixture_t fx;
    fx_init(&fx);
    probe_t p = {0};
    gr_schedule_t s = every(40, 0);
    REQUIRE(gr_scheduler_add(fx.sched, "tick", &s, probe_fn, &p, NULL) == 0);
    uint64_t t0 = gr_now_ms();
    gr_scheduler_host_start(fx.host);
    CHECK(run_until(&fx, has_run_five, &p, 10000));
    CHECK(p.start_ms[0] - t0 < 2000);
    for (int i = 1; i < 5; i++)
        CHECK(p.start_ms[i] - p.start_ms[i - 1] >= 35);
    CHECK(p.dones == p.runs);
    fx_free(&fx);
}

TEST(a_task_never_overlaps_itself)
{
    fixture_t fx;
    fx_init(&fx);
    probe_t p = {0};
    probe_init_hold(&p, &fx, 80); /* each run outlasts the 20 ms period */
    gr_schedule_t s = every(20, 0);
    REQUIRE(gr_scheduler_add(fx.sched, "slow", &s, probe_fn, &p, NULL) == 0);
    gr_scheduler_host_start(fx.host);
    CHECK(run_until(&fx, has_done_three, &p, 10000));
    CHECK(p.max_concurrent == 1);
    for (int i = 1; i < 3; i++) {
        CHECK(p.start_ms[i] >= p.end_ms[i - 1]);
        /* The start that came due meanwhile runs right after the previous run. */
        CHECK(p.start_ms[i] - p.end_ms[i - 1] < 1000);
        CHECK(p.start_ms[i] - p.start_ms[i - 1] >= 75);
    }
    /* Stop first: a held run would otherwise end after its timer is closed. */
    gr_scheduler_host_stop(fx.host, on_stopped, &fx);
    CHECK(run_until(&fx, is_stopped, &fx, 10000));
    probe_close(&p);
    fx_free(&fx);
}

TEST(trigger_runs_now_and_queues_once_while_running)
{
    fixture_t fx;
    fx_init(&fx);
    probe_t p = {.manual = 1};
    gr_schedule_t s = every(0, 0);
    gr_error_t err;
    REQUIRE(gr_scheduler_add(fx.sched, "on-demand", &s, probe_fn, &p, NULL) == 0);
    gr_scheduler_host_start(fx.host);
    run_for(&fx, 100);
    CHECK(p.runs == 0); /* frequency 0: only when triggered */

    uint64_t t0 = gr_now_ms();
    CHECK(gr_scheduler_trigger(fx.sched, "on-demand", &err) == 0);
    CHECK(p.runs == 0); /* never from inside the call */
    CHECK(run_until(&fx, has_run, &p, 5000));
    CHECK(p.start_ms[0] - t0 < 1000);

    for (int i = 0; i < 3; i++)
        CHECK(gr_scheduler_trigger(fx.sched, "on-demand", &err) == 0);
    run_for(&fx, 50);
    CHECK(p.runs == 1);
    probe_finish(&p);
    REQUIRE(run_until(&fx, has_run_twice, &p, 5000));
    probe_finish(&p);
    run_for(&fx, 150);
    CHECK(p.runs == 2); /* three triggers while running queued one run */
    CHECK(p.max_concurrent == 1);

    CHECK(gr_scheduler_trigger(fx.sched, "missing", &err) == GR_ERR_NOT_FOUND);
    CHECK_CONTAINS(err.message, "missing");
    fx_free(&fx);
}

TEST(trigger_before_start_runs_at_start)
{
    fixture_t fx;
    fx_init(&fx);
    probe_t p = {0};
    gr_schedule_t s = every(0, 0);
    REQUIRE(gr_scheduler_add(fx.sched, "early-trigger", &s, probe_fn, &p, NULL) == 0);
    CHECK(gr_scheduler_trigger(fx.sched, "early-trigger", NULL) == 0);
    run_for(&fx, 50);
    CHECK(p.runs == 0);
    gr_scheduler_host_start(fx.host);
    CHECK(run_until(&fx, has_done, &p, 5000));
    fx_free(&fx);
}

static int current_cancelled(void *ud)
{
    probe_t *p = ud;
    return p->current && gr_task_cancelled(p->current);
}

TEST(timeout_cancels_and_records_timed_out)
{
    fixture_t fx;
    fx_init(&fx);
    probe_t p = {.manual = 1};
    gr_schedule_t s = every(0, 0);
    s.timeout_ms = 30;
    REQUIRE(gr_scheduler_add(fx.sched, "slow", &s, probe_fn, &p, NULL) == 0);
    gr_scheduler_host_start(fx.host);
    CHECK(gr_scheduler_trigger(fx.sched, "slow", NULL) == 0);
    REQUIRE(run_until(&fx, has_run, &p, 5000));
    CHECK(!gr_task_cancelled(p.current));
    CHECK_STR(gr_task_id(p.current), "slow");
    CHECK(run_until(&fx, current_cancelled, &p, 5000));
    CHECK(gr_now_ms() - p.start_ms[0] >= 25);

    struct json_object *during = gr_scheduler_host_describe(fx.host);
    CHECK(json_object_get_boolean(field(find_task(during, "test.slow"), "running")));
    json_object_put(during);

    probe_finish(&p); /* status 0, but too late */
    CHECK(p.saw_cancelled);
    struct json_object *arr = gr_scheduler_host_describe(fx.host);
    struct json_object *t = find_task(arr, "test.slow");
    CHECK_STR(json_object_get_string(field(t, "lastStatus")), "timed out");
    CHECK_CONTAINS(json_object_get_string(field(t, "lastError")), "timeout of 30 ms");
    CHECK(!json_object_get_boolean(field(t, "running")));
    json_object_put(arr);

    char *text = render_metrics(&fx);
    CHECK_CONTAINS(text, "scheduler_task_runs_total{task=\"test.slow\",status=\"timed out\"} 1\n");
    free(text);
    fx_free(&fx);
}

TEST(a_failed_run_is_described)
{
    fixture_t fx;
    fx_init(&fx);
    probe_t p = {.status = GR_ERR_UNAVAILABLE, .error = "github is down"};
    gr_schedule_t s = every(0, 0);
    REQUIRE(gr_scheduler_add(fx.sched, "sync", &s, probe_fn, &p, NULL) == 0);
    gr_scheduler_host_start(fx.host);

    struct json_object *before = gr_scheduler_host_describe(fx.host);
    struct json_object *t = find_task(before, "test.sync");
    REQUIRE(t != NULL);
    CHECK(field(t, "lastStart") == NULL && field(t, "lastEnd") == NULL);
    CHECK(field(t, "lastStatus") == NULL && field(t, "lastError") == NULL);
    json_object_put(before);

    int64_t w0 = gr_test_wall_ms();
    CHECK(gr_scheduler_trigger(fx.sched, "sync", NULL) == 0);
    CHECK(run_until(&fx, has_done, &p, 5000));
    int64_t w1 = gr_test_wall_ms();

    struct json_object *arr = gr_scheduler_host_describe(fx.host);
    CHECK(json_object_array_length(arr) == 1);
    t = find_task(arr, "test.sync");
    REQUIRE(t != NULL);
    CHECK_STR(json_object_get_string(field(t, "pluginId")), "test");
    CHECK_STR(json_object_get_string(field(t, "scope")), "local");
    CHECK(json_object_get_int64(field(t, "frequencyMs")) == 0);
    CHECK_STR(json_object_get_string(field(t, "lastStatus")), "failed");
    CHECK_STR(json_object_get_string(field(t, "lastError")), "github is down");
    int64_t start = parse_iso(field(t, "lastStart")), end = parse_iso(field(t, "lastEnd"));
    CHECK(start >= w0 - 1 && start <= end && end <= w1 + 1);
    CHECK(field(t, "nextRun") == NULL); /* frequency 0 */
    CHECK(json_object_is_type(field(t, "running"), json_type_boolean));
    CHECK(!json_object_get_boolean(field(t, "running")));
    json_object_put(arr);

    char *text = render_metrics(&fx);
    CHECK_CONTAINS(text, "scheduler_task_runs_total{task=\"test.sync\",status=\"failed\"} 1\n");
    CHECK_CONTAINS(text, "scheduler_task_running{task=\"test.sync\"} 0\n");
    CHECK_CONTAINS(text, "scheduler_task_duration_seconds_count{task=\"test.sync\"} 1\n");
    free(text);
    fx_free(&fx);
}

TEST(stop_waits_for_the_running_task)
{
    fixture_t fx;
    fx_init(&fx);
    probe_t p = {0};
    probe_init_hold(&p, &fx, 100);
    gr_schedule_t s = every(60000, 0);
    REQUIRE(gr_scheduler_add(fx.sched, "busy", &s, probe_fn, &p, NULL) == 0);
    gr_scheduler_host_start(fx.host);
    REQUIRE(run_until(&fx, has_run, &p, 5000));
    CHECK(p.dones == 0);

    gr_scheduler_host_stop(fx.host, on_stopped, &fx);
    CHECK(fx.stopped == 0);
    CHECK(gr_task_cancelled(p.current));
    CHECK(run_until(&fx, is_stopped, &fx, 10000));
    CHECK(p.dones == 1);
    CHECK(p.saw_cancelled);
    CHECK(fx.stopped_ms >= p.end_ms[0]);

    gr_error_t err;
    CHECK(gr_scheduler_trigger(fx.sched, "busy", &err) == GR_ERR_CANCELED);
    CHECK(gr_scheduler_add(fx.sched, "another", &s, probe_fn, &p, &err) == GR_ERR_CANCELED);
    run_for(&fx, 50);
    CHECK(p.runs == 1);
    CHECK(fx.stopped == 1);
    probe_close(&p);
    fx_free(&fx);
}

TEST(stop_abandons_a_task_after_the_stop_timeout)
{
    fixture_t fx;
    fx_init(&fx);
    probe_t p = {.manual = 1};
    gr_schedule_t s = every(60000, 0);
    REQUIRE(gr_scheduler_add(fx.sched, "stuck", &s, probe_fn, &p, NULL) == 0);
    gr_scheduler_host_set_stop_timeout(fx.host, 50);
    gr_scheduler_host_start(fx.host);
    REQUIRE(run_until(&fx, has_run, &p, 5000));
    uint64_t t0 = gr_now_ms();
    gr_scheduler_host_stop(fx.host, on_stopped, &fx);
    CHECK(run_until(&fx, is_stopped, &fx, 10000));
    CHECK(fx.stopped_ms - t0 >= 45);
    CHECK(p.dones == 0);

    /* A late done before free is still safe and recorded. */
    probe_finish(&p);
    run_for(&fx, 20);
    CHECK(fx.stopped == 1);
    struct json_object *arr = gr_scheduler_host_describe(fx.host);
    CHECK_STR(json_object_get_string(field(find_task(arr, "test.stuck"), "lastStatus")),
              "succeeded");
    json_object_put(arr);
    fx_free(&fx);
}

TEST(stop_with_nothing_running_reports_on_a_later_turn)
{
    fixture_t fx;
    fx_init(&fx);
    gr_scheduler_host_start(fx.host);
    gr_scheduler_host_stop(fx.host, on_stopped, &fx);
    CHECK(fx.stopped == 0);
    CHECK(run_until(&fx, is_stopped, &fx, 5000));
    fx_free(&fx);
}

TEST(registration_is_checked)
{
    fixture_t fx;
    fx_init(&fx);
    probe_t p = {0};
    gr_schedule_t s = every(1000, 0);
    gr_error_t err;
    CHECK(gr_scheduler_add(fx.sched, "refresh", &s, probe_fn, &p, &err) == 0);
    CHECK(gr_scheduler_add(fx.sched, "refresh", &s, probe_fn, &p, &err) == GR_ERR_CONFLICT);
    CHECK(err.code == GR_ERR_CONFLICT);
    CHECK_CONTAINS(err.message, "refresh");

    /* Ids are per plugin. */
    gr_scheduler_t *other = gr_scheduler_host_plugin(fx.host, "other");
    CHECK(other != fx.sched);
    CHECK(gr_scheduler_host_plugin(fx.host, "other") == other);
    CHECK(gr_scheduler_add(other, "refresh", &s, probe_fn, &p, &err) == 0);

    gr_schedule_t global = s;
    global.scope = GR_TASK_GLOBAL;
    CHECK(gr_scheduler_add(fx.sched, "global", &global, probe_fn, &p, &err) == GR_ERR_UNSUPPORTED);
    CHECK_CONTAINS(err.message, "database");

    gr_schedule_t bad_jitter = s;
    bad_jitter.jitter = 1.5;
    CHECK(gr_scheduler_add(fx.sched, "jittery", &bad_jitter, probe_fn, &p, &err) == GR_ERR_INVALID);
    CHECK(gr_scheduler_add(fx.sched, "Bad_Id", &s, probe_fn, &p, &err) == GR_ERR_INVALID);
    CHECK(gr_scheduler_add(fx.sched, "no-fn", &s, NULL, &p, &err) == GR_ERR_INVALID);

    struct json_object *arr = gr_scheduler_host_describe(fx.host);
    CHECK(json_object_array_length(arr) == 2);
    CHECK(find_task(arr, "test.refresh") != NULL);
    CHECK(find_task(arr, "other.refresh") != NULL);
    json_object_put(arr);
    fx_free(&fx);
}

TEST(jitter_shortens_waits_at_random)
{
    fixture_t fx;
    fx_init(&fx);
    enum { N = 20 };
    probe_t p = {0};
    gr_schedule_t plain = every(100000, 100000);
    gr_schedule_t jittered = plain;
    jittered.jitter = 1.0;
    char id[16];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "j%d", i);
        REQUIRE(gr_scheduler_add(fx.sched, id, &jittered, probe_fn, &p, NULL) == 0);
    }
    REQUIRE(gr_scheduler_add(fx.sched, "plain", &plain, probe_fn, &p, NULL) == 0);
    int64_t w0 = gr_test_wall_ms();
    gr_scheduler_host_start(fx.host);
    struct json_object *arr = gr_scheduler_host_describe(fx.host);
    int64_t w1 = gr_test_wall_ms();

    int64_t plain_next = parse_iso(field(find_task(arr, "test.plain"), "nextRun"));
    CHECK(plain_next >= w0 + 100000 - 1 && plain_next <= w1 + 100000 + 1);
    int early = 0, distinct = 0, in_range = 1;
    int64_t prev = -1;
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "test.j%d", i);
        int64_t next = parse_iso(field(find_task(arr, id), "nextRun"));
        in_range &= next >= w0 - 1 && next <= w1 + 100000 + 1;
        early += next < w0 + 90000;
        distinct += next != prev;
        prev = next;
    }
    CHECK(in_range);
    CHECK(early > 0);        /* all 20 in the last tenth: p = 1e-20 */
    CHECK(distinct > N / 2); /* not one shared delay */
    json_object_put(arr);
    CHECK(p.runs == 0);
    fx_free(&fx);
}

TEST_MAIN(TEST_ENTRY(initial_delay_counts_from_start), TEST_ENTRY(frequency_repeats_runs),
          TEST_ENTRY(a_task_never_overlaps_itself),
          TEST_ENTRY(trigger_runs_now_and_queues_once_while_running),
          TEST_ENTRY(trigger_before_start_runs_at_start),
          TEST_ENTRY(timeout_cancels_and_records_timed_out), TEST_ENTRY(a_failed_run_is_described),
          TEST_ENTRY(stop_waits_for_the_running_task),
          TEST_ENTRY(stop_abandons_a_task_after_the_stop_timeout),
          TEST_ENTRY(stop_with_nothing_running_reports_on_a_later_turn),
          TEST_ENTRY(registration_is_checked), TEST_ENTRY(jitter_shortens_waits_at_random))
