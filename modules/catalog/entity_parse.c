/* modules/catalog/entity_parse.c: reading entity YAML files into json-c
 * objects with the position of every node.
 *
 * Backstage reads catalog files with the `yaml` package's
 * parseAllDocuments: YAML 1.2 core schema, every document on its own,
 * documents with errors reported and skipped, empty documents ignored.  We
 * do the same on libyaml's event API.  libyaml stops at the first syntax
 * error, so after one we start a fresh parser at the next document marker
 * ("---" or "...") at the start of a line after the error: the broken
 * document is reported and the ones after it still load.
 *
 * Unlike the `yaml` package we refuse merge keys (<<) instead of storing a
 * literal "<<" key that nobody meant; everything else an entity file holds
 * maps onto JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "catalog_internal.h"
#include "util.h"

/* Deeper nesting than this is a mistake or an attack, never an entity. */
#define CATALOG__MAX_DEPTH 200
/* Caps what aliases can expand a document to ("a billion laughs"). */
#define CATALOG__MAX_NODES 200000

typedef struct catalog__frame {
    struct json_object *node; /* borrowed: the tree under the root owns it */
    int is_map;
    char *key;         /* a map's key that waits for its value */
    size_t path_len;   /* length of this container's path in the path buffer */
    char *anchor;      /* registered once the container is complete */
    size_t nodes_at;   /* node count when the container started */
    size_t next_index; /* a list's next item index */
} catalog__frame_t;

typedef struct catalog__anchor {
    char *name;
    struct json_object *node; /* borrowed from the document tree */
    size_t nodes;             /* how many values a copy adds */
} catalog__anchor_t;

typedef struct catalog__yaml {
    catalog_file_t *file;
    const char *data; /* the whole file */
    size_t len;
    size_t chunk_off;   /* where the running libyaml parser started */
    uint32_t line_base; /* lines before chunk_off */
    yaml_parser_t y;

    /* The document being read. */
    uint32_t doc_index;
    int in_doc;
    int doc_failed;
    size_t doc_start_line; /* chunk-relative, 0-based */
    struct json_object *root;
    int root_done;
    size_t root_end_line; /* chunk-relative, 0-based */
    uint32_t root_line, root_column;
    catalog__frame_t *stack;
    size_t depth, stack_cap;
    catalog__anchor_t *anchors;
    size_t nanchors, anchors_cap;
    size_t nodes;
    gr_buf_t path;
    catalog_posmap_t *positions;
} catalog__yaml_t;

static uint32_t catalog__line(const catalog__yaml_t *p, yaml_mark_t m)
{
    return p->line_base + (uint32_t)m.line + 1;
}

static uint32_t catalog__col(yaml_mark_t m)
{
    return (uint32_t)m.column + 1;
}

/* ---- document state --------------------------------------------------------- */

static void catalog__doc_reset(catalog__yaml_t *p)
{
    for (size_t i = 0; i < p->depth; i++) {
        free(p->stack[i].key);
        free(p->stack[i].anchor);
    }
    p->depth = 0;
    for (size_t i = 0; i < p->nanchors; i++)
        free(p->anchors[i].name);
    p->nanchors = 0;
    json_object_put(p->root);
    p->root = NULL;
    p->root_done = 0;
    catalog__posmap_free(p->positions);
    p->positions = NULL;
    gr_buf_reset(&p->path);
    p->nodes = 0;
    p->in_doc = 0;
    p->doc_failed = 0;
}

static void catalog__doc_begin(catalog__yaml_t *p, yaml_mark_t start)
{
    catalog__doc_reset(p);
    p->in_doc = 1;
    p->doc_start_line = start.line;
    p->positions = catalog__posmap_new();
}

/* Records the document's one error and drops what was built of it; the
 * events up to its end are then read and ignored. */
