/* modules/catalog/module.c: the catalog plugin: its descriptor, config
 * schema and life cycle.
 *
 * The catalog stores entities in its PostgreSQL database (migrations/),
 * receives them only from entity providers through the
 * "catalog.entity-provider" extension point (catalog_provider.h,
 * provider.c, store_apply.c), and serves Backstage's catalog API
 * (routes.c, store.c). */
#include <stdlib.h>

#include "catalog_plugin.h"

/* Compiled from migrations/NNN_name.sql by greenroom_module_migrations. */
extern const gr_migration_t catalog_migrations[];

/* Backstage's catalog section.  Providers are configured under
 * catalog.providers.<type> and checked by the module of each type; the
 * other keys are Backstage's, accepted so an existing app-config.yaml
 * passes, and not used here. */
static const gr_config_field_t read_cache_fields[] = {
    {.key = "ttl",
     .type = GR_CONFIG_DURATION,
     .default_value = "1000",
     .description = "how long a by-name or list answer is reused; 0 turns the cache off. A "
                    "change made through another host shows here within this time"},
    {.key = "maxBytes",
     .type = GR_CONFIG_INT,
     .default_value = "67108864",
     .description = "the most response bytes the cache holds"},
    {0}};

static const gr_config_field_t catalog_fields[] = {
    {.key = "readCache",
     .type = GR_CONFIG_OBJECT,
     .fields = read_cache_fields,
     .description = "greenroom: reuse hot read answers for a moment"},
    {.key = "providers",
     .type = GR_CONFIG_OBJECT,
     .description = "entity providers, each checked by its own module"},
    {.key = "rules", .type = GR_CONFIG_ANY},
    {.key = "locations", .type = GR_CONFIG_ANY},
    {.key = "readonly", .type = GR_CONFIG_ANY},
    {.key = "processingInterval", .type = GR_CONFIG_ANY},
    {.key = "orphanStrategy", .type = GR_CONFIG_ANY},
    {.key = "stitchingStrategy", .type = GR_CONFIG_ANY},
    {.key = "useUrlReadersSearch", .type = GR_CONFIG_ANY},
    {.key = "import", .type = GR_CONFIG_ANY},
    {.key = "processors", .type = GR_CONFIG_ANY},
    {0}};

void catalog_ref(catalog_t *cat)
{
    cat->refs++;
}

void catalog_unref(catalog_t *cat)
{
    if (--cat->refs > 0)
        return;
    catalog_providers_free(cat);
    catalog_cache_free(cat->cache);
    free(cat);
}

static int catalog_register(gr_context_t *ctx, gr_error_t *err)
{
    catalog_t *cat = gr_xcalloc(1, sizeof *cat);
    cat->ctx = ctx;
    cat->refs = 1;
    catalog_provider_api_init(cat);
    ctx->state = cat;
    /* Providers connect in their init, which runs before ours. */
    return gr_extension_point_provide(ctx, CATALOG_ENTITY_PROVIDER_POINT, &cat->api, err);
}

/* Shutdown begins: the scheduler now waits for running syncs, so a large
 * mutation in flight rolls back at its next batch instead of holding
 * shutdown up, and queued ones do not start. */
static void catalog_draining(void *user_data)
{
    catalog_t *cat = user_data;
    cat->draining = 1;
}

static int catalog_init(gr_context_t *ctx, gr_error_t *err)
{
    catalog_t *cat = ctx->state;
    if (!ctx->db)
        return gr_error_set(err, GR_ERR_UNAVAILABLE,
                            "the catalog stores entities in PostgreSQL: configure "
                            "backend.database (client: embedded needs no set-up)");
    static const char *const by_provider_result[] = {"provider", "result", NULL};
    static const char *const by_provider_change[] = {"provider", "change", NULL};
    static const char *const by_provider[] = {"provider", NULL};
    cat->mutations_total =
        gr_metrics_counter(ctx->metrics, "catalog_mutations_total",
                           "Entity provider mutations, by provider and result", by_provider_result);
    cat->mutation_seconds =
        gr_metrics_histogram(ctx->metrics, "catalog_mutation_duration_seconds",
                             "Time from a provider's mutation to its commit, preparation included",
                             by_provider, NULL, 0);
    cat->entities_changed =
        gr_metrics_counter(ctx->metrics, "catalog_entity_changes_total",
                           "Entities added, updated or removed by providers", by_provider_change);
    cat->cache =
        catalog_cache_new(gr_config_duration_ms(ctx->config, "readCache.ttl", 1000),
                          (size_t)gr_config_int(ctx->config, "readCache.maxBytes", 64 << 20));
    cat->stmt_by_ref = gr_db_prepare(ctx->db, CATALOG_SQL_BY_REF, err);
    cat->stmt_by_uid = gr_db_prepare(ctx->db, CATALOG_SQL_BY_UID, err);
    cat->stmt_list = gr_db_prepare(ctx->db, CATALOG_SQL_LIST, err);
    if (!cat->stmt_by_ref || !cat->stmt_by_uid || !cat->stmt_list)
        return err->code ? err->code : GR_ERR_INTERNAL;
    int rc = catalog_routes_add(cat, err);
    if (rc == 0)
        gr_lifecycle_on_shutdown(ctx, catalog_draining, cat);
    return rc;
}

static void catalog_release(void *arg)
{
    catalog_unref(arg);
}

static void catalog_shutdown(gr_context_t *ctx)
{
    catalog_t *cat = ctx->state;
    if (!cat)
        return;
    cat->stopping = 1;
    /* Queued mutations are answered "cancelled" now; one in flight ends
     * with the database, which the host stops after every plugin. */
    catalog_mutations_cancel(cat);
    ctx->state = NULL;
    /* The catalog's modules shut down after it, in this same loop turn, and
     * may still call the extension point (to be told "cancelled"): its
     * table lives in `cat`, so the plugin's own reference goes a turn
     * later. */
    gr_loop_defer(cat->ctx->loop, catalog_release, cat);
}

static const gr_module_descriptor_t catalog_plugin = {
    GR_DESCRIPTOR_HEADER,
    .kind = GR_KIND_PLUGIN,
    .plugin_id = "catalog",
    .version = "0.1.0",
    .description = "Software catalog: entities from providers, Backstage's catalog API",
    .config_key = "catalog",
    .config_schema = catalog_fields,
    .migrations = catalog_migrations,
    .register_fn = catalog_register,
    .init = catalog_init,
    .shutdown = catalog_shutdown,
};
GR_MODULE_EXPORT(catalog_plugin)
