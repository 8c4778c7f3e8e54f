/* tests/unit/test_scheduler_global.c: global tasks and stored status
 * (core/scheduler_db.c) against a real PostgreSQL that the harness starts.
 *
 * Each "node" is what one greenroom host has: its own database service
 * (its own connections) and its own scheduler host, with its own instance
 * id.  Two nodes on one loop share one server, as two hosts share one
 * database: only the table can keep them from running a task twice. */
#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_service.h"
#include "loop_wait.h"
#include "pg_harness.h"
#include "scheduler.h"
#include "test.h"
#include "util.h"
#include "wall_time.h"

#define HOST_DB "backstage_plugin_greenroom"

static gr_pg_harness_t H;
static int harness_ok = -1;

static gr_pg_harness_t *pg(void)
{
    if (harness_ok < 0)
        harness_ok = gr_pg_harness_start(&H) == 0;
    return harness_ok ? &H : NULL;
}

/* ---- running the loop -------------------------------------------------------- */

/* Every node runs on the harness's loop. */
static int run_until(gr_test_pred_fn pred, void *ud, uint64_t max_ms)
{
    return gr_test_run_until_pred(&H.loop, pred, ud, max_ms);
}

static void run_for(uint64_t ms)
{
    gr_test_run_for(&H.loop, ms);
}

/* ---- a node: one host's database service and scheduler ----------------------------- */

typedef struct node {
    gr_db_service_t *svc;
    gr_scheduler_host_t *sh;
    gr_scheduler_t *sched; /* plugin "t" */
    int stopped;
} node_t;

static void on_sched_stopped(void *ud)
{
    ((node_t *)ud)->stopped = 1;
}

/* A started database service with the host's table migrated, and a
 * scheduler (not started) using it as `instance`. */
static int node_open(node_t *n, const char *instance)
{
    gr_db_options_t o;
    gr_error_t err;
    gr_test_status_t w = {0}, m = {0};
    memset(n, 0, sizeof *n);
    gr_db_options_init(&o);
    gr_db_options_set_connection(&o, NULL, H.conninfo, &err);
    o.retry_min_ms = 50;
    o.retry_max_ms = 200;
    n->svc = gr_db_service_new_with(&H.loop, &o, NULL, H.log, NULL, &err);
    gr_db_options_free(&o);
    if (!n->svc)
        return -1;
    gr_db_service_start(n->svc, gr_test_on_status, &w);
    gr_test_run_until(&H.loop, &w.done, 20000);
    if (w.status != 0) {
        fprintf(stderr, "service start: %s\n", w.message);
        return -1;
    }
    gr_db_service_migrate(n->svc, GR_DB_HOST_ID, gr_scheduler_migrations, gr_test_on_status, &m);
    gr_test_run_until(&H.loop, &m.done, 20000);
    if (m.status != 0) {
        fprintf(stderr, "host migrations: %s\n", m.message);
        return -1;
    }
    n->sh = gr_scheduler_host_new(&H.loop, H.log, NULL);
    gr_scheduler_host_set_db(n->sh, gr_db_service_host(n->svc), instance);
    /* Leases of 1 s (renewed every 333 ms) keep the tests short. */
    gr_scheduler_host_set_default_lease(n->sh, 1000);
    n->sched = gr_scheduler_host_plugin(n->sh, "t");
    return 0;
}

/* Stops the scheduler (which waits for its releases) and waits for it. */
static void node_stop(node_t *n)
{
    if (!n->sh || n->stopped)
        return;
    gr_scheduler_host_stop(n->sh, on_sched_stopped, n);
    CHECK(gr_test_run_until(&H.loop, &n->stopped, 20000));
}

static void node_close(node_t *n)
{
    gr_test_status_t w = {0};
    node_stop(n);
    if (n->sh)
        gr_scheduler_host_free(n->sh);
    n->sh = NULL;
    run_for(5);
    if (n->svc) {
        gr_db_service_stop(n->svc, gr_test_on_status, &w);
        gr_test_run_until(&H.loop, &w.done, 20000);
        gr_db_service_free(n->svc);
        run_for(5);
    }
    n->svc = NULL;
}

/* ---- a probe: a task function shared by both nodes --------------------------------- */

#define MAX_RUNS 128

typedef struct probe probe_t;

typedef struct probe_ref {
    probe_t *p;
    int node; /* 0 or 1 */
} probe_ref_t;

