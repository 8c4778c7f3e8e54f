/* JulieOps topology descriptors from ../shared/testdata/kafka/julieops/
 * (copies of kafka-ops/julie's examples): each test names the file it
 * reads and asserts the topics (full names composed as JulieOps composes
 * them), principals and edges JulieOps would make of it. */
#include "kafka_test.h"

/* julieops/descriptor.yaml: context, company, env and source all join the
 * names in the order written; dataType is appended; project-level
 * consumers and producers get every topic of their project. */
TEST(test_descriptor_yaml_names_and_rights)
{
    kafka_topology_t *t = kafka_test_load("julieops/descriptor.yaml");
    CHECK(kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR) == 0);
    REQUIRE(t->nfiles == 1);
    CHECK(t->files[0].format == KAFKA_FORMAT_JULIEOPS);
    CHECK(t->ntopics == 5);
    const char *names[] = {
        "context.company.env.source.projectA.foo",
        "context.company.env.source.projectA.bar.avro",
        "context.company.env.source.projectB.bar.avro",
        "context.company.env.source.projectC.topicE",
        "context.company.env.source.projectC.topicF",
    };
    for (size_t i = 0; i < 5; i++)
        CHECK(kafka_topology_topic(t, NULL, names[i]) != NULL);

    const kafka_topic_t *foo = kafka_topology_topic(t, "default", names[0]);
    REQUIRE(foo);
    CHECK(foo->partitions == 1);
    CHECK(foo->replication == 1);
    CHECK(foo->nconfig == 0); /* num.partitions and replication.factor moved out */
    CHECK_STR(foo->project, "projectA");
    CHECK(foo->pos.line == 47);
    const kafka_topic_t *bar = kafka_topology_topic(t, NULL, names[1]);
    REQUIRE(bar);
    CHECK_STR(bar->data_type, "avro");

    /* Consumers App0/App1 and producers App3/App4 of projectA. */
    CHECK(kafka_test_edge(t, "User:App0", KAFKA_CONSUMES, names[0]));
    CHECK(kafka_test_edge(t, "User:App1", KAFKA_CONSUMES, names[1]));
    CHECK(kafka_test_edge(t, "User:App3", KAFKA_PRODUCES, names[0]));
    CHECK(kafka_test_edge(t, "User:App4", KAFKA_PRODUCES, names[1]));
    CHECK(!kafka_test_edge(t, "User:App3", KAFKA_PRODUCES, names[2]));
    CHECK(kafka_test_edges_of(t, "User:App1") == 2);

    /* User:App0 consumes in projectA and is a streams app in projectC. */
    const kafka_principal_t *app0 = kafka_topology_principal(t, "User:App0");
    REQUIRE(app0);
    CHECK(app0->kind == KAFKA_KIND_STREAMS);
    CHECK(app0->pos.line == 9);
    CHECK(app0->nproduces == 1);
    CHECK(app0->nconsumes == 3);
    int found_app = 0;
    for (size_t i = 0; i < t->nstreams_apps; i++)
        found_app |= t->streams_apps[i].application_id &&
                     strcmp(t->streams_apps[i].application_id, "streamsApplicationId") == 0 &&
                     t->principals[t->streams_apps[i].principal].name == app0->name;
    CHECK(found_app);

    /* Streams and connectors name topics by full name: topicA..topicF are
     * not defined as such, which is reported. */
    CHECK(kafka_test_edge(t, "User:Streams0", KAFKA_CONSUMES, "topicA"));
    CHECK(kafka_test_edge(t, "User:Connect2", KAFKA_PRODUCES, "topicD"));
    CHECK(kafka_topology_principal(t, "User:Connect1")->kind == KAFKA_KIND_CONNECT);
    CHECK(kafka_test_count(t, KAFKA_CHECK_UNDEFINED_TOPIC) == 10);

    /* The platform section: Schema Registry and Control Center principals. */
    const kafka_principal_t *sr = kafka_topology_principal(t, "User:SchemaRegistry01");
    REQUIRE(sr);
    CHECK(sr->kind == KAFKA_KIND_PLATFORM);
    CHECK(kafka_topology_principal(t, "User:ControlCenter") != NULL);
    CHECK(t->nprincipals == 10);
    kafka_topology_free(t);
}

/* julieops/descriptor.json: the JSON form, without a final newline. */
TEST(test_descriptor_json)
{
    kafka_topology_t *t = kafka_test_load("julieops/descriptor.json");
    CHECK(t->nproblems == 0);
    CHECK(t->ntopics == 2);
    const kafka_topic_t *a = kafka_topology_topic(t, NULL, "team.foo.foo.json");
    const kafka_topic_t *b = kafka_topology_topic(t, NULL, "team.foo.topic2");
    REQUIRE(a && b);
    CHECK(a->partitions == 3);
    CHECK(a->replication == 2);
    CHECK(b->pos.line == 12);
    kafka_topology_free(t);
}

/* julieops/descriptor-with-plans.yaml with julieops/plans.yaml: a plan's
 * config is merged in, and wins over the topic's own. */
