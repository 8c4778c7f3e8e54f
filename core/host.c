/* core/host.c: the host's life: start-up, reload, shutdown. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api_impl.h"
#include "host_internal.h"
#include "sd_notify.h"
#include "version.h"

/* ---- backend.* ---------------------------------------------------------- */

static const char *const gr__boot_failure_values[] = {"abort", "continue", NULL};
static const char *const gr__log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const gr__log_formats[] = {"pretty", "json", NULL};

static const gr_config_field_t gr__boot_failure_fields[] = {
    {.key = "onPluginBootFailure", .type = GR_CONFIG_STRING, .enum_values = gr__boot_failure_values,
     .description = "abort: a plugin whose init fails stops start-up; continue: it is reported as failed"},
    {.key = "onPluginModuleBootFailure", .type = GR_CONFIG_STRING,
     .enum_values = gr__boot_failure_values},
    {0}};

static const gr_config_field_t gr__startup_plugin_fields[] = {
    {.key = "*", .type = GR_CONFIG_OBJECT, .fields = gr__boot_failure_fields}, {0}};

static const gr_config_field_t gr__startup_fields[] = {
    {.key = "default", .type = GR_CONFIG_OBJECT, .fields = gr__boot_failure_fields},
    {.key = "plugins", .type = GR_CONFIG_OBJECT, .fields = gr__startup_plugin_fields},
    {.key = "onPluginBootFailure", .type = GR_CONFIG_STRING, .enum_values = gr__boot_failure_values,
     .description = "shorthand for default.onPluginBootFailure"},
    {0}};

static const gr_config_field_t gr__listen_fields[] = {
    {.key = "host", .type = GR_CONFIG_STRING, .default_value = "127.0.0.1"},
    {.key = "port", .type = GR_CONFIG_INT, .default_value = "7007"},
    {0}};

static const gr_config_field_t gr__log_fields[] = {
    {.key = "level", .type = GR_CONFIG_STRING, .default_value = "info", .enum_values = gr__log_levels},
    {.key = "format", .type = GR_CONFIG_STRING, .default_value = "pretty",
     .enum_values = gr__log_formats},
    {0}};

static const gr_config_field_t gr__http_fields[] = {
    {.key = "maxHeaderBytes", .type = GR_CONFIG_INT, .default_value = "16384"},
    {.key = "maxBodyBytes", .type = GR_CONFIG_INT, .default_value = "1048576"},
    {.key = "idleTimeout", .type = GR_CONFIG_DURATION, .default_value = "60000"},
    {.key = "requestTimeout", .type = GR_CONFIG_DURATION, .default_value = "30000"},
    {.key = "maxConnections", .type = GR_CONFIG_INT, .default_value = "1024"},
    {.key = "shutdownTimeout", .type = GR_CONFIG_DURATION, .default_value = "10000",
     .description = "how long shutdown waits for in-flight requests"},
    {0}};

static const gr_config_field_t gr__web_fields[] = {
    {.key = "root", .type = GR_CONFIG_STRING, .description = "directory of static files served at /"},
    {0}};

/* Keys Backstage's backend has that greenroom accepts and ignores, so an
 * operator's existing app-config.yaml passes the check. */
static const gr_config_field_t gr__backend_fields[] = {
    {.key = "listen", .type = GR_CONFIG_OBJECT, .fields = gr__listen_fields},
    {.key = "log", .type = GR_CONFIG_OBJECT, .fields = gr__log_fields},
    {.key = "startup", .type = GR_CONFIG_OBJECT, .fields = gr__startup_fields},
    {.key = "http", .type = GR_CONFIG_OBJECT, .fields = gr__http_fields},
    {.key = "web", .type = GR_CONFIG_OBJECT, .fields = gr__web_fields},
    {.key = "database", .type = GR_CONFIG_ANY},
    {.key = "baseUrl", .type = GR_CONFIG_STRING},
    {.key = "cors", .type = GR_CONFIG_ANY},
    {.key = "csp", .type = GR_CONFIG_ANY},
    {.key = "auth", .type = GR_CONFIG_ANY},
    {.key = "reading", .type = GR_CONFIG_ANY},
    {.key = "cache", .type = GR_CONFIG_ANY},
    {.key = "lifecycle", .type = GR_CONFIG_ANY},
    {.key = "workingDirectory", .type = GR_CONFIG_ANY},
    {0}};

static const char *const gr__known_top_level[] = {
    "app", "backend", "modules", "integrations", "organization", "auth", "proxy", "techdocs",
    "permission", "scaffolder", "search", "kubernetes", NULL};

/* ---- config: load and check, shared by serve, reload and `config check` -- */

static const char *gr__entry_name(const gr_config_t *entry, gr_error_t *err)
{
    char where[256];
    gr_config_where(entry, where, sizeof where);
    if (gr_config_kind(entry) == GR_CONFIG_STRING)
        return gr_config_string(entry, NULL, NULL);
    if (gr_config_kind(entry) == GR_CONFIG_OBJECT) {
        const char *name = gr_config_string(entry, "name", NULL);
        const char *path = gr_config_string(entry, "path", NULL);
        if (name && !path)
            return name;
        if (path && !name)
            return path;
    }
    gr_error_set(err, GR_ERR_INVALID,
                 "%s: modules: each entry is a module name, {name: <name>} or {path: <file.so>}",
                 where);
    return NULL;
}

