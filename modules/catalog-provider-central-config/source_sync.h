/* modules/catalog-provider-central-config/source_sync.h: a config source
 * synced on a schedule, shared by the modules that read one (the
 * central-config provider has one per provider, the kafka-topology plugin
 * one).
 *
 * A run, every step a callback on the loop:
 *
 *   the owner's previous status document (load_previous, for lastSuccess)
 *   → the source's fetch, bounded by the schedule's timeout
 *   → the owner's work on the fetched directory (thread pool)
 *   → the owner's own steps (worked), which record the outcome
 *   → cc_sync_done: the scheduler's run ends and the run is freed.
 *
 * The runner keeps what every run has: the scheduler's task and its
 * cancellation (polled, then passed on to the source), one run at a time,
 * the fetched directory, revision and location prefix, the previous
 * document, the outcome, and the fields every status document starts with.
 * The owner keeps what is its own: what it reads from the directory, where
 * its status document is stored and what else it says, its logs and
 * metrics.
 *
 * A run that fails at any step (the fetch, a timeout or shutdown, a work
 * item the pool refused, one of the owner's steps) ends through
 * cc_sync_fail, which calls the owner's failed hook: it records the failed
 * status and then calls cc_sync_done.
 *
 * Everything here runs on the loop thread, except ops->work. */
#ifndef SOURCE_SYNC_H
#define SOURCE_SYNC_H

#include <stdint.h>

#include <json.h>
#include <uv.h>

#include <greenroom/greenroom.h>

#include "config_source.h"

/* The message of a run that ended because it was cancelled. */
#define CC_SYNC_CANCELLED "the sync was cancelled (timeout or shutdown)"

typedef struct cc_sync cc_sync_t;
typedef struct cc_sync_run cc_sync_run_t;

/* What the owner does in a run.  The owner's run type starts with a
 * cc_sync_run_t, so a hook turns its argument back into the owner's type
 * with a cast. */
typedef struct cc_sync_ops {
    /* A new zeroed run of the owner's type (its cc_sync_run_t returned);
     * the owner takes whatever keeps it alive until run_free (a reference
     * on itself). */
    cc_sync_run_t *(*run_new)(cc_sync_t *sync);
    /* Reads the status document the owner saved last, then hands it (or
     * NULL, or an error) to cc_sync_previous_loaded. */
    void (*load_previous)(cc_sync_run_t *run);
    /* On the thread pool: reads the fetched directory (run->root). */
    void (*work)(cc_sync_run_t *run);
    /* Back on the loop after work, unless the run was cancelled meanwhile:
     * the owner's own steps, which record a success and call
     * cc_sync_done, or call cc_sync_fail. */
    void (*worked)(cc_sync_run_t *run);
    /* The run failed (run->status, run->message): record the failed
     * status, then call cc_sync_done. */
    void (*failed)(cc_sync_run_t *run);
    /* Frees the owner's part of the run and the run itself (the fields of
     * cc_sync_run_t are already freed), and drops what run_new took. */
    void (*run_free)(cc_sync_run_t *run);
} cc_sync_ops_t;

struct cc_sync_run {
    cc_sync_t *sync;
    gr_task_t *task;
    int64_t start_wall_ms;
    uint64_t start_mono_ms;
    uint64_t fetch_ms;            /* from the start to the fetched directory */
    struct json_object *previous; /* the status document saved last, or NULL */
    char *root;                   /* the fetched directory */
    char *revision;               /* what was fetched (a commit), or NULL */
    /* A file's location ref is this prefix followed by its relative path
     * ("file:/srv/repo/", "url:https://github.com/o/r/blob/main/"). */
    char *location_prefix;
    int cancelled;    /* timed out or shutting down: the source was told to stop */
    int status;       /* 0, or the gr_status_t of a failed run */
    char *message;    /* why it failed */
    uv_timer_t watch; /* polls gr_task_cancelled */
};

struct cc_sync {
    const cc_sync_ops_t *ops;
    void *owner;                /* the ops' own state (the provider, the plugin) */
    gr_context_t *ctx;          /* the owner's: loop, log, thread pool, scheduler */
    cc_source_t *source;        /* the owner's (borrowed) */
    char *log_prefix;           /* starts the runner's log lines: "provider x: ", or "" */
    gr_schedule_t schedule;     /* cc_schedule_config fills it; its timeout bounds a fetch */
    cc_sync_run_t *run;         /* the run in progress on this host, or NULL */
    int stopping;               /* cc_sync_stop was called: no more runs */
    int64_t last_start_wall_ms; /* the start of this host's last run; -1 before the first */
    uint64_t scheduled_mono_ms; /* when cc_sync_schedule added the task */
};

/* Sets the runner up (source and owner are borrowed and must outlive it;
 * log_prefix is copied).  The schedule is left to cc_schedule_config. */
void cc_sync_init(cc_sync_t *sync, const cc_sync_ops_t *ops, void *owner, gr_context_t *ctx,
                  cc_source_t *source, const char *log_prefix);

/* Releases the runner (no run may be in progress); harmless on a zeroed one. */
void cc_sync_free(cc_sync_t *sync);

/* Adds the scheduler's task task_id that starts runs.  A global schedule
 * falls back to local, with a warning, on a host that cannot hold a
 * cluster-wide lease.  Logs the source and frequency. */
int cc_sync_schedule(cc_sync_t *sync, const char *task_id, gr_error_t *err);

/* Shutdown: cancels the run in progress and refuses new ones. */
void cc_sync_stop(cc_sync_t *sync);

/* load_previous's answer.  An unreadable document is logged and the run
 * goes on without it (only a failed run's lastSuccess would be missing). */
void cc_sync_previous_loaded(cc_sync_run_t *run, struct json_object *status, const gr_error_t *err);

/* 1 when the run was cancelled or the runner is stopping: the owner's
 * later steps end the run with cc_sync_fail(run, GR_ERR_CANCELED,
 * CC_SYNC_CANCELLED). */
int cc_sync_run_stopped(const cc_sync_run_t *run);

/* Ends the run as failed: status (GR_ERR_INTERNAL for 0) and message (a
 * copy; the status' name when NULL; an earlier message stays), then the
 * owner's failed hook.  Call it once per run. */
void cc_sync_fail(cc_sync_run_t *run, int status, const char *message);

/* The run's outcome is recorded: ends the scheduler's run with run->status
 * and run->message, and frees the run once its timer has closed. */
void cc_sync_done(cc_sync_run_t *run);

/* Adds the fields every status document starts with to doc: source (the
 * source's description and the revision), status ("succeeded" while
 * run->status is 0, else "failed"), lastAttempt, lastSuccess (this run's
 * start, or after a failure the previous document's), durationMs.
 * Returns the duration it wrote, so the owner's timings add up to it. */
uint64_t cc_sync_status_fill(const cc_sync_run_t *run, struct json_object *doc);

/* Adds the fields cc_sync_status_fill writes to the document of a source
 * that has no saved status yet: source (its description), status
 * "pending", lastAttempt and lastSuccess null. */
void cc_sync_status_pending(const cc_sync_t *sync, struct json_object *doc);

/* Adds this host's view of the runner to a status document: running,
 * schedule {frequencyMs, timeoutMs}, nextRunAt (ISO 8601, or null while
 * running or without a frequency). */
void cc_sync_status_live(const cc_sync_t *sync, struct json_object *doc);

#endif
