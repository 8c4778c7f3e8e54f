/* modules/catalog-provider-central-config/module.c: the central-config
 * entity provider, a module of the catalog plugin: descriptor, config
 * schema, and the providers it builds from catalog.providers.centralConfig.
 *
 * Its status routes live at /api/central-config/, the paths users already
 * have, on a second router the host mounts for it (gr_router_mount): a
 * module's own router sits under its plugin's /api/catalog/. */
#include <stdlib.h>
#include <string.h>

#include "central_config.h"

#define DEFAULT_INCLUDE "**/*.{yaml,yml,json}"
#define DEFAULT_MAX_FILE_BYTES "4194304"

static const gr_config_field_t mapping_fields[] = {
    {.key = "include",
     .type = GR_CONFIG_ANY,
     .flags = GR_CONFIG_REQUIRED,
     .description = "a glob or a list of globs: the files this rule reads"},
    {.key = "items",
     .type = GR_CONFIG_STRING,
     .description = "dotted path to the list or map of items in each document"},
    {.key = "entity",
     .type = GR_CONFIG_OBJECT,
     .flags = GR_CONFIG_REQUIRED,
     .description = "the entity template, rendered once per item"},
    {.key = "description", .type = GR_CONFIG_STRING},
    {0}};

static const gr_config_field_t mapping_item[] = {
    {.key = "", .type = GR_CONFIG_OBJECT, .fields = mapping_fields}, {0}};

static const gr_config_field_t provider_fields[] = {
    {.key = "source",
     .type = GR_CONFIG_OBJECT,
     .flags = GR_CONFIG_REQUIRED,
     .fields = cc_source_fields},
    {.key = "include",
     .type = GR_CONFIG_ANY,
     .description = "a glob or a list of globs of entity files (default " DEFAULT_INCLUDE ")"},
    {.key = "exclude", .type = GR_CONFIG_ANY, .description = "globs of files to skip"},
    {.key = "mappings", .type = GR_CONFIG_ARRAY, .items = mapping_item},
    {.key = "schedule", .type = GR_CONFIG_OBJECT, .fields = cc_schedule_fields},
    {.key = "maxFileBytes", .type = GR_CONFIG_INT, .default_value = DEFAULT_MAX_FILE_BYTES},
    {0}};

static const gr_config_field_t central_config_fields[] = {{.key = "*",
                                                           .type = GR_CONFIG_OBJECT,
                                                           .fields = provider_fields,
                                                           .description = "one provider per id"},
                                                          {0}};

/* ---- life cycle -------------------------------------------------------------------- */

void cc_module_ref(cc_module_t *m)
{
    m->refs++;
}

void cc_module_unref(cc_module_t *m)
{
    if (--m->refs > 0)
        return;
    for (cc_provider_t *p = m->providers, *next; p; p = next) {
        next = p->next;
        cc_sync_free(&p->sync);
        cc_source_free(&p->source);
        cc_selection_free(&p->select);
        cc_scan_options_free(&p->scan);
        free(p->id);
        free(p->name);
        free(p->task_id);
        free(p);
    }
    free(m);
}

cc_provider_t *cc_provider_find(cc_module_t *m, const char *id)
{
    for (cc_provider_t *p = m->providers; p; p = p->next)
        if (strcmp(p->id, id) == 0)
            return p;
    return NULL;
}

/* The config tree as JSON, for a mapping's entity template. */
static struct json_object *config_to_json(const gr_config_t *node)
{
    switch (gr_config_kind(node)) {
    case GR_CONFIG_OBJECT: {
        struct json_object *o = json_object_new_object();
        for (size_t i = 0; i < gr_config_size(node); i++)
            json_object_object_add(o, gr_config_key_at(node, i),
                                   config_to_json(gr_config_at(node, i)));
        return o;
    }
    case GR_CONFIG_ARRAY: {
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < gr_config_size(node); i++)
            json_object_array_add(a, config_to_json(gr_config_at(node, i)));
        return a;
    }
    case GR_CONFIG_STRING: {
        /* YAML scalars arrive as text; templates mostly hold text, and the
         * rendered entity is validated, so only booleans and integers are
         * read back as such. */
        const char *s = gr_config_string(node, NULL, "");
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
            return json_object_new_boolean(s[0] == 't');
        char *end;
        long long v = strtoll(s, &end, 10);
        if (*s && !*end && (s[0] != '0' || !s[1]))
            return json_object_new_int64(v);
        return json_object_new_string(s);
    }
    default: return NULL;
    }
}