int gr_host_config_load(const gr_strvec_t *paths, gr_config_doc_t **out, gr_error_t *err)
{
    if (paths->len == 0)
        return gr_error_set(err, GR_ERR_INVALID, "no config file given: pass -c app-config.yaml");
    *out = gr_config_doc_load((const char *const *)paths->items, paths->len, err);
    return *out ? 0 : err->code ? err->code : GR_ERR_INVALID;
}

int gr_host_modules_open(gr_config_doc_t *doc, const gr_strvec_t *dirs, gr_module_file_t **mods_out,
                         size_t *count_out, gr_error_t *err)
{
    const gr_config_t *list = gr_config_get(gr_config_doc_root(doc), "modules");
    *mods_out = NULL;
    *count_out = 0;
    if (!list)
        return 0;
    if (gr_config_kind(list) != GR_CONFIG_ARRAY) {
        char where[256];
        gr_config_where(list, where, sizeof where);
        return gr_error_set(err, GR_ERR_INVALID, "%s: modules: expected a list of modules", where);
    }
    size_t n = gr_config_size(list);
    gr_module_file_t *mods = gr_xcalloc(n, sizeof *mods);
    for (size_t i = 0; i < n; i++) {
        const char *name = gr__entry_name(gr_config_at(list, i), err);
        char *path = name ? gr_loader_find(name, dirs, err) : NULL;
        int rc = path ? gr_loader_open(path, &mods[i], err) : err->code;
        free(path);
        if (rc != 0) {
            for (size_t j = 0; j < i; j++)
                gr_loader_close(&mods[j]);
            free(mods);
            return rc;
        }
    }
    *mods_out = mods;
    *count_out = n;
    return 0;
}

/* `backend.database.client: none` runs the host without a database: for a
 * host whose plugins store nothing, and for tests of the host itself. */
static int gr__database_disabled(const gr_config_t *root)
{
    const char *client = gr_config_string(root, "backend.database.client", NULL);
    return client && strcmp(client, "none") == 0;
}

size_t gr_host_config_check(gr_config_doc_t *doc, gr_module_file_t *mods, size_t count,
                            gr_strvec_t *problems, gr_strvec_t *warnings)
{
    size_t nproblems = gr_config_doc_validate(doc, "backend", gr__backend_fields, problems);
    nproblems += gr_config_doc_validate(doc, "integrations", gr_github_integrations_schema, problems);
    const gr_config_t *root = gr_config_doc_root(doc);
    if (!gr__database_disabled(root)) {
        gr_db_options_t options;
        gr_error_t err = {0};
        gr_db_options_init(&options);
        if (gr_db_options_parse(&options, gr_config_get(root, "backend.database"), &err) != 0) {
            gr_strvec_push(problems, err.message);
            nproblems++;
        }
        gr_db_options_free(&options);
    }
    gr_strvec_t known = {0};
    for (const char *const *k = gr__known_top_level; *k; k++)
        gr_strvec_push(&known, *k);
    for (size_t i = 0; i < count; i++) {
        const gr_module_descriptor_t *d = mods[i].desc;
        if (!d->config_key)
            continue;
        const char *dot = strchr(d->config_key, '.');
        char *top = dot ? gr_xstrndup(d->config_key, (size_t)(dot - d->config_key))
                        : gr_xstrdup(d->config_key);
        if (!gr_strvec_contains(&known, top))
            gr_strvec_push(&known, top);
        free(top);
        if (d->config_schema)
            nproblems += gr_config_doc_validate(doc, d->config_key, d->config_schema, problems);
    }
    gr_strvec_push_owned(&known, NULL);
    gr_config_doc_unknown_top_level(doc, (const char *const *)known.items, warnings);
    known.len--;
    gr_strvec_free(&known);
    return nproblems;
}

/* ---- small helpers ------------------------------------------------------- */

static void gr__doc_unref(gr_doc_ref_t *ref)
{
    if (ref && --ref->refs == 0) {
        gr_config_doc_free(ref->doc);
        free(ref);
    }
}

static gr_doc_ref_t *gr__doc_ref_new(gr_config_doc_t *doc)
{
    gr_doc_ref_t *ref = gr_xcalloc(1, sizeof *ref);
    ref->doc = doc;
    ref->refs = 1;
    return ref;
}

static const char *gr__boot_policy(const gr_config_t *root, const char *plugin_id)
{
    char path[256];
    snprintf(path, sizeof path, "backend.startup.plugins.%s.onPluginBootFailure", plugin_id);
    const char *policy = gr_config_string(root, path, NULL);
    if (!policy)
        policy = gr_config_string(root, "backend.startup.default.onPluginBootFailure", NULL);
    if (!policy)
        policy = gr_config_string(root, "backend.startup.onPluginBootFailure", "abort");
    return policy;
}

