/* core/config_schema.c: checking a config section against a module's
 * gr_config_field_t table, and writing the table's defaults into the tree.
 *
 * Rules, in the order a module author meets them:
 *   - a key the table does not list is a problem, unless the table has a "*"
 *     entry, which then describes every unlisted key;
 *   - an OBJECT whose `fields` is NULL accepts any keys;
 *   - a missing or null key takes its default (parsed as YAML, so a DURATION
 *     default may be "{minutes: 5}"), else is a problem when REQUIRED;
 *   - a missing OBJECT whose fields have defaults and none REQUIRED is created,
 *     so a module reads "listen.port" even when the operator wrote no
 *     "listen" at all;
 *   - enum_values applies to the scalar text of any scalar type;
 *   - SECRET marks the value (and everything below it) secret.
 * Problems are collected, not stopped at, so an operator fixes them all in
 * one pass. */
#include <stdlib.h>
#include <string.h>

#include "api_impl.h"
#include "config_node.h"

typedef struct gr__check {
    gr_strvec_t *problems;
    size_t count;
} gr__check_t;

static void gr__push(gr__check_t *c, char *line)
{
    gr_strvec_push_owned(c->problems, line);
    c->count++;
}

static void gr__push_error(gr__check_t *c, const gr_error_t *err)
{
    gr__push(c, gr_xstrdup(err->message));
}

static void gr__expected(gr__check_t *c, const gr_config_t *node, const char *what)
{
    gr_buf_t b = {0};
    gr_config_node_prefix(node, &b);
    gr_buf_printf(&b, "expected %s, got ", what);
    gr_config_node_describe(node, &b);
    gr__push(c, gr_buf_steal(&b));
}

static void gr__mark_secret(gr_config_t *node)
{
    node->secret = 1;
    for (size_t i = 0; i < node->len; i++)
        gr__mark_secret(node->items[i]);
}

static void gr__check_map(gr__check_t *c, gr_config_t *map, const gr_config_field_t *fields);

static void gr__check_enum(gr__check_t *c, const gr_config_t *node, const gr_config_field_t *f)
{
    for (size_t i = 0; f->enum_values[i]; i++)
        if (strcmp(node->text, f->enum_values[i]) == 0)
            return;
    gr_buf_t b = {0};
    gr_config_node_prefix(node, &b);
    gr_buf_puts(&b, "must be one of ");
    for (size_t i = 0; f->enum_values[i]; i++)
        gr_buf_printf(&b, "%s'%s'", i ? ", " : "", f->enum_values[i]);
    gr_buf_printf(&b, "; got '%s'", node->text);
    gr__push(c, gr_buf_steal(&b));
}

static void gr__check(gr__check_t *c, gr_config_t *node, const gr_config_field_t *f)
{
    gr_error_t err;
    int ok = 1;
    if (f->flags & GR_CONFIG_SECRET)
        gr__mark_secret(node);
    switch (f->type) {
    case GR_CONFIG_ANY: break;
    case GR_CONFIG_STRING:
        if (node->kind != GR_NODE_SCALAR) {
            gr__expected(c, node, "a string");
            ok = 0;
        }
        break;
    case GR_CONFIG_INT: {
        int64_t v;
        ok = gr__config_to_int(node, &v, &err) == 0;
        break;
    }
    case GR_CONFIG_NUMBER: {
        double v;
        ok = gr__config_to_number(node, &v, &err) == 0;
        break;
    }
    case GR_CONFIG_BOOL: {
        int v;
        ok = gr__config_to_bool(node, &v, &err) == 0;
        break;
    }
    case GR_CONFIG_DURATION: {
        uint64_t v;
        ok = gr_config_node_duration_ms(node, &v, &err) == 0;
        break;
    }
    case GR_CONFIG_OBJECT:
        if (node->kind != GR_NODE_MAP) {
            gr__expected(c, node, "a map");
            return;
        }
        gr__check_map(c, node, f->fields);
        return;
    case GR_CONFIG_ARRAY:
        if (node->kind != GR_NODE_SEQ) {
            gr__expected(c, node, "a list");
            return;
        }
        if (f->items)
            for (size_t i = 0; i < node->len; i++)
                gr__check(c, node->items[i], f->items);
        return;
    }
    if (!ok && f->type != GR_CONFIG_STRING)
        gr__push_error(c, &err);
    if (ok && f->enum_values && node->kind == GR_NODE_SCALAR)
        gr__check_enum(c, node, f);
}

static const gr_config_field_t *gr__field(const gr_config_field_t *fields, const char *key)
{
    for (const gr_config_field_t *f = fields; f->key; f++)
        if (strcmp(f->key, key) == 0)
            return f;
    return NULL;
}

/* Whether a missing OBJECT should be created to carry its defaults. */
static int gr__worth_creating(const gr_config_field_t *fields)
{
    if (!fields)
        return 0;
    int defaults = 0;
    for (const gr_config_field_t *f = fields; f->key; f++) {
        if (f->flags & GR_CONFIG_REQUIRED)
            return 0;
        if (f->default_value || (f->type == GR_CONFIG_OBJECT && gr__worth_creating(f->fields)))
            defaults = 1;
    }
    return defaults;
}

