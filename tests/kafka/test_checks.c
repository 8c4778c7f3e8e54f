/* The checks, each reported with its file and line: a replication factor
 * above the cluster's brokers, a topic defined twice with different
 * settings, refs to undefined topics and principals, an unknown format,
 * malformed YAML and JSON; and how problems are ordered and formatted. */
#include "kafka_test.h"

static const char *const cluster_yaml = "clusters:\n"
                                        "  - name: prod\n"
                                        "    brokers:\n"
                                        "      - {id: 1}\n"
                                        "      - {id: 2}\n";

TEST(test_replication_above_brokers)
{
    kafka_topology_t *t = kafka_test_texts(NULL, "clusters.yaml", cluster_yaml, "topics.yaml",
                                           "topics:\n"
                                           "  - name: ok\n"
                                           "    cluster: prod\n"
                                           "    replicationFactor: 2\n"
                                           "  - name: wide\n"
                                           "    cluster: prod\n"
                                           "    partitions: 6\n"
                                           "    replicationFactor: 3\n",
                                           (const char *)NULL);
    REQUIRE(t->nproblems == 1);
    const kafka_problem_t *p = &t->problems[0];
    CHECK_STR(p->check, KAFKA_CHECK_REPLICATION);
    CHECK(p->severity == KAFKA_SEVERITY_ERROR);
    CHECK_STR(p->pos.file, "topics.yaml");
    CHECK(p->pos.line == 8);
    CHECK(p->pos.column == 24);
    CHECK_CONTAINS(p->message, "topic 'wide' asks for replication factor 3 but cluster 'prod' "
                               "has 2 brokers (described at clusters.yaml:2)");
    kafka_topology_free(t);

    /* A cluster whose brokers nobody lists is not checked. */
    t = kafka_test_text("t.yaml", "topics:\n  - name: x\n    replicationFactor: 9\n");
    CHECK(t->nproblems == 0);
    kafka_topology_free(t);
}

TEST(test_duplicate_topic)
{
    kafka_topology_t *t = kafka_test_texts(
        NULL, "a.yaml", "topics:\n  - name: orders\n    partitions: 3\n    config: {x: 1}\n",
        "b.yaml",
        "topics:\n  - name: other\n  - name: orders\n    partitions: 6\n    config: {x: 2, y: 1}\n",
        "c.yaml", "topics:\n  - name: orders\n    partitions: 3\n    config: {x: \"1\"}\n",
        (const char *)NULL);
    /* c.yaml says the same as a.yaml (1 and "1" are the same config text). */
    REQUIRE(kafka_test_count(t, KAFKA_CHECK_DUPLICATE_TOPIC) == 1);
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_DUPLICATE_TOPIC);
    CHECK(p->severity == KAFKA_SEVERITY_ERROR);
    CHECK_STR(p->pos.file, "b.yaml");
    CHECK(p->pos.line == 3);
    CHECK_CONTAINS(p->message, "partitions 6 here, partitions 3 there");
    CHECK_CONTAINS(p->message, "x=2 here, 1 there");
    CHECK_CONTAINS(p->message, "y=1 only here");
    CHECK_CONTAINS(p->message, "the definition at a.yaml:2 is kept");
    /* The first definition is the one kept. */
    CHECK(kafka_topology_topic(t, NULL, "orders")->partitions == 3);
    CHECK(t->ntopics == 2);
    kafka_topology_free(t);
}

