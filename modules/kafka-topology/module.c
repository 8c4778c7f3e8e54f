/* modules/kafka-topology/module.c: the kafka-topology plugin: descriptor,
 * config schema, life cycle, the model it serves and the
 * "kafka-topology.listener" extension point.
 *
 * The plugin syncs a repository of Kafka topology files (JulieOps,
 * kafka-gitops, Strimzi, the plain format) on a schedule into its own
 * tables, keeps the latest model in memory for the API, and hands each new
 * model to its listeners.  At start it loads the stored model; every
 * pollInterval it checks whether another host stored a newer one, so hosts
 * sharing a database serve the same model whichever of them synced.
 *
 * Mapping topics into the catalog is the job of a separate module of the
 * catalog plugin (catalog-kafka-topology), which listens here: that way
 * this plugin runs without the catalog, and the catalog without it. */
#include <stdlib.h>
#include <string.h>

#include "kafka_plugin.h"

/* Compiled from migrations/NNN_name.sql by greenroom_module_migrations. */
extern const gr_migration_t kafka_topology_migrations[];

#define DEFAULT_INCLUDE "**/*.{yaml,yml,json}"
#define DEFAULT_OWNER "group:default/kafka-platform"

static const char *const formats[] = {
    "auto", "julieops", "julieops-plans", "kafka-gitops", "strimzi", "plain", NULL};

static const gr_config_field_t format_by_glob[] = {
    {.key = "*",
     .type = GR_CONFIG_STRING,
     .enum_values = formats,
     .description = "the format of the files this glob matches"},
    {0}};

static const gr_config_field_t mapping_fields[] = {
    {.key = "enabled",
     .type = GR_CONFIG_BOOL,
     .default_value = "false",
     .description = "each topic becomes a Resource of type kafka-topic in the catalog (needs the "
                    "catalog-kafka-topology module)"},
    {.key = "owner",
     .type = GR_CONFIG_STRING,
     .default_value = DEFAULT_OWNER,
     .description = "spec.owner of the topics' Resource entities"},
    {0}};

static const gr_config_field_t kafka_fields[] = {
    {.key = "source",
     .type = GR_CONFIG_OBJECT,
     .flags = GR_CONFIG_REQUIRED,
     .fields = cc_source_fields,
     .description = "where the topology files are: {type: directory|git|github, ...}"},
    {.key = "include",
     .type = GR_CONFIG_ANY,
     .description = "a glob or a list of globs of topology files (default " DEFAULT_INCLUDE ")"},
    {.key = "exclude", .type = GR_CONFIG_ANY, .description = "globs of files to skip"},
    {.key = "format",
     .type = GR_CONFIG_STRING,
     .default_value = "auto",
     .enum_values = formats,
     .description = "the format of every file no `formats` glob names; auto detects it"},
    {.key = "formats",
     .type = GR_CONFIG_OBJECT,
     .fields = format_by_glob,
     .description = "glob: format, the first matching glob wins"},
    {.key = "defaultCluster",
     .type = GR_CONFIG_STRING,
     .default_value = "default",
     .description = "the cluster of files that name none (JulieOps)"},
    {.key = "topicSeparator",
     .type = GR_CONFIG_STRING,
     .default_value = ".",
     .description = "JulieOps topic name separator"},
    {.key = "schedule", .type = GR_CONFIG_OBJECT, .fields = cc_schedule_fields},
    {.key = "pollInterval",
     .type = GR_CONFIG_DURATION,
     .default_value = "{seconds: 10}",
     .description = "how often to look for a model another host stored; 0: never"},
    {.key = "maxFileBytes", .type = GR_CONFIG_INT, .default_value = "16777216"},
    {.key = "catalogMapping", .type = GR_CONFIG_OBJECT, .fields = mapping_fields},
    {0}};

/* ---- the plugin's life ------------------------------------------------------------------- */

void kt_plugin_ref(kt_plugin_t *p)
{
    p->refs++;
}

void kt_plugin_unref(kt_plugin_t *p)
{
    if (--p->refs > 0)
        return;
    cc_sync_free(&p->sync);
    cc_source_free(&p->source);
    kt_options_free(&p->options);
    kt_model_unref(p->model);
    free(p->mapping_owner);
    free(p);
}

/* ---- the extension point ------------------------------------------------------------------- */

