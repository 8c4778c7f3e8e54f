/* modules/kafka-topology/parse_plain.c: greenroom's own topology format,
 * for teams that use none of the tools above.  One or more YAML (or JSON)
 * documents, each with any of four lists:
 *
 *   clusters:
 *     - name: prod                      # required
 *       bootstrap: kafka-1.prod:9092    # optional
 *       brokers:                        # optional; their count is checked
 *         - {id: 1, host: kafka-1.prod, rack: eu-west-1a}
 *   topics:
 *     - name: orders                    # required, the full Kafka name
 *       cluster: prod                   # optional, see below
 *       partitions: 12                  # optional: the cluster's default
 *       replicationFactor: 3            # optional: the cluster's default
 *       config: {cleanup.policy: compact}
 *       producers: [orders-api]         # service names
 *       consumers: [billing]
 *   services:
 *     - name: orders-api                # required
 *       kind: application               # application (default), kafka-streams,
 *                                       # kafka-connect or user
 *       principal: User:orders-api      # optional
 *       applicationId: orders-agg       # optional, kafka-streams only
 *       produces: [orders]              # topic names, "cluster/topic" to
 *       consumes: [prod/payments]       # name another cluster's topic
 *   connectors:
 *     - name: orders-sink               # required
 *       service: connect-prod           # the kafka-connect service running it
 *       class: io.confluent.connect.jdbc.JdbcSinkConnector
 *       produces: []
 *       consumes: [orders]
 *
 * A topic without cluster: belongs to the one cluster its file declares, or
 * to the default cluster when the file declares none or several.  A topic
 * name in produces:/consumes: without "cluster/" is looked up the same way,
 * and in every cluster when the file declares several.  Services named in a
 * topic's producers:/consumers: (or a connector's service:) must be declared
 * under services: in some file; an undeclared one is reported.  A key the
 * format does not have is an error, so a typo does not pass silently. */
#include <stdio.h>
#include <string.h>

#include "kafka_internal.h"

typedef struct kafka__plain {
    kafka__doc_t *d;
    size_t file_cluster; /* the only cluster this document declares, or KAFKA_NONE */
} kafka__plain_t;

static int kafka__plain_known(kafka__plain_t *p, struct json_object *obj, const char *const *known,
                              const char *path)
{
    int ok = 1;
    json_object_object_foreach(obj, key, value)
    {
        (void)value;
        const char *const *k = known;
        while (*k && strcmp(*k, key) != 0)
            k++;
        if (*k)
            continue;
        gr_buf_t list = {0};
        for (k = known; *k; k++)
            gr_buf_printf(&list, "%s%s", k == known ? "" : ", ", *k);
        kafka__problem(p->d->t, kafka__pos(p->d, "%s.%s", path, key), KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_INVALID, "unknown key '%s' in %s; the plain format has %s", key,
                       path, list.data);
        gr_buf_free(&list);
        ok = 0;
    }
    return ok;
}

/* The list at root[key], or NULL (reporting a value that is not a list). */
static struct json_object *kafka__plain_list(kafka__plain_t *p, struct json_object *obj,
                                             const char *key, const char *path)
{
    struct json_object *v = kafka__get(obj, key);
    if (!v || kafka__is(v, json_type_null))
        return NULL;
    if (!kafka__is(v, json_type_array)) {
        kafka__problem(p->d->t, kafka__pos(p->d, "%s", path), KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_INVALID, "%s is %s; write a list", path, kafka__type_phrase(v));
        return NULL;
    }
    return v;
}

/* A required string field; reports its absence. */
static const char *kafka__plain_name(kafka__plain_t *p, struct json_object *obj, const char *key,
                                     const char *path)
{
    const char *v = kafka__get_str(obj, key);
    if (!v || !*v)
        kafka__problem(p->d->t, kafka__pos(p->d, "%s", path), KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_INVALID, "%s has no %s; it is required", path, key);
    return v && *v ? v : NULL;
}

static int kafka__plain_count(kafka__plain_t *p, struct json_object *obj, const char *key,
                              const char *path, int32_t *out)
{
    struct json_object *v = kafka__get(obj, key);
    if (!v || kafka__is(v, json_type_null))
        return 0;
    if (kafka__int32(v, out) != 0 || *out <= 0) {
        kafka__problem(p->d->t, kafka__pos(p->d, "%s.%s", path, key), KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_INVALID, "%s.%s is '%s'; write a positive whole number", path,
                       key, kafka__text(p->d->t, v));
        *out = 0;
        return -1;
    }
    return 1;
}

