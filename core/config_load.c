/* core/config_load.c: reading config files into a tree with libyaml's event
 * API, and merging several files into one document.
 *
 * Each file must hold one YAML document whose top level is a map.  Aliases
 * (*name) are supported by copying the anchored node; merge keys (<<) are
 * refused, because Backstage's loader does not apply them either and a
 * silently literal "<<" key would be worse.  Duplicate keys in one map are an
 * error, as they are in Backstage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config_node.h"

/* Deeper nesting than this is a mistake or an attack, never a config. */
#define GR__MAX_DEPTH 200
/* Caps what aliases can expand to, so "a billion laughs" cannot exhaust memory. */
#define GR__MAX_NODES 500000

typedef struct gr__anchor {
    char *name;
    gr_config_t *node;
    int complete; /* an alias inside its own anchor would copy itself forever */
} gr__anchor_t;

typedef struct gr__parser {
    yaml_parser_t yaml;
    const char *file;
    gr__anchor_t *anchors;
    size_t nanchors, anchors_cap;
    size_t nodes;
    gr_buf_t path; /* key path of the node being read, for messages */
    gr_error_t *err;
} gr__parser_t;

static uint32_t gr__line(yaml_mark_t m)
{
    return (uint32_t)m.line + 1;
}
static uint32_t gr__col(yaml_mark_t m)
{
    return (uint32_t)m.column + 1;
}

__attribute__((format(printf, 3, 4))) static void gr__fail_at(gr__parser_t *p, yaml_mark_t m,
                                                              const char *fmt, ...)
{
    gr_buf_t b = {0};
    gr_buf_printf(&b, "%s:%u:%u: ", p->file, gr__line(m), gr__col(m));
    va_list ap;
    va_start(ap, fmt);
    gr_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    gr_error_set(p->err, GR_ERR_INVALID, "%s", b.data);
    gr_buf_free(&b);
}

static int gr__next(gr__parser_t *p, yaml_event_t *ev)
{
    if (yaml_parser_parse(&p->yaml, ev))
        return 0;
    const yaml_parser_t *y = &p->yaml;
    const char *problem = y->problem ? y->problem : "unknown problem";
    if (y->error == YAML_READER_ERROR) {
        gr_error_set(p->err, GR_ERR_INVALID, "%s: byte %zu: YAML syntax error: %s", p->file,
                     y->problem_offset, problem);
    } else if (y->context) {
        gr_error_set(p->err, GR_ERR_INVALID,
                     "%s:%u:%u: YAML syntax error: %s (%s that starts at %u:%u)", p->file,
                     gr__line(y->problem_mark), gr__col(y->problem_mark), problem, y->context,
                     gr__line(y->context_mark), gr__col(y->context_mark));
    } else {
        gr_error_set(p->err, GR_ERR_INVALID, "%s:%u:%u: YAML syntax error: %s", p->file,
                     gr__line(y->problem_mark), gr__col(y->problem_mark), problem);
    }
    return -1;
}

static gr__anchor_t *gr__anchor_add(gr__parser_t *p, const yaml_char_t *name, gr_config_t *node)
{
    if (p->nanchors == p->anchors_cap) {
        p->anchors_cap = p->anchors_cap ? p->anchors_cap * 2 : 8;
        p->anchors = gr_xrealloc(p->anchors, p->anchors_cap * sizeof *p->anchors);
    }
    gr__anchor_t *a = &p->anchors[p->nanchors++];
    a->name = gr_xstrdup((const char *)name);
    a->node = node;
    a->complete = 0;
    return a;
}

static size_t gr__count(const gr_config_t *n)
{
    size_t c = 1;
    for (size_t i = 0; i < n->len; i++)
        c += gr__count(n->items[i]);
    return c;
}

