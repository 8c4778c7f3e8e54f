/* modules/kafka-topology/parse_gitops.c: kafka-gitops desired-state files,
 * read the way kafka-gitops's ParserService and StateManager read them.
 *
 *   settings:            files: {topics, services, users} name files beside
 *                        the state that hold those maps; topics.defaults.
 *                        replication fills a topic's missing replication
 *   topics:              name → {partitions (required), replication, configs}
 *   services:            name → {type: application | kafka-streams |
 *                        kafka-connect, principal, produces: [...],
 *                        consumes: [...]}; a kafka-connect service has
 *                        connectors: name → {produces, consumes}
 *   users:               name → {principal, roles}
 *   customServiceAcls,
 *   customUserAcls:      service or user name → acl name → {name, type,
 *                        pattern, host, operation, permission, principal}
 *
 * Like kafka-gitops (Jackson with unknown properties refused) a key it
 * does not know is an error; numbers may be written as numeric strings.
 * Topic ACLs become refs: READ consumes, WRITE produces, ALL both, with
 * the pattern (LITERAL or PREFIXED) kept; DENY and other operations give no
 * rights here.
 *
 * kafka-gitops has no cluster name, and a repository keeps one state per
 * cluster, usually one directory each (dev/state.yaml, prod/state.yaml).
 * So a state's cluster is named after the directory holding it, and the
 * files its settings.files name belong to the same cluster; a state at the
 * top of the source uses the options' default cluster.  Two environments
 * then never look like one topic defined twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

/* The cluster a kafka-gitops file describes: its state's, else the name
 * of its directory, else the default cluster. */
static const char *kafka__gitops_cluster_name(kafka_topology_t *t, kafka__file_t *f)
{
    if (!f->cluster) {
        const char *norm = f->norm;
        const char *slash = strrchr(norm, '/');
        const char *start = slash;
        while (start && start > norm && start[-1] != '/')
            start--;
        if (slash && slash > start && !(slash - start == 2 && start[0] == '.' && start[1] == '.'))
            f->cluster = kafka__strndup(&t->impl->arena, start, (size_t)(slash - start));
        else
            f->cluster = t->impl->default_cluster;
    }
    return f->cluster;
}

static int kafka__one_of(const char *v, const char *const *allowed)
{
    for (; v && *allowed; allowed++)
        if (strcmp(v, *allowed) == 0)
            return 1;
    return 0;
}

/* Reports keys of `obj` (at field path `path`) that kafka-gitops would
 * refuse. */
static void kafka__gitops_known_keys(kafka__doc_t *d, struct json_object *obj,
                                     const char *const *known, const char *what, const char *path)
{
    if (!kafka__is(obj, json_type_object))
        return;
    json_object_object_foreach(obj, key, value)
    {
        (void)value;
        if (kafka__one_of(key, known))
            continue;
        gr_buf_t list = {0};
        for (const char *const *k = known; *k; k++)
            gr_buf_printf(&list, "%s%s", k == known ? "" : ", ", *k);
        kafka__problem(
            d->t, kafka__pos(d, "%s.%s", path, key), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
            "unknown key '%s' in %s; kafka-gitops refuses it (allowed: %s)", key, what, list.data);
        gr_buf_free(&list);
    }
}

/* settings.topics.defaults.replication, or 0. */
static int32_t kafka__gitops_default_replication(kafka__doc_t *d)
{
    struct json_object *v = kafka__get(
        kafka__get(kafka__get(kafka__get(d->doc->entity, "settings"), "topics"), "defaults"),
        "replication");
    int32_t n = 0;
    if (v && (kafka__int32(v, &n) != 0 || n <= 0)) {
        kafka__problem(d->t, kafka__pos(d, "settings.topics.defaults.replication"),
                       KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "settings.topics.defaults.replication is %s; write a positive whole number",
                       kafka__type_phrase(v));
        return 0;
    }
    return n;
}