TEST(test_undefined_topic_and_principal)
{
    kafka_topology_t *t = kafka_test_text("s.yaml", "topics:\n"
                                                    "  - name: orders\n"
                                                    "    producers: [orders-api]\n"
                                                    "services:\n"
                                                    "  - name: billing\n"
                                                    "    consumes: [orders, refunds]\n");
    CHECK(t->nproblems == 2);
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_UNDEFINED_PRINCIPAL);
    REQUIRE(p);
    CHECK(p->severity == KAFKA_SEVERITY_WARNING);
    CHECK_STR(p->pos.file, "s.yaml");
    CHECK(p->pos.line == 3);
    CHECK(p->pos.column == 17);
    CHECK_CONTAINS(p->message, "'orders-api'");
    p = kafka_test_problem(t, KAFKA_CHECK_UNDEFINED_TOPIC);
    REQUIRE(p);
    CHECK(p->pos.line == 6);
    CHECK(p->pos.column == 24);
    CHECK_CONTAINS(p->message, "'billing' consumes from topic 'refunds'");
    /* The edge is kept, to a topic marked as defined nowhere. */
    CHECK(kafka_test_edge(t, "billing", KAFKA_CONSUMES, "refunds"));
    /* Declared later, in another file, the principal is fine. */
    kafka_topology_free(t);
    t = kafka_test_texts(NULL, "a.yaml", "topics:\n  - name: o\n    producers: [api]\n", "b.yaml",
                         "services:\n  - name: api\n", (const char *)NULL);
    CHECK(t->nproblems == 0);
    CHECK(kafka_topology_principal(t, "api")->declared);
    CHECK(kafka_topology_principal(t, "api")->pos.line == 2);
    kafka_topology_free(t);
}

TEST(test_unknown_format)
{
    kafka_topology_t *t = kafka_test_texts(
        NULL, "ci.yaml", "# a CI file\n\non:\n  push: {}\njobs: {}\n", "empty.yaml", "", "k8s.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n", (const char *)NULL);
    REQUIRE(kafka_test_count(t, KAFKA_CHECK_UNKNOWN_FORMAT) == 3);
    for (size_t i = 0; i < t->nfiles; i++)
        CHECK(t->files[i].format == KAFKA_FORMAT_UNKNOWN);
    CHECK_STR(t->problems[0].pos.file, "ci.yaml");
    CHECK(t->problems[0].pos.line == 3);
    CHECK(t->problems[0].severity == KAFKA_SEVERITY_WARNING);
    CHECK_CONTAINS(t->problems[0].message, "in no format this module reads");
    CHECK_STR(t->problems[1].pos.file, "empty.yaml");
    CHECK_CONTAINS(t->problems[1].message, "holds no YAML or JSON document");
    kafka_topology_free(t);
}

TEST(test_malformed_yaml)
{
    kafka_topology_t *t = kafka_test_text("bad.yaml", "topics:\n"
                                                      "  - name: a\n"
                                                      "    partitions: [1, 2\n"
                                                      "  - name: b\n");
    REQUIRE(t->nproblems == 1);
    const kafka_problem_t *p = &t->problems[0];
    CHECK_STR(p->check, KAFKA_CHECK_SYNTAX);
    CHECK(p->severity == KAFKA_SEVERITY_ERROR);
    CHECK_STR(p->pos.file, "bad.yaml");
    CHECK(p->pos.line == 4);
    CHECK(p->pos.column == 9);
    CHECK_CONTAINS(p->message, "flow sequence that starts at line 3, column 17");
    char *s = kafka_problem_format(p);
    CHECK_CONTAINS(s, "bad.yaml:4:9: error: YAML syntax error");
    free(s);
    kafka_topology_free(t);

    /* A broken document in a multi-document file does not lose the
     * others; a tab where YAML forbids one is reported on its line. */
    t = kafka_test_text("multi.yaml", "apiVersion: kafka.strimzi.io/v1\nkind: KafkaTopic\n"
                                      "metadata:\n  name: one\n---\n"
                                      "apiVersion: kafka.strimzi.io/v1\nkind: KafkaTopic\n"
                                      "metadata:\n\tname: two\n---\n"
                                      "apiVersion: kafka.strimzi.io/v1\nkind: KafkaTopic\n"
                                      "metadata:\n  name: three\n");
    CHECK(kafka_test_count(t, KAFKA_CHECK_SYNTAX) == 1);
    p = kafka_test_problem(t, KAFKA_CHECK_SYNTAX);
    REQUIRE(p);
    CHECK(p->pos.line == 9);
    CHECK(kafka_topology_topic(t, NULL, "one") != NULL);
    CHECK(kafka_topology_topic(t, NULL, "three") != NULL);
    CHECK(t->ntopics == 2);
    kafka_topology_free(t);

    /* Duplicate keys are refused, as kafka-gitops's strict reader does. */
    t = kafka_test_text("dup.yaml", "topics:\n  a:\n    partitions: 1\n    partitions: 2\n");
    p = kafka_test_problem(t, KAFKA_CHECK_SYNTAX);
    REQUIRE(p);
    CHECK(p->pos.line == 4);
    CHECK_CONTAINS(p->message, "duplicate key 'partitions'");
    kafka_topology_free(t);
}