TEST(test_plans_resolved)
{
    kafka_topology_t *t =
        kafka_test_load("julieops/descriptor-with-plans.yaml", "julieops/plans.yaml");
    if (t->nproblems)
        kafka_test_dump(t);
    CHECK(t->nproblems == 0);
    CHECK(t->ntopics == 5);
    CHECK(t->files[1].format == KAFKA_FORMAT_JULIEOPS_PLANS);
    const kafka_topic_t *silver = kafka_topology_topic(t, NULL, "contextOrg.source.foo.fooBar");
    REQUIRE(silver);
    CHECK_STR(kafka_topic_config(silver, "retention.ms"), "6000");
    CHECK_STR(kafka_topic_config(silver, "max.message.bytes"), "524294");
    CHECK(silver->replication == 1);
    CHECK(silver->partitions == 0);
    const kafka_topic_t *gold = kafka_topology_topic(t, NULL, "contextOrg.source.foo.barFoo");
    REQUIRE(gold);
    CHECK_STR(kafka_topic_config(gold, "retention.ms"), "5000");
    const kafka_topic_t *plain = kafka_topology_topic(t, NULL, "contextOrg.source.foo.foo");
    REQUIRE(plain);
    CHECK(plain->nconfig == 0);
    kafka_topology_free(t);
}

/* julieops/descriptor-with-plans.yaml alone: JulieOps refuses a descriptor
 * that uses plans without a plans file; so does the model, on the line. */
TEST(test_plans_missing)
{
    kafka_topology_t *t = kafka_test_load("julieops/descriptor-with-plans.yaml");
    CHECK(kafka_test_count(t, KAFKA_CHECK_UNDEFINED_PLAN) == 3);
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_UNDEFINED_PLAN);
    REQUIRE(p);
    CHECK(p->severity == KAFKA_SEVERITY_ERROR);
    CHECK(p->pos.line == 12);
    CHECK_CONTAINS(p->message, "plan 'silver'");
    CHECK(t->ntopics == 5); /* the topics are still there */
    kafka_topology_free(t);
}

/* An unknown plan label is ignored by JulieOps, with a warning. */
TEST(test_plan_unknown_label)
{
    kafka_topology_t *t = kafka_test_texts(
        NULL, "plans.yaml", "plans:\n  gold:\n    config:\n      retention.ms: 1\n", "d.yaml",
        "context: c\nprojects:\n  - name: p\n    topics:\n      - name: t\n        plan: bronze\n",
        (const char *)NULL);
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_UNDEFINED_PLAN);
    REQUIRE(p);
    CHECK(p->severity == KAFKA_SEVERITY_WARNING);
    CHECK_STR(p->pos.file, "d.yaml");
    CHECK(p->pos.line == 6);
    CHECK(kafka_topology_topic(t, NULL, "c.p.t") != NULL);
    kafka_topology_free(t);
}

/* julieops/dir_with_multiple/: four descriptors, two contexts; each file
 * composes its names from its own extra keys. */
TEST(test_dir_with_multiple)
{
    kafka_topology_t *t = kafka_test_load("julieops/dir_with_multiple");
    CHECK(t->nfiles == 4);
    CHECK(kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR) == 0);
    CHECK(t->ntopics == 12);
    CHECK(kafka_topology_topic(t, NULL, "context2.source2.foo.bar.projectFoo.foo") != NULL);
    CHECK(kafka_topology_topic(t, NULL, "context2.source2.foo.bar.projectBar.bar.avro") != NULL);
    CHECK(kafka_topology_topic(t, NULL, "context2.source2.projectZet.foo") != NULL);
    CHECK(kafka_topology_topic(t, NULL, "contextOrg.source.projectFoo.bar.avro") != NULL);
    CHECK(kafka_topology_topic(t, NULL, "contextOrg.source.foo.bar.zet.projectBear.bar.avro") !=
          NULL);
    /* The same principals in several files are one each. */
    const kafka_principal_t *app0 = kafka_topology_principal(t, "User:App0");
    REQUIRE(app0);
    CHECK(app0->kind == KAFKA_KIND_STREAMS);
    CHECK(kafka_test_edge(t, "User:App1", KAFKA_CONSUMES, "contextOrg.source.projectFoo.foo"));
    CHECK(kafka_test_edge(t, "User:App1", KAFKA_CONSUMES,
                          "context2.source2.foo.bar.projectFoo.bar.avro"));
    kafka_topology_free(t);
}

/* julieops/descriptor-with-metadata.yaml: a topic's own consumers get that
 * topic only; metadata: maps are ignored. */
