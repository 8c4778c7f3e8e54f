/* modules/kafka-topology/kafka_detect.c: telling the formats apart by
 * content.  Each format has a shape the others lack, checked from the most
 * specific to the least:
 *
 *   - Strimzi: apiVersion kafka.strimzi.io/..., or an OpenShift Template
 *     whose objects include one;
 *   - JulieOps descriptor: a top-level context: (JulieOps requires it) or a
 *     projects: list;
 *   - JulieOps plans: nothing but a plans: mapping;
 *   - kafka-gitops: only kafka-gitops's top-level keys, and topics,
 *     services and users are mappings keyed by name;
 *   - plain: only clusters:, topics:, services: and connectors:, at least
 *     one of them a list.
 *
 * Another Kubernetes object (a ConfigMap beside a Kafka resource) is
 * unknown, which lets a Strimzi file carry it. */
#include <string.h>

#include "kafka_internal.h"

static int kafka__is_strimzi_object(struct json_object *obj)
{
    const char *api = kafka__get_str(obj, "apiVersion");
    return api && strncmp(api, "kafka.strimzi.io/", 17) == 0 && kafka__get_str(obj, "kind");
}

static int kafka__is_template(struct json_object *root)
{
    const char *api = kafka__get_str(root, "apiVersion");
    const char *kind = kafka__get_str(root, "kind");
    if (!api || !kind || strcmp(kind, "Template") != 0)
        return 0;
    if (strcmp(api, "v1") != 0 && strncmp(api, "template.openshift.io/", 22) != 0)
        return 0;
    struct json_object *objects = kafka__get(root, "objects");
    if (!kafka__is(objects, json_type_array))
        return 0;
    for (size_t i = 0; i < json_object_array_length(objects); i++)
        if (kafka__is_strimzi_object(json_object_array_get_idx(objects, i)))
            return 1;
    return 0;
}

static int kafka__is_gitops(struct json_object *root)
{
    static const char *const keys[] = {"settings",          "topics",         "services", "users",
                                       "customServiceAcls", "customUserAcls", "schemas"};
    int any = 0;
    json_object_object_foreach(root, key, value)
    {
        size_t i = 0;
        while (i < sizeof keys / sizeof keys[0] && strcmp(keys[i], key) != 0)
            i++;
        if (i == sizeof keys / sizeof keys[0])
            return 0;
        /* The maps keyed by name are what sets kafka-gitops apart from the
         * plain format, whose topics: is a list. */
        if (strcmp(key, "settings") != 0 && value && !kafka__is(value, json_type_object))
            return 0;
        any = 1;
    }
    return any;
}

/* Only the plain format's keys, and at least one of them a list. */
static int kafka__is_plain(struct json_object *root)
{
    static const char *const keys[] = {"clusters", "topics", "services", "connectors"};
    int lists = 0;
    json_object_object_foreach(root, key, value)
    {
        size_t i = 0;
        while (i < sizeof keys / sizeof keys[0] && strcmp(keys[i], key) != 0)
            i++;
        if (i == sizeof keys / sizeof keys[0])
            return 0;
        lists += kafka__is(value, json_type_array);
    }
    return lists > 0;
}

kafka_format_t kafka__detect(struct json_object *root)
{
    if (!kafka__is(root, json_type_object))
        return KAFKA_FORMAT_UNKNOWN;
    if (kafka__get_str(root, "apiVersion") && kafka__get_str(root, "kind")) {
        if (kafka__is_strimzi_object(root) || kafka__is_template(root))
            return KAFKA_FORMAT_STRIMZI;
        return KAFKA_FORMAT_UNKNOWN;
    }
    if (kafka__get(root, "context") || kafka__is(kafka__get(root, "projects"), json_type_array))
        return KAFKA_FORMAT_JULIEOPS;
    if (kafka__is(kafka__get(root, "plans"), json_type_object) &&
        json_object_object_length(root) == 1)
        return KAFKA_FORMAT_JULIEOPS_PLANS;
    if (kafka__is_gitops(root))
        return KAFKA_FORMAT_GITOPS;
    if (kafka__is_plain(root))
        return KAFKA_FORMAT_PLAIN;
    return KAFKA_FORMAT_UNKNOWN;
}
