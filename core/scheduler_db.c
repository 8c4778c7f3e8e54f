/* core/scheduler_db.c: the scheduler's table, greenroom_tasks, in the
 * host's own database: stored status for every task, and the leases that
 * let a global task run on one host at a time (see scheduler.h).
 *
 * Every statement is a constant with parameters.  Times that decide who
 * runs (next_run, lease_until) are the server's now(), never a host's
 * clock, so hosts whose clocks disagree still take turns correctly; waits
 * come back from the server as milliseconds from its now().
 *
 * A global task goes round this cycle, driven by its `next` timer:
 *
 *   claim ──won──> run (renewals every lease/3) ──gr_task_done──> release
 *     │                                                             │
 *     └──lost──> probe (read the row) ──> arm `next` for next_run <─┘
 *
 * At most one claim or probe per task is in flight (db_busy), and no claim
 * is sent while this host's release is in flight: the claim accepts a lease
 * this host holds already (left behind by a failed release), and a release
 * landing after such a claim would drop the new run's lease. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_impl.h"
#include "log.h"
#include "scheduler_internal.h"
#include "util.h"

/* Hosts waiting for the same next_run wake a little apart, so the same one
 * does not always win. */
#define GR__SCHED_SPREAD_MS 20
#define GR__SCHED_RETRY_MIN_MS 500
#define GR__SCHED_RETRY_MAX_MS 30000

static const char gr__sched_table_sql[] =
    "CREATE TABLE greenroom_tasks (\n"
    "    id text PRIMARY KEY,      -- <pluginId>.<taskId>\n"
    "    scope text NOT NULL,      -- global or local\n"
    "    frequency_ms bigint,\n"
    "    next_run timestamptz,     -- global: when the next run is due, for every host\n"
    "    lease_owner text,         -- global: the instance running it now\n"
    "    lease_until timestamptz,  -- global: when that lease ends unless renewed\n"
    "    last_start timestamptz,\n"
    "    last_end timestamptz,\n"
    "    last_status text,\n"
    "    last_error text,\n"
    "    last_owner text           -- the instance that started the last run\n"
    ")";

const gr_migration_t gr_scheduler_migrations[] = {{"001_scheduler_tasks", gr__sched_table_sql},
                                                  {NULL, NULL}};

/* What a host learns from the row: columns 0..7 of every state query. */
#define GR__STATE_COLUMNS                                                                          \
    "floor(extract(epoch FROM last_start) * 1000)::bigint, "                                       \
    "floor(extract(epoch FROM last_end) * 1000)::bigint, last_status, last_error, "                \
    "ceil(extract(epoch FROM next_run - now()) * 1000)::bigint, "                                  \
    "CASE WHEN lease_until > now() "                                                               \
    "THEN ceil(extract(epoch FROM lease_until - now()) * 1000)::bigint END, "                      \
    "lease_owner, last_owner"

/* $1 id, $2 scope, $3 frequency.  A new global row is due at once (each
 * host still waits for its initial delay); an existing one keeps its
 * next_run, pulled in if the frequency became shorter. */
static const char gr__sql_register[] =
    "INSERT INTO greenroom_tasks AS t (id, scope, frequency_ms, next_run) "
    "VALUES ($1, $2, $3::bigint, CASE WHEN $2 = 'global' AND $3::bigint > 0 THEN now() END) "
    "ON CONFLICT (id) DO UPDATE SET scope = excluded.scope, frequency_ms = excluded.frequency_ms, "
    "next_run = CASE WHEN excluded.scope = 'global' AND excluded.frequency_ms > 0 "
    "THEN least(coalesce(t.next_run, now()), "
    "now() + excluded.frequency_ms * interval '1 millisecond') "
    "ELSE t.next_run END "
    "RETURNING " GR__STATE_COLUMNS;

static const char gr__sql_probe[] =
    "SELECT " GR__STATE_COLUMNS " FROM greenroom_tasks WHERE id = $1";

/* $1 id, $2 instance, $3 lease ms, $4 frequency.  next_run moves on by one
 * period, or to a period from now when whole periods were missed.  The
 * previous last_start and last_owner come back, for gr__sql_unclaim. */
