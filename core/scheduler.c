/* STUB: replaced by the unit's real implementation. */
#include "api_impl.h"

int gr__scheduler_add(gr_scheduler_t *sched, const char *task_id, const gr_schedule_t *schedule, gr_task_fn fn, void *user_data, gr_error_t *err)
{
    (void)sched; (void)task_id; (void)schedule; (void)fn; (void)user_data; (void)err; return GR_ERR_UNSUPPORTED;
}

int gr__scheduler_trigger(gr_scheduler_t *sched, const char *task_id, gr_error_t *err)
{
    (void)sched; (void)task_id; (void)err; return GR_ERR_UNSUPPORTED;
}

const char *gr__task_id(const gr_task_t *task)
{
    (void)task; return NULL;
}

int gr__task_cancelled(const gr_task_t *task)
{
    (void)task; return GR_ERR_UNSUPPORTED;
}

void gr__task_done(gr_task_t *task, int status, const char *error_message)
{
    (void)task; (void)status; (void)error_message;
}
