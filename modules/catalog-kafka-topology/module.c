/* modules/catalog-kafka-topology/module.c: the Kafka topology in the
 * catalog.  A module of the catalog plugin that listens to the
 * kafka-topology plugin ("kafka-topology.listener") and is an entity
 * provider of the catalog ("catalog.entity-provider"), named
 * "kafka-topology".
 *
 * Why a module of its own: the kafka-topology plugin must not need the
 * catalog (the loader refuses a plugin whose extension points have no
 * owner loaded), and using both points from here makes the loader init
 * this module before both plugins, which is what each of them expects of
 * a user of its point.  kafkaTopology.catalogMapping (the plugin's
 * section) switches the mapping on; turned off, the module withdraws the
 * entities it emitted.
 *
 * For each new model: read the catalog's Components through the
 * extension point (catalog_entities_read: only the fields the matching
 * needs), build the entities on the thread pool (mapping.c), apply them as
 * one full mutation, and report the result to the plugin's status and the
 * catalog's provider status.  Models arriving while one is mapped wait;
 * only the newest is mapped next.  The Components change on their own
 * schedule (another provider's sync): every COMPONENTS_POLL_MS the module
 * asks the catalog for the revision of the same read and maps the model
 * again when it differs from the one the last mapping read, so a Component
 * added, changed or removed after the topics were mapped is matched without
 * waiting for the next topology sync.  The fields leave relations out, so
 * the dependsOn relations a mapping gives the Components do not count as a
 * change of them. */
#include <stdlib.h>
#include <string.h>

#include <json.h>
#include <uv.h>

#include "catalog_provider.h"
#include "kafka_mapping.h"
#include "kafka_topology_api.h"

#define PROVIDER_NAME "kafka-topology"

#define COMPONENTS_POLL_MS 10000

/* What the mapping reads of the catalog, for the read and its revision
 * alike: the Components' refs, names and annotations. */
#define COMPONENTS_FILTER "kind=component"
#define COMPONENTS_FIELDS "kind,metadata.name,metadata.namespace,metadata.annotations"

typedef struct ckt {
    gr_context_t *ctx;
    const catalog_provider_api_t *catalog;
    catalog_provider_t *provider;
    const kafka_topology_api_t *kafka;
    kafka_listener_t *listener;
    int refs; /* one until shutdown, one per run */
    int stopping;

    /* The newest model not mapped yet, and its mapping settings. */
    const kafka_snapshot_t *pending;
    int pending_enabled;
    char *pending_owner;
    int running;
    int withdrawn; /* the empty set was applied since the mapping was turned off */

    /* The model mapped last, and the revision of the Components it was
     * matched against ("" when they could not be read). */
    const kafka_snapshot_t *current;
    char *current_owner;
    char *revision;
    uv_timer_t poll;
    int polling; /* a revision query is in flight */
} ckt_t;

typedef struct ckt_run {
    ckt_t *m;
    const kafka_snapshot_t *snap;
    int enabled;
    char *owner;
    uint64_t start_ms;
    struct json_object *components; /* as read, until the worker turns them into comps */
    km_components_t comps;
    char *revision;
    km_result_t result;
} ckt_run_t;

static void ckt_ref(ckt_t *m)
{
    m->refs++;
}

static void ckt_unref(ckt_t *m)
{
    if (--m->refs > 0)
        return;
    /* Only now: a run that ended after shutdown still released its
     * snapshot through the plugin's API, which listening keeps alive. */
    if (m->current)
        kafka_snapshot_release(m->kafka, m->current);
    kafka_topology_unlisten(m->kafka, m->listener);
    free(m->pending_owner);
    free(m->current_owner);
    free(m->revision);
    free(m);
}

static void poll_closed(uv_handle_t *h)
{
    ckt_unref(h->data);
}

static void run_next(ckt_t *m);

