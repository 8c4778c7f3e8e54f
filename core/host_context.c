/* core/host_context.c: the services a module reaches through its context:
 * thread-pool work, lifecycle hooks, extension points and health. */
#include <stdlib.h>
#include <string.h>

#include "api_impl.h"
#include "host_internal.h"

static void gr__hook_list_add(gr_hook_list_t *list, gr_hook_fn fn, void *user_data)
{
    if (list->len == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->items = gr_xrealloc(list->items, list->cap * sizeof *list->items);
    }
    list->items[list->len++] = (gr_hook_t){fn, user_data};
}

void gr_hook_list_run(gr_hook_list_t *list)
{
    for (size_t i = 0; i < list->len; i++)
        list->items[i].fn(list->items[i].user_data);
}

void gr_hook_list_free(gr_hook_list_t *list)
{
    free(list->items);
    *list = (gr_hook_list_t){0};
}

int gr__work_submit(gr_context_t *ctx, gr_work_fn work, gr_work_done_fn done, void *user_data,
                    gr_error_t *err)
{
    gr_slot_t *slot = gr_slot_from_context(ctx);
    return gr_work_pool_submit(slot->host->work, work, done, user_data, err);
}

int gr__lifecycle_on_started(gr_context_t *ctx, gr_hook_fn fn, void *user_data)
{
    gr__hook_list_add(&gr_slot_from_context(ctx)->host->started_hooks, fn, user_data);
    return 0;
}

int gr__lifecycle_on_shutdown(gr_context_t *ctx, gr_hook_fn fn, void *user_data)
{
    gr__hook_list_add(&gr_slot_from_context(ctx)->host->shutdown_hooks, fn, user_data);
    return 0;
}

int gr__extension_point_provide(gr_context_t *ctx, const char *name, const void *impl,
                                gr_error_t *err)
{
    gr_slot_t *slot = gr_slot_from_context(ctx);
    gr_host_t *host = slot->host;
    if (!slot->in_register)
        return gr_error_set(err, GR_ERR_CONFLICT,
                            "%s: extension point '%s' must be provided in the register callback",
                            slot->file.display_id, name);
    size_t plen = strlen(ctx->plugin_id);
    if (strncmp(name, ctx->plugin_id, plen) != 0 || name[plen] != '.' || !name[plen + 1])
        return gr_error_set(err, GR_ERR_INVALID,
                            "%s: extension point '%s' must be named '%s.<name>'",
                            slot->file.display_id, name, ctx->plugin_id);
    for (size_t i = 0; i < host->npoints; i++)
        if (strcmp(host->points[i].name, name) == 0)
            return gr_error_set(err, GR_ERR_CONFLICT,
                                "%s: extension point '%s' is already provided by %s",
                                slot->file.display_id, name, host->points[i].owner->file.display_id);
    host->points = gr_xrealloc(host->points, (host->npoints + 1) * sizeof *host->points);
    host->points[host->npoints++] = (gr_extension_point_t){gr_xstrdup(name), impl, slot};
    return 0;
}

const void *gr__extension_point_get(gr_context_t *ctx, const char *name)
{
    gr_slot_t *slot = gr_slot_from_context(ctx);
    int declared = 0;
    for (const char *const *ep = slot->file.desc->extension_points; ep && *ep; ep++)
        if (strcmp(*ep, name) == 0)
            declared = 1;
    if (!declared) {
        gr_log_error(ctx->log,
                     "extension point '%s' was not listed in the descriptor's extension_points; "
                     "list it so the host can order start-up",
                     name);
        return NULL;
    }
    for (size_t i = 0; i < slot->host->npoints; i++)
        if (strcmp(slot->host->points[i].name, name) == 0)
            return slot->host->points[i].impl;
    return NULL;
}

void gr__health_report(gr_context_t *ctx, int healthy, const char *message)
{
    gr_slot_t *slot = gr_slot_from_context(ctx);
    if (slot->healthy != !!healthy)
        gr_log_info(ctx->log, "health: %s%s%s", healthy ? "healthy" : "unhealthy",
                    message ? ": " : "", message ? message : "");
    slot->healthy = !!healthy;
    free(slot->health_message);
    slot->health_message = message ? gr_xstrdup(message) : NULL;
}

gr_router_t *gr__router_mount(gr_context_t *ctx, const char *name, gr_error_t *err)
{
    gr_slot_t *slot = gr_slot_from_context(ctx);
    gr_host_t *host = slot->host;
    if (!name || !gr_id_is_valid(name)) {
        gr_error_set(err, GR_ERR_INVALID,
                     "%s: cannot mount a router at /api/%s: the name must match "
                     "^[a-z][a-z0-9]*(-[a-z0-9]+)*$",
                     slot->file.display_id, name ? name : "(null)");
        return NULL;
    }
    /* A plugin owns /api/<pluginId>/ whether or not it has routes yet. */
    for (size_t i = 0; i < host->nslots; i++) {
        const gr_module_descriptor_t *d = host->slots[i].file.desc;
        if (d->kind == GR_KIND_PLUGIN && strcmp(d->plugin_id, name) == 0) {
            gr_error_set(err, GR_ERR_CONFLICT,
                         "%s: cannot mount a router at /api/%s: plugin '%s' (%s) owns that prefix",
                         slot->file.display_id, name, name, host->slots[i].file.path);
            return NULL;
        }
    }
    if (gr_strvec_contains(&host->mounts, name)) {
        gr_error_set(err, GR_ERR_CONFLICT,
                     "%s: cannot mount a router at /api/%s: another module mounted it first",
                     slot->file.display_id, name);
        return NULL;
    }
    gr_strvec_push(&host->mounts, name);
    char *prefix = gr_xasprintf("/api/%s", name);
    gr_router_t *router = gr_route_table_router(host->routes, prefix, ctx->plugin_id);
    free(prefix);
    return router;
}