void kafka__gitops_follow_files(kafka__doc_t *d)
{
    static const char *const kinds[] = {"topics", "services", "users"};
    kafka_topology_t *t = d->t;
    kafka__impl_t *im = t->impl;
    struct json_object *files = kafka__get(kafka__get(d->doc->entity, "settings"), "files");
    int32_t replication = kafka__gitops_default_replication(d);
    if (replication && !d->file->default_replication)
        d->file->default_replication = replication;
    if (!kafka__is(files, json_type_object))
        return;

    /* Named files sit beside the state file, as ParserService resolves
     * them against the state's parent directory. */
    const char *norm = d->file->norm;
    const char *slash = strrchr(norm, '/');
    gr_buf_t dir = {0};
    if (slash)
        gr_buf_append(&dir, norm, slash == norm ? 1 : (size_t)(slash - norm));
    else
        gr_buf_puts(&dir, ".");

    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        struct json_object *v = kafka__get(files, kinds[k]);
        if (!v)
            continue;
        kafka_pos_t pos = kafka__pos(d, "settings.files.%s", kinds[k]);
        if (!kafka__is(v, json_type_string)) {
            kafka__problem(t, pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                           "settings.files.%s is %s; write the file name", kinds[k],
                           kafka__type_phrase(v));
            continue;
        }
        const char *name = json_object_get_string(v);
        gr_buf_t joined = {0};
        if (name[0] == '/')
            gr_buf_puts(&joined, name);
        else
            gr_buf_printf(&joined, "%s/%s", dir.data, name);
        const char *target = kafka__path_normalize(t, joined.data);
        kafka__file_t *f = kafka__file_find(t, target);
        gr_error_t err = {0};
        if (!f && im->read_file) {
            size_t len = 0;
            char *data = im->read_file(im->read_data, target, &len, &err);
            if (data) {
                catalog_file_t parsed;
                catalog_file_parse(&parsed, target, data, len);
                free(data);
                f = kafka__file_add(t, target, &parsed, KAFKA_FORMAT_GITOPS);
            }
        }
        if (!f) {
            kafka__problem(t, pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_MISSING_FILE,
                           "settings.files.%s names '%s', which is not among the files read "
                           "(looked for %s)%s%s; add it to the topology source",
                           kinds[k], name, target, err.message[0] ? ": " : "", err.message);
        } else {
            f->format = KAFKA_FORMAT_GITOPS;
            if (!f->default_replication)
                f->default_replication = d->file->default_replication;
            if (!f->cluster)
                f->cluster = kafka__gitops_cluster_name(t, d->file);
        }
        gr_buf_free(&joined);
    }
    gr_buf_free(&dir);
}

/* A list of topic names (produces: or consumes:) as refs of an owner. */
static void kafka__gitops_topic_list(kafka__doc_t *d, struct json_object *list,
                                     kafka_node_kind_t owner_kind, size_t owner,
                                     kafka_access_t access, size_t cluster, const char *path)
{
    if (!list || kafka__is(list, json_type_null))
        return;
    if (!kafka__is(list, json_type_array)) {
        kafka__problem(d->t, kafka__pos(d, "%s", path), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "%s is %s; kafka-gitops expects a list of topic names", path,
                       kafka__type_phrase(list));
        return;
    }
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *v = json_object_array_get_idx(list, i);
        if (!kafka__is(v, json_type_string)) {
            kafka__problem(d->t, kafka__pos(d, "%s.%zu", path, i), KAFKA_SEVERITY_ERROR,
                           KAFKA_CHECK_INVALID, "%s.%zu is %s; write a topic name", path, i,
                           kafka__type_phrase(v));
            continue;
        }
        kafka__ref_add(d->t, owner_kind, owner, access, KAFKA_PATTERN_LITERAL,
                       json_object_get_string(v), cluster, kafka__pos(d, "%s.%zu", path, i));
    }
}

