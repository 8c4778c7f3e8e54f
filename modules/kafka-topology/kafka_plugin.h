/* modules/kafka-topology/kafka_plugin.h: what the files of the
 * kafka-topology plugin share (the model library, kafka_model.h, is
 * separate and knows nothing of the host).
 *
 * The plugin syncs a repository of topology files on a schedule:
 *
 *   source        the same directory, git and github sources as the
 *                 central-config provider (config_source.h);
 *   collect.c     on the thread pool: picks the files (include/exclude
 *                 globs), each file's format (per-glob override, else the
 *                 global one, else detected), reads and parses them into a
 *                 topology;
 *   model.c       a published model: the topology with the indexes the API
 *                 needs and a cache of each cluster's graph, shared by
 *                 reference count with requests and listeners;
 *   rows.c        the model as table rows for COPY, and back (pure);
 *   store.c       the plugin's tables: the whole model replaced in one
 *                 transaction, the sync status document, loading;
 *   sync.c        the plugin's steps of the shared sync runner
 *                 (source_sync.h): parse, store, publish;
 *   routes.c      /api/kafka-topology/...;
 *   module.c      descriptor, config, life cycle, the listener extension
 *                 point (kafka_topology_api.h).
 *
 * Internal names start with kt_.  Everything except collect.c and rows.c
 * runs on the loop thread. */
#ifndef KAFKA_PLUGIN_H
#define KAFKA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <json.h>
#include <uv.h>

#include <greenroom/greenroom.h>

#include "config_source.h"
#include "kafka_model.h"
#include "source_sync.h"
#include "kafka_topology_api.h"
#include "util.h"

/* ---- what a sync reads (collect.c, pure) ------------------------------------------ */

typedef struct kt_format_rule {
    char *glob;
    kafka_format_t format;
} kt_format_rule_t;

typedef struct kt_options {
    cc_selection_t files;      /* include and exclude globs, maxFileBytes */
    kt_format_rule_t *formats; /* first match wins */
    size_t nformats;
    kafka_format_t format; /* for files no rule names; AUTO: detect */
    char *default_cluster;
    char *separator;
} kt_options_t;

void kt_options_free(kt_options_t *o);

/* The format a file is read as: its first matching rule, else o->format. */
kafka_format_t kt_options_format_of(const kt_options_t *o, const char *path);

typedef struct kt_collect {
    kafka_topology_t *topology; /* owned; NULL when the root failed */
    size_t files;               /* files selected and handed to the model */
    int status;                 /* 0, or a gr_status_t when the root itself failed */
    char message[512];
} kt_collect_t;

/* Reads every selected file under root (a directory) into a finished
 * topology, paths relative to root.  A file that cannot be read becomes a
 * problem of the topology; kafka-gitops settings.files are read from under
 * root only.  Blocking: call it on the thread pool. */
void kt_collect_run(const kt_options_t *o, const char *root, kt_collect_t *out);
void kt_collect_free(kt_collect_t *c);

/* ---- table rows (rows.c, pure) ------------------------------------------------------ */

/* One table's rows for gr_db_tx_copy: values[row * ncolumns + col]. */
typedef struct kt_table {
    const char *name;
    const char *const *columns;
    size_t ncolumns;
    const char **values; /* point into the topology or the rows' own text */
    size_t nrows;
} kt_table_t;

#define KT_TABLES 10

typedef struct kt_rows {
    kt_table_t tables[KT_TABLES];
    /* Text written for the rows (numbers, JSON), in blocks that never move. */
    char **blocks;
    size_t nblocks;
    size_t used, cap; /* of the last block */
} kt_rows_t;

/* Writes the topology as rows of the plugin's tables (migrations/), in
 * array order with a seq column, names rather than indexes. */
void kt_rows_build(const kafka_topology_t *t, kt_rows_t *out);
void kt_rows_free(kt_rows_t *r);

/* The tables in the order kt_store_load's query returns them. */
extern const char *const kt_table_names[KT_TABLES];

/* Rebuilds a topology from the JSON arrays (one per table, as text, in
 * kt_table_names order) that the load query returns.  NULL with err
 * filled when they do not make a consistent model. */
kafka_topology_t *kt_rows_restore(const char *const json[KT_TABLES], const kafka_options_t *opts,
                                  gr_error_t *err);

/* ---- a published model (model.c) -------------------------------------------------- */

typedef struct kt_graph kt_graph_t;

typedef struct kt_model {
    kafka_snapshot_t pub; /* first: the API hands out &pub */
    int refs;
    kafka_topology_t *topology; /* owned */
    char *location_prefix;
    char *revision;
    int64_t synced_wall_ms;
    /* Edges per topic (producers first), per principal, per connector:
     * the edge indexes of item i are list[start[i] .. start[i + 1]). */
    size_t *topic_start, *topic_list;
    size_t *principal_start, *principal_list;
    size_t *connector_start, *connector_list;
    /* Per cluster: topics, and principals or connectors with an edge there. */
    size_t *cluster_topics, *cluster_actors;
    /* One per cluster, then one for every cluster together. */
    kt_graph_t *graphs;
} kt_model_t;

