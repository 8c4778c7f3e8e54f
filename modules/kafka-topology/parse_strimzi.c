/* modules/kafka-topology/parse_strimzi.c: Strimzi custom resources, any of
 * the kafka.strimzi.io API versions (v1alpha1, v1beta1, v1beta2, v1: the
 * fields read here did not change between them), one or several documents
 * per file, also as the objects of an OpenShift Template.
 *
 *   Kafka           a cluster: metadata.name; spec.kafka.replicas brokers
 *                   named <cluster>-kafka-<n> unless node pools are enabled
 *   KafkaNodePool   spec.replicas brokers of its strimzi.io/cluster when
 *                   spec.roles holds broker, named <cluster>-<pool>-<n>
 *   KafkaTopic      spec.topicName (else metadata.name) in the cluster of
 *                   its strimzi.io/cluster label (else the default cluster),
 *                   with spec.partitions, spec.replicas and spec.config
 *   KafkaUser       a user whose spec.authorization.acls on topic resources
 *                   (literal or prefix) give rights: Read consumes, Write
 *                   produces, All both
 *   KafkaConnect    a Connect cluster (a kafka-connect principal)
 *   KafkaConnector  a connector of the Connect cluster in its label; a sink's
 *                   config.topics list is what it consumes
 *
 * Other kinds and other Kubernetes objects in the same file are skipped.
 * In a Template, ${NAME} in a string is replaced by the parameter's value
 * and a whole "${{NAME}}" by the value read as JSON (a number, a mapping),
 * as OpenShift processes templates; a parameter without a value is
 * reported and its placeholder kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

static const char *kafka__strimzi_label(struct json_object *obj, const char *label)
{
    return kafka__get_str(kafka__get(kafka__get(obj, "metadata"), "labels"), label);
}

/* The cluster named by the strimzi.io/cluster label, or the default. */
static size_t kafka__strimzi_cluster(kafka__doc_t *d, struct json_object *obj)
{
    const char *name = kafka__strimzi_label(obj, "strimzi.io/cluster");
    if (name)
        return kafka__cluster(d->t, name, kafka__pos(d, "metadata.labels.strimzi.io/cluster"));
    return kafka__default_cluster(d->t, kafka__pos(d, "metadata"));
}

/* spec.<field> as a positive count, 0 when absent; a wrong value is
 * reported. */
static int32_t kafka__strimzi_count(kafka__doc_t *d, struct json_object *spec, const char *field,
                                    const char *path)
{
    struct json_object *v = kafka__get(spec, field);
    int32_t n = 0;
    if (!v || kafka__is(v, json_type_null))
        return 0;
    if (kafka__int32(v, &n) != 0 || n < 0) {
        kafka__problem(d->t, kafka__pos(d, "%s", path), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "%s is '%s'; write a whole number", path, kafka__text(d->t, v));
        return 0;
    }
    return n;
}

static void kafka__strimzi_kafka(kafka__doc_t *d, struct json_object *obj, const char *name)
{
    kafka_topology_t *t = d->t;
    size_t c = kafka__cluster(t, name, kafka__pos(d, "metadata.name"));
    struct json_object *kafka = kafka__get(kafka__get(obj, "spec"), "kafka");
    /* The bootstrap service Strimzi creates, on the first listener's port. */
    struct json_object *listeners = kafka__get(kafka, "listeners");
    int32_t port = 9092;
    if (kafka__is(listeners, json_type_array) && json_object_array_length(listeners) > 0)
        kafka__int32(kafka__get(json_object_array_get_idx(listeners, 0), "port"), &port);
    char bootstrap[512];
    snprintf(bootstrap, sizeof bootstrap, "%s-kafka-bootstrap:%d", name, port);
    if (kafka__cluster_declare(t, c, bootstrap, kafka__pos(d, "metadata.name")) != 0) {
        kafka__problem(t, kafka__pos(d, "metadata.name"), KAFKA_SEVERITY_WARNING,
                       KAFKA_CHECK_INVALID,
                       "cluster '%s' is described again; the description at %s:%u is kept", name,
                       t->clusters[c].pos.file, t->clusters[c].pos.line);
        return;
    }
    const char *pools = kafka__get_str(kafka__get(kafka__get(obj, "metadata"), "annotations"),
                                       "strimzi.io/node-pools");
    if (pools && strcmp(pools, "enabled") == 0)
        return; /* the KafkaNodePools hold the brokers */
    int32_t replicas = kafka__strimzi_count(d, kafka, "replicas", "spec.kafka.replicas");
    for (int32_t i = 0; i < replicas; i++) {
        char host[600];
        snprintf(host, sizeof host, "%s-kafka-%d", name, i);
        kafka__cluster_add_broker(t, c, i, host, NULL);
    }
}