static const char gr__sql_claim[] =
    "UPDATE greenroom_tasks t SET lease_owner = $2, "
    "lease_until = now() + $3::bigint * interval '1 millisecond', "
    "next_run = CASE WHEN $4::bigint <= 0 THEN NULL "
    "WHEN next_run + $4::bigint * interval '1 millisecond' > now() "
    "THEN next_run + $4::bigint * interval '1 millisecond' "
    "ELSE now() + $4::bigint * interval '1 millisecond' END, "
    "last_start = now(), last_owner = $2 "
    "FROM (SELECT last_start, last_owner FROM greenroom_tasks WHERE id = $1) prev "
    "WHERE t.id = $1 AND t.next_run <= now() "
    "AND (t.lease_until IS NULL OR t.lease_until < now() OR t.lease_owner = $2) "
    "RETURNING prev.last_start, prev.last_owner";

/* $1 id, $2 instance, $3 lease ms. */
static const char gr__sql_renew[] =
    "UPDATE greenroom_tasks SET lease_until = now() + $3::bigint * interval '1 millisecond' "
    "WHERE id = $1 AND lease_owner = $2 RETURNING lease_owner";

/* $1 id, $2 instance, $3 status, $4 error. */
static const char gr__sql_release[] =
    "UPDATE greenroom_tasks SET lease_owner = NULL, lease_until = NULL, last_end = now(), "
    "last_status = $3, last_error = $4 "
    "WHERE id = $1 AND lease_owner = $2 "
    "RETURNING " GR__STATE_COLUMNS;

/* $1 id, $2 instance, $3/$4 last_start/last_owner as the claim found them:
 * a claim won while stopping is given back as if it never happened, and
 * the period is due at once for the other hosts. */
static const char gr__sql_unclaim[] =
    "UPDATE greenroom_tasks SET lease_owner = NULL, lease_until = NULL, next_run = now(), "
    "last_start = $3::timestamptz, last_owner = $4 "
    "WHERE id = $1 AND lease_owner = $2 "
    "RETURNING " GR__STATE_COLUMNS;

/* $1 id, $2 frequency. */
static const char gr__sql_trigger[] =
    "INSERT INTO greenroom_tasks (id, scope, frequency_ms, next_run) "
    "VALUES ($1, 'global', $2::bigint, now()) "
    "ON CONFLICT (id) DO UPDATE SET next_run = now()";

/* $1 id, $2 frequency, $3/$4 start/end in ms since the epoch, $5 status,
 * $6 error, $7 instance: a local task's status as this host knows it. */
static const char gr__sql_save[] =
    "INSERT INTO greenroom_tasks AS t (id, scope, frequency_ms, last_start, last_end, "
    "last_status, last_error, last_owner) "
    "VALUES ($1, 'local', $2::bigint, to_timestamp($3::bigint / 1000.0), "
    "to_timestamp($4::bigint / 1000.0), $5, $6, $7) "
    "ON CONFLICT (id) DO UPDATE SET last_start = excluded.last_start, "
    "last_end = excluded.last_end, last_status = excluded.last_status, "
    "last_error = excluded.last_error, last_owner = excluded.last_owner";

typedef enum gr__op_kind {
    GR__OP_REGISTER,
    GR__OP_PROBE,
    GR__OP_CLAIM,
    GR__OP_RENEW,
    GR__OP_RELEASE,
    GR__OP_TRIGGER,
    GR__OP_SAVE
} gr__op_kind_t;

/* One query in flight.  The pool calls back exactly once, also when it
 * closes; if the scheduler was freed first, `h` is NULL and the answer is
 * dropped. */
struct gr__sched_op {
    gr_scheduler_host_t *h;
    gr__sched_task_t *t;
    gr__op_kind_t kind;
    uint64_t seq;     /* t->run_seq when sent */
    uint64_t sent_ms; /* loop time when sent */
    gr__sched_op_t *prev, *next;
};

/* The row as a state query returned it. */
typedef struct gr__row_state {
    int64_t last_start_ms, last_end_ms; /* -1 for NULL */
    const char *status, *error;         /* borrowed from the result */
    int has_next;
    int64_t next_in_ms;    /* next_run - now(); may be negative */
    int64_t lease_left_ms; /* 0 when nobody holds an unexpired lease */
    const char *lease_owner;
    const char *last_owner;
} gr__row_state_t;

static void gr__on_result(const gr_db_result_t *res, const gr_db_error_t *err, void *user_data);

/* ---- small helpers ---------------------------------------------------------- */

static int gr__usable(const gr_scheduler_host_t *h)
{
    return h->db && h->state != GR__SCHED_STOPPED;
}

