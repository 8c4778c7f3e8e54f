/* modules/catalog/cursor.c: base64, and the opaque cursor of
 * /entities/by-query, which carries the query and the position of the page
 * edge so the next request needs nothing else. */
#include <stdlib.h>
#include <string.h>

#include "catalog_plugin.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *catalog_base64_encode(const char *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    char *out = gr_xmalloc(4 * ((len + 2) / 3) + 1), *o = out;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        *o++ = b64[p[i] >> 2];
        *o++ = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        *o++ = b64[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
        *o++ = b64[p[i + 2] & 63];
    }
    if (i < len) {
        *o++ = b64[p[i] >> 2];
        if (i + 1 < len) {
            *o++ = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
            *o++ = b64[(p[i + 1] & 15) << 2];
        } else {
            *o++ = b64[(p[i] & 3) << 4];
            *o++ = '=';
        }
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

void catalog_cursor_init(catalog_cursor_t *c)
{
    *c = (catalog_cursor_t){0};
    c->total_items = -1;
}

void catalog_cursor_free(catalog_cursor_t *c)
{
    gr_strvec_free(&c->filter);
    gr_strvec_free(&c->text_fields);
    free(c->order_field);
    free(c->text_term);
    free(c->last_value);
    free(c->last_uid);
    free(c->first_value);
    free(c->first_uid);
    catalog_cursor_init(c);
}

static struct json_object *strings_json(const gr_strvec_t *v)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < v->len; i++)
        json_object_array_add(a, json_object_new_string(v->items[i]));
    return a;
}

static struct json_object *position_json(int is_null, const char *value, const char *uid)
{
    struct json_object *a = json_object_new_array();
    json_object_array_add(a, is_null || !value ? NULL : json_object_new_string(value));
    json_object_array_add(a, json_object_new_string(uid ? uid : ""));
    return a;
}

char *catalog_cursor_encode(const catalog_cursor_t *c)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "filter", strings_json(&c->filter));
    if (c->order_field) {
        struct json_object *order = json_object_new_object();
        json_object_object_add(order, "field", json_object_new_string(c->order_field));
        json_object_object_add(order, "order",
                               json_object_new_string(c->descending ? "desc" : "asc"));
        json_object_object_add(o, "orderField", order);
    }
    if (c->text_term) {
        struct json_object *t = json_object_new_object();
        json_object_object_add(t, "term", json_object_new_string(c->text_term));
        json_object_object_add(t, "fields", strings_json(&c->text_fields));
        json_object_object_add(o, "fullTextFilter", t);
    }
    if (c->has_position)
        json_object_object_add(o, "position",
                               position_json(c->last_null, c->last_value, c->last_uid));
    if (c->has_first)
        json_object_object_add(o, "first",
                               position_json(c->first_null, c->first_value, c->first_uid));
    json_object_object_add(o, "isPrevious", json_object_new_boolean(c->previous));
    json_object_object_add(o, "totalItems", json_object_new_int64(c->total_items));
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    char *out = catalog_base64_encode(text, strlen(text));
    json_object_put(o);
    return out;
}

static int read_strings(struct json_object *a, gr_strvec_t *out)
{
    if (!a)
        return 0;
    if (!json_object_is_type(a, json_type_array))
        return -1;
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        struct json_object *s = json_object_array_get_idx(a, i);
        if (!json_object_is_type(s, json_type_string))
            return -1;
        gr_strvec_push(out, json_object_get_string(s));
    }
    return 0;
}

int catalog_uuid_valid(const char *s)
{
    if (!s || strlen(s) != CATALOG_UUID_LEN)
        return 0;
    for (size_t i = 0; i < CATALOG_UUID_LEN; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (dash ? c != '-' : !hex)
            return 0;
    }
    return 1;
}

static int read_position(struct json_object *a, int *is_null, char **value, char **uid)
{
    if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) != 2)
        return -1;
    struct json_object *v = json_object_array_get_idx(a, 0);
    struct json_object *u = json_object_array_get_idx(a, 1);
    if (!json_object_is_type(u, json_type_string) ||
        !(v == NULL || json_object_is_type(v, json_type_string)))
        return -1;
    if (!catalog_uuid_valid(json_object_get_string(u)))
        return -1;
    *is_null = v == NULL;
    *value = v ? gr_xstrdup(json_object_get_string(v)) : NULL;
    *uid = gr_xstrdup(json_object_get_string(u));
    return 0;
}

int catalog_cursor_decode(catalog_cursor_t *c, const char *text, gr_error_t *err)
{
    catalog_cursor_init(c);
    char *json = gr_base64_decode(text, strlen(text), NULL);
    struct json_object *o = json ? json_tokener_parse(json) : NULL;
    free(json);
    int bad = !json_object_is_type(o, json_type_object);
    struct json_object *v;
    if (!bad && json_object_object_get_ex(o, "filter", &v))
        bad = read_strings(v, &c->filter) != 0;
    if (!bad && json_object_object_get_ex(o, "orderField", &v)) {
        struct json_object *field, *order;
        bad = !json_object_object_get_ex(v, "field", &field) ||
              !json_object_is_type(field, json_type_string) ||
              !json_object_object_get_ex(v, "order", &order) ||
              !json_object_is_type(order, json_type_string);
        if (!bad) {
            c->order_field = gr_xstrdup(json_object_get_string(field));
            c->descending = strcmp(json_object_get_string(order), "desc") == 0;
        }
    }
    if (!bad && json_object_object_get_ex(o, "fullTextFilter", &v)) {
        struct json_object *term, *fields = NULL;
        bad = !json_object_object_get_ex(v, "term", &term) ||
              !json_object_is_type(term, json_type_string);
        if (!bad) {
            c->text_term = gr_xstrdup(json_object_get_string(term));
            json_object_object_get_ex(v, "fields", &fields);
            bad = read_strings(fields, &c->text_fields) != 0;
        }
    }
    if (!bad && json_object_object_get_ex(o, "position", &v)) {
        c->has_position = 1;
        bad = read_position(v, &c->last_null, &c->last_value, &c->last_uid) != 0;
    }
    if (!bad && json_object_object_get_ex(o, "first", &v)) {
        c->has_first = 1;
        bad = read_position(v, &c->first_null, &c->first_value, &c->first_uid) != 0;
    }
    if (!bad && json_object_object_get_ex(o, "isPrevious", &v))
        c->previous = json_object_get_boolean(v);
    if (!bad && json_object_object_get_ex(o, "totalItems", &v))
        c->total_items = json_object_get_int64(v);
    json_object_put(o);
    if (bad) {
        catalog_cursor_free(c);
        return gr_error_set(err, GR_ERR_INVALID, "Malformed cursor, could not be parsed");
    }
    return 0;
}
