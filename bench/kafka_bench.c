/* bench/kafka_bench.c: how long the Kafka topology model takes to read a
 * large topology.  It writes a generated topology of N topics and M
 * services (5,000 and 500 by default) in each source format into a
 * temporary directory, then for each layout times, over several runs:
 *
 *   parse   kafka_topology_load: reading the files and the YAML/JSON
 *   finish  kafka_topology_finish: interpreting, resolving, checks
 *   graph   kafka_graph_cytoscape for the cluster: the JSON text the graph
 *           API will answer with
 *
 * and prints the median of each in milliseconds of wall time, and the
 * median CPU time of parse + finish (the figure to trust on a busy
 * machine).  Layouts:
 *   gitops-1file   one kafka-gitops state holding every topic and service
 *   gitops-split   a state whose settings.files names topics.yaml and
 *                  services.yaml (the confluent-cloud example's layout)
 *   julieops-50    fifty JulieOps descriptors, one per team (project)
 *   strimzi-1file  one multi-document file of KafkaTopics and KafkaUsers
 *   plain-1file    one plain-format file
 *
 * Each service produces to 4 topics and consumes from 6 (5,000 edges at the
 * defaults; the JulieOps layout adds project-level consumers, which read
 * every topic of their project).  Usage: kafka_bench [topics=5000] [services=500] [runs=5]
 *
 * kafka_bench --write DIR [topics] [services] only writes the layouts, one
 * directory each under DIR, for kafka_bench.sh to sync through the plugin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kafka_model.h"

#define PRODUCES 4
#define CONSUMES 6

static double clock_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

/* CPU time of this process: on a machine shared with other work, wall time
 * includes waiting for a core, CPU time only the work itself. */
static double cpu_ms(void)
{
    return clock_ms(CLOCK_PROCESS_CPUTIME_ID);
}

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    return f;
}

static void make_dir(const char *dir)
{
    if (mkdir(dir, 0755) != 0) {
        perror(dir);
        exit(1);
    }
}

/* Service s produces to topics s*7+k and consumes from s*11+k+100 (mod n):
 * spread, deterministic, and the same in every format. */
static int produced(int s, int k, int ntopics)
{
    return (s * 7 + k) % ntopics;
}

static int consumed(int s, int k, int ntopics)
{
    return (s * 11 + k + 100) % ntopics;
}

static void gitops_topics(FILE *f, int ntopics)
{
    fprintf(f, "topics:\n");
    for (int i = 0; i < ntopics; i++)
        fprintf(f,
                "  orders.events.topic-%05d:\n    partitions: %d\n    replication: 3\n"
                "    configs:\n      retention.ms: %d\n      cleanup.policy: delete\n",
                i, 1 + i % 12, 3600000 + i);
}

static void gitops_services(FILE *f, int ntopics, int nservices)
{
    fprintf(f, "services:\n");
    for (int s = 0; s < nservices; s++) {
        fprintf(f, "  service-%04d:\n    type: %s\n    principal: User:service-%04d\n", s,
                s % 10 == 0 ? "kafka-streams" : "application", s);
        fprintf(f, "    produces:\n");
        for (int k = 0; k < PRODUCES; k++)
            fprintf(f, "      - orders.events.topic-%05d\n", produced(s, k, ntopics));
        fprintf(f, "    consumes:\n");
        for (int k = 0; k < CONSUMES; k++)
            fprintf(f, "      - orders.events.topic-%05d\n", consumed(s, k, ntopics));
    }
}

static void write_gitops_one(const char *dir, int ntopics, int nservices)
{
    make_dir(dir);
    FILE *f = open_out(dir, "state.yaml");
    gitops_topics(f, ntopics);
    gitops_services(f, ntopics, nservices);
    fclose(f);
}

static void write_gitops_split(const char *dir, int ntopics, int nservices)
{
    make_dir(dir);
    FILE *f = open_out(dir, "state.yaml");
    fprintf(f, "settings:\n  files:\n    topics: topics.yaml\n    services: services.yaml\n");
    fclose(f);
    f = open_out(dir, "topics.yaml");
    gitops_topics(f, ntopics);
    fclose(f);
    f = open_out(dir, "services.yaml");
    gitops_services(f, ntopics, nservices);
    fclose(f);
}

/* Fifty teams, each a JulieOps project of ntopics/50 topics whose
 * consumers and producers are its services. */
