/* modules/catalog-provider-central-config/scan.c: reading a config
 * repository's files into entities, on the thread pool.
 *
 * Files are visited in sorted path order, documents in file order, so the
 * result (and which of two definitions of one entity wins) never depends
 * on the file system's order.  A problem with one file or one entity is
 * recorded with its position and the scan goes on. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "central_config.h"

#define ANNOTATION_LOCATION "backstage.io/managed-by-location"
#define ANNOTATION_ORIGIN_LOCATION "backstage.io/managed-by-origin-location"

void cc_scan_options_free(cc_scan_options_t *o)
{
    free(o->root);
    free(o->location_prefix);
    gr_strvec_free(&o->include);
    gr_strvec_free(&o->exclude);
    for (size_t i = 0; i < o->nmappings; i++)
        cc_mapping_free(&o->mappings[i]);
    free(o->mappings);
    *o = (cc_scan_options_t){0};
}

void cc_scan_result_free(cc_scan_result_t *r)
{
    for (size_t i = 0; i < r->nentities; i++) {
        if (r->entities[i].entity)
            json_object_put(r->entities[i].entity);
        free(r->entities[i].ref);
        free(r->entities[i].path);
        free(r->entities[i].location);
    }
    free(r->entities);
    for (size_t i = 0; i < r->nerrors; i++) {
        free(r->errors[i].path);
        free(r->errors[i].message);
    }
    free(r->errors);
    *r = (cc_scan_result_t){0};
}

/* ---- one scan ------------------------------------------------------------------------ */

/* One part of a scan: a run of files, read by one thread.  Parts keep
 * their own lists and are merged in file order at the end. */
typedef struct scan {
    const cc_scan_options_t *o;
    /* Every accepted entity, in visiting order; duplicates resolved at the end. */
    cc_scan_entity_t *found;
    size_t nfound, capfound;
    cc_file_error_t *errors;
    size_t nerrors;
    size_t files;
} scan_t;

static void error_at(scan_t *sc, const char *path, uint32_t line, uint32_t column, const char *fmt,
                     ...) __attribute__((format(printf, 5, 6)));

static void error_at(scan_t *sc, const char *path, uint32_t line, uint32_t column, const char *fmt,
                     ...)
{
    gr_buf_t b = {0};
    va_list ap;
    va_start(ap, fmt);
    gr_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    cc_errors_add(&sc->errors, &sc->nerrors, path, line, column, b.data ? b.data : "");
    gr_buf_free(&b);
}

/* ---- placeholders: $text, $json, $yaml, $openapi, $asyncapi ------------------------- */

/* Resolves `target` (relative to the file's directory) inside the root.
 * Returns a new absolute path, or NULL with *why set. */