static void gr__apply_log_settings(gr_host_t *host, const gr_config_t *root)
{
    gr_log_level_t level = GR_LOG_INFO;
    gr_log_format_t format = GR_LOG_FORMAT_PRETTY;
    gr_log_parse_level(gr_config_string(root, "backend.log.level", "info"), &level);
    gr_log_parse_format(gr_config_string(root, "backend.log.format", "pretty"), &format);
    gr_log_configure(host->log, level, format);

    gr_strvec_t secrets = {0};
    gr_config_doc_secrets(host->config->doc, &secrets);
    for (size_t i = 0; i < secrets.len; i++)
        gr_log_add_secret(host->log, secrets.items[i]);
    gr_strvec_free(&secrets);
}

static void gr__read_settings(gr_host_t *host, const gr_config_t *root)
{
    free(host->listen_host);
    host->listen_host = gr_xstrdup(gr_config_string(root, "backend.listen.host", "127.0.0.1"));
    host->listen_port = (int)gr_config_int(root, "backend.listen.port", 7007);
    gr_http_limits_default(&host->limits);
    host->limits.max_header_bytes =
        (size_t)gr_config_int(root, "backend.http.maxHeaderBytes", (int64_t)host->limits.max_header_bytes);
    host->limits.max_body_bytes =
        (size_t)gr_config_int(root, "backend.http.maxBodyBytes", (int64_t)host->limits.max_body_bytes);
    host->limits.idle_timeout_ms =
        gr_config_duration_ms(root, "backend.http.idleTimeout", host->limits.idle_timeout_ms);
    host->limits.request_timeout_ms =
        gr_config_duration_ms(root, "backend.http.requestTimeout", host->limits.request_timeout_ms);
    host->limits.max_connections =
        (size_t)gr_config_int(root, "backend.http.maxConnections", (int64_t)host->limits.max_connections);
    host->shutdown_timeout_ms = gr_config_duration_ms(root, "backend.http.shutdownTimeout", 10000);
}

/* ---- the tick: loop lag and the systemd watchdog -------------------------- */

static void gr__on_tick(uv_timer_t *timer)
{
    gr_host_t *host = timer->data;
    uint64_t now = uv_now(&host->loop);
    uint64_t lag = now > host->tick_expected_ms ? now - host->tick_expected_ms : 0;
    gr_metric_set(host->loop_lag, (double)lag / 1000.0);
    host->tick_expected_ms = now + host->tick_interval_ms;
    /* The ping comes from the loop itself, so a blocked loop misses it and
     * systemd restarts the service: that is the point of the watchdog. */
    if (host->watchdog_ms)
        gr_sd_notify("WATCHDOG=1");
}

/* ---- start-up -------------------------------------------------------------- */

static void gr__begin_shutdown(gr_host_t *host, int exit_code);

static void gr__slot_fail(gr_slot_t *slot, const char *what, const gr_error_t *err)
{
    slot->state = GR_SLOT_FAILED;
    free(slot->failure);
    slot->failure = gr_xasprintf("%s failed: %s", what, err->message[0] ? err->message : gr_status_name(err->code));
    slot->healthy = 0;
}

static gr_slot_t *gr__plugin_slot(gr_host_t *host, const char *plugin_id)
{
    for (size_t i = 0; i < host->nslots; i++)
        if (host->slots[i].file.desc->kind == GR_KIND_PLUGIN &&
            strcmp(host->slots[i].file.desc->plugin_id, plugin_id) == 0)
            return &host->slots[i];
    return NULL;
}

/* Runs register and init over every slot in order.  Returns 0, or -1 when a
 * failure must stop start-up (the error is logged). */
