/* core/config_node.c: the config tree's nodes and the document that owns
 * them: building, copying, finding by key, naming a node in messages, and the
 * document-level accessors of config_tree.h (root, section, free). */
#include "config_node.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_impl.h"

gr_config_t *gr_config_node_new(gr_config_node_kind_t kind, const char *file, uint32_t line,
                                uint32_t col)
{
    gr_config_t *n = gr_xcalloc(1, sizeof *n);
    n->api = &gr__host_api;
    n->kind = kind;
    n->file = file;
    n->line = line;
    n->col = col;
    return n;
}

static void gr__node_free_contents(gr_config_t *node)
{
    for (size_t i = 0; i < node->len; i++)
        gr_config_node_free(node->items[i]);
    free(node->items);
    free(node->text);
    node->items = NULL;
    node->len = node->cap = 0;
    node->text = NULL;
}

void gr_config_node_free(gr_config_t *node)
{
    if (!node)
        return;
    gr__node_free_contents(node);
    free(node->key);
    free(node);
}

void gr_config_node_reset(gr_config_t *node, gr_config_node_kind_t kind)
{
    gr__node_free_contents(node);
    node->kind = kind;
    node->quoted = 0;
}

gr_config_t *gr_config_node_copy(const gr_config_t *node)
{
    gr_config_t *c = gr_config_node_new(node->kind, node->file, node->line, node->col);
    c->key = node->key ? gr_xstrdup(node->key) : NULL;
    c->text = node->text ? gr_xstrdup(node->text) : NULL;
    c->key_line = node->key_line;
    c->key_col = node->key_col;
    c->secret = node->secret;
    c->quoted = node->quoted;
    for (size_t i = 0; i < node->len; i++)
        gr_config_node_append(c, gr_config_node_copy(node->items[i]));
    return c;
}

void gr_config_node_append(gr_config_t *parent, gr_config_t *child)
{
    if (parent->len == parent->cap) {
        parent->cap = parent->cap ? parent->cap * 2 : 4;
        parent->items = gr_xrealloc(parent->items, parent->cap * sizeof *parent->items);
    }
    parent->items[parent->len++] = child;
    child->parent = parent;
}

void gr_config_node_replace(gr_config_t *parent, size_t index, gr_config_t *child)
{
    gr_config_t *old = parent->items[index];
    if (!child->key) {
        child->key = old->key;
        child->key_line = old->key_line;
        child->key_col = old->key_col;
        old->key = NULL;
    }
    gr_config_node_free(old);
    parent->items[index] = child;
    child->parent = parent;
}

long gr_config_node_index(const gr_config_t *map, const char *key)
{
    if (!map || map->kind != GR_NODE_MAP)
        return -1;
    for (size_t i = 0; i < map->len; i++)
        if (strcmp(map->items[i]->key, key) == 0)
            return (long)i;
    return -1;
}

gr_config_t *gr_config_node_find(const gr_config_t *map, const char *key)
{
    long i = gr_config_node_index(map, key);
    return i < 0 ? NULL : map->items[i];
}

void gr_config_node_path(const gr_config_t *node, gr_buf_t *out)
{
    if (!node || !node->parent)
        return;
    gr_config_node_path(node->parent, out);
    if (node->parent->kind == GR_NODE_SEQ) {
        size_t i = 0;
        while (i < node->parent->len && node->parent->items[i] != node)
            i++;
        gr_buf_printf(out, "[%zu]", i);
    } else {
        if (node->parent->parent)
            gr_buf_puts(out, ".");
        gr_buf_puts(out, node->key ? node->key : "");
    }
}

static void gr__prefix(const gr_config_t *node, uint32_t line, uint32_t col, gr_buf_t *out)
{
    gr_buf_printf(out, "%s:%u:%u: ", node->file ? node->file : "<config>", line, col);
    size_t before = out->len;
    gr_config_node_path(node, out);
    if (out->len > before)
        gr_buf_puts(out, ": ");
}

void gr_config_node_prefix(const gr_config_t *node, gr_buf_t *out)
{
    gr__prefix(node, node->line, node->col, out);
}

void gr_config_node_key_prefix(const gr_config_t *node, gr_buf_t *out)
{
    if (node->key_line)
        gr__prefix(node, node->key_line, node->key_col, out);
    else
        gr__prefix(node, node->line, node->col, out);
}

