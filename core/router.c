/* STUB: replaced by the unit's real implementation. */
#include "api_impl.h"

int gr__router_add(gr_router_t *router, const char *method, const char *pattern, gr_http_handler_fn handler, void *user_data, gr_error_t *err)
{
    (void)router; (void)method; (void)pattern; (void)handler; (void)user_data; (void)err; return GR_ERR_UNSUPPORTED;
}