static void kafka__plain_cluster(kafka__plain_t *p, struct json_object *c, const char *path)
{
    static const char *const known[] = {"name", "bootstrap", "brokers", NULL};
    static const char *const known_broker[] = {"id", "host", "rack", NULL};
    kafka_topology_t *t = p->d->t;
    if (!kafka__is(c, json_type_object)) {
        kafka__problem(t, kafka__pos(p->d, "%s", path), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "%s is %s; each cluster is a mapping with a name", path,
                       kafka__type_phrase(c));
        return;
    }
    kafka__plain_known(p, c, known, path);
    const char *name = kafka__plain_name(p, c, "name", path);
    if (!name)
        return;
    kafka_pos_t pos = kafka__pos(p->d, "%s", path);
    size_t idx = kafka__cluster(t, name, pos);
    if (kafka__cluster_declare(t, idx, kafka__get_str(c, "bootstrap"), pos) != 0) {
        kafka__problem(t, pos, KAFKA_SEVERITY_WARNING, KAFKA_CHECK_INVALID,
                       "cluster '%s' is described again; the description at %s:%u is kept", name,
                       t->clusters[idx].pos.file, t->clusters[idx].pos.line);
        return;
    }
    char sub[256];
    snprintf(sub, sizeof sub, "%s.brokers", path);
    struct json_object *brokers = kafka__plain_list(p, c, "brokers", sub);
    for (size_t i = 0; brokers && i < json_object_array_length(brokers); i++) {
        struct json_object *b = json_object_array_get_idx(brokers, i);
        char bpath[300];
        snprintf(bpath, sizeof bpath, "%s.%zu", sub, i);
        int32_t id;
        if (!kafka__is(b, json_type_object) || kafka__int32(kafka__get(b, "id"), &id) != 0) {
            kafka__problem(t, kafka__pos(p->d, "%s", bpath), KAFKA_SEVERITY_ERROR,
                           KAFKA_CHECK_INVALID, "%s needs an id: the broker's whole-number id",
                           bpath);
            continue;
        }
        kafka__plain_known(p, b, known_broker, bpath);
        kafka__cluster_add_broker(t, idx, id, kafka__get_str(b, "host"), kafka__get_str(b, "rack"));
    }
}

/* A topic name as a ref: "cluster/topic" or "topic". */
static void kafka__plain_ref(kafka__plain_t *p, kafka_node_kind_t owner_kind, size_t owner,
                             kafka_access_t access, const char *text, size_t cluster,
                             kafka_pos_t pos)
{
    kafka_topology_t *t = p->d->t;
    const char *slash = strchr(text, '/');
    if (slash) {
        char name[512];
        snprintf(name, sizeof name, "%.*s", (int)(slash - text), text);
        cluster = kafka__cluster(t, name, pos);
        text = slash + 1;
    }
    kafka__ref_add(t, owner_kind, owner, access, KAFKA_PATTERN_LITERAL, text, cluster, pos);
}

static void kafka__plain_refs(kafka__plain_t *p, struct json_object *obj, const char *key,
                              const char *path, kafka_node_kind_t owner_kind, size_t owner,
                              kafka_access_t access)
{
    char sub[512];
    snprintf(sub, sizeof sub, "%s.%s", path, key);
    struct json_object *list = kafka__plain_list(p, obj, key, sub);
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        struct json_object *v = json_object_array_get_idx(list, i);
        kafka_pos_t pos = kafka__pos(p->d, "%s.%zu", sub, i);
        if (!kafka__is(v, json_type_string) || !*json_object_get_string(v)) {
            kafka__problem(p->d->t, pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                           "%s.%zu is %s; write a topic name", sub, i, kafka__type_phrase(v));
            continue;
        }
        kafka__plain_ref(p, owner_kind, owner, access, json_object_get_string(v), p->file_cluster,
                         pos);
    }
}

