/* modules/kafka-topology/kafka_graph.c: a cluster's topology as
 * Cytoscape.js elements, for the web page's graph.  A pure function of the
 * finished model: it reads the topology and writes new text, so the API can
 * call it on any thread.
 *
 * The JSON is written straight into a buffer rather than built as json-c
 * objects: a graph of 50,000 edges is a dozen megabytes of JSON, and a
 * tree of small objects would cost ten times the time to build and print.
 *
 * Node ids are "topic:<cluster>/<name>", "principal:<name>" and
 * "connector:<name>"; edges follow the data, producer → topic → consumer,
 * so a layered layout reads left to right. */
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

typedef struct kafka__writer {
    gr_buf_t *out;
    gr_buf_t id;    /* scratch for ids */
    gr_buf_t other; /* a second id, for edges */
    gr_buf_t edge;  /* an edge's own id */
    int first;      /* no element written yet in the current list */
} kafka__writer_t;

static void kafka__topic_id(gr_buf_t *b, const kafka_topology_t *t, size_t cluster,
                            const char *name)
{
    gr_buf_reset(b);
    gr_buf_printf(b, "topic:%s/%s", t->clusters[cluster].name, name);
}

static void kafka__actor_id(gr_buf_t *b, const kafka_topology_t *t, kafka_node_kind_t kind,
                            size_t idx)
{
    gr_buf_reset(b);
    if (kind == KAFKA_NODE_PRINCIPAL)
        gr_buf_printf(b, "principal:%s", t->principals[idx].name);
    else
        gr_buf_printf(b, "connector:%s", t->connectors[idx].name);
}

/* Opens {"data":{"id":..,"label":..,"kind":.. ; kafka__node_end closes it. */
static void kafka__node_begin(kafka__writer_t *w, const char *id, const char *label,
                              const char *kind)
{
    gr_buf_puts(w->out, w->first ? "{\"data\":{\"id\":" : ",{\"data\":{\"id\":");
    w->first = 0;
    gr_buf_json_string(w->out, id);
    gr_buf_puts(w->out, ",\"label\":");
    gr_buf_json_string(w->out, label);
    gr_buf_puts(w->out, ",\"kind\":");
    gr_buf_json_string(w->out, kind);
}

static void kafka__node_end(kafka__writer_t *w)
{
    gr_buf_puts(w->out, "}}");
}

static void kafka__field_str(kafka__writer_t *w, const char *key, const char *value)
{
    if (!value)
        return;
    gr_buf_printf(w->out, ",\"%s\":", key);
    gr_buf_json_string(w->out, value);
}

static void kafka__field_int(kafka__writer_t *w, const char *key, long long value)
{
    gr_buf_printf(w->out, ",\"%s\":%lld", key, value);
}

static void kafka__field_pos(kafka__writer_t *w, kafka_pos_t pos)
{
    kafka__field_str(w, "file", pos.file);
    if (pos.line)
        kafka__field_int(w, "line", pos.line);
}

static void kafka__edge(kafka__writer_t *w, const char *source, const char *target,
                        const char *kind)
{
    gr_buf_puts(w->out, w->first ? "{\"data\":{\"id\":" : ",{\"data\":{\"id\":");
    w->first = 0;
    /* The id is "<kind>:<source>-><target>", unique as edges are. */
    gr_buf_reset(&w->edge);
    gr_buf_printf(&w->edge, "%s:%s->%s", kind, source, target);
    gr_buf_json_string(w->out, w->edge.data);
    gr_buf_puts(w->out, ",\"source\":");
    gr_buf_json_string(w->out, source);
    gr_buf_puts(w->out, ",\"target\":");
    gr_buf_json_string(w->out, target);
    gr_buf_puts(w->out, ",\"kind\":");
    gr_buf_json_string(w->out, kind);
    gr_buf_puts(w->out, "}}");
}

