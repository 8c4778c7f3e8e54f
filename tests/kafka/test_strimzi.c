/* Strimzi custom resources: the KafkaTopic files of
 * ../shared/testdata/kafka/strimzi/ (copies of strimzi-kafka-operator's
 * examples, each test names its file), and Kafka, KafkaNodePool,
 * KafkaUser and KafkaConnector documents written here. */
#include "kafka_test.h"

/* strimzi/kafka-topic.v1.yaml, .v1beta2.yaml and .v1alpha1.yaml: the same
 * topic in three API versions (v1alpha1 with whitespace-only lines at the
 * end); read together they are one topic, defined identically. */
TEST(test_kafka_topic_versions)
{
    const char *files[] = {"strimzi/kafka-topic.v1.yaml", "strimzi/kafka-topic.v1beta2.yaml",
                           "strimzi/kafka-topic.v1alpha1.yaml"};
    for (size_t i = 0; i < 3; i++) {
        kafka_topology_t *t = kafka_test_load(files[i]);
        CHECK(t->nproblems == 0);
        CHECK(t->files[0].format == KAFKA_FORMAT_STRIMZI);
        REQUIRE(t->ntopics == 1);
        const kafka_topic_t *tp = kafka_topology_topic(t, "my-cluster", "my-topic");
        REQUIRE(tp);
        CHECK(tp->partitions == 1);
        CHECK(tp->replication == 1);
        CHECK(tp->pos.line == 4);
        CHECK(tp->replication_pos.line == 9);
        CHECK(tp->nconfig == 2);
        CHECK_STR(kafka_topic_config(tp, "retention.ms"), "7200000");
        CHECK_STR(kafka_topic_config(tp, "segment.bytes"), "1073741824");
        kafka_topology_free(t);
    }
    kafka_topology_t *t = kafka_test_load(files[0], files[1], files[2]);
    CHECK(t->nproblems == 0);
    CHECK(t->ntopics == 1);
    kafka_topology_free(t);
}

/* strimzi/KafkaTopic-minimal.yaml: spec: {} and no cluster label: the
 * default cluster, with the cluster's default partitions and replicas. */
TEST(test_kafka_topic_minimal)
{
    kafka_topology_t *t = kafka_test_load("strimzi/KafkaTopic-minimal.yaml");
    CHECK(t->nproblems == 0);
    const kafka_topic_t *tp = kafka_topology_topic(t, "default", "my-topic");
    REQUIRE(tp);
    CHECK(tp->partitions == 0 && tp->replication == 0 && tp->nconfig == 0);
    kafka_topology_free(t);
}

/* strimzi/topic-template.yaml: an OpenShift Template whose KafkaTopic uses
 * ${TOPIC_NAME}, "${CLUSTER_NAME}" and ${{TOPIC_PARTITIONS}}: the
 * parameters' values are substituted, ${{...}} read as JSON. */
TEST(test_openshift_template)
{
    kafka_topology_t *t = kafka_test_load("strimzi/topic-template.yaml");
    if (t->nproblems)
        kafka_test_dump(t);
    CHECK(t->nproblems == 0);
    CHECK(t->files[0].format == KAFKA_FORMAT_STRIMZI);
    REQUIRE(t->ntopics == 1);
    const kafka_topic_t *tp = kafka_topology_topic(t, "my-cluster", "my-topic");
    REQUIRE(tp);
    CHECK(tp->partitions == 1);
    CHECK(tp->replication == 1);
    CHECK(tp->nconfig == 0); /* TOPIC_CONFIG is "{}" */
    CHECK(tp->pos.line == 48);
    CHECK(tp->replication_pos.line == 53);
    kafka_topology_free(t);

    /* The whole strimzi/ folder: the template's my-topic has no config,
     * the others two settings: the same topic defined differently. */
    t = kafka_test_load("strimzi");
    CHECK(kafka_test_count(t, KAFKA_CHECK_DUPLICATE_TOPIC) == 1);
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_DUPLICATE_TOPIC);
    REQUIRE(p);
    CHECK(kafka_test_ends_with(p->pos.file, "topic-template.yaml"));
    CHECK(p->pos.line == 48);
    CHECK_CONTAINS(p->message, "retention.ms=7200000 only there");
    kafka_topology_free(t);
}

/* A parameter without a value keeps its placeholder and is reported. */
TEST(test_template_parameter_without_value)
{
    kafka_topology_t *t = kafka_test_text(
        "t.yaml", "apiVersion: template.openshift.io/v1\nkind: Template\nparameters:\n"
                  "- name: NAME\nobjects:\n- apiVersion: kafka.strimzi.io/v1\n  kind: KafkaTopic\n"
                  "  metadata:\n    name: ${NAME}\n  spec:\n    partitions: ${{PARTS}}\n");
    CHECK(kafka_topology_topic(t, NULL, "${NAME}") != NULL);
    CHECK(kafka_test_count(t, KAFKA_CHECK_INVALID) == 3); /* no value, undeclared, bad count */
    kafka_topology_free(t);
}

