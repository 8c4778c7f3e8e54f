/* modules/kafka-topology/model.c: a published model: the topology the API
 * serves, with the indexes its routes need (the edges of each topic and of
 * each producer or consumer) and each cluster's Cytoscape.js graph, made
 * once on the thread pool when first asked for and kept with the model.
 *
 * A model is shared by reference count: the plugin holds the current one,
 * and a request, a graph computation or a listener that needs it across
 * loop turns holds it too, so a sync can publish a newer model at any time
 * without pulling one out from under them.  Counts change on the loop
 * thread only; worker threads only read the (immutable) topology. */
#include <stdlib.h>
#include <string.h>

#include "kafka_plugin.h"

typedef struct graph_waiter {
    gr_http_request_t *req;
    struct graph_waiter *next;
} graph_waiter_t;

struct kt_graph {
    char *json; /* NULL until computed */
    size_t len;
    int computing;
    graph_waiter_t *waiters;
};

/* Counting sort of edge indexes by key: start[k] .. start[k + 1] in list. */
static void index_edges(size_t nkeys, size_t nedges, const size_t *keys, size_t **start_out,
                        size_t **list_out)
{
    size_t *start = gr_xcalloc(nkeys + 2, sizeof *start);
    size_t *list = gr_xcalloc(nedges + 1, sizeof *list);
    for (size_t i = 0; i < nedges; i++)
        if (keys[i] != KAFKA_NONE)
            start[keys[i] + 1]++;
    for (size_t k = 0; k < nkeys; k++)
        start[k + 1] += start[k];
    size_t *fill = gr_xcalloc(nkeys + 1, sizeof *fill);
    for (size_t i = 0; i < nedges; i++)
        if (keys[i] != KAFKA_NONE)
            list[start[keys[i]] + fill[keys[i]]++] = i;
    free(fill);
    *start_out = start;
    *list_out = list;
}

kt_model_t *kt_model_new(kafka_topology_t *topology, uint64_t generation,
                         const char *location_prefix, const char *revision, int64_t wall_ms)
{
    kt_model_t *m = gr_xcalloc(1, sizeof *m);
    const kafka_topology_t *t = topology;
    m->refs = 1;
    m->topology = topology;
    m->location_prefix = location_prefix ? gr_xstrdup(location_prefix) : NULL;
    m->revision = revision ? gr_xstrdup(revision) : NULL;
    m->synced_wall_ms = wall_ms;
    m->pub = (kafka_snapshot_t){topology, generation, m->location_prefix};

    /* Producers before consumers in each topic's list: edges of one owner
     * are in file order, so sort the keys by access first. */
    size_t *keys = gr_xcalloc(t->nedges + 1, sizeof *keys);
    size_t *order = gr_xcalloc(t->nedges + 1, sizeof *order);
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < t->nedges; i++)
            if ((int)t->edges[i].access == pass)
                order[n++] = i;
    for (size_t i = 0; i < t->nedges; i++)
        keys[i] = t->edges[order[i]].topic;
    index_edges(t->ntopics, t->nedges, keys, &m->topic_start, &m->topic_list);
    for (size_t i = 0; i < t->nedges; i++)
        m->topic_list[i] = order[m->topic_list[i]];
    free(order);

    for (size_t i = 0; i < t->nedges; i++)
        keys[i] = t->edges[i].from_kind == KAFKA_NODE_PRINCIPAL ? t->edges[i].from : KAFKA_NONE;
    index_edges(t->nprincipals, t->nedges, keys, &m->principal_start, &m->principal_list);
    for (size_t i = 0; i < t->nedges; i++)
        keys[i] = t->edges[i].from_kind == KAFKA_NODE_CONNECTOR ? t->edges[i].from : KAFKA_NONE;
    index_edges(t->nconnectors, t->nedges, keys, &m->connector_start, &m->connector_list);
    free(keys);

    m->cluster_topics = gr_xcalloc(t->nclusters + 1, sizeof *m->cluster_topics);
    m->cluster_actors = gr_xcalloc(t->nclusters + 1, sizeof *m->cluster_actors);
    for (size_t i = 0; i < t->ntopics; i++)
        m->cluster_topics[t->topics[i].cluster]++;
    /* An actor counts once per cluster it has an edge in; its edges are
     * contiguous in the per-actor lists. */
    for (int kind = 0; kind < 2; kind++) {
        size_t nactors = kind == KAFKA_NODE_PRINCIPAL ? t->nprincipals : t->nconnectors;
        const size_t *start =
            kind == KAFKA_NODE_PRINCIPAL ? m->principal_start : m->connector_start;
        const size_t *list = kind == KAFKA_NODE_PRINCIPAL ? m->principal_list : m->connector_list;
        unsigned char *seen = gr_xcalloc(t->nclusters + 1, 1);
        for (size_t a = 0; a < nactors; a++) {
            memset(seen, 0, t->nclusters + 1);
            for (size_t k = start[a]; k < start[a + 1]; k++) {
                size_t c = t->edges[list[k]].cluster;
                if (!seen[c]) {
                    seen[c] = 1;
                    m->cluster_actors[c]++;
                }
            }
        }
        free(seen);
    }
    m->graphs = gr_xcalloc(t->nclusters + 1, sizeof *m->graphs);
    return m;
}

