/* modules/catalog-provider-central-config/mapping.c: rendering a mapping
 * rule's entity template for one item of a file that is not an entity
 * (see cc_mapping_t in central_config.h for the rules). */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central_config.h"

void cc_mapping_free(cc_mapping_t *m)
{
    gr_strvec_free(&m->include);
    free(m->items);
    if (m->entity)
        json_object_put(m->entity);
    *m = (cc_mapping_t){0};
}

typedef struct scope {
    struct json_object *item;
    const char *key;
    const char *file;
} scope_t;

/* The value an expression names: a new reference, or NULL when missing.
 * *is_null tells a JSON null apart from missing. */
static struct json_object *lookup(const scope_t *sc, const char *expr)
{
    if (strcmp(expr, "$key") == 0)
        return sc->key ? json_object_new_string(sc->key) : NULL;
    if (strcmp(expr, "$file") == 0)
        return sc->file ? json_object_new_string(sc->file) : NULL;
    struct json_object *cur = sc->item;
    if (strcmp(expr, "$value") != 0) {
        char *copy = gr_xstrdup(expr);
        for (char *save = NULL, *part = strtok_r(copy, ".", &save); part && cur;
             part = strtok_r(NULL, ".", &save)) {
            if (json_object_is_type(cur, json_type_object)) {
                if (!json_object_object_get_ex(cur, part, &cur))
                    cur = NULL;
            } else if (json_object_is_type(cur, json_type_array)) {
                char *end;
                long idx = strtol(part, &end, 10);
                cur = *end || idx < 0 ? NULL : json_object_array_get_idx(cur, (size_t)idx);
            } else {
                cur = NULL;
            }
        }
        free(copy);
    }
    if (!cur)
        return NULL;
    struct json_object *copy = NULL;
    json_object_deep_copy(cur, &copy, NULL);
    return copy;
}

/* Splits "path | default" (inside the braces, already trimmed). */
static struct json_object *evaluate(const scope_t *sc, const char *inner)
{
    char *expr = gr_xstrdup(inner);
    char *bar = strchr(expr, '|');
    char *dflt = NULL;
    if (bar) {
        *bar = '\0';
        dflt = bar + 1;
        while (isspace((unsigned char)*dflt))
            dflt++;
        size_t n = strlen(dflt);
        while (n && isspace((unsigned char)dflt[n - 1]))
            dflt[--n] = '\0';
        if (n >= 2 && (dflt[0] == '\'' || dflt[0] == '"') && dflt[n - 1] == dflt[0]) {
            dflt[n - 1] = '\0';
            dflt++;
        }
    }
    size_t n = strlen(expr);
    while (n && isspace((unsigned char)expr[n - 1]))
        expr[--n] = '\0';
    char *name = expr;
    while (isspace((unsigned char)*name))
        name++;
    struct json_object *v = lookup(sc, name);
    if ((!v || json_object_is_type(v, json_type_null)) && dflt) {
        json_object_put(v);
        v = json_object_new_string(dflt);
    }
    free(expr);
    return v;
}

static void append_text(gr_buf_t *b, struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_string: gr_buf_puts(b, json_object_get_string(v)); break;
    case json_type_int: gr_buf_printf(b, "%" PRId64, json_object_get_int64(v)); break;
    case json_type_boolean: gr_buf_puts(b, json_object_get_boolean(v) ? "true" : "false"); break;
    default: gr_buf_puts(b, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)); break;
    }
}

/* Sets *missing when the string names something missing. */
static struct json_object *render_string(const scope_t *sc, const char *s, int *missing)
{
    const char *open = strstr(s, "{{");
    if (!open)
        return json_object_new_string(s);
    const char *close = strstr(open + 2, "}}");
    /* The whole string is one expression: keep the value's type. */
    if (open == s && close && close[2] == '\0') {
        char *inner = gr_xstrndup(open + 2, (size_t)(close - open - 2));
        struct json_object *v = evaluate(sc, inner);
        free(inner);
        if (!v || json_object_is_type(v, json_type_null)) {
            json_object_put(v);
            *missing = 1;
            return NULL;
        }
        return v;
    }
    gr_buf_t b = {0};
    const char *p = s;
    while ((open = strstr(p, "{{")) && (close = strstr(open + 2, "}}"))) {
        gr_buf_append(&b, p, (size_t)(open - p));
        char *inner = gr_xstrndup(open + 2, (size_t)(close - open - 2));
        struct json_object *v = evaluate(sc, inner);
        free(inner);
        if (!v || json_object_is_type(v, json_type_null)) {
            json_object_put(v);
            gr_buf_free(&b);
            *missing = 1;
            return NULL;
        }
        append_text(&b, v);
        json_object_put(v);
        p = close + 2;
    }
    gr_buf_puts(&b, p);
    struct json_object *out = json_object_new_string(b.data ? b.data : "");
    gr_buf_free(&b);
    return out;
}

/* A new value, or NULL when it renders to nothing (left out by the caller). */
static struct json_object *render(const scope_t *sc, struct json_object *t)
{
    switch (json_object_get_type(t)) {
    case json_type_string: {
        int missing = 0;
        struct json_object *v = render_string(sc, json_object_get_string(t), &missing);
        return missing ? NULL : v;
    }
    case json_type_array: {
        struct json_object *out = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(t); i++) {
            struct json_object *v = render(sc, json_object_array_get_idx(t, i));
            if (v)
                json_object_array_add(out, v);
        }
        return out;
    }
    case json_type_object: {
        struct json_object *out = json_object_new_object();
        json_object_object_foreach(t, key, child)
        {
            struct json_object *v = render(sc, child);
            if (v)
                json_object_object_add(out, key, v);
        }
        return out;
    }
    default: {
        struct json_object *copy = NULL;
        json_object_deep_copy(t, &copy, NULL);
        return copy;
    }
    }
}

struct json_object *cc_mapping_render(const struct json_object *template_root,
                                      struct json_object *item, const char *key, const char *file,
                                      gr_error_t *err)
{
    scope_t sc = {item, key, file};
    struct json_object *out = render(&sc, (struct json_object *)template_root);
    if (!json_object_is_type(out, json_type_object)) {
        json_object_put(out);
        gr_error_set(err, GR_ERR_INVALID, "the mapping's entity template must be an object");
        return NULL;
    }
    return out;
}