static void write_julieops(const char *dir, int ntopics, int nservices)
{
    make_dir(dir);
    int teams = 50;
    for (int team = 0; team < teams; team++) {
        char name[64];
        snprintf(name, sizeof name, "team-%02d.yaml", team);
        FILE *f = open_out(dir, name);
        fprintf(f, "context: \"acme\"\nenv: \"prod\"\nprojects:\n  - name: \"team%02d\"\n", team);
        fprintf(f, "    consumers:\n");
        for (int s = team; s < nservices; s += teams)
            fprintf(f, "      - principal: \"User:service-%04d\"\n", s);
        fprintf(f, "    streams:\n");
        for (int s = team; s < nservices; s += teams) {
            fprintf(f,
                    "      - principal: \"User:streams-%04d\"\n        topics:\n"
                    "          read:\n",
                    s);
            for (int k = 0; k < CONSUMES; k++) {
                int tp = consumed(s, k, ntopics);
                fprintf(f, "            - \"acme.prod.team%02d.topic-%05d\"\n", tp % teams, tp);
            }
            fprintf(f, "          write:\n");
            for (int k = 0; k < PRODUCES; k++) {
                int tp = produced(s, k, ntopics);
                fprintf(f, "            - \"acme.prod.team%02d.topic-%05d\"\n", tp % teams, tp);
            }
        }
        fprintf(f, "    topics:\n");
        for (int i = team; i < ntopics; i += teams)
            fprintf(f,
                    "      - name: \"topic-%05d\"\n        config:\n"
                    "          replication.factor: \"3\"\n          num.partitions: \"%d\"\n"
                    "          retention.ms: \"%d\"\n",
                    i, 1 + i % 12, 3600000 + i);
        fclose(f);
    }
}

static void write_strimzi(const char *dir, int ntopics, int nservices)
{
    make_dir(dir);
    FILE *f = open_out(dir, "resources.yaml");
    fprintf(f, "apiVersion: kafka.strimzi.io/v1beta2\nkind: Kafka\nmetadata:\n  name: prod\n"
               "spec:\n  kafka:\n    replicas: 3\n");
    for (int i = 0; i < ntopics; i++)
        fprintf(f,
                "---\napiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaTopic\nmetadata:\n"
                "  name: topic-%05d\n  labels:\n    strimzi.io/cluster: prod\nspec:\n"
                "  partitions: %d\n  replicas: 3\n  config:\n    retention.ms: %d\n",
                i, 1 + i % 12, 3600000 + i);
    for (int s = 0; s < nservices; s++) {
        fprintf(f,
                "---\napiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaUser\nmetadata:\n"
                "  name: service-%04d\n  labels:\n    strimzi.io/cluster: prod\nspec:\n"
                "  authentication:\n    type: tls\n  authorization:\n    type: simple\n"
                "    acls:\n",
                s);
        for (int k = 0; k < PRODUCES; k++)
            fprintf(f,
                    "      - resource: {type: topic, name: topic-%05d, patternType: literal}\n"
                    "        operations: [Write, Describe]\n",
                    produced(s, k, ntopics));
        for (int k = 0; k < CONSUMES; k++)
            fprintf(f,
                    "      - resource: {type: topic, name: topic-%05d, patternType: literal}\n"
                    "        operations: [Read, Describe]\n",
                    consumed(s, k, ntopics));
    }
    fclose(f);
}

