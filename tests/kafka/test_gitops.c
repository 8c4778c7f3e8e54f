/* kafka-gitops desired-state files from ../shared/testdata/kafka/kafka-gitops/
 * (copies of devshawn/kafka-gitops's examples and test plans): each test
 * names the file it reads and asserts what kafka-gitops would make of it.
 * A state's cluster is named after its directory. */
#include "kafka_test.h"

/* kafka-gitops/confluent-cloud/state.yaml alone: its settings.files are
 * followed through the reader, relative to the state. */
TEST(test_state_follows_files)
{
    kafka_topology_t *t = kafka_test_load("kafka-gitops/confluent-cloud/state.yaml");
    if (t->nproblems)
        kafka_test_dump(t);
    CHECK(t->nproblems == 0);
    CHECK(t->nfiles == 4);
    for (size_t i = 0; i < t->nfiles; i++)
        CHECK(t->files[i].format == KAFKA_FORMAT_GITOPS);
    CHECK(kafka_test_ends_with(t->files[1].path, "confluent-cloud/topics.yaml"));
    const kafka_topic_t *topic = kafka_topology_topic(t, "confluent-cloud", "my-test-topic");
    REQUIRE(topic);
    CHECK(topic->partitions == 6);
    CHECK(topic->replication == 3);
    CHECK(kafka_test_ends_with(topic->pos.file, "topics.yaml"));
    const kafka_principal_t *svc = kafka_topology_principal(t, "my-test-service");
    REQUIRE(svc);
    CHECK(svc->kind == KAFKA_KIND_APPLICATION);
    CHECK(svc->nconsumes == 1 && svc->nproduces == 0);
    CHECK(kafka_test_edge(t, "my-test-service", KAFKA_CONSUMES, "my-test-topic"));
    const kafka_principal_t *user = kafka_topology_principal(t, "john-doe");
    REQUIRE(user);
    CHECK(user->kind == KAFKA_KIND_USER);
    kafka_topology_free(t);
}

/* The whole kafka-gitops/confluent-cloud/ directory: the named files are
 * in the set already and are read once. */
TEST(test_state_directory)
{
    kafka_topology_t *t = kafka_test_load("kafka-gitops/confluent-cloud");
    CHECK(t->nproblems == 0);
    CHECK(t->nfiles == 4);
    CHECK(t->ntopics == 1);
    CHECK(t->nprincipals == 2);
    CHECK(t->nedges == 1);
    kafka_topology_free(t);
}

/* Without a reader, settings.files must name files of the set: each one
 * missing is an error on its settings.files line. */
TEST(test_state_missing_files)
{
    kafka_options_t o = {0};
    kafka_topology_t *t =
        kafka_test_load_opts(&o, "kafka-gitops/confluent-cloud/state.yaml", (const char *)NULL);
    CHECK(kafka_test_count(t, KAFKA_CHECK_MISSING_FILE) == 3);
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_MISSING_FILE);
    REQUIRE(p);
    CHECK(p->severity == KAFKA_SEVERITY_ERROR);
    CHECK(p->pos.line == 5);
    CHECK_CONTAINS(p->message, "settings.files.topics names 'topics.yaml'");
    CHECK(t->ntopics == 0);
    kafka_topology_free(t);
}

/* kafka-gitops/plans/seed-basic.yaml: topics with configs; a service that
 * consumes a topic the file does not define. */
TEST(test_seed_basic)
{
    kafka_topology_t *t = kafka_test_load("kafka-gitops/plans/seed-basic.yaml");
    CHECK(kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR) == 0);
    CHECK(t->ntopics == 4);
    const kafka_topic_t *c1 = kafka_topology_topic(t, "plans", "topic-with-configs-1");
    REQUIRE(c1);
    CHECK(c1->partitions == 3 && c1->replication == 2);
    CHECK(c1->nconfig == 2);
    CHECK_STR(kafka_topic_config(c1, "cleanup.policy"), "compact");
    CHECK_STR(kafka_topic_config(c1, "retention.ms"), "400000");
    CHECK(kafka_test_edge(t, "new-service", KAFKA_CONSUMES, "delete-topic"));
    CHECK_STR(kafka_topology_principal(t, "new-service")->principal, "User:new");
    /* test-service consumes test-topic, which nothing defines. */
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_UNDEFINED_TOPIC);
    REQUIRE(p);
    CHECK(p->pos.line == 28);
    CHECK_CONTAINS(p->message, "'test-service' consumes from topic 'test-topic'");
    kafka_topology_free(t);
}

/* kafka-gitops/plans/kafka-connect-service.yaml: a Connect service whose
 * connectors produce and consume. */
