/* modules/kafka-topology/parse_julieops.c: JulieOps topology descriptors
 * (YAML or JSON) and plans files, read the way JulieOps's
 * TopologyCustomDeserializer and TopicCustomDeserializer read them.
 *
 * Topic names: JulieOps's default naming joins, with the separator ('.'
 * unless configured), the context, the value of every other top-level key
 * in the order the file writes them (company, env, source, or any key that
 * is not projects, platform or special_topics), the project name, the
 * topic name, and the dataType when there is one:
 *   context: c, company: x, source: s, project p, topic t, dataType avro
 *   → "c.x.s.p.t.avro".
 * Names are composed per file, as JulieOps does when it parses each file of
 * a directory; special_topics keep their names as written.
 *
 * Partitions and replication factor come from config's num.partitions and
 * replication.factor (the cluster's defaults when absent) and are removed
 * from the topic config, as JulieOps's getRawConfig does.  A plan: label
 * takes its config from the plans file, whose values win over the topic's.
 *
 * Rights: project-level consumers and producers read or write every topic
 * of their project; a topic's own consumers and producers that topic;
 * streams, connectors and ksql access_control entries the topics they list
 * under topics.read and topics.write, by full name.  The platform: section
 * names platform principals (Schema Registry, Control Center, ...) and RBAC
 * users, with no topic rights of their own here.  JulieOps has no cluster
 * name: topics go to the options' default cluster. */
#include <stdio.h>
#include <string.h>

#include "kafka_internal.h"

typedef struct kafka__julie {
    kafka__doc_t *d;
    size_t cluster;
    const char *sep;
} kafka__julie_t;

/* A JulieOps user entry ({principal: "User:x", ...}): defines the principal
 * and returns it, or reports the entry and returns KAFKA_NONE. */
static size_t kafka__julie_user(kafka__julie_t *j, struct json_object *entry, kafka_kind_t kind,
                                const char *path)
{
    kafka__doc_t *d = j->d;
    struct json_object *p = kafka__get(entry, "principal");
    if (!p || kafka__is(p, json_type_object) || kafka__is(p, json_type_array) ||
        kafka__is(p, json_type_null)) {
        kafka__problem(d->t, kafka__pos(d, "%s", path), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "%s has no principal; JulieOps needs one per entry, such as "
                       "principal: \"User:my-app\"",
                       path);
        return KAFKA_NONE;
    }
    return kafka__principal_define(d->t, kafka__text(d->t, p), kind, NULL,
                                   kafka__pos(d, "%s", path));
}

/* Reads a list node, reporting anything else; NULL when absent or wrong. */
static struct json_object *kafka__julie_list(kafka__julie_t *j, struct json_object *node,
                                             const char *path)
{
    if (!node || kafka__is(node, json_type_null))
        return NULL;
    if (!kafka__is(node, json_type_array)) {
        kafka__problem(j->d->t, kafka__pos(j->d, "%s", path), KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_INVALID, "%s is %s; JulieOps expects a list here", path,
                       kafka__type_phrase(node));
        return NULL;
    }
    return node;
}

/* topics: {read: [...], write: [...]} of a streams app, connector or ksql
 * app: refs by full topic name. */
static void kafka__julie_topic_rights(kafka__julie_t *j, size_t principal,
                                      struct json_object *entry, const char *path)
{
    static const struct {
        const char *key;
        kafka_access_t access;
    } dirs[] = {{"read", KAFKA_CONSUMES}, {"write", KAFKA_PRODUCES}};
    kafka__doc_t *d = j->d;
    struct json_object *topics = kafka__get(entry, "topics");
    if (!topics)
        return;
    if (!kafka__is(topics, json_type_object)) {
        kafka__problem(d->t, kafka__pos(d, "%s.topics", path), KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_INVALID,
                       "%s.topics is %s; JulieOps expects read: and write: lists of topic names",
                       path, kafka__type_phrase(topics));
        return;
    }
    for (size_t k = 0; k < 2; k++) {
        char sub[1024];
        snprintf(sub, sizeof sub, "%s.topics.%s", path, dirs[k].key);
        struct json_object *list = kafka__julie_list(j, kafka__get(topics, dirs[k].key), sub);
        for (size_t i = 0; list && i < json_object_array_length(list); i++) {
            struct json_object *name = json_object_array_get_idx(list, i);
            if (!kafka__is(name, json_type_string)) {
                kafka__problem(d->t, kafka__pos(d, "%s.%zu", sub, i), KAFKA_SEVERITY_ERROR,
                               KAFKA_CHECK_INVALID, "%s.%zu is %s; write a topic name", sub, i,
                               kafka__type_phrase(name));
                continue;
            }
            kafka__ref_add(d->t, KAFKA_NODE_PRINCIPAL, principal, dirs[k].access,
                           KAFKA_PATTERN_LITERAL, json_object_get_string(name), j->cluster,
                           kafka__pos(d, "%s.%zu", sub, i));
        }
    }
}