static char *resolve_target(const scan_t *sc, const char *file, const char *target, char **why)
{
    char *dir = gr_xstrdup(file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        dir[0] = '\0';
    char *joined = target[0] == '/' ? gr_xasprintf("%s%s", sc->o->root, target)
                   : *dir           ? gr_xasprintf("%s/%s/%s", sc->o->root, dir, target)
                                    : gr_xasprintf("%s/%s", sc->o->root, target);
    free(dir);
    char real[PATH_MAX], root[PATH_MAX];
    char *out = NULL;
    if (!realpath(joined, real)) {
        *why = gr_xasprintf("cannot read '%s': %s", target, strerror(errno));
    } else if (!realpath(sc->o->root, root) || strncmp(real, root, strlen(root)) != 0 ||
               (real[strlen(root)] != '/' && real[strlen(root)] != '\0')) {
        *why = gr_xasprintf("'%s' is outside the config repository", target);
    } else {
        out = gr_xstrdup(real);
    }
    free(joined);
    return out;
}

/* The replacement for one placeholder, or NULL with *why (and *keep set
 * when the entity should still be stored with the placeholder in place). */
static struct json_object *placeholder_value(const scan_t *sc, const char *file, const char *kind,
                                             const char *target, char **why, int *keep)
{
    if (strstr(target, "://")) {
        *keep = 1;
        *why = gr_xasprintf("$%s placeholder with the URL %s is kept unresolved: fetching remote "
                            "content is not supported yet; point it at a file in the repository",
                            kind, target);
        return NULL;
    }
    char *path = resolve_target(sc, file, target, why);
    if (!path)
        return NULL;
    size_t len = 0;
    char *data = cc_read_file(path, sc->o->max_file_bytes, &len, why);
    free(path);
    if (!data)
        return NULL;
    struct json_object *v = NULL;
    if (strcmp(kind, "json") == 0) {
        v = json_tokener_parse(data);
        if (!v)
            *why = gr_xasprintf("$json placeholder: '%s' is not valid JSON", target);
    } else if (strcmp(kind, "yaml") == 0) {
        catalog_file_t parsed = {0};
        catalog_file_parse_yaml(&parsed, target, data, len);
        if (parsed.errors.len || parsed.ndocs != 1)
            *why = gr_xasprintf("$yaml placeholder: '%s' is not one valid YAML document", target);
        else
            v = json_object_get(parsed.docs[0].entity);
        catalog_file_free(&parsed);
    } else {
        v = json_object_new_string_len(data, (int)len);
    }
    free(data);
    return v;
}

/* When `node` is a placeholder ({"$text": "./file"}, one key), fills *repl
 * with its value.  Returns -1 when the entity must not be stored. */
static int try_placeholder(scan_t *sc, const catalog_doc_t *doc, const char *file,
                           struct json_object *node, const char *at, struct json_object **repl)
{
    static const char *const kinds[] = {"$text", "$json", "$yaml", "$openapi", "$asyncapi", NULL};
    *repl = NULL;
    if (!json_object_is_type(node, json_type_object) || json_object_object_length(node) != 1)
        return 0;
    int rc = 0;
    json_object_object_foreach(node, k, v)
    {
        int known = 0;
        for (size_t i = 0; kinds[i]; i++)
            known |= strcmp(k, kinds[i]) == 0;
        if (!known || !json_object_is_type(v, json_type_string))
            continue;
        char *why = NULL;
        int keep = 0;
        *repl = placeholder_value(sc, file, k + 1, json_object_get_string(v), &why, &keep);
        if (!*repl) {
            uint32_t line, col;
            catalog_doc_locate(doc, at, &line, &col);
            error_at(sc, file, line, col, "%s: %s", at, why);
            rc = keep ? 0 : -1;
        }
        free(why);
    }
    return rc;
}

/* Walks the entity, replacing placeholders as Backstage's
 * PlaceholderProcessor does for files in the repository.  Returns 0 when
 * the entity may be stored. */
static int resolve_placeholders(scan_t *sc, const catalog_doc_t *doc, const char *file,
                                struct json_object *node, gr_buf_t *path)
{
    int failed = 0;
    size_t mark = path->len;
    if (json_object_is_type(node, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(node); i++) {
            gr_buf_printf(path, "%s%zu", mark ? "." : "", i);
            struct json_object *child = json_object_array_get_idx(node, i), *repl;
            int rc = try_placeholder(sc, doc, file, child, path->data, &repl);
            if (repl)
                json_object_array_put_idx(node, i, repl);
            else if (rc == 0)
                rc = resolve_placeholders(sc, doc, file, child, path);
            failed |= rc != 0;
            path->len = mark;
            path->data[mark] = '\0';
        }
    } else if (json_object_is_type(node, json_type_object)) {
        json_object_object_foreach(node, key, child)
        {
            gr_buf_printf(path, "%s%s", mark ? "." : "", key);
            struct json_object *repl;
            int rc = try_placeholder(sc, doc, file, child, path->data, &repl);
            if (repl)
                json_object_object_add(node, key, repl);
            else if (rc == 0)
                rc = resolve_placeholders(sc, doc, file, child, path);
            failed |= rc != 0;
            path->len = mark;
            path->data[mark] = '\0';
        }
    }
    return failed ? -1 : 0;
}

/* ---- entities ---------------------------------------------------------------------------- */

static void set_annotation(struct json_object *entity, const char *key, const char *value)
{
    struct json_object *meta, *ann;
    if (!json_object_object_get_ex(entity, "metadata", &meta) ||
        !json_object_is_type(meta, json_type_object))
        return;
    if (!json_object_object_get_ex(meta, "annotations", &ann) ||
        !json_object_is_type(ann, json_type_object)) {
        ann = json_object_new_object();
        json_object_object_add(meta, "annotations", ann);
    }
    json_object_object_add(ann, key, json_object_new_string(value));
}

/* Validates an entity read from `doc` (positions from `at`, a field path
 * prefix such as "services.2" for a mapped item, "" for a document) and,
 * when it is valid, keeps it.  Takes over `entity`. */
static void accept_entity(scan_t *sc, const catalog_doc_t *doc, const char *at, const char *file,
                          struct json_object *entity, const char *origin)
{
    catalog_issues_t issues = {0};
    catalog_entity_apply_defaults(entity);
    int bad = catalog_entity_validate(entity, &issues) != 0;
    if (!bad) {
        catalog_relations_t rels = {0};
        bad = catalog_entity_relations(entity, &rels, &issues) != 0;
        catalog_relations_free(&rels);
    }
    if (bad) {
        for (size_t i = 0; i < issues.len; i++) {
            uint32_t line, col;
            if (*at) {
                /* A mapped entity: the issue is about the rendered entity,
                 * so point at the item it came from. */
                catalog_doc_locate(doc, at, &line, &col);
                error_at(sc, file, line, col, "%s: %s", origin, issues.items[i].message);
            } else {
                catalog_doc_locate(doc, issues.items[i].path, &line, &col);
                error_at(sc, file, line, col, "%s", issues.items[i].message);
            }
        }
        catalog_issues_free(&issues);
        json_object_put(entity);
        return;
    }
    catalog_issues_free(&issues);
    char *location =
        gr_xasprintf("%s%s", sc->o->location_prefix ? sc->o->location_prefix : "", file);
    set_annotation(entity, ANNOTATION_LOCATION, location);
    set_annotation(entity, ANNOTATION_ORIGIN_LOCATION, location);
    uint32_t line, col;
    catalog_doc_locate(doc, at, &line, &col);
    if (sc->nfound == sc->capfound) {
        sc->capfound = sc->capfound ? sc->capfound * 2 : 64;
        sc->found = gr_xrealloc(sc->found, sc->capfound * sizeof *sc->found);
    }
    sc->found[sc->nfound++] = (cc_scan_entity_t){
        entity, catalog_ref_of_entity(entity), gr_xstrdup(file), line, col, location};
}

static void scan_entity_file(scan_t *sc, const char *file, catalog_file_t *parsed)
{
    for (size_t d = 0; d < parsed->ndocs; d++) {
        catalog_doc_t *doc = &parsed->docs[d];
        struct json_object *entity = json_object_get(doc->entity);
        gr_buf_t path = {0};
        int rc = resolve_placeholders(sc, doc, file, entity, &path);
        gr_buf_free(&path);
        if (rc != 0) {
            json_object_put(entity);
            continue;
        }
        accept_entity(sc, doc, "", file, entity, "");
    }
}

static struct json_object *at_path(struct json_object *root, const char *dotted)
{
    char *copy = gr_xstrdup(dotted);
    struct json_object *cur = root;
    for (char *save = NULL, *part = strtok_r(copy, ".", &save); part && cur;
         part = strtok_r(NULL, ".", &save))
        if (!json_object_is_type(cur, json_type_object) ||
            !json_object_object_get_ex(cur, part, &cur))
            cur = NULL;
    free(copy);
    return cur;
}

static void map_item(scan_t *sc, const cc_mapping_t *m, size_t rule, const catalog_doc_t *doc,
                     const char *file, struct json_object *item, const char *key, const char *at)
{
    gr_error_t err = {0};
    struct json_object *entity = cc_mapping_render(m->entity, item, key, file, &err);
    uint32_t line, col;
    catalog_doc_locate(doc, at, &line, &col);
    if (!entity) {
        error_at(sc, file, line, col, "mapping #%zu: %s", rule + 1, err.message);
        return;
    }
    char *origin =
        gr_xasprintf("entity made by mapping #%zu from %s", rule + 1, *at ? at : "the document");
    accept_entity(sc, doc, at, file, entity, origin);
    free(origin);
}

static void scan_mapped_file(scan_t *sc, const cc_mapping_t *m, size_t rule, const char *file,
                             catalog_file_t *parsed)
{
    for (size_t d = 0; d < parsed->ndocs; d++) {
        catalog_doc_t *doc = &parsed->docs[d];
        if (!m->items) {
            map_item(sc, m, rule, doc, file, doc->entity, NULL, "");
            continue;
        }
        struct json_object *items = at_path(doc->entity, m->items);
        if (!items) {
            error_at(sc, file, doc->line, doc->column,
                     "mapping #%zu: the document has no '%s' to read items from", rule + 1,
                     m->items);
            continue;
        }
        if (json_object_is_type(items, json_type_array)) {
            for (size_t i = 0; i < json_object_array_length(items); i++) {
                char key[32], *at = gr_xasprintf("%s.%zu", m->items, i);
                snprintf(key, sizeof key, "%zu", i);
                map_item(sc, m, rule, doc, file, json_object_array_get_idx(items, i), key, at);
                free(at);
            }
        } else if (json_object_is_type(items, json_type_object)) {
            json_object_object_foreach(items, key, value)
            {
                char *at = gr_xasprintf("%s.%s", m->items, key);
                map_item(sc, m, rule, doc, file, value, key, at);
                free(at);
            }
        } else {
            uint32_t line, col;
            catalog_doc_locate(doc, m->items, &line, &col);
            error_at(sc, file, line, col, "mapping #%zu: '%s' must be a list or a map of items",
                     rule + 1, m->items);
        }
    }
}

static void scan_file(scan_t *sc, const char *file, const cc_mapping_t *m, size_t rule)
{
    char *full = gr_xasprintf("%s/%s", sc->o->root, file);
    char *why = NULL;
    size_t len = 0;
    char *data = cc_read_file(full, sc->o->max_file_bytes, &len, &why);
    free(full);
    if (!data) {
        error_at(sc, file, 0, 0, "%s", why);
        free(why);
        return;
    }
    sc->files++;
    catalog_file_t parsed = {0};
    catalog_file_parse(&parsed, file, data, len);
    free(data);
    for (size_t i = 0; i < parsed.errors.len; i++)
        error_at(sc, file, parsed.errors.items[i].line, parsed.errors.items[i].column, "%s",
                 parsed.errors.items[i].message);
    if (m)
        scan_mapped_file(sc, m, rule, file, &parsed);
    else
        scan_entity_file(sc, file, &parsed);
    catalog_file_free(&parsed);
}

/* ---- one winner per ref ---------------------------------------------------------------- */

typedef struct order_ref {
    const char *ref;
    size_t index;
} order_ref_t;

static int cmp_order_ref(const void *a, const void *b)
{
    const order_ref_t *x = a, *y = b;
    int c = strcmp(x->ref, y->ref);
    return c ? c : (x->index < y->index ? -1 : x->index > y->index);
}

static void resolve_conflicts(scan_t *sc, cc_scan_result_t *res)
{
    order_ref_t *order = gr_xcalloc(sc->nfound + 1, sizeof *order);
    for (size_t i = 0; i < sc->nfound; i++)
        order[i] = (order_ref_t){sc->found[i].ref, i};
    qsort(order, sc->nfound, sizeof *order, cmp_order_ref);
    char *lose = gr_xcalloc(sc->nfound + 1, 1);
    /* Equal refs sort by visiting order: the first of each run wins. */
    size_t run = 0;
    for (size_t i = 0; i < sc->nfound; i++) {
        if (i == 0 || strcmp(order[i].ref, order[i - 1].ref) != 0) {
            run = i;
            continue;
        }
        const cc_scan_entity_t *w = &sc->found[order[run].index];
        const cc_scan_entity_t *l = &sc->found[order[i].index];
        lose[order[i].index] = 1;
        error_at(sc, l->path, l->line, l->column,
                 "conflict: %s is also defined in %s:%u:%u, which wins (the first definition in "
                 "path order); this one is ignored",
                 l->ref, w->path, w->line, w->column);
    }
    res->entities = gr_xcalloc(sc->nfound + 1, sizeof *res->entities);
    for (size_t i = 0; i < sc->nfound; i++) {
        if (lose[i]) {
            json_object_put(sc->found[i].entity);
            free(sc->found[i].ref);
            free(sc->found[i].path);
            free(sc->found[i].location);
            continue;
        }
        res->entities[res->nentities++] = sc->found[i];
    }
    free(lose);
    free(order);
    free(sc->found);
}

static int cmp_error(const void *a, const void *b)
{
    const cc_file_error_t *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->column < y->column ? -1 : x->column > y->column;
}

struct cc_scan_job {
    const cc_scan_options_t *o;
    cc_scan_result_t *out;
    gr_strvec_t files; /* selected, in path order */
    size_t *rules;     /* per file: 1 + the mapping rule that reads it, or 0 */
    scan_t *parts;
    size_t nparts;
};

cc_scan_job_t *cc_scan_begin(const cc_scan_options_t *o, size_t max_parts, cc_scan_result_t *out)
{
    *out = (cc_scan_result_t){0};
    struct stat st;
    if (!o->root || stat(o->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        out->status = GR_ERR_NOT_FOUND;
        snprintf(out->message, sizeof out->message, "the source directory %s %s",
                 o->root ? o->root : "(none)",
                 !o->root || errno == ENOENT ? "does not exist" : "is not a readable directory");
        return NULL;
    }
    cc_scan_job_t *job = gr_xcalloc(1, sizeof *job);
    job->o = o;
    job->out = out;
    gr_strvec_t all = {0};
    cc_tree_walk(o->root, &all, &out->errors, &out->nerrors);
    job->rules = gr_xcalloc(all.len + 1, sizeof *job->rules);
    for (size_t i = 0; i < all.len; i++) {
        const char *file = all.items[i];
        if (cc_globs_match(&o->exclude, file))
            continue;
        size_t rule = 0;
        for (size_t k = 0; k < o->nmappings && !rule; k++)
            if (cc_globs_match(&o->mappings[k].include, file))
                rule = k + 1;
        if (rule || cc_globs_match(&o->include, file)) {
            job->rules[job->files.len] = rule;
            gr_strvec_push(&job->files, file);
        }
    }
    gr_strvec_free(&all);
    /* A part of fewer than a few files costs more to hand over than it saves. */
    size_t parts = job->files.len / 8;
    job->nparts = parts < 1 ? 1 : parts > max_parts ? (max_parts ? max_parts : 1) : parts;
    job->parts = gr_xcalloc(job->nparts, sizeof *job->parts);
    for (size_t i = 0; i < job->nparts; i++)
        job->parts[i].o = o;
    return job;
}

size_t cc_scan_parts(const cc_scan_job_t *job)
{
    return job->nparts;
}

void cc_scan_part(cc_scan_job_t *job, size_t part)
{
    size_t n = job->files.len, per = (n + job->nparts - 1) / job->nparts;
    size_t lo = part * per, hi = lo + per < n ? lo + per : n;
    for (size_t i = lo; i < hi; i++) {
        size_t rule = job->rules[i];
        scan_file(&job->parts[part], job->files.items[i], rule ? &job->o->mappings[rule - 1] : NULL,
                  rule ? rule - 1 : 0);
    }
}

void cc_scan_finish(cc_scan_job_t *job)
{
    cc_scan_result_t *out = job->out;
    /* Parts hold consecutive runs of files: concatenated in order, they are
     * the serial scan's result. */
    scan_t all = {.o = job->o};
    for (size_t p = 0; p < job->nparts; p++) {
        scan_t *part = &job->parts[p];
        for (size_t i = 0; i < part->nfound; i++) {
            if (all.nfound == all.capfound) {
                all.capfound = all.capfound ? all.capfound * 2 : 64;
                all.found = gr_xrealloc(all.found, all.capfound * sizeof *all.found);
            }
            all.found[all.nfound++] = part->found[i];
        }
        free(part->found);
        out->files += part->files;
        out->errors =
            gr_xrealloc(out->errors, (out->nerrors + part->nerrors + 1) * sizeof *out->errors);
        if (part->nerrors)
            memcpy(out->errors + out->nerrors, part->errors, part->nerrors * sizeof *part->errors);
        out->nerrors += part->nerrors;
        free(part->errors);
    }
    resolve_conflicts(&all, out);
    out->errors = gr_xrealloc(out->errors, (out->nerrors + all.nerrors + 1) * sizeof *out->errors);
    if (all.nerrors)
        memcpy(out->errors + out->nerrors, all.errors, all.nerrors * sizeof *all.errors);
    out->nerrors += all.nerrors;
    free(all.errors);
    if (out->nerrors)
        qsort(out->errors, out->nerrors, sizeof *out->errors, cmp_error);
    gr_strvec_free(&job->files);
    free(job->rules);
    free(job->parts);
    free(job);
}

void cc_scan(const cc_scan_options_t *o, cc_scan_result_t *out)
{
    cc_scan_job_t *job = cc_scan_begin(o, 1, out);
    if (!job)
        return;
    cc_scan_part(job, 0);
    cc_scan_finish(job);
}