static void kafka__gitops_topic(kafka__doc_t *d, const char *name, struct json_object *details,
                                size_t cluster, int32_t default_replication)
{
    static const char *const known[] = {"partitions", "replication", "configs", NULL};
    kafka_topology_t *t = d->t;
    kafka__topic_draft_t dr = {
        .name = name, .cluster = cluster, .pos = kafka__pos(d, "topics.%s", name)};
    if (!kafka__is(details, json_type_object)) {
        kafka__problem(t, dr.pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "topic '%s' is %s; kafka-gitops expects partitions:, replication: and "
                       "configs:",
                       name, kafka__type_phrase(details));
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "topics.%s", name);
    kafka__gitops_known_keys(d, details, known, "a topic", path);

    /* A topic kafka-gitops would refuse is reported and left out, so it
     * does not also show up as a duplicate of a valid definition. */
    int bad = 0;
    struct json_object *partitions = kafka__get(details, "partitions");
    if (!partitions || kafka__is(partitions, json_type_null)) {
        bad = 1;
        kafka__problem(t, dr.pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "topic '%s' has no partitions; kafka-gitops requires partitions: for every "
                       "topic",
                       name);
    } else if (kafka__int32(partitions, &dr.partitions) != 0 || dr.partitions <= 0) {
        kafka__problem(t, kafka__pos(d, "topics.%s.partitions", name), KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_INVALID,
                       "topic '%s' has partitions '%s', which is not a valid number of "
                       "partitions; write a positive whole number",
                       name, kafka__text(t, partitions));
        bad = 1;
    }
    struct json_object *replication = kafka__get(details, "replication");
    if (replication && !kafka__is(replication, json_type_null)) {
        dr.replication_pos = kafka__pos(d, "topics.%s.replication", name);
        if (kafka__int32(replication, &dr.replication) != 0 || dr.replication <= 0) {
            kafka__problem(t, dr.replication_pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                           "topic '%s' has replication '%s', which is not a valid replication "
                           "factor; write a positive whole number",
                           name, kafka__text(t, replication));
            bad = 1;
        }
    } else if (default_replication) {
        dr.replication = default_replication;
    } else {
        kafka__problem(t, dr.pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "topic '%s' has no replication and the state sets no "
                       "settings.topics.defaults.replication; kafka-gitops needs one of them",
                       name);
        bad = 1;
    }
    struct json_object *configs = kafka__get(details, "configs");
    if (kafka__is(configs, json_type_object)) {
        json_object_object_foreach(configs, key, value)
        {
            kafka__config_put(&dr.config, key, kafka__text(t, value));
        }
    } else if (configs && !kafka__is(configs, json_type_null)) {
        kafka__problem(t, kafka__pos(d, "topics.%s.configs", name), KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_INVALID, "topic '%s' has configs that are %s; write a mapping",
                       name, kafka__type_phrase(configs));
    }
    if (!bad)
        kafka__topic_add(d, &dr);
    kafka__config_free(&dr.config);
}