static int gr__is_null_text(const char *s)
{
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

static gr_config_t *gr__node(gr__parser_t *p, yaml_event_t *ev, unsigned depth);

static gr_config_t *gr__scalar(gr__parser_t *p, yaml_event_t *ev)
{
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (memchr(text, '\0', len)) {
        gr__fail_at(p, ev->start_mark, "a value contains a NUL character");
        return NULL;
    }
    int plain = ev->data.scalar.plain_implicit;
    gr_config_node_kind_t kind = plain && gr__is_null_text(text) ? GR_NODE_NULL : GR_NODE_SCALAR;
    gr_config_t *n =
        gr_config_node_new(kind, p->file, gr__line(ev->start_mark), gr__col(ev->start_mark));
    if (kind == GR_NODE_SCALAR) {
        n->text = gr_xstrndup(text, len);
        n->quoted = !plain;
    }
    if (ev->data.scalar.anchor)
        gr__anchor_add(p, ev->data.scalar.anchor, n)->complete = 1;
    return n;
}

static gr_config_t *gr__alias(gr__parser_t *p, yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    for (size_t i = p->nanchors; i-- > 0;) {
        gr__anchor_t *a = &p->anchors[i];
        if (strcmp(a->name, name) != 0)
            continue;
        if (!a->complete) {
            gr__fail_at(p, ev->start_mark, "alias '*%s' refers to a node that contains it", name);
            return NULL;
        }
        size_t n = gr__count(a->node);
        if (p->nodes + n > GR__MAX_NODES) {
            gr__fail_at(p, ev->start_mark,
                        "aliases expand to more than %d values; the file is too large to be "
                        "a config file",
                        GR__MAX_NODES);
            return NULL;
        }
        p->nodes += n;
        gr_config_t *copy = gr_config_node_copy(a->node);
        free(copy->key);
        copy->key = NULL;
        copy->key_line = copy->key_col = 0;
        return copy;
    }
    gr__fail_at(p, ev->start_mark, "alias '*%s' names no anchor defined before it", name);
    return NULL;
}

static gr_config_t *gr__sequence(gr__parser_t *p, yaml_event_t *start, unsigned depth)
{
    gr_config_t *seq = gr_config_node_new(GR_NODE_SEQ, p->file, gr__line(start->start_mark),
                                          gr__col(start->start_mark));
    gr__anchor_t *anchor = NULL;
    size_t anchor_index = 0;
    if (start->data.sequence_start.anchor) {
        anchor = gr__anchor_add(p, start->data.sequence_start.anchor, seq);
        anchor_index = p->nanchors - 1;
    }
    for (;;) {
        yaml_event_t ev;
        if (gr__next(p, &ev) < 0)
            goto fail;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        size_t saved = p->path.len;
        gr_buf_printf(&p->path, "[%zu]", seq->len);
        gr_config_t *item = gr__node(p, &ev, depth + 1);
        p->path.len = saved;
        p->path.data[saved] = '\0';
        if (!item)
            goto fail;
        gr_config_node_append(seq, item);
    }
    /* The anchor table may have grown (and moved) while reading items. */
    if (anchor)
        p->anchors[anchor_index].complete = 1;
    return seq;
fail:
    gr_config_node_free(seq);
    return NULL;
}

static gr_config_t *gr__mapping(gr__parser_t *p, yaml_event_t *start, unsigned depth)
{
    gr_config_t *map = gr_config_node_new(GR_NODE_MAP, p->file, gr__line(start->start_mark),
                                          gr__col(start->start_mark));
    size_t anchor_index = 0;
    int anchored = start->data.mapping_start.anchor != NULL;
    if (anchored) {
        gr__anchor_add(p, start->data.mapping_start.anchor, map);
        anchor_index = p->nanchors - 1;
    }
    for (;;) {
        yaml_event_t kev;
        if (gr__next(p, &kev) < 0)
            goto fail;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            break;
        }
        if (kev.type != YAML_SCALAR_EVENT) {
            gr__fail_at(p, kev.start_mark, "a map key must be a plain value, not %s",
                        kev.type == YAML_ALIAS_EVENT ? "an alias" : "a map or a list");
            yaml_event_delete(&kev);
            goto fail;
        }
        const char *key = (const char *)kev.data.scalar.value;
        if (kev.data.scalar.plain_implicit && strcmp(key, "<<") == 0) {
            gr__fail_at(p, kev.start_mark,
                        "merge keys ('<<') are not supported; repeat the keys, or use an "
                        "alias as the whole value");
            yaml_event_delete(&kev);
            goto fail;
        }
        if (memchr(key, '\0', kev.data.scalar.length)) {
            gr__fail_at(p, kev.start_mark, "a key contains a NUL character");
            yaml_event_delete(&kev);
            goto fail;
        }
        gr_config_t *first = gr_config_node_find(map, key);
        if (first) {
            gr__fail_at(p, kev.start_mark, "%s%sduplicate key '%s' (first set at line %u)",
                        p->path.len ? p->path.data : "", p->path.len ? ": " : "", key,
                        first->key_line);
            yaml_event_delete(&kev);
            goto fail;
        }
        char *key_copy = gr_xstrdup(key);
        uint32_t kline = gr__line(kev.start_mark), kcol = gr__col(kev.start_mark);
        yaml_event_delete(&kev);

        yaml_event_t vev;
        if (gr__next(p, &vev) < 0) {
            free(key_copy);
            goto fail;
        }
        size_t saved = p->path.len;
        gr_buf_printf(&p->path, "%s%s", saved ? "." : "", key_copy);
        gr_config_t *value = gr__node(p, &vev, depth + 1);
        p->path.len = saved;
        if (p->path.data)
            p->path.data[saved] = '\0';
        if (!value) {
            free(key_copy);
            goto fail;
        }
        free(value->key);
        value->key = key_copy;
        value->key_line = kline;
        value->key_col = kcol;
        gr_config_node_append(map, value);
    }
    if (anchored)
        p->anchors[anchor_index].complete = 1;
    return map;
fail:
    gr_config_node_free(map);
    return NULL;
}