static int gr__register_and_init(gr_host_t *host)
{
    const gr_config_t *root = gr_config_doc_root(host->config->doc);

    for (size_t k = 0; k < host->nslots; k++) {
        gr_slot_t *slot = &host->slots[host->order[k]];
        const gr_module_descriptor_t *d = slot->file.desc;
        gr_error_t err = {0};
        slot->in_register = 1;
        int rc = d->register_fn ? d->register_fn(&slot->ctx, &err) : 0;
        slot->in_register = 0;
        if (rc != 0) {
            gr_log_error(host->log, "%s (%s): register failed: %s", slot->file.display_id,
                         slot->file.path, err.message);
            return -1;
        }
        slot->state = GR_SLOT_REGISTERED;
    }
    /* Every extension point a module uses must now exist. */
    for (size_t i = 0; i < host->nslots; i++) {
        gr_slot_t *slot = &host->slots[i];
        for (const char *const *ep = slot->file.desc->extension_points; ep && *ep; ep++) {
            int found = 0;
            for (size_t j = 0; j < host->npoints && !found; j++)
                found = strcmp(host->points[j].name, *ep) == 0;
            if (!found) {
                gr_log_error(host->log,
                             "%s (%s): uses extension point '%s', which its plugin did not provide",
                             slot->file.display_id, slot->file.path, *ep);
                return -1;
            }
        }
    }

    for (size_t k = 0; k < host->nslots; k++) {
        gr_slot_t *slot = &host->slots[host->order[k]];
        const gr_module_descriptor_t *d = slot->file.desc;
        gr_slot_t *plugin = gr__plugin_slot(host, d->plugin_id);
        const char *policy = gr__boot_policy(root, d->plugin_id);
        gr_error_t err = {0};

        /* A plugin whose module failed has failed too; so has anything that
         * depends on a failed plugin. */
        if (plugin && plugin->state == GR_SLOT_FAILED && plugin != slot) {
            slot->state = GR_SLOT_FAILED;
            free(slot->failure);
            slot->failure = gr_xasprintf("plugin '%s' failed to start", d->plugin_id);
            continue;
        }
        for (const char *const *dep = d->dependencies; dep && *dep; dep++) {
            gr_slot_t *ds = gr__plugin_slot(host, *dep);
            if (ds && ds->state == GR_SLOT_FAILED)
                gr_error_set(&err, GR_ERR_UNAVAILABLE, "dependency '%s' failed to start", *dep);
        }
        int rc = err.code;
        if (rc == 0 && d->init)
            rc = d->init(&slot->ctx, &err);
        if (rc == 0) {
            slot->state = GR_SLOT_INITIALIZED;
            slot->healthy = 1;
            continue;
        }
        gr__slot_fail(slot, "init", &err);
        if (plugin && plugin != slot) {
            plugin->state = GR_SLOT_FAILED;
            free(plugin->failure);
            plugin->failure = gr_xasprintf("module '%s' failed: %s", slot->file.display_id,
                                           err.message);
        }
        if (strcmp(policy, "continue") == 0) {
            gr_log_error(host->log,
                         "%s (%s): init failed: %s; continuing without plugin '%s' "
                         "(onPluginBootFailure: continue)",
                         slot->file.display_id, slot->file.path, err.message, d->plugin_id);
            continue;
        }
        gr_log_error(host->log, "%s (%s): init failed: %s", slot->file.display_id, slot->file.path,
                     err.message);
        return -1;
    }
    return 0;
}

static void gr__started(gr_host_t *host)
{
    gr_error_t err = {0};
    if (gr_http_server_listen(host->http, host->listen_host, host->listen_port, &err) != 0) {
        gr_log_error(host->log, "cannot listen on %s:%d: %s", host->listen_host, host->listen_port,
                     err.message);
        gr__begin_shutdown(host, 1);
        return;
    }
    gr_scheduler_host_start(host->scheduler);
    gr_hook_list_run(&host->started_hooks);
    host->phase = GR_HOST_RUNNING;
    size_t failed = 0;
    for (size_t i = 0; i < host->nslots; i++)
        failed += host->slots[i].state == GR_SLOT_FAILED;
    gr_log_info(host->log, "ready in %llu ms: listening on http://%s:%d with %zu modules%s",
                (unsigned long long)(gr_now_ms() - host->start_ms), host->listen_host,
                gr_http_server_port(host->http), host->nslots, failed ? " (some failed, see health)" : "");
    gr_sd_notify("READY=1\nSTATUS=ready");
}

/* Runs once the database is up and every plugin's schema is migrated (or at
 * once without a database): register, init, listen. */
static void gr__finish_start(gr_host_t *host)
{
    if (host->phase == GR_HOST_STOPPING)
        return;
    for (size_t i = 0; host->db && i < host->nslots; i++) {
        gr_slot_t *slot = &host->slots[i];
        gr_error_t err = {0};
        slot->ctx.db = gr_db_service_plugin(host->db, slot->ctx.plugin_id, &err);
        if (!slot->ctx.db) {
            gr_log_error(host->log, "%s: database: %s", slot->file.display_id, err.message);
            gr__begin_shutdown(host, 1);
            return;
        }
    }
    if (gr__register_and_init(host) != 0) {
        gr__begin_shutdown(host, 1);
        return;
    }
    gr__started(host);
}

/* Migrates the plugins one at a time, in init order. */
static void gr__migrate_next(gr_host_t *host);

static void gr__on_migrated(void *user_data, int status, const gr_error_t *err)
{
    gr_host_t *host = user_data;
    gr_slot_t *slot = &host->slots[host->order[host->migrate_index]];
    if (status != 0) {
        gr_log_error(host->log, "%s (%s): migrations failed: %s", slot->file.display_id,
                     slot->file.path, err ? err->message : gr_status_name(status));
        gr__begin_shutdown(host, 1);
        return;
    }
    host->migrate_index++;
    gr__migrate_next(host);
}

static void gr__migrate_next(gr_host_t *host)
{
    if (host->phase == GR_HOST_STOPPING)
        return;
    while (host->migrate_index < host->nslots) {
        gr_slot_t *slot = &host->slots[host->order[host->migrate_index]];
        if (slot->file.desc->migrations) {
            gr_db_service_migrate(host->db, slot->ctx.plugin_id, slot->file.desc->migrations,
                                  gr__on_migrated, host);
            return;
        }
        host->migrate_index++;
    }
    gr__finish_start(host);
}

/* The scheduler gets the database before plugins init, so their global
 * tasks are accepted and every task's status is stored. */
