/* The catalog mapping (modules/catalog-kafka-topology/mapping.c): topics as
 * valid Backstage Resource entities, names made to Backstage's rules and
 * unique, and the Components that produce or consume a topic found by name,
 * by principal and by annotation, as spec.dependencyOf. */
#include <json.h>

#include "catalog_model.h"
#include "kafka_mapping.h"
#include "kafka_test.h"

static const char *const topology =
    "clusters:\n"
    "  - name: Prod_EU\n"
    "  - name: dev\n"
    "topics:\n"
    "  - {name: orders, cluster: Prod_EU, partitions: 12, replicationFactor: 3}\n"
    "  - {name: orders, cluster: dev}\n"
    "  - {name: _schemas, cluster: dev}\n"
    "  - {name: Orders, cluster: dev}\n"
    "  - {name: payments, cluster: Prod_EU}\n"
    "services:\n"
    "  - name: billing\n"
    "    consumes: [Prod_EU/orders, dev/orders]\n"
    "    produces: [Prod_EU/payments]\n"
    "  - name: orders-api\n"
    "    principal: User:orders-api\n"
    "    produces: [Prod_EU/orders]\n"
    "  - name: User:Auditor\n"
    "    consumes: [Prod_EU/payments]\n"
    "  - name: nobody-knows-me\n"
    "    consumes: [Prod_EU/payments]\n";

static struct json_object *get(struct json_object *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *key = strtok(buf, "."); key && o; key = strtok(NULL, "."))
        if (!json_object_object_get_ex(o, key, &o))
            return NULL;
    return o;
}

static const char *str(struct json_object *o, const char *path)
{
    struct json_object *v = get(o, path);
    return v ? json_object_get_string(v) : NULL;
}

static const km_entity_t *entity(const km_result_t *r, const char *ns, const char *name)
{
    for (size_t i = 0; i < r->nentities; i++) {
        struct json_object *e = r->entities[i].entity;
        if (strcmp(str(e, "metadata.namespace"), ns) == 0 &&
            strcmp(str(e, "metadata.name"), name) == 0)
            return &r->entities[i];
    }
    return NULL;
}

static char *deps(const km_entity_t *e)
{
    gr_buf_t b = {0};
    gr_buf_puts(&b, "");
    struct json_object *list = get(e->entity, "spec.dependencyOf");
    for (size_t i = 0; list && i < json_object_array_length(list); i++)
        gr_buf_printf(&b, "%s%s", i ? "," : "",
                      json_object_get_string(json_object_array_get_idx(list, i)));
    return gr_buf_steal(&b);
}

TEST(test_names_and_namespaces)
{
    char out[64];
    km_namespace("Prod_EU", out);
    CHECK_STR(out, "prod-eu");
    km_namespace("__", out);
    CHECK_STR(out, "default");
    CHECK(km_name("orders.v1_events-x", out) == 0);
    CHECK_STR(out, "orders.v1_events-x");
    CHECK(km_name("__consumer_offsets", out) == 0);
    CHECK_STR(out, "consumer_offsets");
    CHECK(km_name("a b/c", out) == 0);
    CHECK_STR(out, "a-b-c");
    /* Longer than 63: cut, with a hash of the full name to stay unique. */
    char longname[200];
    memset(longname, 'x', 150);
    longname[150] = '\0';
    CHECK(km_name(longname, out) == 1);
    CHECK(strlen(out) <= 63);
    CHECK(out[strlen(out) - 9] == '-');
    char other[64];
    longname[149] = 'y';
    km_name(longname, other);
    CHECK(strcmp(out, other) != 0);
    CHECK(km_name("...", out) == 1);
    CHECK(strlen(out) == 8);
}