static int provider_new(cc_module_t *m, const char *id, const gr_config_t *node, gr_error_t *err)
{
    char where[256];
    gr_config_where(node, where, sizeof where);
    if (!gr_id_is_valid(id))
        return gr_error_set(err, GR_ERR_INVALID,
                            "%s: provider id '%s' must match ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ (it "
                            "names the provider's scheduled task)",
                            where, id);
    cc_provider_t *p = gr_xcalloc(1, sizeof *p);
    p->mod = m;
    p->id = gr_xstrdup(id);
    p->name = gr_xasprintf("central-config:%s", id);
    p->task_id = gr_xasprintf("central-config-%s", id);
    char *log_prefix = gr_xasprintf("provider %s: ", id);
    cc_sync_init(&p->sync, &cc_provider_sync_ops, p, m->ctx, &p->source, log_prefix);
    free(log_prefix);
    /* Sorted by id, so status lists and logs read in a stable order. */
    cc_provider_t **at = &m->providers;
    while (*at && strcmp((*at)->id, id) < 0)
        at = &(*at)->next;
    p->next = *at;
    *at = p;
    m->nproviders++;

    char *work_dir = gr_xasprintf("central-config/%s", id);
    char *label = gr_xasprintf("provider %s", id);
    int rc = cc_source_init(&p->source, m->ctx, gr_config_get(node, "source"), work_dir, label,
                            &p->select, err);
    free(work_dir);
    free(label);
    if (rc != 0)
        return rc;

    /* The scan's own globs; the selection the source mirrors adds the
     * mappings' below. */
    rc = cc_selection_config(node, DEFAULT_INCLUDE, &p->select, err);
    for (size_t i = 0; i < p->select.include.len; i++)
        gr_strvec_push(&p->scan.include, p->select.include.items[i]);
    for (size_t i = 0; i < p->select.exclude.len; i++)
        gr_strvec_push(&p->scan.exclude, p->select.exclude.items[i]);
    const gr_config_t *mappings = gr_config_get(node, "mappings");
    size_t nmappings = gr_config_size(mappings);
    p->scan.mappings = gr_xcalloc(nmappings + 1, sizeof *p->scan.mappings);
    for (size_t i = 0; rc == 0 && i < nmappings; i++) {
        const gr_config_t *mn = gr_config_at(mappings, i);
        cc_mapping_t *mp = &p->scan.mappings[p->scan.nmappings++];
        rc = cc_config_globs(gr_config_get(mn, "include"), &mp->include, err);
        const char *items = gr_config_string(mn, "items", NULL);
        mp->items = items ? gr_xstrdup(items) : NULL;
        mp->entity = config_to_json(gr_config_get(mn, "entity"));
    }
    p->scan.max_file_bytes = (size_t)gr_config_int(node, "maxFileBytes", 4194304);
    if (rc != 0)
        return rc;
    /* What a github source mirrors: the files the scan reads. */
    for (size_t k = 0; k < p->scan.nmappings; k++)
        for (size_t i = 0; i < p->scan.mappings[k].include.len; i++)
            gr_strvec_push(&p->select.include, p->scan.mappings[k].include.items[i]);
    p->select.max_file_bytes = p->scan.max_file_bytes;
    return cc_schedule_config(node, &p->sync.schedule, err);
}

static int cc_init(gr_context_t *ctx, gr_error_t *err)
{
    const catalog_provider_api_t *api = gr_extension_point_get(ctx, CATALOG_ENTITY_PROVIDER_POINT);
    if (!api)
        return gr_error_set(err, GR_ERR_UNAVAILABLE,
                            "the catalog plugin's entity-provider extension point is missing");
    cc_module_t *m = gr_xcalloc(1, sizeof *m);
    m->ctx = ctx;
    m->catalog = api;
    m->refs = 1;
    ctx->state = m;

    const gr_config_t *section = ctx->config;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < gr_config_size(section); i++)
        rc = provider_new(m, gr_config_key_at(section, i), gr_config_at(section, i), err);
    for (cc_provider_t *p = m->providers; rc == 0 && p; p = p->next) {
        p->catalog = catalog_provider_connect(api, ctx, p->name, err);
        if (!p->catalog)
            rc = err->code ? err->code : GR_ERR_INTERNAL;
    }
    gr_router_t *router = rc == 0 ? gr_router_mount(ctx, "central-config", err) : NULL;
    if (rc == 0 && !router)
        rc = err->code ? err->code : GR_ERR_INTERNAL;
    if (rc == 0)
        rc = cc_routes_add(m, router, err);
    if (rc != 0) {
        /* No task refers to the providers yet: free them (shutdown is only
         * called after a successful init). */
        ctx->state = NULL;
        cc_module_unref(m);
        return rc;
    }
    if (m->nproviders == 0)
        gr_log_warn(ctx->log, "no providers configured under catalog.providers.centralConfig: "
                              "nothing to sync");

    static const char *const by_provider_result[] = {"provider", "result", NULL};
    static const char *const by_provider[] = {"provider", NULL};
    m->syncs_total =
        gr_metrics_counter(ctx->metrics, "central_config_syncs_total",
                           "Central-config syncs, by provider and result", by_provider_result);
    m->sync_seconds =
        gr_metrics_histogram(ctx->metrics, "central_config_sync_duration_seconds",
                             "Time from a sync's start to its saved status", by_provider, NULL, 0);
    m->sync_errors = gr_metrics_gauge(ctx->metrics, "central_config_sync_file_errors",
                                      "File errors of the provider's last sync", by_provider);

    /* Last, as a task cannot be removed: a failure here leaves the module
     * state alive for the tasks already added. */
    for (cc_provider_t *p = m->providers; p; p = p->next) {
        rc = cc_sync_schedule(&p->sync, p->task_id, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void cc_shutdown(gr_context_t *ctx)
{
    cc_module_t *m = ctx->state;
    if (!m)
        return;
    for (cc_provider_t *p = m->providers; p; p = p->next)
        cc_sync_stop(&p->sync);
    ctx->state = NULL;
    cc_module_unref(m);
}

static const char *const cc_uses[] = {CATALOG_ENTITY_PROVIDER_POINT, NULL};

static const gr_module_descriptor_t cc_module = {
    GR_DESCRIPTOR_HEADER,
    .kind = GR_KIND_MODULE,
    .plugin_id = "catalog",
    .module_id = "central-config",
    .version = "0.1.0",
    .description = "Entity provider: a central config repository (directory, git, github)",
    .config_key = "catalog.providers.centralConfig",
    .config_schema = central_config_fields,
    .extension_points = cc_uses,
    .init = cc_init,
    .shutdown = cc_shutdown,
};
GR_MODULE_EXPORT(cc_module)