static void gr__on_host_migrated(void *user_data, int status, const gr_error_t *err)
{
    gr_host_t *host = user_data;
    if (host->phase == GR_HOST_STOPPING)
        return;
    if (status != 0) {
        gr_log_error(host->log, "database: the host's own tables: %s",
                     err ? err->message : gr_status_name(status));
        gr__begin_shutdown(host, 1);
        return;
    }
    gr_scheduler_host_set_db(host->scheduler, gr_db_service_host(host->db), NULL);
    host->migrate_index = 0;
    gr__migrate_next(host);
}

static void gr__on_database_started(void *user_data, int status, const gr_error_t *err)
{
    gr_host_t *host = user_data;
    if (status != 0) {
        gr_log_error(host->log, "database: %s", err ? err->message : gr_status_name(status));
        gr__begin_shutdown(host, 1);
        return;
    }
    gr_log_info(host->log, "database ready");
    /* The host's own table (the scheduler's task status and leases) is
     * migrated before any plugin's. */
    gr_db_service_migrate(host->db, GR_DB_HOST_ID, gr_scheduler_migrations, gr__on_host_migrated,
                          host);
}

/* The directory served at /, or NULL for none (caller frees): --web-dir,
 * else backend.web.root, else the web UI built next to the binary (a build
 * tree: <build>/greenroom and <build>/web), else the installed one. */
static char *gr__web_dir(gr_host_t *host, const gr_config_t *root)
{
    if (host->options->web_dir)
        return gr_xstrdup(host->options->web_dir);
    const char *configured = gr_config_string(root, "backend.web.root", NULL);
    if (configured)
        return gr_xstrdup(configured);
    char exe[4096];
    size_t len = sizeof exe;
    if (uv_exepath(exe, &len) == 0) {
        char *beside = gr_xasprintf("%s/web", dirname(exe));
        if (access(beside, R_OK | X_OK) == 0)
            return beside;
        free(beside);
    }
    if (access(GR_WEB_INSTALL_DIR, R_OK | X_OK) == 0)
        return gr_xstrdup(GR_WEB_INSTALL_DIR);
    return NULL;
}

static void gr__on_signal(uv_signal_t *handle, int signum);

static int gr__start(gr_host_t *host)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = NULL;
    if (gr_host_config_load(&host->options->config_paths, &doc, &err) != 0) {
        gr_log_error(host->log, "config: %s", err.message);
        return -1;
    }
    host->config = gr__doc_ref_new(doc);

    gr_module_file_t *mods = NULL;
    size_t count = 0;
    if (gr_host_modules_open(doc, &host->options->module_dirs, &mods, &count, &err) != 0) {
        gr_log_error(host->log, "%s", err.message);
        return -1;
    }
    host->slots = gr_xcalloc(count, sizeof *host->slots);
    host->nslots = count;
    for (size_t i = 0; i < count; i++)
        host->slots[i].file = mods[i];
    free(mods);

    gr_strvec_t problems = {0}, warnings = {0};
    gr_module_file_t *files = gr_xcalloc(count, sizeof *files);
    for (size_t i = 0; i < count; i++)
        files[i] = host->slots[i].file;
    size_t nproblems = gr_host_config_check(doc, files, count, &problems, &warnings);
    for (size_t i = 0; i < warnings.len; i++)
        gr_log_warn(host->log, "config: %s", warnings.items[i]);
    for (size_t i = 0; i < problems.len; i++)
        gr_log_error(host->log, "config: %s", problems.items[i]);
    gr_strvec_free(&problems);
    gr_strvec_free(&warnings);
    if (nproblems) {
        free(files);
        return -1;
    }
    host->order = gr_xcalloc(count, sizeof *host->order);
    int rc = gr_loader_order(files, count, host->order, &err);
    free(files);
    if (rc != 0) {
        gr_log_error(host->log, "%s", err.message);
        return -1;
    }

    const gr_config_t *root = gr_config_doc_root(doc);
    gr__apply_log_settings(host, root);
    gr__read_settings(host, root);

    host->metrics = gr_metrics_new();
    gr_metrics_set_log(host->metrics, host->log);
    host->loop_lag = gr_metrics_gauge(host->metrics, "greenroom_event_loop_lag_seconds",
                                      "How late the host's periodic tick ran: a blocked loop shows here",
                                      NULL);
    host->routes = gr_route_table_new();
    host->host_router = gr_route_table_router(host->routes, "", "");
    host->scheduler = gr_scheduler_host_new(&host->loop, host->log, host->metrics);
    host->work = gr_work_pool_new(&host->loop);
    host->http_client = gr_http_client_new(&host->loop, host->log, host->metrics, NULL);
    host->github = gr_github_client_new(&host->loop, host->log, host->metrics, host->http_client,
                                        gr_config_get(root, "integrations.github"), NULL, &err);
    if (!host->github) {
        gr_log_error(host->log, "integrations.github: %s", err.message);
        return -1;
    }
    char *web_dir = gr__web_dir(host, root);
    if (web_dir)
        gr_log_info(host->log, "web UI: serving %s at /", web_dir);
    host->http = gr_http_server_new(&host->loop, &host->limits, host->routes, web_dir, host->log,
                                    host->metrics);
    free(web_dir);
    gr_host_routes_mount(host);

    for (size_t i = 0; i < count; i++) {
        gr_slot_t *slot = &host->slots[i];
        const gr_module_descriptor_t *d = slot->file.desc;
        slot->host = host;
        slot->ctx.api = &gr__host_api;
        slot->ctx.size = sizeof(gr_context_t);
        slot->ctx.plugin_id = d->plugin_id;
        slot->ctx.module_id = d->module_id;
        slot->ctx.log = gr_log_child_new(host->log, d->plugin_id, d->module_id);
        slot->ctx.config = d->config_key ? gr_config_doc_section(doc, d->config_key) : NULL;
        slot->config_ref = host->config;
        host->config->refs++;
        char *prefix = gr_xasprintf("/api/%s", d->plugin_id);
        slot->ctx.router = gr_route_table_router(host->routes, prefix, d->plugin_id);
        free(prefix);
        slot->ctx.scheduler = gr_scheduler_host_plugin(host->scheduler, d->plugin_id);
        slot->ctx.metrics = host->metrics;
        slot->ctx.http = host->http_client;
        slot->ctx.state_dir = host->options->state_dir;
        slot->ctx.loop = &host->loop;
        slot->healthy = 1;
    }

    if (gr__database_disabled(root)) {
        gr_log_info(host->log, "database: disabled (backend.database.client: none)");
        gr__finish_start(host);
        return 0;
    }
    host->db = gr_db_service_new(&host->loop, gr_config_get(root, "backend.database"),
                                 host->options->state_dir, host->log, host->metrics, &err);
    if (!host->db) {
        gr_log_error(host->log, "database: %s", err.message);
        return -1;
    }
    gr_db_service_start(host->db, gr__on_database_started, host);
    return 0;
}

