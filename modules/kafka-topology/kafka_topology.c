/* modules/kafka-topology/kafka_topology.c: the topology's life: creating
 * it, adding parsed files (detecting each one's format), finishing (every
 * file interpreted in an order that makes the result independent of the
 * order files were added), lookups and freeing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

static const char *const kafka__format_names[] = {
    [KAFKA_FORMAT_AUTO] = "auto",
    [KAFKA_FORMAT_JULIEOPS] = "julieops",
    [KAFKA_FORMAT_JULIEOPS_PLANS] = "julieops-plans",
    [KAFKA_FORMAT_GITOPS] = "kafka-gitops",
    [KAFKA_FORMAT_STRIMZI] = "strimzi",
    [KAFKA_FORMAT_PLAIN] = "plain",
    [KAFKA_FORMAT_UNKNOWN] = "unknown",
};

const char *kafka_format_name(kafka_format_t format)
{
    if ((unsigned)format > KAFKA_FORMAT_UNKNOWN)
        return "unknown";
    return kafka__format_names[format];
}

int kafka_format_from_name(const char *name, kafka_format_t *out, gr_error_t *err)
{
    for (unsigned i = 0; i < KAFKA_FORMAT_UNKNOWN; i++) {
        if (name && strcmp(name, kafka__format_names[i]) == 0) {
            *out = (kafka_format_t)i;
            return 0;
        }
    }
    return gr_error_set(err, GR_ERR_INVALID,
                        "kafka-topology: unknown format '%s'; use auto, julieops, julieops-plans, "
                        "kafka-gitops, strimzi or plain",
                        name ? name : "");
}

const char *kafka_kind_name(kafka_kind_t kind)
{
    switch (kind) {
    case KAFKA_KIND_APPLICATION: return "application";
    case KAFKA_KIND_STREAMS: return "kafka-streams";
    case KAFKA_KIND_CONNECT: return "kafka-connect";
    case KAFKA_KIND_USER: return "user";
    case KAFKA_KIND_PLATFORM: return "platform";
    }
    return "application";
}

/* ---- positions ----------------------------------------------------------------- */

kafka_pos_t kafka__pos(const kafka__doc_t *d, const char *fmt, ...)
{
    gr_buf_t *path = &d->t->impl->path;
    gr_buf_reset(path);
    gr_buf_puts(path, d->prefix);
    size_t base = path->len;
    if (*d->prefix)
        gr_buf_puts(path, ".");
    va_list ap;
    va_start(ap, fmt);
    gr_buf_vprintf(path, fmt, ap);
    va_end(ap);
    if (path->len == base + (*d->prefix ? 1 : 0)) {
        /* An empty field path names the document (or object) itself. */
        path->len = base;
        if (path->data)
            path->data[base] = '\0';
    }
    kafka_pos_t pos = {.file = d->file->path};
    catalog_doc_locate(d->doc, path->data ? path->data : "", &pos.line, &pos.column);
    return pos;
}

/* ---- life ------------------------------------------------------------------------ */

kafka_topology_t *kafka_topology_new(const kafka_options_t *opts)
{
    kafka_topology_t *t = gr_xcalloc(1, sizeof *t);
    kafka__impl_t *im = gr_xcalloc(1, sizeof *im);
    t->impl = im;
    kafka_options_t o = opts ? *opts : (kafka_options_t){0};
    im->default_cluster =
        kafka__strdup(&im->arena, o.default_cluster ? o.default_cluster : "default");
    im->separator = kafka__strdup(&im->arena, o.separator ? o.separator : ".");
    im->format = o.format;
    im->read_file = o.read_file;
    im->read_data = o.read_data;
    return t;
}