/* Builds the node that starts with `ev` and deletes the event. */
static gr_config_t *gr__node(gr__parser_t *p, yaml_event_t *ev, unsigned depth)
{
    gr_config_t *n = NULL;
    if (depth > GR__MAX_DEPTH) {
        gr__fail_at(p, ev->start_mark, "values are nested more than %d levels deep", GR__MAX_DEPTH);
    } else if (++p->nodes > GR__MAX_NODES) {
        gr__fail_at(p, ev->start_mark, "more than %d values; too large to be a config file",
                    GR__MAX_NODES);
    } else {
        switch (ev->type) {
        case YAML_SCALAR_EVENT: n = gr__scalar(p, ev); break;
        case YAML_ALIAS_EVENT: n = gr__alias(p, ev); break;
        case YAML_SEQUENCE_START_EVENT: n = gr__sequence(p, ev, depth); break;
        case YAML_MAPPING_START_EVENT: n = gr__mapping(p, ev, depth); break;
        default: gr__fail_at(p, ev->start_mark, "unexpected YAML event %d", (int)ev->type);
        }
    }
    yaml_event_delete(ev);
    return n;
}

/* Reads the stream's one document.  *out is NULL for an empty stream. */
static int gr__stream(gr__parser_t *p, gr_config_t **out)
{
    yaml_event_t ev;
    *out = NULL;
    if (gr__next(p, &ev) < 0)
        return -1;
    yaml_event_delete(&ev); /* STREAM-START */
    if (gr__next(p, &ev) < 0)
        return -1;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        return 0;
    }
    yaml_event_delete(&ev); /* DOCUMENT-START */
    if (gr__next(p, &ev) < 0)
        return -1;
    gr_config_t *root = gr__node(p, &ev, 0);
    if (!root)
        return -1;
    if (gr__next(p, &ev) < 0)
        goto fail;
    yaml_event_delete(&ev); /* DOCUMENT-END */
    if (gr__next(p, &ev) < 0)
        goto fail;
    if (ev.type == YAML_DOCUMENT_START_EVENT) {
        gr__fail_at(p, ev.start_mark,
                    "a second YAML document starts here; a config file holds one document "
                    "(give each document its own file, or remove the '---')");
        yaml_event_delete(&ev);
        goto fail;
    }
    yaml_event_delete(&ev);
    *out = root;
    return 0;
fail:
    gr_config_node_free(root);
    return -1;
}

static gr_config_t *gr__parse(const char *file, const char *text, size_t len, gr_error_t *err)
{
    gr__parser_t p = {.file = file, .err = err};
    if (!yaml_parser_initialize(&p.yaml)) {
        gr_error_set(err, GR_ERR_NOMEM, "%s: cannot initialise the YAML parser", file);
        return NULL;
    }
    yaml_parser_set_input_string(&p.yaml, (const unsigned char *)text, len);
    gr_config_t *root = NULL;
    int rc = gr__stream(&p, &root);
    yaml_parser_delete(&p.yaml);
    for (size_t i = 0; i < p.nanchors; i++)
        free(p.anchors[i].name);
    free(p.anchors);
    gr_buf_free(&p.path);
    if (rc < 0)
        return NULL;
    if (!root)
        root = gr_config_node_new(GR_NODE_NULL, file, 1, 1);
    return root;
}

