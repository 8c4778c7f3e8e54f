/* tests/kafka/kafka_test.h: helpers the Kafka topology tests share: build a
 * finished topology from files of ../shared/testdata/kafka/ or from text,
 * and ask it the questions the tests assert on. */
#ifndef KAFKA_TEST_H
#define KAFKA_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_model.h"
#include "test.h"

#define KAFKA_TESTDATA GR_TEST_TESTDATA "/kafka"

/* Prints every problem, so a failing test shows what the model said. */
static inline void kafka_test_dump(const kafka_topology_t *t)
{
    for (size_t i = 0; i < t->nproblems; i++) {
        char *s = kafka_problem_format(&t->problems[i]);
        fprintf(stderr, "  [%s] %s\n", t->problems[i].check, s);
        free(s);
    }
}

/* Loads the testdata paths (relative to testdata/kafka, NULL-terminated)
 * with the disk reader for settings.files, and finishes. */
static inline kafka_topology_t *kafka_test_load_opts(const kafka_options_t *opts, const char *first,
                                                     ...)
{
    kafka_options_t o = opts ? *opts : (kafka_options_t){.read_file = kafka_read_disk};
    kafka_topology_t *t = kafka_topology_new(&o);
    va_list ap;
    va_start(ap, first);
    for (const char *rel = first; rel; rel = va_arg(ap, const char *)) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", KAFKA_TESTDATA, rel);
        gr_error_t err = {0};
        if (kafka_topology_load(t, path, KAFKA_FORMAT_AUTO, &err) != 0)
            fprintf(stderr, "load %s: %s\n", path, err.message);
    }
    va_end(ap);
    kafka_topology_finish(t);
    return t;
}

#define kafka_test_load(...) kafka_test_load_opts(NULL, __VA_ARGS__, (const char *)NULL)

/* Adds texts as files (path, text, path, text, ..., NULL) and finishes. */
static inline kafka_topology_t *kafka_test_texts(const kafka_options_t *opts, const char *path, ...)
{
    kafka_topology_t *t = kafka_topology_new(opts);
    va_list ap;
    va_start(ap, path);
    for (const char *p = path; p; p = va_arg(ap, const char *)) {
        const char *text = va_arg(ap, const char *);
        kafka_topology_add(t, p, text, strlen(text), KAFKA_FORMAT_AUTO);
    }
    va_end(ap);
    kafka_topology_finish(t);
    return t;
}

#define kafka_test_text(path, text) kafka_test_texts(NULL, path, text, (const char *)NULL)

static inline size_t kafka_test_count(const kafka_topology_t *t, const char *check)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nproblems; i++)
        n += strcmp(t->problems[i].check, check) == 0;
    return n;
}

/* The first problem of a check, or NULL. */
static inline const kafka_problem_t *kafka_test_problem(const kafka_topology_t *t,
                                                        const char *check)
{
    for (size_t i = 0; i < t->nproblems; i++)
        if (strcmp(t->problems[i].check, check) == 0)
            return &t->problems[i];
    return NULL;
}

static inline int kafka_test_ends_with(const char *s, const char *suffix)
{
    size_t n = s ? strlen(s) : 0, m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Whether a principal (or a connector, with "connector:" before its name)
 * produces to or consumes from a topic, per the resolved edges. */
static inline int kafka_test_edge(const kafka_topology_t *t, const char *actor,
                                  kafka_access_t access, const char *topic)
{
    int connector = strncmp(actor, "connector:", 10) == 0;
    if (connector)
        actor += 10;
    for (size_t i = 0; i < t->nedges; i++) {
        const kafka_edge_t *e = &t->edges[i];
        const char *name = e->from_kind == KAFKA_NODE_PRINCIPAL ? t->principals[e->from].name
                                                                : t->connectors[e->from].name;
        if ((e->from_kind == KAFKA_NODE_CONNECTOR) == connector && e->access == access &&
            strcmp(name, actor) == 0 && strcmp(e->topic_name, topic) == 0)
            return 1;
    }
    return 0;
}

/* How many edges leave (or enter) one principal or connector. */
static inline size_t kafka_test_edges_of(const kafka_topology_t *t, const char *actor)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nedges; i++) {
        const kafka_edge_t *e = &t->edges[i];
        const char *name = e->from_kind == KAFKA_NODE_PRINCIPAL ? t->principals[e->from].name
                                                                : t->connectors[e->from].name;
        n += strcmp(name, actor) == 0;
    }
    return n;
}

#endif