char *kafka_graph_cytoscape(const kafka_topology_t *t, const char *cluster, size_t *len)
{
    size_t only = KAFKA_NONE;
    if (cluster) {
        const kafka_cluster_t *c = kafka_topology_cluster(t, cluster);
        if (!c)
            return NULL;
        only = (size_t)(c - t->clusters);
    }
#define KAFKA__IN(c) (only == KAFKA_NONE || (c) == only)

    gr_buf_t out = {0};
    kafka__writer_t w = {.out = &out, .first = 1};
    gr_buf_puts(&out, "{\"nodes\":[");

    for (size_t i = 0; i < t->ntopics; i++) {
        const kafka_topic_t *tp = &t->topics[i];
        if (!KAFKA__IN(tp->cluster))
            continue;
        kafka__topic_id(&w.id, t, tp->cluster, tp->name);
        kafka__node_begin(&w, w.id.data, tp->name, "topic");
        kafka__field_str(&w, "cluster", t->clusters[tp->cluster].name);
        if (tp->partitions)
            kafka__field_int(&w, "partitions", tp->partitions);
        if (tp->replication)
            kafka__field_int(&w, "replicationFactor", tp->replication);
        kafka__field_str(&w, "project", tp->project);
        kafka__field_str(&w, "dataType", tp->data_type);
        kafka__field_str(&w, "format", kafka_format_name(tp->format));
        kafka__field_pos(&w, tp->pos);
        kafka__node_end(&w);
    }

    /* Topics only referenced, each once; and which producers and consumers
     * touch the cluster. */
    unsigned char *used_p = gr_xcalloc(t->nprincipals + 1, 1);
    unsigned char *used_c = gr_xcalloc(t->nconnectors + 1, 1);
    kafka__map_t external = {0};
    for (size_t i = 0; i < t->nedges; i++) {
        const kafka_edge_t *e = &t->edges[i];
        if (!KAFKA__IN(e->cluster))
            continue;
        if (e->from_kind == KAFKA_NODE_PRINCIPAL)
            used_p[e->from] = 1;
        else
            used_c[e->from] = 1;
        if (e->topic != KAFKA_NONE ||
            kafka__map_get(&external, e->topic_name, (uint32_t)e->cluster, NULL))
            continue;
        kafka__map_put(&external, e->topic_name, (uint32_t)e->cluster, 0);
        kafka__topic_id(&w.id, t, e->cluster, e->topic_name);
        kafka__node_begin(&w, w.id.data, e->topic_name, "topic");
        kafka__field_str(&w, "cluster", t->clusters[e->cluster].name);
        gr_buf_puts(&out, ",\"external\":true");
        kafka__node_end(&w);
    }
    kafka__map_free(&external);
    for (size_t i = 0; i < t->nconnectors; i++)
        if (used_c[i] && t->connectors[i].principal != KAFKA_NONE)
            used_p[t->connectors[i].principal] = 1;

    for (size_t i = 0; i < t->nprincipals; i++) {
        const kafka_principal_t *p = &t->principals[i];
        if (!used_p[i])
            continue;
        kafka__actor_id(&w.id, t, KAFKA_NODE_PRINCIPAL, i);
        kafka__node_begin(&w, w.id.data, p->name, kafka_kind_name(p->kind));
        kafka__field_str(&w, "principal", p->principal);
        if (!p->declared)
            gr_buf_puts(&out, ",\"declared\":false");
        kafka__field_pos(&w, p->pos);
        kafka__node_end(&w);
    }
    for (size_t i = 0; i < t->nconnectors; i++) {
        const kafka_connector_t *c = &t->connectors[i];
        if (!used_c[i])
            continue;
        kafka__actor_id(&w.id, t, KAFKA_NODE_CONNECTOR, i);
        kafka__node_begin(&w, w.id.data, c->name, "connector");
        kafka__field_str(&w, "class", c->class_name);
        kafka__field_pos(&w, c->pos);
        kafka__node_end(&w);
    }

    gr_buf_puts(&out, "],\"edges\":[");
    w.first = 1;
    for (size_t i = 0; i < t->nedges; i++) {
        const kafka_edge_t *e = &t->edges[i];
        if (!KAFKA__IN(e->cluster))
            continue;
        kafka__actor_id(&w.id, t, e->from_kind, e->from);
        kafka__topic_id(&w.other, t, e->cluster, e->topic_name);
        if (e->access == KAFKA_PRODUCES)
            kafka__edge(&w, w.id.data, w.other.data, "produces");
        else
            kafka__edge(&w, w.other.data, w.id.data, "consumes");
    }
    for (size_t i = 0; i < t->nconnectors; i++) {
        if (!used_c[i] || t->connectors[i].principal == KAFKA_NONE)
            continue;
        kafka__actor_id(&w.id, t, KAFKA_NODE_CONNECTOR, i);
        kafka__actor_id(&w.other, t, KAFKA_NODE_PRINCIPAL, t->connectors[i].principal);
        kafka__edge(&w, w.id.data, w.other.data, "runs-in");
    }
    gr_buf_puts(&out, "]}");
#undef KAFKA__IN

    free(used_p);
    free(used_c);
    gr_buf_free(&w.id);
    gr_buf_free(&w.other);
    gr_buf_free(&w.edge);
    if (len)
        *len = out.len;
    return gr_buf_steal(&out);
}