static void kafka__gitops_service(kafka__doc_t *d, const char *name, struct json_object *details,
                                  size_t cluster)
{
    static const char *const types[] = {"application", "kafka-streams", "kafka-connect", NULL};
    static const char *const known_app[] = {"type",     "principal", "produces",
                                            "consumes", "group-id",  NULL};
    static const char *const known_streams[] = {"type", "principal", "produces", "consumes", NULL};
    static const char *const known_connect[] = {
        "type", "principal", "produces", "connectors", "group-id", "storage-topics", NULL};
    kafka_topology_t *t = d->t;
    kafka_pos_t pos = kafka__pos(d, "services.%s", name);
    if (!kafka__is(details, json_type_object)) {
        kafka__problem(t, pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "service '%s' is %s; kafka-gitops expects type:, principal:, produces: "
                       "and consumes:",
                       name, kafka__type_phrase(details));
        return;
    }
    const char *type = kafka__get_str(details, "type");
    if (!kafka__one_of(type, types)) {
        kafka__problem(t, type ? kafka__pos(d, "services.%s.type", name) : pos,
                       KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "service '%s' has %s type%s%s; kafka-gitops knows application, "
                       "kafka-streams and kafka-connect",
                       name, type ? "the unknown" : "no", type ? " " : "", type ? type : "");
        return;
    }
    kafka_kind_t kind = strcmp(type, "kafka-streams") == 0   ? KAFKA_KIND_STREAMS
                        : strcmp(type, "kafka-connect") == 0 ? KAFKA_KIND_CONNECT
                                                             : KAFKA_KIND_APPLICATION;
    char path[1024];
    snprintf(path, sizeof path, "services.%s", name);
    kafka__gitops_known_keys(d, details,
                             kind == KAFKA_KIND_STREAMS   ? known_streams
                             : kind == KAFKA_KIND_CONNECT ? known_connect
                                                          : known_app,
                             "a service", path);
    size_t p = kafka__principal_define(t, name, kind, kafka__get_str(details, "principal"), pos);
    snprintf(path, sizeof path, "services.%s.produces", name);
    kafka__gitops_topic_list(d, kafka__get(details, "produces"), KAFKA_NODE_PRINCIPAL, p,
                             KAFKA_PRODUCES, cluster, path);
    snprintf(path, sizeof path, "services.%s.consumes", name);
    kafka__gitops_topic_list(d, kafka__get(details, "consumes"), KAFKA_NODE_PRINCIPAL, p,
                             KAFKA_CONSUMES, cluster, path);
    /* kafka-gitops names a streams app's internal topics after the
     * service, so the service name is its application id. */
    if (kind == KAFKA_KIND_STREAMS)
        kafka__streams_app_add(t, name, p, pos);

    struct json_object *connectors = kafka__get(details, "connectors");
    if (kind != KAFKA_KIND_CONNECT || !connectors)
        return;
    if (!kafka__is(connectors, json_type_object)) {
        kafka__problem(t, kafka__pos(d, "services.%s.connectors", name), KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_INVALID,
                       "service '%s' has connectors that are %s; kafka-gitops expects a mapping "
                       "of connector names",
                       name, kafka__type_phrase(connectors));
        return;
    }
    json_object_object_foreach(connectors, cname, cdetails)
    {
        size_t c = kafka__connector_add(t, cname, p, NULL,
                                        kafka__pos(d, "services.%s.connectors.%s", name, cname));
        snprintf(path, sizeof path, "services.%s.connectors.%s.produces", name, cname);
        kafka__gitops_topic_list(d, kafka__get(cdetails, "produces"), KAFKA_NODE_CONNECTOR, c,
                                 KAFKA_PRODUCES, cluster, path);
        snprintf(path, sizeof path, "services.%s.connectors.%s.consumes", name, cname);
        kafka__gitops_topic_list(d, kafka__get(cdetails, "consumes"), KAFKA_NODE_CONNECTOR, c,
                                 KAFKA_CONSUMES, cluster, path);
    }
}

/* Checks one custom ACL the way CustomAclDetails.validate does and turns a
 * topic ACL into refs. */