static void gr__fail(gr_error_t *err, int code, const gr_config_t *node, int at_key,
                     const char *fmt, va_list ap)
{
    gr_buf_t b = {0};
    if (at_key)
        gr_config_node_key_prefix(node, &b);
    else
        gr_config_node_prefix(node, &b);
    gr_buf_vprintf(&b, fmt, ap);
    gr_error_set(err, code, "%s", b.data);
    gr_buf_free(&b);
}

int gr_config_node_fail(gr_error_t *err, int code, const gr_config_t *node, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    gr__fail(err, code, node, 0, fmt, ap);
    va_end(ap);
    return code;
}

int gr_config_node_key_fail(gr_error_t *err, int code, const gr_config_t *node, const char *fmt,
                            ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    gr__fail(err, code, node, 1, fmt, ap);
    va_end(ap);
    return code;
}

void gr_config_node_describe(const gr_config_t *node, gr_buf_t *out)
{
    switch (node ? node->kind : GR_NODE_NULL) {
    case GR_NODE_NULL: gr_buf_puts(out, "null"); break;
    case GR_NODE_MAP: gr_buf_puts(out, "a map"); break;
    case GR_NODE_SEQ: gr_buf_puts(out, "a list"); break;
    case GR_NODE_SCALAR: {
        /* Long values (a pasted key) would drown the message. */
        size_t n = strlen(node->text);
        if (n > 60)
            gr_buf_printf(out, "'%.57s...'", node->text);
        else
            gr_buf_printf(out, "'%s'", node->text);
        break;
    }
    }
}

int gr_config_key_is_secret(const char *key)
{
    static const char *const names[] = {"password",     "token",         "secret", "privateKey",
                                        "clientSecret", "webhookSecret", "apiKey", NULL};
    if (!key)
        return 0;
    for (size_t i = 0; names[i]; i++)
        if (strcasecmp(key, names[i]) == 0)
            return 1;
    return 0;
}

int gr_config_node_is_directive(const gr_config_t *node)
{
    if (!node || node->kind != GR_NODE_MAP)
        return 0;
    for (size_t i = 0; i < node->len; i++) {
        const char *k = node->items[i]->key;
        if (strcmp(k, "$env") == 0 || strcmp(k, "$file") == 0 || strcmp(k, "$include") == 0 ||
            strcmp(k, "$value") == 0)
            return 1;
    }
    return 0;
}

gr_config_doc_t *gr_config_doc_new(void)
{
    return gr_xcalloc(1, sizeof(gr_config_doc_t));
}

const char *gr_config_doc_file(gr_config_doc_t *doc, const char *name)
{
    for (size_t i = 0; i < doc->files.len; i++)
        if (strcmp(doc->files.items[i], name) == 0)
            return doc->files.items[i];
    gr_strvec_push(&doc->files, name);
    return doc->files.items[doc->files.len - 1];
}

void gr_config_doc_free(gr_config_doc_t *doc)
{
    if (!doc)
        return;
    gr_config_node_free(doc->root);
    gr_strvec_free(&doc->files);
    free(doc);
}

const gr_config_t *gr_config_doc_root(const gr_config_doc_t *doc)
{
    return doc->root;
}

const gr_config_t *gr_config_doc_section(gr_config_doc_t *doc, const char *path)
{
    gr_config_t *node = doc->root;
    if (!path || !*path)
        return node;
    const char *seg = path;
    for (;;) {
        const char *dot = strchr(seg, '.');
        size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
        char *key = gr_xstrndup(seg, n);
        gr_config_t *child = gr_config_node_find(node, key);
        if (!child) {
            /* A created section sits where its nearest existing parent is,
             * so a "required key is missing" below it names a real file. */
            child = gr_config_node_new(GR_NODE_MAP, node->file, node->line, node->col);
            child->key = key;
            child->key_line = node->line;
            child->key_col = node->col;
            gr_config_node_append(node, child);
        } else {
            free(key);
            if (child->kind == GR_NODE_NULL)
                gr_config_node_reset(child, GR_NODE_MAP);
            else if (child->kind != GR_NODE_MAP)
                return NULL;
        }
        node = child;
        if (!dot)
            return node;
        seg = dot + 1;
    }
}
