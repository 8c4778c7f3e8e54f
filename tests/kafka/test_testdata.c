/* Every file of ../shared/testdata/kafka/: each valid one reads with no
 * error in the format it is written in, each deliberately invalid one
 * (kafka-gitops/plans/invalid-*.yaml) with a clear error; and robustness:
 * every truncation of every file, and bytes overwritten at random (fixed
 * seed), give a consistent model and never crash (the sanitizer build runs
 * this too). */
#include <ftw.h>

#include <json.h>

#include "kafka_test.h"
#include "util.h"

static gr_strvec_t files;

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_F)
        gr_strvec_push(&files, path);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect_files(void)
{
    if (files.len)
        return;
    nftw(KAFKA_TESTDATA, collect, 16, FTW_PHYS);
    qsort(files.items, files.len, sizeof *files.items, cmp_str);
}

static int is_invalid_file(const char *path)
{
    return strstr(path, "/invalid-") != NULL;
}

/* What any model must satisfy, whatever the input: links in range, every
 * problem placed in a file with a message, and a graph for each cluster. */
static void check_consistent(const kafka_topology_t *t, const char *what)
{
    int bad = 0;
    for (size_t i = 0; i < t->ntopics; i++)
        bad |= t->topics[i].cluster >= t->nclusters || !t->topics[i].name;
    for (size_t i = 0; i < t->nedges; i++) {
        const kafka_edge_t *e = &t->edges[i];
        bad |= e->topic != KAFKA_NONE && e->topic >= t->ntopics;
        bad |= e->cluster >= t->nclusters || !e->topic_name;
        bad |= e->from >= (e->from_kind == KAFKA_NODE_PRINCIPAL ? t->nprincipals : t->nconnectors);
    }
    for (size_t i = 0; i < t->nprincipals; i++) {
        const kafka_principal_t *p = &t->principals[i];
        bad |= (p->nproduces || p->nconsumes) && !p->refs;
    }
    for (size_t i = 0; i < t->nproblems; i++)
        bad |= !t->problems[i].pos.file || !t->problems[i].message[0];
    for (size_t c = 0; c <= t->nclusters; c++) {
        char *text = kafka_graph_cytoscape(t, c < t->nclusters ? t->clusters[c].name : NULL, NULL);
        struct json_object *g = text ? json_tokener_parse(text) : NULL;
        bad |= g == NULL;
        json_object_put(g);
        free(text);
    }
    if (bad)
        fprintf(stderr, "inconsistent model for %s\n", what);
    CHECK(!bad);
}

/* Every valid file reads without error; the invalid ones each with an
 * error that names the field. */
TEST(test_every_file)
{
    collect_files();
    CHECK(files.len == 30);
    for (size_t i = 0; i < files.len; i++) {
        kafka_options_t o = {.read_file = kafka_read_disk};
        kafka_topology_t *t = kafka_topology_new(&o);
        gr_error_t err = {0};
        CHECK(kafka_topology_load(t, files.items[i], KAFKA_FORMAT_AUTO, &err) == 0);
        /* JulieOps reads a descriptor that uses plans with its plans file. */
        if (kafka_test_ends_with(files.items[i], "descriptor-with-plans.yaml"))
            kafka_topology_load(t, KAFKA_TESTDATA "/julieops/plans.yaml", KAFKA_FORMAT_AUTO, &err);
        kafka_topology_finish(t);
        size_t errors = kafka_topology_count_problems(t, KAFKA_SEVERITY_ERROR);
        CHECK(t->files[0].format != KAFKA_FORMAT_UNKNOWN);
        if (is_invalid_file(files.items[i])) {
            CHECK(errors == 1);
            CHECK(t->nproblems && t->problems[0].pos.line > 0);
            CHECK_CONTAINS(t->nproblems ? t->problems[0].message : "", "partitions");
        } else {
            if (errors) {
                fprintf(stderr, "%s:\n", files.items[i]);
                kafka_test_dump(t);
            }
            CHECK(errors == 0);
            /* Each valid file means something: topics, principals or plans. */
            CHECK(t->ntopics + t->nprincipals > 0 ||
                  t->files[0].format == KAFKA_FORMAT_JULIEOPS_PLANS);
        }
        check_consistent(t, files.items[i]);
        kafka_topology_free(t);
    }
}

