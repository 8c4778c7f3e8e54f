/* modules/kafka-topology/kafka_graph.c: a cluster's topology as
 * Cytoscape.js elements, for the web page's graph.  A pure function of the
 * finished model: it reads the topology, builds new json-c values and
 * touches nothing else, so the API can call it on any thread.
 *
 * Node ids are "topic:<cluster>/<name>", "principal:<name>" and
 * "connector:<name>"; edges follow the data, producer → topic → consumer,
 * so a layered layout reads left to right. */
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

static struct json_object *kafka__node(struct json_object *nodes, const char *id,
                                       const char *label, const char *kind)
{
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "id", json_object_new_string(id));
    json_object_object_add(data, "label", json_object_new_string(label));
    json_object_object_add(data, "kind", json_object_new_string(kind));
    struct json_object *node = json_object_new_object();
    json_object_object_add(node, "data", data);
    json_object_array_add(nodes, node);
    return data;
}

static void kafka__add_str(struct json_object *data, const char *key, const char *value)
{
    if (value)
        json_object_object_add(data, key, json_object_new_string(value));
}

static void kafka__add_pos(struct json_object *data, kafka_pos_t pos)
{
    kafka__add_str(data, "file", pos.file);
    if (pos.line)
        json_object_object_add(data, "line", json_object_new_int64(pos.line));
}

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

static void kafka__edge(struct json_object *edges, const char *source, const char *target,
                        const char *kind)
{
    gr_buf_t id = {0};
    gr_buf_printf(&id, "%s:%s->%s", kind, source, target);
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "id", json_object_new_string(id.data));
    json_object_object_add(data, "source", json_object_new_string(source));
    json_object_object_add(data, "target", json_object_new_string(target));
    json_object_object_add(data, "kind", json_object_new_string(kind));
    struct json_object *edge = json_object_new_object();
    json_object_object_add(edge, "data", data);
    json_object_array_add(edges, edge);
    gr_buf_free(&id);
}

struct json_object *kafka_graph_cytoscape(const kafka_topology_t *t, const char *cluster)
{
    size_t only = KAFKA_NONE;
    if (cluster) {
        const kafka_cluster_t *c = kafka_topology_cluster(t, cluster);
        if (!c)
            return NULL;
        only = (size_t)(c - t->clusters);
    }
#define KAFKA__IN(c) (only == KAFKA_NONE || (c) == only)

    struct json_object *nodes = json_object_new_array();
    struct json_object *edges = json_object_new_array();
    gr_buf_t id = {0}, other = {0};

    for (size_t i = 0; i < t->ntopics; i++) {
        const kafka_topic_t *tp = &t->topics[i];
        if (!KAFKA__IN(tp->cluster))
            continue;
        kafka__topic_id(&id, t, tp->cluster, tp->name);
        struct json_object *data = kafka__node(nodes, id.data, tp->name, "topic");
        kafka__add_str(data, "cluster", t->clusters[tp->cluster].name);
        if (tp->partitions)
            json_object_object_add(data, "partitions", json_object_new_int(tp->partitions));
        if (tp->replication)
            json_object_object_add(data, "replicationFactor",
                                   json_object_new_int(tp->replication));
        kafka__add_str(data, "project", tp->project);
        kafka__add_str(data, "dataType", tp->data_type);
        kafka__add_str(data, "format", kafka_format_name(tp->format));
        kafka__add_pos(data, tp->pos);
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
        if (e->topic != KAFKA_NONE || kafka__map_get(&external, e->topic_name, (uint32_t)e->cluster, NULL))
            continue;
        kafka__map_put(&external, e->topic_name, (uint32_t)e->cluster, 0);
        kafka__topic_id(&id, t, e->cluster, e->topic_name);
        struct json_object *data = kafka__node(nodes, id.data, e->topic_name, "topic");
        kafka__add_str(data, "cluster", t->clusters[e->cluster].name);
        json_object_object_add(data, "external", json_object_new_boolean(1));
    }
    kafka__map_free(&external);
    for (size_t i = 0; i < t->nconnectors; i++)
        if (used_c[i] && t->connectors[i].principal != KAFKA_NONE)
            used_p[t->connectors[i].principal] = 1;

    for (size_t i = 0; i < t->nprincipals; i++) {
        const kafka_principal_t *p = &t->principals[i];
        if (!used_p[i])
            continue;
        kafka__actor_id(&id, t, KAFKA_NODE_PRINCIPAL, i);
        struct json_object *data = kafka__node(nodes, id.data, p->name, kafka_kind_name(p->kind));
        kafka__add_str(data, "principal", p->principal);
        if (!p->declared)
            json_object_object_add(data, "declared", json_object_new_boolean(0));
        kafka__add_pos(data, p->pos);
    }
    for (size_t i = 0; i < t->nconnectors; i++) {
        const kafka_connector_t *c = &t->connectors[i];
        if (!used_c[i])
            continue;
        kafka__actor_id(&id, t, KAFKA_NODE_CONNECTOR, i);
        struct json_object *data = kafka__node(nodes, id.data, c->name, "connector");
        kafka__add_str(data, "class", c->class_name);
        kafka__add_pos(data, c->pos);
    }

    for (size_t i = 0; i < t->nedges; i++) {
        const kafka_edge_t *e = &t->edges[i];
        if (!KAFKA__IN(e->cluster))
            continue;
        kafka__actor_id(&id, t, e->from_kind, e->from);
        kafka__topic_id(&other, t, e->cluster, e->topic_name);
        if (e->access == KAFKA_PRODUCES)
            kafka__edge(edges, id.data, other.data, "produces");
        else
            kafka__edge(edges, other.data, id.data, "consumes");
    }
    for (size_t i = 0; i < t->nconnectors; i++) {
        if (!used_c[i] || t->connectors[i].principal == KAFKA_NONE)
            continue;
        kafka__actor_id(&id, t, KAFKA_NODE_CONNECTOR, i);
        kafka__actor_id(&other, t, KAFKA_NODE_PRINCIPAL, t->connectors[i].principal);
        kafka__edge(edges, id.data, other.data, "runs-in");
    }
#undef KAFKA__IN

    free(used_p);
    free(used_c);
    gr_buf_free(&id);
    gr_buf_free(&other);
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "nodes", nodes);
    json_object_object_add(out, "edges", edges);
    return out;
}