static void gr__send(gr__sched_task_t *t, gr__op_kind_t kind, const char *sql, int nparams,
                     const char *const *params)
{
    gr_scheduler_host_t *h = t->sched->host;
    gr__sched_op_t *op = gr_xcalloc(1, sizeof *op);
    op->h = h;
    op->t = t;
    op->kind = kind;
    op->seq = t->run_seq;
    /* The loop's cached time is never later than the real one, so a lease
     * deadline counted from it errs on the early side. */
    op->sent_ms = uv_now(h->loop);
    op->next = h->ops;
    if (h->ops)
        h->ops->prev = op;
    h->ops = op;
    h->db_pending++;
    gr_db_query(h->db, sql, nparams, params, gr__on_result, op);
}

static uint64_t gr__lease_ms(const gr_scheduler_host_t *h, const gr_schedule_t *s)
{
    uint64_t ms = s->timeout_ms ? s->timeout_ms : h->default_lease_ms;
    if (ms < GR_SCHEDULER_LEASE_MIN_MS)
        ms = GR_SCHEDULER_LEASE_MIN_MS;
    if (ms > GR_SCHEDULER_LEASE_MAX_MS)
        ms = GR_SCHEDULER_LEASE_MAX_MS;
    return ms;
}

static const char *gr__status_lookup(const char *s)
{
    const char *const known[] = {gr__status_succeeded, gr__status_failed, gr__status_timed_out,
                                 gr__status_cancelled};
    for (size_t i = 0; s && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(s, known[i]) == 0)
            return known[i];
    return NULL;
}

static int64_t gr__int_or(const gr_db_result_t *res, int col, int64_t dflt)
{
    int64_t v;
    return gr_db_result_int64(res, 0, col, &v) == 0 ? v : dflt;
}

static void gr__row_read(const gr_db_result_t *res, gr__row_state_t *st)
{
    int64_t v;
    st->last_start_ms = gr__int_or(res, 0, -1);
    st->last_end_ms = gr__int_or(res, 1, -1);
    st->status = gr_db_result_value(res, 0, 2);
    st->error = gr_db_result_value(res, 0, 3);
    st->has_next = gr_db_result_int64(res, 0, 4, &v) == 0;
    st->next_in_ms = st->has_next ? v : 0;
    st->lease_left_ms = gr__int_or(res, 5, 0);
    st->lease_owner = gr_db_result_value(res, 0, 6);
    st->last_owner = gr_db_result_value(res, 0, 7);
}

/* Takes the stored status at start, and later when it is about another
 * host's run (the same one, finished meanwhile, or a newer one): this host
 * knows its own runs better than the row, which a lost lease may have kept
 * it from updating. */
static void gr__row_apply(gr__sched_task_t *t, const gr__row_state_t *st)
{
    const char *me = t->sched->host->instance_id;
    if (t->run || st->last_start_ms < 0)
        return;
    if (t->last_start_ms >= 0 && ((st->last_owner && strcmp(st->last_owner, me) == 0) ||
                                  st->last_start_ms < t->last_start_ms))
        return;
    t->last_start_ms = st->last_start_ms;
    t->last_end_ms = st->last_end_ms;
    t->last_status = gr__status_lookup(st->status);
    free(t->last_error);
    t->last_error = st->error ? gr_xstrdup(st->error) : NULL;
}

static void gr__db_failed(gr_scheduler_host_t *h, gr__sched_task_t *t, const char *what,
                          const gr_db_error_t *err)
{
    if (!h->log)
        return;
    if (err->code == GR_ERR_CANCELED || h->db_warned) {
        gr_log_debug(h->log, "scheduler: cannot %s task %s: %s", what, t->full_id, err->message);
        return;
    }
    h->db_warned = 1;
    gr_log_warn(h->log, "scheduler: cannot %s task %s in the database: %s; retrying", what,
                t->full_id, err->message);
}

static void gr__db_answered(gr_scheduler_host_t *h, gr__sched_task_t *t)
{
    t->retry_ms = 0;
    if (h->db_warned && h->log)
        gr_log_info(h->log, "scheduler: the database answers again");
    h->db_warned = 0;
}

/* ---- arming a global task's next claim ------------------------------------------ */

static void gr__retry_later(gr__sched_task_t *t)
{
    gr_scheduler_host_t *h = t->sched->host;
    if (h->state != GR__SCHED_STARTED || t->run)
        return;
    t->retry_ms = t->retry_ms ? t->retry_ms * 2 : GR__SCHED_RETRY_MIN_MS;
    if (t->retry_ms > GR__SCHED_RETRY_MAX_MS)
        t->retry_ms = GR__SCHED_RETRY_MAX_MS;
    gr__sched_arm_in(t, t->retry_ms);
}