/* The whole folder at once: the formats side by side, the plans found. */
TEST(test_whole_folder)
{
    kafka_topology_t *t = kafka_test_load(".");
    CHECK(t->nfiles == 30);
    /* The two invalid files and the template's differing my-topic; the
     * JulieOps descriptors with-rbac and with-plans share contextOrg.source
     * and so name the same topics, but define them alike. */
    CHECK(kafka_test_count(t, KAFKA_CHECK_INVALID) == 2);
    CHECK(kafka_test_count(t, KAFKA_CHECK_DUPLICATE_TOPIC) == 1);
    CHECK(kafka_test_count(t, KAFKA_CHECK_UNDEFINED_PLAN) == 0);
    CHECK(kafka_test_count(t, KAFKA_CHECK_SYNTAX) == 0);
    check_consistent(t, "the whole folder");
    kafka_topology_free(t);
}

static char *read_all(const char *path, size_t *len)
{
    gr_error_t err = {0};
    char *data = kafka_read_disk(NULL, path, len, &err);
    if (!data)
        fprintf(stderr, "%s\n", err.message);
    return data;
}

static void parse_bytes(const char *path, const char *data, size_t len, const char *what)
{
    kafka_options_t o = {.read_file = kafka_read_disk};
    kafka_topology_t *t = kafka_topology_new(&o);
    kafka_topology_add(t, path, data, len, KAFKA_FORMAT_AUTO);
    kafka_topology_finish(t);
    check_consistent(t, what);
    kafka_topology_free(t);
}

TEST(test_truncations)
{
    collect_files();
    size_t runs = 0;
    for (size_t i = 0; i < files.len; i++) {
        size_t len = 0;
        char *data = read_all(files.items[i], &len);
        REQUIRE(data);
        for (size_t cut = 0; cut < len; cut++) {
            /* A copy of exactly `cut` bytes, so ASan sees any read past it. */
            char *copy = gr_xmalloc(cut ? cut : 1);
            memcpy(copy, data, cut);
            char what[1200];
            snprintf(what, sizeof what, "%s cut at %zu", files.items[i], cut);
            parse_bytes(files.items[i], copy, cut, what);
            free(copy);
            runs++;
        }
        free(data);
    }
    CHECK(runs > 15000);
}

TEST(test_overwritten_bytes)
{
    static const char specials[] = ":-[]{}\"'#&*!|>%@`\t\n ,?${}\\0";
    collect_files();
    unsigned seed = 20240611u;
    for (size_t i = 0; i < files.len; i++) {
        size_t len = 0;
        char *data = read_all(files.items[i], &len);
        REQUIRE(data);
        for (int round = 0; round < 40 && len; round++) {
            char *copy = gr_xmalloc(len);
            memcpy(copy, data, len);
            for (int k = 0; k < 3; k++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = (seed >> 8) % len;
                seed = seed * 1103515245u + 12345u;
                copy[at] = specials[(seed >> 8) % (sizeof specials - 1)];
            }
            char what[1200];
            snprintf(what, sizeof what, "%s round %d", files.items[i], round);
            parse_bytes(files.items[i], copy, len, what);
            free(copy);
        }
        free(data);
    }
}

static void free_files(void)
{
    gr_strvec_free(&files);
}

int main(void)
{
    static const gr_test_case_t cases[] = {
        TEST_ENTRY(test_every_file), TEST_ENTRY(test_whole_folder), TEST_ENTRY(test_truncations),
        TEST_ENTRY(test_overwritten_bytes)};
    int rc = gr_test_run(cases, sizeof cases / sizeof cases[0]);
    free_files();
    return rc;
}