static kafka_listener_t *ep_listen(const kafka_topology_api_t *api, kafka_snapshot_fn fn,
                                   void *user_data, gr_error_t *err)
{
    (void)err;
    kt_plugin_t *p = api->plugin;
    kafka_listener_t *l = gr_xcalloc(1, sizeof *l);
    *l = (kafka_listener_t){.plugin = p, .fn = fn, .user_data = user_data};
    kafka_listener_t **at = &p->listeners;
    while (*at)
        at = &(*at)->next;
    *at = l;
    kt_plugin_ref(p);
    return l;
}

static void ep_unlisten(kafka_listener_t *l)
{
    kt_plugin_t *p = l->plugin;
    for (kafka_listener_t **at = &p->listeners; *at; at = &(*at)->next) {
        if (*at == l) {
            *at = l->next;
            break;
        }
    }
    if (l->report)
        json_object_put(l->report);
    free(l);
    kt_plugin_unref(p);
}

static const kafka_snapshot_t *ep_hold(const kafka_snapshot_t *snap)
{
    /* The snapshot is the first member of its model. */
    kt_model_ref((kt_model_t *)(void *)snap);
    return snap;
}

static void ep_release(const kafka_snapshot_t *snap)
{
    kt_model_unref((kt_model_t *)(void *)snap);
}

static void ep_report(kafka_listener_t *l, struct json_object *status)
{
    if (l->report)
        json_object_put(l->report);
    l->report = NULL;
    if (status)
        json_object_deep_copy(status, &l->report, NULL);
}

/* ---- the model served ------------------------------------------------------------------------ */

void kt_plugin_publish(kt_plugin_t *p, kt_model_t *m)
{
    if (p->stopping || (p->model && m->pub.generation <= p->model->pub.generation)) {
        kt_model_unref(m);
        return;
    }
    kt_model_unref(p->model);
    p->model = m;
    kt_model_graph_warm(p, m);
    /* A listener may stop listening from its callback. */
    for (kafka_listener_t *l = p->listeners, *next; l; l = next) {
        next = l->next;
        l->fn(&m->pub, &p->mapping, l->user_data);
    }
}

typedef struct load {
    kt_plugin_t *p;
    char *json[KT_TABLES];
    uint64_t generation;
    char *location_prefix;
    char *revision;
    int64_t synced_wall_ms;
    kt_model_t *model;
    gr_error_t err;
    uint64_t start_ms;
} load_t;

static void load_free(load_t *l)
{
    for (int i = 0; i < KT_TABLES; i++)
        free(l->json[i]);
    free(l->location_prefix);
    free(l->revision);
    kt_model_unref(l->model);
    free(l);
}

static void load_work(void *arg)
{
    load_t *l = arg;
    kafka_options_t opts = {
        .default_cluster = l->p->options.default_cluster,
        .separator = l->p->options.separator,
    };
    kafka_topology_t *t = kt_rows_restore((const char *const *)l->json, &opts, &l->err);
    if (t)
        l->model =
            kt_model_new(t, l->generation, l->location_prefix, l->revision, l->synced_wall_ms);
}

static void load_done(void *arg, int status)
{
    load_t *l = arg;
    kt_plugin_t *p = l->p;
    p->loading = 0;
    if (!p->stopping) {
        if (status == 0 && l->model) {
            gr_log_info(p->ctx->log,
                        "loaded the stored model (generation %llu): %zu topics, %zu edges in %llu "
                        "ms",
                        (unsigned long long)l->generation, l->model->topology->ntopics,
                        l->model->topology->nedges,
                        (unsigned long long)(gr_now_ms() - l->start_ms));
            kt_model_t *m = l->model;
            l->model = NULL;
            kt_plugin_publish(p, m);
        } else if (status == 0) {
            gr_log_error(p->ctx->log, "%s", l->err.message);
        }
    }
    load_free(l);
    kt_plugin_unref(p);
}