kt_model_t *kt_model_ref(kt_model_t *m)
{
    m->refs++;
    return m;
}

void kt_model_unref(kt_model_t *m)
{
    if (!m || --m->refs > 0)
        return;
    for (size_t i = 0; i <= m->topology->nclusters; i++)
        free(m->graphs[i].json);
    free(m->graphs);
    free(m->topic_start);
    free(m->topic_list);
    free(m->principal_start);
    free(m->principal_list);
    free(m->connector_start);
    free(m->connector_list);
    free(m->cluster_topics);
    free(m->cluster_actors);
    free(m->location_prefix);
    free(m->revision);
    kafka_topology_free(m->topology);
    free(m);
}

void kt_model_topic_edges(const kt_model_t *m, size_t topic, const size_t **edges, size_t *n)
{
    *edges = m->topic_list + m->topic_start[topic];
    *n = m->topic_start[topic + 1] - m->topic_start[topic];
}

void kt_model_actor_edges(const kt_model_t *m, kafka_node_kind_t kind, size_t idx,
                          const size_t **edges, size_t *n)
{
    const size_t *start = kind == KAFKA_NODE_PRINCIPAL ? m->principal_start : m->connector_start;
    const size_t *list = kind == KAFKA_NODE_PRINCIPAL ? m->principal_list : m->connector_list;
    *edges = list + start[idx];
    *n = start[idx + 1] - start[idx];
}

/* ---- graphs --------------------------------------------------------------------------- */

typedef struct graph_job {
    kt_plugin_t *plugin;
    kt_model_t *model;
    size_t slot; /* cluster index, or nclusters for every cluster */
    char *json;
    size_t len;
} graph_job_t;

static void graph_send(gr_http_request_t *req, const kt_graph_t *g)
{
    gr_http_set_header(req, "Cache-Control", "no-cache");
    gr_http_respond(req, 200, "application/json", g->json, g->len);
}

static void graph_work(void *arg)
{
    graph_job_t *job = arg;
    const kafka_topology_t *t = job->model->topology;
    const char *cluster = job->slot < t->nclusters ? t->clusters[job->slot].name : NULL;
    job->json = kafka_graph_cytoscape(t, cluster, &job->len);
}

static void graph_done(void *arg, int status)
{
    graph_job_t *job = arg;
    kt_graph_t *g = &job->model->graphs[job->slot];
    g->computing = 0;
    graph_waiter_t *w = g->waiters;
    g->waiters = NULL;
    if (status == 0 && job->json) {
        g->json = job->json;
        g->len = job->len;
    } else {
        free(job->json);
    }
    while (w) {
        graph_waiter_t *next = w->next;
        if (g->json)
            graph_send(w->req, g);
        else
            gr_http_respond_error(w->req, 503, "the graph was not computed: the host is stopping");
        free(w);
        w = next;
    }
    kt_model_unref(job->model);
    kt_plugin_unref(job->plugin);
    free(job);
}

/* Starts computing a graph unless it is done or under way. */
static void graph_start(kt_plugin_t *p, kt_model_t *m, size_t slot)
{
    kt_graph_t *g = &m->graphs[slot];
    if (g->json || g->computing)
        return;
    graph_job_t *job = gr_xcalloc(1, sizeof *job);
    *job = (graph_job_t){.plugin = p, .model = kt_model_ref(m), .slot = slot};
    kt_plugin_ref(p);
    g->computing = 1;
    gr_error_t err = {0};
    if (gr_work_submit(p->ctx, graph_work, graph_done, job, &err) != 0)
        graph_done(job, err.code ? err.code : GR_ERR_CANCELED);
}

void kt_model_graph_warm(kt_plugin_t *p, kt_model_t *m)
{
    for (size_t i = 0; i < m->topology->nclusters; i++)
        graph_start(p, m, i);
}

void kt_model_graph_respond(kt_plugin_t *p, kt_model_t *m, const char *cluster,
                            gr_http_request_t *req)
{
    const kafka_topology_t *t = m->topology;
    size_t slot = t->nclusters;
    if (cluster) {
        const kafka_cluster_t *c = kafka_topology_cluster(t, cluster);
        if (!c) {
            gr_http_respond_error(req, 404, "no Kafka cluster '%s' in the topology", cluster);
            return;
        }
        slot = (size_t)(c - t->clusters);
    }
    kt_graph_t *g = &m->graphs[slot];
    if (g->json) {
        graph_send(req, g);
        return;
    }
    graph_waiter_t *w = gr_xcalloc(1, sizeof *w);
    w->req = req;
    w->next = g->waiters;
    g->waiters = w;
    graph_start(p, m, slot);
}