/* consumers: or producers: of a project (every topic of it) or of a topic
 * (that topic alone). */
static void kafka__julie_clients(kafka__julie_t *j, struct json_object *list, const char *path,
                                 kafka_access_t access, const size_t *topics, size_t ntopics)
{
    kafka__doc_t *d = j->d;
    list = kafka__julie_list(j, list, path);
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s.%zu", path, i);
        size_t p =
            kafka__julie_user(j, json_object_array_get_idx(list, i), KAFKA_KIND_APPLICATION, sub);
        if (p == KAFKA_NONE)
            continue;
        kafka_pos_t pos = kafka__pos(d, "%s", sub);
        for (size_t k = 0; k < ntopics; k++)
            kafka__ref_add(d->t, KAFKA_NODE_PRINCIPAL, p, access, KAFKA_PATTERN_LITERAL,
                           d->t->topics[topics[k]].name, j->cluster, pos);
    }
}

static void kafka__julie_apply_plan(kafka__julie_t *j, kafka__config_t *config,
                                    struct json_object *plan, const char *path)
{
    kafka__doc_t *d = j->d;
    kafka__impl_t *im = d->t->impl;
    const char *label = kafka__text(d->t, plan);
    size_t idx;
    if (im->nplans == 0) {
        kafka__problem(d->t, kafka__pos(d, "%s.plan", path), KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_UNDEFINED_PLAN,
                       "the topic uses plan '%s' but no JulieOps plans file was read; add the "
                       "plans file (a YAML file with a top-level plans: map) to the topology "
                       "source, as JulieOps needs --plans for this descriptor",
                       label);
        return;
    }
    if (!kafka__map_get(&im->plan_map, label, 0, &idx)) {
        kafka__problem(d->t, kafka__pos(d, "%s.plan", path), KAFKA_SEVERITY_WARNING,
                       KAFKA_CHECK_UNDEFINED_PLAN,
                       "plan '%s' is defined in no plans file, so JulieOps ignores it; define "
                       "it or remove the plan: key",
                       label);
        return;
    }
    struct json_object *cfg = im->plans[idx].config;
    json_object_object_foreach(cfg, key, value)
    {
        kafka__config_put(config, key, kafka__text(d->t, value));
    }
}

/* Moves num.partitions or replication.factor out of the config into *out,
 * reporting a value JulieOps could not parse as a number. */
static void kafka__julie_take_int(kafka__julie_t *j, kafka__config_t *config, const char *key,
                                  int32_t *out, const char *path)
{
    const char *v = kafka__config_get(config, key);
    if (!v)
        return;
    int32_t n;
    if (kafka__parse_int32(v, &n) != 0 || n <= 0) {
        kafka__problem(j->d->t, kafka__pos(j->d, "%s.config.%s", path, key), KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_INVALID, "%s is '%s'; JulieOps needs a positive whole number",
                       key, v);
    } else {
        *out = n;
    }
    kafka__config_remove(config, key);
}

