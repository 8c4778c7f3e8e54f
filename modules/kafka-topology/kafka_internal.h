/* modules/kafka-topology/kafka_internal.h: what the files of the topology
 * model share with each other and nobody else: string storage, hash tables,
 * the builders the parsers call, and the parsers' entry points. */
#ifndef KAFKA_INTERNAL_H
#define KAFKA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <json.h>

#include "catalog_model.h"
#include "kafka_model.h"
#include "util.h"

/* Grows a (pointer, len, cap) array so one more item fits. */
#define KAFKA__GROW(items, len, cap)                                                               \
    do {                                                                                           \
        if ((len) == (cap)) {                                                                      \
            (cap) = (cap) ? (cap)*2 : 16;                                                          \
            (items) = gr_xrealloc((items), (cap) * sizeof *(items));                               \
        }                                                                                          \
    } while (0)

/* ---- string storage and tables (kafka_store.c) ---------------------------- */

/* Everything the model points at is carved out of a few large blocks, so a
 * topology of thousands of topics frees in a handful of calls. */
typedef struct kafka__chunk kafka__chunk_t;
typedef struct kafka__arena {
    kafka__chunk_t *head;
} kafka__arena_t;

void *kafka__alloc(kafka__arena_t *a, size_t n);             /* zeroed, 8-byte aligned */
const char *kafka__strdup(kafka__arena_t *a, const char *s); /* NULL stays NULL */
const char *kafka__strndup(kafka__arena_t *a, const char *s, size_t n);
void kafka__arena_free(kafka__arena_t *a);

/* Open-addressing table from (string, small number) to an index.  Keys are
 * borrowed and must outlive the table (they live in the arena). */
typedef struct kafka__slot {
    const char *key; /* NULL: empty */
    uint32_t hash;
    uint32_t aux;
    size_t value;
} kafka__slot_t;

typedef struct kafka__map {
    kafka__slot_t *slots;
    size_t cap; /* a power of two */
    size_t len;
} kafka__map_t;

int kafka__map_get(const kafka__map_t *m, const char *key, uint32_t aux, size_t *value);
void kafka__map_put(kafka__map_t *m, const char *key, uint32_t aux, size_t value);
void kafka__map_free(kafka__map_t *m);

/* ---- parse state ------------------------------------------------------------ */

typedef struct kafka__file {
    const char *path; /* as given, in the arena */
    const char *norm; /* lexically normalised, for settings.files lookups */
    catalog_file_t parsed;
    kafka_format_t forced;       /* AUTO, or what the caller asked for */
    kafka_format_t format;       /* what it is read as */
    int32_t default_replication; /* kafka-gitops settings.topics.defaults of the
                                    state naming this file; 0: none */
    const char *cluster;         /* kafka-gitops: the cluster of the state naming this
                                    file, NULL until known */
} kafka__file_t;

typedef struct kafka__plan {
    const char *label;
    struct json_object *config; /* borrowed from a parsed plans file */
    kafka_pos_t pos;
} kafka__plan_t;

struct kafka__impl {
    kafka__arena_t arena;
    const char *default_cluster;
    const char *separator;
    kafka_format_t format;
    kafka_read_fn read_file;
    void *read_data;
    int finished;

    kafka__file_t **files; /* each allocated alone, so pointers stay valid
                              while following settings.files adds more */
    size_t nfiles, files_cap;
    kafka__plan_t *plans;
    size_t nplans, plans_cap;

    size_t clusters_cap, topics_cap, principals_cap, connectors_cap, apps_cap, refs_cap, edges_cap,
        problems_cap, outfiles_cap;
    kafka__map_t cluster_map;   /* name → cluster */
    kafka__map_t topic_map;     /* (name, cluster) → topic */
    kafka__map_t principal_map; /* name → principal */
    kafka__map_t connector_map; /* name → connector */
    kafka__map_t file_map;      /* normalised path → file */
    kafka__map_t plan_map;      /* label → plan */
    kafka__map_t intern_map;    /* restore: file path → its one copy in the arena */
    gr_buf_t path;              /* scratch for field paths */
};

/* One document being interpreted.  `prefix` is the field path of the value
 * being read as a document ("objects.2" inside an OpenShift Template). */
typedef struct kafka__doc {
    kafka_topology_t *t;
    kafka__file_t *file;
    const catalog_doc_t *doc;
    const char *prefix;
} kafka__doc_t;

/* The position of a field ("projects.0.topics.3"), relative to d->prefix;
 * a missing field gives its nearest ancestor's position. */
__attribute__((format(printf, 2, 3))) kafka_pos_t kafka__pos(const kafka__doc_t *d, const char *fmt,
                                                             ...);

__attribute__((format(printf, 5, 6))) void kafka__problem(kafka_topology_t *t, kafka_pos_t pos,
                                                          kafka_severity_t severity,
                                                          const char *check, const char *fmt, ...);

/* ---- builders (kafka_build.c) ----------------------------------------------- */

