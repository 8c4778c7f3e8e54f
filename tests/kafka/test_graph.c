/* The Cytoscape.js export: a cluster's topics, the principals and
 * connectors that touch them, and edges in the direction data flows.  The
 * text is read back with json-c, as a browser would read it. */
#include <json.h>

#include "kafka_test.h"

/* The graph of a cluster, parsed; NULL when the export refused. */
static struct json_object *graph(const kafka_topology_t *t, const char *cluster)
{
    size_t len = 0;
    char *text = kafka_graph_cytoscape(t, cluster, &len);
    if (!text)
        return NULL;
    struct json_object *g = json_tokener_parse(text);
    if (!g || strlen(text) != len)
        fprintf(stderr, "the graph is not one JSON text: %s\n", text);
    free(text);
    return g;
}

static const char *const two_clusters =
    "clusters:\n"
    "  - name: prod\n"
    "  - name: dev\n"
    "topics:\n"
    "  - {name: orders, cluster: prod, partitions: 6, replicationFactor: 3}\n"
    "  - {name: orders, cluster: dev, partitions: 1}\n"
    "services:\n"
    "  - name: api\n"
    "    produces: [prod/orders]\n"
    "  - name: billing\n"
    "    kind: kafka-streams\n"
    "    consumes: [prod/orders, prod/refunds]\n"
    "  - name: dev-tool\n"
    "    consumes: [dev/orders]\n"
    "  - name: connect\n"
    "    kind: kafka-connect\n"
    "connectors:\n"
    "  - name: sink\n"
    "    service: connect\n"
    "    consumes: [prod/orders]\n";

static struct json_object *find_by_id(struct json_object *list, const char *id)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *data = NULL;
        json_object_object_get_ex(json_object_array_get_idx(list, i), "data", &data);
        struct json_object *v = NULL;
        if (json_object_object_get_ex(data, "id", &v) && strcmp(json_object_get_string(v), id) == 0)
            return data;
    }
    return NULL;
}

static const char *field(struct json_object *data, const char *key)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(data, key, &v) ? json_object_get_string(v) : NULL;
}

TEST(test_cluster_graph)
{
    kafka_topology_t *t = kafka_test_text("topology.yaml", two_clusters);
    struct json_object *g = graph(t, "prod");
    REQUIRE(g);
    struct json_object *nodes = NULL, *edges = NULL;
    REQUIRE(json_object_object_get_ex(g, "nodes", &nodes));
    REQUIRE(json_object_object_get_ex(g, "edges", &edges));
    /* orders, refunds (external), api, billing, connect, sink. */
    CHECK(json_object_array_length(nodes) == 6);
    /* api→orders, orders→billing, refunds→billing, orders→sink, sink→connect. */
    CHECK(json_object_array_length(edges) == 5);

    struct json_object *orders = find_by_id(nodes, "topic:prod/orders");
    REQUIRE(orders);
    CHECK_STR(field(orders, "label"), "orders");
    CHECK_STR(field(orders, "kind"), "topic");
    CHECK_STR(field(orders, "cluster"), "prod");
    CHECK_STR(field(orders, "partitions"), "6");
    CHECK(json_object_is_type(json_object_object_get(orders, "partitions"), json_type_int));
    CHECK_STR(field(orders, "replicationFactor"), "3");
    CHECK_STR(field(orders, "file"), "topology.yaml");
    CHECK_STR(field(orders, "line"), "5");
    struct json_object *refunds = find_by_id(nodes, "topic:prod/refunds");
    REQUIRE(refunds);
    CHECK_STR(field(refunds, "external"), "true");
    CHECK_STR(field(find_by_id(nodes, "principal:billing"), "kind"), "kafka-streams");
    CHECK_STR(field(find_by_id(nodes, "principal:api"), "kind"), "application");
    CHECK_STR(field(find_by_id(nodes, "principal:connect"), "kind"), "kafka-connect");
    CHECK_STR(field(find_by_id(nodes, "connector:sink"), "kind"), "connector");
    CHECK(find_by_id(nodes, "principal:dev-tool") == NULL);
    CHECK(find_by_id(nodes, "topic:dev/orders") == NULL);

    struct json_object *e = find_by_id(edges, "produces:principal:api->topic:prod/orders");
    REQUIRE(e);
    CHECK_STR(field(e, "source"), "principal:api");
    CHECK_STR(field(e, "target"), "topic:prod/orders");
    CHECK_STR(field(e, "kind"), "produces");
    e = find_by_id(edges, "consumes:topic:prod/orders->principal:billing");
    REQUIRE(e);
    CHECK_STR(field(e, "source"), "topic:prod/orders");
    CHECK_STR(field(e, "kind"), "consumes");
    e = find_by_id(edges, "runs-in:connector:sink->principal:connect");
    REQUIRE(e);
    CHECK_STR(field(e, "kind"), "runs-in");

    /* Every edge joins two nodes of the graph. */
    for (size_t i = 0; i < json_object_array_length(edges); i++) {
        struct json_object *data = NULL;
        json_object_object_get_ex(json_object_array_get_idx(edges, i), "data", &data);
        CHECK(find_by_id(nodes, field(data, "source")) != NULL);
        CHECK(find_by_id(nodes, field(data, "target")) != NULL);
    }

    /* The same topology gives the same text. */
    char *a = kafka_graph_cytoscape(t, "prod", NULL);
    char *b = kafka_graph_cytoscape(t, "prod", NULL);
    CHECK_STR(a, b);
    free(a);
    free(b);
    json_object_put(g);
    kafka_topology_free(t);
}

