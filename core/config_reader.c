/* STUB: replaced by the unit's real implementation. */
#include "api_impl.h"

const gr_config_t *gr__config_get(const gr_config_t *node, const char *path)
{
    (void)node; (void)path; return NULL;
}

gr_config_type_t gr__config_kind(const gr_config_t *node)
{
    (void)node; return (gr_config_type_t)0;
}

const char *gr__config_scalar(const gr_config_t *node)
{
    (void)node; return NULL;
}

size_t gr__config_size(const gr_config_t *node)
{
    (void)node; return GR_ERR_UNSUPPORTED;
}

const gr_config_t *gr__config_at(const gr_config_t *node, size_t index)
{
    (void)node; (void)index; return NULL;
}

const char *gr__config_key_at(const gr_config_t *node, size_t index)
{
    (void)node; (void)index; return NULL;
}

void gr__config_where(const gr_config_t *node, char *buf, size_t len)
{
    (void)node; (void)buf; (void)len;
}

int gr__config_to_int(const gr_config_t *node, int64_t *out, gr_error_t *err)
{
    (void)node; (void)out; (void)err; return GR_ERR_UNSUPPORTED;
}

int gr__config_to_number(const gr_config_t *node, double *out, gr_error_t *err)
{
    (void)node; (void)out; (void)err; return GR_ERR_UNSUPPORTED;
}

int gr__config_to_bool(const gr_config_t *node, int *out, gr_error_t *err)
{
    (void)node; (void)out; (void)err; return GR_ERR_UNSUPPORTED;
}

int gr__config_to_duration_ms(const gr_config_t *node, uint64_t *out, gr_error_t *err)
{
    (void)node; (void)out; (void)err; return GR_ERR_UNSUPPORTED;
}

int gr__config_to_schedule(const gr_config_t *node, gr_schedule_t *out, gr_error_t *err)
{
    (void)node; (void)out; (void)err; return GR_ERR_UNSUPPORTED;
}
