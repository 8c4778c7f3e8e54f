/* modules/kafka-topology/collect.c: a source directory read into a
 * topology, on the thread pool.
 *
 * Files are walked in sorted path order (config_source.h) so the model
 * never depends on the file system's order, selected by the include and
 * exclude globs, and handed to the model with the format their first
 * matching rule names (else the global format, else detected from the
 * content).  Paths are relative to the source root: they are what people
 * see in problems and what kafka-gitops settings.files resolve against. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kafka_plugin.h"

void kt_options_free(kt_options_t *o)
{
    cc_selection_free(&o->files);
    for (size_t i = 0; i < o->nformats; i++)
        free(o->formats[i].glob);
    free(o->formats);
    free(o->default_cluster);
    free(o->separator);
    *o = (kt_options_t){0};
}

kafka_format_t kt_options_format_of(const kt_options_t *o, const char *path)
{
    for (size_t i = 0; i < o->nformats; i++)
        if (cc_glob_match(o->formats[i].glob, path))
            return o->formats[i].format;
    return o->format;
}

typedef struct kt_reader {
    const char *root;
    size_t max;
} kt_reader_t;

/* settings.files of a kafka-gitops state may name a file the globs left
 * out; it is read from under the root, never from elsewhere. */
static char *read_under_root(void *user_data, const char *path, size_t *len, gr_error_t *err)
{
    const kt_reader_t *r = user_data;
    if (path[0] == '/' || strcmp(path, "..") == 0 || strncmp(path, "../", 3) == 0) {
        gr_error_set(err, GR_ERR_INVALID, "'%s' is outside the topology source", path);
        return NULL;
    }
    char *full = gr_xasprintf("%s/%s", r->root, path);
    char *why = NULL;
    char *data = cc_read_file(full, r->max, len, &why);
    free(full);
    if (!data) {
        gr_error_set(err, GR_ERR_IO, "%s", why);
        free(why);
    }
    return data;
}

void kt_collect_run(const kt_options_t *o, const char *root, kt_collect_t *out)
{
    *out = (kt_collect_t){0};
    struct stat st;
    if (!root || stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        out->status = GR_ERR_NOT_FOUND;
        snprintf(out->message, sizeof out->message, "the source directory %s %s",
                 root ? root : "(none)",
                 !root || errno == ENOENT ? "does not exist" : "is not a readable directory");
        return;
    }
    kt_reader_t reader = {root, o->files.max_file_bytes};
    kafka_options_t mo = {
        .format = KAFKA_FORMAT_AUTO, /* per file below */
        .default_cluster = o->default_cluster,
        .separator = o->separator,
        .read_file = read_under_root,
        .read_data = &reader,
    };
    kafka_topology_t *t = kafka_topology_new(&mo);

    gr_strvec_t all = {0};
    cc_file_error_t *errors = NULL;
    size_t nerrors = 0;
    cc_tree_walk(root, &all, &errors, &nerrors);
    for (size_t i = 0; i < nerrors; i++) {
        kafka_topology_report(t, errors[i].path, errors[i].line, KAFKA_SEVERITY_ERROR,
                              KAFKA_CHECK_READ, errors[i].message);
        free(errors[i].path);
        free(errors[i].message);
    }
    free(errors);

    for (size_t i = 0; i < all.len; i++) {
        const char *path = all.items[i];
        if (!cc_selection_matches(&o->files, path))
            continue;
        out->files++;
        char *full = gr_xasprintf("%s/%s", root, path);
        size_t len = 0;
        char *why = NULL;
        char *data = cc_read_file(full, o->files.max_file_bytes, &len, &why);
        free(full);
        if (!data) {
            kafka_topology_report(t, path, 0, KAFKA_SEVERITY_ERROR, KAFKA_CHECK_READ, why);
            free(why);
            continue;
        }
        kafka_topology_add(t, path, data, len, kt_options_format_of(o, path));
        free(data);
    }
    gr_strvec_free(&all);
    kafka_topology_finish(t);
    out->topology = t;
}

void kt_collect_free(kt_collect_t *c)
{
    kafka_topology_free(c->topology);
    *c = (kt_collect_t){0};
}