static size_t kafka__julie_topic(kafka__julie_t *j, struct json_object *topic, const char *prefix,
                                 const char *project, const char *path)
{
    kafka__doc_t *d = j->d;
    kafka_topology_t *t = d->t;
    if (!kafka__is(topic, json_type_object)) {
        kafka__problem(t, kafka__pos(d, "%s", path), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "%s is %s; each topic is a mapping with at least a name", path,
                       kafka__type_phrase(topic));
        return KAFKA_NONE;
    }
    struct json_object *name = kafka__get(topic, "name");
    if (!name || kafka__is(name, json_type_null)) {
        kafka__problem(t, kafka__pos(d, "%s", path), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "%s has no name; JulieOps requires one for each topic", path);
        return KAFKA_NONE;
    }
    kafka__topic_draft_t dr = {
        .cluster = j->cluster,
        .project = project,
        .pos = kafka__pos(d, "%s", path),
    };
    struct json_object *data_type = kafka__get(topic, "dataType");
    if (data_type && !kafka__is(data_type, json_type_null))
        dr.data_type = kafka__text(t, data_type);

    struct json_object *config = kafka__get(topic, "config");
    if (kafka__is(config, json_type_object)) {
        json_object_object_foreach(config, key, value)
        {
            kafka__config_put(&dr.config, key, kafka__text(t, value));
        }
    } else if (config && !kafka__is(config, json_type_null)) {
        kafka__problem(t, kafka__pos(d, "%s.config", path), KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_INVALID, "%s.config is %s; JulieOps expects a mapping", path,
                       kafka__type_phrase(config));
    }
    struct json_object *plan = kafka__get(topic, "plan");
    if (plan && !kafka__is(plan, json_type_null))
        kafka__julie_apply_plan(j, &dr.config, plan, path);
    if (kafka__config_get(&dr.config, "replication.factor") &&
        kafka__get(config, "replication.factor"))
        dr.replication_pos = kafka__pos(d, "%s.config.replication.factor", path);
    kafka__julie_take_int(j, &dr.config, "num.partitions", &dr.partitions, path);
    kafka__julie_take_int(j, &dr.config, "replication.factor", &dr.replication, path);

    gr_buf_t full = {0};
    gr_buf_printf(&full, "%s%s%s", prefix, j->sep, kafka__text(t, name));
    if (dr.data_type)
        gr_buf_printf(&full, "%s%s", j->sep, dr.data_type);
    dr.name = full.data;
    size_t idx = kafka__topic_add(d, &dr);
    gr_buf_free(&full);
    kafka__config_free(&dr.config);

    char sub[512];
    snprintf(sub, sizeof sub, "%s.consumers", path);
    kafka__julie_clients(j, kafka__get(topic, "consumers"), sub, KAFKA_CONSUMES, &idx, 1);
    snprintf(sub, sizeof sub, "%s.producers", path);
    kafka__julie_clients(j, kafka__get(topic, "producers"), sub, KAFKA_PRODUCES, &idx, 1);
    return idx;
}

/* streams:, connectors: or ksql: of a project.  connectors: and ksql: may
 * be a list or a mapping with access_control: (and artefacts:). */
static void kafka__julie_apps(kafka__julie_t *j, struct json_object *node, const char *path,
                              kafka_kind_t kind)
{
    kafka__doc_t *d = j->d;
    char base[512];
    snprintf(base, sizeof base, "%s", path);
    if (kafka__is(node, json_type_object)) {
        struct json_object *artefacts = kafka__get(node, "artefacts");
        if (!artefacts)
            artefacts = kafka__get(node, "artifacts");
        if (kind == KAFKA_KIND_CONNECT && kafka__is(artefacts, json_type_array)) {
            for (size_t i = 0; i < json_object_array_length(artefacts); i++) {
                const char *name = kafka__get_str(json_object_array_get_idx(artefacts, i), "name");
                if (name)
                    kafka__connector_add(
                        d->t, name, KAFKA_NONE, NULL,
                        kafka__pos(d, "%s.%s.%zu", path,
                                   kafka__get(node, "artefacts") ? "artefacts" : "artifacts", i));
            }
        }
        node = kafka__get(node, "access_control");
        snprintf(base, sizeof base, "%s.access_control", path);
        if (!node)
            return;
    }
    struct json_object *list = kafka__julie_list(j, node, base);
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        struct json_object *entry = json_object_array_get_idx(list, i);
        char sub[600];
        snprintf(sub, sizeof sub, "%s.%zu", base, i);
        size_t p = kafka__julie_user(j, entry, kind, sub);
        if (p == KAFKA_NONE)
            continue;
        if (kind == KAFKA_KIND_STREAMS) {
            struct json_object *app_id = kafka__get(entry, "applicationId");
            kafka__streams_app_add(
                d->t,
                app_id && !kafka__is(app_id, json_type_null) ? kafka__text(d->t, app_id) : NULL, p,
                kafka__pos(d, "%s", sub));
        }
        if (kind == KAFKA_KIND_CONNECT) {
            struct json_object *names = kafka__get(entry, "connectors");
            for (size_t k = 0;
                 kafka__is(names, json_type_array) && k < json_object_array_length(names); k++) {
                struct json_object *n = json_object_array_get_idx(names, k);
                if (kafka__is(n, json_type_string))
                    kafka__connector_add(d->t, json_object_get_string(n), p, NULL,
                                         kafka__pos(d, "%s.connectors.%zu", sub, k));
            }
        }
        kafka__julie_topic_rights(j, p, entry, sub);
    }
}