__attribute__((format(printf, 3, 4))) static void
catalog__doc_fail(catalog__yaml_t *p, yaml_mark_t m, const char *fmt, ...)
{
    if (p->doc_failed)
        return;
    gr_buf_t b = {0};
    va_list ap;
    va_start(ap, fmt);
    gr_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    catalog__issues_add_at(&p->file->errors, "", catalog__line(p, m), catalog__col(m), "%s",
                           b.data);
    gr_buf_free(&b);
    catalog__doc_reset(p);
    p->in_doc = 1;
    p->doc_failed = 1;
}

/* Ends the document: a mapping becomes an entity, an empty or null document
 * is skipped as Backstage skips it, anything else is an error. */
static void catalog__doc_finish(catalog__yaml_t *p)
{
    if (!p->doc_failed && p->root) {
        if (json_object_is_type(p->root, json_type_object)) {
            catalog__file_add_doc(p->file, p->root, p->doc_index, p->root_line, p->root_column,
                                  p->positions);
            p->root = NULL;
            p->positions = NULL;
        } else {
            catalog__issues_add_at(&p->file->errors, "", p->root_line, p->root_column,
                                   "expected a mapping of keys to values at the document root, "
                                   "found %s",
                                   catalog__json_type_phrase(p->root));
        }
    }
    p->doc_index++;
    catalog__doc_reset(p);
}

/* The path of the innermost container, for messages ("the document root"
 * when there is none). */
static const char *catalog__where(catalog__yaml_t *p, char *buf, size_t size)
{
    size_t len = p->depth ? p->stack[p->depth - 1].path_len : 0;
    if (len == 0)
        return "the document root";
    snprintf(buf, size, "%.*s", (int)len, p->path.data);
    return buf;
}

/* ---- building nodes ----------------------------------------------------------- */