TEST(test_topic_level_consumers)
{
    kafka_topology_t *t = kafka_test_load("julieops/descriptor-with-metadata.yaml");
    CHECK(kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR) == 0);
    CHECK(t->ntopics == 2);
    const char *a = "context.foowithmetadata.topicA";
    const char *b = "context.foowithmetadata.topicB.avro";
    CHECK(kafka_test_edge(t, "User:App4", KAFKA_CONSUMES, a));
    CHECK(!kafka_test_edge(t, "User:App4", KAFKA_CONSUMES, b));
    CHECK(kafka_test_edge(t, "User:App0", KAFKA_CONSUMES, b));
    CHECK(kafka_test_edge(t, "User:App1", KAFKA_PRODUCES, a));
    CHECK(kafka_test_edges_of(t, "User:App4") == 1);
    kafka_topology_free(t);
}

/* julieops/descriptor-with-rbac.yaml: a connector principal's connectors:
 * list names connectors run by it; schemas and rbac give no topic rights. */
TEST(test_connectors_and_rbac)
{
    kafka_topology_t *t = kafka_test_load("julieops/descriptor-with-rbac.yaml");
    CHECK(kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR) == 0);
    CHECK(t->ntopics == 3);
    CHECK(t->nconnectors == 2);
    const kafka_connector_t *c = kafka_topology_connector(t, "jdbc-sync");
    REQUIRE(c);
    REQUIRE(c->principal != KAFKA_NONE);
    CHECK_STR(t->principals[c->principal].name, "User:Connect1");
    CHECK(kafka_topology_connector(t, "ibmmq-source") != NULL);
    CHECK(kafka_topology_principal(t, "User:App2") == NULL); /* schemas only */
    CHECK(kafka_topology_principal(t, "User:Hans")->kind == KAFKA_KIND_USER);
    kafka_topology_free(t);
}

/* julieops/descriptor-only-platform.yaml: no projects, only platform RBAC. */
TEST(test_only_platform)
{
    kafka_topology_t *t = kafka_test_load("julieops/descriptor-only-platform.yaml");
    CHECK(t->nproblems == 0);
    CHECK(t->ntopics == 0);
    CHECK(t->nprincipals == 2);
    CHECK(kafka_topology_principal(t, "User:Foo") != NULL);
    CHECK(kafka_topology_principal(t, "User:Boo") != NULL);
    kafka_topology_free(t);
}

/* julieops/descriptor-only-topics.yaml and descriptor-with-constraints.yml:
 * topics without config use the cluster defaults; a config value that is a
 * JSON string is kept as the text. */
TEST(test_only_topics_and_constraints)
{
    kafka_topology_t *t = kafka_test_load("julieops/descriptor-only-topics.yaml",
                                          "julieops/descriptor-with-constraints.yml");
    CHECK(t->nproblems == 0);
    CHECK(t->ntopics == 5);
    const kafka_topic_t *zet = kafka_topology_topic(t, NULL, "oltp.foo.zet.json");
    REQUIRE(zet);
    CHECK(zet->partitions == 0 && zet->replication == 0);
    CHECK(kafka_test_edge(t, "User:NewApp2", KAFKA_CONSUMES, "oltp.foo.foo"));
    CHECK(!kafka_test_edge(t, "User:NewApp2", KAFKA_CONSUMES, "oltp.bar.bar.avro"));
    const kafka_topic_t *b = kafka_topology_topic(t, NULL, "o.f.b");
    REQUIRE(b);
    CHECK_CONTAINS(kafka_topic_config(b, "confluent.placement.constraints"),
                   "{\"version\":1,\"replicas\":[{\"count\":1");
    kafka_topology_free(t);
}

/* The separator is JulieOps's topology.topic.prefix.separator. */
TEST(test_separator_option)
{
    kafka_options_t o = {.separator = "_"};
    kafka_topology_t *t =
        kafka_test_texts(&o, "d.yaml",
                         "context: ctx\nsource: src\nprojects:\n  - name: p\n    topics:\n"
                         "      - name: t\n        dataType: json\n",
                         (const char *)NULL);
    CHECK(kafka_topology_topic(t, NULL, "ctx_src_p_t_json") != NULL);
    kafka_topology_free(t);
}

/* A descriptor without context is refused, as JulieOps refuses it. */
TEST(test_missing_context)
{
    kafka_topology_t *t = kafka_test_text("d.yaml", "projects:\n  - name: p\n    topics: []\n");
    const kafka_problem_t *p = kafka_test_problem(t, KAFKA_CHECK_INVALID);
    REQUIRE(p);
    CHECK_CONTAINS(p->message, "context");
    CHECK(p->pos.line == 1);
    kafka_topology_free(t);
}

TEST_MAIN(TEST_ENTRY(test_descriptor_yaml_names_and_rights), TEST_ENTRY(test_descriptor_json),
          TEST_ENTRY(test_plans_resolved), TEST_ENTRY(test_plans_missing),
          TEST_ENTRY(test_plan_unknown_label), TEST_ENTRY(test_dir_with_multiple),
          TEST_ENTRY(test_topic_level_consumers), TEST_ENTRY(test_connectors_and_rbac),
          TEST_ENTRY(test_only_platform), TEST_ENTRY(test_only_topics_and_constraints),
          TEST_ENTRY(test_separator_option), TEST_ENTRY(test_missing_context))