/* Ends a run; a successful mapping becomes the one the poll compares with. */
static void run_end(ckt_run_t *run, int mapped)
{
    ckt_t *m = run->m;
    if (mapped && run->enabled && !m->stopping) {
        if (m->current)
            kafka_snapshot_release(m->kafka, m->current);
        m->current = run->snap;
        run->snap = NULL;
        free(m->current_owner);
        m->current_owner = run->owner;
        run->owner = NULL;
        free(m->revision);
        m->revision = run->revision;
        run->revision = NULL;
    }
    if (run->snap)
        kafka_snapshot_release(m->kafka, run->snap);
    if (run->components)
        json_object_put(run->components);
    free(run->revision);
    km_components_free(&run->comps);
    km_result_free(&run->result);
    free(run->owner);
    free(run);
    m->running = 0;
    if (!m->stopping)
        run_next(m);
    ckt_unref(m);
}

static struct json_object *report_of(ckt_run_t *run, const catalog_mutation_result_t *res)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "enabled", json_object_new_boolean(run->enabled));
    json_object_object_add(o, "generation",
                           json_object_new_int64(run->snap ? (int64_t)run->snap->generation : 0));
    json_object_object_add(o, "status",
                           json_object_new_string(res->status == 0 ? "succeeded" : "failed"));
    if (res->status != 0)
        json_object_object_add(o, "error", json_object_new_string(res->message));
    json_object_object_add(o, "resources", json_object_new_int64((int64_t)run->result.nentities));
    json_object_object_add(o, "dependencyOf",
                           json_object_new_int64((int64_t)run->result.relations));
    json_object_object_add(o, "services", json_object_new_int64((int64_t)run->result.services));
    json_object_object_add(o, "matchedServices",
                           json_object_new_int64((int64_t)run->result.matched));
    struct json_object *unmatched = json_object_new_array();
    for (size_t i = 0; i < run->result.unmatched.len && i < 50; i++)
        json_object_array_add(unmatched, json_object_new_string(run->result.unmatched.items[i]));
    json_object_object_add(o, "unmatchedServices", unmatched);
    struct json_object *counts = json_object_new_object();
    json_object_object_add(counts, "added", json_object_new_int64((int64_t)res->added));
    json_object_object_add(counts, "updated", json_object_new_int64((int64_t)res->updated));
    json_object_object_add(counts, "removed", json_object_new_int64((int64_t)res->removed));
    json_object_object_add(counts, "unchanged", json_object_new_int64((int64_t)res->unchanged));
    json_object_object_add(o, "counts", counts);
    struct json_object *rejected = json_object_new_array();
    for (size_t i = 0; i < res->nrejected && i < 50; i++) {
        const catalog_rejection_t *rj = &res->rejected[i];
        struct json_object *r = json_object_new_object();
        if (rj->index < run->result.nentities && run->result.entities[rj->index].path) {
            const km_entity_t *ke = &run->result.entities[rj->index];
            char *where = gr_xasprintf("%s:%u", ke->path, ke->line);
            json_object_object_add(r, "where", json_object_new_string(where));
            free(where);
        }
        json_object_object_add(r, "message", json_object_new_string(rj->message));
        json_object_array_add(rejected, r);
    }
    json_object_object_add(o, "rejected", rejected);
    json_object_object_add(o, "durationMs",
                           json_object_new_int64((int64_t)(gr_now_ms() - run->start_ms)));
    return o;
}

static void applied(const catalog_mutation_result_t *res, void *ud)
{
    ckt_run_t *run = ud;
    ckt_t *m = run->m;
    if (!m->stopping) {
        struct json_object *report = report_of(run, res);
        kafka_topology_report_status(m->kafka, m->listener, report);
        catalog_provider_status_save(m->catalog, m->provider, report, NULL, NULL);
        json_object_put(report);
        if (res->status != 0)
            gr_log_warn(m->ctx->log, "the catalog did not apply the Kafka topics: %s",
                        res->message);
        else
            gr_log_info(m->ctx->log,
                        "mapped %zu topics of generation %llu: %zu dependencyOf refs, %zu of %zu "
                        "services matched a Component; %zu added, %zu updated, %zu removed, "
                        "%zu rejected",
                        run->result.nentities,
                        (unsigned long long)(run->snap ? run->snap->generation : 0),
                        run->result.relations, run->result.matched, run->result.services,
                        res->added, res->updated, res->removed, res->nrejected);
        if (res->status == 0 && !run->enabled)
            m->withdrawn = 1;
    }
    run_end(run, res->status == 0);
}