static void kafka__plain_topic(kafka__plain_t *p, struct json_object *topic, const char *path)
{
    static const char *const known[] = {"name",   "cluster",   "partitions", "replicationFactor",
                                        "config", "producers", "consumers",  NULL};
    kafka__doc_t *d = p->d;
    kafka_topology_t *t = d->t;
    if (!kafka__is(topic, json_type_object)) {
        kafka__problem(t, kafka__pos(d, "%s", path), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "%s is %s; each topic is a mapping with a name", path,
                       kafka__type_phrase(topic));
        return;
    }
    kafka__plain_known(p, topic, known, path);
    const char *name = kafka__plain_name(p, topic, "name", path);
    if (!name)
        return;
    kafka__topic_draft_t dr = {.name = name, .pos = kafka__pos(d, "%s", path)};
    const char *cluster = kafka__get_str(topic, "cluster");
    if (cluster)
        dr.cluster = kafka__cluster(t, cluster, kafka__pos(d, "%s.cluster", path));
    else if (p->file_cluster != KAFKA_NONE)
        dr.cluster = p->file_cluster;
    else
        dr.cluster = kafka__default_cluster(t, dr.pos);
    kafka__plain_count(p, topic, "partitions", path, &dr.partitions);
    if (kafka__plain_count(p, topic, "replicationFactor", path, &dr.replication) > 0)
        dr.replication_pos = kafka__pos(d, "%s.replicationFactor", path);
    struct json_object *config = kafka__get(topic, "config");
    if (kafka__is(config, json_type_object)) {
        json_object_object_foreach(config, key, value)
        {
            kafka__config_put(&dr.config, key, kafka__text(t, value));
        }
    } else if (config && !kafka__is(config, json_type_null)) {
        kafka__problem(t, kafka__pos(d, "%s.config", path), KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_INVALID, "%s.config is %s; write a mapping of topic settings",
                       path, kafka__type_phrase(config));
    }
    size_t idx = kafka__topic_add(d, &dr);
    kafka__config_free(&dr.config);

    static const struct {
        const char *key;
        kafka_access_t access;
    } sides[] = {{"producers", KAFKA_PRODUCES}, {"consumers", KAFKA_CONSUMES}};
    for (size_t k = 0; k < 2; k++) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s.%s", path, sides[k].key);
        struct json_object *list = kafka__plain_list(p, topic, sides[k].key, sub);
        for (size_t i = 0; list && i < json_object_array_length(list); i++) {
            struct json_object *v = json_object_array_get_idx(list, i);
            kafka_pos_t pos = kafka__pos(d, "%s.%zu", sub, i);
            if (!kafka__is(v, json_type_string) || !*json_object_get_string(v)) {
                kafka__problem(t, pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                               "%s.%zu is %s; write a service name", sub, i, kafka__type_phrase(v));
                continue;
            }
            size_t owner = kafka__principal_use(t, json_object_get_string(v), pos);
            kafka__ref_add(t, KAFKA_NODE_PRINCIPAL, owner, sides[k].access, KAFKA_PATTERN_LITERAL,
                           t->topics[idx].name, t->topics[idx].cluster, pos);
        }
    }
}

static void kafka__plain_service(kafka__plain_t *p, struct json_object *s, const char *path)
{
    static const char *const known[] = {"name",     "kind",     "principal", "applicationId",
                                        "produces", "consumes", NULL};
    static const char *const kinds[] = {"application", "kafka-streams", "kafka-connect", "user"};
    kafka_topology_t *t = p->d->t;
    if (!kafka__is(s, json_type_object)) {
        kafka__problem(t, kafka__pos(p->d, "%s", path), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "%s is %s; each service is a mapping with a name", path,
                       kafka__type_phrase(s));
        return;
    }
    kafka__plain_known(p, s, known, path);
    const char *name = kafka__plain_name(p, s, "name", path);
    if (!name)
        return;
    kafka_kind_t kind = KAFKA_KIND_APPLICATION;
    const char *kind_text = kafka__get_str(s, "kind");
    if (kind_text) {
        static const kafka_kind_t values[] = {KAFKA_KIND_APPLICATION, KAFKA_KIND_STREAMS,
                                              KAFKA_KIND_CONNECT, KAFKA_KIND_USER};
        size_t k = 0;
        while (k < 4 && strcmp(kinds[k], kind_text) != 0)
            k++;
        if (k == 4)
            kafka__problem(t, kafka__pos(p->d, "%s.kind", path), KAFKA_SEVERITY_ERROR,
                           KAFKA_CHECK_INVALID,
                           "%s.kind is '%s'; write application, kafka-streams, kafka-connect or "
                           "user",
                           path, kind_text);
        else
            kind = values[k];
    }
    kafka_pos_t pos = kafka__pos(p->d, "%s", path);
    size_t idx = kafka__principal_define(t, name, kind, kafka__get_str(s, "principal"), pos);
    const char *app_id = kafka__get_str(s, "applicationId");
    if (kind == KAFKA_KIND_STREAMS)
        kafka__streams_app_add(t, app_id, idx, pos);
    kafka__plain_refs(p, s, "produces", path, KAFKA_NODE_PRINCIPAL, idx, KAFKA_PRODUCES);
    kafka__plain_refs(p, s, "consumes", path, KAFKA_NODE_PRINCIPAL, idx, KAFKA_CONSUMES);
}

