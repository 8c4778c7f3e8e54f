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
 *   - GLOBAL tasks need a lease in the database and are refused with
 *     GR_ERR_UNSUPPORTED until the host has the database service.  The lease
 *     belongs between a start coming due and the run beginning (see
 *     gr__task_due in scheduler.c).
 *
 * Shutdown: gr_scheduler_host_stop starts no new runs and marks running ones
 * cancelled; `stopped` runs on the loop once every running task has called
 * gr_task_done, or when the stop timeout passes (default
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

typedef struct gr_scheduler_host gr_scheduler_host_t;

/* `log` is borrowed and must outlive the scheduler; `m` may be NULL (no
 * scheduler_task_* metrics). */
gr_scheduler_host_t *gr_scheduler_host_new(uv_loop_t *loop, gr_log_t *log, gr_metrics_t *m);

/* The plugin's scheduler handle, created on first call and owned by `h`. */
gr_scheduler_t *gr_scheduler_host_plugin(gr_scheduler_host_t *h, const char *plugin_id);

/* Arms every task added so far; later tasks are armed when added.  Once. */
void gr_scheduler_host_start(gr_scheduler_host_t *h);

void gr_scheduler_host_set_stop_timeout(gr_scheduler_host_t *h, uint64_t timeout_ms);

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
 * nextRun (ISO 8601 UTC or null), lastStatus ("succeeded", "failed",
 * "timed out" or null), lastError (string or null), running (bool). */
struct json_object *gr_scheduler_host_describe(gr_scheduler_host_t *h);

#endif