struct probe {
    int runs, dones;
    int concurrent, max_concurrent;
    int runs_by[2];
    int last_node; /* the node of the latest run */
    uint64_t start_ms[MAX_RUNS];
    uint64_t hold_ms; /* 0: done inside the task function */
    int manual;       /* runs wait in held[] for probe_finish */
    gr_task_t *held[8];
    int nheld;
    int cancelled_seen; /* runs that saw gr_task_cancelled() when they ended */
    int status;
    const char *error;
    probe_ref_t ref[2];
};

typedef struct run_rec {
    uv_timer_t timer;
    probe_t *p;
    gr_task_t *task;
} run_rec_t;

static void probe_init(probe_t *p)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < 2; i++)
        p->ref[i] = (probe_ref_t){p, i};
}

static void probe_end(probe_t *p, gr_task_t *task)
{
    p->concurrent--;
    p->dones++;
    if (gr_task_cancelled(task))
        p->cancelled_seen++;
    gr_task_done(task, p->status, p->error);
}

/* Ends the oldest held run. */
static void probe_finish(probe_t *p)
{
    if (p->nheld == 0)
        return;
    gr_task_t *task = p->held[0];
    memmove(p->held, p->held + 1, (size_t)(p->nheld - 1) * sizeof p->held[0]);
    p->nheld--;
    probe_end(p, task);
}

static void run_rec_closed(uv_handle_t *h)
{
    free(h->data);
}

static void run_rec_cb(uv_timer_t *t)
{
    run_rec_t *r = t->data;
    probe_end(r->p, r->task);
    uv_close((uv_handle_t *)t, run_rec_closed);
}

static void probe_fn(gr_task_t *task, void *ud)
{
    probe_ref_t *ref = ud;
    probe_t *p = ref->p;
    if (p->runs < MAX_RUNS)
        p->start_ms[p->runs] = gr_now_ms();
    p->runs++;
    p->runs_by[ref->node]++;
    p->last_node = ref->node;
    if (++p->concurrent > p->max_concurrent)
        p->max_concurrent = p->concurrent;
    if (p->manual) {
        if (p->nheld < 8)
            p->held[p->nheld++] = task;
        return;
    }
    if (p->hold_ms == 0) {
        probe_end(p, task);
        return;
    }
    run_rec_t *r = gr_xcalloc(1, sizeof *r);
    r->p = p;
    r->task = task;
    uv_timer_init(&H.loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, run_rec_cb, p->hold_ms, 0);
}

static int has_run(void *ud)
{
    return ((probe_t *)ud)->runs >= 1;
}

static int has_run_twice(void *ud)
{
    return ((probe_t *)ud)->runs >= 2;
}

static int all_done(void *ud)
{
    probe_t *p = ud;
    return p->runs > 0 && p->dones == p->runs;
}

static gr_schedule_t global_every(uint64_t frequency_ms, uint64_t timeout_ms)
{
    return (gr_schedule_t){
        .frequency_ms = frequency_ms, .timeout_ms = timeout_ms, .scope = GR_TASK_GLOBAL};
}

/* ---- describe() and the table ------------------------------------------------------- */

static struct json_object *field(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* The describe() entry's field as a string, copied ("" when null). */
static char *describe_field(gr_scheduler_host_t *sh, const char *id, const char *key)
{
    struct json_object *arr = gr_scheduler_host_describe(sh);
    char *out = NULL;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *o = json_object_array_get_idx(arr, i);
        if (strcmp(json_object_get_string(field(o, "id")), id) == 0) {
            struct json_object *v = field(o, key);
            out = gr_xstrdup(v ? json_object_get_string(v) : "");
        }
    }
    json_object_put(arr);
    return out ? out : gr_xstrdup("(no such task)");
}

typedef struct describe_wait {
    gr_scheduler_host_t *sh;
    const char *id, *key, *want;
} describe_wait_t;

static int describe_has(void *ud)
{
    describe_wait_t *w = ud;
    char *v = describe_field(w->sh, w->id, w->key);
    int ok = strcmp(v, w->want) == 0;
    free(v);
    return ok;
}

/* One value from the host's table (malloc'd; NULL after printing an error). */
static char *row(const char *id, const char *expr)
{
    char sql[512];
    /* The ids here are the tests' own constants. */
    snprintf(sql, sizeof sql,
             "SELECT coalesce((%s)::text, 'NULL') FROM greenroom_tasks WHERE id = '%s'", expr, id);
    return gr_pg_harness_sql(&H, HOST_DB, sql);
}