static int catalog__is_null_text(const char *s)
{
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

static int catalog__is_digits(const char *s, const char *digits)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!strchr(digits, *s))
            return 0;
    return 1;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int catalog__is_float_text(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    int mantissa_digits = 0;
    while (*s >= '0' && *s <= '9') {
        s++;
        mantissa_digits++;
    }
    if (*s == '.') {
        s++;
        int frac = 0;
        while (*s >= '0' && *s <= '9') {
            s++;
            frac++;
        }
        /* ".5" and "5." are numbers, "." is not. */
        if (!mantissa_digits && !frac)
            return 0;
    } else if (!mantissa_digits) {
        return 0;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

typedef enum {
    CATALOG__T_STR,
    CATALOG__T_NULL,
    CATALOG__T_BOOL,
    CATALOG__T_INT,
    CATALOG__T_FLOAT
} catalog__type_t;

/* Resolves a plain scalar by the YAML 1.2 core schema.  Sets *out to the
 * value (NULL for null) and returns its type. */
static catalog__type_t catalog__resolve_plain(const char *s, struct json_object **out)
{
    *out = NULL;
    if (catalog__is_null_text(s))
        return CATALOG__T_NULL;
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
        *out = json_object_new_boolean(1);
        return CATALOG__T_BOOL;
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
        *out = json_object_new_boolean(0);
        return CATALOG__T_BOOL;
    }
    const char *digits = (*s == '-' || *s == '+') ? s + 1 : s;
    int base = 0;
    const char *num = NULL;
    if (catalog__is_digits(digits, "0123456789")) {
        base = 10;
        num = s;
    } else if (strncmp(s, "0o", 2) == 0 && catalog__is_digits(s + 2, "01234567")) {
        base = 8;
        num = s + 2;
    } else if (strncmp(s, "0x", 2) == 0 && catalog__is_digits(s + 2, "0123456789abcdefABCDEF")) {
        base = 16;
        num = s + 2;
    }
    if (base) {
        errno = 0;
        long long v = strtoll(num, NULL, base);
        if (errno == ERANGE) {
            /* Too big for 64 bits: a JSON number loses the same precision
             * in JavaScript. */
            double d = base == 10 ? strtod(num, NULL) : (double)strtoull(num, NULL, base);
            *out = json_object_new_double(d);
            return CATALOG__T_FLOAT;
        }
        *out = json_object_new_int64(v);
        return CATALOG__T_INT;
    }
    if (catalog__is_float_text(s)) {
        *out = json_object_new_double(strtod(s, NULL));
        return CATALOG__T_FLOAT;
    }
    const char *inf = (*s == '-' || *s == '+') ? s + 1 : s;
    if (strcmp(inf, ".inf") == 0 || strcmp(inf, ".Inf") == 0 || strcmp(inf, ".INF") == 0 ||
        strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0) {
        /* JSON has no infinity or NaN; JSON.stringify, which Backstage
         * stores entities with, writes null. */
        return CATALOG__T_FLOAT;
    }
    *out = json_object_new_string(s);
    return CATALOG__T_STR;
}

/* Scalars: plain ones are resolved, quoted and block ones are strings, and
 * an explicit core tag (!!int, !!str, ...) is honoured when the text fits
 * it.  Any other tag leaves the text a string, as the `yaml` package does
 * with tags it does not know. */
static struct json_object *catalog__scalar(const yaml_event_t *ev)
{
    const char *text = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    struct json_object *v = NULL;
    if (!tag) {
        if (!plain)
            return json_object_new_string(text);
        catalog__resolve_plain(text, &v);
        return v;
    }
    static const struct {
        const char *tag;
        catalog__type_t type;
    } core[] = {
        {"tag:yaml.org,2002:null", CATALOG__T_NULL},
        {"tag:yaml.org,2002:bool", CATALOG__T_BOOL},
        {"tag:yaml.org,2002:int", CATALOG__T_INT},
        {"tag:yaml.org,2002:float", CATALOG__T_FLOAT},
    };
    for (size_t i = 0; i < sizeof core / sizeof core[0]; i++) {
        if (strcmp(tag, core[i].tag) != 0)
            continue;
        catalog__type_t t = catalog__resolve_plain(text, &v);
        if (t == core[i].type || (core[i].type == CATALOG__T_FLOAT && t == CATALOG__T_INT))
            return v;
        json_object_put(v);
        break;
    }
    return json_object_new_string(text);
}

/* Attaches a finished value (or a container that just started) to its
 * parent, or makes it the document root, and records its position.  For a
 * container the path buffer is left extended to the container's path. */
static void catalog__attach(catalog__yaml_t *p, struct json_object *node, yaml_mark_t at,
                            int keep_path)
{
    size_t parent_len = p->path.len;
    if (p->depth == 0) {
        p->root = node;
        p->root_line = catalog__line(p, at);
        p->root_column = catalog__col(at);
    } else {
        catalog__frame_t *top = &p->stack[p->depth - 1];
        if (p->path.len)
            gr_buf_append(&p->path, ".", 1);
        if (top->is_map) {
            gr_buf_puts(&p->path, top->key);
            json_object_object_add(top->node, top->key, node);
            free(top->key);
            top->key = NULL;
        } else {
            gr_buf_printf(&p->path, "%zu", top->next_index++);
            json_object_array_add(top->node, node);
        }
    }
    catalog__posmap_add(p->positions, p->path.data ? p->path.data : "", p->path.len,
                        catalog__line(p, at), catalog__col(at));
    if (!keep_path) {
        p->path.len = parent_len;
        if (p->path.data)
            p->path.data[parent_len] = '\0';
    }
}

static void catalog__anchor_add(catalog__yaml_t *p, const char *name, struct json_object *node,
                                size_t nodes)
{
    if (p->nanchors == p->anchors_cap) {
        p->anchors_cap = p->anchors_cap ? p->anchors_cap * 2 : 8;
        p->anchors = gr_xrealloc(p->anchors, p->anchors_cap * sizeof *p->anchors);
    }
    p->anchors[p->nanchors++] = (catalog__anchor_t){gr_xstrdup(name), node, nodes};
}

static int catalog__expecting_key(const catalog__yaml_t *p)
{
    return p->depth && p->stack[p->depth - 1].is_map && !p->stack[p->depth - 1].key;
}

static void catalog__root_check(catalog__yaml_t *p, yaml_mark_t end)
{
    if (p->depth == 0) {
        p->root_done = 1;
        p->root_end_line = end.line;
    }
}

static void catalog__on_key(catalog__yaml_t *p, const yaml_event_t *ev)
{
    char where[256];
    if (ev->type != YAML_SCALAR_EVENT) {
        catalog__doc_fail(p, ev->start_mark,
                          "a key in %s is %s; keys must be plain values such as names",
                          catalog__where(p, where, sizeof where),
                          ev->type == YAML_ALIAS_EVENT            ? "an alias"
                          : ev->type == YAML_SEQUENCE_START_EVENT ? "a list"
                                                                  : "a mapping");
        return;
    }
    const char *key = (const char *)ev->data.scalar.value;
    if (strlen(key) != ev->data.scalar.length) {
        catalog__doc_fail(p, ev->start_mark, "a key in %s contains a NUL character",
                          catalog__where(p, where, sizeof where));
        return;
    }
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strcmp(key, "<<") == 0) {
        catalog__doc_fail(p, ev->start_mark,
                          "merge keys (<<) are not supported in %s, as in Backstage; write the "
                          "keys out",
                          catalog__where(p, where, sizeof where));
        return;
    }
    catalog__frame_t *top = &p->stack[p->depth - 1];
    if (json_object_object_get_ex(top->node, key, NULL)) {
        catalog__doc_fail(p, ev->start_mark, "duplicate key '%s' in %s; keys must be unique", key,
                          catalog__where(p, where, sizeof where));
        return;
    }
    top->key = gr_xstrdup(key);
}