static void model_loaded(kt_plugin_t *p, const char *const json[KT_TABLES], uint64_t generation,
                         const char *location_prefix, const char *revision, int64_t synced_wall_ms,
                         const gr_error_t *err, void *ud)
{
    load_t *l = ud;
    if (p->stopping || err || generation == 0 ||
        (p->model && generation <= p->model->pub.generation)) {
        if (err && !p->stopping)
            gr_log_warn(p->ctx->log, "%s", err->message);
        p->loading = 0;
        load_free(l);
        kt_plugin_unref(p);
        return;
    }
    for (int i = 0; i < KT_TABLES; i++)
        l->json[i] = json[i] ? gr_xstrdup(json[i]) : NULL;
    l->generation = generation;
    l->location_prefix = location_prefix ? gr_xstrdup(location_prefix) : NULL;
    l->revision = revision ? gr_xstrdup(revision) : NULL;
    l->synced_wall_ms = synced_wall_ms;
    gr_error_t werr = {0};
    if (gr_work_submit(p->ctx, load_work, load_done, l, &werr) != 0)
        load_done(l, werr.code ? werr.code : GR_ERR_CANCELED);
}

void kt_plugin_load(kt_plugin_t *p)
{
    if (p->loading || p->stopping)
        return;
    p->loading = 1;
    load_t *l = gr_xcalloc(1, sizeof *l);
    l->p = p;
    l->start_ms = gr_now_ms();
    kt_plugin_ref(p);
    kt_store_load(p, model_loaded, l);
}

static void generation_polled(kt_plugin_t *p, uint64_t generation, const gr_error_t *err, void *ud)
{
    (void)ud;
    if (p->stopping || err)
        return;
    if (generation > (p->model ? p->model->pub.generation : 0) && !p->sync.run)
        kt_plugin_load(p);
}

static void on_poll(uv_timer_t *t)
{
    kt_plugin_t *p = t->data;
    if (!p->stopping && !p->loading && !p->sync.run)
        kt_store_generation(p, generation_polled, NULL);
}

static void poll_closed(uv_handle_t *h)
{
    kt_plugin_unref(h->data);
}

/* ---- config --------------------------------------------------------------------------------- */

static int read_format(const gr_config_t *node, kafka_format_t *out, gr_error_t *err)
{
    gr_error_t ferr = {0};
    if (kafka_format_from_name(gr_config_string(node, NULL, "auto"), out, &ferr) == 0)
        return 0;
    char where[256];
    gr_config_where(node, where, sizeof where);
    return gr_error_set(err, GR_ERR_INVALID, "%s: %s", where, ferr.message);
}

