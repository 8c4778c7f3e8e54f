/* modules/kafka-topology/routes.c: the API under /api/kafka-topology/:
 *
 *   GET  /clusters                    clusters with brokers and counts
 *   GET  /clusters/:name/graph        the cluster as Cytoscape.js elements
 *   GET  /graph                       every cluster as Cytoscape.js elements
 *   GET  /topics?q=&cluster=&limit=&offset=
 *                                     topics whose name contains q (any case)
 *   GET  /topics/:cluster/:name       a topic with its producers and consumers
 *   GET  /services/:name              what a service (or connector) writes and reads
 *   GET  /status                      the last sync, its problems, this host's view
 *   POST /refresh                     syncs now; 202
 *
 * Everything but /status answers from the model in memory (the last sync's,
 * or the stored one loaded at start), so reads never wait for the
 * database.  Every answer names the model's generation. */
#include <stdlib.h>
#include <string.h>

#include "kafka_plugin.h"

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 1000

/* ---- helpers --------------------------------------------------------------------------------- */

static void add_str(struct json_object *o, const char *key, const char *value)
{
    if (value)
        json_object_object_add(o, key, json_object_new_string(value));
}

static void add_int(struct json_object *o, const char *key, long long value)
{
    json_object_object_add(o, key, json_object_new_int64(value));
}

static void add_pos(struct json_object *o, kafka_pos_t pos)
{
    add_str(o, "file", pos.file);
    if (pos.line)
        add_int(o, "line", pos.line);
}

static struct json_object *body_for(const kt_model_t *m)
{
    struct json_object *o = json_object_new_object();
    add_int(o, "generation", m ? (long long)m->pub.generation : 0);
    return o;
}

/* A query parameter as a number in [lo, hi]; 0 when absent (*out = dflt),
 * -1 after answering 400. */