static int catalog__count_node(catalog__yaml_t *p, yaml_mark_t at, size_t n)
{
    if (p->nodes + n > CATALOG__MAX_NODES) {
        catalog__doc_fail(p, at,
                          "the document expands to more than %d values; aliases are nested too "
                          "deeply",
                          CATALOG__MAX_NODES);
        return -1;
    }
    p->nodes += n;
    return 0;
}

static void catalog__on_node(catalog__yaml_t *p, const yaml_event_t *ev)
{
    if (catalog__expecting_key(p) && ev->type != YAML_MAPPING_END_EVENT) {
        catalog__on_key(p, ev);
        return;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        if (strlen((const char *)ev->data.scalar.value) != ev->data.scalar.length) {
            catalog__doc_fail(p, ev->start_mark, "a value contains a NUL character");
            return;
        }
        if (catalog__count_node(p, ev->start_mark, 1))
            return;
        struct json_object *v = catalog__scalar(ev);
        catalog__attach(p, v, ev->start_mark, 0);
        if (ev->data.scalar.anchor)
            catalog__anchor_add(p, (const char *)ev->data.scalar.anchor, v, 1);
        catalog__root_check(p, ev->end_mark);
        return;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        if (p->depth >= CATALOG__MAX_DEPTH) {
            catalog__doc_fail(p, ev->start_mark, "values are nested more than %d levels deep",
                              CATALOG__MAX_DEPTH);
            return;
        }
        if (catalog__count_node(p, ev->start_mark, 1))
            return;
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        struct json_object *node = is_map ? json_object_new_object() : json_object_new_array();
        const yaml_char_t *anchor =
            is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
        catalog__attach(p, node, ev->start_mark, 1);
        if (p->depth == p->stack_cap) {
            p->stack_cap = p->stack_cap ? p->stack_cap * 2 : 16;
            p->stack = gr_xrealloc(p->stack, p->stack_cap * sizeof *p->stack);
        }
        p->stack[p->depth++] = (catalog__frame_t){
            .node = node,
            .is_map = is_map,
            .path_len = p->path.len,
            .anchor = anchor ? gr_xstrdup((const char *)anchor) : NULL,
            .nodes_at = p->nodes,
        };
        return;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: {
        catalog__frame_t *top = &p->stack[--p->depth];
        if (top->anchor) {
            /* Registered only now, so an alias inside its own anchor finds
             * nothing instead of copying itself forever. */
            catalog__anchor_add(p, top->anchor, top->node, p->nodes - top->nodes_at + 1);
            free(top->anchor);
        }
        free(top->key);
        size_t len = p->depth ? p->stack[p->depth - 1].path_len : 0;
        p->path.len = len;
        if (p->path.data)
            p->path.data[len] = '\0';
        catalog__root_check(p, ev->end_mark);
        return;
    }
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        const catalog__anchor_t *a = NULL;
        for (size_t i = p->nanchors; i-- > 0;) {
            if (strcmp(p->anchors[i].name, name) == 0) {
                a = &p->anchors[i];
                break;
            }
        }
        if (!a) {
            catalog__doc_fail(p, ev->start_mark,
                              "alias *%s refers to no complete anchor &%s before it in this "
                              "document",
                              name, name);
            return;
        }
        if (catalog__count_node(p, ev->start_mark, a->nodes))
            return;
        struct json_object *copy = NULL;
        if (a->node && json_object_deep_copy(a->node, &copy, NULL) != 0) {
            catalog__doc_fail(p, ev->start_mark, "alias *%s could not be copied", name);
            return;
        }
        catalog__attach(p, copy, ev->start_mark, 0);
        catalog__root_check(p, ev->end_mark);
        return;
    }
    default: return;
    }
}