static void kafka__gitops_acl(kafka__doc_t *d, const char *section, const char *owner_name,
                              size_t owner, const char *acl_name, struct json_object *acl,
                              size_t cluster)
{
    static const char *const types[] = {
        "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER", NULL};
    static const char *const patterns[] = {"LITERAL", "PREFIXED", "MATCH", NULL};
    static const char *const operations[] = {"ALL",
                                             "READ",
                                             "WRITE",
                                             "CREATE",
                                             "DELETE",
                                             "ALTER",
                                             "DESCRIBE",
                                             "CLUSTER_ACTION",
                                             "DESCRIBE_CONFIGS",
                                             "ALTER_CONFIGS",
                                             "IDEMPOTENT_WRITE",
                                             "CREATE_TOKENS",
                                             "DESCRIBE_TOKENS",
                                             NULL};
    static const char *const permissions[] = {"ALLOW", "DENY", NULL};
    static const char *const required[] = {"name", "type",      "pattern",
                                           "host", "operation", "permission"};
    static const char *const known[] = {"name",      "type",       "pattern",   "host",
                                        "operation", "permission", "principal", NULL};
    kafka_topology_t *t = d->t;
    kafka_pos_t pos = kafka__pos(d, "%s.%s.%s", section, owner_name, acl_name);
    if (!kafka__is(acl, json_type_object)) {
        kafka__problem(t, pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "custom ACL '%s' of '%s' is %s; write name, type, pattern, host, "
                       "operation and permission",
                       acl_name, owner_name, kafka__type_phrase(acl));
        return;
    }
    gr_buf_t path = {0};
    gr_buf_printf(&path, "%s.%s.%s", section, owner_name, acl_name);
    kafka__gitops_known_keys(d, acl, known, "a custom ACL", path.data);
    gr_buf_free(&path);
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (!kafka__get_str(acl, required[i])) {
            kafka__problem(t, pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                           "custom ACL '%s' of '%s' has no %s; kafka-gitops requires name, type, "
                           "pattern, host, operation and permission",
                           acl_name, owner_name, required[i]);
            return;
        }
    }
    static const struct {
        const char *field;
        const char *const *allowed;
    } enums[] = {{"type", types},
                 {"pattern", patterns},
                 {"operation", operations},
                 {"permission", permissions}};
    for (size_t i = 0; i < sizeof enums / sizeof enums[0]; i++) {
        const char *v = kafka__get_str(acl, enums[i].field);
        if (kafka__one_of(v, enums[i].allowed))
            continue;
        gr_buf_t list = {0};
        for (const char *const *a = enums[i].allowed; *a; a++)
            gr_buf_printf(&list, "%s%s", a == enums[i].allowed ? "" : ", ", *a);
        kafka__problem(t,
                       kafka__pos(d, "%s.%s.%s.%s", section, owner_name, acl_name, enums[i].field),
                       KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "custom ACL '%s' of '%s' has %s '%s'; allowed values: %s", acl_name,
                       owner_name, enums[i].field, v, list.data);
        gr_buf_free(&list);
        return;
    }
    const char *op = kafka__get_str(acl, "operation");
    if (strcmp(kafka__get_str(acl, "type"), "TOPIC") != 0 ||
        strcmp(kafka__get_str(acl, "permission"), "ALLOW") != 0)
        return;
    int reads = strcmp(op, "READ") == 0 || strcmp(op, "ALL") == 0;
    int writes = strcmp(op, "WRITE") == 0 || strcmp(op, "ALL") == 0;
    kafka_pattern_t pattern = strcmp(kafka__get_str(acl, "pattern"), "PREFIXED") == 0
                                  ? KAFKA_PATTERN_PREFIX
                                  : KAFKA_PATTERN_LITERAL;
    const char *topic = kafka__get_str(acl, "name");
    if (writes)
        kafka__ref_add(t, KAFKA_NODE_PRINCIPAL, owner, KAFKA_PRODUCES, pattern, topic, cluster,
                       pos);
    if (reads)
        kafka__ref_add(t, KAFKA_NODE_PRINCIPAL, owner, KAFKA_CONSUMES, pattern, topic, cluster,
                       pos);
}