TEST(test_connect_service)
{
    kafka_topology_t *t = kafka_test_load("kafka-gitops/plans/kafka-connect-service.yaml");
    CHECK(kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR) == 0);
    const kafka_principal_t *p = kafka_topology_principal(t, "test-connect-cluster");
    REQUIRE(p);
    CHECK(p->kind == KAFKA_KIND_CONNECT);
    CHECK_STR(p->principal, "User:test");
    CHECK(t->nconnectors == 2);
    const kafka_connector_t *src = kafka_topology_connector(t, "test-source");
    REQUIRE(src);
    CHECK(src->principal == (size_t)(p - t->principals));
    CHECK(src->nproduces == 1);
    CHECK_STR(src->refs[0].topic, "production-topic");
    CHECK(kafka_test_edge(t, "connector:test-source", KAFKA_PRODUCES, "production-topic"));
    CHECK(kafka_test_edge(t, "connector:test-sink", KAFKA_CONSUMES, "consumption-topic"));
    kafka_topology_free(t);
}

/* kafka-gitops/plans/kafka-streams-service.yaml: a streams service is a
 * streams app named after itself. */
TEST(test_streams_service)
{
    kafka_topology_t *t = kafka_test_load("kafka-gitops/plans/kafka-streams-service.yaml");
    CHECK(kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR) == 0);
    const kafka_principal_t *p = kafka_topology_principal(t, "streams-application");
    REQUIRE(p);
    CHECK(p->kind == KAFKA_KIND_STREAMS);
    CHECK(p->nproduces == 2 && p->nconsumes == 1);
    CHECK_STR(p->refs[0].topic, "my-other-streams-topic");
    CHECK_STR(p->refs[1].topic, "another-topic");
    CHECK_STR(p->refs[2].topic, "my-streams-topic");
    REQUIRE(t->nstreams_apps == 1);
    CHECK_STR(t->streams_apps[0].application_id, "streams-application");
    CHECK(kafka_test_count(t, KAFKA_CHECK_UNDEFINED_TOPIC) == 3);
    kafka_topology_free(t);
}

/* kafka-gitops/plans/custom-user-acls.yaml: a PREFIXED READ ACL is a
 * consume right on a prefix; nothing matches it, which is not an error. */
TEST(test_custom_user_acls)
{
    kafka_topology_t *t = kafka_test_load("kafka-gitops/plans/custom-user-acls.yaml");
    CHECK(t->nproblems == 0);
    const kafka_principal_t *u = kafka_topology_principal(t, "test-user");
    REQUIRE(u);
    CHECK(u->kind == KAFKA_KIND_USER);
    CHECK_STR(u->principal, "User:test");
    REQUIRE(u->nconsumes == 1);
    CHECK(u->refs[0].pattern == KAFKA_PATTERN_PREFIX);
    CHECK_STR(u->refs[0].topic, "kafka.");
    CHECK(t->nedges == 0);
    kafka_topology_free(t);
}

/* kafka-gitops/gitops-user/state.yaml: only cluster and topic admin ACLs
 * (CREATE, ALTER, DESCRIBE...): a user with no produce or consume right. */
TEST(test_gitops_user)
{
    kafka_topology_t *t = kafka_test_load("kafka-gitops/gitops-user/state.yaml");
    CHECK(t->nproblems == 0);
    const kafka_principal_t *u = kafka_topology_principal(t, "gitops-user");
    REQUIRE(u);
    CHECK(u->nproduces == 0 && u->nconsumes == 0);
    kafka_topology_free(t);
}

/* kafka-gitops/plans/invalid-format.yaml and invalid-topic.yaml: each a
 * clear error on the right line; the refused topic is left out. */
TEST(test_invalid_files)
{
    kafka_topology_t *t = kafka_test_load("kafka-gitops/plans/invalid-format.yaml");
    REQUIRE(t->nproblems == 1);
    CHECK(t->problems[0].severity == KAFKA_SEVERITY_ERROR);
    CHECK(t->problems[0].pos.line == 3);
    CHECK_CONTAINS(t->problems[0].message, "partitions 'a'");
    CHECK(t->ntopics == 0);
    kafka_topology_free(t);

    t = kafka_test_load("kafka-gitops/plans/invalid-topic.yaml");
    REQUIRE(t->nproblems == 1);
    CHECK(t->problems[0].severity == KAFKA_SEVERITY_ERROR);
    CHECK(t->problems[0].pos.line == 3);
    CHECK_CONTAINS(t->problems[0].message, "has no partitions");
    kafka_topology_free(t);

    /* The whole plans/ folder: the two invalid files' errors and nothing
     * from the valid ones but the undefined topics they name. */
    t = kafka_test_load("kafka-gitops/plans");
    CHECK(kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR) == 2);
    CHECK(kafka_test_count(t, KAFKA_CHECK_DUPLICATE_TOPIC) == 0);
    const kafka_topic_t *simple = kafka_topology_topic(t, "plans", "test-topic");
    REQUIRE(simple);
    CHECK(simple->partitions == 6);
    kafka_topology_free(t);
}

/* settings.topics.defaults.replication fills a missing replication, also
 * in a file the state names. */
