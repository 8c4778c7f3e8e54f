/* The kafka-topology plugin's table rows (rows.c): what a sync COPYs into
 * each table, and the model rebuilt from the JSON arrays the load query
 * returns.  The arrays are made here from the rows the way PostgreSQL's
 * json_build_array writes them (numbers, booleans, the config object,
 * null), so the round trip runs without a server; the integration test
 * does it through PostgreSQL. */
#include <json.h>

#include "kafka_plugin.h"
#include "kafka_test.h"

static const char *const mixed[] = {
    "julieops/descriptor.yaml", "kafka-gitops/confluent-cloud/state.yaml",
    "strimzi/kafka-topic.v1beta2.yaml", "strimzi/topic-template.yaml", NULL};

static const char *const plain_prod =
    "clusters:\n"
    "  - name: prod\n"
    "    bootstrap: kafka-1:9092\n"
    "    brokers:\n"
    "      - {id: 1, host: kafka-1, rack: a}\n"
    "      - {id: 2, host: kafka-2}\n"
    "topics:\n"
    "  - name: orders\n"
    "    partitions: 12\n"
    "    replicationFactor: 3\n"
    "    config: {cleanup.policy: compact, retention.ms: '1000'}\n"
    "  - name: payments\n"
    "services:\n"
    "  - name: api\n"
    "    produces: [orders, refunds]\n"
    "  - name: connect\n"
    "    kind: kafka-connect\n"
    "connectors:\n"
    "  - name: sink\n"
    "    service: connect\n"
    "    class: io.x.Sink\n"
    "    consumes: [orders]\n";

/* The testdata files plus a plain file, read as a sync reads them. */
static kafka_topology_t *sample(void)
{
    kafka_topology_t *t = kafka_topology_new(&(kafka_options_t){.read_file = kafka_read_disk});
    for (size_t i = 0; mixed[i]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", KAFKA_TESTDATA, mixed[i]);
        gr_error_t err = {0};
        kafka_topology_load(t, path, KAFKA_FORMAT_AUTO, &err);
    }
    kafka_topology_add(t, "plain/prod.yaml", plain_prod, strlen(plain_prod), KAFKA_FORMAT_AUTO);
    kafka_topology_finish(t);
    return t;
}

static const kt_table_t *table(const kt_rows_t *r, const char *name)
{
    for (size_t i = 0; i < KT_TABLES; i++)
        if (strcmp(r->tables[i].name, name) == 0)
            return &r->tables[i];
    return NULL;
}

static size_t column(const kt_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->ncolumns; i++)
        if (strcmp(t->columns[i], name) == 0)
            return i;
    return (size_t)-1;
}

/* The row whose `key` column is `value`, or NULL. */
static const char *const *row_where(const kt_table_t *t, const char *key, const char *value)
{
    size_t k = column(t, key);
    for (size_t r = 0; r < t->nrows; r++) {
        const char *v = t->values[r * t->ncolumns + k];
        if (v && strcmp(v, value) == 0)
            return &t->values[r * t->ncolumns];
    }
    return NULL;
}

static const char *cell(const kt_table_t *t, const char *const *row, const char *col)
{
    return row[column(t, col)];
}

