/* core/log.h: the logger behind gr_log_t.
 *
 * One root logger per host writes to one stream; children (one per plugin or
 * module) share the root's level, format and secret list and add their name
 * to each line.  Secrets registered with gr_log_add_secret() are replaced by
 * "[REDACTED]" in every message before it is written. */
#ifndef GR_CORE_LOG_H
#define GR_CORE_LOG_H

#include <stdio.h>

#include <greenroom/log.h>

typedef enum gr_log_format {
    GR_LOG_FORMAT_PRETTY = 0,
    GR_LOG_FORMAT_JSON
} gr_log_format_t;

/* A root logger writing to `out` (borrowed; stderr usually). */
gr_log_t *gr_log_root_new(FILE *out, gr_log_level_t level, gr_log_format_t format);
/* A child named "plugin" or "plugin.module"; freed with gr_log_free before its root. */
gr_log_t *gr_log_child_new(gr_log_t *parent, const char *plugin_id, const char *module_id);
void gr_log_free(gr_log_t *log);

void gr_log_configure(gr_log_t *log, gr_log_level_t level, gr_log_format_t format);
/* Copies value; values shorter than 3 bytes are ignored (they would blank out
 * ordinary words). */
void gr_log_add_secret(gr_log_t *log, const char *value);
void gr_log_clear_secrets(gr_log_t *log);

int gr_log_parse_level(const char *name, gr_log_level_t *out);
int gr_log_parse_format(const char *name, gr_log_format_t *out);

#endif