/* ---- syntax errors and resuming --------------------------------------------- */

/* Offset of the start of a chunk-relative line, or the chunk length. */
static size_t catalog__line_offset(const char *s, size_t len, size_t line)
{
    size_t off = 0;
    while (line > 0 && off < len) {
        const char *nl = memchr(s + off, '\n', len - off);
        if (!nl)
            return len;
        off = (size_t)(nl - s) + 1;
        line--;
    }
    return off;
}

/* 1 for "---" and 2 for "..." at s, followed by a blank or the line's end. */
static int catalog__marker_at(const char *s, size_t avail)
{
    if (avail < 3)
        return 0;
    int kind = memcmp(s, "---", 3) == 0 ? 1 : memcmp(s, "...", 3) == 0 ? 2 : 0;
    if (!kind)
        return 0;
    if (avail == 3 || s[3] == ' ' || s[3] == '\t' || s[3] == '\n' || s[3] == '\r')
        return kind;
    return 0;
}

/* Whether a document marker line sits in chunk lines [from, to]. */
static int catalog__marker_between(const char *s, size_t len, size_t from, size_t to)
{
    size_t off = catalog__line_offset(s, len, from);
    for (size_t line = from; line <= to && off < len; line++) {
        if (catalog__marker_at(s + off, len - off))
            return 1;
        const char *nl = memchr(s + off, '\n', len - off);
        if (!nl)
            break;
        off = (size_t)(nl - s) + 1;
    }
    return 0;
}

/* Handles a libyaml error: keeps a document that was complete before the
 * error, reports the broken one, and returns the chunk-relative offset
 * where parsing resumes (the chunk's length when nothing is left).  The
 * offset is always past 0, so every restart makes progress. */