/* Finds or creates a cluster by name; `pos` is kept for a new one. */
size_t kafka__cluster(kafka_topology_t *t, const char *name, kafka_pos_t pos);
size_t kafka__default_cluster(kafka_topology_t *t, kafka_pos_t pos);
/* Marks a cluster as described by a file.  Returns 0, or -1 when another
 * file described it already (the caller reports that and keeps the first). */
int kafka__cluster_declare(kafka_topology_t *t, size_t cluster, const char *bootstrap,
                           kafka_pos_t pos);
void kafka__cluster_add_broker(kafka_topology_t *t, size_t cluster, int32_t id, const char *host,
                               const char *rack);

/* A topic's config while it is being read: put() replaces an earlier key,
 * as every source format's map semantics do. */
typedef struct kafka__config {
    kafka_config_entry_t *items; /* strings borrowed until the topic is added */
    size_t len, cap;
} kafka__config_t;

void kafka__config_put(kafka__config_t *c, const char *key, const char *value);
const char *kafka__config_get(const kafka__config_t *c, const char *key);
void kafka__config_remove(kafka__config_t *c, const char *key);
void kafka__config_free(kafka__config_t *c);

typedef struct kafka__topic_draft {
    const char *name;
    size_t cluster;
    int32_t partitions;
    int32_t replication;
    kafka__config_t config;
    const char *project;
    const char *data_type;
    kafka_pos_t pos;
    kafka_pos_t replication_pos;
} kafka__topic_draft_t;

/* Adds a topic (copying the draft's strings).  A second definition of the
 * same (cluster, name) keeps the first; when the settings differ it is
 * reported.  Returns the topic's index. */
size_t kafka__topic_add(kafka__doc_t *d, const kafka__topic_draft_t *draft);

/* Defines a principal, or merges into an existing one: a more specific kind
 * (streams, connect) wins over application, and a definition makes an
 * only-referenced principal declared. */
size_t kafka__principal_define(kafka_topology_t *t, const char *name, kafka_kind_t kind,
                               const char *principal, kafka_pos_t pos);
/* Names a principal without defining it (custom ACLs, plain producers):
 * reported at finish when nothing defines it. */
size_t kafka__principal_use(kafka_topology_t *t, const char *name, kafka_pos_t pos);

void kafka__ref_add(kafka_topology_t *t, kafka_node_kind_t owner_kind, size_t owner,
                    kafka_access_t access, kafka_pattern_t pattern, const char *topic,
                    size_t cluster, kafka_pos_t pos);
size_t kafka__connector_add(kafka_topology_t *t, const char *name, size_t principal,
                            const char *class_name, kafka_pos_t pos);
void kafka__streams_app_add(kafka_topology_t *t, const char *application_id, size_t principal,
                            kafka_pos_t pos);

/* ---- reading json-c values (kafka_json.c) ------------------------------------ */

/* obj[key] when obj is an object and has it, else NULL. */
struct json_object *kafka__get(struct json_object *obj, const char *key);
/* obj[key] when it is a string, else NULL. */
const char *kafka__get_str(struct json_object *obj, const char *key);
/* A scalar as text the way Jackson's asText() gives it: strings as they are,
 * numbers and booleans written out, null as "null", containers as "".  The
 * result lives in the arena or in the value. */
const char *kafka__text(kafka_topology_t *t, struct json_object *v);
/* An integer from a number or a numeric string (Jackson coerces both).
 * Returns 0, or -1 when v is neither or out of the int32 range. */
int kafka__int32(struct json_object *v, int32_t *out);
/* A whole decimal number filling all of s; 0, or -1 when it is not one. */
int kafka__parse_int32(const char *s, int32_t *out);
/* "a string", "a list", ... for messages. */
const char *kafka__type_phrase(struct json_object *v);
int kafka__is(struct json_object *v, json_type type);

/* ---- parsers ------------------------------------------------------------------- */

/* The format of one parsed document, from its content alone. */
kafka_format_t kafka__detect(struct json_object *root);

void kafka__parse_julieops(kafka__doc_t *d);
void kafka__parse_julieops_plans(kafka__doc_t *d);
/* Follows settings.files of a kafka-gitops state: finds (or reads through
 * the options' reader and adds) each named file, read as kafka-gitops with
 * this state's default replication. */
void kafka__gitops_follow_files(kafka__doc_t *d);
void kafka__parse_gitops(kafka__doc_t *d);
void kafka__parse_strimzi(kafka__doc_t *d);
void kafka__parse_plain(kafka__doc_t *d);

/* Adds a parsed file to the set (kafka_topology.c); takes over `parsed`. */
kafka__file_t *kafka__file_add(kafka_topology_t *t, const char *path, catalog_file_t *parsed,
                               kafka_format_t forced);
kafka__file_t *kafka__file_find(kafka_topology_t *t, const char *norm);
/* Lexically normalised path ("a/./b/../c" → "a/c"), in the arena. */
const char *kafka__path_normalize(kafka_topology_t *t, const char *path);

/* Refs → edges, principal/connector ref slices, and the cross-file checks. */
void kafka__resolve(kafka_topology_t *t);
/* Sorts refs by owner (produces before consumes, files' order kept) and
 * points each principal and connector at its slice. */
void kafka__group_refs(kafka_topology_t *t);

#endif
