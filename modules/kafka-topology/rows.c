/* modules/kafka-topology/rows.c: the model as rows of the plugin's tables
 * (migrations/001_kafka_topology.sql), and the model rebuilt from them.
 *
 * Rows are built on the thread pool as arrays of text values for COPY:
 * strings point into the topology, numbers and JSON are written into
 * blocks owned by the rows, so handing 60,000 edges to the database costs
 * no allocation per value.  Going back, the load query returns each table
 * as one JSON array of arrays (in seq order, columns as below without
 * seq), parsed here on the thread pool too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_plugin.h"

const char *const kt_table_names[KT_TABLES] = {
    "files",      "clusters",     "brokers", "topics", "principals",
    "connectors", "streams_apps", "rights",  "edges",  "problems",
};

enum {
    T_FILES,
    T_CLUSTERS,
    T_BROKERS,
    T_TOPICS,
    T_PRINCIPALS,
    T_CONNECTORS,
    T_APPS,
    T_RIGHTS,
    T_EDGES,
    T_PROBLEMS
};

static const char *const files_cols[] = {"seq", "path", "format"};
static const char *const clusters_cols[] = {"seq",  "name", "bootstrap", "declared",
                                            "file", "line", "col"};
static const char *const brokers_cols[] = {"cluster", "seq", "broker_id", "host", "rack"};
static const char *const topics_cols[] = {
    "seq",    "cluster", "name",      "partitions", "replication_factor",
    "config", "project", "data_type", "format",     "file",
    "line",   "col",     "rf_line",   "rf_col"};
static const char *const principals_cols[] = {"seq",      "name", "principal", "kind",
                                              "declared", "file", "line",      "col"};
static const char *const connectors_cols[] = {"seq",  "name", "principal", "class",
                                              "file", "line", "col"};
static const char *const apps_cols[] = {"seq",  "application_id", "principal",
                                        "file", "line",           "col"};
static const char *const rights_cols[] = {"seq",   "owner_kind", "owner", "access", "pattern",
                                          "topic", "cluster",    "file",  "line",   "col"};
static const char *const edges_cols[] = {"seq",   "from_kind",     "from_name", "access", "cluster",
                                         "topic", "topic_defined", "file",      "line",   "col"};
static const char *const problems_cols[] = {"seq",      "file",     "line",   "col",
                                            "severity", "check_id", "message"};

#define COLS(a) a, sizeof a / sizeof a[0]

/* ---- writing rows --------------------------------------------------------------------- */

#define KT_BLOCK_BYTES (256u * 1024u)

/* n bytes of text that stay where they are until kt_rows_free. */
static char *rows_alloc(kt_rows_t *r, size_t n)
{
    if (!r->nblocks || r->cap - r->used < n) {
        size_t cap = n > KT_BLOCK_BYTES ? n : KT_BLOCK_BYTES;
        r->blocks = gr_xrealloc(r->blocks, (r->nblocks + 1) * sizeof *r->blocks);
        r->blocks[r->nblocks++] = gr_xmalloc(cap);
        r->used = 0;
        r->cap = cap;
    }
    char *p = r->blocks[r->nblocks - 1] + r->used;
    r->used += n;
    return p;
}

