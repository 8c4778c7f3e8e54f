#include "loader.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *gr_loader_find(const char *name_or_path, const gr_strvec_t *dirs, gr_error_t *err)
{
    if (strchr(name_or_path, '/')) {
        if (access(name_or_path, R_OK) != 0)
            return gr_error_set(err, GR_ERR_NOT_FOUND, "module file '%s' cannot be read",
                                name_or_path),
                   NULL;
        return gr_xstrdup(name_or_path);
    }
    if (!gr_id_is_valid(name_or_path)) {
        gr_error_set(err, GR_ERR_INVALID,
                     "module name '%s' is not a valid id (lower-case letters, digits and "
                     "single dashes, starting with a letter); give a path to load a file",
                     name_or_path);
        return NULL;
    }
    gr_buf_t tried = {0};
    for (size_t i = 0; i < dirs->len; i++) {
        char *path = gr_xasprintf("%s/%s.so", dirs->items[i], name_or_path);
        if (access(path, R_OK) == 0) {
            gr_buf_free(&tried);
            return path;
        }
        gr_buf_printf(&tried, "%s%s", tried.len ? ", " : "", dirs->items[i]);
        free(path);
    }
    gr_error_set(err, GR_ERR_NOT_FOUND, "module '%s' not found: no %s.so in %s", name_or_path,
                 name_or_path, tried.len ? tried.data : "any module directory");
    gr_buf_free(&tried);
    return NULL;
}

static int gr__refuse(gr_module_file_t *mod, gr_error_t *err, int code, const char *why)
{
    gr_error_set(err, code, "%s: %s", mod->path, why);
    gr_loader_close(mod);
    return code;
}

int gr_loader_open(const char *path, gr_module_file_t *out, gr_error_t *err)
{
    *out = (gr_module_file_t){0};
    out->path = gr_xstrdup(path);
    /* RTLD_LOCAL keeps one module's symbols from satisfying another's;
     * RTLD_NOW reports a missing symbol here instead of at first call. */
    out->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!out->handle) {
        const char *why = dlerror();
        gr_error_set(err, GR_ERR_IO, "%s: cannot load module: %s", path, why ? why : "dlopen failed");
        gr_loader_close(out);
        return GR_ERR_IO;
    }
    dlerror();
    void *sym = dlsym(out->handle, GR_ENTRY_SYMBOL);
    if (!sym)
        return gr__refuse(out, err, GR_ERR_INVALID,
                          "not a greenroom module: it does not export " GR_ENTRY_SYMBOL
                          "() (use GR_MODULE_EXPORT)");
    gr_module_entry_fn entry;
    /* POSIX guarantees a function pointer survives this conversion. */
    memcpy(&entry, &sym, sizeof entry);
    const gr_module_descriptor_t *d = entry();
    if (!d)
        return gr__refuse(out, err, GR_ERR_INVALID, GR_ENTRY_SYMBOL "() returned no descriptor");

    char why[256];
    if (d->magic != GR_MODULE_MAGIC) {
        snprintf(why, sizeof why, "bad descriptor magic 0x%08x (expected 0x%08x): not built with GR_DESCRIPTOR_HEADER",
                 d->magic, GR_MODULE_MAGIC);
        return gr__refuse(out, err, GR_ERR_INVALID, why);
    }
    if (d->abi_version != GR_ABI_VERSION) {
        snprintf(why, sizeof why,
                 "built for module ABI version %u, but this host speaks version %u: rebuild it "
                 "against this host's SDK",
                 d->abi_version, GR_ABI_VERSION);
        return gr__refuse(out, err, GR_ERR_UNSUPPORTED, why);
    }
    if (d->descriptor_size > sizeof(gr_module_descriptor_t) || d->api_size > sizeof(gr_host_api_t) ||
        d->context_size > sizeof(gr_context_t)) {
        snprintf(why, sizeof why,
                 "built against a newer SDK than this host (descriptor %u/%zu, API table %u/%zu, "
                 "context %u/%zu bytes, module/host): upgrade the host",
                 d->descriptor_size, sizeof(gr_module_descriptor_t), d->api_size,
                 sizeof(gr_host_api_t), d->context_size, sizeof(gr_context_t));
        return gr__refuse(out, err, GR_ERR_UNSUPPORTED, why);
    }
    if (d->kind != GR_KIND_PLUGIN && d->kind != GR_KIND_MODULE) {
        snprintf(why, sizeof why, "unknown kind %d (expected GR_KIND_PLUGIN or GR_KIND_MODULE)",
                 (int)d->kind);
        return gr__refuse(out, err, GR_ERR_INVALID, why);
    }
    if (!d->plugin_id || !gr_id_is_valid(d->plugin_id)) {
        snprintf(why, sizeof why, "plugin id '%s' does not match ^[a-z][a-z0-9]*(-[a-z0-9]+)*$",
                 d->plugin_id ? d->plugin_id : "(none)");
        return gr__refuse(out, err, GR_ERR_INVALID, why);
    }
    if (d->kind == GR_KIND_MODULE && (!d->module_id || !gr_id_is_valid(d->module_id))) {
        snprintf(why, sizeof why, "module id '%s' does not match ^[a-z][a-z0-9]*(-[a-z0-9]+)*$",
                 d->module_id ? d->module_id : "(none)");
        return gr__refuse(out, err, GR_ERR_INVALID, why);
    }
    if (d->kind == GR_KIND_PLUGIN && d->module_id)
        return gr__refuse(out, err, GR_ERR_INVALID, "a plugin must not set module_id");
    if (d->kind == GR_KIND_MODULE && d->migrations)
        return gr__refuse(out, err, GR_ERR_INVALID,
                          "only plugins own a schema: move the migrations to the plugin");
    out->desc = d;
    out->display_id = d->kind == GR_KIND_MODULE ? gr_xasprintf("%s.%s", d->plugin_id, d->module_id)
                                                : gr_xstrdup(d->plugin_id);
    return 0;
}

