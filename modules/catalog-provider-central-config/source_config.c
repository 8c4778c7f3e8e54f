/* modules/catalog-provider-central-config/source_config.c: the config keys
 * that every module reading a config source takes the same way besides
 * source: itself: the include and exclude globs of the files it reads, and
 * the schedule of its syncs. */
#include "config_source.h"

static const char *const schedule_scopes[] = {"local", "global", NULL};

const gr_config_field_t cc_schedule_fields[] = {
    {.key = "frequency", .type = GR_CONFIG_ANY, .description = "default {minutes: 30}"},
    {.key = "timeout", .type = GR_CONFIG_DURATION, .description = "default {minutes: 5}"},
    {.key = "initialDelay", .type = GR_CONFIG_DURATION},
    {.key = "scope", .type = GR_CONFIG_STRING, .enum_values = schedule_scopes},
    {.key = "jitter", .type = GR_CONFIG_NUMBER},
    {0}};

int cc_config_globs(const gr_config_t *node, gr_strvec_t *out, gr_error_t *err)
{
    char where[256];
    if (gr_config_kind(node) == GR_CONFIG_STRING) {
        gr_strvec_push(out, gr_config_string(node, NULL, ""));
        return 0;
    }
    if (gr_config_kind(node) == GR_CONFIG_ARRAY) {
        for (size_t i = 0; i < gr_config_size(node); i++) {
            const gr_config_t *item = gr_config_at(node, i);
            if (gr_config_kind(item) != GR_CONFIG_STRING) {
                gr_config_where(item, where, sizeof where);
                return gr_error_set(err, GR_ERR_INVALID, "%s: a glob must be a string", where);
            }
            gr_strvec_push(out, gr_config_string(item, NULL, ""));
        }
        return 0;
    }
    gr_config_where(node, where, sizeof where);
    return gr_error_set(err, GR_ERR_INVALID, "%s: expected a glob or a list of globs", where);
}

int cc_selection_config(const gr_config_t *section, const char *default_include,
                        cc_selection_t *select, gr_error_t *err)
{
    const gr_config_t *include = gr_config_get(section, "include");
    int rc = 0;
    if (include)
        rc = cc_config_globs(include, &select->include, err);
    else
        gr_strvec_push(&select->include, default_include);
    const gr_config_t *exclude = gr_config_get(section, "exclude");
    if (rc == 0 && exclude)
        rc = cc_config_globs(exclude, &select->exclude, err);
    return rc;
}

int cc_schedule_config(const gr_config_t *section, gr_schedule_t *out, gr_error_t *err)
{
    *out = (gr_schedule_t){.frequency_ms = 30 * 60 * 1000, .timeout_ms = 5 * 60 * 1000};
    return gr_config_schedule(section, "schedule", out, err);
}