static const char *rows_text(kt_rows_t *r, const char *s, size_t n)
{
    char *p = rows_alloc(r, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static const char *rows_int(kt_rows_t *r, long long v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", v);
    return rows_text(r, tmp, (size_t)n);
}

/* NULL (SQL NULL) for 0, which the model uses for "unknown" or "unset". */
static const char *rows_opt_int(kt_rows_t *r, long long v)
{
    return v ? rows_int(r, v) : NULL;
}

static void table_init(kt_table_t *t, const char *name, const char *const *columns, size_t ncolumns,
                       size_t nrows)
{
    *t = (kt_table_t){name, columns, ncolumns, NULL, 0};
    t->values = gr_xcalloc(nrows * ncolumns + 1, sizeof *t->values);
}

/* The next row's values, to be filled in column order. */
static const char **row_next(kt_table_t *t)
{
    return &t->values[t->nrows++ * t->ncolumns];
}

static void put_pos(kt_rows_t *r, const char **v, kafka_pos_t pos)
{
    v[0] = pos.file;
    v[1] = rows_opt_int(r, pos.line);
    v[2] = rows_opt_int(r, pos.column);
}

static const char *owner_name(const kafka_topology_t *t, kafka_node_kind_t kind, size_t idx)
{
    return kind == KAFKA_NODE_PRINCIPAL ? t->principals[idx].name : t->connectors[idx].name;
}

static const char *kind_of_node(kafka_node_kind_t kind)
{
    return kind == KAFKA_NODE_PRINCIPAL ? "principal" : "connector";
}

static const char *access_name(kafka_access_t a)
{
    return a == KAFKA_PRODUCES ? "produces" : "consumes";
}

void kt_rows_build(const kafka_topology_t *t, kt_rows_t *out)
{
    *out = (kt_rows_t){0};
    kt_rows_t *r = out;
    gr_buf_t json = {0};

    kt_table_t *tb = &r->tables[T_FILES];
    table_init(tb, "files", COLS(files_cols), t->nfiles);
    for (size_t i = 0; i < t->nfiles; i++) {
        const char **v = row_next(tb);
        v[0] = rows_int(r, (long long)i);
        v[1] = t->files[i].path;
        v[2] = kafka_format_name(t->files[i].format);
    }

    size_t nbrokers = 0;
    for (size_t i = 0; i < t->nclusters; i++)
        nbrokers += t->clusters[i].nbrokers;
    tb = &r->tables[T_CLUSTERS];
    table_init(tb, "clusters", COLS(clusters_cols), t->nclusters);
    kt_table_t *bt = &r->tables[T_BROKERS];
    table_init(bt, "brokers", COLS(brokers_cols), nbrokers);
    for (size_t i = 0; i < t->nclusters; i++) {
        const kafka_cluster_t *c = &t->clusters[i];
        const char **v = row_next(tb);
        v[0] = rows_int(r, (long long)i);
        v[1] = c->name;
        v[2] = c->bootstrap;
        v[3] = c->declared ? "t" : "f";
        put_pos(r, v + 4, c->pos);
        for (size_t k = 0; k < c->nbrokers; k++) {
            const char **b = row_next(bt);
            b[0] = c->name;
            b[1] = rows_int(r, (long long)k);
            b[2] = rows_int(r, c->brokers[k].id);
            b[3] = c->brokers[k].host;
            b[4] = c->brokers[k].rack;
        }
    }

    tb = &r->tables[T_TOPICS];
    table_init(tb, "topics", COLS(topics_cols), t->ntopics);
    for (size_t i = 0; i < t->ntopics; i++) {
        const kafka_topic_t *tp = &t->topics[i];
        const char **v = row_next(tb);
        v[0] = rows_int(r, (long long)i);
        v[1] = t->clusters[tp->cluster].name;
        v[2] = tp->name;
        v[3] = rows_opt_int(r, tp->partitions);
        v[4] = rows_opt_int(r, tp->replication);
        gr_buf_reset(&json);
        gr_buf_puts(&json, "{");
        for (size_t k = 0; k < tp->nconfig; k++) {
            if (k)
                gr_buf_puts(&json, ",");
            gr_buf_json_string(&json, tp->config[k].key);
            gr_buf_puts(&json, ":");
            gr_buf_json_string(&json, tp->config[k].value);
        }
        gr_buf_puts(&json, "}");
        v[5] = rows_text(r, json.data, json.len);
        v[6] = tp->project;
        v[7] = tp->data_type;
        v[8] = kafka_format_name(tp->format);
        put_pos(r, v + 9, tp->pos);
        v[12] = rows_opt_int(r, tp->replication_pos.line);
        v[13] = rows_opt_int(r, tp->replication_pos.column);
    }

    tb = &r->tables[T_PRINCIPALS];
    table_init(tb, "principals", COLS(principals_cols), t->nprincipals);
    for (size_t i = 0; i < t->nprincipals; i++) {
        const kafka_principal_t *p = &t->principals[i];
        const char **v = row_next(tb);
        v[0] = rows_int(r, (long long)i);
        v[1] = p->name;
        v[2] = p->principal;
        v[3] = kafka_kind_name(p->kind);
        v[4] = p->declared ? "t" : "f";
        put_pos(r, v + 5, p->pos);
    }

    tb = &r->tables[T_CONNECTORS];
    table_init(tb, "connectors", COLS(connectors_cols), t->nconnectors);
    for (size_t i = 0; i < t->nconnectors; i++) {
        const kafka_connector_t *c = &t->connectors[i];
        const char **v = row_next(tb);
        v[0] = rows_int(r, (long long)i);
        v[1] = c->name;
        v[2] = c->principal != KAFKA_NONE ? t->principals[c->principal].name : NULL;
        v[3] = c->class_name;
        put_pos(r, v + 4, c->pos);
    }

    tb = &r->tables[T_APPS];
    table_init(tb, "streams_apps", COLS(apps_cols), t->nstreams_apps);
    for (size_t i = 0; i < t->nstreams_apps; i++) {
        const kafka_streams_app_t *a = &t->streams_apps[i];
        const char **v = row_next(tb);
        v[0] = rows_int(r, (long long)i);
        v[1] = a->application_id;
        v[2] = t->principals[a->principal].name;
        put_pos(r, v + 3, a->pos);
    }

    tb = &r->tables[T_RIGHTS];
    table_init(tb, "rights", COLS(rights_cols), t->nrefs);
    for (size_t i = 0; i < t->nrefs; i++) {
        const kafka_ref_t *f = &t->refs[i];
        const char **v = row_next(tb);
        v[0] = rows_int(r, (long long)i);
        v[1] = kind_of_node(f->owner_kind);
        v[2] = owner_name(t, f->owner_kind, f->owner);
        v[3] = access_name(f->access);
        v[4] = f->pattern == KAFKA_PATTERN_PREFIX ? "prefix" : "literal";
        v[5] = f->topic;
        v[6] = f->cluster != KAFKA_NONE ? t->clusters[f->cluster].name : NULL;
        put_pos(r, v + 7, f->pos);
    }

    tb = &r->tables[T_EDGES];
    table_init(tb, "edges", COLS(edges_cols), t->nedges);
    for (size_t i = 0; i < t->nedges; i++) {
        const kafka_edge_t *e = &t->edges[i];
        const char **v = row_next(tb);
        v[0] = rows_int(r, (long long)i);
        v[1] = kind_of_node(e->from_kind);
        v[2] = owner_name(t, e->from_kind, e->from);
        v[3] = access_name(e->access);
        v[4] = t->clusters[e->cluster].name;
        v[5] = e->topic_name;
        v[6] = e->topic != KAFKA_NONE ? "t" : "f";
        put_pos(r, v + 7, e->pos);
    }

    tb = &r->tables[T_PROBLEMS];
    table_init(tb, "problems", COLS(problems_cols), t->nproblems);
    for (size_t i = 0; i < t->nproblems; i++) {
        const kafka_problem_t *p = &t->problems[i];
        const char **v = row_next(tb);
        v[0] = rows_int(r, (long long)i);
        put_pos(r, v + 1, p->pos);
        v[4] = p->severity == KAFKA_SEVERITY_ERROR ? "error" : "warning";
        v[5] = p->check;
        v[6] = p->message;
    }
    gr_buf_free(&json);
}

void kt_rows_free(kt_rows_t *r)
{
    for (size_t i = 0; i < KT_TABLES; i++)
        free(r->tables[i].values);
    for (size_t i = 0; i < r->nblocks; i++)
        free(r->blocks[i]);
    free(r->blocks);
    *r = (kt_rows_t){0};
}

/* ---- reading rows back ------------------------------------------------------------------- */

typedef struct restore {
    kafka_topology_t *t;
    struct json_object *tables[KT_TABLES];
    gr_error_t *err;
    int failed;
} restore_t;

static struct json_object *row_at(struct json_object *table, size_t i)
{
    return json_object_array_get_idx(table, i);
}

static const char *col_str(struct json_object *row, size_t col)
{
    struct json_object *v = json_object_array_get_idx(row, col);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t col_int(struct json_object *row, size_t col)
{
    struct json_object *v = json_object_array_get_idx(row, col);
    return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
}

static int col_bool(struct json_object *row, size_t col)
{
    struct json_object *v = json_object_array_get_idx(row, col);
    return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static kafka_pos_t col_pos(struct json_object *row, size_t col)
{
    return (kafka_pos_t){col_str(row, col), (uint32_t)col_int(row, col + 1),
                         (uint32_t)col_int(row, col + 2)};
}

static int fail(restore_t *rs, const char *table, size_t row, const char *what)
{
    if (!rs->failed)
        gr_error_set(rs->err, GR_ERR_INVALID,
                     "kafka-topology: the stored model is inconsistent: %s row %zu %s; the next "
                     "sync replaces it",
                     table, row, what);
    rs->failed = 1;
    return -1;
}

static kafka_format_t format_of(const char *name)
{
    kafka_format_t f = KAFKA_FORMAT_UNKNOWN;
    if (name && strcmp(name, "unknown") != 0)
        kafka_format_from_name(name, &f, NULL);
    return f;
}

static kafka_kind_t kind_of(const char *name)
{
    static const kafka_kind_t kinds[] = {KAFKA_KIND_APPLICATION, KAFKA_KIND_STREAMS,
                                         KAFKA_KIND_CONNECT, KAFKA_KIND_USER, KAFKA_KIND_PLATFORM};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (name && strcmp(name, kafka_kind_name(kinds[i])) == 0)
            return kinds[i];
    return KAFKA_KIND_APPLICATION;
}

static size_t cluster_index(const kafka_topology_t *t, const char *name)
{
    const kafka_cluster_t *c = kafka_topology_cluster(t, name);
    return c ? (size_t)(c - t->clusters) : KAFKA_NONE;
}

static size_t owner_index(const kafka_topology_t *t, const char *kind, const char *name,
                          kafka_node_kind_t *out_kind)
{
    if (kind && strcmp(kind, "connector") == 0) {
        *out_kind = KAFKA_NODE_CONNECTOR;
        const kafka_connector_t *c = kafka_topology_connector(t, name);
        return c ? (size_t)(c - t->connectors) : KAFKA_NONE;
    }
    *out_kind = KAFKA_NODE_PRINCIPAL;
    const kafka_principal_t *p = kafka_topology_principal(t, name);
    return p ? (size_t)(p - t->principals) : KAFKA_NONE;
}

static size_t principal_index(const kafka_topology_t *t, const char *name)
{
    const kafka_principal_t *p = kafka_topology_principal(t, name);
    return p ? (size_t)(p - t->principals) : KAFKA_NONE;
}

static void restore_clusters(restore_t *rs)
{
    struct json_object *clusters = rs->tables[T_CLUSTERS], *brokers = rs->tables[T_BROKERS];
    size_t nb = json_object_array_length(brokers), b = 0;
    kafka_broker_t *list = gr_xcalloc(nb + 1, sizeof *list);
    for (size_t i = 0; i < json_object_array_length(clusters); i++) {
        struct json_object *row = row_at(clusters, i);
        kafka_cluster_t c = {
            .name = col_str(row, 0),
            .bootstrap = col_str(row, 1),
            .declared = col_bool(row, 2),
            .pos = col_pos(row, 3),
        };
        if (!c.name) {
            fail(rs, "clusters", i, "has no name");
            break;
        }
        /* Brokers come ordered by their cluster's seq: this cluster's are next. */
        size_t first = b;
        while (b < nb && col_str(row_at(brokers, b), 0) &&
               strcmp(col_str(row_at(brokers, b), 0), c.name) == 0) {
            struct json_object *br = row_at(brokers, b);
            list[b] = (kafka_broker_t){(int32_t)col_int(br, 1), col_str(br, 2), col_str(br, 3)};
            b++;
        }
        c.brokers = list + first;
        c.nbrokers = b - first;
        kafka_restore_cluster(rs->t, &c);
    }
    if (!rs->failed && b != nb)
        fail(rs, "brokers", b, "names no cluster");
    free(list);
}

static void restore_topics(restore_t *rs)
{
    struct json_object *topics = rs->tables[T_TOPICS];
    kafka_config_entry_t *cfg = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < json_object_array_length(topics) && !rs->failed; i++) {
        struct json_object *row = row_at(topics, i);
        size_t cluster = cluster_index(rs->t, col_str(row, 0));
        if (cluster == KAFKA_NONE || !col_str(row, 1)) {
            fail(rs, "topics", i, "names no cluster or has no name");
            break;
        }
        struct json_object *config = json_object_array_get_idx(row, 4);
        size_t n = 0;
        if (json_object_is_type(config, json_type_object)) {
            size_t want = (size_t)json_object_object_length(config);
            if (want > cap) {
                cap = want;
                cfg = gr_xrealloc(cfg, cap * sizeof *cfg);
            }
            json_object_object_foreach(config, key, val)
            {
                cfg[n++] = (kafka_config_entry_t){key, json_object_get_string(val)};
            }
        }
        kafka_topic_t tp = {
            .name = col_str(row, 1),
            .cluster = cluster,
            .partitions = (int32_t)col_int(row, 2),
            .replication = (int32_t)col_int(row, 3),
            .config = cfg,
            .nconfig = n,
            .project = col_str(row, 5),
            .data_type = col_str(row, 6),
            .format = format_of(col_str(row, 7)),
            .pos = col_pos(row, 8),
        };
        tp.replication_pos =
            (kafka_pos_t){tp.pos.file, (uint32_t)col_int(row, 11), (uint32_t)col_int(row, 12)};
        kafka_restore_topic(rs->t, &tp);
    }
    free(cfg);
}

static void restore_actors(restore_t *rs)
{
    struct json_object *tb = rs->tables[T_PRINCIPALS];
    for (size_t i = 0; i < json_object_array_length(tb) && !rs->failed; i++) {
        struct json_object *row = row_at(tb, i);
        kafka_principal_t p = {
            .name = col_str(row, 0),
            .principal = col_str(row, 1),
            .kind = kind_of(col_str(row, 2)),
            .declared = col_bool(row, 3),
            .pos = col_pos(row, 4),
        };
        if (!p.name)
            fail(rs, "principals", i, "has no name");
        else
            kafka_restore_principal(rs->t, &p);
    }
    tb = rs->tables[T_CONNECTORS];
    for (size_t i = 0; i < json_object_array_length(tb) && !rs->failed; i++) {
        struct json_object *row = row_at(tb, i);
        const char *runs_in = col_str(row, 1);
        kafka_connector_t c = {
            .name = col_str(row, 0),
            .principal = runs_in ? principal_index(rs->t, runs_in) : KAFKA_NONE,
            .class_name = col_str(row, 2),
            .pos = col_pos(row, 3),
        };
        if (!c.name || (runs_in && c.principal == KAFKA_NONE))
            fail(rs, "connectors", i, "has no name or names no principal");
        else
            kafka_restore_connector(rs->t, &c);
    }
    tb = rs->tables[T_APPS];
    for (size_t i = 0; i < json_object_array_length(tb) && !rs->failed; i++) {
        struct json_object *row = row_at(tb, i);
        kafka_streams_app_t a = {
            .application_id = col_str(row, 0),
            .principal = principal_index(rs->t, col_str(row, 1)),
            .pos = col_pos(row, 2),
        };
        if (a.principal == KAFKA_NONE)
            fail(rs, "streams_apps", i, "names no principal");
        else
            kafka_restore_streams_app(rs->t, &a);
    }
}

static void restore_links(restore_t *rs)
{
    struct json_object *tb = rs->tables[T_RIGHTS];
    for (size_t i = 0; i < json_object_array_length(tb) && !rs->failed; i++) {
        struct json_object *row = row_at(tb, i);
        kafka_ref_t f = {.topic = col_str(row, 4), .pos = col_pos(row, 6)};
        f.owner = owner_index(rs->t, col_str(row, 0), col_str(row, 1), &f.owner_kind);
        const char *access = col_str(row, 2), *pattern = col_str(row, 3), *c = col_str(row, 5);
        f.access = access && strcmp(access, "consumes") == 0 ? KAFKA_CONSUMES : KAFKA_PRODUCES;
        f.pattern = pattern && strcmp(pattern, "prefix") == 0 ? KAFKA_PATTERN_PREFIX
                                                              : KAFKA_PATTERN_LITERAL;
        f.cluster = c ? cluster_index(rs->t, c) : KAFKA_NONE;
        if (f.owner == KAFKA_NONE || !f.topic || (c && f.cluster == KAFKA_NONE))
            fail(rs, "rights", i, "names no owner, topic or cluster");
        else
            kafka_restore_ref(rs->t, &f);
    }
    tb = rs->tables[T_EDGES];
    for (size_t i = 0; i < json_object_array_length(tb) && !rs->failed; i++) {
        struct json_object *row = row_at(tb, i);
        kafka_edge_t e = {.topic_name = col_str(row, 4), .pos = col_pos(row, 6)};
        e.from = owner_index(rs->t, col_str(row, 0), col_str(row, 1), &e.from_kind);
        const char *access = col_str(row, 2);
        e.access = access && strcmp(access, "consumes") == 0 ? KAFKA_CONSUMES : KAFKA_PRODUCES;
        e.cluster = cluster_index(rs->t, col_str(row, 3));
        e.topic = KAFKA_NONE;
        if (col_bool(row, 5)) {
            const kafka_topic_t *tp =
                e.cluster != KAFKA_NONE ? kafka_topology_topic(rs->t, col_str(row, 3), e.topic_name)
                                        : NULL;
            if (!tp) {
                fail(rs, "edges", i, "names a topic that is not stored");
                break;
            }
            e.topic = (size_t)(tp - rs->t->topics);
        }
        if (e.from == KAFKA_NONE || e.cluster == KAFKA_NONE || !e.topic_name)
            fail(rs, "edges", i, "names no owner, cluster or topic");
        else
            kafka_restore_edge(rs->t, &e);
    }
    tb = rs->tables[T_PROBLEMS];
    for (size_t i = 0; i < json_object_array_length(tb) && !rs->failed; i++) {
        struct json_object *row = row_at(tb, i);
        const char *sev = col_str(row, 3);
        kafka_problem_t p = {
            .pos = col_pos(row, 0),
            .severity =
                sev && strcmp(sev, "warning") == 0 ? KAFKA_SEVERITY_WARNING : KAFKA_SEVERITY_ERROR,
            .check = col_str(row, 4),
            .message = col_str(row, 5),
        };
        kafka_restore_problem(rs->t, &p);
    }
}

kafka_topology_t *kt_rows_restore(const char *const json[KT_TABLES], const kafka_options_t *opts,
                                  gr_error_t *err)
{
    restore_t rs = {.err = err};
    for (size_t i = 0; i < KT_TABLES; i++) {
        rs.tables[i] = json[i] ? json_tokener_parse(json[i]) : json_object_new_array();
        if (!json_object_is_type(rs.tables[i], json_type_array)) {
            gr_error_set(err, GR_ERR_INVALID,
                         "kafka-topology: the stored %s table did not come back as a JSON array",
                         kt_table_names[i]);
            for (size_t k = 0; k <= i; k++)
                json_object_put(rs.tables[k]);
            return NULL;
        }
    }
    rs.t = kafka_restore_new(opts);
    struct json_object *files = rs.tables[T_FILES];
    for (size_t i = 0; i < json_object_array_length(files); i++) {
        struct json_object *row = row_at(files, i);
        kafka_file_t f = {col_str(row, 0), format_of(col_str(row, 1))};
        if (!f.path) {
            fail(&rs, "files", i, "has no path");
            break;
        }
        kafka_restore_file(rs.t, &f);
    }
    if (!rs.failed)
        restore_clusters(&rs);
    if (!rs.failed)
        restore_topics(&rs);
    if (!rs.failed)
        restore_actors(&rs);
    if (!rs.failed)
        restore_links(&rs);
    for (size_t i = 0; i < KT_TABLES; i++)
        json_object_put(rs.tables[i]);
    if (!rs.failed && kafka_restore_finish(rs.t, err) != 0)
        rs.failed = 1;
    if (rs.failed) {
        kafka_topology_free(rs.t);
        return NULL;
    }
    return rs.t;
}