gr_config_t *gr_config_yaml_parse(gr_config_doc_t *doc, const char *name, const char *text,
                                  size_t len, gr_error_t *err)
{
    const char *file = gr_config_doc_file(doc, name);
    gr_config_t *root = gr__parse(file, text, len, err);
    if (!root)
        return NULL;
    if (root->kind == GR_NODE_NULL) {
        /* An empty file (or one holding only comments) configures nothing. */
        root->kind = GR_NODE_MAP;
    } else if (root->kind != GR_NODE_MAP) {
        gr_buf_t got = {0};
        gr_config_node_describe(root, &got);
        gr_error_set(err, GR_ERR_INVALID,
                     "%s:%u:%u: the top level of a config file must be a map of keys, got %s", file,
                     root->line, root->col, got.data);
        gr_buf_free(&got);
        gr_config_node_free(root);
        return NULL;
    }
    return root;
}

static void gr__place(gr_config_t *n, const gr_config_t *where)
{
    n->file = where->file;
    n->line = where->line;
    n->col = where->col;
    for (size_t i = 0; i < n->len; i++) {
        n->items[i]->key_line = where->line;
        n->items[i]->key_col = where->col;
        gr__place(n->items[i], where);
    }
}

gr_config_t *gr_config_yaml_value(const char *text, const gr_config_t *where)
{
    gr_config_t *n;
    if (!*text) {
        /* An empty default means the empty string, not null. */
        n = gr_config_node_new(GR_NODE_SCALAR, NULL, 0, 0);
        n->text = gr_xstrdup("");
        n->quoted = 1;
    } else {
        gr_error_t err;
        n = gr__parse("<schema default>", text, strlen(text), &err);
        if (!n)
            return NULL;
    }
    gr__place(n, where);
    return n;
}

/* Merges `over` into `base` (both maps) and empties `over`: keys of `over`
 * win; where both hold a map the two merge key by key, anything else is
 * replaced whole, keeping the position of the file that supplied it. */
static void gr__merge(gr_config_t *base, gr_config_t *over)
{
    for (size_t i = 0; i < over->len; i++) {
        gr_config_t *child = over->items[i];
        child->parent = NULL;
        long at = gr_config_node_index(base, child->key);
        if (at < 0) {
            gr_config_node_append(base, child);
            continue;
        }
        gr_config_t *old = base->items[at];
        if (old->kind == GR_NODE_MAP && child->kind == GR_NODE_MAP &&
            !gr_config_node_is_directive(old) && !gr_config_node_is_directive(child)) {
            gr__merge(old, child);
            gr_config_node_free(child);
        } else {
            gr_config_node_replace(base, (size_t)at, child);
        }
    }
    over->len = 0;
}

static char *gr__read_file(const char *path, size_t *len, gr_error_t *err)
{
    char *text;
    int os_error;
    if (gr_file_read(path, 0, &text, len, &os_error) != 0) {
        gr_error_set(err, GR_ERR_IO, "cannot read config file '%s': %s", path, strerror(os_error));
        return NULL;
    }
    return text;
}

gr_config_doc_t *gr_config_doc_load(const char *const *paths, size_t count, gr_error_t *err)
{
    gr_config_doc_t *doc = gr_config_doc_new();
    for (size_t i = 0; i < count; i++) {
        size_t len = 0;
        char *text = gr__read_file(paths[i], &len, err);
        if (!text)
            goto fail;
        gr_config_t *root = gr_config_yaml_parse(doc, paths[i], text, len, err);
        free(text);
        if (!root)
            goto fail;
        if (!doc->root) {
            doc->root = root;
        } else {
            gr__merge(doc->root, root);
            gr_config_node_free(root);
        }
    }
    if (!doc->root)
        doc->root = gr_config_node_new(GR_NODE_MAP, gr_config_doc_file(doc, "<no config>"), 1, 1);
    if (gr_config_subst(doc->root, err) < 0)
        goto fail;
    return doc;
fail:
    gr_config_doc_free(doc);
    return NULL;
}

gr_config_doc_t *gr_config_doc_parse(const char *name, const char *text, size_t len,
                                     gr_error_t *err)
{
    gr_config_doc_t *doc = gr_config_doc_new();
    doc->root = gr_config_yaml_parse(doc, name, text, len, err);
    if (!doc->root || gr_config_subst(doc->root, err) < 0) {
        gr_config_doc_free(doc);
        return NULL;
    }
    return doc;
}
