/* core/scheduler.h: the host side of gr_scheduler_t.
 *
 * The host owns one gr_scheduler_host_t and hands each plugin its own
 * gr_scheduler_t (task ids are unique per plugin).  Every task has a libuv
 * timer for its next start and one for the deadline of its current run.
 *
 *   - Before gr_scheduler_host_start nothing runs; a task's initial delay is
 *     counted from start (or from gr_scheduler_add when added later).
 *   - frequency_ms is the time between starts.  A start that comes due while
 *     the previous run is still going, and any trigger then, queue exactly
 *     one more run, which starts as soon as the current one is done.
 *     frequency_ms 0 means the task runs only when triggered (its initial
 *     delay is not used).
 *   - jitter shortens every wait (the initial delay too) by a random
 *     fraction of up to `jitter`, so tasks of many hosts spread out.
 *   - A run past timeout_ms is marked cancelled and logged; when it calls
 *     gr_task_done it is recorded as "timed out".
 *
 * With a database (gr_scheduler_host_set_db, before start), every task has a
 * row in the host's table greenroom_tasks, keyed "<plugin>.<task>": last
 * start, end, status and error are written there and read back at start,
 * so a restart keeps them (describe() answers from memory).
 *
 * GLOBAL tasks run on one host at a time across every host sharing that
 * database.  The row's next_run says when the task is due, for all hosts.
 * A host whose timer comes due claims the row with one UPDATE that only
 * succeeds while nobody holds an unexpired lease and next_run has come; the
 * claim sets lease_owner (this host's instance id), lease_until (now + the
 * lease, see below) and advances next_run by the frequency, so each period
 * runs once whichever hosts try.  During the run the lease is renewed every
 * third of its length; a renewal that finds another owner, or that cannot
 * reach the database before the lease runs out, marks the run cancelled
 * (gr_task_cancelled) with a warning, and the run is recorded "cancelled".
 * gr_task_done releases the lease and records the outcome.  A host that
 * dies holding a lease holds it only until lease_until passes.  A trigger
 * sets next_run to now, so whichever host claims first runs it.  Without a
 * database, GLOBAL tasks are refused with GR_ERR_UNSUPPORTED.
 *
 * The lease lasts the task's timeout, or the host's default lease
 * (GR_SCHEDULER_LEASE_MS unless set) without one, within
 * [GR_SCHEDULER_LEASE_MIN_MS, GR_SCHEDULER_LEASE_MAX_MS]: renewals
 * keep it while the run lasts, so its length only bounds how long the others
 * wait after its holder died.
 *
 * Shutdown: gr_scheduler_host_stop starts no new runs and marks running ones
 * cancelled; `stopped` runs on the loop once every running task has called
 * gr_task_done and the database has answered the releases and status
 * writes that followed, or when the stop timeout passes (default
 * GR_SCHEDULER_STOP_TIMEOUT_MS), after which the remaining runs are
 * abandoned with a warning.  An abandoned run may still call gr_task_done
 * until gr_scheduler_host_free; never after.
 *
 * Everything here runs on the loop thread. */
#ifndef GR_CORE_SCHEDULER_H
#define GR_CORE_SCHEDULER_H

#include <uv.h>

#include <greenroom/greenroom.h>

/* Long enough for a task to finish its current page of work and write it
 * out; short enough that systemd's default stop timeout (90 s) still leaves
 * room for draining requests and plugin shutdown. */
#define GR_SCHEDULER_STOP_TIMEOUT_MS 10000u

/* Lease lengths of global tasks (see above). */
#define GR_SCHEDULER_LEASE_MS 60000u
#define GR_SCHEDULER_LEASE_MIN_MS 1000u
#define GR_SCHEDULER_LEASE_MAX_MS 600000u

/* The host's own migrations, applied under GR_DB_HOST_ID before the
 * plugins': they create greenroom_tasks.  {NULL, NULL}-terminated. */
extern const gr_migration_t gr_scheduler_migrations[];

typedef struct gr_scheduler_host gr_scheduler_host_t;

/* `log` is borrowed and must outlive the scheduler; `m` may be NULL (no
 * scheduler_task_* metrics). */
gr_scheduler_host_t *gr_scheduler_host_new(uv_loop_t *loop, gr_log_t *log, gr_metrics_t *m);

/* The plugin's scheduler handle, created on first call and owned by `h`. */
gr_scheduler_t *gr_scheduler_host_plugin(gr_scheduler_host_t *h, const char *plugin_id);

/* Arms every task added so far; later tasks are armed when added.  Once. */
void gr_scheduler_host_start(gr_scheduler_host_t *h);

void gr_scheduler_host_set_stop_timeout(gr_scheduler_host_t *h, uint64_t timeout_ms);

/* Stores task status in `db` (the host's own database, gr_db_service_host,
 * migrated with gr_scheduler_migrations) and allows GLOBAL tasks.  Call
 * before any task is added; `db` must stay open until `stopped` has run.
 * instance_id names this host in lease_owner (copied); NULL makes one with
 * gr_scheduler_instance_id_new. */
void gr_scheduler_host_set_db(gr_scheduler_host_t *h, gr_db_t *db, const char *instance_id);

/* The lease of global tasks that have no timeout (see above). */
void gr_scheduler_host_set_default_lease(gr_scheduler_host_t *h, uint64_t lease_ms);

/* The instance id given to set_db, or NULL. */
const char *gr_scheduler_host_instance_id(const gr_scheduler_host_t *h);

/* A new "<hostname>:<pid>:<8 random hex digits>"; the caller frees it. */
char *gr_scheduler_instance_id_new(void);

/* gr_scheduler_trigger by the id describe() shows ("<plugin>.<task>"):
 * 0, GR_ERR_NOT_FOUND for an unknown id, GR_ERR_CANCELED while stopping. */
int gr_scheduler_host_trigger(gr_scheduler_host_t *h, const char *id, gr_error_t *err);

/* See above; call once.  stopped(user_data) is never called from inside
 * this call, always from a later loop callback. */
void gr_scheduler_host_stop(gr_scheduler_host_t *h, void (*stopped)(void *user_data),
                            void *user_data);

/* Closes the timers and frees everything once their close callbacks have
 * run, so the loop must run again afterwards (as for any libuv handle).
 * Call it after `stopped`. */
void gr_scheduler_host_free(gr_scheduler_host_t *h);

/* A new JSON array (the caller puts it) with one object per task:
 * id ("<plugin>.<task>"), pluginId, scope, frequencyMs, lastStart, lastEnd,
 * nextRun (ISO 8601 UTC or null: for a global task, when this host next
 * tries to claim it), lastStatus ("succeeded", "failed", "timed out",
 * "cancelled" or null), lastError (string or null), running (bool: on this
 * host).  With a database, the last* fields of a global task follow the
 * table as this host last read it, so they show runs of other hosts too. */
struct json_object *gr_scheduler_host_describe(gr_scheduler_host_t *h);

#endif