/* Arms `next` for when the row says the task is due: next_run, or the end
 * of another host's lease when that run is overdue already; never later
 * than one period (a safety net) nor before the initial delay ends. */
static void gr__arm_from_row(gr__sched_task_t *t, const gr__row_state_t *st)
{
    gr_scheduler_host_t *h = t->sched->host;
    uint64_t freq = t->schedule.frequency_ms;
    if (h->state != GR__SCHED_STARTED || t->run || t->db_busy || t->releasing)
        return;
    if (!st->has_next) {
        /* Only a trigger makes it due. */
        if (freq > 0)
            gr__sched_arm_in(t, freq);
        else
            uv_timer_stop(&t->next);
        return;
    }
    uint64_t wait = st->next_in_ms > 0 ? (uint64_t)st->next_in_ms : 0;
    int held_by_other =
        st->lease_left_ms > 0 && !(st->lease_owner && strcmp(st->lease_owner, h->instance_id) == 0);
    if (wait == 0 && held_by_other)
        wait = (uint64_t)st->lease_left_ms;
    if (freq > 0 && wait > freq)
        wait = freq;
    uint64_t now = uv_now(h->loop);
    if (t->not_before > now && wait < t->not_before - now)
        wait = t->not_before - now;
    wait += 1 + (uint64_t)(gr__sched_random(h) * GR__SCHED_SPREAD_MS);
    gr__sched_arm_in(t, wait);
}

/* ---- registration: the row exists, stored status comes back ---------------------- */

void gr__sched_db_register(gr__sched_task_t *t)
{
    gr_scheduler_host_t *h = t->sched->host;
    char freq[32];
    if (!gr__usable(h))
        return;
    if (gr__sched_global(t))
        t->db_busy = 1;
    snprintf(freq, sizeof freq, "%llu", (unsigned long long)t->schedule.frequency_ms);
    gr__send(t, GR__OP_REGISTER, gr__sql_register,
             GR_DB_PARAMS(t->full_id, gr__sched_global(t) ? "global" : "local", freq));
}

static void gr__send_probe(gr__sched_task_t *t)
{
    t->db_busy = 1;
    gr__send(t, GR__OP_PROBE, gr__sql_probe, GR_DB_PARAMS(t->full_id));
}

/* A register or probe answer: the row as it is now. */
static void gr__on_row(gr__sched_op_t *op, const gr_db_result_t *res, const gr_db_error_t *err)
{
    gr__sched_task_t *t = op->t;
    gr_scheduler_host_t *h = op->h;
    gr__row_state_t st;
    int global = gr__sched_global(t);
    if (global)
        t->db_busy = 0;
    if (err) {
        gr__db_failed(h, t, op->kind == GR__OP_REGISTER ? "register" : "read the state of", err);
        if (global)
            gr__retry_later(t);
        return;
    }
    gr__db_answered(h, t);
    if (gr_db_result_rows(res) == 0) {
        /* A probe found no row (deleted by hand): create it again. */
        if (global && h->state == GR__SCHED_STARTED)
            gr__sched_db_register(t);
        return;
    }
    gr__row_read(res, &st);
    gr__row_apply(t, &st);
    if (!global)
        return;
    if (t->claim_again && h->state == GR__SCHED_STARTED) {
        t->claim_again = 0;
        gr__sched_db_claim(t);
        return;
    }
    gr__arm_from_row(t, &st);
}

/* ---- claims and leases ---------------------------------------------------------- */

void gr__sched_db_claim(gr__sched_task_t *t)
{
    gr_scheduler_host_t *h = t->sched->host;
    char lease[32], freq[32];
    if (!gr__usable(h) || h->state != GR__SCHED_STARTED || t->run)
        return;
    if (t->db_busy || t->releasing) {
        t->claim_again = 1;
        return;
    }
    t->db_busy = 1;
    t->claim_again = 0;
    t->lease_ms = gr__lease_ms(h, &t->schedule);
    snprintf(lease, sizeof lease, "%llu", (unsigned long long)t->lease_ms);
    snprintf(freq, sizeof freq, "%llu", (unsigned long long)t->schedule.frequency_ms);
    gr__send(t, GR__OP_CLAIM, gr__sql_claim, GR_DB_PARAMS(t->full_id, h->instance_id, lease, freq));
}