void kafka_topology_free(kafka_topology_t *t)
{
    if (!t)
        return;
    kafka__impl_t *im = t->impl;
    for (size_t i = 0; i < im->nfiles; i++) {
        catalog_file_free(&im->files[i]->parsed);
        free(im->files[i]);
    }
    free(im->files);
    free(im->plans);
    for (size_t i = 0; i < t->nclusters; i++)
        free(t->clusters[i].brokers);
    free(t->clusters);
    free(t->topics);
    free(t->principals);
    free(t->connectors);
    free(t->streams_apps);
    free(t->refs);
    free(t->edges);
    free(t->problems);
    free(t->files);
    kafka__map_free(&im->cluster_map);
    kafka__map_free(&im->topic_map);
    kafka__map_free(&im->principal_map);
    kafka__map_free(&im->connector_map);
    kafka__map_free(&im->file_map);
    kafka__map_free(&im->plan_map);
    kafka__map_free(&im->intern_map);
    gr_buf_free(&im->path);
    kafka__arena_free(&im->arena);
    free(im);
    free(t);
}

/* ---- files ----------------------------------------------------------------------- */

const char *kafka__path_normalize(kafka_topology_t *t, const char *path)
{
    gr_buf_t out = {0};
    size_t *starts = NULL; /* where each kept segment starts in out */
    size_t nseg = 0, cap = 0;
    int absolute = path[0] == '/';
    if (absolute)
        gr_buf_puts(&out, "/");
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0)
            break;
        int is_dotdot = n == 2 && p[0] == '.' && p[1] == '.';
        int last_is_dotdot =
            nseg && strncmp(out.data + starts[nseg - 1], "..", 2) == 0 &&
            (out.data[starts[nseg - 1] + 2] == '/' || out.data[starts[nseg - 1] + 2] == '\0');
        if (n == 1 && p[0] == '.') {
            /* "." names the directory itself. */
        } else if (is_dotdot && nseg && !last_is_dotdot) {
            nseg--;
            out.len = starts[nseg];
            if (out.len > (size_t)absolute)
                out.len--; /* the '/' before the dropped segment */
            out.data[out.len] = '\0';
        } else if (!(is_dotdot && absolute && nseg == 0)) {
            if (out.len > (size_t)absolute)
                gr_buf_puts(&out, "/");
            KAFKA__GROW(starts, nseg, cap);
            starts[nseg++] = out.len;
            gr_buf_append(&out, p, n);
        }
        p += n;
    }
    if (!out.len)
        gr_buf_puts(&out, ".");
    const char *r = kafka__strndup(&t->impl->arena, out.data, out.len);
    gr_buf_free(&out);
    free(starts);
    return r;
}

kafka__file_t *kafka__file_find(kafka_topology_t *t, const char *norm)
{
    size_t idx;
    if (!kafka__map_get(&t->impl->file_map, norm, 0, &idx))
        return NULL;
    return t->impl->files[idx];
}

/* The format of a file from its documents: the first one that is not
 * unknown decides, so a Strimzi file may also carry a ConfigMap. */
static kafka_format_t kafka__detect_file(const catalog_file_t *f)
{
    for (size_t i = 0; i < f->ndocs; i++) {
        kafka_format_t fmt = kafka__detect(f->docs[i].entity);
        if (fmt != KAFKA_FORMAT_UNKNOWN)
            return fmt;
    }
    return KAFKA_FORMAT_UNKNOWN;
}

kafka__file_t *kafka__file_add(kafka_topology_t *t, const char *path, catalog_file_t *parsed,
                               kafka_format_t forced)
{
    kafka__impl_t *im = t->impl;
    const char *norm = kafka__path_normalize(t, path);
    kafka__file_t *dup = kafka__file_find(t, norm);
    if (dup) {
        kafka__problem(t, (kafka_pos_t){dup->path, 0, 0}, KAFKA_SEVERITY_WARNING,
                       KAFKA_CHECK_INVALID,
                       "the file was added twice (the second time as %s); only the first copy "
                       "is read",
                       path);
        catalog_file_free(parsed);
        return dup;
    }
    KAFKA__GROW(im->files, im->nfiles, im->files_cap);
    size_t idx = im->nfiles++;
    kafka__file_t *f = gr_xmalloc(sizeof *f);
    im->files[idx] = f;
    *f = (kafka__file_t){
        .path = kafka__strdup(&im->arena, path),
        .norm = norm,
        .parsed = *parsed,
        .forced = forced != KAFKA_FORMAT_AUTO ? forced : im->format,
    };
    *parsed = (catalog_file_t){0};
    kafka__map_put(&im->file_map, f->norm, 0, idx);
    f->format = f->forced != KAFKA_FORMAT_AUTO ? f->forced : kafka__detect_file(&f->parsed);

    for (size_t i = 0; i < f->parsed.errors.len; i++) {
        const catalog_issue_t *e = &f->parsed.errors.items[i];
        kafka__problem(t, (kafka_pos_t){f->path, e->line, e->column}, KAFKA_SEVERITY_ERROR,
                       KAFKA_CHECK_SYNTAX, "%s", e->message);
    }

    KAFKA__GROW(t->files, t->nfiles, im->outfiles_cap);
    t->files[t->nfiles++] = (kafka_file_t){f->path, f->format};
    return f;
}