TEST(test_rows_hold_every_element)
{
    kafka_topology_t *t = sample();
    kt_rows_t rows;
    kt_rows_build(t, &rows);
    CHECK(table(&rows, "files")->nrows == t->nfiles);
    CHECK(table(&rows, "clusters")->nrows == t->nclusters);
    CHECK(table(&rows, "brokers")->nrows == 2);
    CHECK(table(&rows, "topics")->nrows == t->ntopics);
    CHECK(table(&rows, "principals")->nrows == t->nprincipals);
    CHECK(table(&rows, "connectors")->nrows == t->nconnectors);
    CHECK(table(&rows, "streams_apps")->nrows == t->nstreams_apps);
    CHECK(table(&rows, "rights")->nrows == t->nrefs);
    CHECK(table(&rows, "edges")->nrows == t->nedges);
    CHECK(table(&rows, "problems")->nrows == t->nproblems);
    CHECK(t->ntopics >= 9);

    const kt_table_t *topics = table(&rows, "topics");
    const char *const *orders = row_where(topics, "name", "orders");
    REQUIRE(orders);
    CHECK_STR(cell(topics, orders, "cluster"), "prod");
    CHECK_STR(cell(topics, orders, "partitions"), "12");
    CHECK_STR(cell(topics, orders, "replication_factor"), "3");
    CHECK_STR(cell(topics, orders, "config"),
              "{\"cleanup.policy\":\"compact\",\"retention.ms\":\"1000\"}");
    CHECK_STR(cell(topics, orders, "format"), "plain");
    CHECK_STR(cell(topics, orders, "file"), "plain/prod.yaml");
    CHECK_STR(cell(topics, orders, "line"), "8");
    CHECK_STR(cell(topics, orders, "rf_line"), "10");
    /* Unset numbers are SQL NULL, not 0. */
    const char *const *payments = row_where(topics, "name", "payments");
    REQUIRE(payments);
    CHECK(cell(topics, payments, "partitions") == NULL);
    CHECK(cell(topics, payments, "replication_factor") == NULL);
    CHECK_STR(cell(topics, payments, "config"), "{}");

    const kt_table_t *edges = table(&rows, "edges");
    const char *const *refunds = row_where(edges, "topic", "refunds");
    REQUIRE(refunds);
    CHECK_STR(cell(edges, refunds, "from_kind"), "principal");
    CHECK_STR(cell(edges, refunds, "from_name"), "api");
    CHECK_STR(cell(edges, refunds, "access"), "produces");
    CHECK_STR(cell(edges, refunds, "topic_defined"), "f");
    const char *const *sink = row_where(edges, "from_name", "sink");
    REQUIRE(sink);
    CHECK_STR(cell(edges, sink, "from_kind"), "connector");
    CHECK_STR(cell(edges, sink, "access"), "consumes");

    const kt_table_t *conns = table(&rows, "connectors");
    const char *const *c = row_where(conns, "name", "sink");
    REQUIRE(c);
    CHECK_STR(cell(conns, c, "principal"), "connect");
    CHECK_STR(cell(conns, c, "class"), "io.x.Sink");

    /* Every seq is the row's index, which is what the load orders by. */
    const kt_table_t *probs = table(&rows, "problems");
    for (size_t i = 0; i < probs->nrows; i++) {
        char want[24];
        snprintf(want, sizeof want, "%zu", i);
        CHECK_STR(probs->values[i * probs->ncolumns + column(probs, "seq")], want);
    }
    kt_rows_free(&rows);
    kafka_topology_free(t);
}

/* ---- the load query's JSON, made from the rows -------------------------------------- */

static int is_int_column(const char *name)
{
    static const char *const ints[] = {
        "line", "col", "rf_line", "rf_col", "partitions", "replication_factor", "broker_id", NULL};
    for (size_t i = 0; ints[i]; i++)
        if (strcmp(name, ints[i]) == 0)
            return 1;
    return 0;
}

static int is_bool_column(const char *name)
{
    return strcmp(name, "declared") == 0 || strcmp(name, "topic_defined") == 0;
}

/* One table as json_agg(json_build_array(columns but seq) ORDER BY seq);
 * brokers also lose their own seq, as the query selects them. */
static char *as_json(const kt_table_t *t)
{
    struct json_object *arr = json_object_new_array();
    for (size_t r = 0; r < t->nrows; r++) {
        struct json_object *row = json_object_new_array();
        for (size_t c = 0; c < t->ncolumns; c++) {
            const char *name = t->columns[c];
            const char *v = t->values[r * t->ncolumns + c];
            if (strcmp(name, "seq") == 0)
                continue;
            struct json_object *j = NULL;
            if (!v)
                j = NULL;
            else if (is_int_column(name))
                j = json_object_new_int64(atoll(v));
            else if (is_bool_column(name))
                j = json_object_new_boolean(v[0] == 't');
            else if (strcmp(name, "config") == 0)
                j = json_tokener_parse(v);
            else
                j = json_object_new_string(v);
            json_object_array_add(row, j);
        }
        json_object_array_add(arr, row);
    }
    char *out = gr_xstrdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
    json_object_put(arr);
    return out;
}

