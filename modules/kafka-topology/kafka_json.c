/* modules/kafka-topology/kafka_json.c: reading the json-c values the
 * catalog's YAML and JSON readers build, with the coercions the Java tools
 * behind each format (Jackson) apply, so a file those tools accept reads
 * the same here. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

int kafka__is(struct json_object *v, json_type type)
{
    return v && json_object_is_type(v, type);
}

struct json_object *kafka__get(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;
    if (!kafka__is(obj, json_type_object) || !json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;
}

const char *kafka__get_str(struct json_object *obj, const char *key)
{
    struct json_object *v = kafka__get(obj, key);
    return kafka__is(v, json_type_string) ? json_object_get_string(v) : NULL;
}

const char *kafka__text(kafka_topology_t *t, struct json_object *v)
{
    char buf[64];
    switch (v ? json_object_get_type(v) : json_type_null) {
    case json_type_null: return "null";
    case json_type_string: return json_object_get_string(v);
    case json_type_boolean: return json_object_get_boolean(v) ? "true" : "false";
    case json_type_int:
        snprintf(buf, sizeof buf, "%lld", (long long)json_object_get_int64(v));
        break;
    case json_type_double: {
        /* %.15g gives back the digits a person wrote ("0.01"), where
         * json-c's own %.17g would print 0.01000000000000000021. */
        double d = json_object_get_double(v);
        snprintf(buf, sizeof buf, "%.15g", d);
        break;
    }
    case json_type_object:
    case json_type_array: return "";
    }
    return kafka__strdup(&t->impl->arena, buf);
}

int kafka__parse_int32(const char *s, int32_t *out)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (!*s || *end || errno == ERANGE || n < INT32_MIN || n > INT32_MAX)
        return -1;
    *out = (int32_t)n;
    return 0;
}

int kafka__int32(struct json_object *v, int32_t *out)
{
    long long n;
    if (kafka__is(v, json_type_int)) {
        n = (long long)json_object_get_int64(v);
    } else if (kafka__is(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!(d == floor(d)) || d < -2147483648.0 || d > 2147483647.0)
            return -1;
        n = (long long)d;
    } else if (kafka__is(v, json_type_string)) {
        return kafka__parse_int32(json_object_get_string(v), out);
    } else {
        return -1;
    }
    if (n < INT32_MIN || n > INT32_MAX)
        return -1;
    *out = (int32_t)n;
    return 0;
}

const char *kafka__type_phrase(struct json_object *v)
{
    switch (v ? json_object_get_type(v) : json_type_null) {
    case json_type_null: return "empty";
    case json_type_boolean: return "a boolean";
    case json_type_int:
    case json_type_double: return "a number";
    case json_type_string: return "a string";
    case json_type_array: return "a list";
    case json_type_object: return "a mapping";
    }
    return "a value";
}