/* Takes over topology and builds the indexes (cheap; may run on a worker). */
kt_model_t *kt_model_new(kafka_topology_t *topology, uint64_t generation,
                         const char *location_prefix, const char *revision, int64_t wall_ms);
kt_model_t *kt_model_ref(kt_model_t *m);
void kt_model_unref(kt_model_t *m);

/* The edges of topic i (or of principal or connector i). */
void kt_model_topic_edges(const kt_model_t *m, size_t topic, const size_t **edges, size_t *n);
void kt_model_actor_edges(const kt_model_t *m, kafka_node_kind_t kind, size_t idx,
                          const size_t **edges, size_t *n);

/* Answers req with the graph of cluster (NULL: every cluster), computing
 * it on the thread pool the first time and keeping it with the model.
 * 404 for a cluster the model does not have. */
typedef struct kt_plugin kt_plugin_t;
void kt_model_graph_respond(kt_plugin_t *p, kt_model_t *m, const char *cluster,
                            gr_http_request_t *req);
/* Computes every cluster's graph now, on the thread pool, so the first
 * request after a sync finds it ready. */
void kt_model_graph_warm(kt_plugin_t *p, kt_model_t *m);

/* ---- the plugin (module.c) ------------------------------------------------------------ */

struct kafka_listener {
    kt_plugin_t *plugin;
    kafka_snapshot_fn fn;
    void *user_data;
    struct json_object *report;
    struct kafka_listener *next;
};

struct kt_plugin {
    gr_context_t *ctx;
    kafka_topology_api_t api; /* the extension point */
    kafka_listener_t *listeners;
    int refs; /* one for the plugin until shutdown, one per listener, run, request */
    int stopping;

    cc_source_t source;
    cc_sync_t sync; /* the source's syncs: schedule, run in progress */
    kt_options_t options;
    kafka_catalog_mapping_t mapping;
    char *mapping_owner;

    kt_model_t *model; /* the model served; NULL until one is loaded or synced */
    int loading;       /* a load from the database is in flight */
    uv_timer_t poll;   /* looks for another host's newer model */
    int poll_open;

    gr_metric_t *syncs_total; /* label: result */
    gr_metric_t *sync_seconds;
    gr_metric_t *problems; /* gauge, label: severity */
    gr_metric_t *topics;   /* gauge */
};

#define KT_TASK_ID "sync"

void kt_plugin_ref(kt_plugin_t *p);
void kt_plugin_unref(kt_plugin_t *p);

/* Makes m the model served (taking over the caller's reference) when it is
 * newer than the current one, and hands it to the listeners. */
void kt_plugin_publish(kt_plugin_t *p, kt_model_t *m);

/* Loads the stored model when the database holds a newer one than the
 * model served (start-up, and another host's sync). */
void kt_plugin_load(kt_plugin_t *p);

/* ---- the database (store.c) -------------------------------------------------------- */

typedef void (*kt_saved_fn)(kt_plugin_t *p, uint64_t generation, const gr_error_t *err,
                            void *user_data);
typedef void (*kt_status_fn)(kt_plugin_t *p, struct json_object *status, const gr_error_t *err,
                             void *user_data);
typedef void (*kt_loaded_fn)(kt_plugin_t *p, const char *const json[KT_TABLES], uint64_t generation,
                             const char *location_prefix, const char *revision,
                             int64_t synced_wall_ms, const gr_error_t *err, void *user_data);
typedef void (*kt_generation_fn)(kt_plugin_t *p, uint64_t generation, const gr_error_t *err,
                                 void *user_data);

/* Makes the status document once the model's rows are written (so its
 * timing covers the store); returns a new object. */
typedef struct json_object *(*kt_status_make_fn)(kt_plugin_t *p, void *user_data);

/* Replaces the stored model by rows and the status document by what make
 * returns, in one transaction; cb gets the new generation (also added to
 * the document as "generation"). */
void kt_store_save(kt_plugin_t *p, const kt_rows_t *rows, const char *location_prefix,
                   const char *revision, kt_status_make_fn make, kt_saved_fn cb, void *user_data);
/* Replaces only the status document (a failed sync). */
void kt_store_status_save(kt_plugin_t *p, struct json_object *status, kt_status_fn cb,
                          void *user_data);
/* The saved status document, NULL in cb when there is none. */
void kt_store_status_load(kt_plugin_t *p, kt_status_fn cb, void *user_data);
void kt_store_generation(kt_plugin_t *p, kt_generation_fn cb, void *user_data);
/* The stored model as one JSON array per table; generation 0 when none. */
void kt_store_load(kt_plugin_t *p, kt_loaded_fn cb, void *user_data);

/* ---- syncs (sync.c) and routes (routes.c) ------------------------------------------- */

/* What the plugin's runs do (the runner's owner is the plugin). */
extern const cc_sync_ops_t kt_sync_ops;

int kt_routes_add(kt_plugin_t *p, gr_error_t *err);

/* Sync status documents list at most this many problems; counts stay exact. */
#define KT_STATUS_MAX_PROBLEMS 1000

#endif