static void kafka__strimzi_node_pool(kafka__doc_t *d, struct json_object *obj, const char *name)
{
    kafka_topology_t *t = d->t;
    const char *cluster = kafka__strimzi_label(obj, "strimzi.io/cluster");
    if (!cluster) {
        kafka__problem(t, kafka__pos(d, "metadata"), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "KafkaNodePool '%s' has no strimzi.io/cluster label; Strimzi needs it to "
                       "know which Kafka cluster the pool belongs to",
                       name);
        return;
    }
    size_t c = kafka__strimzi_cluster(d, obj);
    struct json_object *spec = kafka__get(obj, "spec");
    struct json_object *roles = kafka__get(spec, "roles");
    int broker = 0;
    for (size_t i = 0; kafka__is(roles, json_type_array) && i < json_object_array_length(roles);
         i++) {
        struct json_object *r = json_object_array_get_idx(roles, i);
        broker |=
            kafka__is(r, json_type_string) && strcmp(json_object_get_string(r), "broker") == 0;
    }
    if (!broker)
        return;
    int32_t replicas = kafka__strimzi_count(d, spec, "replicas", "spec.replicas");
    /* Strimzi hands out node ids across the pools of a cluster in turn. */
    int32_t next = 0;
    for (size_t i = 0; i < t->clusters[c].nbrokers; i++)
        if (t->clusters[c].brokers[i].id >= next)
            next = t->clusters[c].brokers[i].id + 1;
    for (int32_t i = 0; i < replicas; i++) {
        char host[800];
        snprintf(host, sizeof host, "%s-%s-%d", cluster, name, next + i);
        kafka__cluster_add_broker(t, c, next + i, host, NULL);
    }
}

static void kafka__strimzi_topic(kafka__doc_t *d, struct json_object *obj, const char *name)
{
    kafka_topology_t *t = d->t;
    struct json_object *spec = kafka__get(obj, "spec");
    const char *topic_name = kafka__get_str(spec, "topicName");
    kafka__topic_draft_t dr = {
        .name = topic_name ? topic_name : name,
        .cluster = kafka__strimzi_cluster(d, obj),
        .pos = topic_name ? kafka__pos(d, "spec.topicName") : kafka__pos(d, "metadata.name"),
    };
    dr.partitions = kafka__strimzi_count(d, spec, "partitions", "spec.partitions");
    dr.replication = kafka__strimzi_count(d, spec, "replicas", "spec.replicas");
    if (dr.replication)
        dr.replication_pos = kafka__pos(d, "spec.replicas");
    struct json_object *config = kafka__get(spec, "config");
    if (kafka__is(config, json_type_object)) {
        json_object_object_foreach(config, key, value)
        {
            kafka__config_put(&dr.config, key, kafka__text(t, value));
        }
    } else if (config && !kafka__is(config, json_type_null)) {
        kafka__problem(t, kafka__pos(d, "spec.config"), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "spec.config of KafkaTopic '%s' is %s; write a mapping of topic settings",
                       name, kafka__type_phrase(config));
    }
    kafka__topic_add(d, &dr);
    kafka__config_free(&dr.config);
}

