/* greenroom/config.h: reading a module's config section.
 *
 * ctx->config is the module's own section (descriptor.config_key), already
 * merged from every file, with ${VAR}, $env and $file resolved, checked
 * against the module's schema and with the schema's defaults filled in.  A
 * module never sees another module's section.  Nodes are borrowed: they live
 * until reconfigure hands the module a new tree, or until shutdown.
 *
 * Paths are dotted keys ("source.path"); a missing key reads as the default.
 */
#ifndef GREENROOM_CONFIG_H
#define GREENROOM_CONFIG_H

#include <stdint.h>

#include <greenroom/api.h>

/* The node at `path` below `node` (path NULL or "" is the node itself), or
 * NULL.  NULL nodes are accepted everywhere below and read as missing. */
static inline const gr_config_t *gr_config_get(const gr_config_t *node, const char *path)
{
    return node ? GR__API(node)->config_get(node, path) : NULL;
}

/* GR_CONFIG_OBJECT, GR_CONFIG_ARRAY, GR_CONFIG_STRING for any scalar, or
 * GR_CONFIG_ANY for a missing or null node. */
static inline gr_config_type_t gr_config_kind(const gr_config_t *node)
{
    return node ? GR__API(node)->config_kind(node) : GR_CONFIG_ANY;
}

/* Entries of a map or list; 0 for anything else. */
static inline size_t gr_config_size(const gr_config_t *node)
{
    return node ? GR__API(node)->config_size(node) : 0;
}

static inline const gr_config_t *gr_config_at(const gr_config_t *node, size_t index)
{
    return node ? GR__API(node)->config_at(node, index) : NULL;
}

/* The key of a map's index-th entry, or NULL. */
static inline const char *gr_config_key_at(const gr_config_t *node, size_t index)
{
    return node ? GR__API(node)->config_key_at(node, index) : NULL;
}

/* "file:line:col" of the node, for error messages. */
static inline void gr_config_where(const gr_config_t *node, char *buf, size_t len)
{
    if (node)
        GR__API(node)->config_where(node, buf, len);
    else if (len)
        buf[0] = '\0';
}

static inline const char *gr_config_string(const gr_config_t *node, const char *path,
                                           const char *dflt)
{
    const gr_config_t *n = gr_config_get(node, path);
    const char *s = n ? GR__API(n)->config_scalar(n) : NULL;
    return s ? s : dflt;
}

static inline int64_t gr_config_int(const gr_config_t *node, const char *path, int64_t dflt)
{
    const gr_config_t *n = gr_config_get(node, path);
    int64_t v;
    return n && GR__API(n)->config_to_int(n, &v, NULL) == 0 ? v : dflt;
}

static inline double gr_config_number(const gr_config_t *node, const char *path, double dflt)
{
    const gr_config_t *n = gr_config_get(node, path);
    double v;
    return n && GR__API(n)->config_to_number(n, &v, NULL) == 0 ? v : dflt;
}

static inline int gr_config_bool(const gr_config_t *node, const char *path, int dflt)
{
    const gr_config_t *n = gr_config_get(node, path);
    int v;
    return n && GR__API(n)->config_to_bool(n, &v, NULL) == 0 ? v : dflt;
}

/* A duration: {minutes: 30} (Backstage's HumanDuration), "PT30M" (ISO 8601),
 * or a number of milliseconds. */
static inline uint64_t gr_config_duration_ms(const gr_config_t *node, const char *path,
                                             uint64_t dflt)
{
    const gr_config_t *n = gr_config_get(node, path);
    uint64_t v;
    return n && GR__API(n)->config_to_duration_ms(n, &v, NULL) == 0 ? v : dflt;
}

/* Backstage's task schedule: {frequency, timeout, initialDelay, scope}.
 * Fields the node lacks keep the values already in *out. */
static inline int gr_config_schedule(const gr_config_t *node, const char *path, gr_schedule_t *out,
                                     gr_error_t *err)
{
    const gr_config_t *n = gr_config_get(node, path);
    return n ? GR__API(n)->config_to_schedule(n, out, err) : 0;
}

#endif