static int query_int(gr_http_request_t *req, const char *name, long lo, long hi, long dflt,
                     long *out)
{
    const char *s = gr_http_query(req, name, 0);
    *out = dflt;
    if (!s)
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) {
        gr_http_respond_error(req, 400, "%s must be a whole number from %ld to %ld, not '%s'", name,
                              lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static const char *actor_name(const kafka_topology_t *t, kafka_node_kind_t kind, size_t idx)
{
    return kind == KAFKA_NODE_PRINCIPAL ? t->principals[idx].name : t->connectors[idx].name;
}

static const char *actor_kind(const kafka_topology_t *t, kafka_node_kind_t kind, size_t idx)
{
    return kind == KAFKA_NODE_PRINCIPAL ? kafka_kind_name(t->principals[idx].kind) : "connector";
}

/* ---- clusters and graphs ------------------------------------------------------------------------
 */

static void clusters(gr_http_request_t *req, void *ud)
{
    kt_plugin_t *p = ud;
    kt_model_t *m = p->model;
    struct json_object *body = body_for(m), *list = json_object_new_array();
    for (size_t i = 0; m && i < m->topology->nclusters; i++) {
        const kafka_cluster_t *c = &m->topology->clusters[i];
        struct json_object *o = json_object_new_object();
        add_str(o, "name", c->name);
        add_str(o, "bootstrap", c->bootstrap);
        json_object_object_add(o, "declared", json_object_new_boolean(c->declared));
        struct json_object *brokers = json_object_new_array();
        for (size_t k = 0; k < c->nbrokers; k++) {
            struct json_object *b = json_object_new_object();
            add_int(b, "id", c->brokers[k].id);
            add_str(b, "host", c->brokers[k].host);
            add_str(b, "rack", c->brokers[k].rack);
            json_object_array_add(brokers, b);
        }
        json_object_object_add(o, "brokers", brokers);
        add_int(o, "topics", (long long)m->cluster_topics[i]);
        add_int(o, "services", (long long)m->cluster_actors[i]);
        add_pos(o, c->pos);
        json_object_array_add(list, o);
    }
    json_object_object_add(body, "clusters", list);
    gr_http_respond_json(req, 200, body);
}

static void cluster_graph(gr_http_request_t *req, void *ud)
{
    kt_plugin_t *p = ud;
    const char *name = gr_http_param(req, "name");
    if (!p->model) {
        gr_http_respond_error(req, 404, "no Kafka cluster '%s': no topology has been synced yet",
                              name);
        return;
    }
    kt_model_graph_respond(p, p->model, name, req);
}

static void whole_graph(gr_http_request_t *req, void *ud)
{
    kt_plugin_t *p = ud;
    if (!p->model) {
        static const char empty[] = "{\"nodes\":[],\"edges\":[]}";
        gr_http_respond(req, 200, "application/json", empty, sizeof empty - 1);
        return;
    }
    kt_model_graph_respond(p, p->model, NULL, req);
}

/* ---- topics ------------------------------------------------------------------------------------
 */

static void count_access(const kt_model_t *m, size_t topic, size_t *producers, size_t *consumers)
{
    const size_t *edges;
    size_t n;
    kt_model_topic_edges(m, topic, &edges, &n);
    *producers = *consumers = 0;
    for (size_t i = 0; i < n; i++) {
        if (m->topology->edges[edges[i]].access == KAFKA_PRODUCES)
            (*producers)++;
        else
            (*consumers)++;
    }
}

static struct json_object *topic_summary(const kt_model_t *m, size_t i)
{
    const kafka_topology_t *t = m->topology;
    const kafka_topic_t *tp = &t->topics[i];
    struct json_object *o = json_object_new_object();
    add_str(o, "cluster", t->clusters[tp->cluster].name);
    add_str(o, "name", tp->name);
    if (tp->partitions)
        add_int(o, "partitions", tp->partitions);
    if (tp->replication)
        add_int(o, "replicationFactor", tp->replication);
    add_str(o, "project", tp->project);
    add_str(o, "dataType", tp->data_type);
    add_str(o, "format", kafka_format_name(tp->format));
    add_pos(o, tp->pos);
    size_t producers, consumers;
    count_access(m, i, &producers, &consumers);
    add_int(o, "producers", (long long)producers);
    add_int(o, "consumers", (long long)consumers);
    return o;
}

static void topics(gr_http_request_t *req, void *ud)
{
    kt_plugin_t *p = ud;
    kt_model_t *m = p->model;
    long limit, offset;
    if (query_int(req, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT, &limit) != 0 ||
        query_int(req, "offset", 0, 1L << 30, 0, &offset) != 0)
        return;
    const char *q = gr_http_query(req, "q", 0);
    const char *cluster = gr_http_query(req, "cluster", 0);
    size_t only = KAFKA_NONE;
    if (cluster) {
        const kafka_cluster_t *c = m ? kafka_topology_cluster(m->topology, cluster) : NULL;
        if (!c) {
            gr_http_respond_error(req, 404, "no Kafka cluster '%s' in the topology", cluster);
            return;
        }
        only = (size_t)(c - m->topology->clusters);
    }
    struct json_object *body = body_for(m), *items = json_object_new_array();
    size_t total = 0;
    for (size_t i = 0; m && i < m->topology->ntopics; i++) {
        const kafka_topic_t *tp = &m->topology->topics[i];
        if ((only != KAFKA_NONE && tp->cluster != only) || (q && *q && !strcasestr(tp->name, q)))
            continue;
        if (total >= (size_t)offset && total < (size_t)offset + (size_t)limit)
            json_object_array_add(items, topic_summary(m, i));
        total++;
    }
    add_int(body, "totalItems", (long long)total);
    add_int(body, "offset", offset);
    add_int(body, "limit", limit);
    json_object_object_add(body, "items", items);
    gr_http_respond_json(req, 200, body);
}

static struct json_object *actor_ref(const kafka_topology_t *t, const kafka_edge_t *e)
{
    struct json_object *o = json_object_new_object();
    add_str(o, "name", actor_name(t, e->from_kind, e->from));
    add_str(o, "kind", actor_kind(t, e->from_kind, e->from));
    add_pos(o, e->pos);
    return o;
}

static void topic(gr_http_request_t *req, void *ud)
{
    kt_plugin_t *p = ud;
    kt_model_t *m = p->model;
    const char *cluster = gr_http_param(req, "cluster"), *name = gr_http_param(req, "name");
    const kafka_topology_t *t = m ? m->topology : NULL;
    const kafka_cluster_t *c = t ? kafka_topology_cluster(t, cluster) : NULL;
    if (!c) {
        gr_http_respond_error(req, 404, "no Kafka cluster '%s' in the topology", cluster);
        return;
    }
    size_t ci = (size_t)(c - t->clusters);
    const kafka_topic_t *tp = kafka_topology_topic(t, cluster, name);
    struct json_object *body = body_for(m);
    struct json_object *producers = json_object_new_array(), *consumers = json_object_new_array();
    if (tp) {
        size_t ti = (size_t)(tp - t->topics);
        struct json_object *summary = topic_summary(m, ti);
        json_object_object_foreach(summary, key, val)
        {
            json_object_object_add(body, key, json_object_get(val));
        }
        json_object_put(summary);
        struct json_object *config = json_object_new_object();
        for (size_t i = 0; i < tp->nconfig; i++)
            add_str(config, tp->config[i].key, tp->config[i].value);
        json_object_object_add(body, "config", config);
        json_object_object_add(body, "defined", json_object_new_boolean(1));
        const size_t *edges;
        size_t n;
        kt_model_topic_edges(m, ti, &edges, &n);
        for (size_t i = 0; i < n; i++) {
            const kafka_edge_t *e = &t->edges[edges[i]];
            json_object_array_add(e->access == KAFKA_PRODUCES ? producers : consumers,
                                  actor_ref(t, e));
        }
    } else {
        /* A topic only referenced: known by its edges, shown as the graph
         * shows it (external). */
        for (size_t i = 0; i < t->nedges; i++) {
            const kafka_edge_t *e = &t->edges[i];
            if (e->topic != KAFKA_NONE || e->cluster != ci || strcmp(e->topic_name, name) != 0)
                continue;
            json_object_array_add(e->access == KAFKA_PRODUCES ? producers : consumers,
                                  actor_ref(t, e));
        }
        if (!json_object_array_length(producers) && !json_object_array_length(consumers)) {
            json_object_put(producers);
            json_object_put(consumers);
            json_object_put(body);
            gr_http_respond_error(req, 404, "no topic '%s' in Kafka cluster '%s'", name, cluster);
            return;
        }
        add_str(body, "cluster", cluster);
        add_str(body, "name", name);
        json_object_object_add(body, "defined", json_object_new_boolean(0));
    }
    json_object_object_add(body, "producers", producers);
    json_object_object_add(body, "consumers", consumers);
    gr_http_respond_json(req, 200, body);
}

/* ---- services ----------------------------------------------------------------------------------
 */

static void add_actor_edges(const kt_model_t *m, kafka_node_kind_t kind, size_t idx,
                            struct json_object *body)
{
    const kafka_topology_t *t = m->topology;
    struct json_object *produces = json_object_new_array(), *consumes = json_object_new_array();
    const size_t *edges;
    size_t n;
    kt_model_actor_edges(m, kind, idx, &edges, &n);
    for (size_t i = 0; i < n; i++) {
        const kafka_edge_t *e = &t->edges[edges[i]];
        struct json_object *o = json_object_new_object();
        add_str(o, "cluster", t->clusters[e->cluster].name);
        add_str(o, "topic", e->topic_name);
        json_object_object_add(o, "defined", json_object_new_boolean(e->topic != KAFKA_NONE));
        add_pos(o, e->pos);
        json_object_array_add(e->access == KAFKA_PRODUCES ? produces : consumes, o);
    }
    json_object_object_add(body, "produces", produces);
    json_object_object_add(body, "consumes", consumes);
}

static void add_rights(const kafka_topology_t *t, const kafka_ref_t *refs, size_t nrefs,
                       struct json_object *body)
{
    struct json_object *rights = json_object_new_array();
    for (size_t i = 0; refs && i < nrefs; i++) {
        const kafka_ref_t *r = &refs[i];
        struct json_object *o = json_object_new_object();
        add_str(o, "access", r->access == KAFKA_PRODUCES ? "produces" : "consumes");
        add_str(o, "pattern", r->pattern == KAFKA_PATTERN_PREFIX ? "prefix" : "literal");
        add_str(o, "topic", r->topic);
        if (r->cluster != KAFKA_NONE)
            add_str(o, "cluster", t->clusters[r->cluster].name);
        add_pos(o, r->pos);
        json_object_array_add(rights, o);
    }
    json_object_object_add(body, "rights", rights);
}

static void service(gr_http_request_t *req, void *ud)
{
    kt_plugin_t *p = ud;
    kt_model_t *m = p->model;
    const char *name = gr_http_param(req, "name");
    const kafka_topology_t *t = m ? m->topology : NULL;
    const kafka_principal_t *pr = t ? kafka_topology_principal(t, name) : NULL;
    const kafka_connector_t *cn = t && !pr ? kafka_topology_connector(t, name) : NULL;
    if (!pr && !cn) {
        gr_http_respond_error(req, 404, "no service, user or connector '%s' in the topology", name);
        return;
    }
    struct json_object *body = body_for(m);
    if (pr) {
        size_t idx = (size_t)(pr - t->principals);
        add_str(body, "name", pr->name);
        add_str(body, "kind", kafka_kind_name(pr->kind));
        add_str(body, "principal", pr->principal);
        json_object_object_add(body, "declared", json_object_new_boolean(pr->declared));
        add_pos(body, pr->pos);
        add_actor_edges(m, KAFKA_NODE_PRINCIPAL, idx, body);
        add_rights(t, pr->refs, pr->nproduces + pr->nconsumes, body);
        struct json_object *connectors = json_object_new_array();
        for (size_t i = 0; i < t->nconnectors; i++)
            if (t->connectors[i].principal == idx)
                json_object_array_add(connectors, json_object_new_string(t->connectors[i].name));
        json_object_object_add(body, "connectors", connectors);
        struct json_object *apps = json_object_new_array();
        for (size_t i = 0; i < t->nstreams_apps; i++) {
            const kafka_streams_app_t *a = &t->streams_apps[i];
            if (a->principal != idx)
                continue;
            struct json_object *o = json_object_new_object();
            add_str(o, "applicationId", a->application_id);
            add_pos(o, a->pos);
            json_object_array_add(apps, o);
        }
        json_object_object_add(body, "streamsApps", apps);
    } else {
        size_t idx = (size_t)(cn - t->connectors);
        add_str(body, "name", cn->name);
        add_str(body, "kind", "connector");
        add_str(body, "class", cn->class_name);
        if (cn->principal != KAFKA_NONE)
            add_str(body, "runsIn", t->principals[cn->principal].name);
        add_pos(body, cn->pos);
        add_actor_edges(m, KAFKA_NODE_CONNECTOR, idx, body);
        add_rights(t, cn->refs, cn->nproduces + cn->nconsumes, body);
    }
    gr_http_respond_json(req, 200, body);
}

/* ---- status and refresh --------------------------------------------------------------------- */

/* The stored document with this host's view added: whether a sync runs
 * here, when the next one is due, the model served and the catalog
 * mapping's last report. */
static struct json_object *with_live_fields(kt_plugin_t *p, struct json_object *doc)
{
    struct json_object *out = NULL;
    if (doc) {
        json_object_deep_copy(doc, &out, NULL);
    } else {
        out = json_object_new_object();
        cc_sync_status_pending(&p->sync, out);
        json_object_object_add(out, "problems", json_object_new_array());
    }
    cc_sync_status_live(&p->sync, out);
    /* This plugin's schedule also says where it runs. */
    struct json_object *schedule = NULL;
    if (json_object_object_get_ex(out, "schedule", &schedule))
        add_str(schedule, "scope", p->sync.schedule.scope == GR_TASK_GLOBAL ? "global" : "local");
    struct json_object *model = NULL;
    if (p->model) {
        model = json_object_new_object();
        add_int(model, "generation", (long long)p->model->pub.generation);
        char *at = cc_iso_time(p->model->synced_wall_ms);
        add_str(model, "syncedAt", at);
        free(at);
        add_str(model, "revision", p->model->revision);
        add_int(model, "clusters", (long long)p->model->topology->nclusters);
        add_int(model, "topics", (long long)p->model->topology->ntopics);
        add_int(model, "edges", (long long)p->model->topology->nedges);
    }
    json_object_object_add(out, "model", model);
    struct json_object *mapping = json_object_new_object();
    json_object_object_add(mapping, "enabled", json_object_new_boolean(p->mapping.enabled));
    add_str(mapping, "owner", p->mapping.owner);
    for (kafka_listener_t *l = p->listeners; l; l = l->next)
        if (l->report)
            json_object_object_add(mapping, "last", json_object_get(l->report));
    json_object_object_add(out, "catalogMapping", mapping);
    return out;
}

typedef struct status_req {
    gr_http_request_t *req;
} status_req_t;

static void status_read(kt_plugin_t *p, struct json_object *doc, const gr_error_t *err, void *ud)
{
    status_req_t *sr = ud;
    if (err)
        gr_http_respond_error(sr->req, err->code == GR_ERR_UNAVAILABLE ? 503 : 500, "%s",
                              err->message);
    else if (p->stopping)
        gr_http_respond_error(sr->req, 503, "the host is shutting down");
    else
        gr_http_respond_json(sr->req, 200, with_live_fields(p, doc));
    free(sr);
}

static void status(gr_http_request_t *req, void *ud)
{
    status_req_t *sr = gr_xcalloc(1, sizeof *sr);
    sr->req = req;
    kt_store_status_load(ud, status_read, sr);
}

static void refresh(gr_http_request_t *req, void *ud)
{
    kt_plugin_t *p = ud;
    gr_error_t err = {0};
    if (gr_scheduler_trigger(p->ctx->scheduler, KT_TASK_ID, &err) != 0) {
        gr_http_respond_error(req, err.code == GR_ERR_CANCELED ? 503 : 500, "%s", err.message);
        return;
    }
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "triggered", json_object_new_boolean(1));
    json_object_object_add(out, "running", json_object_new_boolean(p->sync.run != NULL));
    gr_http_respond_json(req, 202, out);
}

int kt_routes_add(kt_plugin_t *p, gr_error_t *err)
{
    static const struct {
        const char *method, *pattern;
        gr_http_handler_fn fn;
    } routes[] = {
        {"GET", "/clusters", clusters},
        {"GET", "/clusters/:name/graph", cluster_graph},
        {"GET", "/graph", whole_graph},
        {"GET", "/topics", topics},
        {"GET", "/topics/:cluster/:name", topic},
        {"GET", "/services/:name", service},
        {"GET", "/status", status},
        {"POST", "/refresh", refresh},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int rc = gr_router_add(p->ctx->router, routes[i].method, routes[i].pattern, routes[i].fn, p,
                               err);
        if (rc != 0)
            return rc;
    }
    return 0;
}