static void gr__send_release(gr__sched_task_t *t)
{
    gr_scheduler_host_t *h = t->sched->host;
    t->releasing = 1;
    gr__send(t, GR__OP_RELEASE, gr__sql_release,
             GR_DB_PARAMS(t->full_id, h->instance_id, t->last_status, t->last_error));
}

static void gr__on_claim(gr__sched_op_t *op, const gr_db_result_t *res, const gr_db_error_t *err)
{
    gr__sched_task_t *t = op->t;
    gr_scheduler_host_t *h = op->h;
    if (err) {
        t->db_busy = 0;
        gr__db_failed(h, t, "claim", err);
        gr__retry_later(t);
        return;
    }
    gr__db_answered(h, t);
    if (gr_db_result_rows(res) == 0) {
        /* Not due yet, or another host holds it: find out until when. */
        if (h->state == GR__SCHED_STARTED)
            gr__send_probe(t);
        else
            t->db_busy = 0;
        return;
    }
    t->db_busy = 0;
    if (h->state != GR__SCHED_STARTED) {
        /* Won while stopping: give the period straight back. */
        t->releasing = 1;
        gr__send(t, GR__OP_RELEASE, gr__sql_unclaim,
                 GR_DB_PARAMS(t->full_id, h->instance_id, gr_db_result_value(res, 0, 0),
                              gr_db_result_value(res, 0, 1)));
        return;
    }
    t->lease_deadline = op->sent_ms + t->lease_ms;
    gr__sched_begin(t);
}

static void gr__lease_lost(gr__sched_task_t *t, const char *why)
{
    gr_scheduler_host_t *h = t->sched->host;
    t->run->cancelled = 1;
    t->run->lease_lost = why;
    uv_timer_stop(&t->renew);
    if (h->log)
        gr_log_warn(h->log,
                    "scheduler: task %s lost its lease (%s); the run is marked cancelled and "
                    "should stop, as another host may start the task meanwhile",
                    t->full_id, why);
}

static void gr__on_renew_timer(uv_timer_t *timer)
{
    gr__sched_task_t *t = timer->data;
    gr_scheduler_host_t *h = t->sched->host;
    char lease[32];
    if (!t->run || t->run->lease_lost || !gr__usable(h)) {
        uv_timer_stop(timer);
        return;
    }
    if (uv_now(h->loop) >= t->lease_deadline) {
        gr__lease_lost(t, "no renewal reached the database before the lease ran out");
        return;
    }
    if (t->renewing)
        return;
    t->renewing = 1;
    snprintf(lease, sizeof lease, "%llu", (unsigned long long)t->lease_ms);
    gr__send(t, GR__OP_RENEW, gr__sql_renew, GR_DB_PARAMS(t->full_id, h->instance_id, lease));
}

void gr__sched_db_lease_start(gr__sched_task_t *t)
{
    uint64_t every = t->lease_ms / 3;
    uv_timer_start(&t->renew, gr__on_renew_timer, every, every);
}

static void gr__on_renew(gr__sched_op_t *op, const gr_db_result_t *res, const gr_db_error_t *err)
{
    gr__sched_task_t *t = op->t;
    t->renewing = 0;
    /* An answer about a run that has ended, or already lost, changes nothing. */
    if (op->seq != t->run_seq || !t->run || t->run->lease_lost)
        return;
    if (err) {
        gr__db_failed(op->h, t, "renew the lease of", err);
        return;
    }
    gr__db_answered(op->h, t);
    if (gr_db_result_rows(res) == 0) {
        gr__lease_lost(t, "another host holds it now");
        return;
    }
    t->lease_deadline = op->sent_ms + t->lease_ms;
}

void gr__sched_db_release(gr__sched_task_t *t)
{
    gr_scheduler_host_t *h = t->sched->host;
    uv_timer_stop(&t->renew);
    if (!gr__usable(h))
        return;
    gr__send_release(t);
}

static void gr__on_release(gr__sched_op_t *op, const gr_db_result_t *res, const gr_db_error_t *err)
{
    gr__sched_task_t *t = op->t;
    gr_scheduler_host_t *h = op->h;
    gr__row_state_t st;
    t->releasing = 0;
    if (err) {
        /* The lease runs out by itself; meanwhile only this host may claim it. */
        gr__db_failed(h, t, "release the lease of", err);
        gr__retry_later(t);
        return;
    }
    gr__db_answered(h, t);
    if (h->state != GR__SCHED_STARTED)
        return;
    if (t->claim_again) {
        t->claim_again = 0;
        gr__sched_db_claim(t);
        return;
    }
    if (gr_db_result_rows(res) == 0) {
        /* The lease had gone to another host: see where the task stands. */
        if (!t->db_busy && !t->run)
            gr__send_probe(t);
        return;
    }
    gr__row_read(res, &st);
    gr__arm_from_row(t, &st);
}