static void apply(ckt_run_t *run)
{
    ckt_t *m = run->m;
    size_t n = run->result.nentities;
    catalog_entity_input_t *inputs = gr_xcalloc(n + 1, sizeof *inputs);
    for (size_t i = 0; i < n; i++) {
        km_entity_t *ke = &run->result.entities[i];
        inputs[i] = (catalog_entity_input_t){ke->entity, ke->location, ke->path, ke->line};
        ke->entity = NULL; /* the mutation takes it over */
    }
    catalog_provider_apply_full(m->catalog, m->provider, inputs, n, applied, run);
    free(inputs);
}

static void build_work(void *arg)
{
    ckt_run_t *run = arg;
    km_components_from_entities(&run->comps, run->components);
    json_object_put(run->components);
    run->components = NULL;
    km_build(run->snap->topology, run->snap->location_prefix, &run->comps, run->owner,
             &run->result);
}

static void built(void *arg, int status)
{
    ckt_run_t *run = arg;
    if (status != 0 || run->m->stopping) {
        run_end(run, 0);
        return;
    }
    apply(run);
}

/* Maps the model with the Components read (none when they could not be
 * read: the topics are still worth mapping, and the poll maps them again
 * once the Components can be read). */
static void build(ckt_run_t *run)
{
    gr_error_t err = {0};
    if (gr_work_submit(run->m->ctx, build_work, built, run, &err) != 0)
        run_end(run, 0);
}

static void components_read(struct json_object *entities, const char *revision,
                            const gr_error_t *err, void *ud)
{
    ckt_run_t *run = ud;
    ckt_t *m = run->m;
    if (m->stopping || (err && err->code == GR_ERR_CANCELED)) {
        run_end(run, 0);
        return;
    }
    if (err)
        gr_log_warn(m->ctx->log, "reading the catalog's Components failed: %s", err->message);
    run->components = err ? NULL : json_object_get(entities);
    run->revision = gr_xstrdup(err ? "" : revision);
    build(run);
}

static void run_next(ckt_t *m)
{
    if (m->running || !m->pending)
        return;
    ckt_run_t *run = gr_xcalloc(1, sizeof *run);
    run->m = m;
    run->snap = m->pending;
    run->enabled = m->pending_enabled;
    run->owner = m->pending_owner;
    run->start_ms = gr_now_ms();
    m->pending = NULL;
    m->pending_owner = NULL;
    m->running = 1;
    ckt_ref(m);
    if (!run->enabled) {
        /* Off: withdraw what an earlier run emitted, once. */
        if (m->withdrawn) {
            run_end(run, 0);
            return;
        }
        apply(run);
        return;
    }
    m->withdrawn = 0;
    gr_error_t err = {0};
    if (catalog_entities_read(m->catalog, COMPONENTS_FILTER, COMPONENTS_FIELDS, components_read,
                              run, &err) != 0) {
        gr_log_warn(m->ctx->log, "reading the catalog's Components failed: %s", err.message);
        run->revision = gr_xstrdup("");
        build(run);
    }
}

static void on_snapshot(const kafka_snapshot_t *snap, const kafka_catalog_mapping_t *mapping,
                        void *ud)
{
    ckt_t *m = ud;
    if (m->stopping)
        return;
    if (m->pending)
        kafka_snapshot_release(m->kafka, m->pending);
    m->pending = kafka_snapshot_hold(m->kafka, snap);
    m->pending_enabled = mapping->enabled;
    free(m->pending_owner);
    m->pending_owner = gr_xstrdup(mapping->owner ? mapping->owner : "group:default/kafka-platform");
    run_next(m);
}

