/* modules/catalog/fields.c: the `fields` parameter, which keeps only the
 * listed parts of each entity in a response. */
#include <stdlib.h>
#include <string.h>

#include "catalog_plugin.h"

int catalog_fields_add(catalog_fields_t *f, const char *text, gr_error_t *err)
{
    const char *p = text;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && *p == ' ') {
            p++;
            len--;
        }
        while (len && p[len - 1] == ' ')
            len--;
        if (len) {
            if (memchr(p, '[', len))
                return gr_error_set(err, GR_ERR_INVALID,
                                    "invalid fields, array type fields are not supported");
            gr_strvec_push_owned(&f->paths, gr_xstrndup(p, len));
        }
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

void catalog_fields_free(catalog_fields_t *f)
{
    gr_strvec_free(&f->paths);
}

/* Splits `field` into the keys it names in `input`: parts are joined with
 * dots until they name an existing key, so an annotation key that itself
 * holds dots is found.  Returns the number of keys, or 0 when the whole
 * path does not exist. */
static size_t resolve(struct json_object *input, const char *field, gr_strvec_t *keys)
{
    char *copy = gr_xstrdup(field);
    gr_buf_t pending = {0};
    struct json_object *cur = input;
    for (char *save = NULL, *part = strtok_r(copy, ".", &save); part;
         part = strtok_r(NULL, ".", &save)) {
        if (pending.len)
            gr_buf_append(&pending, ".", 1);
        gr_buf_puts(&pending, part);
        struct json_object *next;
        if (json_object_is_type(cur, json_type_object) &&
            json_object_object_get_ex(cur, pending.data, &next)) {
            gr_strvec_push(keys, pending.data);
            gr_buf_reset(&pending);
            cur = next;
        }
    }
    size_t n = pending.len ? 0 : keys->len;
    gr_buf_free(&pending);
    free(copy);
    return n;
}

struct json_object *catalog_fields_project(const catalog_fields_t *f, struct json_object *entity)
{
    struct json_object *out = json_object_new_object();
    for (size_t i = 0; i < f->paths.len; i++) {
        gr_strvec_t keys = {0};
        if (resolve(entity, f->paths.items[i], &keys) == 0) {
            gr_strvec_free(&keys);
            continue;
        }
        struct json_object *src = entity, *dst = out;
        for (size_t k = 0; k < keys.len; k++) {
            json_object_object_get_ex(src, keys.items[k], &src);
            if (k + 1 == keys.len) {
                struct json_object *existing;
                if (!json_object_object_get_ex(dst, keys.items[k], &existing) || existing != src)
                    json_object_object_add(dst, keys.items[k], json_object_get(src));
                break;
            }
            struct json_object *child;
            int have = json_object_object_get_ex(dst, keys.items[k], &child);
            if (have && child == src)
                break; /* an earlier path already kept this whole subtree */
            if (!have || !json_object_is_type(child, json_type_object)) {
                child = json_object_new_object();
                json_object_object_add(dst, keys.items[k], child);
            }
            dst = child;
        }
        gr_strvec_free(&keys);
    }
    return out;
}
