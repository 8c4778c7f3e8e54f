/* tests/unit/support/json_path.h: reaching into a json-c document by a
 * dotted path, for checks on parsed entities and API answers.
 *
 * "spec.owner" follows object keys; a number after an array follows its
 * index ("relations.0.type").  Paths are short test literals (under 256
 * characters). */
#ifndef GR_TEST_JSON_PATH_H
#define GR_TEST_JSON_PATH_H

#include <json-c/json.h>

/* The value at path in obj (borrowed from obj), or NULL when any step is
 * missing. */
struct json_object *gr_test_json_at(struct json_object *obj, const char *path);
/* The string at path (borrowed from obj), or NULL when it is missing or not
 * a string. */
const char *gr_test_json_str(struct json_object *obj, const char *path);

#endif