static const char *const cluster_yaml =
    "# A KRaft cluster with two node pools and a ZooKeeper-era one.\n"
    "apiVersion: kafka.strimzi.io/v1beta2\n"
    "kind: Kafka\n"
    "metadata:\n"
    "  name: prod\n"
    "  annotations:\n"
    "    strimzi.io/node-pools: enabled\n"
    "spec:\n"
    "  kafka:\n"
    "    listeners:\n"
    "      - {name: tls, port: 9093, type: internal, tls: true}\n"
    "---\n"
    "apiVersion: kafka.strimzi.io/v1beta2\n"
    "kind: KafkaNodePool\n"
    "metadata:\n"
    "  name: brokers\n"
    "  labels: {strimzi.io/cluster: prod}\n"
    "spec:\n"
    "  replicas: 2\n"
    "  roles: [broker]\n"
    "---\n"
    "apiVersion: kafka.strimzi.io/v1beta2\n"
    "kind: KafkaNodePool\n"
    "metadata:\n"
    "  name: controllers\n"
    "  labels: {strimzi.io/cluster: prod}\n"
    "spec:\n"
    "  replicas: 3\n"
    "  roles: [controller]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: ConfigMap\n"
    "metadata:\n"
    "  name: metrics\n"
    "---\n"
    "apiVersion: kafka.strimzi.io/v1beta1\n"
    "kind: Kafka\n"
    "metadata:\n"
    "  name: legacy\n"
    "spec:\n"
    "  kafka:\n"
    "    replicas: 3\n";

static const char *const topics_yaml =
    "apiVersion: kafka.strimzi.io/v1\n"
    "kind: KafkaTopic\n"
    "metadata:\n"
    "  name: orders-topic\n"
    "  labels: {strimzi.io/cluster: prod}\n"
    "spec:\n"
    "  topicName: orders.v1\n"
    "  partitions: 6\n"
    "  replicas: 2\n"
    "---\n"
    "apiVersion: kafka.strimzi.io/v1\n"
    "kind: KafkaTopic\n"
    "metadata:\n"
    "  name: payments\n"
    "  labels: {strimzi.io/cluster: prod}\n"
    "spec:\n"
    "  partitions: 3\n"
    "  replicas: 2\n"
    "---\n"
    "apiVersion: kafka.strimzi.io/v1beta2\n"
    "kind: KafkaUser\n"
    "metadata:\n"
    "  name: billing\n"
    "  labels: {strimzi.io/cluster: prod}\n"
    "spec:\n"
    "  authentication: {type: tls}\n"
    "  authorization:\n"
    "    type: simple\n"
    "    acls:\n"
    "      - resource: {type: topic, name: orders.v1, patternType: literal}\n"
    "        operations: [Read, Describe]\n"
    "      - resource: {type: topic, name: pay, patternType: prefix}\n"
    "        operations: [All]\n"
    "      - resource: {type: group, name: billing}\n"
    "        operations: [Read]\n"
    "      - resource: {type: topic, name: orders.v1}\n"
    "        operation: Write\n"
    "        type: deny\n"
    "---\n"
    "apiVersion: kafka.strimzi.io/v1alpha1\n"
    "kind: KafkaUser\n"
    "metadata:\n"
    "  name: legacy-app\n"
    "  labels: {strimzi.io/cluster: prod}\n"
    "spec:\n"
    "  authentication: {type: scram-sha-512}\n"
    "  authorization:\n"
    "    type: simple\n"
    "    acls:\n"
    "      - resource: {type: topic, name: orders.v1}\n"
    "        operation: Write\n";

/* Kafka, KafkaNodePool, KafkaTopic and KafkaUser documents: node pools with
 * the broker role give the brokers; spec.topicName overrides the name;
 * user ACLs become rights (Write produces, Read consumes, All both, deny
 * and group ACLs nothing); a ConfigMap in the file is skipped. */