/* platform: {kafka: {rbac: ...}, schema_registry: {instances: [...], rbac:
 * ...}, ...}: every principal it names, instances as platform services and
 * RBAC role holders as users. */
static void kafka__julie_platform(kafka__julie_t *j, struct json_object *platform)
{
    if (!kafka__is(platform, json_type_object))
        return;
    json_object_object_foreach(platform, component, node)
    {
        struct json_object *instances = kafka__get(node, "instances");
        for (size_t i = 0;
             kafka__is(instances, json_type_array) && i < json_object_array_length(instances);
             i++) {
            char sub[512];
            snprintf(sub, sizeof sub, "platform.%s.instances.%zu", component, i);
            kafka__julie_user(j, json_object_array_get_idx(instances, i), KAFKA_KIND_PLATFORM, sub);
        }
        struct json_object *rbac = kafka__get(node, "rbac");
        if (!kafka__is(rbac, json_type_object))
            continue;
        json_object_object_foreach(rbac, role, holders)
        {
            for (size_t i = 0;
                 kafka__is(holders, json_type_array) && i < json_object_array_length(holders);
                 i++) {
                char sub[512];
                snprintf(sub, sizeof sub, "platform.%s.rbac.%s.%zu", component, role, i);
                kafka__julie_user(j, json_object_array_get_idx(holders, i), KAFKA_KIND_USER, sub);
            }
        }
    }
}

static void kafka__julie_project(kafka__julie_t *j, struct json_object *project, size_t index,
                                 const char *prefix)
{
    kafka__doc_t *d = j->d;
    kafka_topology_t *t = d->t;
    char path[64];
    snprintf(path, sizeof path, "projects.%zu", index);
    if (!kafka__is(project, json_type_object)) {
        kafka__problem(t, kafka__pos(d, "%s", path), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "%s is %s; each project is a mapping with a name and topics", path,
                       kafka__type_phrase(project));
        return;
    }
    struct json_object *name = kafka__get(project, "name");
    if (!name || kafka__is(name, json_type_null)) {
        kafka__problem(t, kafka__pos(d, "%s", path), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "%s has no name; JulieOps requires one for each project", path);
        return;
    }
    const char *project_name = kafka__text(t, name);
    gr_buf_t project_prefix = {0};
    gr_buf_printf(&project_prefix, "%s%s%s", prefix, j->sep, project_name);

    size_t *topics = NULL, ntopics = 0, cap = 0;
    char sub[128];
    snprintf(sub, sizeof sub, "%s.topics", path);
    struct json_object *list = kafka__julie_list(j, kafka__get(project, "topics"), sub);
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        char tpath[160];
        snprintf(tpath, sizeof tpath, "%s.%zu", sub, i);
        size_t idx = kafka__julie_topic(j, json_object_array_get_idx(list, i), project_prefix.data,
                                        project_name, tpath);
        if (idx != KAFKA_NONE) {
            KAFKA__GROW(topics, ntopics, cap);
            topics[ntopics++] = idx;
        }
    }
    snprintf(sub, sizeof sub, "%s.consumers", path);
    kafka__julie_clients(j, kafka__get(project, "consumers"), sub, KAFKA_CONSUMES, topics, ntopics);
    snprintf(sub, sizeof sub, "%s.producers", path);
    kafka__julie_clients(j, kafka__get(project, "producers"), sub, KAFKA_PRODUCES, topics, ntopics);
    free(topics);
    gr_buf_free(&project_prefix);

    static const struct {
        const char *key;
        kafka_kind_t kind;
    } apps[] = {{"streams", KAFKA_KIND_STREAMS},
                {"connectors", KAFKA_KIND_CONNECT},
                {"ksql", KAFKA_KIND_APPLICATION}};
    for (size_t k = 0; k < sizeof apps / sizeof apps[0]; k++) {
        struct json_object *node = kafka__get(project, apps[k].key);
        if (!node || kafka__is(node, json_type_null))
            continue;
        snprintf(sub, sizeof sub, "%s.%s", path, apps[k].key);
        kafka__julie_apps(j, node, sub, apps[k].kind);
    }
}

