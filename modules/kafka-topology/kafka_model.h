/* modules/kafka-topology/kafka_model.h: the Kafka topology model and the
 * parsers that fill it, as a plain C library with no dependency on the host,
 * the database or the network.
 *
 * A caller (the kafka-topology plugin's sync, a test, the benchmark) uses it
 * in three steps:
 *
 *   1. kafka_topology_new, then hand it files: kafka_topology_add (bytes
 *      already read, for example from a git tree) or kafka_topology_load (a
 *      file or a directory on disk).  Each file is parsed at once; its format
 *      is detected from its content unless the options or the call force one.
 *   2. kafka_topology_finish: interprets every file (JulieOps plans first,
 *      kafka-gitops settings.files followed), resolves who produces and
 *      consumes what into edges, and runs the checks.  Problems never stop
 *      the other files: each one lands in `problems` with its file and line.
 *   3. Read the arrays, look things up, export a cluster's graph
 *      (kafka_graph_cytoscape), then kafka_topology_free.
 *
 * Every string and array in the model belongs to the topology and lives until
 * kafka_topology_free; nothing keeps global state, so a topology can be built
 * on a libuv worker thread and handed to the loop.  kafka_topology_load and
 * kafka_read_disk read files: call them off the loop.
 *
 * Formats (see the parse_*.c files for the details of each):
 *   - JulieOps topology descriptors (YAML or JSON) and their plans.yaml;
 *   - kafka-gitops desired-state files, including settings.files;
 *   - Strimzi custom resources (Kafka, KafkaNodePool, KafkaTopic, KafkaUser,
 *     KafkaConnect, KafkaConnector), also inside an OpenShift Template;
 *   - the plain format of our own, documented in parse_plain.c.
 * JulieOps descriptors name no cluster: their topics go to the options'
 * default cluster.  A kafka-gitops state describes one cluster, named after
 * the directory holding the state file (the default cluster for a state at
 * the top of the source).
 */
#ifndef KAFKA_MODEL_H
#define KAFKA_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <greenroom/error.h>

/* Index value meaning "none" in the size_t links between model arrays. */
#define KAFKA_NONE ((size_t)-1)

typedef enum kafka_format {
    KAFKA_FORMAT_AUTO = 0,       /* detect from the content */
    KAFKA_FORMAT_JULIEOPS,       /* a JulieOps topology descriptor */
    KAFKA_FORMAT_JULIEOPS_PLANS, /* a JulieOps plans file (top-level plans:) */
    KAFKA_FORMAT_GITOPS,         /* a kafka-gitops desired-state file */
    KAFKA_FORMAT_STRIMZI,        /* Strimzi custom resources */
    KAFKA_FORMAT_PLAIN,          /* greenroom's own format */
    KAFKA_FORMAT_UNKNOWN         /* none of the above */
} kafka_format_t;

/* "julieops", "julieops-plans", "kafka-gitops", "strimzi", "plain", "auto",
 * "unknown": the names config and the API use. */
const char *kafka_format_name(kafka_format_t format);
/* The inverse of kafka_format_name; returns 0, or GR_ERR_INVALID with err
 * filled for a name it does not know. */
int kafka_format_from_name(const char *name, kafka_format_t *out, gr_error_t *err);

/* Where something was written.  `file` points into the topology's own copy
 * of the path as it was given; line and column are 1-based (0: unknown). */
typedef struct kafka_pos {
    const char *file;
    uint32_t line;
    uint32_t column;
} kafka_pos_t;

/* ---- the model ----------------------------------------------------------- */

typedef struct kafka_broker {
    int32_t id;
    const char *host; /* NULL when the source does not say */
    const char *rack; /* NULL when the source does not say */
} kafka_broker_t;

typedef struct kafka_cluster {
    const char *name;
    const char *bootstrap; /* "host:port,...", NULL when unknown */
    kafka_broker_t *brokers;
    size_t nbrokers; /* 0: the broker count is unknown and not checked */
    int declared;    /* 1 when a file describes the cluster itself */
    kafka_pos_t pos; /* where it was declared, or first used */
} kafka_cluster_t;

typedef struct kafka_config_entry {
    const char *key;
    const char *value; /* as text, the way Kafka's admin API takes it */
} kafka_config_entry_t;

