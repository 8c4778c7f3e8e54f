/* core/config_node.h: the node and document types shared by the config_*.c
 * units.  Nothing outside the config subsystem includes this header; the
 * rest of the host uses config_tree.h, and modules use greenroom/config.h.
 *
 * A document owns its root node and the names of the files it read; every
 * node owns its key, its scalar text and its children, and points (borrowed)
 * at the file name it came from. */
#ifndef GR_CORE_CONFIG_NODE_H
#define GR_CORE_CONFIG_NODE_H

#include <stdint.h>

#include "config_tree.h"

typedef enum gr_config_node_kind {
    GR_NODE_NULL = 0, /* `key:`, `~` or `null`: reads as missing */
    GR_NODE_SCALAR,
    GR_NODE_MAP,
    GR_NODE_SEQ
} gr_config_node_kind_t;

struct gr_config {
    /* First, so the SDK's inline functions find the host table (types.h). */
    const gr_host_api_t *api;
    gr_config_node_kind_t kind;
    char *key;                  /* the key in the parent map; NULL for list items and the root */
    char *text;                 /* SCALAR only */
    const char *file;           /* owned by the document */
    uint32_t line, col;         /* 1-based position of the value */
    uint32_t key_line, key_col; /* 1-based position of the key (map entries) */
    struct gr_config *parent;
    struct gr_config **items; /* MAP and SEQ children, in document order */
    size_t len, cap;
    unsigned secret : 1; /* read through $env/$file, or marked by a schema */
    unsigned quoted : 1; /* written quoted or tagged: "true" stays a string on output */
};

struct gr_config_doc {
    gr_config_t *root;
    gr_strvec_t files; /* every file name a node points at */
};

/* A node of `kind` at file:line:col, with no key and no children. */
gr_config_t *gr_config_node_new(gr_config_node_kind_t kind, const char *file, uint32_t line,
                                uint32_t col);
/* Frees the node and everything below it.  Does not unlink it from its parent. */
void gr_config_node_free(gr_config_t *node);
/* A deep copy (positions included) with no parent. */
gr_config_t *gr_config_node_copy(const gr_config_t *node);
/* Turns the node into an empty node of `kind`, freeing its text and children
 * but keeping its key, position and parent. */
void gr_config_node_reset(gr_config_t *node, gr_config_node_kind_t kind);

/* Appends child (which must have no parent) to a map or list. */
void gr_config_node_append(gr_config_t *parent, gr_config_t *child);
/* Puts `child` in place of parent->items[index] and frees the old entry.  A
 * child without a key takes the old entry's key and key position. */
void gr_config_node_replace(gr_config_t *parent, size_t index, gr_config_t *child);
/* The index of `key` in a map, or -1. */
long gr_config_node_index(const gr_config_t *map, const char *key);
gr_config_t *gr_config_node_find(const gr_config_t *map, const char *key);

/* The key path from the root: "backend.listen.port", "modules[2].name";
 * the root's path is empty. */
void gr_config_node_path(const gr_config_t *node, gr_buf_t *out);
/* "file:line:col: key.path: " (or "file:line:col: " for the root), the
 * prefix of every message about a node. */
void gr_config_node_prefix(const gr_config_t *node, gr_buf_t *out);
/* As gr_config_node_prefix, at the node's key rather than its value. */
void gr_config_node_key_prefix(const gr_config_t *node, gr_buf_t *out);
/* Fills err with the node's prefix followed by the message; returns code. */
__attribute__((format(printf, 4, 5))) int
gr_config_node_fail(gr_error_t *err, int code, const gr_config_t *node, const char *fmt, ...);
/* As gr_config_node_fail, at the node's key: for a key that should not be there. */
__attribute__((format(printf, 4, 5))) int
gr_config_node_key_fail(gr_error_t *err, int code, const gr_config_t *node, const char *fmt, ...);
/* "a map", "a list", "null" or "'text'" (text shortened), for "got ..." in messages. */
void gr_config_node_describe(const gr_config_t *node, gr_buf_t *out);

/* True when a key's name says its value is secret (password, token, ...). */
int gr_config_key_is_secret(const char *key);

/* A map or list entry whose key starts with "$" and asks for a substitution
 * ({$env: NAME}, {$file: path}).  Such a map is one value, not a section:
 * merging replaces it whole. */
int gr_config_node_is_directive(const gr_config_t *node);

/* Keeps a copy of `name` in the document and returns it (for node->file). */
const char *gr_config_doc_file(gr_config_doc_t *doc, const char *name);
gr_config_doc_t *gr_config_doc_new(void);

/* config_load.c: parses one YAML text into a tree whose root is a map.
 * Returns NULL and fills err on a syntax error, a duplicate key, a second
 * document, or a root that is not a map. */
gr_config_t *gr_config_yaml_parse(gr_config_doc_t *doc, const char *name, const char *text,
                                  size_t len, gr_error_t *err);
/* Parses a schema default ("7007", "{minutes: 5}") into a detached node
 * placed at the position of `where`.  NULL when the text is not YAML. */
gr_config_t *gr_config_yaml_value(const char *text, const gr_config_t *where);

/* config_subst.c: resolves ${VAR}, $${VAR}, {$env: NAME} and {$file: path}
 * everywhere below node.  Stops at, and reports, the first error. */
int gr_config_subst(gr_config_t *node, gr_error_t *err);

/* config_duration.c: the duration forms of greenroom/config.h. */
int gr_config_node_duration_ms(const gr_config_t *node, uint64_t *out, gr_error_t *err);

#endif
