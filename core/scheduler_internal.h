/* core/scheduler_internal.h: the scheduler's structs, shared by
 * scheduler.c (timers, runs, the module-facing calls) and scheduler_db.c
 * (the greenroom_tasks table: stored status and the leases of global
 * tasks).  Nothing else includes this. */
#ifndef GR_CORE_SCHEDULER_INTERNAL_H
#define GR_CORE_SCHEDULER_INTERNAL_H

#include "scheduler.h"

typedef struct gr__sched_task gr__sched_task_t;
typedef struct gr__sched_op gr__sched_op_t;

struct gr_task {
    const gr_host_api_t *api;
    gr__sched_task_t *task;
    int cancelled; /* timed out, lost its lease, or the host is stopping */
    int timed_out;
    const char *lease_lost; /* global: why the lease may belong to another host now, or NULL */
    uint64_t started_ns;    /* uv_hrtime() */
};

struct gr__sched_task {
    gr_scheduler_t *sched;
    char *id;      /* as the module named it */
    char *full_id; /* "<pluginId>.<taskId>": logs, metrics, describe and the table's key */
    gr_schedule_t schedule;
    gr_task_fn fn;
    void *user_data;
    uv_timer_t next;       /* local: the next start; global: the next claim attempt */
    uv_timer_t deadline;   /* the timeout of the current run */
    uv_timer_t renew;      /* global: renews the lease while a run lasts */
    gr_task_t *run;        /* the run in progress on this host, or NULL */
    int queued;            /* one more run is wanted as soon as possible */
    int64_t last_start_ms; /* wall clock, ms since the epoch; -1 for never */
    int64_t last_end_ms;
    const char *last_status; /* one of gr__status_*, or NULL before the first run ends */
    char *last_error;
    gr_metric_t *m_running; /* this task's series, or NULL without metrics */
    gr_metric_t *m_duration;

    /* Database state, used only when the scheduler has a database. */
    uint64_t run_seq;        /* counts runs: an answer about an older run is ignored */
    uint64_t not_before;     /* global: loop time the initial delay ends */
    int db_busy;             /* global: a claim, probe or registration is in flight */
    int claim_again;         /* global: a start came due meanwhile */
    int releasing;           /* global: a release is in flight; no claim until it lands */
    int renewing;            /* global: a renewal is in flight */
    uint64_t lease_ms;       /* global: how long a claim or renewal holds the lease */
    uint64_t lease_deadline; /* global: loop time the lease runs out unless renewed */
    uint64_t retry_ms;       /* global: the wait after a database error */
    int saving, save_again;  /* local: a status write is in flight / another is wanted */
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
    GR__SCHED_STOPPING, /* waiting for running tasks and database writes */
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

    gr_db_t *db;       /* the host's own database, or NULL */
    char *instance_id; /* names this host in lease_owner */
    uint64_t default_lease_ms;
    size_t db_pending;   /* queries in flight; stop waits for them */
    gr__sched_op_t *ops; /* those queries, so free can detach them */
    int db_warned;       /* a database error was logged and not yet followed by success */
};

extern const char *const gr__status_succeeded;
extern const char *const gr__status_failed;
extern const char *const gr__status_timed_out;
extern const char *const gr__status_cancelled;

static inline int gr__sched_global(const gr__sched_task_t *t)
{
    return t->schedule.scope == GR_TASK_GLOBAL;
}

/* scheduler.c */
void gr__sched_begin(gr__sched_task_t *t); /* starts a run now */
void gr__sched_arm_in(gr__sched_task_t *t, uint64_t ms);
double gr__sched_random(gr_scheduler_host_t *h);
void gr__sched_check_stopped(gr_scheduler_host_t *h);

/* scheduler_db.c; each does nothing without a database. */
void gr__sched_db_register(gr__sched_task_t *t);
void gr__sched_db_save(gr__sched_task_t *t);
void gr__sched_db_claim(gr__sched_task_t *t);
void gr__sched_db_trigger(gr__sched_task_t *t);
void gr__sched_db_lease_start(gr__sched_task_t *t);
void gr__sched_db_release(gr__sched_task_t *t);
void gr__sched_db_detach(gr_scheduler_host_t *h);

#endif