int kafka_topology_add(kafka_topology_t *t, const char *path, const char *data, size_t len,
                       kafka_format_t format)
{
    if (t->impl->finished)
        return GR_ERR_CONFLICT;
    catalog_file_t parsed;
    catalog_file_parse(&parsed, path, data, len);
    kafka__file_add(t, path, &parsed, format);
    return 0;
}

/* ---- finish -------------------------------------------------------------------------- */

static void kafka__interpret(kafka_topology_t *t, kafka__file_t *f)
{
    if (f->format == KAFKA_FORMAT_UNKNOWN) {
        /* A file that failed to parse has said what is wrong already. */
        if (f->parsed.errors.len)
            return;
        kafka_pos_t pos = {f->path, 1, 1};
        if (f->parsed.ndocs)
            pos = (kafka_pos_t){f->path, f->parsed.docs[0].line, f->parsed.docs[0].column};
        kafka__problem(t, pos, KAFKA_SEVERITY_WARNING, KAFKA_CHECK_UNKNOWN_FORMAT,
                       f->parsed.ndocs
                           ? "the file is in no format this module reads: not a JulieOps "
                             "descriptor (context:, projects:), a JulieOps plans file (plans:), "
                             "a kafka-gitops state (topics:/services:/users: maps), Strimzi "
                             "resources (apiVersion: kafka.strimzi.io/...) nor the plain format "
                             "(clusters:/topics: lists); set the format in kafkaTopology.format "
                             "or leave the file out of the include globs"
                           : "the file holds no YAML or JSON document; leave it out of the "
                             "include globs");
        return;
    }
    for (size_t i = 0; i < f->parsed.ndocs; i++) {
        kafka__doc_t d = {t, f, &f->parsed.docs[i], ""};
        switch (f->format) {
        case KAFKA_FORMAT_JULIEOPS: kafka__parse_julieops(&d); break;
        case KAFKA_FORMAT_GITOPS: kafka__parse_gitops(&d); break;
        case KAFKA_FORMAT_STRIMZI: kafka__parse_strimzi(&d); break;
        case KAFKA_FORMAT_PLAIN: kafka__parse_plain(&d); break;
        default: break; /* plans were read first */
        }
    }
}

typedef struct kafka__problem_key {
    size_t file;
    size_t seq;
    kafka_problem_t p;
} kafka__problem_key_t;

