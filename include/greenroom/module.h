/* greenroom/module.h: what a shared object exports, and what it gets back.
 *
 * A module is one .so that exports one function, gr_module_entry(), which
 * returns a pointer to a constant descriptor.  Write it like this:
 *
 *     static int hello_init(gr_context_t *ctx, gr_error_t *err);
 *
 *     static const gr_module_descriptor_t hello = {
 *         GR_DESCRIPTOR_HEADER,
 *         .kind = GR_KIND_PLUGIN,
 *         .plugin_id = "hello",
 *         .version = "1.0.0",
 *         .init = hello_init,
 *     };
 *     GR_MODULE_EXPORT(hello)
 *
 * The loader checks the header's magic, ABI version and sizes before it
 * reads anything else, and refuses the file with a sentence naming the value
 * that differs (as PostgreSQL's PG_MODULE_MAGIC does).
 *
 * Kinds follow Backstage's backend system.  A *plugin* owns the routes under
 * /api/<plugin_id>/, its database schema and its config section, and may
 * provide extension points in its register callback.  A *module* extends one
 * plugin: it names the extension points it uses, and every module of a
 * plugin is initialised before that plugin, so the plugin starts with
 * everything registered.
 *
 * Lifecycle, in order: register (plugins, in dependency order: provide
 * extension points), init (modules of a plugin, then the plugin), started
 * hooks, then on SIGHUP reconfigure, and at the end shutdown in reverse
 * order.  All callbacks run on the loop thread and must not block.
 */
#ifndef GREENROOM_MODULE_H
#define GREENROOM_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include <greenroom/api.h>
#include <greenroom/error.h>
#include <greenroom/types.h>

#define GR_MODULE_MAGIC 0x47524d44u /* "GRMD" */
#define GR_ABI_VERSION 1u           /* bumped only when a built module would break */
#define GR_ENTRY_SYMBOL "gr_module_entry"

typedef enum gr_module_kind {
    GR_KIND_PLUGIN = 1,
    GR_KIND_MODULE = 2
} gr_module_kind_t;

/* The services a plugin or module receives.  The host owns it; it lives from
 * register until shutdown returns.  `state` is the module's own pointer. */
struct gr_context {
    const gr_host_api_t *api;
    uint32_t size;             /* sizeof(gr_context_t) in the host */
    const char *plugin_id;     /* the plugin this code belongs to */
    const char *module_id;     /* NULL for a plugin */
    gr_log_t *log;             /* a child logger named after the plugin/module */
    const gr_config_t *config; /* this module's own section, defaults applied */
    gr_router_t *router;       /* mounted at /api/<plugin_id>/ */
    gr_scheduler_t *scheduler;
    gr_metrics_t *metrics;
    gr_db_t *db;               /* the plugin's database; NULL when the host has none */
    gr_http_client_t *http;    /* outbound HTTP; NULL when the host has none */
    const char *state_dir;     /* a directory this module may write under */
    /* The host's libuv loop, for a module that needs handles of its own (a
     * timer, a socket).  Use it from the loop thread only and close every
     * handle in shutdown. */
    struct uv_loop_s *loop;
    void *state;               /* set by the module, never read by the host */
};