TEST(test_malformed_json)
{
    kafka_topology_t *t = kafka_test_text(
        "descriptor.json", "{\n  \"context\": \"c\",\n  \"projects\": [\n    {\"name\": }\n  ]\n}");
    REQUIRE(t->nproblems == 1);
    CHECK_STR(t->problems[0].check, KAFKA_CHECK_SYNTAX);
    CHECK(t->problems[0].pos.line == 4);
    CHECK_CONTAINS(t->problems[0].message, "JSON syntax error");
    kafka_topology_free(t);
}

/* Problems come sorted by file (in the order added), then line and column,
 * whatever check found them. */
TEST(test_problem_order)
{
    kafka_topology_t *t = kafka_test_texts(
        NULL, "a.yaml",
        "topics:\n  - name: x\n    consumers: [ghost]\n  - name: y\n    partitions: -1\n", "b.yaml",
        "topics: [\n", (const char *)NULL);
    REQUIRE(t->nproblems == 3);
    CHECK_STR(t->problems[0].pos.file, "a.yaml");
    CHECK(t->problems[0].pos.line == 3);
    CHECK_STR(t->problems[0].check, KAFKA_CHECK_UNDEFINED_PRINCIPAL);
    CHECK(t->problems[1].pos.line == 5);
    CHECK_STR(t->problems[1].check, KAFKA_CHECK_INVALID);
    CHECK_STR(t->problems[2].pos.file, "b.yaml");
    CHECK_STR(t->problems[2].check, KAFKA_CHECK_SYNTAX);
    CHECK(kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR) == 2);
    CHECK(kafka_topology_count_problems(t, KAFKA_SEVERITY_WARNING) == 1);
    kafka_topology_free(t);
}

/* A path that does not exist is the caller's error; a directory is read
 * recursively in name order, skipping dot-files and other extensions. */
TEST(test_load_paths)
{
    kafka_topology_t *t = kafka_topology_new(NULL);
    gr_error_t err = {0};
    CHECK(kafka_topology_load(t, KAFKA_TESTDATA "/no-such-dir", KAFKA_FORMAT_AUTO, &err) ==
          GR_ERR_IO);
    CHECK_CONTAINS(err.message, "no-such-dir");
    CHECK(kafka_topology_load(t, KAFKA_TESTDATA "/julieops/", KAFKA_FORMAT_AUTO, &err) == 0);
    kafka_topology_finish(t);
    CHECK(t->nfiles == 13);
    CHECK(kafka_test_ends_with(t->files[0].path, "julieops/descriptor-only-platform.yaml"));
    CHECK(kafka_test_ends_with(t->files[8].path,
                               "julieops/dir_with_multiple/0-descriptor-context2.yml"));
    CHECK(kafka_test_ends_with(t->files[12].path, "julieops/plans.yaml"));
    kafka_topology_free(t);
}

TEST_MAIN(TEST_ENTRY(test_replication_above_brokers), TEST_ENTRY(test_duplicate_topic),
          TEST_ENTRY(test_undefined_topic_and_principal), TEST_ENTRY(test_unknown_format),
          TEST_ENTRY(test_malformed_yaml), TEST_ENTRY(test_malformed_json),
          TEST_ENTRY(test_problem_order), TEST_ENTRY(test_load_paths))