TEST(test_default_replication)
{
    kafka_topology_t *t = kafka_test_texts(
        NULL, "env/state.yaml",
        "settings:\n  topics:\n    defaults:\n      replication: 3\n  files:\n"
        "    topics: topics.yaml\ntopics:\n  a:\n    partitions: 1\n",
        "env/topics.yaml", "topics:\n  b:\n    partitions: 2\n", (const char *)NULL);
    CHECK(t->nproblems == 0);
    const kafka_topic_t *a = kafka_topology_topic(t, "env", "a");
    const kafka_topic_t *b = kafka_topology_topic(t, "env", "b");
    REQUIRE(a && b);
    CHECK(a->replication == 3);
    CHECK(b->replication == 3);
    kafka_topology_free(t);

    t = kafka_test_text("state.yaml", "topics:\n  a:\n    partitions: 1\n");
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_INVALID);
    REQUIRE(p);
    CHECK_CONTAINS(p->message, "no replication");
    /* A state at the top of the source uses the default cluster. */
    CHECK(kafka_topology_cluster(t, "default") != NULL);
    kafka_topology_free(t);
}

/* settings.files may leave the state's directory; the named file belongs
 * to the state's cluster, not to its own directory's. */
TEST(test_files_outside_the_state_directory)
{
    kafka_topology_t *t = kafka_test_texts(
        NULL, "repo/prod/state.yaml",
        "settings:\n  files:\n    topics: ../common/./topics.yaml\n"
        "services:\n  api:\n    type: application\n    produces: [shared]\n",
        "repo/common/topics.yaml", "topics:\n  shared:\n    partitions: 1\n    replication: 1\n",
        (const char *)NULL);
    if (t->nproblems)
        kafka_test_dump(t);
    CHECK(t->nproblems == 0);
    CHECK(kafka_topology_topic(t, "prod", "shared") != NULL);
    CHECK(kafka_topology_cluster(t, "common") == NULL);
    CHECK(kafka_test_edge(t, "api", KAFKA_PRODUCES, "shared"));
    kafka_topology_free(t);
}

/* Custom service ACLs: READ/WRITE/ALL on a literal topic are rights; a
 * service nothing defines is reported; a bad enum value is refused. */
TEST(test_custom_service_acls)
{
    kafka_topology_t *t = kafka_test_text(
        "prod/state.yaml",
        "topics:\n  orders:\n    partitions: 3\n    replication: 3\n"
        "services:\n  billing:\n    type: application\n    principal: User:billing\n"
        "customServiceAcls:\n"
        "  billing:\n    all-orders:\n      name: orders\n      type: TOPIC\n"
        "      pattern: LITERAL\n      host: \"*\"\n      operation: ALL\n"
        "      permission: ALLOW\n      principal: User:billing\n"
        "  ghost:\n    read-orders:\n      name: orders\n      type: TOPIC\n"
        "      pattern: LITERAL\n      host: \"*\"\n      operation: READ\n"
        "      permission: ALLOW\n"
        "    bad:\n      name: orders\n      type: TOPIC\n      pattern: GLOB\n"
        "      host: \"*\"\n      operation: READ\n      permission: ALLOW\n");
    CHECK(kafka_test_edge(t, "billing", KAFKA_PRODUCES, "orders"));
    CHECK(kafka_test_edge(t, "billing", KAFKA_CONSUMES, "orders"));
    CHECK(kafka_test_edge(t, "ghost", KAFKA_CONSUMES, "orders"));
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_UNDEFINED_PRINCIPAL);
    REQUIRE(p);
    CHECK(p->pos.line == 20);
    CHECK_CONTAINS(p->message, "'ghost'");
    p = kafka_test_problem(t, KAFKA_CHECK_INVALID);
    REQUIRE(p);
    CHECK(p->pos.line == 30);
    CHECK_CONTAINS(p->message, "pattern 'GLOB'");
    kafka_topology_free(t);
}

/* Keys kafka-gitops does not know are refused; so is an unknown type. */
TEST(test_unknown_keys_and_type)
{
    kafka_options_t o = {.format = KAFKA_FORMAT_GITOPS};
    kafka_topology_t *t =
        kafka_test_texts(&o, "s.yaml",
                         "topics:\n  a:\n    partitions: 1\n    replication: 1\n    partition: 3\n"
                         "services:\n  x:\n    type: batch\n",
                         (const char *)NULL);
    CHECK(kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR) == 2);
    CHECK(t->problems[0].pos.line == 5);
    CHECK_CONTAINS(t->problems[0].message, "unknown key 'partition'");
    CHECK(t->problems[1].pos.line == 8);
    CHECK_CONTAINS(t->problems[1].message, "unknown type batch");
    kafka_topology_free(t);
}

TEST_MAIN(TEST_ENTRY(test_state_follows_files), TEST_ENTRY(test_state_directory),
          TEST_ENTRY(test_state_missing_files), TEST_ENTRY(test_seed_basic),
          TEST_ENTRY(test_connect_service), TEST_ENTRY(test_streams_service),
          TEST_ENTRY(test_custom_user_acls), TEST_ENTRY(test_gitops_user),
          TEST_ENTRY(test_invalid_files), TEST_ENTRY(test_default_replication),
          TEST_ENTRY(test_files_outside_the_state_directory), TEST_ENTRY(test_custom_service_acls),
          TEST_ENTRY(test_unknown_keys_and_type))
