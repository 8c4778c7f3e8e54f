/* The plain format (parse_plain.c documents it) and format detection:
 * content decides, a forced format overrides. */
#include "kafka_test.h"

static const char *const plain_yaml =
    "clusters:\n"                                                     /* 1 */
    "  - name: prod\n"                                                /* 2 */
    "    bootstrap: kafka-1.prod:9092\n"                              /* 3 */
    "    brokers:\n"                                                  /* 4 */
    "      - {id: 1, host: kafka-1.prod, rack: a}\n"                  /* 5 */
    "      - {id: 2, host: kafka-2.prod, rack: b}\n"                  /* 6 */
    "      - {id: 3, host: kafka-3.prod}\n"                           /* 7 */
    "topics:\n"                                                       /* 8 */
    "  - name: orders\n"                                              /* 9 */
    "    partitions: 12\n"                                            /* 10 */
    "    replicationFactor: 3\n"                                      /* 11 */
    "    config: {cleanup.policy: compact, min.insync.replicas: 2}\n" /* 12 */
    "    producers: [orders-api]\n"                                   /* 13 */
    "    consumers: [billing, audit]\n"                               /* 14 */
    "  - name: payments\n"                                            /* 15 */
    "    partitions: 3\n"                                             /* 16 */
    "services:\n"                                                     /* 17 */
    "  - name: orders-api\n"                                          /* 18 */
    "    principal: User:orders-api\n"                                /* 19 */
    "  - name: billing\n"                                             /* 20 */
    "    kind: kafka-streams\n"                                       /* 21 */
    "    applicationId: billing-agg\n"                                /* 22 */
    "    produces: [payments]\n"                                      /* 23 */
    "  - name: audit\n"                                               /* 24 */
    "    kind: user\n"                                                /* 25 */
    "    consumes: [staging/orders]\n"                                /* 26 */
    "  - name: connect-prod\n"                                        /* 27 */
    "    kind: kafka-connect\n"                                       /* 28 */
    "connectors:\n"                                                   /* 29 */
    "  - name: orders-to-s3\n"                                        /* 30 */
    "    service: connect-prod\n"                                     /* 31 */
    "    class: io.confluent.connect.s3.S3SinkConnector\n"            /* 32 */
    "    consumes: [orders]\n";                                       /* 33 */

/* A file in the plain format: its cluster, brokers, topics (in the file's
 * one cluster), services with kinds, a streams app and a connector. */
TEST(test_plain_format)
{
    kafka_topology_t *t = kafka_test_text("topology.yaml", plain_yaml);
    CHECK(t->files[0].format == KAFKA_FORMAT_PLAIN);
    /* audit consumes staging/orders, a topic of a cluster nobody defines. */
    CHECK(kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR) == 0);
    CHECK(kafka_test_count(t, KAFKA_CHECK_UNDEFINED_TOPIC) == 1);
    const kafka_cluster_t *prod = kafka_topology_cluster(t, "prod");
    REQUIRE(prod);
    CHECK(prod->declared);
    CHECK_STR(prod->bootstrap, "kafka-1.prod:9092");
    REQUIRE(prod->nbrokers == 3);
    CHECK(prod->brokers[1].id == 2);
    CHECK_STR(prod->brokers[1].rack, "b");
    CHECK(prod->brokers[2].rack == NULL);

    const kafka_topic_t *orders = kafka_topology_topic(t, "prod", "orders");
    REQUIRE(orders);
    CHECK(orders->partitions == 12 && orders->replication == 3);
    CHECK(orders->pos.line == 9);
    CHECK(orders->replication_pos.line == 11);
    CHECK_STR(kafka_topic_config(orders, "min.insync.replicas"), "2");
    CHECK(kafka_topology_topic(t, "prod", "payments")->replication == 0);

    CHECK(kafka_test_edge(t, "orders-api", KAFKA_PRODUCES, "orders"));
    CHECK(kafka_test_edge(t, "billing", KAFKA_CONSUMES, "orders"));
    CHECK(kafka_test_edge(t, "billing", KAFKA_PRODUCES, "payments"));
    CHECK(kafka_test_edge(t, "audit", KAFKA_CONSUMES, "orders"));
    CHECK(kafka_test_edge(t, "connector:orders-to-s3", KAFKA_CONSUMES, "orders"));
    CHECK_STR(kafka_topology_principal(t, "orders-api")->principal, "User:orders-api");
    CHECK(kafka_topology_principal(t, "billing")->kind == KAFKA_KIND_STREAMS);
    CHECK(kafka_topology_principal(t, "audit")->kind == KAFKA_KIND_USER);
    REQUIRE(t->nstreams_apps == 1);
    CHECK_STR(t->streams_apps[0].application_id, "billing-agg");
    const kafka_connector_t *c = kafka_topology_connector(t, "orders-to-s3");
    REQUIRE(c && c->principal != KAFKA_NONE);
    CHECK_STR(t->principals[c->principal].name, "connect-prod");

    /* audit's staging/orders names the staging cluster explicitly. */
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_UNDEFINED_TOPIC);
    REQUIRE(p);
    CHECK(p->pos.line == 26);
    CHECK_CONTAINS(p->message, "cluster 'staging'");
    kafka_topology_free(t);
}

