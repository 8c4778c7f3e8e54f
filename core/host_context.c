/* STUB: replaced by the unit's real implementation. */
#include "api_impl.h"

int gr__work_submit(gr_context_t *ctx, gr_work_fn work, gr_work_done_fn done, void *user_data, gr_error_t *err)
{
    (void)ctx; (void)work; (void)done; (void)user_data; (void)err; return GR_ERR_UNSUPPORTED;
}

int gr__lifecycle_on_started(gr_context_t *ctx, gr_hook_fn fn, void *user_data)
{
    (void)ctx; (void)fn; (void)user_data; return GR_ERR_UNSUPPORTED;
}

int gr__lifecycle_on_shutdown(gr_context_t *ctx, gr_hook_fn fn, void *user_data)
{
    (void)ctx; (void)fn; (void)user_data; return GR_ERR_UNSUPPORTED;
}

int gr__extension_point_provide(gr_context_t *ctx, const char *name, const void *impl, gr_error_t *err)
{
    (void)ctx; (void)name; (void)impl; (void)err; return GR_ERR_UNSUPPORTED;
}

const void *gr__extension_point_get(gr_context_t *ctx, const char *name)
{
    (void)ctx; (void)name; return NULL;
}

void gr__health_report(gr_context_t *ctx, int healthy, const char *message)
{
    (void)ctx; (void)healthy; (void)message;
}
