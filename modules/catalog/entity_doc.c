/* modules/catalog/entity_doc.c: the containers the parsers fill (files,
 * documents, position maps, issues) and turning an issue into the
 * "file:line:col: reason" sentence users see. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog_internal.h"
#include "util.h"

/* Catalog files are a few kilobytes; anything this large is a mistake, and
 * reading it whole would only waste memory. */
#define CATALOG__MAX_FILE_BYTES (64u * 1024u * 1024u)

/* ---- issues ---------------------------------------------------------------- */

static void catalog__issues_vadd(catalog_issues_t *issues, const char *path, uint32_t line,
                                 uint32_t column, const char *fmt, va_list ap)
{
    if (issues->len == issues->cap) {
        issues->cap = issues->cap ? issues->cap * 2 : 4;
        issues->items = gr_xrealloc(issues->items, issues->cap * sizeof *issues->items);
    }
    gr_buf_t b = {0};
    gr_buf_vprintf(&b, fmt, ap);
    issues->items[issues->len++] = (catalog_issue_t){
        .path = gr_xstrdup(path ? path : ""),
        .message = gr_buf_steal(&b),
        .line = line,
        .column = column,
    };
}

void catalog_issues_add(catalog_issues_t *issues, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    catalog__issues_vadd(issues, path, 0, 0, fmt, ap);
    va_end(ap);
}

void catalog__issues_add_at(catalog_issues_t *issues, const char *path, uint32_t line,
                            uint32_t column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    catalog__issues_vadd(issues, path, line, column, fmt, ap);
    va_end(ap);
}

void catalog_issues_free(catalog_issues_t *issues)
{
    for (size_t i = 0; i < issues->len; i++) {
        free(issues->items[i].path);
        free(issues->items[i].message);
    }
    free(issues->items);
    *issues = (catalog_issues_t){0};
}

char *catalog_issue_format(const char *file, const catalog_issue_t *issue)
{
    if (issue->line)
        return gr_xasprintf("%s:%u:%u: %s", file, issue->line, issue->column, issue->message);
    return gr_xasprintf("%s: %s", file, issue->message);
}

const char *catalog__json_type_phrase(struct json_object *value)
{
    switch (json_object_get_type(value)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_int:
    case json_type_double: return "a number";
    case json_type_string: return "a string";
    case json_type_array: return "a list";
    case json_type_object: return "a mapping";
    }
    return "a value";
}

/* ---- position maps --------------------------------------------------------- */

/* Paths live back to back in one buffer, so a document with a hundred nodes
 * costs two allocations, not a hundred. */
typedef struct catalog__pos {
    size_t path_off;
    uint32_t line;
    uint32_t column;
} catalog__pos_t;

struct catalog_posmap {
    gr_buf_t paths;
    catalog__pos_t *items;
    size_t len;
    size_t cap;
    /* A hash index over the paths, so locating every node of a document
     * with thousands of them stays linear overall.  Slots hold item number
     * + 1 (0: empty). */
    size_t *index;
    size_t index_cap; /* a power of two, at least twice len */
};

catalog_posmap_t *catalog__posmap_new(void)
{
    return gr_xcalloc(1, sizeof(catalog_posmap_t));
}

static size_t catalog__path_hash(const char *path, size_t len)
{
    return (size_t)gr_hash_update(GR_HASH_INIT, path, len);
}

/* Puts item i into the index unless its path is there already: the first
 * item of a path wins, as a search from the start would find it. */
static void catalog__posmap_index_item(catalog_posmap_t *map, size_t i)
{
    const char *p = map->paths.data + map->items[i].path_off;
    size_t mask = map->index_cap - 1;
    for (size_t slot = catalog__path_hash(p, strlen(p)) & mask;; slot = (slot + 1) & mask) {
        size_t cur = map->index[slot];
        if (!cur) {
            map->index[slot] = i + 1;
            return;
        }
        if (strcmp(map->paths.data + map->items[cur - 1].path_off, p) == 0)
            return;
    }
}