static void gr__unknown(gr__check_t *c, const gr_config_t *node, const gr_config_field_t *fields)
{
    gr_buf_t b = {0};
    gr_config_node_key_prefix(node, &b);
    gr_buf_printf(&b, "unknown key '%s'", node->key);
    int first = 1;
    for (const gr_config_field_t *f = fields; f->key; f++) {
        gr_buf_printf(&b, "%s%s", first ? "; expected one of " : ", ", f->key);
        first = 0;
    }
    gr__push(c, gr_buf_steal(&b));
}

static void gr__missing(gr__check_t *c, const gr_config_t *map, const gr_config_t *null_node,
                        const char *key)
{
    /* A null value is reported where it is written; an absent key where its
     * parent map starts. */
    const gr_config_t *at = null_node ? null_node : map;
    gr_buf_t b = {0};
    gr_buf_printf(&b, "%s:%u:%u: ", at->file ? at->file : "<config>", at->line, at->col);
    size_t before = b.len;
    gr_config_node_path(map, &b);
    gr_buf_printf(&b, "%s%s: required key is %s", b.len > before ? "." : "", key,
                  null_node ? "empty" : "missing");
    gr__push(c, gr_buf_steal(&b));
}

static void gr__fill(gr__check_t *c, gr_config_t *map, const gr_config_field_t *f)
{
    long at = gr_config_node_index(map, f->key);
    gr_config_t *old = at >= 0 ? map->items[at] : NULL;
    if (old && old->kind != GR_NODE_NULL)
        return;
    gr_config_t *value = NULL;
    if (f->default_value) {
        value = gr_config_yaml_value(f->default_value, old ? old : map);
        if (!value) {
            gr_buf_t b = {0};
            gr_config_node_prefix(map, &b);
            gr_buf_printf(&b, "the schema's default for '%s' is not valid YAML: '%s'", f->key,
                          f->default_value);
            gr__push(c, gr_buf_steal(&b));
            return;
        }
    } else if (f->flags & GR_CONFIG_REQUIRED) {
        gr__missing(c, map, old, f->key);
        return;
    } else if (f->type == GR_CONFIG_OBJECT && gr__worth_creating(f->fields)) {
        const gr_config_t *where = old ? old : map;
        value = gr_config_node_new(GR_NODE_MAP, where->file, where->line, where->col);
    } else {
        return;
    }
    if (old) {
        gr_config_node_replace(map, (size_t)at, value);
    } else {
        value->key = gr_xstrdup(f->key);
        value->key_line = map->line;
        value->key_col = map->col;
        gr_config_node_append(map, value);
    }
    gr__check(c, value, f);
}

static void gr__check_map(gr__check_t *c, gr_config_t *map, const gr_config_field_t *fields)
{
    if (!fields)
        return;
    const gr_config_field_t *any = gr__field(fields, "*");
    /* Filling appends to the map, so check what the operator wrote first. */
    size_t written = map->len;
    for (size_t i = 0; i < written; i++) {
        gr_config_t *child = map->items[i];
        const gr_config_field_t *f = gr__field(fields, child->key);
        if (!f)
            f = any;
        if (!f)
            gr__unknown(c, child, fields);
        else if (child->kind != GR_NODE_NULL || f == any)
            gr__check(c, child, f);
    }
    for (const gr_config_field_t *f = fields; f->key; f++)
        if (strcmp(f->key, "*") != 0)
            gr__fill(c, map, f);
}

size_t gr_config_doc_validate(gr_config_doc_t *doc, const char *path,
                              const gr_config_field_t *schema, gr_strvec_t *problems)
{
    gr__check_t c = {.problems = problems};
    const gr_config_t *section = gr_config_doc_section(doc, path);
    if (!section) {
        /* A parent on the path is a scalar or a list: report the first one. */
        const gr_config_t *node = doc->root;
        const char *seg = path;
        for (;;) {
            const char *dot = strchr(seg, '.');
            char *key = gr_xstrndup(seg, dot ? (size_t)(dot - seg) : strlen(seg));
            const gr_config_t *next = gr_config_node_find(node, key);
            free(key);
            if (!next || next->kind != GR_NODE_MAP) {
                node = next ? next : node;
                break;
            }
            node = next;
            seg = dot + 1;
        }
        gr__expected(&c, node, "a map");
        return c.count;
    }
    /* Only this unit changes nodes after loading; the const is for modules. */
    gr__check_map(&c, (gr_config_t *)section, schema);
    return c.count;
}

int gr_config_doc_unknown_top_level(const gr_config_doc_t *doc, const char *const *known,
                                    gr_strvec_t *warnings)
{
    int count = 0;
    for (size_t i = 0; i < doc->root->len; i++) {
        const gr_config_t *n = doc->root->items[i];
        size_t k = 0;
        while (known && known[k] && strcmp(known[k], n->key) != 0)
            k++;
        if (known && known[k])
            continue;
        gr_strvec_pushf(warnings, "%s:%u:%u: unknown top-level key '%s'", n->file, n->key_line,
                        n->key_col, n->key);
        count++;
    }
    return count;
}