static void kafka__strimzi_user(kafka__doc_t *d, struct json_object *obj, const char *name)
{
    kafka_topology_t *t = d->t;
    struct json_object *spec = kafka__get(obj, "spec");
    size_t cluster = kafka__strimzi_cluster(d, obj);
    /* The principal Strimzi's authorizer sees: the certificate subject for
     * TLS users, the user name for SCRAM ones. */
    const char *auth = kafka__get_str(kafka__get(spec, "authentication"), "type");
    char principal[600];
    snprintf(principal, sizeof principal, "User:%s%s",
             auth && strncmp(auth, "tls", 3) == 0 ? "CN=" : "", name);
    size_t p = kafka__principal_define(t, name, KAFKA_KIND_USER, principal,
                                       kafka__pos(d, "metadata.name"));

    struct json_object *acls = kafka__get(kafka__get(spec, "authorization"), "acls");
    for (size_t i = 0; kafka__is(acls, json_type_array) && i < json_object_array_length(acls);
         i++) {
        struct json_object *acl = json_object_array_get_idx(acls, i);
        struct json_object *resource = kafka__get(acl, "resource");
        kafka_pos_t pos = kafka__pos(d, "spec.authorization.acls.%zu", i);
        const char *rtype = kafka__get_str(resource, "type");
        if (!rtype) {
            kafka__problem(t, pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                           "ACL %zu of KafkaUser '%s' has no resource.type; Strimzi requires "
                           "topic, group, cluster or transactionalId",
                           i, name);
            continue;
        }
        const char *allow = kafka__get_str(acl, "type");
        if (strcmp(rtype, "topic") != 0 || (allow && strcmp(allow, "deny") == 0))
            continue;
        const char *topic = kafka__get_str(resource, "name");
        const char *pattern = kafka__get_str(resource, "patternType");
        if (!topic) {
            kafka__problem(t, pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                           "topic ACL %zu of KafkaUser '%s' has no resource.name", i, name);
            continue;
        }
        if (pattern && strcmp(pattern, "literal") != 0 && strcmp(pattern, "prefix") != 0) {
            kafka__problem(t, kafka__pos(d, "spec.authorization.acls.%zu.resource.patternType", i),
                           KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                           "ACL %zu of KafkaUser '%s' has patternType '%s'; Strimzi accepts "
                           "literal or prefix",
                           i, name, pattern);
            continue;
        }
        kafka_pattern_t pat = pattern && strcmp(pattern, "prefix") == 0 ? KAFKA_PATTERN_PREFIX
                                                                        : KAFKA_PATTERN_LITERAL;
        /* operations: [...] since v1beta2; operation: X before it. */
        struct json_object *ops = kafka__get(acl, "operations");
        struct json_object *single = kafka__get(acl, "operation");
        size_t nops = kafka__is(ops, json_type_array) ? json_object_array_length(ops) : 0;
        int reads = 0, writes = 0;
        for (size_t k = 0; k <= nops; k++) {
            struct json_object *op = k < nops ? json_object_array_get_idx(ops, k) : single;
            if (k == nops && !single)
                break;
            const char *o = kafka__is(op, json_type_string) ? json_object_get_string(op) : "";
            reads |= strcmp(o, "Read") == 0 || strcmp(o, "All") == 0;
            writes |= strcmp(o, "Write") == 0 || strcmp(o, "All") == 0;
        }
        if (writes)
            kafka__ref_add(t, KAFKA_NODE_PRINCIPAL, p, KAFKA_PRODUCES, pat, topic, cluster, pos);
        if (reads)
            kafka__ref_add(t, KAFKA_NODE_PRINCIPAL, p, KAFKA_CONSUMES, pat, topic, cluster, pos);
    }
}

static void kafka__strimzi_connector(kafka__doc_t *d, struct json_object *obj, const char *name)
{
    kafka_topology_t *t = d->t;
    const char *connect = kafka__strimzi_label(obj, "strimzi.io/cluster");
    size_t p =
        connect ? kafka__principal_use(t, connect, kafka__pos(d, "metadata.labels")) : KAFKA_NONE;
    struct json_object *spec = kafka__get(obj, "spec");
    size_t c = kafka__connector_add(t, name, p, kafka__get_str(spec, "class"),
                                    kafka__pos(d, "metadata.name"));
    /* A sink connector's standard topics setting: a comma-separated list. */
    const char *topics = kafka__get_str(kafka__get(spec, "config"), "topics");
    for (const char *s = topics; s && *s;) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        while (n && (*s == ' ' || *s == '\t')) {
            s++;
            n--;
        }
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n) {
            const char *topic = kafka__strndup(&t->impl->arena, s, n);
            kafka__ref_add(t, KAFKA_NODE_CONNECTOR, c, KAFKA_CONSUMES, KAFKA_PATTERN_LITERAL, topic,
                           KAFKA_NONE, kafka__pos(d, "spec.config.topics"));
        }
        s = end ? end + 1 : s + n;
        if (!end)
            break;
    }
}