static void revision_read(const char *revision, const gr_error_t *err, void *ud)
{
    ckt_t *m = ud;
    m->polling = 0;
    (void)err; /* the next poll asks again */
    if (!m->stopping && revision && m->current && !m->pending && !m->running && m->revision &&
        strcmp(revision, m->revision) != 0) {
        gr_log_info(m->ctx->log, "the catalog's Components changed: mapping the topics again");
        m->pending = kafka_snapshot_hold(m->kafka, m->current);
        m->pending_enabled = 1;
        free(m->pending_owner);
        m->pending_owner = gr_xstrdup(m->current_owner);
        run_next(m);
    }
    ckt_unref(m);
}

static void on_poll(uv_timer_t *t)
{
    ckt_t *m = t->data;
    if (m->stopping || m->polling || m->running || !m->current)
        return;
    gr_error_t err = {0};
    if (catalog_entities_revision(m->catalog, COMPONENTS_FILTER, COMPONENTS_FIELDS, revision_read,
                                  m, &err) != 0) {
        gr_log_warn(m->ctx->log, "asking the catalog whether its Components changed failed: %s",
                    err.message);
        return;
    }
    m->polling = 1;
    ckt_ref(m);
}

static int ckt_init(gr_context_t *ctx, gr_error_t *err)
{
    const catalog_provider_api_t *catalog =
        gr_extension_point_get(ctx, CATALOG_ENTITY_PROVIDER_POINT);
    const kafka_topology_api_t *kafka = gr_extension_point_get(ctx, KAFKA_TOPOLOGY_LISTENER_POINT);
    if (!catalog || !kafka)
        return gr_error_set(err, GR_ERR_UNAVAILABLE,
                            "the catalog's entity-provider and kafka-topology's listener extension "
                            "points are both needed: load catalog and kafka-topology");
    if (!CATALOG_API_HAS(catalog, entities_read) || !CATALOG_API_HAS(catalog, entities_revision))
        return gr_error_set(err, GR_ERR_UNSUPPORTED,
                            "the catalog loaded is too old to let modules read its Components: "
                            "update the catalog module with this one");
    ckt_t *m = gr_xcalloc(1, sizeof *m);
    m->ctx = ctx;
    m->catalog = catalog;
    m->kafka = kafka;
    m->refs = 1;
    m->provider = catalog_provider_connect(catalog, ctx, PROVIDER_NAME, err);
    if (m->provider)
        m->listener = kafka_topology_listen(kafka, on_snapshot, m, err);
    if (!m->provider || !m->listener) {
        free(m);
        return err->code ? err->code : GR_ERR_INTERNAL;
    }
    ctx->state = m;
    uv_timer_init(ctx->loop, &m->poll);
    m->poll.data = m;
    ckt_ref(m); /* until the timer is closed */
    uv_timer_start(&m->poll, on_poll, COMPONENTS_POLL_MS, COMPONENTS_POLL_MS);
    return 0;
}

static void ckt_shutdown(gr_context_t *ctx)
{
    ckt_t *m = ctx->state;
    if (!m)
        return;
    m->stopping = 1;
    if (m->pending)
        kafka_snapshot_release(m->kafka, m->pending);
    m->pending = NULL;
    uv_close((uv_handle_t *)&m->poll, poll_closed);
    ctx->state = NULL;
    ckt_unref(m);
}

static const char *const ckt_uses[] = {CATALOG_ENTITY_PROVIDER_POINT, KAFKA_TOPOLOGY_LISTENER_POINT,
                                       NULL};

static const gr_module_descriptor_t ckt_module = {
    GR_DESCRIPTOR_HEADER,
    .kind = GR_KIND_MODULE,
    .plugin_id = "catalog",
    .module_id = "kafka-topology",
    .version = "0.1.0",
    .description = "Entity provider: Kafka topics as Resource entities, with dependsOn relations "
                   "from the Components that produce and consume them",
    .extension_points = ckt_uses,
    .init = ckt_init,
    .shutdown = ckt_shutdown,
};
GR_MODULE_EXPORT(ckt_module)
