/* How a sync reads a source directory (collect.c): which files the
 * include and exclude globs select, the format each is read as (a
 * `formats` glob, else the global format, else detected), paths relative to
 * the source, files that cannot be read, and kafka-gitops settings.files
 * kept inside the source. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kafka_plugin.h"
#include "kafka_test.h"

static char root[256];

static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void copy_testdata(const char *rel, const char *to)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", KAFKA_TESTDATA, rel);
    size_t len = 0;
    gr_error_t err = {0};
    char *data = kafka_read_disk(NULL, path, &len, &err);
    if (data)
        write_file(to, data);
    free(data);
}

static void options(kt_options_t *o, const char *include)
{
    *o = (kt_options_t){.files.max_file_bytes = 1 << 20};
    gr_strvec_push(&o->files.include, include);
}

static const kafka_file_t *file_of(const kafka_topology_t *t, const char *path)
{
    for (size_t i = 0; i < t->nfiles; i++)
        if (strcmp(t->files[i].path, path) == 0)
            return &t->files[i];
    return NULL;
}

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/kt-collect-%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot clear %s\n", root);
    mkdir(root, 0755);
    copy_testdata("julieops/descriptor.yaml", "julie/descriptor.yaml");
    copy_testdata("kafka-gitops/confluent-cloud/state.yaml", "gitops/state.yaml");
    copy_testdata("kafka-gitops/confluent-cloud/topics.yaml", "gitops/topics.yaml");
    copy_testdata("kafka-gitops/confluent-cloud/services.yaml", "gitops/services.yaml");
    copy_testdata("kafka-gitops/confluent-cloud/users.yaml", "gitops/users.yaml");
    copy_testdata("strimzi/kafka-topic.v1beta2.yaml", "k8s/topic.yaml");
    /* A plain file whose content says nothing of its format: only the
     * override reads it as plain. */
    write_file("legacy/topics.txt.yaml", "topics:\n  - name: legacy.events\n");
    write_file("drafts/wip.yaml", "topics:\n  - {name: draft, partitions: 1}\n");
    write_file("README.md", "not a topology\n");
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", root);
}

TEST(test_globs_formats_and_relative_paths)
{
    setup();
    kt_options_t o;
    options(&o, "**/*.yaml");
    gr_strvec_push(&o.files.exclude, "drafts/**");
    o.formats = gr_xcalloc(2, sizeof *o.formats);
    o.formats[0] = (kt_format_rule_t){gr_xstrdup("legacy/*.yaml"), KAFKA_FORMAT_PLAIN};
    o.nformats = 1;
    CHECK(kt_options_format_of(&o, "legacy/topics.txt.yaml") == KAFKA_FORMAT_PLAIN);
    CHECK(kt_options_format_of(&o, "julie/descriptor.yaml") == KAFKA_FORMAT_AUTO);

    kt_collect_t c;
    kt_collect_run(&o, root, &c);
    REQUIRE(c.status == 0 && c.topology);
    const kafka_topology_t *t = c.topology;
    /* Seven selected: drafts/ excluded, README.md not a glob match. */
    CHECK(c.files == 7);
    CHECK(file_of(t, "drafts/wip.yaml") == NULL);
    REQUIRE(file_of(t, "julie/descriptor.yaml"));
    CHECK(file_of(t, "julie/descriptor.yaml")->format == KAFKA_FORMAT_JULIEOPS);
    CHECK(file_of(t, "gitops/state.yaml")->format == KAFKA_FORMAT_GITOPS);
    CHECK(file_of(t, "k8s/topic.yaml")->format == KAFKA_FORMAT_STRIMZI);
    CHECK(file_of(t, "legacy/topics.txt.yaml")->format == KAFKA_FORMAT_PLAIN);
    /* The kafka-gitops state names its cluster after its directory. */
    CHECK(kafka_topology_topic(t, "gitops", "my-test-topic") != NULL);
    CHECK(kafka_topology_topic(t, "my-cluster", "my-topic") != NULL);
    CHECK(kafka_topology_topic(t, NULL, "legacy.events") != NULL);
    CHECK(kafka_topology_topic(t, NULL, "draft") == NULL);
    const kafka_topic_t *foo =
        kafka_topology_topic(t, NULL, "context.company.env.source.projectA.foo");
    REQUIRE(foo);
    CHECK_STR(foo->pos.file, "julie/descriptor.yaml");
    kt_collect_free(&c);
    kt_options_free(&o);
    teardown();
}

TEST(test_global_format_and_a_file_too_large)
{
    setup();
    kt_options_t o;
    options(&o, "legacy/*.yaml");
    o.format = KAFKA_FORMAT_PLAIN;
    write_file("legacy/big.yaml", "topics:\n  - name: big\n");
    o.files.max_file_bytes = 30;
    kt_collect_t c;
    kt_collect_run(&o, root, &c);
    REQUIRE(c.topology);
    CHECK(c.files == 2);
    CHECK(kafka_topology_topic(c.topology, NULL, "legacy.events") == NULL); /* 34 bytes */
    const kafka_problem_t *p = kafka_test_problem(c.topology, KAFKA_CHECK_READ);
    REQUIRE(p);
    CHECK_STR(p->pos.file, "legacy/topics.txt.yaml");
    CHECK_CONTAINS(p->message, "larger than the 30 bytes allowed");
    CHECK(kafka_topology_topic(c.topology, NULL, "big") != NULL);
    kt_collect_free(&c);
    kt_options_free(&o);
    teardown();
}

TEST(test_settings_files_stay_inside_the_source)
{
    setup();
    write_file("other/state.yaml", "settings:\n  files:\n    topics: ../../../etc/passwd\n"
                                   "    services: extra/services.yaml\n");
    write_file("other/extra/services.yaml",
               "services:\n  reader:\n    type: application\n    consumes: [t1]\n");
    kt_options_t o;
    options(&o, "other/state.yaml");
    kt_collect_t c;
    kt_collect_run(&o, root, &c);
    REQUIRE(c.topology);
    CHECK(c.files == 1);
    const kafka_problem_t *p = kafka_test_problem(c.topology, KAFKA_CHECK_MISSING_FILE);
    REQUIRE(p);
    CHECK_CONTAINS(p->message, "outside the topology source");
    /* A file beside the state, left out by the globs, is still read. */
    CHECK(kafka_topology_principal(c.topology, "reader") != NULL);
    CHECK(file_of(c.topology, "other/extra/services.yaml") != NULL);
    kt_collect_free(&c);
    kt_options_free(&o);
    teardown();
}

TEST(test_missing_root)
{
    kt_options_t o;
    options(&o, "**/*.yaml");
    kt_collect_t c;
    kt_collect_run(&o, "/nonexistent/kafka-topology", &c);
    CHECK(c.status == GR_ERR_NOT_FOUND);
    CHECK(c.topology == NULL);
    CHECK_CONTAINS(c.message, "does not exist");
    kt_collect_free(&c);
    kt_options_free(&o);
}

TEST_MAIN(TEST_ENTRY(test_globs_formats_and_relative_paths),
          TEST_ENTRY(test_global_format_and_a_file_too_large),
          TEST_ENTRY(test_settings_files_stay_inside_the_source), TEST_ENTRY(test_missing_root))