void catalog__posmap_add(catalog_posmap_t *map, const char *path, size_t path_len, uint32_t line,
                         uint32_t column)
{
    if (map->len == map->cap) {
        map->cap = map->cap ? map->cap * 2 : 32;
        map->items = gr_xrealloc(map->items, map->cap * sizeof *map->items);
    }
    map->items[map->len++] = (catalog__pos_t){map->paths.len, line, column};
    gr_buf_append(&map->paths, path, path_len);
    gr_buf_append(&map->paths, "", 1);
    if (map->len * 2 > map->index_cap) {
        free(map->index);
        map->index_cap = map->index_cap ? map->index_cap * 2 : 64;
        map->index = gr_xcalloc(map->index_cap, sizeof *map->index);
        for (size_t i = 0; i < map->len; i++)
            catalog__posmap_index_item(map, i);
    } else {
        catalog__posmap_index_item(map, map->len - 1);
    }
}

void catalog__posmap_free(catalog_posmap_t *map)
{
    if (!map)
        return;
    gr_buf_free(&map->paths);
    free(map->items);
    free(map->index);
    free(map);
}

static const catalog__pos_t *catalog__posmap_find(const catalog_posmap_t *map, const char *path,
                                                  size_t len)
{
    if (!map->index_cap)
        return NULL;
    size_t mask = map->index_cap - 1;
    for (size_t slot = catalog__path_hash(path, len) & mask;; slot = (slot + 1) & mask) {
        size_t cur = map->index[slot];
        if (!cur)
            return NULL;
        const char *p = map->paths.data + map->items[cur - 1].path_off;
        if (strncmp(p, path, len) == 0 && p[len] == '\0')
            return &map->items[cur - 1];
    }
}

void catalog_doc_locate(const catalog_doc_t *doc, const char *path, uint32_t *line,
                        uint32_t *column)
{
    *line = doc->line;
    *column = doc->column;
    if (!doc->positions || !path)
        return;
    /* Try the path, then each shorter prefix ending before a '.', so a
     * field that does not exist (a missing spec.owner) points at its parent
     * and a key that contains dots still finds its own entry first. */
    size_t len = strlen(path);
    for (;;) {
        const catalog__pos_t *pos = catalog__posmap_find(doc->positions, path, len);
        if (pos) {
            *line = pos->line;
            *column = pos->column;
            return;
        }
        if (len == 0)
            return;
        while (len > 0 && path[len - 1] != '.')
            len--;
        if (len > 0)
            len--; /* drop the dot itself */
    }
}

void catalog_doc_locate_issues(const catalog_doc_t *doc, catalog_issues_t *issues)
{
    for (size_t i = 0; i < issues->len; i++) {
        catalog_issue_t *it = &issues->items[i];
        if (!it->line)
            catalog_doc_locate(doc, it->path, &it->line, &it->column);
    }
}

/* ---- files ------------------------------------------------------------------ */

void catalog__file_add_doc(catalog_file_t *file, struct json_object *entity, uint32_t index,
                           uint32_t line, uint32_t column, catalog_posmap_t *positions)
{
    file->docs = gr_xrealloc(file->docs, (file->ndocs + 1) * sizeof *file->docs);
    file->docs[file->ndocs++] = (catalog_doc_t){
        .entity = entity,
        .index = index,
        .line = line,
        .column = column,
        .positions = positions,
    };
}

void catalog_file_free(catalog_file_t *file)
{
    if (!file)
        return;
    for (size_t i = 0; i < file->ndocs; i++) {
        json_object_put(file->docs[i].entity);
        catalog__posmap_free(file->docs[i].positions);
    }
    free(file->docs);
    free(file->path);
    catalog_issues_free(&file->errors);
    *file = (catalog_file_t){0};
}

static int catalog__ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int catalog_file_parse(catalog_file_t *out, const char *path, const char *data, size_t len)
{
    if (catalog__ends_with_ci(path, ".json"))
        return catalog_file_parse_json(out, path, data, len);
    return catalog_file_parse_yaml(out, path, data, len);
}

int catalog_file_load(catalog_file_t *out, const char *path, gr_error_t *err)
{
    *out = (catalog_file_t){.path = gr_xstrdup(path)};
    char *data;
    size_t len;
    int os_error;
    int rc = gr_file_read(path, CATALOG__MAX_FILE_BYTES, &data, &len, &os_error);
    if (rc == GR_ERR_INVALID)
        return gr_error_set(err, GR_ERR_INVALID,
                            "catalog: %s is larger than %u bytes; an entity file that big is "
                            "not supported",
                            path, CATALOG__MAX_FILE_BYTES);
    if (rc != 0)
        return gr_error_set(err, GR_ERR_IO, "catalog: cannot read %s: %s", path,
                            strerror(os_error));
    free(out->path);
    out->path = NULL;
    rc = catalog_file_parse(out, path, data, len);
    free(data);
    return rc;
}
