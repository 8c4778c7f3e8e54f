/* greenroom/scheduler.h: tasks that run on a schedule.
 *
 * A task function starts a run and returns at once; the run ends when the
 * module calls gr_task_done(), from any later loop callback.  A run that
 * outlives schedule.timeout_ms is marked cancelled (gr_task_cancelled() turns
 * true) and must still call gr_task_done().  A task never overlaps itself.
 * Task ids are per plugin; the host shows them as "<pluginId>.<taskId>".
 *
 * A task with scope GR_TASK_GLOBAL runs on one host at a time across every
 * host sharing the database, once per period in total: the host holds a
 * lease in the database while the run lasts.  If the lease is lost (the
 * database was unreachable too long, or another host took over),
 * gr_task_cancelled() turns true: stop, as another host may start the task.
 * Without a database, gr_scheduler_add() refuses global tasks.
 */
#ifndef GREENROOM_SCHEDULER_H
#define GREENROOM_SCHEDULER_H

#include <greenroom/api.h>

static inline int gr_scheduler_add(gr_scheduler_t *sched, const char *task_id,
                                   const gr_schedule_t *schedule, gr_task_fn fn, void *user_data,
                                   gr_error_t *err)
{
    return GR__API(sched)->scheduler_add(sched, task_id, schedule, fn, user_data, err);
}

/* Runs the task now (or as soon as its current run ends); a global task on
 * whichever host claims it first. */
static inline int gr_scheduler_trigger(gr_scheduler_t *sched, const char *task_id,
                                       gr_error_t *err)
{
    return GR__API(sched)->scheduler_trigger(sched, task_id, err);
}

static inline const char *gr_task_id(const gr_task_t *task) { return GR__API(task)->task_id(task); }

static inline int gr_task_cancelled(const gr_task_t *task)
{
    return GR__API(task)->task_cancelled(task);
}

/* Ends the run; `task` is invalid afterwards.  error_message may be NULL. */
static inline void gr_task_done(gr_task_t *task, int status, const char *error_message)
{
    GR__API(task)->task_done(task, status, error_message);
}

#endif