static void check_row(const char *id, const char *expr, const char *want)
{
    char *v = row(id, expr);
    if (!v || strcmp(v, want) != 0)
        fprintf(stderr, "  row %s: %s = %s, expected %s\n", id, expr, v ? v : "(error)", want);
    CHECK(v && strcmp(v, want) == 0);
    free(v);
}

/* Runs the loop until the row's expr reads want (its writes land a moment
 * after the runs end); returns whether it did. */
static int wait_row(const char *id, const char *expr, const char *want)
{
    for (int i = 0; i < 100; i++) {
        char *v = row(id, expr);
        int ok = v && strcmp(v, want) == 0;
        free(v);
        if (ok)
            return 1;
        run_for(20);
    }
    return 0;
}

/* ---- tests ------------------------------------------------------------------------- */

TEST(global_task_runs_once_per_period_across_two_hosts)
{
    node_t a, b;
    probe_t p;
    REQUIRE(pg());
    REQUIRE(node_open(&a, "host-a:1:aaaa") == 0);
    REQUIRE(node_open(&b, "host-b:2:bbbb") == 0);
    probe_init(&p);
    p.hold_ms = 50;
    gr_schedule_t s = global_every(300, 0);
    REQUIRE(gr_scheduler_add(a.sched, "tick", &s, probe_fn, &p.ref[0], NULL) == 0);
    REQUIRE(gr_scheduler_add(b.sched, "tick", &s, probe_fn, &p.ref[1], NULL) == 0);
    gr_scheduler_host_start(a.sh);
    gr_scheduler_host_start(b.sh);
    run_for(3000);
    node_stop(&a);
    node_stop(&b);

    /* 3 s at one run per 300 ms is 10 (11 at the edges); both hosts each
     * running every period would be about 20. */
    fprintf(stderr, "  runs %d (host a %d, host b %d)\n", p.runs, p.runs_by[0], p.runs_by[1]);
    CHECK(p.runs >= 7);
    CHECK(p.runs <= 12);
    CHECK(p.max_concurrent == 1);
    CHECK(p.dones == p.runs);
    /* Never twice in one period: two hosts acting alone would start within
     * a few milliseconds of each other. */
    for (int i = 1; i < p.runs && i < MAX_RUNS; i++)
        CHECK(p.start_ms[i] - p.start_ms[i - 1] >= 100);
    /* Stopping released the lease and recorded the last run. */
    check_row("t.tick", "lease_owner", "NULL");
    check_row("t.tick", "last_status", "succeeded");
    check_row("t.tick", "scope", "global");
    check_row("t.tick", "next_run > now() - interval '1 second'", "true");
    node_close(&a);
    node_close(&b);
}

TEST(a_host_joining_later_does_not_rerun_the_current_period)
{
    node_t a, b;
    probe_t p;
    REQUIRE(pg());
    REQUIRE(node_open(&a, "host-a:1:aaaa") == 0);
    REQUIRE(node_open(&b, "host-b:2:bbbb") == 0);
    probe_init(&p);
    gr_schedule_t s = global_every(60000, 0);
    REQUIRE(gr_scheduler_add(a.sched, "hourly", &s, probe_fn, &p.ref[0], NULL) == 0);
    REQUIRE(gr_scheduler_add(b.sched, "hourly", &s, probe_fn, &p.ref[1], NULL) == 0);
    gr_scheduler_host_start(a.sh);
    REQUIRE(run_until(all_done, &p, 5000));
    CHECK(wait_row("t.hourly", "last_status", "succeeded"));
    /* b starts with no initial delay, but this period has run already. */
    gr_scheduler_host_start(b.sh);
    run_for(1000);
    CHECK(p.runs == 1);
    CHECK(p.runs_by[1] == 0);
    check_row("t.hourly", "next_run > now() + interval '50 seconds'", "true");
    /* describe() on b shows a's run, read from the table. */
    char *status = describe_field(b.sh, "t.hourly", "lastStatus");
    CHECK_STR(status, "succeeded");
    free(status);
    node_close(&a);
    node_close(&b);
}