void kafka__parse_julieops(kafka__doc_t *d)
{
    kafka_topology_t *t = d->t;
    struct json_object *root = d->doc->entity;
    struct json_object *context = kafka__get(root, "context");
    if (!context) {
        kafka__problem(t, kafka__pos(d, "%s", ""), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "the JulieOps descriptor has no context: key; JulieOps requires it, as "
                       "the first part of every topic name");
        return;
    }
    kafka__julie_t j = {
        .d = d,
        .cluster = kafka__default_cluster(t, kafka__pos(d, "%s", "")),
        .sep = t->impl->separator,
    };

    gr_buf_t prefix = {0};
    gr_buf_puts(&prefix, kafka__text(t, context));
    json_object_object_foreach(root, key, value)
    {
        if (strcmp(key, "context") == 0 || strcmp(key, "projects") == 0 ||
            strcmp(key, "platform") == 0 || strcmp(key, "special_topics") == 0)
            continue;
        gr_buf_printf(&prefix, "%s%s", j.sep, kafka__text(t, value));
    }

    struct json_object *projects = kafka__julie_list(&j, kafka__get(root, "projects"), "projects");
    for (size_t i = 0; projects && i < json_object_array_length(projects); i++)
        kafka__julie_project(&j, json_object_array_get_idx(projects, i), i, prefix.data);
    gr_buf_free(&prefix);

    /* special_topics are named exactly as written. */
    struct json_object *special =
        kafka__julie_list(&j, kafka__get(root, "special_topics"), "special_topics");
    for (size_t i = 0; special && i < json_object_array_length(special); i++) {
        struct json_object *topic = json_object_array_get_idx(special, i);
        const char *name = kafka__get_str(topic, "name");
        char path[64];
        snprintf(path, sizeof path, "special_topics.%zu", i);
        if (!name) {
            kafka__problem(t, kafka__pos(d, "%s", path), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                           "%s has no name; JulieOps requires one", path);
            continue;
        }
        kafka__topic_draft_t dr = {
            .name = name, .cluster = j.cluster, .pos = kafka__pos(d, "%s", path)};
        struct json_object *config = kafka__get(topic, "config");
        if (kafka__is(config, json_type_object)) {
            json_object_object_foreach(config, key, value)
            {
                kafka__config_put(&dr.config, key, kafka__text(t, value));
            }
        }
        kafka__julie_take_int(&j, &dr.config, "num.partitions", &dr.partitions, path);
        kafka__julie_take_int(&j, &dr.config, "replication.factor", &dr.replication, path);
        kafka__topic_add(d, &dr);
        kafka__config_free(&dr.config);
    }

    kafka__julie_platform(&j, kafka__get(root, "platform"));
}

/* plans: {label: {alias: ..., config: {...}}}. */
void kafka__parse_julieops_plans(kafka__doc_t *d)
{
    kafka_topology_t *t = d->t;
    kafka__impl_t *im = t->impl;
    struct json_object *plans = kafka__get(d->doc->entity, "plans");
    if (!kafka__is(plans, json_type_object)) {
        kafka__problem(t, kafka__pos(d, "plans"), KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                       "plans is %s; a JulieOps plans file maps each plan label to its config",
                       kafka__type_phrase(plans));
        return;
    }
    json_object_object_foreach(plans, label, plan)
    {
        struct json_object *config = kafka__get(plan, "config");
        kafka_pos_t pos = kafka__pos(d, "plans.%s", label);
        if (!kafka__is(config, json_type_object)) {
            kafka__problem(t, pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                           "plan '%s' has no config mapping; JulieOps reads a plan's topic "
                           "settings from plans.%s.config",
                           label, label);
            continue;
        }
        size_t existing;
        if (kafka__map_get(&im->plan_map, label, 0, &existing)) {
            if (!json_object_equal(im->plans[existing].config, config))
                kafka__problem(t, pos, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_INVALID,
                               "plan '%s' is defined again with a different config; the "
                               "definition at %s:%u is kept",
                               label, im->plans[existing].pos.file, im->plans[existing].pos.line);
            continue;
        }
        KAFKA__GROW(im->plans, im->nplans, im->plans_cap);
        im->plans[im->nplans] = (kafka__plan_t){kafka__strdup(&im->arena, label), config, pos};
        kafka__map_put(&im->plan_map, im->plans[im->nplans].label, 0, im->nplans);
        im->nplans++;
    }
}