/* ---- reload ------------------------------------------------------------------ */

static void gr__reload(gr_host_t *host)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = NULL;
    gr_sd_notify("RELOADING=1");
    gr_log_info(host->log, "SIGHUP: reloading config");
    if (gr_host_config_load(&host->options->config_paths, &doc, &err) != 0) {
        gr_log_error(host->log, "reload rejected, keeping the running config: %s", err.message);
        gr_sd_notify("READY=1");
        return;
    }
    gr_module_file_t *files = gr_xcalloc(host->nslots, sizeof *files);
    for (size_t i = 0; i < host->nslots; i++)
        files[i] = host->slots[i].file;
    gr_strvec_t problems = {0}, warnings = {0};
    size_t nproblems = gr_host_config_check(doc, files, host->nslots, &problems, &warnings);
    free(files);
    for (size_t i = 0; i < problems.len; i++)
        gr_log_error(host->log, "reload rejected, keeping the running config: %s", problems.items[i]);
    gr_strvec_free(&problems);
    gr_strvec_free(&warnings);
    if (nproblems) {
        gr_config_doc_free(doc);
        gr_sd_notify("READY=1");
        return;
    }

    gr_doc_ref_t *ref = gr__doc_ref_new(doc);
    gr_doc_ref_t *old = host->config;
    host->config = ref;
    gr__apply_log_settings(host, gr_config_doc_root(doc));

    size_t applied = 0, kept = 0;
    for (size_t k = 0; k < host->nslots; k++) {
        gr_slot_t *slot = &host->slots[host->order[k]];
        const gr_module_descriptor_t *d = slot->file.desc;
        if (slot->state != GR_SLOT_INITIALIZED || !d->config_key)
            continue;
        if (!d->reconfigure) {
            kept++;
            gr_log_info(slot->ctx.log, "has no reconfigure callback: restart to apply its config changes");
            continue;
        }
        const gr_config_t *section = gr_config_doc_section(doc, d->config_key);
        gr_error_t rerr = {0};
        if (d->reconfigure(&slot->ctx, section, &rerr) != 0) {
            kept++;
            gr_log_error(slot->ctx.log, "reconfigure failed, keeping its previous config: %s",
                         rerr.message);
            continue;
        }
        slot->ctx.config = section;
        gr__doc_unref(slot->config_ref);
        slot->config_ref = ref;
        ref->refs++;
        applied++;
    }
    gr__doc_unref(old);
    gr_log_info(host->log, "config reloaded: %zu modules reconfigured, %zu kept their config",
                applied, kept);
    gr_sd_notify("READY=1");
}

/* ---- shutdown ---------------------------------------------------------------- */

static void gr__close_handle(uv_handle_t *h)
{
    if (h->loop && !uv_is_closing(h))
        uv_close(h, NULL);
}

static void gr__after_plugins(gr_host_t *host)
{
    gr__close_handle((uv_handle_t *)&host->sig_term);
    gr__close_handle((uv_handle_t *)&host->sig_int);
    gr__close_handle((uv_handle_t *)&host->sig_hup);
    gr__close_handle((uv_handle_t *)&host->tick);
}

static void gr__on_database_stopped(void *user_data, int status, const gr_error_t *err)
{
    gr_host_t *host = user_data;
    if (status != 0)
        gr_log_warn(host->log, "database: stop: %s", err ? err->message : gr_status_name(status));
    gr__after_plugins(host);
}