typedef struct kafka_topic {
    const char *name;             /* the full Kafka topic name */
    size_t cluster;               /* index into clusters */
    int32_t partitions;           /* 0: the cluster's default */
    int32_t replication;          /* 0: the cluster's default */
    kafka_config_entry_t *config; /* sorted by key */
    size_t nconfig;
    const char *project;   /* JulieOps project name, else NULL */
    const char *data_type; /* JulieOps dataType, else NULL */
    kafka_format_t format;
    kafka_pos_t pos;             /* the topic's definition */
    kafka_pos_t replication_pos; /* its replication factor, else == pos */
} kafka_topic_t;

typedef enum kafka_kind {
    KAFKA_KIND_APPLICATION = 0, /* plain producers and consumers */
    KAFKA_KIND_STREAMS,         /* a Kafka Streams application */
    KAFKA_KIND_CONNECT,         /* a Kafka Connect cluster (its workers' principal) */
    KAFKA_KIND_USER,            /* a person or a user account (kafka-gitops users, KafkaUser) */
    KAFKA_KIND_PLATFORM         /* Schema Registry, Control Center, ... (JulieOps platform:) */
} kafka_kind_t;

/* "application", "kafka-streams", "kafka-connect", "user", "platform". */
const char *kafka_kind_name(kafka_kind_t kind);

typedef enum kafka_access { KAFKA_PRODUCES = 0, KAFKA_CONSUMES } kafka_access_t;

typedef enum kafka_pattern {
    KAFKA_PATTERN_LITERAL = 0, /* one topic by its full name; "*" means every topic */
    KAFKA_PATTERN_PREFIX       /* every topic whose name starts with `topic` */
} kafka_pattern_t;

typedef enum kafka_node_kind { KAFKA_NODE_PRINCIPAL = 0, KAFKA_NODE_CONNECTOR } kafka_node_kind_t;

/* One right to produce to or consume from topics, as a file wrote it. */
typedef struct kafka_ref {
    kafka_node_kind_t owner_kind;
    size_t owner; /* index into principals or connectors */
    kafka_access_t access;
    kafka_pattern_t pattern;
    const char *topic; /* a full name, a prefix, or "*" */
    size_t cluster;    /* index into clusters, or KAFKA_NONE: any cluster */
    kafka_pos_t pos;
} kafka_ref_t;

/* A principal or service: who holds produce/consume rights.  Several
 * mentions of the same name (in one file or several) are one principal. */
typedef struct kafka_principal {
    const char *name;      /* "User:App0" (JulieOps), the service or user name
                              (kafka-gitops, plain), the KafkaUser name */
    const char *principal; /* the Kafka principal when the source gives one
                              besides the name, else NULL */
    kafka_kind_t kind;
    int declared;    /* 0: only referenced (a custom ACL, a plain topic's
                        producers) and never defined; reported */
    kafka_pos_t pos; /* definition, or first reference */
    /* Its rights: refs[0 .. nproduces) produce, then nconsumes consume,
     * each in the order the files wrote them.  Filled by finish. */
    const kafka_ref_t *refs;
    size_t nproduces;
    size_t nconsumes;
} kafka_principal_t;

/* A Kafka Connect connector. */
typedef struct kafka_connector {
    const char *name;
    size_t principal;       /* the Connect cluster running it, or KAFKA_NONE */
    const char *class_name; /* connector.class when known, else NULL */
    kafka_pos_t pos;
    const kafka_ref_t *refs; /* as for principals, filled by finish */
    size_t nproduces;
    size_t nconsumes;
} kafka_connector_t;

/* A Kafka Streams application. */
typedef struct kafka_streams_app {
    const char *application_id; /* NULL when the descriptor names none */
    size_t principal;           /* the principal it runs as */
    kafka_pos_t pos;
} kafka_streams_app_t;

/* A resolved right: one producer or consumer and one topic.  Built by
 * finish from the refs, without duplicates. */
typedef struct kafka_edge {
    kafka_node_kind_t from_kind;
    size_t from; /* index into principals or connectors */
    kafka_access_t access;
    size_t topic; /* index into topics, or KAFKA_NONE when the topic
                     is not defined anywhere (then see topic_name) */
    const char *topic_name;
    size_t cluster;  /* the topic's cluster */
    kafka_pos_t pos; /* the ref it came from */
} kafka_edge_t;

typedef enum kafka_severity { KAFKA_SEVERITY_ERROR = 0, KAFKA_SEVERITY_WARNING } kafka_severity_t;