static void kafka__gitops_custom_acls(kafka__doc_t *d, const char *section,
                                      struct json_object *node, size_t cluster)
{
    kafka_topology_t *t = d->t;
    if (!kafka__is(node, json_type_object)) {
        kafka__problem(t, kafka__pos(d, "%s", section), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "%s is %s; kafka-gitops expects a mapping of names to their ACLs", section,
                       kafka__type_phrase(node));
        return;
    }
    json_object_object_foreach(node, owner_name, acls)
    {
        size_t owner =
            kafka__principal_use(t, owner_name, kafka__pos(d, "%s.%s", section, owner_name));
        if (!kafka__is(acls, json_type_object)) {
            kafka__problem(t, kafka__pos(d, "%s.%s", section, owner_name), KAFKA_SEVERITY_ERROR,
                           KAFKA_CHECK_INVALID,
                           "%s.%s is %s; kafka-gitops expects a mapping of ACL names to ACLs",
                           section, owner_name, kafka__type_phrase(acls));
            continue;
        }
        json_object_object_foreach(acls, acl_name, acl)
        {
            kafka__gitops_acl(d, section, owner_name, owner, acl_name, acl, cluster);
        }
    }
}

void kafka__parse_gitops(kafka__doc_t *d)
{
    static const char *const known[] = {"settings",          "topics",         "services", "users",
                                        "customServiceAcls", "customUserAcls", "schemas",  NULL};
    kafka_topology_t *t = d->t;
    struct json_object *root = d->doc->entity;
    json_object_object_foreach(root, key, value)
    {
        (void)value;
        if (!kafka__one_of(key, known))
            kafka__problem(t, kafka__pos(d, "%s", key), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                           "unknown top-level key '%s'; a kafka-gitops state holds settings, "
                           "topics, services, users, customServiceAcls, customUserAcls and "
                           "schemas",
                           key);
    }
    size_t cluster =
        kafka__cluster(t, kafka__gitops_cluster_name(t, d->file), kafka__pos(d, "%s", ""));
    int32_t replication = kafka__gitops_default_replication(d);
    if (!replication)
        replication = d->file->default_replication;

    static const char *const maps[] = {"topics", "services", "users"};
    for (size_t k = 0; k < sizeof maps / sizeof maps[0]; k++) {
        struct json_object *m = kafka__get(root, maps[k]);
        if (m && !kafka__is(m, json_type_object) && !kafka__is(m, json_type_null))
            kafka__problem(t, kafka__pos(d, "%s", maps[k]), KAFKA_SEVERITY_ERROR,
                           KAFKA_CHECK_INVALID,
                           "%s is %s; kafka-gitops expects a mapping keyed by name", maps[k],
                           kafka__type_phrase(m));
    }

    struct json_object *topics = kafka__get(root, "topics");
    if (kafka__is(topics, json_type_object)) {
        json_object_object_foreach(topics, name, details)
        {
            kafka__gitops_topic(d, name, details, cluster, replication);
        }
    }
    struct json_object *services = kafka__get(root, "services");
    if (kafka__is(services, json_type_object)) {
        json_object_object_foreach(services, name, details)
        {
            kafka__gitops_service(d, name, details, cluster);
        }
    }
    struct json_object *users = kafka__get(root, "users");
    if (kafka__is(users, json_type_object)) {
        static const char *const known_user[] = {"principal", "roles", NULL};
        json_object_object_foreach(users, name, details)
        {
            if (details && !kafka__is(details, json_type_object)) {
                kafka__problem(t, kafka__pos(d, "users.%s", name), KAFKA_SEVERITY_ERROR,
                               KAFKA_CHECK_INVALID,
                               "user '%s' is %s; kafka-gitops expects principal: and roles:", name,
                               kafka__type_phrase(details));
                continue;
            }
            char path[1024];
            snprintf(path, sizeof path, "users.%s", name);
            kafka__gitops_known_keys(d, details, known_user, "a user", path);
            kafka__principal_define(t, name, KAFKA_KIND_USER, kafka__get_str(details, "principal"),
                                    kafka__pos(d, "users.%s", name));
        }
    }
    struct json_object *acls = kafka__get(root, "customServiceAcls");
    if (acls)
        kafka__gitops_custom_acls(d, "customServiceAcls", acls, cluster);
    acls = kafka__get(root, "customUserAcls");
    if (acls)
        kafka__gitops_custom_acls(d, "customUserAcls", acls, cluster);
}