TEST(renewals_keep_a_long_run_alone_and_a_lost_lease_cancels_it)
{
    node_t a, b;
    probe_t p;
    REQUIRE(pg());
    REQUIRE(node_open(&a, "host-a:1:aaaa") == 0);
    REQUIRE(node_open(&b, "host-b:2:bbbb") == 0);
    probe_init(&p);
    p.manual = 1;
    /* Lease 1 s, renewed every third; due every 400 ms. */
    gr_schedule_t s = global_every(400, 0);
    REQUIRE(gr_scheduler_add(a.sched, "lossy", &s, probe_fn, &p.ref[0], NULL) == 0);
    REQUIRE(gr_scheduler_add(b.sched, "lossy", &s, probe_fn, &p.ref[1], NULL) == 0);
    gr_scheduler_host_start(a.sh);
    REQUIRE(run_until(has_run, &p, 5000));
    gr_scheduler_host_start(b.sh);

    /* Held for 2.5 leases: renewals keep it, although it is overdue. */
    run_for(2500);
    CHECK(p.runs == 1);
    CHECK(p.runs_by[1] == 0);
    REQUIRE(p.nheld == 1);
    CHECK(!gr_task_cancelled(p.held[0]));
    check_row("t.lossy", "lease_owner", "host-a:1:aaaa");
    check_row("t.lossy", "lease_until > now() + interval '300 milliseconds'", "true");
    check_row("t.lossy", "next_run < now()", "true");

    /* Someone else takes the row: the next renewal notices. */
    char *r = gr_pg_harness_sql(&H, HOST_DB,
                                "UPDATE greenroom_tasks SET lease_owner = 'intruder:9:beef', "
                                "lease_until = now() + interval '1 hour' WHERE id = 't.lossy'");
    CHECK(r != NULL);
    free(r);
    uint64_t t0 = gr_now_ms();
    gr_task_t *held = p.held[0];
    for (int i = 0; i < 200 && !gr_task_cancelled(held); i++)
        run_for(10);
    CHECK(gr_task_cancelled(held));
    CHECK(gr_now_ms() - t0 < 1500);
    probe_finish(&p);
    run_for(200);
    CHECK(p.cancelled_seen == 1);
    char *status = describe_field(a.sh, "t.lossy", "lastStatus");
    char *error = describe_field(a.sh, "t.lossy", "lastError");
    CHECK_STR(status, "cancelled");
    CHECK_CONTAINS(error, "lost its lease");
    free(status);
    free(error);
    /* The release did not touch the intruder's row. */
    check_row("t.lossy", "lease_owner", "intruder:9:beef");
    check_row("t.lossy", "last_status", "NULL");
    /* Nobody runs it while the intruder holds it. */
    CHECK(p.runs == 1);
    node_close(&a);
    node_close(&b);
}

TEST(a_dead_holders_lease_runs_out_and_another_host_takes_over)
{
    node_t a, b;
    probe_t p;
    REQUIRE(pg());
    REQUIRE(node_open(&a, "host-a:1:aaaa") == 0);
    REQUIRE(node_open(&b, "host-b:2:bbbb") == 0);
    probe_init(&p);
    p.manual = 1;
    gr_schedule_t s = global_every(300, 0);
    REQUIRE(gr_scheduler_add(a.sched, "orphan", &s, probe_fn, &p.ref[0], NULL) == 0);
    REQUIRE(gr_scheduler_add(b.sched, "orphan", &s, probe_fn, &p.ref[1], NULL) == 0);
    gr_scheduler_host_start(a.sh);
    REQUIRE(run_until(has_run, &p, 5000));
    gr_scheduler_host_start(b.sh);
    run_for(1200);
    CHECK(p.runs_by[1] == 0);

    /* Host a hangs: its stop gives up on the run at once and it renews no
     * more, as if it had died holding the lease. */
    gr_scheduler_host_set_stop_timeout(a.sh, 1);
    gr_scheduler_host_stop(a.sh, on_sched_stopped, &a);
    REQUIRE(gr_test_run_until(&H.loop, &a.stopped, 5000));
    uint64_t died = gr_now_ms();
    char *left = row("t.orphan", "ceil(extract(epoch FROM lease_until - now()) * 1000)::bigint");
    REQUIRE(left != NULL);
    long lease_left = atol(left);
    free(left);
    CHECK(lease_left > 0);
    CHECK(lease_left <= 1000);

    REQUIRE(run_until(has_run_twice, &p, 5000));
    uint64_t took_over = p.start_ms[1] - died;
    fprintf(stderr, "  lease had %ld ms left; host b took over after %llu ms\n", lease_left,
            (unsigned long long)took_over);
    CHECK(p.runs_by[1] == 1);
    /* Not before the lease ran out, and soon after. */
    CHECK(took_over + 50 >= (uint64_t)lease_left);
    CHECK(took_over <= (uint64_t)lease_left + 1500);
    check_row("t.orphan", "lease_owner", "host-b:2:bbbb");

    /* Host a's abandoned run may still end; it writes nothing now. */
    probe_finish(&p);
    probe_finish(&p);
    run_for(100);
    check_row("t.orphan", "last_owner", "host-b:2:bbbb");
    node_close(&b);
    node_close(&a);
}