TEST(test_cluster_topics_users)
{
    kafka_topology_t *t = kafka_test_texts(NULL, "cluster.yaml", cluster_yaml, "topics.yaml",
                                           topics_yaml, (const char *)NULL);
    if (t->nproblems)
        kafka_test_dump(t);
    CHECK(t->nproblems == 0);
    const kafka_cluster_t *prod = kafka_topology_cluster(t, "prod");
    REQUIRE(prod);
    CHECK(prod->declared);
    CHECK_STR(prod->bootstrap, "prod-kafka-bootstrap:9093");
    REQUIRE(prod->nbrokers == 2);
    CHECK(prod->brokers[0].id == 0 && prod->brokers[1].id == 1);
    CHECK_STR(prod->brokers[1].host, "prod-brokers-1");
    const kafka_cluster_t *legacy = kafka_topology_cluster(t, "legacy");
    REQUIRE(legacy);
    CHECK(legacy->nbrokers == 3);
    CHECK_STR(legacy->brokers[2].host, "legacy-kafka-2");

    CHECK(kafka_topology_topic(t, "prod", "orders-topic") == NULL);
    const kafka_topic_t *orders = kafka_topology_topic(t, "prod", "orders.v1");
    REQUIRE(orders);
    CHECK(orders->pos.line == 7);

    const kafka_principal_t *billing = kafka_topology_principal(t, "billing");
    REQUIRE(billing);
    CHECK(billing->kind == KAFKA_KIND_USER);
    CHECK_STR(billing->principal, "User:CN=billing");
    CHECK(kafka_test_edge(t, "billing", KAFKA_CONSUMES, "orders.v1"));
    CHECK(!kafka_test_edge(t, "billing", KAFKA_PRODUCES, "orders.v1")); /* deny */
    CHECK(kafka_test_edge(t, "billing", KAFKA_PRODUCES, "payments"));
    CHECK(kafka_test_edge(t, "billing", KAFKA_CONSUMES, "payments"));
    CHECK(kafka_test_edges_of(t, "billing") == 3);
    const kafka_principal_t *legacy_app = kafka_topology_principal(t, "legacy-app");
    REQUIRE(legacy_app);
    CHECK_STR(legacy_app->principal, "User:legacy-app");
    CHECK(kafka_test_edge(t, "legacy-app", KAFKA_PRODUCES, "orders.v1"));
    kafka_topology_free(t);
}

/* The replication check against node pools. */
TEST(test_replicas_above_pool)
{
    kafka_topology_t *t =
        kafka_test_texts(NULL, "cluster.yaml", cluster_yaml, "topic.yaml",
                         "apiVersion: kafka.strimzi.io/v1\nkind: KafkaTopic\nmetadata:\n"
                         "  name: wide\n  labels: {strimzi.io/cluster: prod}\nspec:\n"
                         "  partitions: 1\n  replicas: 3\n",
                         (const char *)NULL);
    REQUIRE(kafka_test_count(t, KAFKA_CHECK_REPLICATION) == 1);
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_REPLICATION);
    CHECK_STR(p->pos.file, "topic.yaml");
    CHECK(p->pos.line == 8);
    CHECK_CONTAINS(p->message, "replication factor 3 but cluster 'prod' has 2 brokers");
    kafka_topology_free(t);
}

/* KafkaConnect and KafkaConnector: a sink's topics setting is what the
 * connector consumes; the connector runs in its Connect cluster. */
TEST(test_connect_and_connectors)
{
    kafka_topology_t *t = kafka_test_text(
        "connect.yaml",
        "apiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaConnect\nmetadata:\n  name: connect\n"
        "spec:\n  bootstrapServers: prod-kafka-bootstrap:9092\n---\n"
        "apiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaConnector\nmetadata:\n"
        "  name: s3-sink\n  labels: {strimzi.io/cluster: connect}\nspec:\n"
        "  class: io.confluent.connect.s3.S3SinkConnector\n  config:\n"
        "    topics: \"orders, payments\"\n");
    const kafka_connector_t *c = kafka_topology_connector(t, "s3-sink");
    REQUIRE(c);
    CHECK_STR(c->class_name, "io.confluent.connect.s3.S3SinkConnector");
    REQUIRE(c->principal != KAFKA_NONE);
    CHECK(t->principals[c->principal].kind == KAFKA_KIND_CONNECT);
    CHECK(t->principals[c->principal].declared);
    CHECK(c->nconsumes == 2);
    CHECK_STR(c->refs[1].topic, "payments");
    CHECK(kafka_test_count(t, KAFKA_CHECK_UNDEFINED_TOPIC) == 2);
    CHECK(kafka_test_count(t, KAFKA_CHECK_UNDEFINED_PRINCIPAL) == 0);
    kafka_topology_free(t);
}

/* An API version this module does not know is read, with a warning. */
TEST(test_unknown_api_version)
{
    kafka_topology_t *t = kafka_test_text(
        "t.yaml", "apiVersion: kafka.strimzi.io/v2\nkind: KafkaTopic\nmetadata:\n  name: x\n");
    CHECK(t->ntopics == 1);
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_INVALID);
    REQUIRE(p);
    CHECK(p->severity == KAFKA_SEVERITY_WARNING);
    CHECK(p->pos.line == 1);
    kafka_topology_free(t);
}

TEST_MAIN(TEST_ENTRY(test_kafka_topic_versions), TEST_ENTRY(test_kafka_topic_minimal),
          TEST_ENTRY(test_openshift_template), TEST_ENTRY(test_template_parameter_without_value),
          TEST_ENTRY(test_cluster_topics_users), TEST_ENTRY(test_replicas_above_pool),
          TEST_ENTRY(test_connect_and_connectors), TEST_ENTRY(test_unknown_api_version))