static int read_config(kt_plugin_t *p, const gr_config_t *cfg, gr_error_t *err)
{
    kt_options_t *o = &p->options;
    const gr_config_t *source = gr_config_get(cfg, "source");
    if (!source)
        return gr_error_set(err, GR_ERR_INVALID,
                            "kafkaTopology.source is required: where the topology files are, "
                            "for example {type: directory, path: ./kafka}");
    int rc = cc_source_init(&p->source, p->ctx, source, "kafka-topology", "source", &o->files, err);
    if (rc == 0)
        rc = cc_selection_config(cfg, DEFAULT_INCLUDE, &o->files, err);
    if (rc == 0)
        rc = read_format(gr_config_get(cfg, "format"), &o->format, err);
    const gr_config_t *rules = gr_config_get(cfg, "formats");
    o->formats = gr_xcalloc(gr_config_size(rules) + 1, sizeof *o->formats);
    for (size_t i = 0; rc == 0 && i < gr_config_size(rules); i++) {
        kt_format_rule_t *r = &o->formats[o->nformats++];
        r->glob = gr_xstrdup(gr_config_key_at(rules, i));
        rc = read_format(gr_config_at(rules, i), &r->format, err);
    }
    o->default_cluster = gr_xstrdup(gr_config_string(cfg, "defaultCluster", "default"));
    o->separator = gr_xstrdup(gr_config_string(cfg, "topicSeparator", "."));
    int64_t max = gr_config_int(cfg, "maxFileBytes", 16777216);
    o->files.max_file_bytes = max > 0 ? (size_t)max : 16777216;
    p->mapping.enabled = gr_config_bool(cfg, "catalogMapping.enabled", 0);
    p->mapping_owner = gr_xstrdup(gr_config_string(cfg, "catalogMapping.owner", DEFAULT_OWNER));
    p->mapping.owner = p->mapping_owner;
    if (rc != 0)
        return rc;
    return cc_schedule_config(cfg, &p->sync.schedule, err);
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static int kt_register(gr_context_t *ctx, gr_error_t *err)
{
    kt_plugin_t *p = gr_xcalloc(1, sizeof *p);
    p->ctx = ctx;
    p->refs = 1;
    cc_sync_init(&p->sync, &kt_sync_ops, p, ctx, &p->source, "");
    p->api = (kafka_topology_api_t){
        .version = KAFKA_TOPOLOGY_API_VERSION,
        .size = sizeof(kafka_topology_api_t),
        .plugin = p,
        .listen = ep_listen,
        .unlisten = ep_unlisten,
        .hold = ep_hold,
        .release = ep_release,
        .report = ep_report,
    };
    ctx->state = p;
    /* Listeners start listening in their init, which runs before ours. */
    return gr_extension_point_provide(ctx, KAFKA_TOPOLOGY_LISTENER_POINT, &p->api, err);
}

static void kt_started(void *user_data)
{
    kt_plugin_t *p = user_data;
    if (p->mapping.enabled && !p->listeners)
        gr_log_warn(p->ctx->log,
                    "catalogMapping.enabled is true but nothing maps topics into the catalog: add "
                    "catalog-kafka-topology to modules");
}

static int kt_init(gr_context_t *ctx, gr_error_t *err)
{
    kt_plugin_t *p = ctx->state;
    if (!ctx->db)
        return gr_error_set(err, GR_ERR_UNAVAILABLE,
                            "kafka-topology stores the topology in PostgreSQL: configure "
                            "backend.database (client: embedded needs no set-up)");
    int rc = read_config(p, ctx->config, err);
    if (rc == 0)
        rc = kt_routes_add(p, err);
    if (rc != 0) {
        /* Shutdown is only called after a successful init; listeners keep
         * the state alive until they stop listening. */
        p->stopping = 1;
        ctx->state = NULL;
        kt_plugin_unref(p);
        return rc;
    }

    static const char *const by_result[] = {"result", NULL};
    static const char *const by_severity[] = {"severity", NULL};
    p->syncs_total = gr_metrics_counter(ctx->metrics, "kafka_topology_syncs_total",
                                        "Kafka topology syncs, by result", by_result);
    p->sync_seconds =
        gr_metrics_histogram(ctx->metrics, "kafka_topology_sync_duration_seconds",
                             "Time from a sync's start to its stored model", NULL, NULL, 0);
    p->problems = gr_metrics_gauge(ctx->metrics, "kafka_topology_problems",
                                   "Problems found by the last sync, by severity", by_severity);
    p->topics = gr_metrics_gauge(ctx->metrics, "kafka_topology_topics",
                                 "Topics in the last synced model", NULL);
    gr_lifecycle_on_started(ctx, kt_started, p);

    /* The stored model first; then keep an eye on other hosts' syncs. */
    kt_plugin_load(p);
    uint64_t poll_ms = gr_config_duration_ms(ctx->config, "pollInterval", 10000);
    uv_timer_init(ctx->loop, &p->poll);
    p->poll.data = p;
    p->poll_open = 1;
    kt_plugin_ref(p);
    if (poll_ms)
        uv_timer_start(&p->poll, on_poll, poll_ms, poll_ms);

    /* Last, as a task cannot be removed. */
    return cc_sync_schedule(&p->sync, KT_TASK_ID, err);
}

static void kt_shutdown(gr_context_t *ctx)
{
    kt_plugin_t *p = ctx->state;
    if (!p)
        return;
    p->stopping = 1;
    cc_sync_stop(&p->sync);
    if (p->poll_open) {
        p->poll_open = 0;
        uv_close((uv_handle_t *)&p->poll, poll_closed);
    }
    kt_model_unref(p->model);
    p->model = NULL;
    ctx->state = NULL;
    kt_plugin_unref(p);
}

static const gr_module_descriptor_t kt_descriptor = {
    GR_DESCRIPTOR_HEADER,
    .kind = GR_KIND_PLUGIN,
    .plugin_id = "kafka-topology",
    .version = "0.1.0",
    .description = "Kafka topology: clusters, topics and who produces and consumes what, from "
                   "JulieOps, kafka-gitops, Strimzi and plain files",
    .config_key = "kafkaTopology",
    .config_schema = kafka_fields,
    .migrations = kafka_topology_migrations,
    .register_fn = kt_register,
    .init = kt_init,
    .shutdown = kt_shutdown,
};
GR_MODULE_EXPORT(kt_descriptor)