TEST(status_survives_a_restart)
{
    node_t a, b;
    probe_t local, global;
    REQUIRE(pg());
    REQUIRE(node_open(&a, "host-a:1:aaaa") == 0);
    probe_init(&local);
    probe_init(&global);
    local.status = GR_ERR_INTERNAL;
    local.error = "boom: the upstream said no";
    gr_schedule_t ls = {.frequency_ms = 60000};
    gr_schedule_t gs = global_every(60000, 0);
    REQUIRE(gr_scheduler_add(a.sched, "keeper", &ls, probe_fn, &local.ref[0], NULL) == 0);
    REQUIRE(gr_scheduler_add(a.sched, "gkeeper", &gs, probe_fn, &global.ref[0], NULL) == 0);
    gr_scheduler_host_start(a.sh);
    CHECK(run_until(all_done, &local, 5000));
    CHECK(run_until(all_done, &global, 5000));
    char *local_start = describe_field(a.sh, "t.keeper", "lastStart");
    char *global_start = describe_field(a.sh, "t.gkeeper", "lastStart");
    node_close(&a);

    check_row("t.keeper", "scope", "local");
    check_row("t.keeper", "last_status", "failed");
    check_row("t.keeper", "last_error", "boom: the upstream said no");
    check_row("t.keeper", "last_owner", "host-a:1:aaaa");
    check_row("t.keeper", "last_end >= last_start", "true");
    check_row("t.gkeeper", "last_status", "succeeded");

    /* A new process: nothing runs (a long initial delay), yet describe()
     * shows what the table kept. */
    REQUIRE(node_open(&b, "host-a:3:cccc") == 0);
    ls.initial_delay_ms = 60000;
    gs.initial_delay_ms = 60000;
    REQUIRE(gr_scheduler_add(b.sched, "keeper", &ls, probe_fn, &local.ref[1], NULL) == 0);
    REQUIRE(gr_scheduler_add(b.sched, "gkeeper", &gs, probe_fn, &global.ref[1], NULL) == 0);
    char *before = describe_field(b.sh, "t.keeper", "lastStatus");
    CHECK_STR(before, "");
    free(before);
    gr_scheduler_host_start(b.sh);
    describe_wait_t w1 = {b.sh, "t.keeper", "lastStatus", "failed"};
    describe_wait_t w2 = {b.sh, "t.gkeeper", "lastStatus", "succeeded"};
    CHECK(run_until(describe_has, &w1, 5000));
    CHECK(run_until(describe_has, &w2, 5000));
    char *error = describe_field(b.sh, "t.keeper", "lastError");
    CHECK_STR(error, "boom: the upstream said no");
    char *start = describe_field(b.sh, "t.keeper", "lastStart");
    CHECK_STR(start, local_start);
    char *gstart = describe_field(b.sh, "t.gkeeper", "lastStart");
    /* The stored global start is the server's clock at the claim, a moment
     * before the run began on this host's clock. */
    int64_t g_then = gr_test_iso_ms(global_start), g_now = gr_test_iso_ms(gstart);
    CHECK(g_then > 0 && g_now > 0);
    CHECK(g_now - g_then < 1000 && g_then - g_now < 1000);
    CHECK(local.runs_by[1] == 0 && global.runs_by[1] == 0);
    free(error);
    free(start);
    free(gstart);
    free(local_start);
    free(global_start);
    node_close(&b);
}