static void kafka__strimzi_object(kafka__doc_t *d, struct json_object *obj)
{
    static const char *const versions[] = {"v1alpha1", "v1beta1", "v1beta2", "v1"};
    kafka_topology_t *t = d->t;
    const char *api = kafka__get_str(obj, "apiVersion");
    const char *kind = kafka__get_str(obj, "kind");
    if (!api || !kind || strncmp(api, "kafka.strimzi.io/", 17) != 0)
        return; /* another Kubernetes object beside the Strimzi ones */
    size_t v = 0;
    while (v < sizeof versions / sizeof versions[0] && strcmp(api + 17, versions[v]) != 0)
        v++;
    if (v == sizeof versions / sizeof versions[0])
        kafka__problem(t, kafka__pos(d, "apiVersion"), KAFKA_SEVERITY_WARNING, KAFKA_CHECK_INVALID,
                       "apiVersion %s is not one this module knows (v1alpha1, v1beta1, v1beta2, "
                       "v1); it is read like v1",
                       api);
    const char *name = kafka__get_str(kafka__get(obj, "metadata"), "name");
    if (!name) {
        kafka__problem(t, kafka__pos(d, "metadata"), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "the %s has no metadata.name; Kubernetes requires one", kind);
        return;
    }
    if (strcmp(kind, "Kafka") == 0)
        kafka__strimzi_kafka(d, obj, name);
    else if (strcmp(kind, "KafkaNodePool") == 0)
        kafka__strimzi_node_pool(d, obj, name);
    else if (strcmp(kind, "KafkaTopic") == 0)
        kafka__strimzi_topic(d, obj, name);
    else if (strcmp(kind, "KafkaUser") == 0)
        kafka__strimzi_user(d, obj, name);
    else if (strcmp(kind, "KafkaConnect") == 0)
        kafka__principal_define(t, name, KAFKA_KIND_CONNECT, NULL, kafka__pos(d, "metadata.name"));
    else if (strcmp(kind, "KafkaConnector") == 0)
        kafka__strimzi_connector(d, obj, name);
}

/* ---- OpenShift templates ------------------------------------------------------- */

typedef struct kafka__param {
    const char *name;
    const char *value; /* NULL: none given */
    int reported;
} kafka__param_t;

typedef struct kafka__template {
    kafka__doc_t *d;
    kafka__param_t *params;
    size_t nparams;
} kafka__template_t;

static kafka__param_t *kafka__param_find(kafka__template_t *tp, const char *name, size_t len)
{
    for (size_t i = 0; i < tp->nparams; i++)
        if (strlen(tp->params[i].name) == len && strncmp(tp->params[i].name, name, len) == 0)
            return &tp->params[i];
    return NULL;
}

/* The value for ${NAME} or ${{NAME}}, or NULL (reported once) when the
 * template gives none. */
static const char *kafka__param_value(kafka__template_t *tp, const char *name, size_t len)
{
    kafka__param_t *p = kafka__param_find(tp, name, len);
    if (p && p->value)
        return p->value;
    if (!p || !p->reported) {
        kafka__problem(tp->d->t, kafka__pos(tp->d, "parameters"), KAFKA_SEVERITY_WARNING,
                       KAFKA_CHECK_INVALID,
                       "template parameter %.*s %s; its placeholder is kept as written", (int)len,
                       name, p ? "has no value" : "is not declared in parameters");
        if (p)
            p->reported = 1;
    }
    return NULL;
}

/* Returns the string with ${NAME} replaced (a new json string), or NULL
 * when it holds no known placeholder. */