/* ---- triggers and local status ------------------------------------------------------ */

void gr__sched_db_trigger(gr__sched_task_t *t)
{
    gr_scheduler_host_t *h = t->sched->host;
    char freq[32];
    if (!gr__usable(h))
        return;
    snprintf(freq, sizeof freq, "%llu", (unsigned long long)t->schedule.frequency_ms);
    gr__send(t, GR__OP_TRIGGER, gr__sql_trigger, GR_DB_PARAMS(t->full_id, freq));
}

static void gr__on_trigger(gr__sched_op_t *op, const gr_db_error_t *err)
{
    if (err) {
        gr__db_failed(op->h, op->t, "record a trigger of", err);
        return;
    }
    gr__db_answered(op->h, op->t);
    /* This host tries at once; if it is running the task now, the release
     * finds next_run due and claims again. */
    gr__sched_db_claim(op->t);
}

void gr__sched_db_save(gr__sched_task_t *t)
{
    gr_scheduler_host_t *h = t->sched->host;
    char freq[32], start[32], end[32];
    if (!gr__usable(h))
        return;
    /* One write per task at a time, so they land in order; the last one
     * sends whatever is newest. */
    if (t->saving) {
        t->save_again = 1;
        return;
    }
    t->saving = 1;
    snprintf(freq, sizeof freq, "%llu", (unsigned long long)t->schedule.frequency_ms);
    snprintf(start, sizeof start, "%lld", (long long)t->last_start_ms);
    snprintf(end, sizeof end, "%lld", (long long)t->last_end_ms);
    gr__send(t, GR__OP_SAVE, gr__sql_save,
             GR_DB_PARAMS(t->full_id, freq, t->last_start_ms >= 0 ? start : NULL,
                          t->last_end_ms >= 0 ? end : NULL, t->last_status, t->last_error,
                          h->instance_id));
}

static void gr__on_save(gr__sched_op_t *op, const gr_db_error_t *err)
{
    gr__sched_task_t *t = op->t;
    t->saving = 0;
    if (err)
        gr__db_failed(op->h, t, "store the status of", err);
    else
        gr__db_answered(op->h, t);
    if (t->save_again) {
        t->save_again = 0;
        gr__sched_db_save(t);
    }
}

/* ---- answers ------------------------------------------------------------------------ */

static void gr__on_result(const gr_db_result_t *res, const gr_db_error_t *err, void *user_data)
{
    gr__sched_op_t *op = user_data;
    gr_scheduler_host_t *h = op->h;
    if (!h) {
        free(op);
        return;
    }
    if (op->prev)
        op->prev->next = op->next;
    else
        h->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    h->db_pending--;
    switch (op->kind) {
    case GR__OP_REGISTER:
    case GR__OP_PROBE: gr__on_row(op, res, err); break;
    case GR__OP_CLAIM: gr__on_claim(op, res, err); break;
    case GR__OP_RENEW: gr__on_renew(op, res, err); break;
    case GR__OP_RELEASE: gr__on_release(op, res, err); break;
    case GR__OP_TRIGGER: gr__on_trigger(op, err); break;
    case GR__OP_SAVE: gr__on_save(op, err); break;
    }
    free(op);
    gr__sched_check_stopped(h);
}

void gr__sched_db_detach(gr_scheduler_host_t *h)
{
    for (gr__sched_op_t *op = h->ops; op; op = op->next) {
        op->h = NULL;
        op->t = NULL;
    }
    h->ops = NULL;
    h->db_pending = 0;
}

/* ---- instance identity -------------------------------------------------------------- */

char *gr_scheduler_instance_id_new(void)
{
    char host[256];
    unsigned char rnd[4];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown-host");
    host[sizeof host - 1] = '\0';
    /* A restarted host that got the same pid must not pass for its
     * predecessor, whose leases may still be running out. */
    if (uv_random(NULL, NULL, rnd, sizeof rnd, 0, NULL) != 0) {
        uint64_t x = uv_hrtime();
        memcpy(rnd, &x, sizeof rnd);
    }
    return gr_xasprintf("%s:%d:%02x%02x%02x%02x", host, (int)getpid(), rnd[0], rnd[1], rnd[2],
                        rnd[3]);
}