static void write_plain(const char *dir, int ntopics, int nservices)
{
    make_dir(dir);
    FILE *f = open_out(dir, "topology.yaml");
    fprintf(f, "clusters:\n  - name: prod\n    brokers:\n");
    for (int b = 1; b <= 3; b++)
        fprintf(f, "      - {id: %d, host: kafka-%d.prod}\n", b, b);
    fprintf(f, "topics:\n");
    for (int i = 0; i < ntopics; i++)
        fprintf(f,
                "  - name: topic-%05d\n    partitions: %d\n    replicationFactor: 3\n"
                "    config: {retention.ms: %d}\n",
                i, 1 + i % 12, 3600000 + i);
    fprintf(f, "services:\n");
    for (int s = 0; s < nservices; s++) {
        fprintf(f, "  - name: service-%04d\n    kind: %s\n    produces: [", s,
                s % 10 == 0 ? "kafka-streams" : "application");
        for (int k = 0; k < PRODUCES; k++)
            fprintf(f, "%stopic-%05d", k ? ", " : "", produced(s, k, ntopics));
        fprintf(f, "]\n    consumes: [");
        for (int k = 0; k < CONSUMES; k++)
            fprintf(f, "%stopic-%05d", k ? ", " : "", consumed(s, k, ntopics));
        fprintf(f, "]\n");
    }
    fclose(f);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void run(const char *label, const char *dir, const char *cluster, int runs)
{
    double parse[64], finish[64], graph[64], cpu[64];
    size_t ntopics = 0, nprincipals = 0, nedges = 0, nproblems = 0, json_bytes = 0;
    for (int r = 0; r < runs; r++) {
        kafka_options_t opts = {.read_file = kafka_read_disk};
        kafka_topology_t *t = kafka_topology_new(&opts);
        double t0 = now_ms(), c0 = cpu_ms();
        gr_error_t err = {0};
        if (kafka_topology_load(t, dir, KAFKA_FORMAT_AUTO, &err) != 0) {
            fprintf(stderr, "%s\n", err.message);
            exit(1);
        }
        double t1 = now_ms();
        kafka_topology_finish(t);
        double t2 = now_ms();
        cpu[r] = cpu_ms() - c0;
        char *text = kafka_graph_cytoscape(t, cluster, &json_bytes);
        double t3 = now_ms();
        free(text);
        parse[r] = t1 - t0;
        finish[r] = t2 - t1;
        graph[r] = t3 - t2;
        ntopics = t->ntopics;
        nprincipals = t->nprincipals;
        nedges = t->nedges;
        nproblems = t->nproblems;
        if (r == 0 && t->nproblems) {
            char *s = kafka_problem_format(&t->problems[0]);
            fprintf(stderr, "  first problem: %s\n", s);
            free(s);
        }
        kafka_topology_free(t);
    }
    double p = median(parse, runs), f = median(finish, runs), g = median(graph, runs),
           c = median(cpu, runs);
    printf("%-13s %5zu topics %4zu principals %5zu edges %zu problems | parse %6.1f finish "
           "%5.1f total %6.1f ms (cpu %6.1f) | graph %5.1f ms, %zu KB\n",
           label, ntopics, nprincipals, nedges, nproblems, p, f, p + f, c, g, json_bytes / 1024);
}

static const char *const layout_names[] = {"gitops-1file", "gitops-split", "julieops-50",
                                           "strimzi-1file", "plain-1file"};

static void write_layouts(const char *root, int ntopics, int nservices)
{
    char dir[5][4200];
    for (int i = 0; i < 5; i++)
        snprintf(dir[i], sizeof dir[i], "%s/%s", root, layout_names[i]);
    write_gitops_one(dir[0], ntopics, nservices);
    write_gitops_split(dir[1], ntopics, nservices);
    write_julieops(dir[2], ntopics, nservices);
    write_strimzi(dir[3], ntopics, nservices);
    write_plain(dir[4], ntopics, nservices);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--write") == 0) {
        int ntopics = argc > 3 ? atoi(argv[3]) : 5000;
        int nservices = argc > 4 ? atoi(argv[4]) : 500;
        if (ntopics < 200 || nservices < 1) {
            fprintf(stderr, "usage: kafka_bench --write DIR [topics>=200] [services>=1]\n");
            return 2;
        }
        mkdir(argv[2], 0755); /* it may exist already */
        write_layouts(argv[2], ntopics, nservices);
        return 0;
    }
    int ntopics = argc > 1 ? atoi(argv[1]) : 5000;
    int nservices = argc > 2 ? atoi(argv[2]) : 500;
    int runs = argc > 3 ? atoi(argv[3]) : 5;
    if (ntopics < 200 || nservices < 1 || runs < 1 || runs > 64) {
        fprintf(stderr, "usage: kafka_bench [topics>=200] [services>=1] [runs 1-64]\n");
        return 2;
    }
    char root[] = "/tmp/kafka-bench-XXXXXX";
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    const char *const *names = layout_names;
    char dir[5][4200];
    for (int i = 0; i < 5; i++)
        snprintf(dir[i], sizeof dir[i], "%s/%s", root, names[i]);
    write_layouts(root, ntopics, nservices);

    printf("kafka topology model: %d topics, %d services, median of %d runs\n", ntopics, nservices,
           runs);
    run(names[0], dir[0], "gitops-1file", runs);
    run(names[1], dir[1], "gitops-split", runs);
    run(names[2], dir[2], "default", runs);
    run(names[3], dir[3], "prod", runs);
    run(names[4], dir[4], "prod", runs);

    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return 0;
}