static void gr__on_work_drained(void *user_data)
{
    gr_host_t *host = user_data;
    for (size_t k = host->nslots; k-- > 0;) {
        gr_slot_t *slot = &host->slots[host->order[k]];
        if (slot->state == GR_SLOT_INITIALIZED && slot->file.desc->shutdown)
            slot->file.desc->shutdown(&slot->ctx);
        if (slot->state == GR_SLOT_INITIALIZED)
            slot->state = GR_SLOT_STOPPED;
    }
    if (host->db)
        gr_db_service_stop(host->db, gr__on_database_stopped, host);
    else
        gr__after_plugins(host);
}

/* Queued thread-pool work is cancelled and running work finishes before any
 * plugin shuts down, so no completion runs into a freed plugin. */
static void gr__on_scheduler_stopped(void *user_data)
{
    gr_host_t *host = user_data;
    /* Outbound calls still in flight end now, with GR_ERR_CANCELED, while
     * the plugins that made them are still there to hear it. */
    if (host->github)
        gr_github_client_shutdown(host->github);
    if (host->http_client)
        gr_http_client_shutdown(host->http_client);
    gr_work_pool_cancel_all(host->work, gr__on_work_drained, host);
}

static void gr__on_drained(void *user_data)
{
    gr_host_t *host = user_data;
    gr_scheduler_host_stop(host->scheduler, gr__on_scheduler_stopped, host);
}

static void gr__begin_shutdown(gr_host_t *host, int exit_code)
{
    if (host->phase == GR_HOST_STOPPING)
        return;
    host->phase = GR_HOST_STOPPING;
    host->exit_code = exit_code;
    gr_sd_notify("STOPPING=1");
    gr_log_info(host->log, "shutting down");
    gr_hook_list_run(&host->shutdown_hooks);
    if (host->http)
        gr_http_server_shutdown(host->http, host->shutdown_timeout_ms, gr__on_drained, host);
    else
        gr__after_plugins(host);
}

static void gr__on_signal(uv_signal_t *handle, int signum)
{
    gr_host_t *host = handle->data;
    if (signum == SIGHUP) {
        if (host->phase == GR_HOST_RUNNING)
            gr__reload(host);
        return;
    }
    if (host->phase == GR_HOST_STOPPING) {
        gr_log_warn(host->log, "second %s: exiting without waiting", strsignal(signum));
        _exit(128 + signum);
    }
    gr_log_info(host->log, "%s received", strsignal(signum));
    gr__begin_shutdown(host, 0);
}

/* ---- the whole run ----------------------------------------------------------- */

void gr_host_default_module_dirs(gr_strvec_t *dirs)
{
    const char *env = getenv("GREENROOM_MODULE_PATH");
    if (env && *env) {
        char *copy = gr_xstrdup(env), *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
            gr_strvec_push(dirs, dir);
        free(copy);
    }
    char exe[4096];
    size_t len = sizeof exe;
    if (uv_exepath(exe, &len) == 0) {
        char *dir = dirname(exe);
        gr_strvec_pushf(dirs, "%s/modules", dir);
    }
    gr_strvec_push(dirs, GR_MODULE_INSTALL_DIR);
}

/* Frees the services that own loop handles; the loop must run once more
 * afterwards so their handles finish closing. */
static void gr__host_free_services(gr_host_t *host)
{
    if (host->http)
        gr_http_server_free(host->http);
    if (host->scheduler)
        gr_scheduler_host_free(host->scheduler);
    if (host->work)
        gr_work_pool_free(host->work);
    if (host->db)
        gr_db_service_free(host->db);
    if (host->github)
        gr_github_client_free(host->github);
    if (host->http_client)
        gr_http_client_free(host->http_client);
    host->db = NULL;
    host->github = NULL;
    host->http_client = NULL;
    host->http = NULL;
    host->scheduler = NULL;
    host->work = NULL;
}

static void gr__host_free(gr_host_t *host)
{
    for (size_t i = 0; i < host->nslots; i++) {
        gr_slot_t *slot = &host->slots[i];
        gr_log_free(slot->ctx.log);
        gr__doc_unref(slot->config_ref);
        free(slot->failure);
        free(slot->health_message);
    }
    if (host->routes)
        gr_route_table_free(host->routes);
    gr_strvec_free(&host->mounts);
    /* Close the shared objects last: nothing of theirs may run after this. */
    for (size_t i = 0; i < host->nslots; i++)
        gr_loader_close(&host->slots[i].file);
    free(host->slots);
    free(host->order);
    for (size_t i = 0; i < host->npoints; i++)
        free(host->points[i].name);
    free(host->points);
    gr_hook_list_free(&host->started_hooks);
    gr_hook_list_free(&host->shutdown_hooks);
    if (host->metrics)
        gr_metrics_free(host->metrics);
    gr__doc_unref(host->config);
    free(host->listen_host);
    free(host->unhealthy);
}