/* Checks, as the `check` of a problem. */
#define KAFKA_CHECK_READ "read"                       /* a file that cannot be read */
#define KAFKA_CHECK_SYNTAX "syntax"                   /* malformed YAML or JSON */
#define KAFKA_CHECK_UNKNOWN_FORMAT "unknown-format"   /* no known format in the file */
#define KAFKA_CHECK_INVALID "invalid"                 /* a known format, wrongly filled */
#define KAFKA_CHECK_MISSING_FILE "missing-file"       /* settings.files names no file */
#define KAFKA_CHECK_REPLICATION "replication-factor"  /* above the cluster's brokers */
#define KAFKA_CHECK_DUPLICATE_TOPIC "duplicate-topic" /* defined twice, differently */
#define KAFKA_CHECK_UNDEFINED_TOPIC "undefined-topic" /* a ref to no defined topic */
#define KAFKA_CHECK_UNDEFINED_PRINCIPAL "undefined-principal"
#define KAFKA_CHECK_UNDEFINED_PLAN "undefined-plan" /* a JulieOps plan nobody defines */

typedef struct kafka_problem {
    kafka_pos_t pos;
    kafka_severity_t severity;
    const char *check;   /* one of KAFKA_CHECK_* */
    const char *message; /* a sentence that says what to change */
} kafka_problem_t;

/* One file that was read, and what it was read as. */
typedef struct kafka_file {
    const char *path;
    kafka_format_t format;
} kafka_file_t;

typedef struct kafka__impl kafka__impl_t;

typedef struct kafka_topology {
    kafka_cluster_t *clusters;
    size_t nclusters;
    kafka_topic_t *topics;
    size_t ntopics;
    kafka_principal_t *principals;
    size_t nprincipals;
    kafka_connector_t *connectors;
    size_t nconnectors;
    kafka_streams_app_t *streams_apps;
    size_t nstreams_apps;
    kafka_ref_t *refs; /* every ref, grouped by owner after finish */
    size_t nrefs;
    kafka_edge_t *edges;
    size_t nedges;
    kafka_problem_t *problems; /* sorted by file (in the order read), line, column */
    size_t nproblems;
    kafka_file_t *files;
    size_t nfiles;
    kafka__impl_t *impl; /* parse state, tables, string storage */
} kafka_topology_t;

/* ---- building ------------------------------------------------------------ */

/* Reads a file a kafka-gitops state names in settings.files and that was not
 * added.  Returns a malloc'd buffer (the caller frees it) and its length, or
 * NULL with err filled. */
typedef char *(*kafka_read_fn)(void *user_data, const char *path, size_t *len, gr_error_t *err);

typedef struct kafka_options {
    kafka_format_t format;       /* AUTO, or the format of every file */
    const char *default_cluster; /* for sources that name no cluster; NULL: "default" */
    const char *separator;       /* JulieOps topic name separator; NULL: "." */
    kafka_read_fn read_file;     /* NULL: settings.files must name added files */
    void *read_data;
} kafka_options_t;

/* A kafka_read_fn that reads from disk (blocking). */
char *kafka_read_disk(void *user_data, const char *path, size_t *len, gr_error_t *err);

/* Returns a new, empty topology; opts may be NULL for the defaults.  The
 * option strings are copied. */
kafka_topology_t *kafka_topology_new(const kafka_options_t *opts);

/* Parses one file's bytes under `path` (used in messages and to follow
 * settings.files), as `format` (KAFKA_FORMAT_AUTO: the options' format,
 * detected when that is AUTO too).  Syntax errors become problems.  Returns
 * 0, or GR_ERR_CONFLICT after finish. */
int kafka_topology_add(kafka_topology_t *t, const char *path, const char *data, size_t len,
                       kafka_format_t format);

/* Reads a file, or every *.yaml, *.yml and *.json file under a directory
 * (recursively, in name order, skipping dot-files), and adds each.  A file
 * that cannot be read becomes a problem; returns GR_ERR_IO with err filled
 * only when `path` itself cannot be read.  Blocking. */
int kafka_topology_load(kafka_topology_t *t, const char *path, kafka_format_t format,
                        gr_error_t *err);

/* Records a problem the caller found with a file it could not hand over
 * (unreadable, too large): it is reported with the others.  path and
 * message are copied; check is one of KAFKA_CHECK_*.  line 0: no line. */
void kafka_topology_report(kafka_topology_t *t, const char *path, uint32_t line,
                           kafka_severity_t severity, const char *check, const char *message);

/* Interprets the files, resolves refs into edges and runs the checks.  After
 * this the model is complete and read-only; calling it twice does nothing. */