static void kafka__plain_connector(kafka__plain_t *p, struct json_object *c, const char *path)
{
    static const char *const known[] = {"name", "service", "class", "produces", "consumes", NULL};
    kafka_topology_t *t = p->d->t;
    if (!kafka__is(c, json_type_object)) {
        kafka__problem(t, kafka__pos(p->d, "%s", path), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "%s is %s; each connector is a mapping with a name", path,
                       kafka__type_phrase(c));
        return;
    }
    kafka__plain_known(p, c, known, path);
    const char *name = kafka__plain_name(p, c, "name", path);
    if (!name)
        return;
    const char *service = kafka__get_str(c, "service");
    size_t owner = service ? kafka__principal_use(t, service, kafka__pos(p->d, "%s.service", path))
                           : KAFKA_NONE;
    size_t idx = kafka__connector_add(t, name, owner, kafka__get_str(c, "class"),
                                      kafka__pos(p->d, "%s", path));
    kafka__plain_refs(p, c, "produces", path, KAFKA_NODE_CONNECTOR, idx, KAFKA_PRODUCES);
    kafka__plain_refs(p, c, "consumes", path, KAFKA_NODE_CONNECTOR, idx, KAFKA_CONSUMES);
}

void kafka__parse_plain(kafka__doc_t *d)
{
    static const char *const known[] = {"clusters", "topics", "services", "connectors", NULL};
    kafka__plain_t p = {.d = d, .file_cluster = KAFKA_NONE};
    struct json_object *root = d->doc->entity;
    json_object_object_foreach(root, key, value)
    {
        (void)value;
        const char *const *k = known;
        while (*k && strcmp(*k, key) != 0)
            k++;
        if (!*k)
            kafka__problem(d->t, kafka__pos(d, "%s", key), KAFKA_SEVERITY_ERROR,
                           KAFKA_CHECK_INVALID,
                           "unknown top-level key '%s'; the plain format has clusters, topics, "
                           "services and connectors",
                           key);
    }

    struct json_object *clusters = kafka__plain_list(&p, root, "clusters", "clusters");
    size_t nclusters = clusters ? json_object_array_length(clusters) : 0;
    for (size_t i = 0; i < nclusters; i++) {
        char path[64];
        snprintf(path, sizeof path, "clusters.%zu", i);
        kafka__plain_cluster(&p, json_object_array_get_idx(clusters, i), path);
    }
    if (nclusters == 1) {
        const char *only = kafka__get_str(json_object_array_get_idx(clusters, 0), "name");
        if (only)
            p.file_cluster = kafka__cluster(d->t, only, kafka__pos(d, "clusters.0"));
    }

    static const struct {
        const char *key;
        void (*read)(kafka__plain_t *, struct json_object *, const char *);
    } lists[] = {{"topics", kafka__plain_topic},
                 {"services", kafka__plain_service},
                 {"connectors", kafka__plain_connector}};
    for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
        struct json_object *list = kafka__plain_list(&p, root, lists[k].key, lists[k].key);
        for (size_t i = 0; list && i < json_object_array_length(list); i++) {
            char path[64];
            snprintf(path, sizeof path, "%s.%zu", lists[k].key, i);
            lists[k].read(&p, json_object_array_get_idx(list, i), path);
        }
    }
}