void gr_loader_close(gr_module_file_t *mod)
{
    if (mod->handle)
        dlclose(mod->handle);
    free(mod->path);
    free(mod->display_id);
    *mod = (gr_module_file_t){0};
}

static ssize_t gr__find_plugin(gr_module_file_t *mods, size_t count, const char *plugin_id)
{
    for (size_t i = 0; i < count; i++)
        if (mods[i].desc->kind == GR_KIND_PLUGIN && strcmp(mods[i].desc->plugin_id, plugin_id) == 0)
            return (ssize_t)i;
    return -1;
}

/* The plugin an extension point belongs to is the part of its name before
 * the first '.' ("catalog.entity-provider" belongs to "catalog"). */
static ssize_t gr__extension_owner(gr_module_file_t *mods, size_t count, const char *point)
{
    const char *dot = strchr(point, '.');
    if (!dot)
        return -1;
    char plugin[128];
    size_t n = (size_t)(dot - point);
    if (n >= sizeof plugin)
        return -1;
    memcpy(plugin, point, n);
    plugin[n] = '\0';
    return gr__find_plugin(mods, count, plugin);
}

int gr_loader_order(gr_module_file_t *mods, size_t count, size_t *order, gr_error_t *err)
{
    for (size_t i = 0; i < count; i++)
        for (size_t j = i + 1; j < count; j++)
            if (strcmp(mods[i].display_id, mods[j].display_id) == 0)
                return gr_error_set(err, GR_ERR_CONFLICT,
                                    "duplicate id '%s': declared by %s and by %s", mods[i].display_id,
                                    mods[i].path, mods[j].path);

    /* before[i * count + j] != 0 means i must init before j. */
    unsigned char *before = gr_xcalloc(count * count, 1);
    int rc = 0;
    for (size_t j = 0; j < count && rc == 0; j++) {
        const gr_module_descriptor_t *d = mods[j].desc;
        if (d->kind == GR_KIND_MODULE) {
            ssize_t p = gr__find_plugin(mods, count, d->plugin_id);
            if (p < 0) {
                rc = gr_error_set(err, GR_ERR_NOT_FOUND,
                                  "%s: module '%s' extends plugin '%s', which is not loaded: add "
                                  "'%s' to modules",
                                  mods[j].path, mods[j].display_id, d->plugin_id, d->plugin_id);
                break;
            }
            before[j * count + (size_t)p] = 1;
        }
        for (const char *const *dep = d->dependencies; dep && *dep; dep++) {
            ssize_t p = gr__find_plugin(mods, count, *dep);
            if (p < 0) {
                rc = gr_error_set(err, GR_ERR_NOT_FOUND,
                                  "%s: '%s' depends on plugin '%s', which no loaded module provides",
                                  mods[j].path, mods[j].display_id, *dep);
                break;
            }
            if ((size_t)p == j) {
                rc = gr_error_set(err, GR_ERR_INVALID, "%s: '%s' depends on itself", mods[j].path,
                                  mods[j].display_id);
                break;
            }
            before[(size_t)p * count + j] = 1;
        }
        for (const char *const *ep = d->extension_points; rc == 0 && ep && *ep; ep++) {
            ssize_t p = gr__extension_owner(mods, count, *ep);
            if (p < 0) {
                rc = gr_error_set(err, GR_ERR_NOT_FOUND,
                                  "%s: '%s' uses extension point '%s', but no loaded plugin owns it",
                                  mods[j].path, mods[j].display_id, *ep);
                break;
            }
            /* A module registers into the owner's extension point during its own
             * init, so it must init before the owner. */
            if ((size_t)p != j)
                before[j * count + (size_t)p] = 1;
        }
    }

    /* Kahn's algorithm, always taking the smallest ready id. */
    unsigned char *done = gr_xcalloc(count, 1);
    for (size_t placed = 0; rc == 0 && placed < count; placed++) {
        ssize_t pick = -1;
        for (size_t j = 0; j < count; j++) {
            if (done[j])
                continue;
            int ready = 1;
            for (size_t i = 0; i < count && ready; i++)
                if (!done[i] && before[i * count + j])
                    ready = 0;
            if (ready && (pick < 0 || strcmp(mods[j].display_id, mods[pick].display_id) < 0))
                pick = (ssize_t)j;
        }
        if (pick < 0) {
            gr_buf_t cycle = {0};
            for (size_t j = 0; j < count; j++)
                if (!done[j])
                    gr_buf_printf(&cycle, "%s%s (%s)", cycle.len ? ", " : "", mods[j].display_id,
                                  mods[j].path);
            rc = gr_error_set(err, GR_ERR_INVALID, "dependency cycle among: %s", cycle.data);
            gr_buf_free(&cycle);
            break;
        }
        done[pick] = 1;
        order[placed] = (size_t)pick;
    }
    free(done);
    free(before);
    return rc;
}