TEST(test_restore_gives_the_same_model)
{
    kafka_topology_t *t = sample();
    kt_rows_t rows;
    kt_rows_build(t, &rows);
    char *json[KT_TABLES];
    for (size_t i = 0; i < KT_TABLES; i++) {
        CHECK_STR(rows.tables[i].name, kt_table_names[i]);
        json[i] = as_json(&rows.tables[i]);
    }
    gr_error_t err = {0};
    kafka_topology_t *back = kt_rows_restore((const char *const *)json, NULL, &err);
    if (!back)
        fprintf(stderr, "restore: %s\n", err.message);
    REQUIRE(back);

    /* The graph export reads every array: equal text, equal model. */
    char *a = kafka_graph_cytoscape(t, NULL, NULL), *b = kafka_graph_cytoscape(back, NULL, NULL);
    CHECK_STR(b, a);
    free(a);
    free(b);
    CHECK(back->nfiles == t->nfiles && back->nrefs == t->nrefs &&
          back->nstreams_apps == t->nstreams_apps && back->nproblems == t->nproblems);
    for (size_t i = 0; i < t->nproblems && i < back->nproblems; i++) {
        char *x = kafka_problem_format(&t->problems[i]);
        char *y = kafka_problem_format(&back->problems[i]);
        CHECK_STR(y, x);
        CHECK_STR(back->problems[i].check, t->problems[i].check);
        free(x);
        free(y);
    }
    /* Lookups and the slices a finished model fills by itself. */
    const kafka_topic_t *orders = kafka_topology_topic(back, "prod", "orders");
    REQUIRE(orders);
    CHECK_STR(kafka_topic_config(orders, "retention.ms"), "1000");
    CHECK(orders->replication_pos.line == 10);
    const kafka_cluster_t *prod = kafka_topology_cluster(back, "prod");
    REQUIRE(prod);
    CHECK(prod->nbrokers == 2 && prod->declared);
    CHECK_STR(prod->brokers[0].rack, "a");
    const kafka_principal_t *api = kafka_topology_principal(back, "api");
    REQUIRE(api);
    CHECK(api->nproduces == 2 && api->nconsumes == 0);
    CHECK_STR(api->refs[1].topic, "refunds");
    const kafka_connector_t *sink = kafka_topology_connector(back, "sink");
    REQUIRE(sink);
    CHECK_STR(back->principals[sink->principal].name, "connect");
    CHECK(sink->nconsumes == 1);
    /* Positions share the restored file names. */
    CHECK(orders->pos.file == kafka_topology_principal(back, "api")->pos.file);

    kafka_topology_free(back);
    for (size_t i = 0; i < KT_TABLES; i++)
        free(json[i]);
    kt_rows_free(&rows);
    kafka_topology_free(t);
}

TEST(test_restore_refuses_an_inconsistent_model)
{
    const char *json[KT_TABLES] = {
        "[]", "[[\"prod\",null,false,null,null,null]]", "[]",
        /* a topic of a cluster nobody stored */
        "[[\"dev\",\"orders\",null,null,{},null,null,\"plain\",null,null,null,null,null]]", "[]",
        "[]", "[]", "[]", "[]", "[]"};
    gr_error_t err = {0};
    CHECK(kt_rows_restore(json, NULL, &err) == NULL);
    CHECK_CONTAINS(err.message, "topics row 0");

    const char *edge[KT_TABLES] = {
        "[]", "[[\"prod\",null,false,null,null,null]]", "[]", "[]", "[]", "[]", "[]", "[]",
        /* an edge from a principal nobody stored */
        "[[\"principal\",\"ghost\",\"produces\",\"prod\",\"x\",false,null,null,null]]", "[]"};
    err = (gr_error_t){0};
    CHECK(kt_rows_restore(edge, NULL, &err) == NULL);
    CHECK_CONTAINS(err.message, "edges row 0");

    const char *garbage[KT_TABLES] = {"{", "[]", "[]", "[]", "[]", "[]", "[]", "[]", "[]", "[]"};
    err = (gr_error_t){0};
    CHECK(kt_rows_restore(garbage, NULL, &err) == NULL);
    CHECK_CONTAINS(err.message, "files");

    /* Nothing stored yet is an empty model, not an error. */
    const char *empty[KT_TABLES] = {"[]", "[]", "[]", "[]", "[]", "[]", "[]", "[]", "[]", "[]"};
    kafka_topology_t *t = kt_rows_restore(empty, NULL, &err);
    REQUIRE(t);
    CHECK(t->ntopics == 0 && t->nclusters == 0);
    kafka_topology_free(t);
}

TEST_MAIN(TEST_ENTRY(test_rows_hold_every_element), TEST_ENTRY(test_restore_gives_the_same_model),
          TEST_ENTRY(test_restore_refuses_an_inconsistent_model))
