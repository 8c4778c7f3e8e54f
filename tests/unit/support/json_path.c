/* tests/unit/support/json_path.c: see json_path.h. */
#include "json_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct json_object *gr_test_json_at(struct json_object *obj, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    struct json_object *cur = obj;
    for (char *save = NULL, *part = strtok_r(buf, ".", &save); part && cur;
         part = strtok_r(NULL, ".", &save)) {
        if (json_object_is_type(cur, json_type_array))
            cur = json_object_array_get_idx(cur, (size_t)atoi(part));
        else if (!json_object_object_get_ex(cur, part, &cur))
            return NULL;
    }
    return cur;
}

const char *gr_test_json_str(struct json_object *obj, const char *path)
{
    struct json_object *v = gr_test_json_at(obj, path);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}