TEST(a_trigger_runs_a_global_task_once_on_whichever_host_claims_it)
{
    node_t a, b;
    probe_t p;
    gr_error_t err;
    REQUIRE(pg());
    REQUIRE(node_open(&a, "host-a:1:aaaa") == 0);
    REQUIRE(node_open(&b, "host-b:2:bbbb") == 0);
    probe_init(&p);
    gr_schedule_t s = global_every(0, 0); /* only when triggered */
    REQUIRE(gr_scheduler_add(a.sched, "manual", &s, probe_fn, &p.ref[0], NULL) == 0);
    REQUIRE(gr_scheduler_add(b.sched, "manual", &s, probe_fn, &p.ref[1], NULL) == 0);
    gr_scheduler_host_start(a.sh);
    gr_scheduler_host_start(b.sh);
    run_for(300);
    CHECK(p.runs == 0);

    CHECK(gr_scheduler_host_trigger(b.sh, "t.manual", &err) == 0);
    CHECK(run_until(has_run, &p, 3000));
    run_for(700);
    CHECK(p.runs == 1);
    check_row("t.manual", "next_run", "NULL");

    /* A trigger during a run, sent by the other host, makes one more run
     * right after it. */
    p.manual = 1;
    CHECK(gr_scheduler_host_trigger(a.sh, "t.manual", &err) == 0);
    CHECK(run_until(has_run_twice, &p, 3000));
    CHECK(gr_scheduler_host_trigger(p.last_node == 0 ? b.sh : a.sh, "t.manual", &err) == 0);
    run_for(500);
    CHECK(p.runs == 2);
    p.manual = 0;
    probe_finish(&p);
    run_until(all_done, &p, 3000);
    run_for(500);
    CHECK(p.runs == 3);
    CHECK(p.max_concurrent == 1);

    CHECK(gr_scheduler_host_trigger(a.sh, "t.nothing", &err) == GR_ERR_NOT_FOUND);
    CHECK_CONTAINS(err.message, "t.nothing");
    CHECK(gr_scheduler_host_trigger(a.sh, "no-dot", &err) == GR_ERR_NOT_FOUND);
    CHECK(gr_scheduler_host_trigger(a.sh, "other.manual", &err) == GR_ERR_NOT_FOUND);
    node_close(&a);
    node_close(&b);
}

TEST(local_tasks_store_their_status_and_still_run_on_every_host)
{
    node_t a, b;
    probe_t p;
    REQUIRE(pg());
    REQUIRE(node_open(&a, "host-a:1:aaaa") == 0);
    REQUIRE(node_open(&b, "host-b:2:bbbb") == 0);
    probe_init(&p);
    gr_schedule_t s = {.frequency_ms = 200};
    REQUIRE(gr_scheduler_add(a.sched, "everywhere", &s, probe_fn, &p.ref[0], NULL) == 0);
    REQUIRE(gr_scheduler_add(b.sched, "everywhere", &s, probe_fn, &p.ref[1], NULL) == 0);
    gr_scheduler_host_start(a.sh);
    gr_scheduler_host_start(b.sh);
    run_for(1000);
    node_stop(&a);
    node_stop(&b);
    CHECK(p.runs_by[0] >= 3);
    CHECK(p.runs_by[1] >= 3);
    check_row("t.everywhere", "last_status", "succeeded");
    check_row("t.everywhere", "lease_owner", "NULL");
    check_row("t.everywhere", "last_owner IN ('host-a:1:aaaa', 'host-b:2:bbbb')", "true");
    node_close(&a);
    node_close(&b);
}