static struct json_object *kafka__substitute_string(kafka__template_t *tp, const char *s)
{
    size_t len = strlen(s);
    if (len > 5 && strncmp(s, "${{", 3) == 0 && strcmp(s + len - 2, "}}") == 0 &&
        !memchr(s + 3, '}', len - 5)) {
        const char *v = kafka__param_value(tp, s + 3, len - 5);
        if (!v)
            return NULL;
        struct json_object *parsed = json_tokener_parse(v);
        return parsed ? parsed : json_object_new_string(v);
    }
    if (!strstr(s, "${"))
        return NULL;
    gr_buf_t out = {0};
    int changed = 0;
    for (const char *p = s; *p;) {
        const char *open = strstr(p, "${");
        const char *close = open ? strchr(open + 2, '}') : NULL;
        if (!open || !close) {
            gr_buf_puts(&out, p);
            break;
        }
        gr_buf_append(&out, p, (size_t)(open - p));
        const char *v = kafka__param_value(tp, open + 2, (size_t)(close - open - 2));
        if (v) {
            gr_buf_puts(&out, v);
            changed = 1;
        } else {
            gr_buf_append(&out, open, (size_t)(close - open + 1));
        }
        p = close + 1;
    }
    struct json_object *r = changed ? json_object_new_string(out.data ? out.data : "") : NULL;
    gr_buf_free(&out);
    return r;
}

static void kafka__substitute(kafka__template_t *tp, struct json_object *v, int depth)
{
    if (depth > 64)
        return;
    if (kafka__is(v, json_type_object)) {
        json_object_object_foreach(v, key, child)
        {
            if (kafka__is(child, json_type_string)) {
                struct json_object *r = kafka__substitute_string(tp, json_object_get_string(child));
                if (r)
                    json_object_object_add(v, key, r); /* replaces the value in place */
            } else {
                kafka__substitute(tp, child, depth + 1);
            }
        }
    } else if (kafka__is(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            struct json_object *child = json_object_array_get_idx(v, i);
            if (kafka__is(child, json_type_string)) {
                struct json_object *r = kafka__substitute_string(tp, json_object_get_string(child));
                if (r)
                    json_object_array_put_idx(v, i, r);
            } else {
                kafka__substitute(tp, child, depth + 1);
            }
        }
    }
}

static void kafka__strimzi_template(kafka__doc_t *d, struct json_object *root)
{
    kafka__template_t tp = {.d = d};
    struct json_object *params = kafka__get(root, "parameters");
    size_t n = kafka__is(params, json_type_array) ? json_object_array_length(params) : 0;
    tp.params = gr_xcalloc(n + 1, sizeof *tp.params);
    for (size_t i = 0; i < n; i++) {
        struct json_object *p = json_object_array_get_idx(params, i);
        const char *name = kafka__get_str(p, "name");
        struct json_object *value = kafka__get(p, "value");
        if (!name)
            continue;
        tp.params[tp.nparams++] = (kafka__param_t){
            .name = name,
            .value = value && !kafka__is(value, json_type_null) ? kafka__text(d->t, value) : NULL,
        };
    }
    struct json_object *objects = kafka__get(root, "objects");
    for (size_t i = 0; kafka__is(objects, json_type_array) && i < json_object_array_length(objects);
         i++) {
        struct json_object *copy = NULL;
        if (json_object_deep_copy(json_object_array_get_idx(objects, i), &copy, NULL) != 0)
            continue;
        kafka__substitute(&tp, copy, 0);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "objects.%zu", i);
        kafka__doc_t od = {d->t, d->file, d->doc, prefix};
        kafka__strimzi_object(&od, copy);
        json_object_put(copy);
    }
    free(tp.params);
}

void kafka__parse_strimzi(kafka__doc_t *d)
{
    struct json_object *root = d->doc->entity;
    const char *kind = kafka__get_str(root, "kind");
    if (kind && strcmp(kind, "Template") == 0 && kafka__get(root, "objects"))
        kafka__strimzi_template(d, root);
    else if (kafka__get_str(root, "apiVersion") && kind)
        kafka__strimzi_object(d, root);
    else
        kafka__problem(d->t, kafka__pos(d, "%s", ""), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "the document is not a Kubernetes resource (it has no apiVersion and "
                       "kind), so it cannot be a Strimzi resource");
}