int gr_host_serve(const gr_host_options_t *options)
{
    gr_host_t host = {0};
    host.options = options;
    host.start_ms = gr_now_ms();
    host.log = gr_log_root_new(stderr, GR_LOG_INFO, GR_LOG_FORMAT_PRETTY);
    uv_loop_init(&host.loop);

    uv_signal_init(&host.loop, &host.sig_term);
    uv_signal_init(&host.loop, &host.sig_int);
    uv_signal_init(&host.loop, &host.sig_hup);
    host.sig_term.data = host.sig_int.data = host.sig_hup.data = &host;
    uv_signal_start(&host.sig_term, gr__on_signal, SIGTERM);
    uv_signal_start(&host.sig_int, gr__on_signal, SIGINT);
    uv_signal_start(&host.sig_hup, gr__on_signal, SIGHUP);

    int rc = gr__start(&host);

    host.watchdog_ms = gr_sd_watchdog_interval_ms();
    host.tick_interval_ms = host.watchdog_ms && host.watchdog_ms < 1000 ? host.watchdog_ms : 1000;
    host.tick_expected_ms = uv_now(&host.loop) + host.tick_interval_ms;
    uv_timer_init(&host.loop, &host.tick);
    host.tick.data = &host;
    uv_timer_start(&host.tick, gr__on_tick, host.tick_interval_ms, host.tick_interval_ms);
    /* The tick must not keep the loop alive on its own during shutdown. */
    uv_unref((uv_handle_t *)&host.tick);

    if (rc != 0) {
        gr_sd_notify("STATUS=start-up failed");
        gr__begin_shutdown(&host, 1);
    }
    uv_run(&host.loop, UV_RUN_DEFAULT);
    gr__host_free_services(&host);
    uv_run(&host.loop, UV_RUN_DEFAULT);

    int exit_code = host.exit_code;
    gr__host_free(&host);
    if (uv_loop_close(&host.loop) != 0)
        gr_log_warn(host.log, "event loop closed with handles still open");
    gr_log_info(host.log, "stopped");
    gr_log_free(host.log);
    return exit_code;
}

/* ---- what the host's routes read ------------------------------------------- */

gr_host_phase_t gr_host_phase(const gr_host_t *host) { return host->phase; }
gr_metrics_t *gr_host_metrics(gr_host_t *host) { return host->metrics; }

const char *gr_host_unhealthy(gr_host_t *host)
{
    gr_buf_t b = {0};
    if (host->db && !gr_db_service_ready(host->db))
        gr_buf_printf(&b, "database: %s", gr_db_service_status(host->db));
    for (size_t i = 0; i < host->nslots; i++) {
        gr_slot_t *slot = &host->slots[i];
        if (slot->state == GR_SLOT_FAILED)
            gr_buf_printf(&b, "%s%s: %s", b.len ? "; " : "", slot->file.display_id,
                          slot->failure ? slot->failure : "failed");
        else if (!slot->healthy)
            gr_buf_printf(&b, "%s%s: %s", b.len ? "; " : "", slot->file.display_id,
                          slot->health_message ? slot->health_message : "unhealthy");
    }
    free(host->unhealthy);
    host->unhealthy = b.len ? gr_buf_steal(&b) : NULL;
    gr_buf_free(&b);
    return host->unhealthy;
}

static const char *gr__slot_status(const gr_slot_t *slot)
{
    switch (slot->state) {
    case GR_SLOT_INITIALIZED: return "running";
    case GR_SLOT_FAILED: return "failed";
    case GR_SLOT_STOPPED: return "stopped";
    default: return "starting";
    }
}

struct json_object *gr_host_describe(const gr_host_t *host)
{
    struct json_object *root = json_object_new_object();
    json_object_object_add(root, "version", json_object_new_string(GR_HOST_VERSION));
    struct json_object *plugins = json_object_new_array();
    for (size_t k = 0; k < host->nslots; k++) {
        const gr_slot_t *p = &host->slots[host->order[k]];
        if (p->file.desc->kind != GR_KIND_PLUGIN)
            continue;
        struct json_object *po = json_object_new_object();
        json_object_object_add(po, "pluginId", json_object_new_string(p->file.desc->plugin_id));
        json_object_object_add(po, "version", json_object_new_string(p->file.desc->version ? p->file.desc->version : ""));
        json_object_object_add(po, "status", json_object_new_string(gr__slot_status(p)));
        if (p->failure)
            json_object_object_add(po, "error", json_object_new_string(p->failure));
        struct json_object *modules = json_object_new_array();
        for (size_t j = 0; j < host->nslots; j++) {
            const gr_slot_t *m = &host->slots[host->order[j]];
            if (m->file.desc->kind != GR_KIND_MODULE || strcmp(m->file.desc->plugin_id, p->file.desc->plugin_id) != 0)
                continue;
            struct json_object *mo = json_object_new_object();
            json_object_object_add(mo, "moduleId", json_object_new_string(m->file.desc->module_id));
            json_object_object_add(mo, "version", json_object_new_string(m->file.desc->version ? m->file.desc->version : ""));
            json_object_object_add(mo, "status", json_object_new_string(gr__slot_status(m)));
            if (m->failure)
                json_object_object_add(mo, "error", json_object_new_string(m->failure));
            json_object_array_add(modules, mo);
        }
        json_object_object_add(po, "modules", modules);
        json_object_array_add(plugins, po);
    }
    json_object_object_add(root, "plugins", plugins);
    return root;
}