typedef struct gr_module_descriptor {
    /* Header, stamped by GR_DESCRIPTOR_HEADER and checked first. */
    uint32_t magic;
    uint32_t abi_version;
    uint32_t descriptor_size; /* sizeof(gr_module_descriptor_t) when built */
    uint32_t api_size;        /* sizeof(gr_host_api_t) when built */
    uint32_t context_size;    /* sizeof(gr_context_t) when built */

    gr_module_kind_t kind;
    const char *plugin_id;   /* ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ */
    const char *module_id;   /* same rule; NULL for a plugin */
    const char *version;     /* the module's own version, for `modules list` */
    const char *description;

    /* The config section this module reads, as a dotted path from the root
     * ("catalog", "catalog.providers.centralConfig"); NULL for none.  Its
     * schema is checked at start-up and on every reload. */
    const char *config_key;
    const gr_config_field_t *config_schema;

    /* The plugin's schema migrations, in order, ending with {NULL, NULL};
     * applied at start-up before init.  Only plugins have migrations. */
    const gr_migration_t *migrations;

    const char *const *dependencies;     /* plugin ids that must init first; NULL-terminated */
    const char *const *extension_points; /* extension points this module uses; NULL-terminated */

    int (*register_fn)(gr_context_t *ctx, gr_error_t *err);
    int (*init)(gr_context_t *ctx, gr_error_t *err);
    /* Called after a reload has validated the new config.  Read what is needed
     * from `config`; return an error to keep running with the old section. */
    int (*reconfigure)(gr_context_t *ctx, const gr_config_t *config, gr_error_t *err);
    void (*shutdown)(gr_context_t *ctx);

    void *reserved[8]; /* room to grow without changing the ABI version */
} gr_module_descriptor_t;

#define GR_DESCRIPTOR_HEADER                                                                   \
    .magic = GR_MODULE_MAGIC, .abi_version = GR_ABI_VERSION,                                   \
    .descriptor_size = sizeof(gr_module_descriptor_t), .api_size = sizeof(gr_host_api_t),      \
    .context_size = sizeof(gr_context_t)

typedef const gr_module_descriptor_t *(*gr_module_entry_fn)(void);

#define GR_MODULE_EXPORT(descriptor)                                                           \
    __attribute__((visibility("default"))) const gr_module_descriptor_t *gr_module_entry(void); \
    const gr_module_descriptor_t *gr_module_entry(void) { return &(descriptor); }

/* ---- thread-pool work ---------------------------------------------------- */

/* Runs work(user_data) on the libuv thread pool, then done(user_data, status)
 * on the loop thread (status is GR_ERR_CANCELED when the host shut down
 * first).  `work` must not touch any host handle. */
static inline int gr_work_submit(gr_context_t *ctx, gr_work_fn work, gr_work_done_fn done,
                                 void *user_data, gr_error_t *err)
{
    return ctx->api->work_submit(ctx, work, done, user_data, err);
}

/* ---- lifecycle hooks ----------------------------------------------------- */

/* fn runs once every plugin has initialised and the server listens. */
static inline int gr_lifecycle_on_started(gr_context_t *ctx, gr_hook_fn fn, void *user_data)
{
    return ctx->api->lifecycle_on_started(ctx, fn, user_data);
}

/* fn runs when shutdown begins, before any plugin's shutdown callback. */
static inline int gr_lifecycle_on_shutdown(gr_context_t *ctx, gr_hook_fn fn, void *user_data)
{
    return ctx->api->lifecycle_on_shutdown(ctx, fn, user_data);
}

/* ---- extension points ---------------------------------------------------- */

/* A plugin, in its register callback, offers `impl` (a struct of functions
 * and its own state, defined in the plugin's public header) under a name such
 * as "catalog.entity-provider".  The pointer must live until shutdown. */
static inline int gr_extension_point_provide(gr_context_t *ctx, const char *name,
                                             const void *impl, gr_error_t *err)
{
    return ctx->api->extension_point_provide(ctx, name, impl, err);
}

/* A module, in its init callback, gets an extension point it listed in its
 * descriptor.  NULL when it did not list it. */
static inline const void *gr_extension_point_get(gr_context_t *ctx, const char *name)
{
    return ctx->api->extension_point_get(ctx, name);
}

/* ---- health -------------------------------------------------------------- */

/* Reports this plugin's health: readiness turns 503 while any plugin reports
 * itself unhealthy, and the message appears in the readiness body. */
static inline void gr_health_report(gr_context_t *ctx, int healthy, const char *message)
{
    ctx->api->health_report(ctx, healthy, message);
}

#endif