TEST(test_entities_and_relations)
{
    kafka_topology_t *t = kafka_test_text("topics/all.yaml", topology);
    km_components_t comps = {0};
    km_components_add(&comps, "component:default/billing", "Billing", NULL);
    km_components_add(&comps, "component:default/orders-service", "orders-service",
                      " something , orders-api ");
    km_components_add(&comps, "component:team-x/auditor", "auditor", NULL);
    km_components_add(&comps, "component:default/unrelated", "unrelated", NULL);
    km_result_t r;
    km_build(t, "file:/srv/kafka/", &comps, "group:default/platform", &r);
    CHECK(r.nentities == 5);

    const km_entity_t *orders = entity(&r, "prod-eu", "orders");
    REQUIRE(orders);
    struct json_object *e = orders->entity;
    CHECK_STR(str(e, "kind"), "Resource");
    CHECK_STR(str(e, "spec.type"), "kafka-topic");
    CHECK_STR(str(e, "spec.owner"), "group:default/platform");
    CHECK_STR(str(e, "metadata.title"), "orders");
    struct json_object *ann = get(e, "metadata.annotations");
    struct json_object *v = NULL;
    CHECK(json_object_object_get_ex(ann, KM_ANNOTATION_CLUSTER, &v) &&
          strcmp(json_object_get_string(v), "Prod_EU") == 0);
    CHECK(json_object_object_get_ex(ann, KM_ANNOTATION_SOURCE, &v) &&
          strcmp(json_object_get_string(v), "topics/all.yaml:5") == 0);
    CHECK(json_object_object_get_ex(ann, "backstage.io/managed-by-location", &v) &&
          strcmp(json_object_get_string(v), "file:/srv/kafka/topics/all.yaml") == 0);
    CHECK_STR(orders->location, "file:/srv/kafka/topics/all.yaml");
    CHECK(orders->line == 5);
    CHECK_CONTAINS(str(e, "metadata.description"), "12 partitions, replication factor 3");
    char *d = deps(orders);
    /* By name (any case), and by the annotation naming the producer. */
    CHECK_STR(d, "component:default/billing,component:default/orders-service");
    free(d);

    d = deps(entity(&r, "prod-eu", "payments"));
    /* "User:Auditor" matches the Component named after its last part. */
    CHECK_STR(d, "component:default/billing,component:team-x/auditor");
    free(d);
    d = deps(entity(&r, "dev", "orders"));
    CHECK_STR(d, "component:default/billing");
    free(d);
    CHECK(get(entity(&r, "dev", "schemas")->entity, "spec.dependencyOf") == NULL);
    CHECK(r.relations == 5);
    CHECK(r.services == 4);
    CHECK(r.matched == 3);
    REQUIRE(r.unmatched.len == 1);
    CHECK_STR(r.unmatched.items[0], "nobody-knows-me");

    /* "orders" and "Orders" clash in dev (Backstage compares names without
     * case): the first keeps the name, the second gets a hashed one. */
    const km_entity_t *second = NULL;
    for (size_t i = 0; i < r.nentities; i++)
        if (strcmp(str(r.entities[i].entity, "metadata.title"), "Orders") == 0)
            second = &r.entities[i];
    REQUIRE(second);
    CHECK(strncmp(str(second->entity, "metadata.name"), "Orders-", 7) == 0);

    /* Every entity passes the catalog's own validation. */
    for (size_t i = 0; i < r.nentities; i++) {
        catalog_issues_t issues = {0};
        catalog_entity_apply_defaults(r.entities[i].entity);
        CHECK(catalog_entity_validate(r.entities[i].entity, &issues) == 0);
        for (size_t k = 0; k < issues.len; k++)
            fprintf(stderr, "  %s\n", issues.items[k].message);
        catalog_issues_free(&issues);
    }
    km_result_free(&r);
    km_components_free(&comps);
    kafka_topology_free(t);
}

TEST(test_no_components_no_relations)
{
    kafka_topology_t *t = kafka_test_text("t.yaml", topology);
    km_components_t comps = {0};
    km_result_t r;
    km_build(t, NULL, &comps, "group:default/platform", &r);
    CHECK(r.nentities == 5 && r.relations == 0 && r.matched == 0 && r.services == 4);
    CHECK(r.entities[0].location == NULL);
    km_result_free(&r);
    kafka_topology_free(t);
}

/* The Components as the catalog's read answers them (projected to kind
 * and metadata): refs canonical, names and the principal annotation kept,
 * and then matched as Components added one by one are. */
TEST(test_components_from_entities)
{
    struct json_object *entities = json_tokener_parse(
        "[{\"kind\":\"Component\",\"metadata\":{\"name\":\"Billing\"}},"
        "{\"kind\":\"Component\",\"metadata\":{\"name\":\"orders-service\","
        "\"namespace\":\"default\",\"annotations\":{\"" KM_ANNOTATION_PRINCIPAL
        "\":\"orders-api\",\"other\":\"x\"}}},"
        "{\"kind\":\"Component\",\"metadata\":{\"name\":\"auditor\",\"namespace\":\"Team-X\","
        "\"annotations\":{\"" KM_ANNOTATION_PRINCIPAL "\":7}}},"
        "{\"kind\":\"Component\",\"metadata\":{}},"
        "{\"metadata\":{\"name\":\"no-kind\"}}]");
    REQUIRE(entities);
    km_components_t comps = {0};
    km_components_from_entities(&comps, entities);
    json_object_put(entities);
    REQUIRE(comps.len == 3);
    CHECK_STR(comps.items[0].ref, "component:default/billing");
    CHECK_STR(comps.items[0].name, "billing");
    CHECK(comps.items[0].principals == NULL);
    CHECK_STR(comps.items[1].ref, "component:default/orders-service");
    CHECK_STR(comps.items[1].principals, "orders-api");
    /* Only a string annotation names principals. */
    CHECK_STR(comps.items[2].ref, "component:team-x/auditor");
    CHECK(comps.items[2].principals == NULL);

    kafka_topology_t *t = kafka_test_text("t.yaml", topology);
    km_result_t r;
    km_build(t, NULL, &comps, "group:default/platform", &r);
    char *d = deps(entity(&r, "prod-eu", "orders"));
    CHECK_STR(d, "component:default/billing,component:default/orders-service");
    free(d);
    CHECK(r.matched == 3);
    km_result_free(&r);
    kafka_topology_free(t);
    km_components_free(&comps);

    /* Not an array: nothing. */
    km_components_from_entities(&comps, NULL);
    CHECK(comps.len == 0);
}

TEST_MAIN(TEST_ENTRY(test_names_and_namespaces), TEST_ENTRY(test_entities_and_relations),
          TEST_ENTRY(test_no_components_no_relations), TEST_ENTRY(test_components_from_entities))