/* Without clusters in the file, topics go to the default cluster and a
 * name without "cluster/" is looked up in every cluster. */
TEST(test_plain_default_cluster)
{
    kafka_options_t o = {.default_cluster = "main"};
    kafka_topology_t *t =
        kafka_test_texts(&o, "a.yaml", "topics:\n  - name: t1\n", "b.yaml",
                         "services:\n  - name: s\n    consumes: [t1]\n", (const char *)NULL);
    CHECK(t->nproblems == 0);
    CHECK(kafka_topology_topic(t, "main", "t1") != NULL);
    CHECK(kafka_topology_topic(t, NULL, "t1") != NULL);
    CHECK(kafka_test_edge(t, "s", KAFKA_CONSUMES, "t1"));
    kafka_topology_free(t);
}

/* Unknown keys and wrong values are errors with their line. */
TEST(test_plain_mistakes)
{
    kafka_topology_t *t =
        kafka_test_text("x.yaml", "topics:\n  - name: a\n    partitons: 3\n"
                                  "  - name: b\n    partitions: many\n  - partitions: 1\n");
    CHECK(kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR) == 3);
    CHECK(t->problems[0].pos.line == 3);
    CHECK_CONTAINS(t->problems[0].message, "unknown key 'partitons'");
    CHECK(t->problems[1].pos.line == 5);
    CHECK_CONTAINS(t->problems[1].message, "'many'");
    CHECK(t->problems[2].pos.line == 6);
    CHECK_CONTAINS(t->problems[2].message, "has no name");
    kafka_topology_free(t);
}

/* Detection: every testdata file is read as the format it is written in. */
TEST(test_detection_of_testdata)
{
    static const struct {
        const char *file;
        kafka_format_t format;
    } cases[] = {
        {"julieops/descriptor.yaml", KAFKA_FORMAT_JULIEOPS},
        {"julieops/descriptor.json", KAFKA_FORMAT_JULIEOPS},
        {"julieops/descriptor-only-platform.yaml", KAFKA_FORMAT_JULIEOPS},
        {"julieops/plans.yaml", KAFKA_FORMAT_JULIEOPS_PLANS},
        {"kafka-gitops/confluent-cloud/users.yaml", KAFKA_FORMAT_GITOPS},
        {"kafka-gitops/gitops-user/state.yaml", KAFKA_FORMAT_GITOPS},
        {"kafka-gitops/plans/invalid-format.yaml", KAFKA_FORMAT_GITOPS},
        {"strimzi/KafkaTopic-minimal.yaml", KAFKA_FORMAT_STRIMZI},
        {"strimzi/topic-template.yaml", KAFKA_FORMAT_STRIMZI},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kafka_options_t o = {0};
        kafka_topology_t *t = kafka_test_load_opts(&o, cases[i].file, (const char *)NULL);
        REQUIRE(t->nfiles >= 1);
        if (t->files[0].format != cases[i].format)
            fprintf(stderr, "%s read as %s\n", cases[i].file,
                    kafka_format_name(t->files[0].format));
        CHECK(t->files[0].format == cases[i].format);
        kafka_topology_free(t);
    }
}

/* A forced format reads a file that detection would not recognise; the
 * names config uses map to formats and back. */
TEST(test_format_override)
{
    /* An empty kafka-gitops state has no key to recognise it by. */
    kafka_topology_t *t = kafka_topology_new(NULL);
    const char *text = "topics: {}\n";
    kafka_topology_add(t, "a.yaml", text, strlen(text), KAFKA_FORMAT_AUTO);
    kafka_topology_add(t, "b.yaml", "x: 1\n", 5, KAFKA_FORMAT_AUTO);
    kafka_topology_add(t, "c.yaml", "x: 1\n", 5, KAFKA_FORMAT_PLAIN);
    kafka_topology_finish(t);
    CHECK(t->files[0].format == KAFKA_FORMAT_GITOPS);
    CHECK(t->files[1].format == KAFKA_FORMAT_UNKNOWN);
    CHECK(t->files[2].format == KAFKA_FORMAT_PLAIN);
    /* Forced to plain, the unknown key is an error of the plain format. */
    CHECK(kafka_test_count(t, KAFKA_CHECK_UNKNOWN_FORMAT) == 1);
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_INVALID);
    REQUIRE(p);
    CHECK_STR(p->pos.file, "c.yaml");
    CHECK(kafka_topology_add(t, "d.yaml", "", 0, KAFKA_FORMAT_AUTO) == GR_ERR_CONFLICT);
    kafka_topology_free(t);

    kafka_format_t f;
    gr_error_t err = {0};
    CHECK(kafka_format_from_name("kafka-gitops", &f, &err) == 0 && f == KAFKA_FORMAT_GITOPS);
    CHECK(kafka_format_from_name("strimzi", &f, &err) == 0 && f == KAFKA_FORMAT_STRIMZI);
    CHECK(kafka_format_from_name("avro", &f, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "unknown format 'avro'");
    CHECK_STR(kafka_format_name(KAFKA_FORMAT_JULIEOPS), "julieops");
}

TEST_MAIN(TEST_ENTRY(test_plain_format), TEST_ENTRY(test_plain_default_cluster),
          TEST_ENTRY(test_plain_mistakes), TEST_ENTRY(test_detection_of_testdata),
          TEST_ENTRY(test_format_override))