TEST(test_all_clusters_and_unknown_cluster)
{
    kafka_topology_t *t = kafka_test_text("topology.yaml", two_clusters);
    CHECK(kafka_graph_cytoscape(t, "staging", NULL) == NULL);
    struct json_object *g = graph(t, NULL);
    REQUIRE(g);
    struct json_object *nodes = NULL, *edges = NULL;
    json_object_object_get_ex(g, "nodes", &nodes);
    json_object_object_get_ex(g, "edges", &edges);
    CHECK(json_object_array_length(nodes) == 8); /* adds dev/orders and dev-tool */
    CHECK(json_object_array_length(edges) == 6);
    CHECK(find_by_id(nodes, "topic:dev/orders") != NULL);
    json_object_put(g);

    /* dev has one topic and one consumer. */
    g = graph(t, "dev");
    json_object_object_get_ex(g, "nodes", &nodes);
    json_object_object_get_ex(g, "edges", &edges);
    CHECK(json_object_array_length(nodes) == 2);
    CHECK(json_object_array_length(edges) == 1);
    json_object_put(g);
    kafka_topology_free(t);
}

/* julieops/descriptor.yaml as a graph: JulieOps projects travel with the
 * topics, so the page can group by them. */
TEST(test_julieops_graph)
{
    kafka_topology_t *t = kafka_test_load("julieops/descriptor.yaml");
    struct json_object *g = graph(t, "default");
    REQUIRE(g);
    struct json_object *nodes = NULL, *edges = NULL;
    json_object_object_get_ex(g, "nodes", &nodes);
    json_object_object_get_ex(g, "edges", &edges);
    /* 5 topics, 6 referenced-only (topicA-D, topicE, topicF), 7 principals
     * with rights; the platform principals have none. */
    CHECK(json_object_array_length(nodes) == 18);
    CHECK(json_object_array_length(edges) == t->nedges);
    struct json_object *foo =
        find_by_id(nodes, "topic:default/context.company.env.source.projectA.foo");
    REQUIRE(foo);
    CHECK_STR(field(foo, "project"), "projectA");
    CHECK_STR(field(foo, "format"), "julieops");
    CHECK(find_by_id(nodes, "principal:User:SchemaRegistry01") == NULL);
    json_object_put(g);
    kafka_topology_free(t);
}

/* Names with quotes, backslashes and control characters stay valid JSON. */
TEST(test_escaping)
{
    kafka_topology_t *t = kafka_test_text(
        "t.json", "{\"topics\": [{\"name\": \"a\\\"b\\\\c\\u0001\", "
                  "\"producers\": [\"x\\ty\"]}], \"services\": [{\"name\": \"x\\ty\"}]}");
    CHECK(t->nproblems == 0);
    struct json_object *g = graph(t, NULL);
    REQUIRE(g);
    struct json_object *nodes = NULL;
    json_object_object_get_ex(g, "nodes", &nodes);
    struct json_object *topic = find_by_id(nodes, "topic:default/a\"b\\c\x01");
    REQUIRE(topic);
    CHECK_STR(field(topic, "label"), "a\"b\\c\x01");
    CHECK(find_by_id(nodes, "principal:x\ty") != NULL);
    json_object_put(g);
    kafka_topology_free(t);
}

TEST_MAIN(TEST_ENTRY(test_cluster_graph), TEST_ENTRY(test_all_clusters_and_unknown_cluster),
          TEST_ENTRY(test_julieops_graph), TEST_ENTRY(test_escaping))