void kafka_topology_finish(kafka_topology_t *t);

void kafka_topology_free(kafka_topology_t *t);

/* ---- reading ------------------------------------------------------------- */

/* Lookups by name; NULL when absent.  Topic names are full Kafka names. */
const kafka_cluster_t *kafka_topology_cluster(const kafka_topology_t *t, const char *name);
const kafka_topic_t *kafka_topology_topic(const kafka_topology_t *t, const char *cluster,
                                          const char *name);
const kafka_principal_t *kafka_topology_principal(const kafka_topology_t *t, const char *name);
const kafka_connector_t *kafka_topology_connector(const kafka_topology_t *t, const char *name);

/* The value of a topic's config key, or NULL. */
const char *kafka_topic_config(const kafka_topic_t *topic, const char *key);

/* Counts problems of a severity. */
size_t kafka_topology_count_problems(const kafka_topology_t *t, kafka_severity_t severity);

/* Returns a new string "file:line:col: error: message" (or "warning"), the
 * form sync status and logs show. */
char *kafka_problem_format(const kafka_problem_t *p);

/* ---- restoring a stored topology ----------------------------------------- */

/* Rebuilds a finished topology from what a caller stored of one (the
 * plugin keeps each array in a database table and reloads it at start),
 * without reading any file.  Call kafka_restore_new, then hand over the
 * arrays' elements in their original order, each kind after the ones it
 * points at (files, clusters, topics, principals, connectors; then streams
 * apps, refs, edges and problems), then kafka_restore_finish.
 *
 * Each call copies its strings (pos.file is matched to a restored file
 * when there is one) and takes the indexes in the element as they were in
 * the stored topology: cluster, topic, owner and principal index the
 * elements restored before.  The pointers a finished topology fills by
 * itself (a principal's or connector's refs slice) are ignored and rebuilt.
 * Lookups work as on a parsed topology. */
kafka_topology_t *kafka_restore_new(const kafka_options_t *opts);
void kafka_restore_file(kafka_topology_t *t, const kafka_file_t *file);
/* Brokers come with the cluster (cluster->brokers, nbrokers). */
void kafka_restore_cluster(kafka_topology_t *t, const kafka_cluster_t *cluster);
void kafka_restore_topic(kafka_topology_t *t, const kafka_topic_t *topic);
void kafka_restore_principal(kafka_topology_t *t, const kafka_principal_t *principal);
void kafka_restore_connector(kafka_topology_t *t, const kafka_connector_t *connector);
void kafka_restore_streams_app(kafka_topology_t *t, const kafka_streams_app_t *app);
void kafka_restore_ref(kafka_topology_t *t, const kafka_ref_t *ref);
/* edge->topic_name is needed when edge->topic is KAFKA_NONE and ignored
 * otherwise. */
void kafka_restore_edge(kafka_topology_t *t, const kafka_edge_t *edge);
/* problem->check is copied; any text is accepted. */
void kafka_restore_problem(kafka_topology_t *t, const kafka_problem_t *problem);
/* Checks every index against what was restored and completes the
 * topology.  Returns 0, or GR_ERR_INVALID with err naming the first
 * element that points nowhere (the topology must then only be freed). */
int kafka_restore_finish(kafka_topology_t *t, gr_error_t *err);

/* ---- graph --------------------------------------------------------------- */

/* Writes Cytoscape.js elements for one cluster (NULL: every cluster):
 *   {"nodes": [{"data": {"id", "label", "kind", "cluster", ...}}, ...],
 *    "edges": [{"data": {"id", "source", "target", "kind"}}, ...]}
 * Node kinds: "topic", the principal kinds (kafka_kind_name), "connector".
 * Topic nodes carry cluster, partitions and replicationFactor (when set),
 * project and dataType (JulieOps), format, file and line; a topic that is
 * referenced but defined nowhere appears with "external": true.  Principals
 * and connectors appear when they have an edge to a topic of the cluster
 * (principals with "principal" and, when only referenced, "declared":
 * false).  Edges follow the data: a producer → topic edge has kind
 * "produces", a topic → consumer edge "consumes", a connector → its Connect
 * cluster edge "runs-in".  The order is stable: the same topology always
 * gives the same text.  Returns a new NUL-terminated string (the caller
 * frees it) and its length in *len (when len is not NULL), or NULL when the
 * cluster does not exist. */
char *kafka_graph_cytoscape(const kafka_topology_t *t, const char *cluster, size_t *len);

#endif