TEST(a_claim_won_while_stopping_is_given_back)
{
    node_t a, b;
    probe_t p;
    REQUIRE(pg());
    REQUIRE(node_open(&a, "host-a:1:aaaa") == 0);
    probe_init(&p);
    gr_schedule_t s = global_every(300, 0);
    REQUIRE(gr_scheduler_add(a.sched, "stall", &s, probe_fn, &p.ref[0], NULL) == 0);
    gr_scheduler_host_start(a.sh);
    REQUIRE(run_until(all_done, &p, 5000));
    node_close(&a);
    char *start_before = row("t.stall", "last_start");

    /* b registers, then its claim (after a 300 ms initial delay, when the
     * task is due) waits behind a row lock held here; b is told to stop
     * meanwhile, so the claim it then wins must be handed back. */
    REQUIRE(node_open(&b, "host-b:2:bbbb") == 0);
    s.initial_delay_ms = 300;
    REQUIRE(gr_scheduler_add(b.sched, "stall", &s, probe_fn, &p.ref[1], NULL) == 0);
    gr_scheduler_host_start(b.sh);
    run_for(100);
    char *ci = gr_xasprintf("%s dbname=%s", H.conninfo, HOST_DB);
    PGconn *lock = PQconnectdb(ci);
    free(ci);
    REQUIRE(PQstatus(lock) == CONNECTION_OK);
    PQclear(PQexec(lock, "BEGIN"));
    PGresult *r = PQexec(lock, "SELECT 1 FROM greenroom_tasks WHERE id = 't.stall' FOR UPDATE");
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1);
    PQclear(r);
    run_for(500);
    gr_scheduler_host_stop(b.sh, on_sched_stopped, &b);
    run_for(50);
    CHECK(!b.stopped); /* waiting for the claim's answer */
    PQclear(PQexec(lock, "COMMIT"));
    PQfinish(lock);
    CHECK(gr_test_run_until(&H.loop, &b.stopped, 5000));
    CHECK(p.runs == 1);
    check_row("t.stall", "lease_owner", "NULL");
    check_row("t.stall", "last_owner", "host-a:1:aaaa");
    check_row("t.stall", "last_status", "succeeded");
    check_row("t.stall", "next_run <= now()", "true");
    char *start_after = row("t.stall", "last_start");
    CHECK_STR(start_after, start_before);
    free(start_before);
    free(start_after);
    node_close(&b);
}

/* Last but one: it stops the shared server for a while. */
TEST(an_outage_cancels_the_run_once_its_lease_runs_out_and_runs_resume)
{
    node_t a;
    probe_t p;
    REQUIRE(pg());
    REQUIRE(node_open(&a, "host-a:1:aaaa") == 0);
    probe_init(&p);
    p.manual = 1;
    gr_schedule_t s = global_every(500, 0);
    REQUIRE(gr_scheduler_add(a.sched, "outage", &s, probe_fn, &p.ref[0], NULL) == 0);
    gr_scheduler_host_start(a.sh);
    REQUIRE(run_until(has_run, &p, 5000));
    run_for(400); /* a renewal or two went through */
    REQUIRE(p.nheld == 1);
    gr_task_t *held = p.held[0];
    CHECK(!gr_task_cancelled(held));

    /* No renewal can land now: once the lease (1 s) may have run out, the
     * run must stop, since another host could take the task. */
    REQUIRE(gr_pg_harness_kill_server(&H) == 0);
    uint64_t t0 = gr_now_ms();
    for (int i = 0; i < 300 && !gr_task_cancelled(held); i++)
        run_for(10);
    uint64_t waited = gr_now_ms() - t0;
    fprintf(stderr, "  cancelled %llu ms into the outage\n", (unsigned long long)waited);
    CHECK(gr_task_cancelled(held));
    CHECK(waited <= 1300);
    REQUIRE(gr_pg_harness_restart(&H) == 0);
    p.manual = 0;
    probe_finish(&p);
    char *status = describe_field(a.sh, "t.outage", "lastStatus");
    CHECK_STR(status, "cancelled");
    free(status);
    /* The pools reconnect and the task runs again, on this host's own
     * stale lease or a fresh one. */
    CHECK(run_until(has_run_twice, &p, 15000));
    CHECK(run_until(all_done, &p, 5000));
    CHECK(wait_row("t.outage", "last_status", "succeeded"));
    node_close(&a);
}

TEST(zz_stop_harness)
{
    if (harness_ok == 1)
        gr_pg_harness_stop(&H);
    harness_ok = -1;
}

TEST_MAIN(TEST_ENTRY(global_task_runs_once_per_period_across_two_hosts),
          TEST_ENTRY(a_host_joining_later_does_not_rerun_the_current_period),
          TEST_ENTRY(renewals_keep_a_long_run_alone_and_a_lost_lease_cancels_it),
          TEST_ENTRY(a_dead_holders_lease_runs_out_and_another_host_takes_over),
          TEST_ENTRY(status_survives_a_restart),
          TEST_ENTRY(a_trigger_runs_a_global_task_once_on_whichever_host_claims_it),
          TEST_ENTRY(local_tasks_store_their_status_and_still_run_on_every_host),
          TEST_ENTRY(a_claim_won_while_stopping_is_given_back),
          TEST_ENTRY(an_outage_cancels_the_run_once_its_lease_runs_out_and_runs_resume),
          TEST_ENTRY(zz_stop_harness))