static int kafka__problem_cmp(const void *a, const void *b)
{
    const kafka__problem_key_t *x = a, *y = b;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    if (x->p.pos.line != y->p.pos.line)
        return x->p.pos.line < y->p.pos.line ? -1 : 1;
    if (x->p.pos.column != y->p.pos.column)
        return x->p.pos.column < y->p.pos.column ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Orders problems by file (in the order files were added), then line and
 * column, so a report reads top to bottom. */
static void kafka__sort_problems(kafka_topology_t *t)
{
    if (t->nproblems < 2)
        return;
    kafka__map_t by_path = {0};
    for (size_t i = 0; i < t->impl->nfiles; i++)
        kafka__map_put(&by_path, t->impl->files[i]->path, 0, i);
    kafka__problem_key_t *keys = gr_xmalloc(t->nproblems * sizeof *keys);
    for (size_t i = 0; i < t->nproblems; i++) {
        size_t file = KAFKA_NONE;
        if (t->problems[i].pos.file)
            kafka__map_get(&by_path, t->problems[i].pos.file, 0, &file);
        keys[i] = (kafka__problem_key_t){file, i, t->problems[i]};
    }
    qsort(keys, t->nproblems, sizeof *keys, kafka__problem_cmp);
    for (size_t i = 0; i < t->nproblems; i++)
        t->problems[i] = keys[i].p;
    free(keys);
    kafka__map_free(&by_path);
}

void kafka_topology_finish(kafka_topology_t *t)
{
    kafka__impl_t *im = t->impl;
    if (im->finished)
        return;
    im->finished = 1;

    /* kafka-gitops states first, since following settings.files may add
     * files; the loop bound is re-read so those are seen too. */
    for (size_t i = 0; i < im->nfiles; i++) {
        kafka__file_t *f = im->files[i];
        if (f->format != KAFKA_FORMAT_GITOPS)
            continue;
        for (size_t k = 0; k < f->parsed.ndocs; k++) {
            kafka__doc_t d = {t, f, &f->parsed.docs[k], ""};
            kafka__gitops_follow_files(&d);
        }
    }
    /* JulieOps plans before any descriptor that names them. */
    for (size_t i = 0; i < im->nfiles; i++) {
        kafka__file_t *f = im->files[i];
        if (f->format != KAFKA_FORMAT_JULIEOPS_PLANS)
            continue;
        for (size_t k = 0; k < f->parsed.ndocs; k++) {
            kafka__doc_t d = {t, f, &f->parsed.docs[k], ""};
            kafka__parse_julieops_plans(&d);
        }
    }
    for (size_t i = 0; i < im->nfiles; i++)
        kafka__interpret(t, im->files[i]);
    for (size_t i = 0; i < im->nfiles; i++)
        t->files[i].format = im->files[i]->format;

    kafka__resolve(t);
    kafka__sort_problems(t);

    /* Everything the model needs was copied into the arena; the parsed
     * documents (the largest part of the memory) can go. */
    for (size_t i = 0; i < im->nfiles; i++)
        catalog_file_free(&im->files[i]->parsed);
    im->nplans = 0; /* the plans pointed into those documents */
}

/* ---- reading ---------------------------------------------------------------------- */

const kafka_cluster_t *kafka_topology_cluster(const kafka_topology_t *t, const char *name)
{
    size_t idx;
    if (!name || !kafka__map_get(&t->impl->cluster_map, name, 0, &idx))
        return NULL;
    return &t->clusters[idx];
}

const kafka_topic_t *kafka_topology_topic(const kafka_topology_t *t, const char *cluster,
                                          const char *name)
{
    size_t c, idx;
    if (!cluster)
        cluster = t->impl->default_cluster;
    if (!name || !kafka__map_get(&t->impl->cluster_map, cluster, 0, &c) ||
        !kafka__map_get(&t->impl->topic_map, name, (uint32_t)c, &idx))
        return NULL;
    return &t->topics[idx];
}

const kafka_principal_t *kafka_topology_principal(const kafka_topology_t *t, const char *name)
{
    size_t idx;
    if (!name || !kafka__map_get(&t->impl->principal_map, name, 0, &idx))
        return NULL;
    return &t->principals[idx];
}

const kafka_connector_t *kafka_topology_connector(const kafka_topology_t *t, const char *name)
{
    size_t idx;
    if (!name || !kafka__map_get(&t->impl->connector_map, name, 0, &idx))
        return NULL;
    return &t->connectors[idx];
}

const char *kafka_topic_config(const kafka_topic_t *topic, const char *key)
{
    for (size_t i = 0; i < topic->nconfig; i++)
        if (strcmp(topic->config[i].key, key) == 0)
            return topic->config[i].value;
    return NULL;
}

size_t kafka_topology_count_problems(const kafka_topology_t *t, kafka_severity_t severity)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nproblems; i++)
        n += t->problems[i].severity == severity;
    return n;
}

char *kafka_problem_format(const kafka_problem_t *p)
{
    const char *sev = p->severity == KAFKA_SEVERITY_ERROR ? "error" : "warning";
    const char *file = p->pos.file ? p->pos.file : "(topology)";
    if (p->pos.line)
        return gr_xasprintf("%s:%u:%u: %s: %s", file, p->pos.line, p->pos.column, sev, p->message);
    return gr_xasprintf("%s: %s: %s", file, sev, p->message);
}