static size_t catalog__on_syntax_error(catalog__yaml_t *p, size_t *resume_line)
{
    const yaml_parser_t *y = &p->y;
    const char *s = p->data + p->chunk_off;
    size_t len = p->len - p->chunk_off;
    size_t err_line; /* chunk-relative, 0-based */
    uint32_t column;
    if (y->error == YAML_READER_ERROR) {
        size_t off = y->problem_offset < len ? y->problem_offset : len;
        err_line = 0;
        size_t line_start = 0;
        for (size_t i = 0; i < off; i++) {
            if (s[i] == '\n') {
                err_line++;
                line_start = i + 1;
            }
        }
        column = (uint32_t)(off - line_start) + 1;
    } else {
        err_line = y->problem_mark.line;
        column = (uint32_t)y->problem_mark.column + 1;
    }

    /* A document whose root was complete belongs in the catalog when a
     * document marker separates it from the error. */
    if (p->in_doc && !p->doc_failed && p->root_done &&
        catalog__marker_between(s, len, p->root_end_line + 1, err_line)) {
        catalog__doc_finish(p);
    }

    /* A marker on the error line starts the next document when the broken
     * one began above it (an unclosed "[" runs into the next "---"); when
     * the broken document starts on that line, resuming there would only
     * fail again. */
    size_t search_from = p->in_doc && p->doc_start_line < err_line ? err_line : err_line + 1;

    if (!p->doc_failed) {
        gr_buf_t b = {0};
        gr_buf_printf(&b, "YAML syntax error: %s", y->problem ? y->problem : "unknown problem");
        if (y->error == YAML_READER_ERROR && y->problem_value != -1)
            gr_buf_printf(&b, " (byte 0x%02x)", (unsigned)y->problem_value & 0xffu);
        if (y->context)
            gr_buf_printf(&b, " (%s that starts at line %u, column %u)", y->context,
                          catalog__line(p, y->context_mark), catalog__col(y->context_mark));
        catalog__issues_add_at(&p->file->errors, "", p->line_base + (uint32_t)err_line + 1, column,
                               "%s", b.data);
        gr_buf_free(&b);
    }
    p->doc_index++;
    catalog__doc_reset(p);

    size_t off = catalog__line_offset(s, len, search_from);
    size_t line = search_from;
    while (off < len) {
        int marker = catalog__marker_at(s + off, len - off);
        const char *nl = memchr(s + off, '\n', len - off);
        size_t next = nl ? (size_t)(nl - s) + 1 : len;
        if (marker == 1 && off > 0) {
            *resume_line = line;
            return off;
        }
        if (marker == 2 && next < len) {
            *resume_line = line + 1;
            return next;
        }
        off = next;
        line++;
    }
    *resume_line = line;
    return len;
}

/* ---- entry point ------------------------------------------------------------- */

int catalog_file_parse_yaml(catalog_file_t *out, const char *path, const char *data, size_t len)
{
    *out = (catalog_file_t){.path = gr_xstrdup(path)};
    catalog__yaml_t p = {.file = out, .data = data, .len = len};
    while (p.chunk_off < len || p.chunk_off == 0) {
        yaml_parser_initialize(&p.y);
        yaml_parser_set_input_string(&p.y, (const unsigned char *)data + p.chunk_off,
                                     len - p.chunk_off);
        int done = 0;
        while (!done) {
            yaml_event_t ev;
            if (!yaml_parser_parse(&p.y, &ev)) {
                size_t resume_line = 0;
                size_t off = catalog__on_syntax_error(&p, &resume_line);
                p.chunk_off += off;
                p.line_base += (uint32_t)resume_line;
                done = 2;
                break;
            }
            switch (ev.type) {
            case YAML_STREAM_END_EVENT: done = 1; break;
            case YAML_DOCUMENT_START_EVENT: catalog__doc_begin(&p, ev.start_mark); break;
            case YAML_DOCUMENT_END_EVENT: catalog__doc_finish(&p); break;
            case YAML_STREAM_START_EVENT: break;
            default:
                if (!p.doc_failed)
                    catalog__on_node(&p, &ev);
                break;
            }
            yaml_event_delete(&ev);
        }
        yaml_parser_delete(&p.y);
        if (done == 1 || p.chunk_off >= len)
            break;
    }
    catalog__doc_reset(&p);
    free(p.stack);
    free(p.anchors);
    gr_buf_free(&p.path);
    return out->errors.len ? GR_ERR_INVALID : 0;
}
